//! Claims about dot products, cosines, distances and the unembedding (section "Dot product,
//! cosine, distance"). Everything polynomial is decided exactly on rationals; cosines are
//! compared through their signed squares, which are rational.
//!
//! Every comparison that decides a found case goes through [`le`], [`lt`], [`argmax`] and
//! [`argmin`], and a found case asks for strict inequalities, so no evidence rests on a tie.

use super::*;
use crate::geometry::{angle, cosine_similarity, dot, euclidean_distance, norm, squared_distance};
use crate::norms::layer_norm;
use crate::softmax::softmax;
use crate::tolerance::{COSINE_ULPS, NORM_LAYER_ULPS, NORM_ULPS, SOFTMAX_ULPS, relative, ulp};
use crate::unembed::logits;
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

fn nonzero(v: &[f64]) -> bool {
    v.iter().any(|&e| e != 0.0)
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
fn readable(o: Outcome, lhs: String, rhs: String) -> Outcome {
    match o {
        Outcome::Found(mut e) => {
            e.lhs = lhs;
            e.rhs = rhs;
            Outcome::Found(e)
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

// ---- dot-law-of-cosines ------------------------------------------------------------------

fn law_of_cosines(c: &Case) -> Outcome {
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    if !nonzero(&x) || !nonzero(&y) {
        return Outcome::Skip;
    }
    let lhs = dot(&x, &y);
    let (nx, ny) = (norm(&x), norm(&y));
    let rhs = nx * ny * angle(&x, &y).unwrap().cos();
    // cos θ from Kahan's angle: |Δθ| ≤ a few ulps of π; |Δcos| ≤ |Δθ|.
    let bound =
        nx * ny * (relative::<f64>(2 * NORM_ULPS + 2) + 8.0 * f64::EPSILON * std::f64::consts::PI);
    readable(
        compare_real("x·y", &[lhs], "|x||y| cos θ", &[rhs], bound),
        num(lhs),
        num(rhs),
    )
}

fn polarization(c: &Case) -> Outcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    let lhs = squared_distance(&x, &y);
    let rhs = dot(&x, &x) + dot(&y, &y) - exact(2.0) * dot(&x, &y);
    exact_eq("|x − y|²", &lhs, "|x|² + |y|² − 2x·y", &rhs, Q::to_string)
}

// ---- dot-is-not-a-distance ---------------------------------------------------------------

fn dot_identity(c: &Case) -> Outcome {
    let x = q(c.v("x"));
    let d = dot(&x, &x);
    exact_eq(
        "d(x, x) = x·x",
        &d,
        "d(x, x) according to the statement",
        &Q::zero(),
        Q::to_string,
    )
}

fn dot_nonnegative(c: &Case) -> Outcome {
    let d = dot(&q(c.v("x")), &q(c.v("y")));
    if lt(&d, &Q::zero()) {
        Outcome::Found(Evidence::exact(
            "d(x, y) = x·y",
            d,
            "lower bound on d(x, y) according to the statement",
            0,
        ))
    } else {
        Outcome::Exact
    }
}

fn dot_symmetric(c: &Case) -> Outcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    exact_eq("x·y", &dot(&x, &y), "y·x", &dot(&y, &x), Q::to_string)
}

fn dot_triangle(c: &Case) -> Outcome {
    let (x, y, z) = (q(c.v("x")), q(c.v("y")), q(c.v("z")));
    let (xz, xy, yz) = (dot(&x, &z), dot(&x, &y), dot(&y, &z));
    let rhs = xy.clone() + yz.clone();
    if lt(&rhs, &xz) {
        Outcome::Found(Evidence::exact(
            "d(x, z) = x·z",
            xz,
            format!("d(x, y) + d(y, z) = x·y + y·z = {xy} + {yz}"),
            rhs,
        ))
    } else {
        Outcome::Exact
    }
}

fn one_minus_cos(a: &[f64], b: &[f64]) -> f64 {
    1.0 - cosine_similarity(a, b).unwrap()
}

fn cosine_triangle(c: &Case) -> Outcome {
    if !nonzero(c.v("x")) || !nonzero(c.v("y")) || !nonzero(c.v("z")) {
        return Outcome::Skip;
    }
    let (x, y, z) = (f(c.v("x")), f(c.v("y")), f(c.v("z")));
    let lhs = one_minus_cos(&x, &z);
    let (xy, yz) = (one_minus_cos(&x, &y), one_minus_cos(&y, &z));
    let rhs = xy + yz;
    let bound = 3.0 * relative::<f64>(COSINE_ULPS + 1);
    readable(
        at_most_real(
            "1 − cos(x, z)",
            lhs,
            &format!(
                "(1 − cos(x, y)) + (1 − cos(y, z)) = {} + {}",
                num(xy),
                num(yz)
            ),
            rhs,
            bound,
        ),
        num(lhs),
        num(rhs),
    )
}

fn unit(v: &[f64]) -> Vec<f64> {
    let n = norm(v);
    v.iter().map(|a| a / n).collect()
}

fn chord_triangle(c: &Case) -> Outcome {
    if !nonzero(c.v("x")) || !nonzero(c.v("y")) || !nonzero(c.v("z")) {
        return Outcome::Skip;
    }
    let (x, y, z) = (unit(&f(c.v("x"))), unit(&f(c.v("y"))), unit(&f(c.v("z"))));
    let d = |a: &[f64], b: &[f64]| euclidean_distance(a, b);
    let (lhs, rhs) = (d(&x, &z), d(&x, &y) + d(&y, &z));
    let bound = 8.0 * relative::<f64>(NORM_ULPS + 2);
    readable(
        at_most_real("|x̂ − ẑ|", lhs, "|x̂ − ŷ| + |ŷ − ẑ|", rhs, bound),
        num(lhs),
        num(rhs),
    )
}

fn chord_identity(c: &Case) -> Outcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    if is_zero(&x) || is_zero(&y) {
        return Outcome::Skip;
    }
    // x̂ = ŷ exactly: x·y > 0 and (x·y)² = |x|²|y|².
    let xy = dot(&x, &y);
    let p = dot(&x, &x) * dot(&y, &y);
    if lt(&Q::zero(), &xy) && xy.clone() * xy.clone() == p && x != y {
        let diff: Vec<f64> = c.v("x").iter().zip(c.v("y")).map(|(a, b)| a - b).collect();
        Outcome::Found(Evidence::exact(
            format!("|x̂ − ŷ| (x̂ = ŷ: x·y = {xy} > 0 and (x·y)² = |x|²|y|² = {p})"),
            0,
            "x − y",
            show_vec(&diff, c.values),
        ))
    } else {
        Outcome::Exact
    }
}

fn self_is_top(c: &Case) -> Outcome {
    let ts = tokens_q(c);
    let l = scores(&ts[0], &ts);
    let j = argmax(&l);
    if lt(&l[0], &l[j]) {
        Outcome::Found(Evidence::exact(
            format!("x·{}", w(j)),
            &l[j],
            "x·x (x = w0)",
            &l[0],
        ))
    } else {
        Outcome::Exact
    }
}

// ---- cosine-sign-slip, alignment-beats-size ----------------------------------------------

fn equal_norms(ts: &[Vec<Q>]) -> bool {
    let n0 = dot(&ts[0], &ts[0]);
    ts.iter().all(|t| dot(t, t) == n0)
}

/// Two tokens of equal norm with different cosines: as written, the token with the smaller
/// cosine has the bigger logit; intended, the one with the larger cosine.
fn slip(c: &Case, as_written: bool) -> Outcome {
    let x = q(c.v("x"));
    let ts = tokens_q(c);
    if !equal_norms(&ts) {
        return Outcome::Skip;
    }
    let (Some(k0), Some(k1)) = (cos_key(&x, &ts[0]), cos_key(&x, &ts[1])) else {
        return Outcome::Skip;
    };
    if k0 == k1 {
        return Outcome::Skip; // equal cosines: the premise says nothing
    }
    let (lo, hi) = if lt(&k0, &k1) { (0, 1) } else { (1, 0) };
    let l = scores(&x, &ts);
    // The statement's token: the smaller cosine as written, the larger as intended.
    let (mine, other, which) = if as_written {
        (lo, hi, "smaller")
    } else {
        (hi, lo, "larger")
    };
    if lt(&l[mine], &l[other]) {
        Outcome::Found(Evidence::exact(
            format!(
                "x·{} (cos(x, {}) = {}, the {which} cosine)",
                w(mine),
                w(mine),
                show_cos(&x, &ts[mine])
            ),
            &l[mine],
            format!(
                "x·{} (cos(x, {}) = {})",
                w(other),
                w(other),
                show_cos(&x, &ts[other])
            ),
            &l[other],
        ))
    } else {
        Outcome::Exact
    }
}

fn slip_as_written(c: &Case) -> Outcome {
    slip(c, true)
}
fn slip_intended(c: &Case) -> Outcome {
    slip(c, false)
}

/// cos(x, w1) > cos(x, w2) ⇒ x·w1 > x·w2, for tokens of different norms.
fn alignment(c: &Case) -> Outcome {
    let (x, w1, w2) = (q(c.v("x")), q(c.v("w1")), q(c.v("w2")));
    let (Some(k1), Some(k2)) = (cos_key(&x, &w1), cos_key(&x, &w2)) else {
        return Outcome::Skip;
    };
    if dot(&w1, &w1) == dot(&w2, &w2) || !lt(&k2, &k1) {
        return Outcome::Skip;
    }
    let (l1, l2) = (dot(&x, &w1), dot(&x, &w2));
    if lt(&l1, &l2) {
        Outcome::Found(Evidence::exact(
            format!(
                "x·w1 (cos(x, w1) = {}, the larger cosine)",
                show_cos(&x, &w1)
            ),
            l1,
            format!("x·w2 (cos(x, w2) = {})", show_cos(&x, &w2)),
            l2,
        ))
    } else {
        Outcome::Exact
    }
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

// ---- argmax-dot-vs-nearest ---------------------------------------------------------------

/// "w0 (logits [2, 1])": a winner with the scores that made it.
fn winner(i: usize, what: &str, s: &[Q]) -> String {
    format!("{} ({what} {})", w(i), show_q(s))
}

fn dot_vs_nearest(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let (l, d2) = (scores(&x, &ts), sq_dists(&x, &ts));
    match (unique_argmax(&l), unique_argmin(&d2)) {
        (Some(a), Some(n)) if a != n => Outcome::Found(Evidence::exact(
            "argmax_i x·wᵢ",
            winner(a, "logits", &l),
            "argmin_i |x − wᵢ|",
            winner(n, "squared distances", &d2),
        )),
        _ => Outcome::Exact,
    }
}

/// Every configuration with d = 1, then 2; V = 2, then 3; entries in [−m, m] for m = 1, 2, 3 —
/// in that order (and by complexity within each block), so the first witness is the smallest
/// in the reading's order (dimensions, tokens, then the largest |entry|). Produced lazily,
/// block by block.
fn enumerate_small() -> Box<dyn Iterator<Item = Case>> {
    let blocks = (1..=2usize)
        .flat_map(|d| (2..=3usize).flat_map(move |v| (1..=3i64).map(move |m| (d, v, m))));
    Box::new(blocks.flat_map(|(d, v, m)| {
        let n = d * (v + 1);
        let total = (2 * m + 1).pow(n as u32);
        let mut batch: Vec<Case> = Vec::new();
        for code in 0..total {
            let mut k = code;
            let mut vals = Vec::with_capacity(n);
            for _ in 0..n {
                // digits 0, 1, 2, 3, 4, … ↦ 0, 1, −1, 2, −2, …: positives first among equals
                let digit = k % (2 * m + 1);
                vals.push(if digit % 2 == 1 {
                    (digit + 1) / 2
                } else {
                    -(digit / 2)
                });
                k /= 2 * m + 1;
            }
            if vals.iter().all(|e| e.abs() < m) {
                continue; // already enumerated with a smaller m
            }
            let x = vals[..d].to_vec();
            let toks: Vec<Vec<i64>> = vals[d..].chunks(d).map(|c| c.to_vec()).collect();
            batch.push(Case::with_tokens(vec![("x", x)], toks, 2, vec![]));
        }
        batch.sort_by(|a, b| {
            a.complexity()
                .partial_cmp(&b.complexity())
                .expect("lattice cases have finite sizes")
        });
        batch
    }))
}

fn agree_equal_norms(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    if !equal_norms(&ts) {
        return Outcome::Skip;
    }
    let (l, d2) = (scores(&x, &ts), sq_dists(&x, &ts));
    let (a, n) = (argmax(&l), argmin(&d2));
    // A disagreement counts only when strict: the nearest token's logit is below the top one.
    if lt(&l[n], &l[a]) {
        Outcome::Found(Evidence::exact(
            "argmax_i x·wᵢ",
            winner(a, "logits", &l),
            "argmin_i |x − wᵢ|",
            winner(n, "squared distances", &d2),
        ))
    } else {
        Outcome::Exact
    }
}

/// Two distinct tokens of different norm: on the line x(s) = w0 + s(w1 − w0) the logits tie
/// where f(s) = x(s)·(w0 − w1) = 0 and the distances tie where f(s) = (|w0|² − |w1|²)/2; the
/// point where f is halfway between gets different answers, both strict.
fn unequal_norms_disagree(c: &Case) -> Outcome {
    let ts = tokens_q(c);
    let (a, b) = (&ts[0], &ts[1]);
    let (na, nb) = (dot(a, a), dot(b, b));
    if a == b || na == nb {
        return Outcome::Skip;
    }
    // f(s) = (a + s(b − a))·(a − b) is linear: f(0) = |a|² − a·b, f(1) = a·b − |b|².
    let (f0, f1) = (na.clone() - dot(a, b), dot(a, b) - nb.clone());
    let target = (na.clone() - nb.clone()) / exact(4.0); // halfway between 0 and (|a|² − |b|²)/2
    let s = (f0.clone() - target) / (f0 - f1);
    let x: Vec<Q> = a
        .iter()
        .zip(b)
        .map(|(p, r)| p + s.clone() * (r - p))
        .collect();
    let (l, d2) = (scores(&x, &ts), sq_dists(&x, &ts));
    match (unique_argmax(&l), unique_argmin(&d2)) {
        (Some(p), Some(r)) if p != r => Outcome::Exact,
        _ => Outcome::Found(Evidence::exact(
            "|w0|²",
            na,
            format!(
                "|w1|² (different, yet x = {} gets the same answer from both rules)",
                show_q(&x)
            ),
            nb,
        )),
    }
}

fn nearest_is_biased_argmax(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let half = Q::new(1.into(), 2.into());
    let biased: Vec<Q> = ts
        .iter()
        .map(|t| dot(&x, t) - half.clone() * dot(t, t))
        .collect();
    let d2 = sq_dists(&x, &ts);
    let (n, b) = (argmin(&d2), argmax(&biased));
    if n == b {
        Outcome::Exact
    } else {
        Outcome::Found(Evidence::exact(
            "argmin_i |x − wᵢ|",
            winner(n, "squared distances", &d2),
            "argmax_i (x·wᵢ − |wᵢ|²/2)",
            winner(b, "scores", &biased),
        ))
    }
}

/// argmax cosine against argmax dot: found when the top-cosine token is strictly beaten in
/// logit by the top-logit token, which has a strictly smaller cosine.
fn cos_vs_dot(c: &Case, need_equal: bool) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    if need_equal && !equal_norms(&ts) {
        return Outcome::Skip;
    }
    let Some(keys) = ts
        .iter()
        .map(|t| cos_key(&x, t))
        .collect::<Option<Vec<Q>>>()
    else {
        return Outcome::Skip;
    };
    let l = scores(&x, &ts);
    let (a, b) = (argmax(&keys), argmax(&l));
    if lt(&keys[b], &keys[a]) && lt(&l[a], &l[b]) {
        Outcome::Found(Evidence::exact(
            "argmax_i cos(x, wᵢ)",
            format!("{} (cosines {})", w(a), show_cosines(&x, &ts)),
            "argmax_i x·wᵢ",
            winner(b, "logits", &l),
        ))
    } else {
        Outcome::Exact
    }
}
fn cos_vs_dot_equal(c: &Case) -> Outcome {
    cos_vs_dot(c, true)
}
fn cos_vs_dot_general(c: &Case) -> Outcome {
    cos_vs_dot(c, false)
}

// ---- argmax-dot-scale-invariance ---------------------------------------------------------

fn scaled(a: &Q, x: &[Q]) -> Vec<Q> {
    x.iter().map(|v| a.clone() * v).collect()
}

fn scale_invariant_argmax(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let a = c.p("α").rational();
    if !lt(&Q::zero(), &a) {
        return Outcome::Skip;
    }
    let (la, l) = (scores(&scaled(&a, &x), &ts), scores(&x, &ts));
    let (p, r) = (argmax(&la), argmax(&l));
    // A change counts only when strict: the top token at α·x is below the top one at x.
    if lt(&l[p], &l[r]) {
        Outcome::Found(Evidence::exact(
            "argmax_i (α·x)·wᵢ",
            winner(p, "logits", &la),
            "argmax_i x·wᵢ",
            winner(r, "logits", &l),
        ))
    } else {
        Outcome::Exact
    }
}

fn nearest_changes(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let a = c.p("α").rational();
    if !lt(&Q::zero(), &a) {
        return Outcome::Skip;
    }
    let ax = scaled(&a, &x);
    let (da, d) = (sq_dists(&ax, &ts), sq_dists(&x, &ts));
    match (unique_argmin(&da), unique_argmin(&d)) {
        (Some(p), Some(r)) if p != r => Outcome::Found(Evidence::exact(
            format!("nearest token to α·x (α·x = {})", show_q(&ax)),
            winner(p, "squared distances", &da),
            "nearest token to x",
            winner(r, "squared distances", &d),
        )),
        _ => Outcome::Exact,
    }
}

fn scale_limits(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let l = scores(&x, &ts);
    let norms: Vec<Q> = ts.iter().map(|v| dot(v, v)).collect();
    // t → ∞: above t* = max_j (|w_k|² − |w_j|²) / (2(x·w_k − x·w_j)), nearest(t·x) = k.
    if let Some(k) = unique_argmax(&l) {
        let mut tstar = Q::zero();
        for j in (0..ts.len()).filter(|&j| j != k) {
            let v = (norms[k].clone() - norms[j].clone())
                / (exact(2.0) * (l[k].clone() - l[j].clone()));
            if v > tstar {
                tstar = v;
            }
        }
        let big = tstar + exact(1.0);
        let d = sq_dists(&scaled(&big, &x), &ts);
        let n = argmin(&d);
        if lt(&d[n], &d[k]) {
            return Outcome::Found(Evidence::exact(
                format!("nearest token to t·x, t = {big}"),
                winner(n, "squared distances", &d),
                "argmax_i x·wᵢ",
                winner(k, "logits", &l),
            ));
        }
    }
    // t → 0⁺: for t < 1/(8(1 + max|x·wⱼ|)), nearest(t·x) has the smallest norm.
    let m = l.iter().map(|v| v.abs()).max().unwrap_or_else(Q::zero);
    let small = Q::new(1.into(), 8.into()) / (exact(1.0) + m);
    let d = sq_dists(&scaled(&small, &x), &ts);
    let n = argmin(&d);
    let min = &norms[argmin(&norms)];
    if lt(min, &norms[n]) {
        return Outcome::Found(Evidence::exact(
            format!("|nearest token to t·x|², t = {small}"),
            &norms[n],
            "min_j |wⱼ|²",
            min,
        ));
    }
    Outcome::Exact
}

// ---- mips-reduction ----------------------------------------------------------------------

fn mips(c: &Case) -> Outcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let extra = c.p("M² − max|wᵢ|²").rational();
    if extra.is_negative() {
        return Outcome::Skip; // M² ≥ max |wᵢ|² is a condition of the reading
    }
    let m2 = ts.iter().map(|v| dot(v, v)).max().unwrap() + extra;
    // |x' − w'ᵢ|² = |x − wᵢ|² + (0 − √(M² − |wᵢ|²))² = |x − wᵢ|² + M² − |wᵢ|², exactly.
    let d2: Vec<Q> = ts
        .iter()
        .map(|v| squared_distance(&x, v) + m2.clone() - dot(v, v))
        .collect();
    let l = scores(&x, &ts);
    let (n, a) = (argmin(&d2), argmax(&l));
    if n == a {
        Outcome::Exact
    } else {
        Outcome::Found(Evidence::exact(
            "argmin_i |x' − w'ᵢ|",
            winner(n, "squared distances", &d2),
            "argmax_i x·wᵢ",
            winner(a, "logits", &l),
        ))
    }
}

