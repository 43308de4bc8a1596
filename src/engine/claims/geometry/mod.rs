//! Claims about dot products, cosines, distances and the unembedding (section "Dot product,
//! cosine, distance"). Everything polynomial is decided exactly on rationals; cosines are
//! compared through their signed squares, which are rational.
//!
//! Every comparison that decides a found case goes through [`le`], [`lt`], [`argmax`] and
//! [`argmin`], and a found case asks for strict inequalities, so no evidence rests on a tie.
//!
//! One file per claim (its readings, checks and strategies side by side); this module holds
//! the helpers they share and [`claims`], which lists them in the thread's order.

pub mod alignment_beats_size;
pub mod argmax_dot_scale_invariance;
pub mod argmax_dot_vs_nearest;
pub mod cosine_sign_slip;
pub mod dot_is_not_a_distance;
pub mod dot_law_of_cosines;
pub mod hull_interior_never_top;
pub mod mips_reduction;
pub mod unembed_is_linear;

use super::*;
use crate::kernels::geometry::{
    angle, cosine_similarity, dot, euclidean_distance, norm, squared_distance,
};
use crate::kernels::norms::layer_norm;
use crate::kernels::softmax::softmax;
use crate::kernels::tolerance::{
    COSINE_ULPS, NORM_LAYER_ULPS, NORM_ULPS, SOFTMAX_ULPS, relative, ulp,
};
use crate::kernels::unembed::logits;
use nalgebra::DMatrix;
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

type Q = BigRational;

/// The tokens of a case as exact rationals.
fn tokens_q(c: &Case) -> Vec<Vec<Q>> {
    c.tokens().iter().map(|t| q(t)).collect()
}

/// The logits x·wᵢ, exactly.
fn scores(x: &[Q], ts: &[Vec<Q>]) -> Vec<Q> {
    ts.iter().map(|w| dot(x, w)).collect()
}

/// The squared distances |x − wᵢ|², exactly.
fn sq_dists(x: &[Q], ts: &[Vec<Q>]) -> Vec<Q> {
    ts.iter().map(|w| squared_distance(x, w)).collect()
}

/// The index of the largest score when every other score is strictly smaller.
fn unique_argmax(s: &[Q]) -> Option<usize> {
    let i = argmax(s);
    (0..s.len())
        .all(|j| j == i || lt(&s[j], &s[i]))
        .then_some(i)
}

/// The index of the smallest score when every other score is strictly larger.
fn unique_argmin(s: &[Q]) -> Option<usize> {
    let i = argmin(s);
    (0..s.len())
        .all(|j| j == i || lt(&s[i], &s[j]))
        .then_some(i)
}

fn is_zero(v: &[Q]) -> bool {
    v.iter().all(Zero::is_zero)
}

/// cos(x, w)·|cos(x, w)| = (x·w)|x·w| / (|x|²|w|²): rational, and ordered as cos(x, w) is.
/// `None` when x or w is 0.
fn cos_key(x: &[Q], w: &[Q]) -> Option<Q> {
    let p = dot(x, x) * dot(w, w);
    if p.is_zero() {
        return None;
    }
    let xw = dot(x, w);
    Some(xw.clone() * xw.abs() / p)
}

/// The largest `s` with `s² | m` (trial division; `m` is small on the lattices searched).
fn square_part(m: u64) -> u64 {
    let (mut s, mut rest, mut k) = (1u64, m, 2u64);
    while k * k <= rest {
        while rest % (k * k) == 0 {
            rest /= k * k;
            s *= k;
        }
        k += 1;
    }
    s
}

/// cos(x, w) as the reader sees it: exact (`1`, `-1/2`, `2/√5 ≈ 0.894`). x, w ≠ 0.
fn show_cos(x: &[Q], w: &[Q]) -> String {
    let a = dot(x, w);
    let p = dot(x, x) * dot(w, w);
    let approx = a.to_f64().unwrap_or(f64::NAN) / p.to_f64().unwrap_or(f64::NAN).sqrt();
    // a/√(n/d) = a·d/√(n·d); n·d = s²·r with r square-free: cos = (a·d/s)/√r.
    let m = p.numer() * p.denom();
    let Some(m) = m.to_u64().filter(|&m| m < 1 << 40) else {
        return format!("{approx:.3}");
    };
    let s = square_part(m);
    let r = m / (s * s);
    let k = a * Q::from_integer(p.denom().clone()) / Q::from_integer(BigInt::from(s));
    if r == 1 {
        return k.to_string();
    }
    let sign = if k.is_negative() { "-" } else { "" };
    let (u, v) = (k.numer().abs(), k.denom().clone());
    let body = if v == BigInt::from(1) {
        format!("{u}/√{r}")
    } else {
        format!("{u}/({v}√{r})")
    };
    format!("{sign}{body} ≈ {approx:.3}")
}

