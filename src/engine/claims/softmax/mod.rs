//! Claims about the softmax (section "Softmax" of the thread's claims): one file per claim, and
//! the helpers they share.

mod logsumexp_bounds;
mod softmax_is_a_distribution;
mod softmax_shift_invariance;
mod softmax_temperature;

use super::*;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::tolerance::{SOFTMAX_ULPS, relative, ulp};

/// Two softmax evaluations of the same real values differ by at most this (each is within
/// SOFTMAX_ULPS ulp of the truth; probabilities are ≤ 1; plus two subnormal ulps).
pub(crate) fn softmax_pair_bound<T: crate::kernels::scalar::Real>() -> f64 {
    2.0 * relative::<T>(SOFTMAX_ULPS) + 2.0 * ulp(T::zero())
}

/// The first pair (i, j), in index order, where the larger logit zᵢ > zⱼ got the strictly
/// smaller probability pᵢ < pⱼ.
pub(crate) fn strict_reversal<T: crate::kernels::scalar::Real>(
    z: &[T],
    p: &[T],
) -> Option<(usize, usize)> {
    let n = z.len();
    (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .find(|&(i, j)| lt(z[j], z[i]) && lt(p[i], p[j]))
}

/// Every case with the vector `z` of `dims` integer entries in `range` and one value of each
/// parameter list, that `keep` admits, in the crate's complexity order (ties in the order
/// they are generated: entries, then parameters, counting up).
pub(crate) fn lattice_in_order(
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: &[(&'static str, Vec<Param>)],
    values: Values,
    keep: impl Fn(&Case) -> bool,
) -> Box<dyn Iterator<Item = Case>> {
    let entries: Vec<i64> = range.collect();
    let mut zs: Vec<Vec<i64>> = Vec::new();
    let mut layer: Vec<Vec<i64>> = vec![vec![]];
    for d in 1..=*dims.end() {
        layer = layer
            .into_iter()
            .flat_map(|z| {
                entries.iter().map(move |&e| {
                    let mut z = z.clone();
                    z.push(e);
                    z
                })
            })
            .collect();
        if dims.contains(&d) {
            zs.extend(layer.iter().cloned());
        }
    }
    let mut ps: Vec<Vec<(&'static str, Param)>> = vec![vec![]];
    for (name, vals) in params {
        ps = ps
            .into_iter()
            .flat_map(|p| {
                vals.iter().map(move |&v| {
                    let mut p = p.clone();
                    p.push((*name, v));
                    p
                })
            })
            .collect();
    }
    let mut out: Vec<Case> = zs
        .iter()
        .flat_map(|z| {
            ps.iter().map(move |p| {
                Case::of_values(
                    vec![("z", z.iter().map(|&x| x as f64).collect())],
                    p.clone(),
                    values,
                )
            })
        })
        .filter(|c| keep(c))
        .collect();
    out.sort_by(|a, b| {
        a.complexity()
            .partial_cmp(&b.complexity())
            .expect("lattice cases have finite sizes")
    });
    Box::new(out.into_iter())
}

/// The index of the unique largest entry, if the largest is unique.
pub(crate) fn unique_argmax(z: &[f64]) -> Option<usize> {
    let k = argmax(z);
    (z.iter().filter(|&&v| v == z[k]).count() == 1).then_some(k)
}

/// `e^x` for an `x` far below the range of `f64`, in base 10: `≈ 6.8136e-46`.
pub(crate) fn tiny_exp(x: f64) -> String {
    let l10 = x * std::f64::consts::LOG10_E;
    let (e10, m10) = (l10.floor(), 10f64.powf(l10 - l10.floor()));
    format!("{m10:.4}e{e10}")
}

/// Positive values of `T` across its whole range (α of a temperature or a scale).
pub(crate) fn positive<T: FloatStrategies>() -> BoxedStrategy<Param> {
    let max = T::max_value().widen();
    value::<T>(-max, max)
        .prop_map(|p| Param::Value(p.value().abs()))
        .boxed()
}

/// Any finite value of `T` (a shift).
pub(crate) fn any_value<T: FloatStrategies>() -> BoxedStrategy<Param> {
    let max = T::max_value().widen();
    value::<T>(-max, max)
}
pub(crate) fn zs(
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    vectors(&["z"], dims, range, params)
}

/// The softmax claims.
pub fn claims() -> Vec<Claim> {
    vec![
        softmax_shift_invariance::claim(),
        softmax_temperature::claim(),
        softmax_is_a_distribution::claim(),
        logsumexp_bounds::claim(),
    ]
}
