//! The exact ranking of `f32` tokens at streaming speed: one vector pass computes every score
//! in `f64` with a rigorous error bound, the bound filters the candidates, and only the
//! candidates whose interval overlaps the leader's are re-compared exactly (in rationals).
//! The answer is the one the exact scores give — lowest index on exact ties — as on the
//! reference path ([`super::rank::rank_float`]); the two are compared in the tests. The
//! cosine ranking is the exception: its answer is the one the reference cosines give (they are
//! not exact), and its candidates are compared by those.
//!
//! # Why the filter never drops the winner
//!
//! Let `k̂ⱼ` be the computed score of token `j`, `kⱼ` its exact score, `b` the first index of
//! the best computed score, and `j*` the exact winner (first index of the best exact score).
//!
//! * **argmax-dot.** `|k̂ⱼ − kⱼ| ≤ Eⱼ = c·‖x‖₁·maxᵢ|wⱼᵢ|` with `c` of
//!   [`tolerance::rank_dot_err_f32`] (exact products, `f64` sums in any order; the right side
//!   computed in `f64` and still a bound). Since `k_{j*} ≥ k_b`,
//!   `k̂_{j*} ≥ k_{j*} − E_{j*} ≥ k_b − E_{j*} ≥ k̂_b − E_b − E_{j*}`. So every token with
//!   `k̂_b − k̂ⱼ > E_b + Eⱼ` loses to `b` exactly, and the filter keeps the others: it compares
//!   `fl(k̂_b − k̂ⱼ) ≤ fl(E_b + Eⱼ)·(1 + 2⁻⁴⁰)`, the factor covering the three roundings of the
//!   test (each at most `u = 2⁻⁵³`).
//! * **nearest-Euclidean.** `|k̂ⱼ − kⱼ| ≤ r·kⱼ` with `r` of
//!   [`tolerance::rank_distance_rel_err_f32`]. Since `k_{j*} ≤ k_b`,
//!   `k̂_{j*} ≤ (1 + r)·k_{j*} ≤ (1 + r)·k_b ≤ k̂_b·(1 + r)/(1 − r)`, and the filter keeps
//!   `k̂ⱼ ≤ fl(k̂_b·fl(1 + 4r))`: `(1 + 4r)(1 − u)² ≥ (1 + r)/(1 − r)` for `3u ≤ r ≤ ¼`
//!   (`r = γₙ₊₂ ≥ 3u`, and `r ≤ ¼` for every `n ≤ 2⁵⁰`).
//!
//! * **nearest-cosine.** Here the answer is that of the reference cosines `řⱼ`
//!   ([`super::nearest_cosine`] ranks by them, first index of the largest), each within
//!   `R =` [`tolerance::cosine_abs_err_f64`] of the exact `cⱼ = x·wⱼ/(|x||wⱼ|)`. The vector pass
//!   gives `ĉⱼ = d̂ⱼ/N̂ⱼ` with `|d̂ⱼ − dⱼ| ≤ Eⱼ` (the dot product's bound above) and
//!   `N̂ⱼ = Nⱼ(1 + η)`, `|η| ≤ ρ =` [`tolerance::rank_cosine_norm_rel_err_f32`]; with the
//!   quotient's rounding and `|cⱼ| ≤ 1`,
//!   `|ĉⱼ − cⱼ| ≤ Eⱼ(1 + ρ)(1 + u)/((1 − ρ)N̂ⱼ) + (ρ + u)/(1 − ρ) ≤ Fⱼ = 2Eⱼ/N̂ⱼ + 3ρ`
//!   (`u ≤ ρ ≤ ¼`). The reference winner `j*` has `ř_{j*} ≥ ř_b`, so
//!   `ĉ_{j*} ≥ ĉ_b − F_b − F_{j*} − 2R`, and the filter keeps every `j` with
//!   `fl(ĉ_b − ĉⱼ) ≤ fl(F_b + Fⱼ + 2R)·(1 + 2⁻⁴⁰)` (the factor covers the test's few
//!   roundings, each at most `u`; `F` is computed with the same slack, as the derivation's
//!   constants 2 and 3 exceed the exact ones). The kept tokens' reference cosines decide, in
//!   increasing index order; every token tied with `j*` in reference cosine satisfies the same
//!   inequality and is kept. Zero tokens have no cosine and are skipped, as by the reference;
//!   a zero query goes to the reference path.
//!
//! All tied exact winners are kept too (each satisfies the same inequalities), so the exact
//! comparison of the kept tokens in increasing index order returns `j*`. When one token is kept
//! it is `b`, and `b = j*`.
//!
//! The bound needs every score finite, which for `f32` inputs holds exactly when every entry is
//! finite (a product of two `f32` or a square of their difference cannot overflow `f64`, nor
//! can a sum of fewer than 2⁵⁰ of them); a NaN or infinite entry sends the ranking to the
//! reference path, whose special-value rules stay the ones documented in [`super`].

