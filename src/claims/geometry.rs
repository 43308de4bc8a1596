//! Claims about dot products, cosines, distances and the unembedding (section "Dot product,
//! cosine, distance"). Everything polynomial is decided exactly on rationals.

use super::*;
use crate::geometry::{angle, cosine_similarity, dot, norm, squared_distance};
use crate::norms::layer_norm;
use crate::softmax::softmax;
use crate::tolerance::{COSINE_ULPS, NORM_LAYER_ULPS, NORM_ULPS, SOFTMAX_ULPS, relative, ulp};
use crate::unembed::{argmax_dot, logits, nearest_euclidean};
use nalgebra::DMatrix;
use num_traits::{Signed, Zero};
use std::cmp::Ordering;

type Q = BigRational;

fn qi(v: i64) -> Q {
    Q::from_integer(v.into())
}

/// Compare a/√p with b/√q exactly (p, q > 0).
fn cmp_over_sqrt(a: &Q, p: &Q, b: &Q, q: &Q) -> Ordering {
    let (sa, sb) = (a.signum(), b.signum());
    if sa != sb {
        return sa.cmp(&sb);
    }
    let l = a * a * q;
    let r = b * b * p;
    if sa.is_negative() {
        r.cmp(&l)
    } else {
        l.cmp(&r)
    }
}

/// Tokens of a case as the columns of a rational matrix.
fn wq(c: &Case) -> DMatrix<Q> {
    let t = c.tokens();
    let d = c.dim();
    DMatrix::from_fn(d, t.len(), |r, k| exact(t[k][r]))
}

fn wf(c: &Case) -> DMatrix<f64> {
    let t = c.tokens();
    DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r])
}

fn nonzero(v: &[f64]) -> bool {
    v.iter().any(|&e| e != 0.0)
}

// ---- dot-law-of-cosines ------------------------------------------------------------------

fn law_of_cosines(c: &Case) -> Outcome {
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    if !nonzero(c.v("x")) || !nonzero(c.v("y")) {
        return Outcome::Skip;
    }
    let lhs = dot(&x, &y);
    let (nx, ny) = (norm(&x), norm(&y));
    let rhs = nx * ny * angle(&x, &y).unwrap().cos();
    // cos θ from Kahan's angle: |Δθ| ≤ a few ulps of π; |Δcos| ≤ |Δθ|.
    let bound =
        nx * ny * (relative::<f64>(2 * NORM_ULPS + 2) + 8.0 * f64::EPSILON * std::f64::consts::PI);
    compare_real("x·y", &[lhs], "|x||y| cos θ", &[rhs], bound)
}

fn polarization(c: &Case) -> Outcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    let lhs = squared_distance(&x, &y);
    let rhs = dot(&x, &x) + dot(&y, &y) - qi(2) * dot(&x, &y);
    if lhs == rhs {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact("|x − y|²", lhs, "|x|² + |y|² − 2x·y", rhs))
    }
}

// ---- dot-is-not-a-distance ---------------------------------------------------------------

fn dot_identity(c: &Case) -> Outcome {
    let x = q(c.v("x"));
    let d = dot(&x, &x);
    if d.is_zero() {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact("d(x, x) = x·x", d, "0", 0))
    }
}

fn dot_nonnegative(c: &Case) -> Outcome {
    let d = dot(&q(c.v("x")), &q(c.v("y")));
    if d >= qi(0) {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact("d(x, y) = x·y", d, "0", 0))
    }
}

fn dot_symmetric(c: &Case) -> Outcome {
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    let (a, b) = (dot(&x, &y), dot(&y, &x));
    if a == b {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact("x·y", a, "y·x", b))
    }
}

fn dot_triangle(c: &Case) -> Outcome {
    let (x, y, z) = (q(c.v("x")), q(c.v("y")), q(c.v("z")));
    let lhs = dot(&x, &z);
    let rhs = dot(&x, &y) + dot(&y, &z);
    if lhs <= rhs {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "d(x, z) = x·z",
            lhs,
            "d(x, y) + d(y, z)",
            rhs,
        ))
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
    let rhs = one_minus_cos(&x, &y) + one_minus_cos(&y, &z);
    let bound = 3.0 * relative::<f64>(COSINE_ULPS + 1);
    at_most_real(
        "1 − cos(x, z)",
        lhs,
        "(1 − cos(x, y)) + (1 − cos(y, z))",
        rhs,
        bound,
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
    let d = |a: &[f64], b: &[f64]| crate::geometry::euclidean_distance(a, b);
    let (lhs, rhs) = (d(&x, &z), d(&x, &y) + d(&y, &z));
    let bound = 8.0 * relative::<f64>(NORM_ULPS + 2);
    at_most_real("|x̂ − ẑ|", lhs, "|x̂ − ŷ| + |ŷ − ẑ|", rhs, bound)
}