// ---- hull-interior-never-top -------------------------------------------------------------

/// Token 0 is Σλᵢ·uᵢ over the outer tokens u scaled by L = Σλ (so all stay integers):
/// w0 = Σλᵢuᵢ, wᵢ = L·uᵢ; every λᵢ ≥ 1, so w0 is strictly inside the hull of the others.
fn hull_case(with_bias: bool) -> BoxedStrategy<Case> {
    (1usize..=3, 1i64..=3, 1i64..=3, 1i64..=3)
        .prop_flat_map(move |(d, l0, l1, l2)| {
            let dd = d + usize::from(with_bias);
            (
                proptest::collection::vec(-4i64..=4, d),
                proptest::collection::vec(proptest::collection::vec(-4i64..=4, dd), 3),
            )
                .prop_map(move |(x, us)| {
                    let lam = [l0, l1, l2];
                    let big: i64 = lam.iter().sum();
                    let inner: Vec<i64> = (0..dd)
                        .map(|r| (0..3).map(|i| lam[i] * us[i][r]).sum())
                        .collect();
                    let mut toks = vec![inner];
                    toks.extend(
                        us.iter()
                            .map(|u| u.iter().map(|v| v * big).collect::<Vec<_>>()),
                    );
                    let mut xx = x.clone();
                    if with_bias {
                        xx.push(1);
                    }
                    Case::with_tokens(
                        vec![("x", xx)],
                        toks,
                        4,
                        vec![
                            ("λ0", Param::Int(l0)),
                            ("λ1", Param::Int(l1)),
                            ("λ2", Param::Int(l2)),
                        ],
                    )
                })
        })
        .boxed()
}

