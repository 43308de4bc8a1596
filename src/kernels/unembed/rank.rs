//! The exact ranking behind [`super::argmax_dot`] and [`super::nearest_euclidean`]: the index of
//! the best token — largest `x·wⱼ` (`dot = true`) or smallest `|x − wⱼ|²` — lowest index on
//! ties, `None` when a score is NaN or there is no token.
//!
//! Exact for exact types (the scores themselves). For `f32`/`f64` the ranking is exact too:
//! scores are computed accurately in `f64` (scaled by one power of two where they would
//! overflow), and every token whose score is within its error bound of the best is re-compared
//! exactly in rationals — so `±MAX` inputs and scores that differ by less than an ulp rank as
//! the exact scores do. [`rank_float`] is that reference path; `f32` tokens on a CPU with a
//! vector level take the faster path of [`super::filter`], which gives the same answers.

use crate::kernels::eft::f32_lanes;
use crate::kernels::scalar::{Ring, scalbn, unit_exponent};
use num_rational::BigRational;

/// The `v` columns of a column-major matrix stored in `w` (an empty slice each when it has no
/// rows).
pub(crate) fn columns<S>(w: &[S], v: usize) -> Vec<&[S]> {
    if w.is_empty() {
        return vec![&[]; v];
    }
    w.chunks_exact(w.len() / v).collect()
}

/// The best index of a sequence of keys (largest for a dot product, smallest for a distance),
/// lowest index on ties, `None` on a NaN key or no key.
pub(crate) fn best_of<K: PartialOrd>(
    keys: impl IntoIterator<Item = K>,
    largest: bool,
) -> Option<usize> {
    let better = if largest {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Less
    };
    let mut best: Option<(usize, K)> = None;
    for (i, k) in keys.into_iter().enumerate() {
        k.partial_cmp(&k)?;
        match &best {
            Some((_, b)) if k.partial_cmp(b) != Some(better) => {}
            _ => best = Some((i, k)),
        }
    }
    best.map(|(i, _)| i)
}

/// Scores of an exact type: the values themselves.
pub(crate) fn exact_keys<T: Ring>(tokens: &[&[T]], x: &[T], dot: bool) -> Vec<T> {
    tokens
        .iter()
        .map(|w| {
            if dot {
                T::dot_kernel(w, x)
            } else {
                T::squared_distance_kernel(w, x)
            }
        })
        .collect()
}

/// A float type whose tokens [`rank_float`] can rank: a score in `f64` (before any rounding to
/// the type), and on demand `Σ|terms|` for its error bound.
pub(crate) trait RankScore: Copy + Into<f64> {
    /// The score: dot product or squared distance.
    fn key(w: &[Self], x: &[Self], dot: bool) -> f64;
    /// `Σ|aᵢ·bᵢ|` of a dot product.
    fn abs_terms(w: &[Self], x: &[Self]) -> f64;
    /// `maxⱼ |wⱼᵢ|` for each coordinate i (NaN entries ignored), widened to `f64`.
    fn col_max(tokens: &[&[Self]], n: usize) -> Vec<f64>;
}

impl RankScore for f64 {
    /// Dot2 (compensated) for dot products.
    fn key(w: &[f64], x: &[f64], dot: bool) -> f64 {
        if dot {
            f64::dot_kernel(w, x)
        } else {
            f64::squared_distance_kernel(w, x)
        }
    }
    fn abs_terms(w: &[f64], x: &[f64]) -> f64 {
        w.iter().zip(x).map(|(a, b)| (a * b).abs()).sum()
    }
    fn col_max(tokens: &[&[f64]], n: usize) -> Vec<f64> {
        let mut cm = vec![0.0f64; n];
        for w in tokens {
            for (c, v) in cm.iter_mut().zip(w.iter()) {
                *c = c.max(v.abs());
            }
        }
        cm
    }
}

impl RankScore for f32 {
    /// Exact products and differences in `f64`, summed in `f64` lanes and not rounded to `f32`.
    fn key(w: &[f32], x: &[f32], dot: bool) -> f64 {
        if dot {
            f32_lanes::<true, false>(w, x).0
        } else {
            f32_lanes::<false, false>(w, x).0
        }
    }
    fn abs_terms(w: &[f32], x: &[f32]) -> f64 {
        f32_lanes::<true, true>(w, x).1
    }
    /// In `f32` (exact: a maximum rounds nothing), widened at the end.
    fn col_max(tokens: &[&[f32]], n: usize) -> Vec<f64> {
        let mut cm = vec![0.0f32; n];
        for w in tokens {
            for (c, v) in cm.iter_mut().zip(w.iter()) {
                *c = c.max(v.abs());
            }
        }
        cm.into_iter().map(f64::from).collect()
    }
}

