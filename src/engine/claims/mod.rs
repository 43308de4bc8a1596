//! The registry: every claim of the thread, its readings, and for each reading the checks that
//! compute its verdict.
//!
//! A [`Claim`] has an id (the slug used in `proofs/<id>.md`), the thread's words and its
//! [`Reading`]s. A reading has a precise statement and conditions, and one [`Judgement`] per
//! domain it is judged in (ℝ, f32, f64). A judgement carries a [`Check`] — a lattice strategy
//! and a test of one case — and what its proof states ([`Expect`]). Nothing here states a
//! verdict: [`crate::search::judge`] runs the check and computes it; `check` compares the computed
//! verdict with what the proof states and fails loudly if they differ.
//!
//! Nothing in this module formats output (that is [`crate::report`]).

pub mod cross_entropy;
pub mod geometry;
pub mod layernorm;
pub mod softmax;
pub mod transformer;

use Expect::{Fails, Holds};
use Quantifier::{Exists, ForAll};
use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::strategy::BoxedStrategy;
use std::fmt;

/// Where a reading is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Real numbers: decided exactly on rationals, or in f64 with a margin far above the
    /// rounding bound.
    Exact,
    /// IEEE binary32 arithmetic as this crate computes it.
    F32,
    /// IEEE binary64 arithmetic as this crate computes it.
    F64,
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Domain::Exact => "ℝ",
            Domain::F32 => "f32",
            Domain::F64 => "f64",
        })
    }
}

/// Whether a reading says something of every case or of some case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// "for every …": a found case is a counterexample.
    ForAll,
    /// "there is …": a found case is a witness.
    Exists,
}

/// What the reading's proof (`proofs/<id>.md`) establishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The statement is true.
    Holds,
    /// The statement is false.
    Fails,
}

/// A scalar parameter of a case.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param {
    /// An integer.
    Int(i64),
    /// The power of two `2^k`.
    Pow2(i64),
    /// A float value of the case's type (searches that exercise rounding).
    Value(f64),
}

impl Param {
    /// The integer or exponent stored (a `Value` truncated towards 0).
    pub fn raw(self) -> i64 {
        match self {
            Param::Int(v) | Param::Pow2(v) => v,
            Param::Value(v) => v as i64,
        }
    }
    /// The value as an `f64`.
    pub fn value(self) -> f64 {
        match self {
            Param::Int(v) => v as f64,
            Param::Pow2(k) => (k as f64).exp2(),
            Param::Value(v) => v,
        }
    }
    /// The value as an exact rational.
    pub fn rational(self) -> BigRational {
        match self {
            Param::Int(v) => BigRational::from_integer(BigInt::from(v)),
            Param::Pow2(k) if k >= 0 => BigRational::from_integer(BigInt::from(1) << k as usize),
            Param::Pow2(k) => BigRational::new(BigInt::from(1), BigInt::from(1) << (-k) as usize),
            Param::Value(v) => exact(v),
        }
    }
    /// The number that enters the complexity order: the integer, the exponent, or the value.
    fn size(self) -> f64 {
        match self {
            Param::Int(v) | Param::Pow2(v) => v as f64,
            Param::Value(v) => v,
        }
    }
    fn with(self, v: f64) -> Param {
        match self {
            Param::Int(_) => Param::Int(v as i64),
            Param::Pow2(_) => Param::Pow2(v as i64),
            Param::Value(_) => Param::Value(v),
        }
    }
    /// As the reader sees it, in the digits of `values`.
    pub fn show(self, values: Values) -> String {
        match self {
            Param::Int(v) => v.to_string(),
            Param::Pow2(k) => format!("2^{k}"),
            Param::Value(v) => show_num(v, values),
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.show(Values::F64))
    }
}

/// What the numbers of a case are: points of an exact lattice, or values of a float type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Integers (or short dyadic fractions) taken as exact reals.
    Lattice,
    /// `f32` values (widened to `f64` exactly); printed with `f32` shortest digits.
    F32,
    /// `f64` values.
    F64,
}

impl Values {
    /// The values of the float type `T`.
    pub fn of<T: crate::kernels::scalar::Real>() -> Values {
        if T::MANTISSA_DIGITS == 24 {
            Values::F32
        } else {
            Values::F64
        }
    }
}

/// A number as the reader sees it: an integer without a decimal point, otherwise the shortest
/// digits that round-trip in the type of `values`.
pub fn show_num(x: f64, values: Values) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e16 {
        format!("{}", x as i64)
    } else if values == Values::F32 && (x as f32) as f64 == x {
        format!("{:?}", x as f32)
    } else {
        format!("{x:?}")
    }
}

/// A vector as the reader sees it (`[1, -0.5, 3.4028235e38]`).
pub fn show_vec(v: &[f64], values: Values) -> String {
    let parts: Vec<String> = v.iter().map(|&x| show_num(x, values)).collect();
    format!("[{}]", parts.join(", "))
}