fn is_interior(c: &Case) -> bool {
    let t = c.int_tokens();
    let lam: Vec<i64> = (0..3).map(|i| c.p(&format!("λ{i}")).raw()).collect();
    let big: i64 = lam.iter().sum();
    lam.iter().all(|&l| l >= 1)
        && (0..t[0].len())
            .all(|r| t[0][r] * big == (0..3).map(|i| lam[i] * t[i + 1][r]).sum::<i64>())
}

fn hull(c: &Case, with_bias: bool) -> Outcome {
    if !is_interior(c) {
        return Outcome::Skip;
    }
    let mut x = q(c.v("x"));
    if with_bias {
        // the last coordinate of each token is its bias; the query's is fixed to 1.
        *x.last_mut().unwrap() = exact(1.0);
    }
    let ts = tokens_q(c);
    let l = scores(&x, &ts);
    if unique_argmax(&l) == Some(0) {
        let other = argmax(&l[1..]) + 1;
        return Outcome::Found(Evidence::exact(
            "x·w0, the logit of the interior token",
            &l[0],
            format!("the largest other logit, x·{}", w(other)),
            &l[other],
        ));
    }
    if !with_bias {
        let d = sq_dists(&ts[0], &ts);
        let n = argmin(&d);
        if lt(&d[n], &d[0]) {
            return Outcome::Found(Evidence::exact(
                "nearest token to w0",
                winner(n, "squared distances", &d),
                "|w0 − w0|²",
                0,
            ));
        }
    }
    Outcome::Exact
}
fn hull_plain(c: &Case) -> Outcome {
    hull(c, false)
}
fn hull_bias(c: &Case) -> Outcome {
    hull(c, true)
}