/// x̂ = ŷ exactly: x·y > 0 and (x·y)² = |x|²|y|².
fn same_direction(x: &[Q], y: &[Q]) -> bool {
    let xy = dot(x, y);
    xy > qi(0) && xy.clone() * xy == dot(x, x) * dot(y, y)
}

fn chord_identity(c: &Case) -> Outcome {
    if !nonzero(c.v("x")) || !nonzero(c.v("y")) {
        return Outcome::Skip;
    }
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    if same_direction(&x, &y) && x != y {
        Outcome::Found(Evidence::exact(
            "|x̂ − ŷ| (x̂ = ŷ: x·y > 0 and (x·y)² = |x|²|y|²)",
            0,
            "x − y",
            format!(
                "{:?}",
                c.v("x")
                    .iter()
                    .zip(c.v("y"))
                    .map(|(a, b)| a - b)
                    .collect::<Vec<_>>()
            ),
        ))
    } else {
        Outcome::EXACT
    }
}

fn self_is_top(c: &Case) -> Outcome {
    let w = wq(c);
    let x: Vec<Q> = q(c.tokens()[0]);
    let l = logits(&w, &x);
    match (1..l.len()).find(|&j| l[j] > l[0]) {
        Some(j) => Outcome::Found(Evidence::exact(
            format!("x·w{j}"),
            &l[j],
            "x·x (x = w0)",
            &l[0],
        )),
        None => Outcome::EXACT,
    }
}

// ---- cosine-sign-slip, alignment-beats-size ----------------------------------------------

/// For tokens w0, w1: compare cos(x, w0) with cos(x, w1) exactly; `None` for a zero vector.
fn cos_order(x: &[Q], a: &[Q], b: &[Q]) -> Option<Ordering> {
    let (pa, pb) = (dot(a, a), dot(b, b));
    if dot(x, x).is_zero() || pa.is_zero() || pb.is_zero() {
        return None;
    }
    Some(cmp_over_sqrt(&dot(x, a), &pa, &dot(x, b), &pb))
}

fn equal_norms(c: &Case) -> bool {
    let t = c.int_tokens();
    let n0: i64 = t[0].iter().map(|v| v * v).sum();
    t.iter().all(|w| w.iter().map(|v| v * v).sum::<i64>() == n0)
}

fn slip(c: &Case, as_written: bool) -> Outcome {
    if !equal_norms(c) {
        return Outcome::Skip;
    }
    let x = q(c.v("x"));
    let t = c.tokens();
    let (a, b) = (q(t[0]), q(t[1]));
    let Some(ord) = cos_order(&x, &a, &b) else {
        return Outcome::Skip;
    };
    // as written: cos(x, w0) < cos(x, w1) ⇒ x·w0 > x·w1; intended: cos(x, w0) > cos(x, w1) ⇒ x·w0 > x·w1.
    let premise = if as_written {
        ord == Ordering::Less
    } else {
        ord == Ordering::Greater
    };
    if !premise {
        return Outcome::Skip;
    }
    let (l0, l1) = (dot(&x, &a), dot(&x, &b));
    if l0 > l1 {
        Outcome::EXACT
    } else {
        let rel = if as_written { "<" } else { ">" };
        Outcome::Found(Evidence::exact(
            format!("x·w0 (cos(x, w0) {rel} cos(x, w1))"),
            l0,
            "x·w1",
            l1,
        ))
    }
}

fn slip_as_written(c: &Case) -> Outcome {
    slip(c, true)
}
fn slip_intended(c: &Case) -> Outcome {
    slip(c, false)
}

