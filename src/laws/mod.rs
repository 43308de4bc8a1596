//! Law checks for other people's implementations: run the laws this crate has verified against
//! your own softmax, log_softmax, logsumexp, LayerNorm, RMSNorm or cross-entropy.
//!
//! In the spirit of Haskell's quickcheck-classes: per operation a set of named laws, each a
//! property searched on integer lattices (so counterexamples shrink to small numbers) plus the
//! known traps as fixed cases. A law either passes or returns the simplest input proptest's
//! shrinking finds, with what was expected and what your function returned.
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
//! // The crate's own passes every law, in f32 too.
//! laws::softmax::check(transformer_laws::softmax::softmax::<f32>).assert_passed();
//! ```
//!
//! From a `#[test]`: `laws::layer_norm::check(my_layer_norm).assert_passed();` panics with every
//! failing law and its counterexample. From proptest: each law is a plain function of one input
//! ([`Law::holds`]), usable inside your own `proptest!` block.

pub mod cross_entropy;
pub mod layer_norm;
pub mod log_softmax;
pub mod logsumexp;
pub mod rms_norm;
pub mod softmax;

use crate::runner::{self, CaseResult, RunEnd};
use crate::scalar::Real;
use proptest::strategy::{BoxedStrategy, Strategy};
use std::fmt;

/// How hard to search and how much error to allow.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Random cases per law.
    pub cases: u32,
    /// Seed of the random cases.
    pub seed: u64,
    /// Allowed error of your implementation against this crate's reference, in ulps of the
    /// type (componentwise). The identities (sums to one, shift invariance, …) scale their
    /// tolerances with it too.
    pub ulps: u64,
    /// Laws to skip, by name (for instance `"special values"` if your policy for ±∞ differs).
    pub skip: Vec<&'static str>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: 256,
            seed: 0x1a75,
            ulps: 16,
            skip: Vec::new(),
        }
    }
}

/// The test of one input: `Ok` when the law holds, else expected versus actual.
pub type LawTest<I> = Box<dyn Fn(&I) -> Result<(), String>>;

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

/// The result of one law.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// No counterexample in this many inputs.
    Passed(u32),
    /// A counterexample: the (shrunk) input and what went wrong.
    Failed {
        /// The input, as Rust `Debug` text.
        input: String,
        /// Expected versus actual.
        detail: String,
    },
    /// Skipped by the configuration.
    Skipped,
    /// Nothing was judged, or the search was aborted: neither passed nor failed.
    Inconclusive(String),
}

/// One law's name, statement and outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct LawResult {
    /// The law's name.
    pub name: &'static str,
    /// Its statement.
    pub statement: &'static str,
    /// What happened.
    pub outcome: Outcome,
}

/// Every law of one operation, run against one implementation.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The operation (`"softmax"`).
    pub operation: &'static str,
    /// The type (`"f32"`, `"f64"`).
    pub dtype: &'static str,
    /// One entry per law.
    pub results: Vec<LawResult>,
}

impl Report {
    /// No law failed and none was inconclusive.
    pub fn passed(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Passed(_) | Outcome::Skipped))
    }
    /// Names of the failed laws.
    pub fn failed_laws(&self) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
            .map(|r| r.name)
            .collect()
    }
    /// Panic with the whole report unless every law passed (for `#[test]`s).
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "laws of {} ({}): {}",
            self.operation,
            self.dtype,
            if self.passed() { "all pass" } else { "FAILED" }
        )?;
        for r in &self.results {
            match &r.outcome {
                Outcome::Passed(n) => writeln!(f, "  ok      {} ({n} inputs)", r.name)?,
                Outcome::Skipped => writeln!(f, "  skipped {}", r.name)?,
                Outcome::Inconclusive(why) => writeln!(f, "  INCONCLUSIVE {} — {why}", r.name)?,
                Outcome::Failed { input, detail } => {
                    writeln!(f, "  FAILED  {} — {}", r.name, r.statement)?;
                    writeln!(f, "          input:  {input}")?;
                    writeln!(f, "          {detail}")?;
                }
            }
        }
        Ok(())
    }
}

/// Run laws: traps first, then a fresh seeded runner per law (no failure persistence).
pub fn run<I: Clone + fmt::Debug + 'static>(
    operation: &'static str,
    dtype: &'static str,
    laws: Vec<Law<I>>,
    cfg: &Config,
) -> Report {
    let mut results = Vec::new();
    for law in laws {
        if cfg.skip.contains(&law.name) {
            results.push(LawResult {
                name: law.name,
                statement: law.statement,
                outcome: Outcome::Skipped,
            });
            continue;
        }
        let holds = &law.holds;
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
            RunEnd::Failed { shrunk, .. } => Outcome::Failed {
                input: format!("{shrunk:?}"),
                detail: holds(&shrunk).err().unwrap_or_default(),
            },
            RunEnd::Inconclusive(why) => Outcome::Inconclusive(why),
        };
        results.push(LawResult {
            name: law.name,
            statement: law.statement,
            outcome,
        });
    }
    Report {
        operation,
        dtype,
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

/// Rows of `T` from `f64` values.
pub(crate) fn row<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::narrow(x)).collect()
}

/// Compare two vectors within `ulps`; NaN matches NaN.
pub(crate) fn within_ulps<T: Real>(
    what: &str,
    got: &[T],
    want: &[T],
    ulps: u64,
) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: expected {} entries, got {}",
            want.len(),
            got.len()
        ));
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = crate::tolerance::ulp_distance(g, w);
        if d > ulps {
            return Err(format!(
                "{what}: entry {i} expected {w:e} (the reference), got {g:e} — {} ulps apart (allowed {ulps})",
                if d == u64::MAX {
                    "NaN or ∞ vs finite: infinitely many".to_string()
                } else {
                    d.to_string()
                }
            ));
        }
    }
    Ok(())
}

/// Compare two vectors within an absolute tolerance.
pub(crate) fn within_abs<T: Real>(
    what: &str,
    got: &[T],
    want: &[T],
    tol: f64,
) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: expected {} entries, got {}",
            want.len(),
            got.len()
        ));
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g.widen() - w.widen()).abs();
        if err.is_nan() || err > tol {
            return Err(format!(
                "{what}: entry {i} expected {w:e}, got {g:e} (error {err:e} > tolerance {tol:e})"
            ));
        }
    }
    Ok(())
}

/// A user's norm `(x, ε) ↦ y`, shared by the laws that call it.
pub(crate) type NormFn<T> = std::rc::Rc<dyn Fn(&[T], T) -> Vec<T>>;

/// `g(64·x, 0) = g(x, 0)` within `4·tol·√n` (scale invariance of a norm with ε = 0).
pub(crate) fn scale_invariance<T: Real>(
    g: NormFn<T>,
    what: &'static str,
    tol: f64,
) -> LawTest<Vec<T>> {
    Box::new(move |x: &Vec<T>| {
        let a = T::narrow(64.0);
        let xa: Vec<T> = x.iter().map(|&v| v * a).collect();
        within_abs(
            what,
            &g(&xa, T::zero()),
            &g(x, T::zero()),
            4.0 * tol * (x.len() as f64).sqrt(),
        )
    })
}