/// The exact rational value of a finite float.
pub fn exact(x: f64) -> BigRational {
    BigRational::from_float(x).unwrap_or_else(|| panic!("{x} has no rational value"))
}

/// Bits after the binary point of a finite value (0 for integers).
fn frac_bits(x: f64) -> u32 {
    if !x.is_finite() || x == x.trunc() {
        return 0;
    }
    let mut y = x;
    let mut bits = 0;
    while y != y.trunc() && bits < 1100 {
        y *= 2.0;
        bits += 1;
    }
    bits
}

/// `x` rounded to `bits` bits after the binary point.
fn round_bits(x: f64, bits: u32) -> f64 {
    let s = f64::from(bits).exp2();
    if s.is_finite() && (x * s).is_finite() {
        (x * s).round() / s
    } else {
        x
    }
}

/// The order in which found cases are simplified and enumerated: fewer dimensions, then fewer
/// tokens, then more zeros, then fewer fraction bits, then smaller sum and maximum of
/// magnitudes, then fewer negative entries (compared field by field).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Complexity {
    /// Coordinates.
    pub dim: usize,
    /// Tokens.
    pub tokens: usize,
    /// Non-zero entries and parameters.
    pub nonzero: usize,
    /// Bits after the binary point, summed.
    pub fraction_bits: u32,
    /// Σ|entries| (parameters by their integer or exponent).
    pub sum: f64,
    /// max|entry|.
    pub max: f64,
    /// Negative entries and parameters.
    pub negatives: usize,
}

/// One input of a check: named vectors of a common dimension and named scalars.
///
/// Searches run on integer lattices, so counterexamples shrink to small readable numbers, and
/// for float judgements also on values of the type that exercise rounding ([`Values`]). A
/// reading's test interprets the numbers (as logits, token coordinates, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Named vectors, all of the same length.
    pub vectors: Vec<(String, Vec<f64>)>,
    /// Named scalar parameters.
    pub params: Vec<(String, Param)>,
    /// Vectors from this index on are interchangeable "tokens" the simplifier may drop.
    pub tokens_from: usize,
    /// The fewest tokens the reading needs.
    pub min_tokens: usize,
    /// What the tokens are called: `w` (unembedding vectors, the default), `k` (keys), `c`
    /// (components of the residual stream), `m` (rows of a matrix) …; token `i` is
    /// `{prefix}{i}`.
    pub token_prefix: &'static str,
    /// What the numbers are (lattice points or values of a float type).
    pub values: Values,
}