fn alignment(c: &Case) -> Outcome {
    let x = q(c.v("x"));
    let t = c.tokens();
    let (a, b) = (q(t[0]), q(t[1]));
    match cos_order(&x, &a, &b) {
        Some(Ordering::Greater) => {
            // Reported only when the better-aligned token loses strictly (a tie would be a
            // weaker counterexample than the claim deserves).
            let (l0, l1) = (dot(&x, &a), dot(&x, &b));
            if l0 >= l1 {
                Outcome::EXACT
            } else {
                Outcome::Found(Evidence::exact(
                    "x·w0 (cos(x, w0) > cos(x, w1))",
                    l0,
                    "x·w1",
                    l1,
                ))
            }
        }
        _ => Outcome::Skip,
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

fn unique_best(scores: &[Q], greater: bool) -> Option<usize> {
    let best = if greater {
        scores.iter().max()?
    } else {
        scores.iter().min()?
    };
    (scores.iter().filter(|s| *s == best).count() == 1)
        .then(|| scores.iter().position(|s| s == best).unwrap())
}

fn dot_vs_nearest(c: &Case) -> Outcome {
    let w = wq(c);
    let x = q(c.v("x"));
    let l = logits(&w, &x);
    let d2: Vec<Q> = c
        .tokens()
        .iter()
        .map(|t| squared_distance(&q(t), &x))
        .collect();
    match (unique_best(&l, true), unique_best(&d2, false)) {
        (Some(a), Some(n)) if a != n => Outcome::Found(Evidence::exact(
            format!("argmax_i x·wᵢ = w{a} (logits {})", show(&l)),
            format!("w{a}"),
            format!("argmin_i |x − wᵢ| = w{n} (squared distances {})", show(&d2)),
            format!("w{n}"),
        )),
        _ => Outcome::EXACT,
    }
}

fn show(v: &[Q]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Every configuration with d = 1, then 2; V = 2, then 3; entries in [−m, m] for m = 1, 2, 3 —
/// in that order (and by complexity within each block), so the first witness is the smallest.
/// Produced lazily, block by block.
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
    if !equal_norms(c) {
        return Outcome::Skip;
    }
    let (w, x) = (wq(c), q(c.v("x")));
    let (a, n) = (argmax_dot(&w, &x), nearest_euclidean(&w, &x));
    if a == n {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "argmax_dot",
            format!("{a:?}"),
            "nearest",
            format!("{n:?}"),
        ))
    }
}

/// Two distinct tokens of different norm: the point of the segment w0 → w1 halfway between the
/// argmax-dot boundary and the nearest-token boundary gets different answers.
fn unequal_norms_disagree(c: &Case) -> Outcome {
    let t = c.tokens();
    let (a, b) = (q(t[0]), q(t[1]));
    let (na, nb) = (dot(&a, &a), dot(&b, &b));
    if a == b || na == nb {
        return Outcome::Skip;
    }
    let w = wq(c);
    let diff: Vec<Q> = a.iter().zip(&b).map(|(p, r)| p - r).collect();
    // f(s) = (a + s(b − a))·(a − b) is linear: f(0) = |a|² − a·b, f(1) = a·b − |b|².
    let (f0, f1) = (na.clone() - dot(&a, &b), dot(&a, &b) - nb.clone());
    let s_dot = f0.clone() / (f0.clone() - f1.clone()); // where the logits tie
    let half = Q::new(1.into(), 2.into()); // where the distances tie
    let candidates = [
        (s_dot.clone() + half.clone()) / qi(2),
        s_dot.clone() * qi(2) - half.clone(),
    ];
    for s in candidates {
        let x: Vec<Q> = a
            .iter()
            .zip(&b)
            .map(|(p, r)| p + s.clone() * (r - p))
            .collect();
        if argmax_dot(&w, &x) != nearest_euclidean(&w, &x) {
            let _ = &diff;
            return Outcome::EXACT;
        }
    }
    // Also try the tokens themselves (each is its own nearest token).
    for (i, p) in [&a, &b].into_iter().enumerate() {
        if argmax_dot(&w, p) != Some(i) {
            return Outcome::EXACT;
        }
    }
    Outcome::Found(Evidence::exact(
        "|w0|²",
        na,
        "|w1|² (yet no disagreeing x found on the segment)",
        nb,
    ))
}

fn nearest_is_biased_argmax(c: &Case) -> Outcome {
    let (w, x) = (wq(c), q(c.v("x")));
    let half = Q::new(1.into(), 2.into());
    let biased: Vec<Q> = c
        .tokens()
        .iter()
        .map(|t| {
            let t = q(t);
            dot(&x, &t) - half.clone() * dot(&t, &t)
        })
        .collect();
    let mut best = 0;
    for (i, s) in biased.iter().enumerate() {
        if *s > biased[best] {
            best = i;
        }
    }
    let n = nearest_euclidean(&w, &x);
    if n == Some(best) {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "argmin |x − wᵢ|",
            format!("{n:?}"),
            "argmax (x·wᵢ − |wᵢ|²/2)",
            best,
        ))
    }
}

fn cos_argmax(c: &Case) -> Option<usize> {
    let x = q(c.v("x"));
    let t: Vec<Vec<Q>> = c.tokens().iter().map(|v| q(v)).collect();
    if t.iter().any(|w| dot(w, w).is_zero()) || dot(&x, &x).is_zero() {
        return None;
    }
    let mut best = 0;
    for i in 1..t.len() {
        if cos_order(&x, &t[i], &t[best]) == Some(Ordering::Greater) {
            best = i;
        }
    }
    Some(best)
}

