//! Law checks for other people's implementations: run your own softmax, log_softmax,
//! logsumexp, LayerNorm, RMSNorm or cross-entropy through the laws every correct implementation
//! satisfies, and see which special-value policy it follows.
//!
//! In the spirit of Haskell's quickcheck-classes: per operation a set of named checks of two
//! kinds.
//!
//! * **Laws** hold for every correct implementation: sums to one, shift invariance, order, mean
//!   and scale invariance, the output norm, no overflow on finite inputs, a masked −∞ entry gets
//!   probability exactly 0, and agreement with the exact result within the error bound of the
//!   textbook stable algorithm at that input (the helpers `*_textbook_bound` in
//!   [`crate::tolerance`]: a correct plain f32 max-shift softmax or two-pass LayerNorm passes).
//!   Each law is searched on integer lattices (so counterexamples shrink to small numbers) after
//!   the known traps as fixed cases. A failing law returns the simplest input proptest's
//!   shrinking finds, what was expected and what your function returned.
//! * **Policies** are choices where correct implementations differ: what comes back for `+∞`
//!   entries, an all `−∞` row, a constant row at `ε = 0`, NaN, an empty row. [`Config::policy`]
//!   selects which documented answers are accepted: this crate's, PyTorch's (observed from
//!   torch 2.15 on CPU), or — the default — any documented one, including an error (a panic)
//!   for empty input.
//!
//! "As accurate as this crate" — within `k` ulps of this crate's result — is an opt-in law
//! ([`Config::ulps`]). An implementation that panics fails the law it was running (with the
//! input and the panic's message) and the report goes on.
//!
//! ```
//! use transformer_laws::laws;
//!
//! // A textbook softmax without the max shift: exp(1000) overflows.
//! fn naive(z: &[f64]) -> Vec<f64> {
//!     let s: f64 = z.iter().map(|v| v.exp()).sum();
//!     z.iter().map(|v| v.exp() / s).collect()
//! }
//! let report = laws::softmax::check(naive);
//! assert!(!report.passed());
//! assert!(report.failed_laws().contains(&"no overflow"));
//!
//! // The plain max-shifted softmax in f32 passes: the tolerance is that algorithm's bound.
//! fn shifted(z: &[f32]) -> Vec<f32> {
//!     let m = z.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
//!     let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
//!     let s: f32 = e.iter().sum();
//!     e.iter().map(|v| v / s).collect()
//! }
//! laws::softmax::check(shifted).assert_passed();
//!
//! // The crate's own passes every law and, with its own policy selected, every policy.
//! let strict = laws::Config { policy: laws::Policy::ThisCrate, ulps: Some(0), ..Default::default() };
//! laws::softmax::check_with(transformer_laws::softmax::softmax::<f32>, &strict).assert_passed();
//! ```
//!
//! From a `#[test]`: `laws::layer_norm::check(my_layer_norm).assert_passed();` panics with every
//! failing check and its counterexample. From proptest: each law is a plain function of one
//! input ([`Law::holds`]), usable inside your own `proptest!` block.

/// The two entry points of one operation's law set, `check` and `check_with`, for an
/// implementation `f` of the closure type given (over the float type `T`), with `$what` naming
/// the operation in their docs: `check_with` hands `f`, shared, to the module's `law_set`.
macro_rules! entry_points {
    ($what:literal, $($f:tt)+) => {
        #[doc = concat!("Check `f` against every ", $what, " law and policy with the default [`Config`].")]
        pub fn check<T: FloatStrategies, F: $($f)+ + 'static>(f: F) -> HarnessReport {
            check_with(f, &Config::default())
        }

        /// Check `f` with a configuration.
        pub fn check_with<T: FloatStrategies, F: $($f)+ + 'static>(
            f: F,
            cfg: &Config,
        ) -> HarnessReport {
            law_set::<T>(std::rc::Rc::new(f), cfg)
        }
    };
}

pub mod cross_entropy;
pub mod layer_norm;
pub mod log_softmax;
pub mod logsumexp;
pub mod policy;
pub mod rms_norm;
pub mod softmax;

pub use policy::{Answer, Policy, PolicyCase, Whose};