impl Case {
    /// A lattice case with no tokens.
    pub fn new(vectors: Vec<(&str, Vec<i64>)>, params: Vec<(&str, Param)>) -> Case {
        Case::of_values(
            vectors
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|x| x as f64).collect()))
                .collect(),
            params,
            Values::Lattice,
        )
    }

    /// A case with no tokens from values of the kind `values`.
    pub fn of_values(
        vectors: Vec<(&str, Vec<f64>)>,
        params: Vec<(&str, Param)>,
        values: Values,
    ) -> Case {
        let n = vectors.len();
        Case {
            vectors: vectors
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            params: params
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            tokens_from: n,
            min_tokens: 0,
            token_prefix: "w",
            values,
        }
    }

    /// A lattice case whose vectors after the first `fixed` are tokens `w0, w1, …`.
    pub fn with_tokens(
        fixed: Vec<(&str, Vec<i64>)>,
        tokens: Vec<Vec<i64>>,
        min_tokens: usize,
        params: Vec<(&str, Param)>,
    ) -> Case {
        let mut c = Case::new(fixed, params);
        c.add_tokens(
            tokens
                .into_iter()
                .map(|t| t.into_iter().map(|x| x as f64).collect())
                .collect(),
            min_tokens,
        );
        c
    }

    /// Append tokens `{prefix}0, {prefix}1, …` after the fixed vectors.
    pub fn add_tokens(&mut self, tokens: Vec<Vec<f64>>, min_tokens: usize) {
        self.tokens_from = self.vectors.len();
        self.min_tokens = min_tokens;
        for (i, t) in tokens.into_iter().enumerate() {
            self.vectors.push((format!("{}{i}", self.token_prefix), t));
        }
    }

    /// The same case with its tokens named `{prefix}0, {prefix}1, …`.
    pub fn named(mut self, prefix: &'static str) -> Case {
        self.token_prefix = prefix;
        self.rename_tokens();
        self
    }

    /// Name the tokens `{prefix}0, {prefix}1, …` in order.
    pub fn rename_tokens(&mut self) {
        let (from, prefix) = (self.tokens_from, self.token_prefix);
        for (k, (n, _)) in self.vectors.iter_mut().enumerate().skip(from) {
            *n = format!("{prefix}{}", k - from);
        }
    }

    /// The vector named `name`.
    pub fn v(&self, name: &str) -> &[f64] {
        &self
            .vectors
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no vector {name}"))
            .1
    }
    /// The vector named `name` as integers (a lattice case's vectors are integers).
    pub fn ints(&self, name: &str) -> Vec<i64> {
        ints(self.v(name))
    }
    /// The parameter named `name`.
    pub fn p(&self, name: &str) -> Param {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .1
    }
    /// The parameter named `name`, if the case has it.
    pub fn param(&self, name: &str) -> Option<Param> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, p)| *p)
    }
    /// The tokens.
    pub fn tokens(&self) -> Vec<&[f64]> {
        self.vectors[self.tokens_from..]
            .iter()
            .map(|(_, v)| v.as_slice())
            .collect()
    }
    /// The tokens as integers (a lattice case's tokens are integers).
    pub fn int_tokens(&self) -> Vec<Vec<i64>> {
        self.tokens().into_iter().map(ints).collect()
    }
    /// The common dimension.
    pub fn dim(&self) -> usize {
        self.vectors.first().map_or(0, |(_, v)| v.len())
    }

    /// Where the case sits in the simplification order ([`Complexity`]).
    pub fn complexity(&self) -> Complexity {
        let entries = self
            .vectors
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .chain(self.params.iter().map(|(_, p)| p.size()));
        let mut c = Complexity {
            dim: self.dim(),
            tokens: self.vectors.len() - self.tokens_from,
            nonzero: 0,
            fraction_bits: 0,
            sum: 0.0,
            max: 0.0,
            negatives: 0,
        };
        for e in entries {
            c.nonzero += usize::from(e != 0.0);
            c.fraction_bits += frac_bits(e);
            c.sum += e.abs();
            c.max = c.max.max(e.abs());
            c.negatives += usize::from(e < 0.0);
        }
        c
    }

    /// Simpler neighbours, produced lazily (a long float row has thousands): keep either half
    /// of the coordinates, drop a coordinate, drop a token, move an entry or a parameter to 0,
    /// ±1, half its value, one step towards 0, fewer fraction bits, or its negation; translate
    /// a lattice vector so that one of its entries becomes 0.
    pub fn simpler(&self) -> impl Iterator<Item = (String, Case)> + '_ {
        let d = self.dim();
        let vals = self.values;
        let mut moves: Vec<Move> = Vec::new();
        if d > 3 {
            moves.push(Move::Coords(0, d / 2));
            moves.push(Move::Coords(d / 2, d));
        }
        // Every vector scaled by a power of two at once (exact, and keeps relations between
        // the vectors that single-entry moves break, such as near cancellation).
        moves.extend([0.5, 2f64.powi(-8), 2f64.powi(-20)].map(Move::ScaleAll));
        if d > 1 {
            moves.extend((0..d).map(Move::DropCoord));
        }
        if self.vectors.len() - self.tokens_from > self.min_tokens {
            moves.extend((self.tokens_from..self.vectors.len()).map(Move::DropToken));
        }
        for (i, (_, v)) in self.vectors.iter().enumerate() {
            for (j, &e) in v.iter().enumerate() {
                moves.extend(towards(e).into_iter().map(|t| Move::Entry(i, j, t)));
            }
        }
        if vals == Values::Lattice {
            for (i, (_, v)) in self.vectors.iter().enumerate() {
                moves.extend(
                    v.iter()
                        .filter(|&&e| e != 0.0)
                        .map(|&e| Move::Translate(i, e)),
                );
            }
        }
        for (i, (_, p)) in self.params.iter().enumerate() {
            let targets = towards(p.size())
                .into_iter()
                .filter(|t| matches!(p, Param::Value(_)) || t == &t.trunc());
            moves.extend(targets.map(|t| Move::Param(i, t)));
        }
        moves.into_iter().map(move |m| self.apply(m))
    }

    fn apply(&self, m: Move) -> (String, Case) {
        let vals = self.values;
        let mut c = self.clone();
        let what = match m {
            Move::Coords(a, b) => {
                c.vectors
                    .iter_mut()
                    .for_each(|(_, v)| *v = v[a..b].to_vec());
                format!("keep coordinates {a}..{b}")
            }
            Move::ScaleAll(f) => {
                c.vectors
                    .iter_mut()
                    .for_each(|(_, v)| v.iter_mut().for_each(|x| *x *= f));
                format!("every vector × {}", show_num(f, Values::F64))
            }
            Move::DropCoord(j) => {
                c.vectors.iter_mut().for_each(|(_, v)| {
                    v.remove(j);
                });
                format!("drop coordinate {j}")
            }
            Move::DropToken(i) => {
                let name = c.vectors.remove(i).0;
                c.rename_tokens();
                format!("drop token {name}")
            }
            Move::Entry(i, j, t) => {
                let (name, v) = &mut c.vectors[i];
                let e = v[j];
                v[j] = t;
                format!("{name}[{j}]: {} → {}", show_num(e, vals), show_num(t, vals))
            }
            Move::Translate(i, e) => {
                c.vectors[i].1.iter_mut().for_each(|x| *x -= e);
                format!("{} − {}·1", c.vectors[i].0, show_num(e, vals))
            }
            Move::Param(i, t) => {
                let (name, p) = &mut c.params[i];
                let old = *p;
                *p = old.with(t);
                format!("{name}: {} → {}", old.show(vals), p.show(vals))
            }
        };
        if vals == Values::F32 {
            // Keep every value an f32 (halving a subnormal, say, would leave the type).
            for (_, v) in c.vectors.iter_mut() {
                v.iter_mut().for_each(|x| *x = f64::from(*x as f32));
            }
        }
        (what, c)
    }
}