fn cos_vs_dot(c: &Case, need_equal: bool) -> Outcome {
    if need_equal && !equal_norms(c) {
        return Outcome::Skip;
    }
    let Some(cb) = cos_argmax(c) else {
        return Outcome::Skip;
    };
    let a = argmax_dot(&wq(c), &q(c.v("x")));
    if a == Some(cb) {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "argmax_i cos(x, wᵢ)",
            format!("w{cb}"),
            "argmax_i x·wᵢ",
            format!("w{}", a.unwrap_or(0)),
        ))
    }
}
fn cos_vs_dot_equal(c: &Case) -> Outcome {
    cos_vs_dot(c, true)
}
fn cos_vs_dot_general(c: &Case) -> Outcome {
    cos_vs_dot(c, false)
}

// ---- argmax-dot-scale-invariance ---------------------------------------------------------

fn scale_invariant_argmax(c: &Case) -> Outcome {
    let (w, x) = (wq(c), q(c.v("x")));
    let a = c.p("α").rational();
    if a <= qi(0) {
        return Outcome::Skip;
    }
    let ax: Vec<Q> = x.iter().map(|v| a.clone() * v).collect();
    let (p, r) = (argmax_dot(&w, &ax), argmax_dot(&w, &x));
    if p == r {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "argmax_dot(W, α·x)",
            format!("{p:?}"),
            "argmax_dot(W, x)",
            format!("{r:?}"),
        ))
    }
}

fn nearest_changes(c: &Case) -> Outcome {
    let (w, x) = (wq(c), q(c.v("x")));
    let a = c.p("α").rational();
    if a <= qi(0) {
        return Outcome::Skip;
    }
    let ax: Vec<Q> = x.iter().map(|v| a.clone() * v).collect();
    let (p, r) = (nearest_euclidean(&w, &ax), nearest_euclidean(&w, &x));
    let unique = |y: &[Q]| {
        unique_best(
            &c.tokens()
                .iter()
                .map(|t| squared_distance(&q(t), y))
                .collect::<Vec<_>>(),
            false,
        )
        .is_some()
    };
    if p != r && unique(&ax) && unique(&x) {
        Outcome::Found(Evidence::exact(
            format!("nearest(α·x), α = {}", c.p("α")),
            format!("w{}", p.unwrap()),
            "nearest(x)",
            format!("w{}", r.unwrap()),
        ))
    } else {
        Outcome::EXACT
    }
}

fn scale_limits(c: &Case) -> Outcome {
    let (w, x) = (wq(c), q(c.v("x")));
    let l = logits(&w, &x);
    let t: Vec<Vec<Q>> = c.tokens().iter().map(|v| q(v)).collect();
    let norms: Vec<Q> = t.iter().map(|v| dot(v, v)).collect();
    // t → ∞: above t* = max_j (|w_k|² − |w_j|²) / (2(x·w_k − x·w_j)), nearest(t·x) = k.
    if let Some(k) = unique_best(&l, true) {
        let mut tstar = qi(0);
        for j in (0..t.len()).filter(|&j| j != k) {
            let v = (norms[k].clone() - norms[j].clone()) / (qi(2) * (l[k].clone() - l[j].clone()));
            if v > tstar {
                tstar = v;
            }
        }
        let big = tstar + qi(1);
        let bx: Vec<Q> = x.iter().map(|v| big.clone() * v).collect();
        let n = nearest_euclidean(&w, &bx);
        if n != Some(k) {
            return Outcome::Found(Evidence::exact(
                format!("nearest(t·x), t = {big}"),
                format!("{n:?}"),
                "argmax_dot(W, x)",
                k,
            ));
        }
    }
    // t → 0⁺: for t < 1/(8(1 + max|x·wⱼ|)), nearest(t·x) has the smallest norm.
    let m = l.iter().map(|v| v.abs()).max().unwrap_or_else(|| qi(0));
    let small = Q::new(1.into(), 8.into()) / (qi(1) + m);
    let sx: Vec<Q> = x.iter().map(|v| small.clone() * v).collect();
    let n = nearest_euclidean(&w, &sx).unwrap();
    let min = norms.iter().min().unwrap();
    if &norms[n] != min {
        return Outcome::Found(Evidence::exact(
            format!("|nearest(t·x)|², t = {small}"),
            &norms[n],
            "min |wⱼ|²",
            min,
        ));
    }
    Outcome::EXACT
}

// ---- mips-reduction ----------------------------------------------------------------------

