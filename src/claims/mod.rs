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

use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::strategy::BoxedStrategy;
use serde::Serialize;
use std::fmt;

/// The area of the thread a claim belongs to (one file of this module, one test file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Area {
    /// Softmax.
    Softmax,
    /// Cross-entropy.
    CrossEntropy,
    /// Dot product, cosine, distance, the unembedding.
    Geometry,
    /// LayerNorm and RMSNorm.
    LayerNorm,
    /// Transformer weight processing and attention.
    Transformer,
}

/// Where a reading is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Domain {
    /// Real numbers: decided exactly on rationals, or in f64 with a margin far above the
    /// rounding bound.
    #[serde(rename = "ℝ")]
    Real,
    /// IEEE binary32 arithmetic as this crate computes it.
    #[serde(rename = "f32")]
    F32,
    /// IEEE binary64 arithmetic as this crate computes it.
    #[serde(rename = "f64")]
    F64,
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Domain::Real => "ℝ",
            Domain::F32 => "f32",
            Domain::F64 => "f64",
        })
    }
}

/// Whether a reading says something of every case or of some case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Quantifier {
    /// "for every …": a found case is a counterexample.
    ForAll,
    /// "there is …": a found case is a witness.
    Exists,
}

/// What the reading's proof (`proofs/<id>.md`) establishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Expect {
    /// The statement is true.
    Holds,
    /// The statement is false.
    Fails,
}

/// A scalar parameter of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Param {
    /// An integer.
    Int(i64),
    /// The power of two `2^k`.
    Pow2(i64),
}

impl Param {
    /// The integer or exponent stored.
    pub fn raw(self) -> i64 {
        match self {
            Param::Int(v) | Param::Pow2(v) => v,
        }
    }
    /// The value as an `f64`.
    pub fn value(self) -> f64 {
        match self {
            Param::Int(v) => v as f64,
            Param::Pow2(k) => (k as f64).exp2(),
        }
    }
    /// The value as an exact rational.
    pub fn rational(self) -> BigRational {
        match self {
            Param::Int(v) => BigRational::from_integer(BigInt::from(v)),
            Param::Pow2(k) if k >= 0 => BigRational::from_integer(BigInt::from(1) << k as usize),
            Param::Pow2(k) => BigRational::new(BigInt::from(1), BigInt::from(1) << (-k) as usize),
        }
    }
    fn with(self, v: i64) -> Param {
        match self {
            Param::Int(_) => Param::Int(v),
            Param::Pow2(_) => Param::Pow2(v),
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Param::Int(v) => write!(f, "{v}"),
            Param::Pow2(k) => write!(f, "2^{k}"),
        }
    }
}

/// One input of a check: named integer vectors of a common dimension and named scalars.
///
/// Searches run on this integer lattice, so counterexamples shrink to small readable numbers.
/// A reading's test interprets the integers (as logits, token coordinates, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Named vectors, all of the same length.
    pub vectors: Vec<(String, Vec<i64>)>,
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
}