/// One simplification step of [`Case::simpler`].
#[derive(Clone, Copy)]
enum Move {
    Coords(usize, usize),
    ScaleAll(f64),
    DropCoord(usize),
    DropToken(usize),
    Entry(usize, usize, f64),
    Translate(usize, f64),
    Param(usize, f64),
}

/// Simpler values for an entry: 0, ±1, −v; for an integer also half and one step towards 0;
/// otherwise its rounding, truncation and fewer fraction bits.
fn towards(v: f64) -> Vec<f64> {
    let mut t = vec![0.0, 1.0, -1.0, -v];
    if v == v.trunc() {
        t.extend([(v / 2.0).trunc(), v - v.signum(), v / 2.0]);
    } else {
        let b = frac_bits(v);
        t.extend([
            v.round(),
            v.trunc(),
            round_bits(v, b / 2),
            round_bits(v, b - 1),
        ]);
    }
    t.retain(|&x| x != v && x.is_finite());
    t.dedup();
    t
}

/// Whether some entry of `v` is not 0.
pub fn nonzero(v: &[f64]) -> bool {
    v.iter().any(|&e| e != 0.0)
}

/// A lattice vector's entries as integers.
///
/// # Panics
/// If an entry is not an integer (a float case reached a check written for lattices).
pub fn ints(v: &[f64]) -> Vec<i64> {
    v.iter()
        .map(|&x| {
            assert!(
                x == x.trunc() && x.abs() < 9.0e15,
                "{x} is not a lattice integer"
            );
            x as i64
        })
        .collect()
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut parts: Vec<String> = self
            .vectors
            .iter()
            .map(|(k, v)| format!("{k} = {}", show_vec(v, self.values)))
            .collect();
        parts.extend(
            self.params
                .iter()
                .map(|(k, p)| format!("{k} = {}", p.show(self.values))),
        );
        f.write_str(&parts.join(", "))
    }
}

/// How a found case was confirmed.
#[derive(Clone, Debug, PartialEq)]
pub enum Verification {
    /// Both sides evaluated exactly in rationals: no tolerance at all.
    Exact,
    /// Evaluated in f64; the two sides differ by `margin`, far above the rounding `bound`.
    Margin {
        /// |lhs − rhs|, or the amount by which the inequality is violated.
        margin: f64,
        /// The error bound of the evaluation.
        bound: f64,
    },
    /// The claim is about this floating-point arithmetic itself: the computed values are the
    /// evidence (re-evaluated deterministically), beside the real value.
    Arithmetic(Domain),
}

/// Both sides of the statement at a found case.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// What the left side is.
    pub lhs_label: String,
    /// Its value.
    pub lhs: String,
    /// What the right side is.
    pub rhs_label: String,
    /// Its value.
    pub rhs: String,
    /// How it was confirmed.
    pub verification: Verification,
}

impl Evidence {
    /// Evidence from an exact evaluation.
    pub fn exact(
        lhs_label: impl Into<String>,
        lhs: impl fmt::Display,
        rhs_label: impl Into<String>,
        rhs: impl fmt::Display,
    ) -> Evidence {
        Evidence {
            lhs_label: lhs_label.into(),
            lhs: lhs.to_string(),
            rhs_label: rhs_label.into(),
            rhs: rhs.to_string(),
            verification: Verification::Exact,
        }
    }
    /// Evidence from an f64 evaluation with a margin over a bound.
    pub fn margin(
        lhs_label: impl Into<String>,
        lhs: impl fmt::Debug,
        rhs_label: impl Into<String>,
        rhs: impl fmt::Debug,
        margin: f64,
        bound: f64,
    ) -> Evidence {
        Evidence {
            lhs_label: lhs_label.into(),
            lhs: format!("{lhs:?}"),
            rhs_label: rhs_label.into(),
            rhs: format!("{rhs:?}"),
            verification: Verification::Margin { margin, bound },
        }
    }
    /// Evidence that is the behaviour of an arithmetic.
    pub fn arithmetic(
        domain: Domain,
        lhs_label: impl Into<String>,
        lhs: impl fmt::Debug,
        rhs_label: impl Into<String>,
        rhs: impl fmt::Debug,
    ) -> Evidence {
        Evidence {
            lhs_label: lhs_label.into(),
            lhs: format!("{lhs:?}"),
            rhs_label: rhs_label.into(),
            rhs: format!("{rhs:?}"),
            verification: Verification::Arithmetic(domain),
        }
    }
}