use crate::engine::runner::{self, CaseResult, RunEnd};
use crate::kernels::scalar::Real;
use proptest::strategy::{BoxedStrategy, Strategy};
use std::fmt;

/// How hard to search, how much error to allow, and which special-value answers to accept.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Random cases per law.
    pub cases: u32,
    /// Seed of the random cases.
    pub seed: u64,
    /// `Some(k)` adds the opt-in law "as accurate as this crate": within `k` ulps of this
    /// crate's result, componentwise, on every finite input (this crate is within 1 ulp of the
    /// correctly rounded result in f32 and within its budgets — [`crate::tolerance`]'s
    /// `*_ULPS` — in f64). `None` (the default): only the derived bounds of the textbook
    /// algorithms.
    pub ulps: Option<u64>,
    /// Which documented special-value answers are accepted.
    pub policy: Policy,
    /// Laws or policies to skip, by name.
    pub skip: Vec<&'static str>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: 256,
            seed: 0x1a75,
            ulps: None,
            policy: Policy::Any,
            skip: Vec::new(),
        }
    }
}

/// Why one input breaks a law: what was expected, what came back, and how far apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// What a correct implementation returns (with its tolerance).
    pub expected: String,
    /// What the implementation returned (or `panic: …`).
    pub got: String,
    /// The broken relation in words, with the numbers that matter.
    pub detail: String,
}

impl Mismatch {
    /// A mismatch from its three parts.
    pub fn new(
        expected: impl Into<String>,
        got: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Mismatch {
            expected: expected.into(),
            got: got.into(),
            detail: detail.into(),
        }
    }
}

/// The test of one input: `Ok` when the law holds, else the mismatch.
pub type LawTest<I> = Box<dyn Fn(&I) -> Result<(), Mismatch>>;

/// One law: a name, the statement, inputs, and the test of one input.
pub struct Law<I> {
    /// Short name (`"sums to one"`).
    pub name: &'static str,
    /// What it states.
    pub statement: &'static str,
    /// Fixed inputs tried first (the known traps).
    pub traps: Vec<I>,
    /// Random inputs on lattices.
    pub inputs: BoxedStrategy<I>,
    /// `Ok` when the law holds for this input; otherwise what was expected and what came back.
    pub holds: LawTest<I>,
}

impl<I> Law<I> {
    /// A law from its name, statement, traps, random inputs and test.
    pub fn new(
        name: &'static str,
        statement: &'static str,
        traps: Vec<I>,
        inputs: BoxedStrategy<I>,
        holds: impl Fn(&I) -> Result<(), Mismatch> + 'static,
    ) -> Self {
        Law {
            name,
            statement,
            traps,
            inputs,
            holds: Box::new(holds),
        }
    }
}

/// The input of a law as numbers, for reports and for the Python package.
pub trait LawInput: Clone + fmt::Debug + 'static {
    /// The row (widened exactly to `f64`) and the target index, if any.
    fn numbers(&self) -> (Vec<f64>, Option<usize>);
}

impl<T: Real> LawInput for Vec<T> {
    fn numbers(&self) -> (Vec<f64>, Option<usize>) {
        (self.iter().map(|v| v.widen()).collect(), None)
    }
}

impl<T: Real> LawInput for (Vec<T>, usize) {
    fn numbers(&self) -> (Vec<f64>, Option<usize>) {
        (self.0.iter().map(|v| v.widen()).collect(), Some(self.1))
    }
}

/// Law or policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Holds for every correct implementation.
    Law,
    /// A documented choice; [`Config::policy`] says which answers are accepted.
    Policy,
}

/// A failing input with expected and actual.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The input, as Rust `Debug` text.
    pub input: String,
    /// The input row, widened exactly to `f64`.
    pub row: Vec<f64>,
    /// The target index (cross-entropy).
    pub target: Option<usize>,
    /// What was expected.
    pub expected: String,
    /// What came back.
    pub got: String,
    /// The broken relation.
    pub detail: String,
}