impl Case {
    /// A case with no tokens.
    pub fn new(vectors: Vec<(&str, Vec<i64>)>, params: Vec<(&str, Param)>) -> Case {
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
        }
    }

    /// A case whose vectors after the first `fixed` are tokens `w0, w1, …`.
    pub fn with_tokens(
        fixed: Vec<(&str, Vec<i64>)>,
        tokens: Vec<Vec<i64>>,
        min_tokens: usize,
        params: Vec<(&str, Param)>,
    ) -> Case {
        let mut c = Case::new(fixed, params);
        c.tokens_from = c.vectors.len();
        c.min_tokens = min_tokens;
        for (i, t) in tokens.into_iter().enumerate() {
            c.vectors.push((format!("{}{i}", c.token_prefix), t));
        }
        c
    }

    /// The same case with its tokens named `{prefix}0, {prefix}1, …`.
    pub fn named(mut self, prefix: &'static str) -> Case {
        self.token_prefix = prefix;
        for (k, (n, _)) in self.vectors.iter_mut().enumerate().skip(self.tokens_from) {
            *n = format!("{prefix}{}", k - self.tokens_from);
        }
        self
    }

    /// The vector named `name`.
    pub fn v(&self, name: &str) -> &[i64] {
        &self
            .vectors
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no vector {name}"))
            .1
    }
    /// The parameter named `name`.
    pub fn p(&self, name: &str) -> Param {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .1
    }
    /// The tokens.
    pub fn tokens(&self) -> Vec<&[i64]> {
        self.vectors[self.tokens_from..]
            .iter()
            .map(|(_, v)| v.as_slice())
            .collect()
    }
    /// The common dimension.
    pub fn dim(&self) -> usize {
        self.vectors.first().map_or(0, |(_, v)| v.len())
    }

    /// The ordering key the simplifier decreases: (dimension, tokens, non-zero entries,
    /// Σ|entries|, max|entry|) — fewer dimensions first, then fewer tokens, then zeros, then
    /// smaller integers.
    pub fn complexity(&self) -> (usize, usize, usize, i64, i64) {
        let entries = self
            .vectors
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .chain(self.params.iter().map(|(_, p)| p.raw()));
        let (mut nonzero, mut sum, mut max) = (0usize, 0i64, 0i64);
        for e in entries {
            nonzero += usize::from(e != 0);
            sum = sum.saturating_add(e.abs());
            max = max.max(e.abs());
        }
        (
            self.dim(),
            self.vectors.len() - self.tokens_from,
            nonzero,
            sum,
            max,
        )
    }

    /// Simpler neighbours: drop a coordinate, drop a token, move an entry or a parameter to 0,
    /// ±1, half its value, or one step towards 0.
    pub fn simpler(&self) -> Vec<(String, Case)> {
        let mut out = Vec::new();
        let d = self.dim();
        if d > 1 {
            for j in 0..d {
                let mut c = self.clone();
                c.vectors.iter_mut().for_each(|(_, v)| {
                    v.remove(j);
                });
                out.push((format!("drop coordinate {j}"), c));
            }
        }
        let ntok = self.vectors.len() - self.tokens_from;
        if ntok > self.min_tokens {
            for i in self.tokens_from..self.vectors.len() {
                let mut c = self.clone();
                let name = c.vectors.remove(i).0;
                for (k, (n, _)) in c.vectors.iter_mut().enumerate().skip(c.tokens_from) {
                    *n = format!("{}{}", c.token_prefix, k - c.tokens_from);
                }
                out.push((format!("drop token {name}"), c));
            }
        }
        let towards = |v: i64| {
            let mut t = vec![0, 1, -1, v / 2, v - v.signum()];
            t.retain(|&x| x != v && x.abs() <= v.abs());
            t.dedup();
            t
        };
        for (i, (name, v)) in self.vectors.iter().enumerate() {
            for (j, &e) in v.iter().enumerate() {
                for t in towards(e) {
                    let mut c = self.clone();
                    c.vectors[i].1[j] = t;
                    out.push((format!("{name}[{j}]: {e} → {t}"), c));
                }
            }
        }
        // Translate a whole vector so that one of its entries becomes 0 (keeps differences).
        for (i, (name, v)) in self.vectors.iter().enumerate() {
            for &e in v.iter() {
                if e != 0 {
                    let mut c = self.clone();
                    c.vectors[i].1.iter_mut().for_each(|x| *x -= e);
                    out.push((format!("{name} − {e}·1"), c));
                }
            }
        }
        for (i, (name, p)) in self.params.iter().enumerate() {
            for t in towards(p.raw()) {
                let mut c = self.clone();
                c.params[i].1 = p.with(t);
                out.push((format!("{name}: {p} → {}", p.with(t)), c));
            }
        }
        out
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut parts: Vec<String> = self
            .vectors
            .iter()
            .map(|(k, v)| format!("{k} = {v:?}"))
            .collect();
        parts.extend(self.params.iter().map(|(k, p)| format!("{k} = {p}")));
        f.write_str(&parts.join(", "))
    }
}