/// What the test of one case found.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseOutcome {
    /// The statement held here, decided exactly in rational arithmetic.
    Exact,
    /// The statement held here, with the observed error and the bound it must stay under.
    Pass {
        /// Observed deviation (0 when exact).
        error: f64,
        /// Allowed deviation from error analysis (0 when exact).
        bound: f64,
    },
    /// The statement's conditions do not apply to this case.
    Skip,
    /// A counterexample (∀) or a witness (∃).
    Found(Evidence),
}

impl CaseOutcome {
    /// A pass decided exactly in rationals.
    pub const EXACT: CaseOutcome = CaseOutcome::Exact;

    /// Two statements that must both hold at this case: the first one's counterexample or
    /// witness, else the second's; a skip if either is outside its conditions; else the pass
    /// whose error is the larger share of its own bound.
    pub fn and(self, other: CaseOutcome) -> CaseOutcome {
        use CaseOutcome::*;
        let share = |error: f64, bound: f64| {
            if error == 0.0 {
                0.0
            } else if bound > 0.0 {
                error / bound
            } else {
                f64::INFINITY
            }
        };
        match (self, other) {
            (found @ Found(_), _) | (_, found @ Found(_)) => found,
            (Skip, _) | (_, Skip) => Skip,
            (Exact, other) | (other, Exact) => other,
            (
                Pass { error, bound },
                Pass {
                    error: e2,
                    bound: b2,
                },
            ) => {
                if share(e2, b2) > share(error, bound) {
                    Pass {
                        error: e2,
                        bound: b2,
                    }
                } else {
                    Pass { error, bound }
                }
            }
        }
    }
}

/// The test of one case.
pub type CaseTest = fn(&Case) -> CaseOutcome;

/// How to search one judgement.
pub struct Check {
    /// ∀ or ∃.
    pub quantifier: Quantifier,
    /// Random cases: lattices, and for float judgements values that exercise rounding.
    pub strategy: fn() -> BoxedStrategy<Case>,
    /// Cases tried first, in order of increasing complexity (an exhaustive enumeration where
    /// the reading asks for the smallest example), produced lazily.
    pub enumerate: fn() -> Box<dyn Iterator<Item = Case>>,
    /// Test one case.
    pub test: CaseTest,
}

/// No enumerated cases.
pub fn no_cases() -> Box<dyn Iterator<Item = Case>> {
    Box::new(std::iter::empty())
}

/// A reading judged in one domain.
pub struct Judgement {
    /// ℝ, f32 or f64.
    pub domain: Domain,
    /// What the proof states.
    pub proof_states: Expect,
    /// The search.
    pub check: Check,
}

impl Judgement {
    /// A judgement with no enumerated cases.
    pub fn new(
        domain: Domain,
        proof_states: Expect,
        quantifier: Quantifier,
        strategy: fn() -> BoxedStrategy<Case>,
        test: CaseTest,
    ) -> Judgement {
        Judgement {
            domain,
            proof_states,
            check: Check {
                quantifier,
                strategy,
                enumerate: no_cases,
                test,
            },
        }
    }

    /// This judgement tries `enumerate`'s cases, in the crate's complexity order, before its
    /// random ones.
    pub fn enumerating(mut self, enumerate: fn() -> Box<dyn Iterator<Item = Case>>) -> Judgement {
        self.check.enumerate = enumerate;
        self
    }
}

/// One precise reading of a claim.
pub struct Reading {
    /// `a`, `b`, `c1`, …
    pub key: &'static str,
    /// The precise statement.
    pub statement: &'static str,
    /// The conditions it needs.
    pub conditions: &'static str,
    /// For a reading that fails: the statement that does hold.
    pub corrected: Option<&'static str>,
    /// One judgement per domain.
    pub judgements: Vec<Judgement>,
}

impl Reading {
    /// A reading: its key (`a`, `b`, `c1`, …), its precise statement, the conditions it needs,
    /// for a reading that fails the statement that does hold, and one judgement per domain.
    pub fn new(
        key: &'static str,
        statement: &'static str,
        conditions: &'static str,
        corrected: Option<&'static str>,
        judgements: impl IntoIterator<Item = Judgement>,
    ) -> Reading {
        Reading {
            key,
            statement,
            conditions,
            corrected,
            judgements: judgements.into_iter().collect(),
        }
    }
}