/// The cosines cos(x, wᵢ) as the reader sees them.
fn show_cosines(x: &[Q], ts: &[Vec<Q>]) -> String {
    let parts: Vec<String> = ts.iter().map(|w| show_cos(x, w)).collect();
    format!("[{}]", parts.join(", "))
}

/// A token's name.
fn w(i: usize) -> String {
    format!("w{i}")
}

/// An outcome of an f64 evaluation with its values shown as the reader sees them (`1`, `[2]`,
/// not `1.0`, `[2.0]`).
fn readable(o: CaseOutcome, lhs: String, rhs: String) -> CaseOutcome {
    match o {
        CaseOutcome::Found(mut e) => {
            e.lhs = lhs;
            e.rhs = rhs;
            CaseOutcome::Found(e)
        }
        o => o,
    }
}

fn num(x: f64) -> String {
    show_num(x, Values::F64)
}

fn vec64(v: &[f64]) -> String {
    show_vec(v, Values::F64)
}

fn equal_norms(ts: &[Vec<Q>]) -> bool {
    let n0 = dot(&ts[0], &ts[0]);
    ts.iter().all(|t| dot(t, t) == n0)
}

/// Equal-norm tokens: w1 is a signed permutation of w0.
fn equal_norm_pair(dims: std::ops::RangeInclusive<usize>) -> BoxedStrategy<Case> {
    (dims, any::<u64>())
        .prop_flat_map(|(d, seed)| {
            (
                proptest::collection::vec(-4i64..=4, d),
                proptest::collection::vec(-4i64..=4, d),
            )
                .prop_map(move |(x, w0)| {
                    let mut w1 = w0.clone();
                    let mut s = seed;
                    for i in (1..w1.len()).rev() {
                        w1.swap(i, (s % (i as u64 + 1)) as usize);
                        s /= 7;
                    }
                    for v in w1.iter_mut() {
                        if s % 2 == 1 {
                            *v = -*v;
                        }
                        s /= 2;
                    }
                    Case::with_tokens(vec![("x", x)], vec![w0, w1], 2, vec![])
                })
        })
        .boxed()
}

/// "w0 (logits [2, 1])": a winner with the scores that made it.
fn winner(i: usize, what: &str, s: &[Q]) -> String {
    format!("{} ({what} {})", w(i), show_q(s))
}

/// Two rules' picks compared: found when `differ`, each pick shown as its rule, its token and
/// the scores it was picked by — a pick is `(rule, token, what the scores are, scores)`. The
/// caller decides what counts as a difference, strictly, so that no evidence rests on a tie.
fn picks_differ(
    differ: bool,
    (rule_a, a, by_a, scores_a): (impl Into<String>, usize, &str, &[Q]),
    (rule_b, b, by_b, scores_b): (impl Into<String>, usize, &str, &[Q]),
) -> CaseOutcome {
    if differ {
        CaseOutcome::Found(Evidence::exact(
            rule_a,
            winner(a, by_a, scores_a),
            rule_b,
            winner(b, by_b, scores_b),
        ))
    } else {
        CaseOutcome::Exact
    }
}

/// argmax-dot's pick for [`picks_differ`]: token `i`, by the logits `l`.
fn by_logits(i: usize, l: &[Q]) -> (&'static str, usize, &'static str, &[Q]) {
    ("argmax_i x·wᵢ", i, "logits", l)
}

/// The nearest token's pick for [`picks_differ`]: token `i`, by the squared distances `d2`.
fn by_distance(i: usize, d2: &[Q]) -> (&'static str, usize, &'static str, &[Q]) {
    ("argmin_i |x − wᵢ|", i, "squared distances", d2)
}

fn xs_tokens(
    names: &'static [&'static str],
    v: std::ops::RangeInclusive<usize>,
    min: usize,
    d: std::ops::RangeInclusive<usize>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    with_tokens(names, v, min, d, -4..=4, params)
}

/// The claims about dot products, cosines, distances and the unembedding.
pub fn claims() -> Vec<Claim> {
    vec![
        dot_law_of_cosines::claim(),
        dot_is_not_a_distance::claim(),
        cosine_sign_slip::claim(),
        alignment_beats_size::claim(),
        argmax_dot_vs_nearest::claim(),
        argmax_dot_scale_invariance::claim(),
        mips_reduction::claim(),
        hull_interior_never_top::claim(),
        unembed_is_linear::claim(),
    ]
}