/// How a found case was confirmed.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
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
pub enum Outcome {
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

impl Outcome {
    /// A pass with no error.
    pub const EXACT: Outcome = Outcome::Pass {
        error: 0.0,
        bound: 0.0,
    };
}

/// The test of one case.
pub type CaseTest = fn(&Case) -> Outcome;

/// How to search one judgement.
pub struct Check {
    /// ∀ or ∃.
    pub quantifier: Quantifier,
    /// Random cases on an integer lattice.
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
    pub expect: Expect,
    /// The search.
    pub check: Check,
}

impl Judgement {
    /// A judgement with no enumerated cases.
    pub fn new(
        domain: Domain,
        expect: Expect,
        quantifier: Quantifier,
        strategy: fn() -> BoxedStrategy<Case>,
        test: CaseTest,
    ) -> Judgement {
        Judgement {
            domain,
            expect,
            check: Check {
                quantifier,
                strategy,
                enumerate: no_cases,
                test,
            },
        }
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
    /// A reading.
    pub fn new(
        key: &'static str,
        statement: &'static str,
        conditions: &'static str,
        corrected: Option<&'static str>,
        judgements: Vec<Judgement>,
    ) -> Reading {
        Reading {
            key,
            statement,
            conditions,
            corrected,
            judgements,
        }
    }
}

/// A claim of the thread.
pub struct Claim {
    /// The slug (`proofs/<id>.md`).
    pub id: &'static str,
    /// The area (one source and one test file).
    pub area: Area,
    /// The thread's words.
    pub words: &'static str,
    /// Its readings.
    pub readings: Vec<Reading>,
    /// Names of the tests that check it (checked to exist by `tests/proofs.rs`).
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

/// Exact rationals from integers.
pub fn q(v: &[i64]) -> Vec<BigRational> {
    v.iter()
        .map(|&x| BigRational::from_integer(BigInt::from(x)))
        .collect()
}

/// Floats from integers.
pub fn f(v: &[i64]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// Floats of type `T` from integers.
pub fn ft<T: crate::Real>(v: &[i64]) -> Vec<T> {
    v.iter().map(|&x| T::narrow(x as f64)).collect()
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
) -> Outcome {
    let err = lhs
        .iter()
        .zip(rhs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    if err > MARGIN_FACTOR * bound {
        Outcome::Found(Evidence::margin(lhs_label, lhs, rhs_label, rhs, err, bound))
    } else {
        Outcome::Pass { error: err, bound }
    }
}

/// Check the real inequality `lhs ≤ rhs` from f64 evaluations whose error is at most `bound`:
/// found when `lhs` exceeds `rhs` by more than [`MARGIN_FACTOR`] × `bound`; otherwise a pass
/// that records the excess (0 when the inequality holds outright).
pub fn at_most_real(lhs_label: &str, lhs: f64, rhs_label: &str, rhs: f64, bound: f64) -> Outcome {
    let excess = lhs - rhs;
    if excess > MARGIN_FACTOR * bound {
        Outcome::Found(Evidence::margin(
            lhs_label, lhs, rhs_label, rhs, excess, bound,
        ))
    } else {
        Outcome::Pass {
            error: excess.max(0.0),
            bound,
        }
    }
}

/// Compare two evaluations in the arithmetic `domain` itself: found when they differ by more
/// than `bound` (the rounding the statement allows).
pub fn compare_arith<T: crate::Real>(
    domain: Domain,
    lhs_label: &str,
    lhs: &[T],
    rhs_label: &str,
    rhs: &[T],
    bound: f64,
) -> Outcome {
    let err = lhs
        .iter()
        .zip(rhs)
        .map(|(a, b)| (a.widen() - b.widen()).abs())
        .fold(0.0f64, f64::max);
    if err > bound || lhs.iter().chain(rhs).any(|v| v.is_nan()) {
        Outcome::Found(Evidence::arithmetic(domain, lhs_label, lhs, rhs_label, rhs))
    } else {
        Outcome::Pass { error: err, bound }
    }
}

/// The domain of a float type.
pub fn domain_of<T: crate::Real>() -> Domain {
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
    let (pnames, pstrats): (Vec<&'static str>, Vec<BoxedStrategy<Param>>) =
        params.into_iter().unzip();
    (dims, pstrats)
        .prop_flat_map(move |(d, ps)| {
            let pnames = pnames.clone();
            (
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), names.len()),
                Just(ps),
            )
                .prop_map(move |(vs, ps)| {
                    Case::new(
                        names.iter().copied().zip(vs).collect(),
                        pnames.iter().copied().zip(ps).collect(),
                    )
                })
        })
        .boxed()
}

/// Fixed vectors `names` plus `tokens` tokens `w0, w1, …`, all of one dimension.
pub fn with_tokens(
    names: &'static [&'static str],
    tokens: std::ops::RangeInclusive<usize>,
    min_tokens: usize,
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    let (pnames, pstrats): (Vec<&'static str>, Vec<BoxedStrategy<Param>>) =
        params.into_iter().unzip();
    (dims, tokens, pstrats)
        .prop_flat_map(move |(d, v, ps)| {
            let pnames = pnames.clone();
            (
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), names.len()),
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), v),
                Just(ps),
            )
                .prop_map(move |(fixed, toks, ps)| {
                    Case::with_tokens(
                        names.iter().copied().zip(fixed).collect(),
                        toks,
                        min_tokens,
                        pnames.iter().copied().zip(ps).collect(),
                    )
                })
        })
        .boxed()
}

/// An integer parameter in `range`.
pub fn int(range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Param> {
    range.prop_map(Param::Int).boxed()
}

/// A power-of-two parameter `2^k`, `k` in `range`.
pub fn pow2(range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Param> {
    range.prop_map(Param::Pow2).boxed()
}