/// The judgement in exact arithmetic (ℝ) by `test` on the cases of `strategy`.
pub fn in_reals(
    proof_states: Expect,
    quantifier: Quantifier,
    strategy: fn() -> BoxedStrategy<Case>,
    test: CaseTest,
) -> Judgement {
    Judgement::new(Domain::Exact, proof_states, quantifier, strategy, test)
}

/// A claim of the thread.
pub struct Claim {
    /// The slug (`proofs/<id>.md`).
    pub id: &'static str,
    /// The thread's words.
    pub words: &'static str,
    /// Its readings.
    pub readings: Vec<Reading>,
    /// Names of the tests that check it (checked to exist by `tests/suite/proofs.rs`).
    pub tests: &'static [&'static str],
}

impl Claim {
    /// Path of its proof, relative to the crate root.
    pub fn proof_path(&self) -> String {
        format!("proofs/{}.md", self.id)
    }
}

/// Every claim, in the order of the thread's sections.
pub fn registry() -> Vec<Claim> {
    let mut all = softmax::claims();
    all.extend(cross_entropy::claims());
    all.extend(geometry::claims());
    all.extend(layernorm::claims());
    all.extend(transformer::claims());
    all
}

/// The claim with this id.
pub fn find(id: &str) -> Option<Claim> {
    registry().into_iter().find(|c| c.id == id)
}

/// Exact rationals from a case's values (every finite float is a rational).
pub fn q(v: &[f64]) -> Vec<BigRational> {
    v.iter().map(|&x| exact(x)).collect()
}

/// A case's values as `f64` (exact: they are lattice points or values of a float type).
pub fn f(v: &[f64]) -> Vec<f64> {
    v.to_vec()
}

/// A case's values as `T` (exact for lattice points and for values drawn in `T`).
pub fn ft<T: crate::kernels::scalar::Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::narrow(x)).collect()
}

/// The case's ε (the parameter named `ε`; 0 when the case has none).
pub fn eps(c: &Case) -> Param {
    c.param("ε").unwrap_or(Param::Int(0))
}

/// Exact equality of two sides computed in rationals: a pass, or the evidence with both sides
/// shown by `show`.
pub fn exact_eq<V: PartialEq>(
    lhs_label: impl Into<String>,
    lhs: &V,
    rhs_label: impl Into<String>,
    rhs: &V,
    show: impl Fn(&V) -> String,
) -> CaseOutcome {
    if lhs == rhs {
        CaseOutcome::Exact
    } else {
        CaseOutcome::Found(Evidence::exact(lhs_label, show(lhs), rhs_label, show(rhs)))
    }
}

/// `[a, b, …]` with each rational in its plain form (`3`, `-1/2`).
pub fn show_q(v: &[BigRational]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

// ---- ties --------------------------------------------------------------------------------

thread_local! {
    static TIES_REVERSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with every tie the checks meet broken the other way ([`le`], [`lt`], [`argmax`]).
/// A found case whose evidence rests on a tie is not found again; the tests re-judge every
/// displayed refutation this way.
pub fn with_ties_reversed<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            TIES_REVERSED.with(|t| t.set(self.0));
        }
    }
    let _reset = Reset(TIES_REVERSED.with(|t| t.replace(true)));
    f()
}

/// Whether ties are being broken the other way.
pub fn ties_reversed() -> bool {
    TIES_REVERSED.with(|t| t.get())
}

/// `a ≤ b` as a check reads it: at a tie, true as written and false when ties are reversed.
pub fn le<T: PartialOrd>(a: T, b: T) -> bool {
    if a == b { !ties_reversed() } else { a < b }
}

/// `a < b` as a check reads it: at a tie, false as written and true when ties are reversed.
pub fn lt<T: PartialOrd>(a: T, b: T) -> bool {
    if a == b { ties_reversed() } else { a < b }
}

/// The index of a largest entry: the first one as written, the last when ties are reversed.
pub fn argmax<T: PartialOrd>(v: &[T]) -> usize {
    best_by(v, |candidate, best| lt(best, candidate))
}

/// The index of a smallest entry: the first one as written, the last when ties are reversed.
pub fn argmin<T: PartialOrd>(v: &[T]) -> usize {
    best_by(v, |candidate, best| lt(candidate, best))
}

/// The index of the entry that beats every earlier best under `beats`.
fn best_by<T>(v: &[T], beats: impl Fn(&T, &T) -> bool) -> usize {
    (1..v.len()).fold(0, |best, i| if beats(&v[i], &v[best]) { i } else { best })
}

/// A refutation in ℝ from an f64 evaluation must beat the rounding bound by this factor.
pub const MARGIN_FACTOR: f64 = 1e6;