/// The result of one law or policy.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// No counterexample in this many inputs.
    Passed(u32),
    /// A policy answered as documented: whose answers it matched (several owners may document
    /// the same answer).
    Accepted(Vec<Whose>),
    /// A counterexample: the (shrunk) input and what went wrong.
    Failed(Box<Failure>),
    /// Skipped by the configuration.
    Skipped,
    /// Nothing was judged, or the search was aborted: neither passed nor failed.
    Inconclusive(String),
}

/// One law's or policy's name, statement and outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct LawResult {
    /// Law or policy.
    pub kind: Kind,
    /// The name.
    pub name: &'static str,
    /// Its statement.
    pub statement: String,
    /// What happened.
    pub outcome: Outcome,
}

/// Every law and policy of one operation, run against one implementation.
#[derive(Clone, Debug, PartialEq)]
pub struct HarnessReport {
    /// The operation (`"softmax"`).
    pub operation: &'static str,
    /// The type (`"f32"`, `"f64"`).
    pub dtype: &'static str,
    /// The policy setting the policies were judged under.
    pub policy: Policy,
    /// One entry per law, then one per policy.
    pub results: Vec<LawResult>,
}

impl HarnessReport {
    /// No law or policy failed and none was inconclusive.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| {
            matches!(
                r.outcome,
                Outcome::Passed(_) | Outcome::Accepted(_) | Outcome::Skipped
            )
        })
    }
    /// Names of the failed laws and policies.
    pub fn failed_laws(&self) -> Vec<&'static str> {
        self.failures().map(|(r, _)| r.name).collect()
    }
    /// Each failed law or policy with its failure.
    pub fn failures(&self) -> impl Iterator<Item = (&LawResult, &Failure)> {
        self.results.iter().filter_map(|r| match &r.outcome {
            Outcome::Failed(f) => Some((r, &**f)),
            _ => None,
        })
    }
    /// Panic with the whole report unless every law and policy passed (for `#[test]`s).
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
    /// For a demonstration that the harness catches a known `bug`: print the report and then
    /// that it caught the bug; panic (failing loudly, as the crate's examples must when run by
    /// CI) unless the law or policy `name` failed.
    #[track_caller]
    pub fn print_caught(&self, name: &str, bug: &str) {
        print!("{self}");
        assert!(
            self.failed_laws().contains(&name),
            "the harness should have caught {bug}: \"{name}\" did not fail"
        );
        println!("\n(as expected: the harness caught {bug})");
    }
}