use super::rank::{best_of, columns, exact_best, exact_keys, rank_float};
use crate::kernels::scalar::{FloatSlice, Ring};
use crate::kernels::simd::{self, Isa, isa};
use crate::kernels::tolerance;

/// The widening of the dot filter's threshold that covers its own roundings.
const WIDEN: f64 = 1.0 + 1.0 / (1u64 << 40) as f64;

/// The exact ranking of the `v` tokens stored column by column in `w` against `x`: the
/// dispatch between the exact types and the float paths.
pub(crate) fn best_token<T: Ring>(w: &[T], v: usize, x: &[T], dot: bool) -> Option<usize> {
    match (T::as_floats(w), T::as_floats(x)) {
        (Some(FloatSlice::F32(w)), Some(FloatSlice::F32(x))) => {
            rank_f32(isa(), w, v, x, dot).unwrap_or_else(|| rank_float(&columns(w, v), x, dot))
        }
        (Some(FloatSlice::F64(w)), Some(FloatSlice::F64(x))) => rank_float(&columns(w, v), x, dot),
        _ => best_of(exact_keys(&columns(w, v), x, dot), dot),
    }
}

/// The scores of one query against all tokens, from the vector pass.
pub(crate) struct Scores {
    /// `x·wⱼ` or `|x − wⱼ|²`, in `f64`.
    pub keys: Vec<f64>,
    /// `maxᵢ|wⱼᵢ|` of each token (argmax-dot only; empty otherwise).
    pub col_max: Vec<f32>,
}

impl Scores {
    /// Room for the scores of `v` tokens.
    pub(crate) fn new(v: usize, dot: bool) -> Scores {
        Scores {
            keys: vec![0.0; v],
            col_max: vec![0.0; if dot { v } else { 0 }],
        }
    }
}

/// The exact ranking of the `v` tokens stored column by column in `w` against `x` at level
/// `level` (see [`best_token`]); `None` when this path does not apply (the level has no
/// vector path, there is no token or no entry, or a score is not finite) and the reference
/// path must answer.
pub(crate) fn rank_f32(
    level: Isa,
    w: &[f32],
    v: usize,
    x: &[f32],
    dot: bool,
) -> Option<Option<usize>> {
    if v == 0 || x.is_empty() {
        return None;
    }
    let x64 = widen(x);
    let mut s = Scores::new(v, dot);
    if !simd::rank_scores(level, w, &x64, dot, &mut s.keys, &mut s.col_max) {
        return None;
    }
    decide(w, x, &s, dot)
}

/// [`super::nearest_cosine`] of the `v` `f32` tokens stored column by column in `w` against
/// `x` at level `level`, through the vector pass and its filter (see the module docs): the
/// reference cosines of the kept tokens decide. `None` when this path does not apply (the
/// level has no vector path, there is no token or no entry, the query is zero or a value is
/// not finite) and the reference path must answer.
pub(crate) fn cosine_f32(level: Isa, w: &[f32], v: usize, x: &[f32]) -> Option<Option<usize>> {
    cosine_with_pass(level, w, v, x, |x64, keys, col_max, sq| {
        simd::cosine_scores(level, w, x64, keys, col_max, sq)
    })
}