// ---- unembed-is-linear -------------------------------------------------------------------

fn unembed_linear(c: &Case) -> Outcome {
    let (x, y, ts) = (q(c.v("x")), q(c.v("y")), tokens_q(c));
    let (a, b) = (c.p("α").rational(), c.p("β").rational());
    let comb: Vec<Q> = x
        .iter()
        .zip(&y)
        .map(|(u, v)| a.clone() * u + b.clone() * v)
        .collect();
    let lhs = scores(&comb, &ts);
    let rhs: Vec<Q> = scores(&x, &ts)
        .into_iter()
        .zip(scores(&y, &ts))
        .map(|(u, v)| a.clone() * u + b.clone() * v)
        .collect();
    exact_eq("W(αx + βy)", &lhs, "αWx + βWy", &rhs, |v| show_q(v))
}

fn wf(c: &Case) -> DMatrix<f64> {
    let t = c.tokens();
    DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r])
}

fn ln0(v: &[f64]) -> Vec<f64> {
    layer_norm(v, 0.0, None, None)
}

/// Whether every entry is the same (LayerNorm with ε = 0 divides 0 by 0 there).
fn constant(v: &[f64]) -> bool {
    v.iter().all(|&e| e == v[0])
}

fn through_layernorm(c: &Case) -> Outcome {
    let w = wf(c);
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    let xy: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    if constant(&x) || constant(&y) || constant(&xy) {
        return Outcome::Skip;
    }
    let lhs = logits(&w, &ln0(&xy));
    let rhs: Vec<f64> = logits(&w, &ln0(&x))
        .into_iter()
        .zip(logits(&w, &ln0(&y)))
        .map(|(a, b)| a + b)
        .collect();
    let scale = w.iter().map(|v| v.abs()).sum::<f64>() * (x.len() as f64).sqrt();
    readable(
        compare_real(
            &format!("W·LN(x + y) (LN(x + y) = {})", vec64(&ln0(&xy))),
            &lhs,
            &format!(
                "W·LN(x) + W·LN(y) (LN(x) = {}, LN(y) = {})",
                vec64(&ln0(&x)),
                vec64(&ln0(&y))
            ),
            &rhs,
            3.0 * scale * relative::<f64>(NORM_LAYER_ULPS + 2),
        ),
        vec64(&lhs),
        vec64(&rhs),
    )
}