impl fmt::Display for HarnessReport {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "laws of {} ({}): {}",
            self.operation,
            self.dtype,
            if self.passed() { "all pass" } else { "FAILED" }
        )?;
        let mut heading = false;
        for r in &self.results {
            if r.kind == Kind::Policy && !heading {
                heading = true;
                writeln!(f, "  policies (accepting {}):", self.policy.accepting())?;
            }
            match &r.outcome {
                Outcome::Passed(n) => writeln!(f, "  ok      {} ({n} inputs)", r.name)?,
                Outcome::Accepted(who) => {
                    let names: Vec<&str> = who.iter().map(|w| w.answer()).collect();
                    writeln!(f, "  ok      {}: {}", r.name, names.join(" = "))?
                }
                Outcome::Skipped => writeln!(f, "  skipped {}", r.name)?,
                Outcome::Inconclusive(why) => writeln!(f, "  INCONCLUSIVE {} — {why}", r.name)?,
                Outcome::Failed(x) => {
                    writeln!(f, "  FAILED  {} — {}", r.name, r.statement)?;
                    writeln!(f, "          input:    {}", x.input)?;
                    writeln!(f, "          expected: {}", x.expected)?;
                    writeln!(f, "          got:      {}", x.got)?;
                    if !x.detail.is_empty() {
                        writeln!(f, "          {}", x.detail)?;
                    }
                }
            }
        }
        Ok(())
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f`, turning a panic into `Err(message)`. While `f` runs the panic hook stays silent on
/// this thread (a panicking implementation is a finding to report, not noise on stderr); other
/// threads keep the hook they had.
pub fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// The panic of an implementation under test as a mismatch.
fn panicked(msg: String) -> Mismatch {
    // The Python package turns an exception into a panic whose message starts "raised …".
    let got = if msg.starts_with("raised ") {
        msg
    } else {
        format!("panic: {msg}")
    };
    Mismatch::new(
        "a result",
        got,
        "the implementation panicked (or raised) on this input",
    )
}

fn failure<I: LawInput>(input: &I, m: Mismatch) -> Outcome {
    let (row, target) = input.numbers();
    Outcome::Failed(Box::new(Failure {
        input: format!("{input:?}"),
        row,
        target,
        expected: m.expected,
        got: m.got,
        detail: m.detail,
    }))
}

/// Run laws: traps first, then a fresh seeded runner per law (no failure persistence). A law
/// whose test panics fails on that input.
pub fn run_laws<I: LawInput>(laws: Vec<Law<I>>, cfg: &Config) -> Vec<LawResult> {
    let mut results = Vec::new();
    for law in laws {
        let statement = law.statement.to_string();
        if cfg.skip.contains(&law.name) {
            results.push(LawResult {
                kind: Kind::Law,
                name: law.name,
                statement,
                outcome: Outcome::Skipped,
            });
            continue;
        }
        let holds = |i: &I| guarded(|| (law.holds)(i)).unwrap_or_else(|msg| Err(panicked(msg)));
        let run = runner::run(
            law.traps.iter().cloned(),
            &law.inputs,
            cfg.cases,
            cfg.seed,
            |i| {
                if holds(i).is_ok() {
                    CaseResult::Judged
                } else {
                    CaseResult::Failed
                }
            },
        );
        let outcome = match run.end {
            RunEnd::Passed => Outcome::Passed(run.judged),
            RunEnd::Failed { shrunk, .. } => {
                let m = holds(&shrunk).err().unwrap_or_else(|| {
                    Mismatch::new("", "", "failed during the search, passed when re-run")
                });
                failure(&shrunk, m)
            }
            RunEnd::Inconclusive(why) => Outcome::Inconclusive(why),
        };
        results.push(LawResult {
            kind: Kind::Law,
            name: law.name,
            statement,
            outcome,
        });
    }
    results
}

/// Run laws and policies and gather the report.
pub fn run<I: LawInput, T: Real>(
    operation: &'static str,
    laws: Vec<Law<I>>,
    policies: Vec<PolicyCase<I, T>>,
    call: &dyn Fn(&I) -> Vec<T>,
    cfg: &Config,
) -> HarnessReport {
    let mut results = run_laws(laws, cfg);
    results.extend(policy::run_policies(policies, call, cfg));
    HarnessReport {
        operation,
        dtype: T::NAME,
        policy: cfg.policy,
        results,
    }
}

/// Rows of small integers (as `T`), `len` entries.
pub(crate) fn int_rows<T: Real>(
    len: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
) -> BoxedStrategy<Vec<T>> {
    proptest::collection::vec(range.prop_map(|v| T::narrow(v as f64)), len).boxed()
}

/// Rows of small integers with some entries masked to −∞ (at least one finite entry).
pub(crate) fn masked_rows<T: Real>(len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<Vec<T>> {
    proptest::collection::vec(
        proptest::prop_oneof![
            3 => (-40i64..=40).prop_map(|v| T::narrow(v as f64)),
            1 => proptest::strategy::Just(T::neg_infinity()),
        ],
        len,
    )
    .prop_filter("some entry finite", |z| z.iter().any(|v| v.is_finite()))
    .boxed()
}

/// Rows of `T` from `f64` values.
pub(crate) fn row<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::narrow(x)).collect()
}

/// Rows of `T` as text with the type's shortest digits.
pub(crate) fn show<T: Real>(v: &[T]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.shortest_repr()).collect();
    format!("[{}]", parts.join(", "))
}

/// Compare `got` with exact values `want` componentwise within `bound`: NaN must match NaN, a
/// value beyond `T`'s range must come back as the infinity it rounds to, −∞ as −∞.
pub(crate) fn within_bounds<T: Real>(
    what: &str,
    got: &[T],
    want: &[f64],
    bound: &[f64],
) -> Result<(), Mismatch> {
    let expected = || {
        let parts: Vec<String> = want
            .iter()
            .zip(bound)
            .map(|(&w, &b)| {
                if w.is_finite() && T::narrow(w).is_finite() {
                    format!("{} ± {b:.1e}", T::narrow(w).shortest_repr())
                } else {
                    T::narrow(w).shortest_repr()
                }
            })
            .collect();
        format!("[{}]", parts.join(", "))
    };
    if got.len() != want.len() {
        return Err(Mismatch::new(
            expected(),
            show(got),
            format!("{what}: expected {} entries, got {}", want.len(), got.len()),
        ));
    }
    for (i, ((&g, &w), &b)) in got.iter().zip(want).zip(bound).enumerate() {
        let g64 = g.widen();
        let wt = T::narrow(w);
        let ok = if w.is_nan() {
            g.is_nan()
        } else if !wt.is_finite() {
            g == wt
        } else {
            (g64 - w).abs() <= b
        };
        if !ok {
            let how = if g64.is_finite() && w.is_finite() && b > 0.0 {
                format!(
                    "error {:.2e}, {:.1}× the bound {b:.2e}",
                    (g64 - w).abs(),
                    (g64 - w).abs() / b
                )
            } else {
                "a non-finite value where another was expected".into()
            };
            return Err(Mismatch::new(
                expected(),
                show(got),
                format!("{what}: entry {i} should be {} — {how}", wt.shortest_repr()),
            ));
        }
    }
    Ok(())
}

/// The opt-in law "as accurate as this crate" (when [`Config::ulps`] is set): the user's result
/// `theirs(input)` within that many ulps of this crate's `ours(input)`, componentwise.
pub(crate) fn as_accurate_as_this_crate<T: Real, I: 'static>(
    cfg: &Config,
    what: &'static str,
    statement: &'static str,
    traps: Vec<I>,
    inputs: BoxedStrategy<I>,
    theirs: impl Fn(&I) -> Vec<T> + 'static,
    ours: impl Fn(&I) -> Vec<T> + 'static,
) -> Option<Law<I>> {
    let k = cfg.ulps?;
    let holds = move |input: &I| within_ulps(what, &theirs(input), &ours(input), k);
    Some(Law::new(
        "as accurate as this crate",
        statement,
        traps,
        inputs,
        holds,
    ))
}

/// Compare two vectors within `ulps`; NaN matches NaN (the opt-in "as accurate as this crate").
pub(crate) fn within_ulps<T: Real>(
    what: &str,
    got: &[T],
    want: &[T],
    ulps: u64,
) -> Result<(), Mismatch> {
    if got.len() != want.len() {
        return Err(Mismatch::new(
            show(want),
            show(got),
            format!("{what}: expected {} entries, got {}", want.len(), got.len()),
        ));
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = crate::kernels::tolerance::ulp_distance(g, w);
        if d > ulps {
            return Err(Mismatch::new(
                show(want),
                show(got),
                format!(
                    "{what}: entry {i} is {} ulps from this crate's {} (allowed {ulps})",
                    if d == u64::MAX {
                        "infinitely many".to_string()
                    } else {
                        d.to_string()
                    },
                    w.shortest_repr()
                ),
            ));
        }
    }
    Ok(())
}

/// Rows of `T` from rows of `f64` values (a law's traps).
pub(crate) fn rows<T: Real>(traps: &[&[f64]]) -> Vec<Vec<T>> {
    traps.iter().map(|t| row(t)).collect()
}

/// The row `z + c·1`.
pub(crate) fn shift_by<T: Real>(z: &[T], c: f64) -> Vec<T> {
    let c = T::narrow(c);
    z.iter().map(|&v| v + c).collect()
}

/// The input of a law of the softmax family: a row, or a row with a target index drawn for it
/// (cross-entropy).
pub(crate) trait RowInput<T: Real>: LawInput {
    /// Inputs from random rows.
    fn from_rows(rows: BoxedStrategy<Vec<T>>) -> BoxedStrategy<Self>;
    /// The traps of the law "masked entry".
    fn masked_traps() -> Vec<Self>;
}

impl<T: Real> RowInput<T> for Vec<T> {
    fn from_rows(rows: BoxedStrategy<Vec<T>>) -> BoxedStrategy<Self> {
        rows
    }
    fn masked_traps() -> Vec<Self> {
        rows(&[&[0.0, f64::NEG_INFINITY], &[f64::NEG_INFINITY, 3.0, 1.0]])
    }
}

impl<T: Real> RowInput<T> for (Vec<T>, usize) {
    fn from_rows(rows: BoxedStrategy<Vec<T>>) -> BoxedStrategy<Self> {
        rows.prop_flat_map(|z| {
            let n = z.len();
            (proptest::strategy::Just(z), 0..n)
        })
        .boxed()
    }
    fn masked_traps() -> Vec<Self> {
        let z = row(&[0.0, f64::NEG_INFINITY]);
        vec![(z.clone(), 1), (z, 0)]
    }
}

/// The law "no overflow" of the softmax family: huge logits (700 to 1000, and `traps`) judged
/// by `holds`, usually the agreement with the exact result.
pub(crate) fn no_overflow<T: Real, I: RowInput<T>>(
    statement: &'static str,
    traps: Vec<I>,
    holds: impl Fn(&I) -> Result<(), Mismatch> + 'static,
) -> Law<I> {
    let inputs = I::from_rows(int_rows(1..=8, 700..=1000));
    Law::new("no overflow", statement, traps, inputs, holds)
}

/// The law "masked entry" of the softmax family: rows with −∞ entries beside finite ones.
pub(crate) fn masked_entry<T: Real, I: RowInput<T>>(
    statement: &'static str,
    holds: impl Fn(&I) -> Result<(), Mismatch> + 'static,
) -> Law<I> {
    let inputs = I::from_rows(masked_rows(1..=8));
    Law::new("masked entry", statement, I::masked_traps(), inputs, holds)
}

/// The law "masked entry" of a row operation (softmax, log-softmax): on the output of `f`, every
/// masked input (`zᵢ = −∞`) gets `masked.1` exactly (shown as `masked.2`, "its `masked.3`"),
/// and the whole row is within the bound of the exact result `exact(z) = (y, bound)`; `masked.0`
/// names the comparison.
pub(crate) fn masked_row_law<T: Real>(
    statement: &'static str,
    masked: (&'static str, T, &'static str, &'static str),
    f: RowFn<T>,
    exact: impl Fn(&[T]) -> Result<(Vec<f64>, Vec<f64>), Mismatch> + 'static,
) -> Law<Vec<T>> {
    let (what, want, want_shown, output) = masked;
    masked_entry(statement, move |z: &Vec<T>| {
        let (y, bound) = exact(z)?;
        let got = f(z);
        if let Some(i) =
            (0..z.len()).find(|&i| z[i] == T::neg_infinity() && got.get(i) != Some(&want))
        {
            return Err(Mismatch::new(
                format!("out[{i}] = {want_shown} exactly"),
                show(&got),
                format!("z[{i}] = −∞ (masked) but its {output} is not {want_shown}"),
            ));
        }
        within_bounds(what, &got, &y, &bound)
    })
}

/// The law "shift invariance" (or equivariance, by `name`) on integer rows of up to 10 entries,
/// where adding c = 17 is exact.
pub(crate) fn shift_law<T: Real>(
    name: &'static str,
    statement: &'static str,
    holds: impl Fn(&Vec<T>) -> Result<(), Mismatch> + 'static,
) -> Law<Vec<T>> {
    Law::new(name, statement, vec![], int_rows(1..=10, -40..=40), holds)
}

/// The law "agrees with the exact result" on logits that exercise rounding (up to 16 entries),
/// with `traps` and the row [−0.5, 10⁻³, 3.25] first.
pub(crate) fn agrees_law<T: crate::engine::strategies::FloatStrategies>(
    statement: &'static str,
    traps: &[&[f64]],
    holds: impl Fn(&Vec<T>) -> Result<(), Mismatch> + 'static,
) -> Law<Vec<T>> {
    let mut traps = rows(traps);
    traps.push(row(&[-0.5, 1e-3, 3.25]));
    let inputs = crate::engine::strategies::logits::<T>(1..=16).boxed();
    Law::new(
        "agrees with the exact result",
        statement,
        traps,
        inputs,
        holds,
    )
}

/// The law "dominant logit" of the log domain: `z₀ = 0` and the rest far below (−18 to −60),
/// where only the log1p split keeps the small tail (and `traps`).
pub(crate) fn dominant_logit<T: Real>(
    statement: &'static str,
    traps: &[&[f64]],
    holds: impl Fn(&Vec<T>) -> Result<(), Mismatch> + 'static,
) -> Law<Vec<T>> {
    let inputs = int_rows(2..=6, -60..=-18)
        .prop_map(|mut z: Vec<T>| {
            z[0] = T::zero();
            z
        })
        .boxed();
    Law::new("dominant logit", statement, rows(traps), inputs, holds)
}

/// The opt-in law "as accurate as this crate" of a softmax-family operation (when
/// [`Config::ulps`] is set): the implementation against this crate's kernel within that many
/// ulps, componentwise, on logits of up to 16 entries, with `trap` and [1000, 1000] first.
pub(crate) struct AsAccurate<T> {
    /// The law's statement.
    pub statement: &'static str,
    /// The input tried first.
    pub trap: &'static [f64],
    /// This crate's kernel, its result as a row.
    pub ours: fn(&[T]) -> Vec<T>,
}

/// The report of the softmax-family operation `operation`: its `laws`, the opt-in law
/// `as_accurate`, then its `policies`, with the implementation called as the row function
/// `call`.
pub(crate) fn family_report<T: crate::engine::strategies::FloatStrategies>(
    operation: &'static str,
    mut laws: Vec<Law<Vec<T>>>,
    as_accurate: AsAccurate<T>,
    policies: Vec<PolicyCase<Vec<T>, T>>,
    call: impl Fn(&Vec<T>) -> Vec<T> + 'static,
    cfg: &Config,
) -> HarnessReport {
    let call = std::rc::Rc::new(call);
    let AsAccurate {
        statement,
        trap,
        ours,
    } = as_accurate;
    let traps = rows(&[trap, &[1000.0, 1000.0]]);
    let inputs = crate::engine::strategies::logits::<T>(1..=16).boxed();
    let theirs = call.clone();
    laws.extend(as_accurate_as_this_crate(
        cfg,
        operation,
        statement,
        traps,
        inputs,
        move |z: &Vec<T>| theirs(z),
        move |z: &Vec<T>| ours(z),
    ));
    run(operation, laws, policies, &*call, cfg)
}

/// The policies of a row operation of the softmax family on the special rows: empty, one and
/// two `+∞` entries (this crate's answers `plus_inf` and `two_plus_inf`, PyTorch's all NaN),
/// all `−∞` and a NaN entry (all NaN for both).
pub(crate) fn softmax_policies<T: Real>(
    plus_inf: &[f64],
    two_plus_inf: &[f64],
) -> Vec<PolicyCase<Vec<T>, T>> {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    vec![
        PolicyCase::new("empty row", vec![], &[], &[]).or_error(),
        PolicyCase::new("+∞ entry", row(&[inf, 0.0]), plus_inf, &[nan, nan]),
        PolicyCase::new(
            "two +∞ entries",
            row(&[inf, inf, 0.0]),
            two_plus_inf,
            &[nan; 3],
        ),
        PolicyCase::new("all −∞", row(&[-inf, -inf]), &[nan, nan], &[nan, nan]),
        PolicyCase::new("NaN entry", row(&[nan, 1.0]), &[nan, nan], &[nan, nan]),
    ]
}

/// The policies of a norm on the special rows: empty; `degenerate` (its name and row) at
/// ε = 0, where this crate answers 0 and PyTorch NaN; a NaN entry (all NaN); and a `±∞` entry,
/// where this crate answers all NaN and PyTorch `torch_at_inf`.
pub(crate) fn norm_policies<T: Real>(
    degenerate: (&'static str, [f64; 2]),
    torch_at_inf: [f64; 2],
) -> Vec<PolicyCase<Vec<T>, T>> {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let (name, x) = degenerate;
    vec![
        PolicyCase::new("empty row", vec![], &[], &[]).or_error(),
        PolicyCase::new(name, row(&x), &[0.0, 0.0], &[nan, nan]),
        PolicyCase::new("NaN entry", row(&[nan, 1.0]), &[nan, nan], &[nan, nan]),
        PolicyCase::new("+∞ entry", row(&[inf, 1.0]), &[nan, nan], &torch_at_inf),
        PolicyCase::new("−∞ entry", row(&[-inf, 1.0]), &[nan, nan], &torch_at_inf),
    ]
}

/// A user's row operation `z ↦ y` (softmax, log-softmax), shared by the laws that call it.
pub(crate) type RowFn<T> = std::rc::Rc<dyn Fn(&[T]) -> Vec<T>>;

/// A user's reduction of a row `z ↦ y` (logsumexp), shared by the laws that call it.
pub(crate) type ReduceFn<T> = std::rc::Rc<dyn Fn(&[T]) -> T>;

/// A user's loss `(z, target) ↦ L` (cross-entropy), shared by the laws that call it.
pub(crate) type LossFn<T> = std::rc::Rc<dyn Fn(&[T], usize) -> T>;

/// A user's norm `(x, ε) ↦ y`, shared by the laws that call it.
pub(crate) type NormFn<T> = std::rc::Rc<dyn Fn(&[T], T) -> Vec<T>>;

/// A norm's exact result with the allowed error of each entry: `(x, ε) ↦ (y, bound)`.
pub(crate) type ExactNorm<T> = fn(&[T], T) -> (Vec<f64>, Vec<f64>);

/// The law test "scale invariance" of a norm named `name`: `f(64·x, 0)` against `f(x, 0)`,
/// within the sum of both rows' bounds (scaling by a power of two is exact).
pub(crate) fn scale_invariance<T: Real>(
    name: &'static str,
    f: NormFn<T>,
    exact: ExactNorm<T>,
) -> impl Fn(&Vec<T>) -> Result<(), Mismatch> {
    move |x: &Vec<T>| {
        let xa: Vec<T> = x.iter().map(|&v| v * T::narrow(64.0)).collect();
        let (_, b0) = exact(x, T::zero());
        let (_, b1) = exact(&xa, T::zero());
        let y = f(x, T::zero());
        let what = format!("{name}(64·x) against {name}(x), ε = 0");
        agree_within_both(&what, &f(&xa, T::zero()), &y, (&b0, &b1))
    }
}

/// `moved` (the output on a transformed input) against `unmoved` (the output on the input),
/// equal within the sum of both evaluations' componentwise bounds `b0 + b1`.
pub(crate) fn agree_within_both<T: Real>(
    what: &str,
    moved: &[T],
    unmoved: &[T],
    (b0, b1): (&[f64], &[f64]),
) -> Result<(), Mismatch> {
    let want: Vec<f64> = unmoved.iter().map(|v| v.widen()).collect();
    let bound: Vec<f64> = b0.iter().zip(b1).map(|(a, b)| a + b).collect();
    within_bounds(what, moved, &want, &bound)
}

/// `|got|²` against `want` (named `expected`), allowing `Σᵢ (2|yᵢ|·bᵢ + bᵢ²) + slack`: the
/// most each squared entry moves when it is within its bound `bᵢ` of the exact `yᵢ`.
pub(crate) fn squared_norm_within<T: Real>(
    got: &[T],
    (y, bound): (&[f64], &[f64]),
    (expected, want): (&str, f64),
    slack: f64,
    what: &str,
) -> Result<(), Mismatch> {
    let n2: f64 = got.iter().map(|v| v.widen().powi(2)).sum();
    let allowed = y
        .iter()
        .zip(bound)
        .map(|(y, b)| 2.0 * y.abs() * b + b * b)
        .sum::<f64>()
        + slack;
    value_within(got, n2, (expected, want), allowed, what)
}

/// Ok when `value`, computed from the output `got`, is within `allowed` of `want`; else a
/// mismatch showing `got`, with `expected` and `what` naming the two sides.
pub(crate) fn value_within<T: Real>(
    got: &[T],
    value: f64,
    (expected, want): (&str, f64),
    allowed: f64,
    what: &str,
) -> Result<(), Mismatch> {
    if (value - want).abs() <= allowed {
        Ok(())
    } else {
        Err(Mismatch::new(
            format!("{expected} = {want} ± {allowed:.2e}"),
            show(got),
            format!("{what} = {value:e}"),
        ))
    }
}