/// [`cosine_f32`] with the vector pass given as `pass(x64, keys, col_max, sq)` (it fills the
/// three slices for every token and returns `false` when it cannot): one call, or blocks of
/// tokens on several threads.
pub(crate) fn cosine_with_pass(
    level: Isa,
    w: &[f32],
    v: usize,
    x: &[f32],
    pass: impl FnOnce(&[f64], &mut [f64], &mut [f32], &mut [f64]) -> bool,
) -> Option<Option<usize>> {
    let CosineScores { cos, f, r } = cosines_with_bounds(level, v, x, pass)?;
    let b = best_of(cos.iter().copied(), true)?;
    if cos[b] == f64::NEG_INFINITY {
        return Some(None);
    }
    let near: Vec<usize> = (0..v)
        .filter(|&j| {
            cos[j] > f64::NEG_INFINITY && cos[b] - cos[j] <= (f[b] + f[j] + 2.0 * r) * WIDEN
        })
        .collect();
    if near.len() == 1 {
        return Some(Some(b));
    }
    let d = x.len();
    let kept = near.iter().map(|&j| &w[j * d..(j + 1) * d]);
    Some(super::best_cosine(kept, x).map(|i| near[i]))
}

/// The vector pass's cosines of [`cosine_f32`] with their bounds.
struct CosineScores {
    /// `ĉⱼ`, −∞ for a zero token.
    cos: Vec<f64>,
    /// `Fⱼ` (module docs): `|ĉⱼ − cⱼ| ≤ Fⱼ`.
    f: Vec<f64>,
    /// `R`: the reference cosines' bound.
    r: f64,
}

/// The cosines of the vector pass and their bounds; `None` as for [`cosine_f32`].
fn cosines_with_bounds(
    level: Isa,
    v: usize,
    x: &[f32],
    pass: impl FnOnce(&[f64], &mut [f64], &mut [f32], &mut [f64]) -> bool,
) -> Option<CosineScores> {
    let n = x.len();
    if v == 0 || n == 0 || level == Isa::Scalar {
        return None;
    }
    let x64 = widen(x);
    let sx: f64 = x64.iter().map(|e| e * e).sum();
    if !(sx > 0.0 && sx.is_finite()) {
        return None;
    }
    let mut s = Scores::new(v, true);
    let mut sq = vec![0.0; v];
    if !pass(&x64, &mut s.keys, &mut s.col_max, &mut sq) {
        return None;
    }
    if s.keys.iter().chain(&sq).any(|k| !k.is_finite()) {
        return None;
    }
    let cx = dot_err_factor(x);
    let rho3 = 3.0 * tolerance::rank_cosine_norm_rel_err_f32(n);
    let (cos, f) = (0..v)
        .map(|j| {
            if sq[j] == 0.0 {
                return (f64::NEG_INFINITY, 0.0);
            }
            let nj = (sx * sq[j]).sqrt();
            (
                s.keys[j] / nj,
                2.0 * (cx * f64::from(s.col_max[j])) / nj + rho3,
            )
        })
        .unzip();
    Some(CosineScores {
        cos,
        f,
        r: tolerance::cosine_abs_err_f64(n),
    })
}

/// `c·‖x‖₁` of the dot products' bound `Eⱼ = c·‖x‖₁·maxᵢ|wⱼᵢ|`
/// ([`tolerance::rank_dot_err_f32`]), computed as that bound assumes.
fn dot_err_factor(x: &[f32]) -> f64 {
    let l1: f64 = x.iter().map(|v| f64::from(v.abs())).sum();
    tolerance::rank_dot_err_f32(x.len()) * l1
}

/// `x` widened to `f64` (exact).
pub(crate) fn widen(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&e| f64::from(e)).collect()
}