/// Compare two f64 evaluations of the two sides of a real identity whose evaluation error is
/// at most `bound`: found when they differ by more than [`MARGIN_FACTOR`] × `bound`.
pub fn compare_real(
    lhs_label: &str,
    lhs: &[f64],
    rhs_label: &str,
    rhs: &[f64],
    bound: f64,
) -> CaseOutcome {
    let err = lhs
        .iter()
        .zip(rhs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    if err > MARGIN_FACTOR * bound {
        // As the reader sees them: a one-entry side as a scalar, integers without ".0".
        let shown = |v: &[f64]| {
            if v.len() == 1 {
                show_num(v[0], Values::F64)
            } else {
                show_vec(v, Values::F64)
            }
        };
        CaseOutcome::Found(Evidence {
            lhs_label: lhs_label.into(),
            lhs: shown(lhs),
            rhs_label: rhs_label.into(),
            rhs: shown(rhs),
            verification: Verification::Margin { margin: err, bound },
        })
    } else {
        CaseOutcome::Pass { error: err, bound }
    }
}

/// Check the real inequality `lhs ≤ rhs` from f64 evaluations whose error is at most `bound`:
/// found when `lhs` exceeds `rhs` by more than [`MARGIN_FACTOR`] × `bound`; otherwise a pass
/// that records the excess (0 when the inequality holds outright).
pub fn at_most_real(
    lhs_label: &str,
    lhs: f64,
    rhs_label: &str,
    rhs: f64,
    bound: f64,
) -> CaseOutcome {
    let excess = lhs - rhs;
    if excess > MARGIN_FACTOR * bound {
        CaseOutcome::Found(Evidence::margin(
            lhs_label, lhs, rhs_label, rhs, excess, bound,
        ))
    } else {
        CaseOutcome::Pass {
            error: excess.max(0.0),
            bound,
        }
    }
}

/// Compare two evaluations in the arithmetic `domain` itself: found when they differ by more
/// than `bound` (the rounding the statement allows), or when either side is not finite.
pub fn compare_arith<T: crate::kernels::scalar::Real>(
    domain: Domain,
    lhs_label: &str,
    lhs: &[T],
    rhs_label: &str,
    rhs: &[T],
    bound: f64,
) -> CaseOutcome {
    let err = lhs
        .iter()
        .zip(rhs)
        .map(|(a, b)| (a.widen() - b.widen()).abs())
        .fold(0.0f64, f64::max);
    let within = err <= bound; // false for a NaN error
    if !within || lhs.iter().chain(rhs).any(|v| !v.widen().is_finite()) {
        CaseOutcome::Found(Evidence::arithmetic(domain, lhs_label, lhs, rhs_label, rhs))
    } else {
        CaseOutcome::Pass { error: err, bound }
    }
}

/// The domain of a float type.
pub fn domain_of<T: crate::kernels::scalar::Real>() -> Domain {
    if T::MANTISSA_DIGITS == 24 {
        Domain::F32
    } else {
        Domain::F64
    }
}

use proptest::prelude::*;

/// Integer vectors of one length drawn from `dims`, named `names`, with parameters.
pub fn vectors(
    names: &'static [&'static str],
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    with_tokens(names, 0..=0, 0, dims, range, params)
}

/// Fixed vectors `names` plus `tokens` tokens `w0, w1, …`, all of one dimension, on the
/// integer lattice `range`.
pub fn with_tokens(
    names: &'static [&'static str],
    tokens: std::ops::RangeInclusive<usize>,
    min_tokens: usize,
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    let layout = Layout {
        names,
        tokens,
        min_tokens,
        dims,
        params,
    };
    layout.lattice(range)
}

/// `cases` with their tokens named `{prefix}0, {prefix}1, …`.
pub fn tokens_named(prefix: &'static str, cases: BoxedStrategy<Case>) -> BoxedStrategy<Case> {
    cases.prop_map(move |c| c.named(prefix)).boxed()
}

/// What a case holds: the fixed vectors `names`, between `tokens` tokens (at least
/// `min_tokens`) of one dimension in `dims`, and the parameters.
#[derive(Clone)]
struct Layout {
    names: &'static [&'static str],
    tokens: std::ops::RangeInclusive<usize>,
    min_tokens: usize,
    dims: std::ops::RangeInclusive<usize>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
}