/// Rank float tokens exactly: scores in `f64` with their error bounds (on inputs scaled by one
/// power of two where finite scores overflow), then every token within the error window of the
/// best re-compared in rationals. Lowest index on exact ties.
///
/// The window of a dot product needs `Σ|terms|` of each token, which costs as much as the score
/// itself; it is computed only for the tokens inside a window widened to the bound
/// `Σᵢ|xᵢ|·maxⱼ|wⱼᵢ|` that holds for every token (one pass of maxima), which selects the same
/// tokens.
pub(crate) fn rank_float<S: RankScore>(tokens: &[&[S]], x: &[S], dot: bool) -> Option<usize> {
    let n = x.len();
    let mut keys: Vec<f64> = tokens.iter().map(|w| S::key(w, x, dot)).collect();
    let finite = |v: &S| (*v).into().is_finite();
    let finite_in = || tokens.iter().flat_map(|w| w.iter()).chain(x).all(finite);
    // The frame the keys are in: the inputs themselves, or scaled by 2^scale.
    let mut scale = 0;
    if keys.iter().any(|k| k.is_infinite()) && finite_in() {
        // Overflow of finite scores (f64 only): one power of two for all keeps the ranking.
        let m = tokens
            .iter()
            .flat_map(|w| w.iter())
            .chain(x)
            .fold(0.0f64, |m, v| m.max((*v).into().abs()));
        scale = unit_exponent(m) - 8 + unit_exponent((n.max(1) as f64).sqrt());
    }
    let scaled = |v: &[S]| -> Vec<f64> { v.iter().map(|&e| scalbn(e.into(), scale)).collect() };
    let xs = scaled(x);
    if scale != 0 {
        keys = tokens
            .iter()
            .map(|w| f64::key(&scaled(w), &xs, dot))
            .collect();
    }
    let abs_of = |j: usize| match (dot, scale) {
        (false, _) => keys[j],
        (true, 0) => S::abs_terms(tokens[j], x),
        (true, _) => f64::abs_terms(&scaled(tokens[j]), &xs),
    };
    let best = best_of(keys.iter().copied(), dot)?;
    // Error of each score ≤ (n + 1)·u·Σ|terms| (plain f64 sums) or less (compensated); the
    // window is generous — a wider one only costs exact comparisons.
    let eps = f64::EPSILON * (n + 16) as f64;
    let slack = |k: f64, abs: f64| eps * (k.abs() + abs) + f64::MIN_POSITIVE;
    let kb = keys[best];
    let sb = slack(kb, abs_of(best));
    let inside = |j: usize, abs: f64| (keys[j] - kb).abs() <= slack(keys[j], abs) + sb;
    let near: Vec<usize> = if dot {
        // Σ|terms| ≤ Σᵢ|xᵢ|·maxⱼ|wⱼᵢ| for every token, rounded up by the window's own margin.
        let cm = S::col_max(tokens, n);
        let bound = xs
            .iter()
            .zip(&cm)
            .map(|(a, c)| a.abs() * scalbn(*c, scale))
            .sum::<f64>()
            * (1.0 + eps);
        (0..keys.len())
            .filter(|&j| inside(j, bound) && inside(j, abs_of(j)))
            .collect()
    } else {
        (0..keys.len()).filter(|&j| inside(j, keys[j])).collect()
    };
    if near.len() < 2 || !finite_in() {
        return Some(best);
    }
    exact_best(tokens, x, &near, dot)
}

/// The best of the tokens `near` (increasing indices) by their exact scores, compared in
/// rationals; lowest index on ties. The entries must be finite.
pub(crate) fn exact_best<S: RankScore>(
    tokens: &[&[S]],
    x: &[S],
    near: &[usize],
    dot: bool,
) -> Option<usize> {
    let q = |v: S| BigRational::from_float(v.into()).expect("finite");
    let xq: Vec<BigRational> = x.iter().map(|&v| q(v)).collect();
    let exact = near.iter().map(|&j| {
        let wq: Vec<BigRational> = tokens[j].iter().map(|&v| q(v)).collect();
        exact_keys(&[wq.as_slice()], &xq, dot).remove(0)
    });
    best_of(exact, dot).map(|i| near[i])
}