/// The candidates of the scores `s` (see the module docs) and the exact decision among them;
/// `None` when a score is not finite.
pub(crate) fn decide(w: &[f32], x: &[f32], s: &Scores, dot: bool) -> Option<Option<usize>> {
    let keys = &s.keys;
    if keys.iter().any(|k| !k.is_finite()) {
        return None;
    }
    let b = best_of(keys.iter().copied(), dot)?;
    let near = candidates(x, s, b, dot);
    if near.len() == 1 {
        return Some(Some(b));
    }
    Some(exact_best(&columns(w, keys.len()), x, &near, dot))
}

/// The tokens whose score interval overlaps that of the computed best `b`, in increasing
/// order (`b` among them).
pub(crate) fn candidates(x: &[f32], s: &Scores, b: usize, dot: bool) -> Vec<usize> {
    let (keys, n) = (&s.keys, x.len());
    if dot {
        let cx = dot_err_factor(x);
        let eb = cx * f64::from(s.col_max[b]);
        (0..keys.len())
            .filter(|&j| keys[b] - keys[j] <= (cx * f64::from(s.col_max[j]) + eb) * WIDEN)
            .collect()
    } else {
        let lim = keys[b] * (1.0 + 4.0 * tolerance::rank_distance_rel_err_f32(n));
        (0..keys.len()).filter(|&j| keys[j] <= lim).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::Signed;
    use proptest::prelude::*;

    /// Entries across the exponent range, with sign.
    fn wide() -> impl Strategy<Value = f32> {
        prop_oneof![
            -8.0f32..8.0,
            (-149i32..=127, any::<bool>(), 1.0f32..2.0).prop_map(|(e, neg, m)| {
                let v = (2f64.powi(e) * f64::from(m)) as f32;
                if neg { -v } else { v }
            }),
        ]
    }

    fn q(v: f64) -> BigRational {
        BigRational::from_float(v).expect("finite")
    }

    /// `a·N ≤ d` for `N = √n2` (`n2 ≥ 0`), exactly.
    fn below(a: &BigRational, n2: &BigRational, d: &BigRational) -> bool {
        let zero = q(0.0);
        match (a < &zero, d < &zero) {
            (true, false) => true,
            (false, true) => false,
            (false, false) => a.clone() * a * n2 <= d.clone() * d,
            (true, true) => a.clone() * a * n2 >= d.clone() * d,
        }
    }

    /// `|c − cos| ≤ e` for the exact cosine `cos = d/√n2`, exactly.
    fn within(c: f64, e: f64, d: &BigRational, n2: &BigRational) -> bool {
        let (lo, hi) = (q(c) - q(e), q(c) + q(e));
        below(&lo, n2, d) && below(&-hi, n2, &-d.clone())
    }

    /// Tokens for the cosine: the seed's, then copies of the first scaled by 2⁻³ (the same
    /// reference cosine exactly, unless the scaling rounds a subnormal entry), nudged by one
    /// ulp, negated, and a zero token.
    fn cosine_tokens(seed: &[f32], d: usize, v: usize) -> Vec<f32> {
        let mut w = seed[..d * v].to_vec();
        let first = w[..d].to_vec();
        w.extend(first.iter().map(|&e| e * 0.125));
        let mut nudged = first.clone();
        nudged[d / 2] = nudged[d / 2].next_up();
        w.extend(nudged);
        w.extend(first.iter().map(|&e| -e));
        w.extend(vec![0.0; d]);
        w
    }

    proptest! {
        /// The cosine filter's answer is the reference's (first index of the largest reference
        /// cosine), with exact ties, one-ulp neighbours and zero tokens among the tokens, and
        /// the query one of the tokens or not.
        #[test]
        fn cosine_filter_gives_the_reference_answer(
            (d, v) in (1usize..=40, 1usize..=5),
            seed in proptest::collection::vec(wide(), 40 * 6),
            query_is_token in any::<bool>(),
        ) {
            prop_assume!(Isa::Avx2Fma.is_available());
            let w = cosine_tokens(&seed, d, v);
            let x = if query_is_token { &w[..d] } else { &seed[200..200 + d] };
            let tokens = w.len() / d;
            let want = super::super::best_cosine(w.chunks_exact(d), x);
            match cosine_f32(Isa::Avx2Fma, &w, tokens, x) {
                Some(got) => prop_assert_eq!(got, want),
                None => prop_assert!(x.iter().all(|&e| e == 0.0), "the path declined a non-zero query"),
            }
        }

        /// The vector pass's cosines lie within `Fⱼ` of the exact cosine and the reference
        /// cosines within `R`, checked in rationals (`cos = d/√(sₓsⱼ)` compared by squares).
        #[test]
        fn cosines_within_their_bounds(
            (d, v) in (1usize..=40, 1usize..=5),
            seed in proptest::collection::vec(wide(), 40 * 6),
        ) {
            prop_assume!(Isa::Avx2Fma.is_available());
            let w = cosine_tokens(&seed, d, v);
            let x = &seed[200..200 + d];
            let tokens = w.len() / d;
            let pass = |x64: &[f64], k: &mut [f64], c: &mut [f32], q: &mut [f64]| {
                simd::cosine_scores(Isa::Avx2Fma, &w, x64, k, c, q)
            };
            let Some(s) = cosines_with_bounds(Isa::Avx2Fma, tokens, x, pass) else {
                prop_assert!(x.iter().all(|&e| e == 0.0));
                return Ok(());
            };
            let sum = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(q(0.0), |acc, (&p, &r)| {
                acc + q(f64::from(p)) * q(f64::from(r))
            });
            let sx = sum(x, x);
            let x64 = widen(x);
            for (j, c) in w.chunks_exact(d).enumerate() {
                let sj = sum(c, c);
                if sj == q(0.0) {
                    prop_assert_eq!(s.cos[j], f64::NEG_INFINITY);
                    continue;
                }
                let (dot, n2) = (sum(x, c), sx.clone() * sj);
                prop_assert!(within(s.cos[j], s.f[j], &dot, &n2), "token {}: ĉ = {:e}, F = {:e}", j, s.cos[j], s.f[j]);
                let r = crate::kernels::geometry::cosine_f64(&x64, &widen(c)).expect("non-zero");
                prop_assert!(within(r, s.r, &dot, &n2), "token {}: reference {:e}, R = {:e}", j, r, s.r);
            }
        }

        /// The vector pass's scores lie within the bounds the filter assumes:
        /// `|k̂ − k| ≤ c·‖x‖₁·max|wⱼ|` (computed as the filter computes it) for dot products,
        /// `|k̂ − k| ≤ r·k` for squared distances, checked in rationals.
        #[test]
        fn scores_within_their_bounds(
            (d, v) in (1usize..=50, 1usize..=4),
            seed in proptest::collection::vec(wide(), 50 * 5),
        ) {
            prop_assume!(Isa::Avx2Fma.is_available());
            let x = &seed[..d];
            let w = &seed[50..50 + d * v];
            let x64 = widen(x);
            for dot in [true, false] {
                let mut s = Scores::new(v, dot);
                prop_assert!(simd::rank_scores(Isa::Avx2Fma, w, &x64, dot, &mut s.keys, &mut s.col_max));
                let l1: f64 = x.iter().map(|v| f64::from(v.abs())).sum();
                let cx = tolerance::rank_dot_err_f32(d) * l1;
                for (j, c) in w.chunks_exact(d).enumerate() {
                    let exact = c.iter().zip(x).fold(q(0.0), |acc, (&a, &b)| {
                        let (a, b) = (q(f64::from(a)), q(f64::from(b)));
                        if dot { acc + a * b } else { acc + (a.clone() - b.clone()) * (a - b) }
                    });
                    let err = (q(s.keys[j]) - exact.clone()).abs();
                    let bound = if dot {
                        prop_assert_eq!(s.col_max[j], c.iter().fold(0.0f32, |m, e| m.max(e.abs())));
                        q(cx * f64::from(s.col_max[j]))
                    } else {
                        q(tolerance::rank_distance_rel_err_f32(d)) * exact
                    };
                    prop_assert!(err <= bound, "dot = {}, token {}: error {} > bound {}", dot, j, err, bound);
                }
            }
        }
    }
}