impl Layout {
    /// Cases on the integer lattice `range`.
    fn lattice(self, range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Case> {
        let lattice = range.prop_map(|k| k as f64).boxed();
        self.cases(
            move |d, n| {
                proptest::collection::vec(proptest::collection::vec(lattice.clone(), d), n).boxed()
            },
            Values::Lattice,
        )
    }

    /// Cases whose vectors come from `rows(d, n)` (n vectors of dimension d).
    fn cases(
        self,
        rows: impl Fn(usize, usize) -> BoxedStrategy<Vec<Vec<f64>>> + 'static,
        values: Values,
    ) -> BoxedStrategy<Case> {
        let Layout {
            names,
            tokens,
            min_tokens,
            dims,
            params,
        } = self;
        let (pnames, pstrats): (Vec<&'static str>, Vec<BoxedStrategy<Param>>) =
            params.into_iter().unzip();
        (dims, tokens, pstrats)
            .prop_flat_map(move |(d, v, ps)| {
                let pnames = pnames.clone();
                (rows(d, names.len() + v), Just(ps)).prop_map(move |(mut all, ps)| {
                    let toks = all.split_off(names.len());
                    let mut c = Case::of_values(
                        names.iter().copied().zip(all).collect(),
                        pnames.iter().copied().zip(ps).collect(),
                        values,
                    );
                    c.add_tokens(toks, min_tokens);
                    c
                })
            })
            .boxed()
    }
}

/// Cases for a judgement in the float type `T`: besides the small-integer lattice `range`
/// (readable counterexamples), vectors that exercise rounding — non-integers, magnitudes
/// across the type's whole range (near overflow, subnormal), mixed magnitudes between vectors,
/// long rows, and tokens that nearly cancel ([`crate::strategies::rounding_rows`]).
pub fn float_case<T: crate::engine::strategies::FloatStrategies>(
    names: &'static [&'static str],
    tokens: std::ops::RangeInclusive<usize>,
    min_tokens: usize,
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    use crate::engine::strategies::{LONG_ROW, rounding_rows};
    let layout = Layout {
        names,
        tokens,
        min_tokens,
        dims,
        params,
    };
    let lattice = layout.clone().lattice(range).prop_map(|mut c| {
        c.values = Values::of::<T>();
        c
    });
    let long = *layout.dims.end().max(LONG_ROW.start());
    let long_layout = Layout {
        dims: *layout.dims.start()..=long.max(*LONG_ROW.end()),
        ..layout.clone()
    };
    let rounding = layout.cases(rounding_rows::<T>, Values::of::<T>());
    let long_rows = long_layout.cases(rounding_rows::<T>, Values::of::<T>());
    prop_oneof![2 => lattice, 5 => rounding, 1 => long_rows].boxed()
}

/// An integer parameter in `range`.
pub fn int(range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Param> {
    range.prop_map(Param::Int).boxed()
}

/// A power-of-two parameter `2^k`, `k` in `range`.
pub fn pow2(range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Param> {
    range.prop_map(Param::Pow2).boxed()
}

/// Two scales `α₁ = 2^k₁` and `α₂ = 2^k₂`, each exponent in `range` (a reading about how
/// something changes with α compares two of them).
pub fn two_scales(
    range: std::ops::RangeInclusive<i64>,
) -> Vec<(&'static str, BoxedStrategy<Param>)> {
    vec![("α₁", pow2(range.clone())), ("α₂", pow2(range))]
}

/// ε of a norm in the exact readings: 0 or a power of two from 2⁻²⁰ to 4.
pub fn eps_param() -> BoxedStrategy<Param> {
    prop_oneof![Just(Param::Int(0)), (-20i64..=2).prop_map(Param::Pow2)].boxed()
}

/// A parameter of the float type `T` from [`crate::strategies::rounding`], kept in `[lo, hi]`
/// (clamped).
pub fn value<T: crate::engine::strategies::FloatStrategies>(
    lo: f64,
    hi: f64,
) -> BoxedStrategy<Param> {
    crate::engine::strategies::rounding::<T>()
        .prop_map(move |x| Param::Value(x.widen().clamp(lo, hi)))
        .boxed()
}

/// The f32 and f64 judgements of a reading whose float judgements share one generic strategy and
/// one generic test: `judged_in_floats!(expect, quantifier, strategy, test)` gives the
/// judgements `strategy::<T>`, `test::<T>`; with `enumerate: cases` each also tries
/// `cases::<T>`'s enumerated cases before its random ones.
macro_rules! judged_in_floats {
    ($expect:expr, $quantifier:expr, $strategy:ident, $test:ident) => {
        [
            $crate::engine::claims::Judgement::new(
                $crate::engine::claims::Domain::F32,
                $expect,
                $quantifier,
                $strategy::<f32>,
                $test::<f32>,
            ),
            $crate::engine::claims::Judgement::new(
                $crate::engine::claims::Domain::F64,
                $expect,
                $quantifier,
                $strategy::<f64>,
                $test::<f64>,
            ),
        ]
    };
    ($expect:expr, $quantifier:expr, $strategy:ident, $test:ident, enumerate: $enumerate:ident) => {{
        let [mut f32, mut f64] =
            $crate::engine::claims::judged_in_floats!($expect, $quantifier, $strategy, $test);
        f32.check.enumerate = $enumerate::<f32>;
        f64.check.enumerate = $enumerate::<f64>;
        [f32, f64]
    }};
}
pub(crate) use judged_in_floats;