fn mips(c: &Case) -> Outcome {
    let (w, x) = (wq(c), q(c.v("x")));
    let t: Vec<Vec<Q>> = c.tokens().iter().map(|v| q(v)).collect();
    if c.p("extra").raw() < 0 {
        return Outcome::Skip; // M² ≥ max |wᵢ|² is a condition of the reading
    }
    let m2 = t.iter().map(|v| dot(v, v)).max().unwrap() + c.p("extra").rational();
    // |x' − w'ᵢ|² = |x − wᵢ|² + (0 − √(M² − |wᵢ|²))² = |x − wᵢ|² + M² − |wᵢ|², exactly.
    let d2: Vec<Q> = t
        .iter()
        .map(|v| squared_distance(&x, v) + m2.clone() - dot(v, v))
        .collect();
    let mut best = 0;
    for (i, s) in d2.iter().enumerate() {
        if *s < d2[best] {
            best = i;
        }
    }
    let a = argmax_dot(&w, &x);
    if a == Some(best) {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "argmin |x' − w'ᵢ|",
            best,
            "argmax x·wᵢ",
            format!("{a:?}"),
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
        *x.last_mut().unwrap() = qi(1);
    }
    let w = wq(c);
    let l = logits(&w, &x);
    if unique_best(&l, true) == Some(0) {
        return Outcome::Found(Evidence::exact(
            "logit of the interior token w0",
            &l[0],
            "largest other logit",
            l[1..].iter().max().unwrap(),
        ));
    }
    if !with_bias {
        let w0 = q(c.tokens()[0]);
        if nearest_euclidean(&w, &w0) != Some(0) {
            return Outcome::Found(Evidence::exact(
                "nearest(w0)",
                format!("{:?}", nearest_euclidean(&w, &w0)),
                "w0",
                0,
            ));
        }
    }
    Outcome::EXACT
}
fn hull_plain(c: &Case) -> Outcome {
    hull(c, false)
}
fn hull_bias(c: &Case) -> Outcome {
    hull(c, true)
}

// ---- unembed-is-linear -------------------------------------------------------------------

fn unembed_linear(c: &Case) -> Outcome {
    let w = wq(c);
    let (x, y) = (q(c.v("x")), q(c.v("y")));
    let (a, b) = (c.p("α").rational(), c.p("β").rational());
    let comb: Vec<Q> = x
        .iter()
        .zip(&y)
        .map(|(u, v)| a.clone() * u + b.clone() * v)
        .collect();
    let lhs = logits(&w, &comb);
    let rhs: Vec<Q> = logits(&w, &x)
        .into_iter()
        .zip(logits(&w, &y))
        .map(|(u, v)| a.clone() * u + b.clone() * v)
        .collect();
    if lhs == rhs {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "W(αx + βy)",
            show(&lhs),
            "αWx + βWy",
            show(&rhs),
        ))
    }
}

fn ln0(v: &[f64]) -> Vec<f64> {
    layer_norm(v, 0.0, None, None)
}

fn through_layernorm(c: &Case) -> Outcome {
    let w = wf(c);
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    let xy: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    let lhs = logits(&w, &ln0(&xy));
    let rhs: Vec<f64> = logits(&w, &ln0(&x))
        .into_iter()
        .zip(logits(&w, &ln0(&y)))
        .map(|(a, b)| a + b)
        .collect();
    let scale = w.iter().map(|v| v.abs()).sum::<f64>() * (x.len() as f64).sqrt();
    compare_real(
        "W·LN(x + y)",
        &lhs,
        "W·LN(x) + W·LN(y)",
        &rhs,
        3.0 * scale * relative::<f64>(NORM_LAYER_ULPS + 2),
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
    compare_real(
        "softmax(W(x + y))",
        &lhs,
        "softmax(Wx) + softmax(Wy)",
        &rhs,
        3.0 * relative::<f64>(SOFTMAX_ULPS) + ulp(0.0f64),
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
                    "|w0| = |w1|, x ≠ 0",
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
                    "|w0| = |w1|, x ≠ 0",
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
                "x, w1, w2 ≠ 0",
                Some(
                    "x·w = |x||w| cos θ: alignment wins only between tokens of equal norm; in general the token with the larger |w| cos θ wins.",
                ),
                vec![Judgement::new(
                    Domain::Real,
                    Fails,
                    ForAll,
                    || xs_tokens(&["x"], 2..=2, 2, 1..=4, vec![]),
                    alignment,
                )],
            )],
            tests: &["claims_geometry::alignment_search_finds_and_verifies"],
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
                    || xs_tokens(&["x"], 1..=6, 1, 1..=5, vec![("extra", int(0..=10))]),
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
                    "ε = 0",
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