fn to_probabilities(c: &Case) -> Outcome {
    let w = wf(c);
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    let xy: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    let lhs = softmax(&logits(&w, &xy));
    let rhs: Vec<f64> = softmax(&logits(&w, &x))
        .into_iter()
        .zip(softmax(&logits(&w, &y)))
        .map(|(a, b)| a + b)
        .collect();
    readable(
        compare_real(
            "softmax(W(x + y))",
            &lhs,
            "softmax(Wx) + softmax(Wy)",
            &rhs,
            3.0 * relative::<f64>(SOFTMAX_ULPS) + ulp(0.0f64),
        ),
        vec64(&lhs),
        vec64(&rhs),
    )
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

use Expect::{Fails, Holds};
use Quantifier::{Exists, ForAll};

/// The claims about dot products, cosines, distances and the unembedding.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "dot-law-of-cosines",
            area: Area::Geometry,
            words: "d(x1,x2)=x1⋅x2=|x1||x2|cosθ12",
            readings: vec![
                Reading::new(
                    "a",
                    "x·y = |x||y| cos θ, θ the angle between x and y.",
                    "x, y ≠ 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x", "y"], 1..=6, -9..=9, vec![]),
                        law_of_cosines,
                    )],
                ),
                Reading::new(
                    "b",
                    "|x − y|² = |x|² + |y|² − 2 x·y.",
                    "none",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x", "y"], 1..=8, -20..=20, vec![]),
                        polarization,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::polarization_exact",
                "claims_geometry::law_of_cosines_f32",
                "claims_geometry::law_of_cosines_f64",
            ],
        },
        Claim {
            id: "dot-is-not-a-distance",
            area: Area::Geometry,
            words: "the actual \"distance\" used for calculating logits looks like this: d(x1,x2)=x1⋅x2",
            readings: vec![
                Reading::new(
                    "a1",
                    "For d(x, y) = x·y: d(x, x) = 0.",
                    "none",
                    Some("d(x, x) = |x|², which is 0 only for x = 0."),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x"], 1..=4, -5..=5, vec![]),
                        dot_identity,
                    )],
                ),
                Reading::new(
                    "a2",
                    "For d(x, y) = x·y: d(x, y) ≥ 0.",
                    "none",
                    Some("x·y < 0 whenever the angle exceeds 90°."),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x", "y"], 1..=4, -5..=5, vec![]),
                        dot_nonnegative,
                    )],
                ),
                Reading::new(
                    "a3",
                    "For d(x, y) = x·y: d(x, y) = d(y, x).",
                    "none",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x", "y"], 1..=6, -9..=9, vec![]),
                        dot_symmetric,
                    )],
                ),
                Reading::new(
                    "a4",
                    "For d(x, y) = x·y: d(x, z) ≤ d(x, y) + d(y, z).",
                    "none",
                    Some(
                        "No triangle inequality; the dot product is a similarity, not a distance (the Euclidean distance |x − y| is the metric).",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x", "y", "z"], 1..=4, -5..=5, vec![]),
                        dot_triangle,
                    )],
                ),
                Reading::new(
                    "b1",
                    "d(x, y) = 1 − cos θ satisfies the triangle inequality.",
                    "x, y, z ≠ 0",
                    Some(
                        "1 − cos θ = |x̂ − ŷ|²/2 is a squared metric; its square root (the chord, up to √2) satisfies the triangle inequality.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x", "y", "z"], 2..=3, -3..=3, vec![]),
                        cosine_triangle,
                    )],
                ),
                Reading::new(
                    "b2",
                    "The chord distance |x̂ − ŷ| satisfies the triangle inequality.",
                    "x, y, z ≠ 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x", "y", "z"], 1..=5, -9..=9, vec![]),
                        chord_triangle,
                    )],
                ),
                Reading::new(
                    "b3",
                    "The chord distance is a metric on vectors: |x̂ − ŷ| = 0 ⇒ x = y.",
                    "x, y ≠ 0",
                    Some(
                        "It is a metric on directions (the unit sphere): |x̂ − ŷ| = 0 ⇔ y = αx, α > 0.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x", "y"], 1..=3, -4..=4, vec![]),
                        chord_identity,
                    )],
                ),
                Reading::new(
                    "c",
                    "Among tokens that contain x, x itself has the largest x·w.",
                    "x = w0 is a token",
                    Some(
                        "x·w > x·x whenever |w| cos θ > |x|: a longer token in a similar direction beats x itself.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || xs_tokens(&[], 2..=4, 2, 1..=4, vec![]),
                        self_is_top,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::dot_is_not_a_metric_search_finds_and_verifies",
                "claims_geometry::dot_symmetric_exact",
                "claims_geometry::chord_triangle_f32",
                "claims_geometry::chord_triangle_f64",
            ],
        },
        Claim {
            id: "cosine-sign-slip",
            area: Area::Geometry,
            words: "The more aligned the directions … (i.e. the smaller their cosine similarity), the bigger the logits.",
            readings: vec![
                Reading::new(
                    "a",
                    "As written: for tokens of equal norm, smaller cos(x, w) ⇒ bigger logit x·w.",
                    "|w0| = |w1|, x ≠ 0, cos(x, w0) ≠ cos(x, w1) (with equal cosines the premise says nothing)",
                    Some(
                        "For tokens of equal norm, larger cosine ⇒ larger logit (reading (b)): x·w = |x||w| cos θ.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || equal_norm_pair(1..=4),
                        slip_as_written,
                    )],
                ),
                Reading::new(
                    "b",
                    "Intended: for tokens of equal norm, larger cos(x, w) ⇒ bigger logit x·w.",
                    "|w0| = |w1|, x ≠ 0, cos(x, w0) ≠ cos(x, w1) (with equal cosines the premise says nothing)",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || equal_norm_pair(1..=5),
                        slip_intended,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::cosine_slip_search_finds_and_verifies",
                "claims_geometry::larger_cosine_bigger_logit_exact",
            ],
        },
        Claim {
            id: "alignment-beats-size",
            area: Area::Geometry,
            words: "The more aligned the directions of the correct class with the corresponding unembedding weights are …, the bigger the logits",
            readings: vec![Reading::new(
                "a",
                "For a fixed x and tokens of different norms: cos(x, w1) > cos(x, w2) ⇒ x·w1 > x·w2.",
                "x, w1, w2 ≠ 0, |w1| ≠ |w2|; cases with cos(x, w1) ≤ cos(x, w2) meet the implication vacuously and are not counted",
                Some(
                    "x·w = |x||w| cos θ: alignment wins only between tokens of equal norm; in general the token with the larger |w| cos θ wins.",
                ),
                vec![Judgement::new(
                    Domain::Real,
                    Fails,
                    ForAll,
                    || vectors(&["x", "w1", "w2"], 1..=4, -4..=4, vec![]),
                    alignment,
                )],
            )],
            tests: &[
                "claims_geometry::alignment_search_finds_and_verifies",
                "claims_geometry::found_cases_survive_reversed_ties",
            ],
        },
        Claim {
            id: "argmax-dot-vs-nearest",
            area: Area::Geometry,
            words: "You 100% should not think about the unembed as looking for \"the closest token\", as opposed to looking for the token with the largest dot product (= high cosine similarity + large size).",
            readings: vec![
                Reading::new(
                    "a",
                    "There are x and tokens where argmax_i x·wᵢ ≠ argmin_i |x − wᵢ| (both unique). The smallest: fewest dimensions, then fewest tokens, then smallest integers.",
                    "unique winners (no tie-breaking)",
                    None,
                    vec![Judgement {
                        domain: Domain::Real,
                        expect: Holds,
                        check: Check {
                            quantifier: Exists,
                            strategy: || xs_tokens(&["x"], 2..=5, 2, 1..=4, vec![]),
                            enumerate: enumerate_small,
                            test: dot_vs_nearest,
                        },
                    }],
                ),
                Reading::new(
                    "b1",
                    "If all tokens have equal norm, argmax-dot and nearest agree for every x.",
                    "|wᵢ| all equal",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || equal_norm_pair(1..=5),
                        agree_equal_norms,
                    )],
                ),
                Reading::new(
                    "b2",
                    "If two distinct tokens have different norms, some x gets different answers.",
                    "w0 ≠ w1, |w0| ≠ |w1|",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || xs_tokens(&[], 2..=2, 2, 1..=4, vec![]),
                        unequal_norms_disagree,
                    )],
                ),
                Reading::new(
                    "c",
                    "argmin_i |x − wᵢ| = argmax_i (x·wᵢ − |wᵢ|²/2).",
                    "ties to the lowest index on both sides",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || xs_tokens(&["x"], 1..=6, 1, 1..=5, vec![]),
                        nearest_is_biased_argmax,
                    )],
                ),
                Reading::new(
                    "d1",
                    "argmax cosine = argmax dot when the norms are equal.",
                    "|wᵢ| all equal, x ≠ 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || equal_norm_pair(1..=5),
                        cos_vs_dot_equal,
                    )],
                ),
                Reading::new(
                    "d2",
                    "argmax cosine = argmax dot in general.",
                    "x, wᵢ ≠ 0",
                    Some(
                        "Only for tokens of equal norm (d1); otherwise the dot product also rewards size.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || xs_tokens(&["x"], 2..=4, 2, 1..=4, vec![]),
                        cos_vs_dot_general,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::smallest_dot_vs_nearest_exact",
                "claims_geometry::equal_norms_agree_exact",
                "claims_geometry::nearest_is_biased_argmax_exact",
                "claims_geometry::unequal_norms_disagree_exact",
                "claims_geometry::argmax_cosine_vs_dot_found_without_a_tie",
                "claims_geometry::found_cases_survive_reversed_ties",
            ],
        },
        Claim {
            id: "argmax-dot-scale-invariance",
            area: Area::Geometry,
            words: "Thus, direction matters more than distance.",
            readings: vec![
                Reading::new(
                    "a",
                    "argmax_i (α·x)·wᵢ is the same for every α > 0.",
                    "α > 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || xs_tokens(&["x"], 1..=6, 1, 1..=5, vec![("α", pow2(-6..=6))]),
                        scale_invariant_argmax,
                    )],
                ),
                Reading::new(
                    "b",
                    "The nearest token to α·x can change with α.",
                    "α > 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        Exists,
                        || xs_tokens(&["x"], 2..=4, 2, 1..=3, vec![("α", int(1..=4))]),
                        nearest_changes,
                    )],
                ),
                Reading::new(
                    "c",
                    "For all large t, nearest(t·x) = argmax-dot(x) (unique max); as t → 0⁺, nearest(t·x) is a token of smallest norm.",
                    "t > 0; a unique top logit for the first part",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || xs_tokens(&["x"], 1..=6, 1, 1..=4, vec![]),
                        scale_limits,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::argmax_dot_scale_invariant_exact",
                "claims_geometry::nearest_changes_with_scale_exact",
                "claims_geometry::scale_limits_exact",
            ],
        },
        Claim {
            id: "mips-reduction",
            area: Area::Geometry,
            words: "(the standard reduction from maximum inner product search to nearest-neighbour search)",
            readings: vec![Reading::new(
                "a",
                "With M ≥ max_i |wᵢ|, w'ᵢ = (wᵢ, √(M² − |wᵢ|²)) and x' = (x, 0): argmin_i |x' − w'ᵢ| = argmax_i x·wᵢ for every x.",
                "M² ≥ max |wᵢ|²",
                None,
                vec![Judgement::new(
                    Domain::Real,
                    Holds,
                    ForAll,
                    || {
                        xs_tokens(
                            &["x"],
                            1..=6,
                            1,
                            1..=5,
                            vec![("M² − max|wᵢ|²", int(0..=10))],
                        )
                    },
                    mips,
                )],
            )],
            tests: &[
                "claims_geometry::mips_exact",
                "unembed::mips_finds_argmax_f32",
                "unembed::mips_finds_argmax_f64",
            ],
        },
        Claim {
            id: "hull-interior-never-top",
            area: Area::Geometry,
            words: "the token with the largest dot product (= high cosine similarity + large size)",
            readings: vec![
                Reading::new(
                    "a",
                    "A token strictly inside the convex hull of the other tokens is never the unique largest logit, for any x (no unembedding bias) — yet it is always its own nearest neighbour.",
                    "w0 = Σλᵢwᵢ/Σλᵢ with every λᵢ > 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || hull_case(false),
                        hull_plain,
                    )],
                ),
                Reading::new(
                    "b",
                    "With a per-token bias bᵢ the same holds for the hull of the points (wᵢ, bᵢ).",
                    "(w0, b0) strictly inside the hull of the (wᵢ, bᵢ)",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || hull_case(true),
                        hull_bias,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::hull_interior_exact",
                "claims_geometry::hull_interior_with_bias_exact",
            ],
        },
        Claim {
            id: "unembed-is-linear",
            area: Area::Geometry,
            words: "especially since the embed/unembed are linear functions",
            readings: vec![
                Reading::new(
                    "a",
                    "x ↦ W·x is linear.",
                    "none",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || {
                            xs_tokens(
                                &["x", "y"],
                                1..=4,
                                1,
                                1..=4,
                                vec![("α", int(-5..=5)), ("β", int(-5..=5))],
                            )
                        },
                        unembed_linear,
                    )],
                ),
                Reading::new(
                    "b",
                    "The map from the residual stream to logits through a final LayerNorm is linear.",
                    "ε = 0; x, y and x + y not constant vectors (with ε = 0 LayerNorm divides 0 by 0 there)",
                    Some(
                        "x ↦ W·LN(x) is invariant under x ↦ αx (α > 0) and x ↦ x + c·1, hence not additive; only W itself is linear.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || xs_tokens(&["x", "y"], 1..=3, 1, 2..=4, vec![]),
                        through_layernorm,
                    )],
                ),
                Reading::new(
                    "c",
                    "The map from the residual stream to probabilities is linear.",
                    "none",
                    Some(
                        "softmax is not additive (Σ softmax(Wx) + softmax(Wy) = 2); log-probabilities are affine in the logits only up to the per-row constant logsumexp.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || xs_tokens(&["x", "y"], 1..=3, 1, 1..=3, vec![]),
                        to_probabilities,
                    )],
                ),
            ],
            tests: &[
                "claims_geometry::unembed_linear_exact",
                "claims_geometry::nonlinear_maps_search_finds_and_verifies",
            ],
        },
    ]
}
