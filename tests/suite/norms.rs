//! Properties of LayerNorm, RMSNorm and centering (module `norms`), f32 and f64.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use transformer_laws::Real;
use transformer_laws::norms::*;
use transformer_laws::scalar::Acc;
use transformer_laws::strategies::{FloatStrategies, logits};
use transformer_laws::tolerance::*;

fn eps_values<T: Real>() -> impl Strategy<Value = T> {
    prop_oneof![
        Just(T::zero()),
        Just(T::narrow(1e-5)),
        (0.0f64..4.0).prop_map(T::narrow)
    ]
}

fn non_constant<T: FloatStrategies>() -> impl Strategy<Value = Vec<T>> {
    logits::<T>(2..=24).prop_filter("zero variance", |x| x.iter().any(|&v| v != x[0]))
}

fn sum_and_sq<T: Real>(y: &[T]) -> (f64, f64, f64) {
    let (mut s, mut q) = (Acc::default(), Acc::default());
    y.iter().for_each(|v| {
        s.add(v.widen());
        q.add(v.widen() * v.widen());
    });
    let abs: f64 = y.iter().map(|v| v.widen().abs()).sum();
    (s.value(), q.value(), abs)
}

/// LN(x) has mean 0 and |LN(x)|² = d·σ²/(σ² + ε) — which is d, not 1, for ε = 0
/// (proofs/layernorm-output-norm.md). σ² is taken from the RMSNorm identity below.
fn layer_norm_moments<T: FloatStrategies>(x: Vec<T>, eps: T) -> Result<(), TestCaseError> {
    let y = layer_norm(&x, eps, None, None);
    let d = x.len() as f64;
    let (s, q, abs) = sum_and_sq(&y);
    let budget = relative::<T>(NORM_LAYER_ULPS);
    prop_assert!(
        s.abs() <= abs * budget + ulp(T::zero()) * d,
        "Σy = {s} for {x:?}"
    );
    // σ² from the f64 centered row (exact enough: relative error ≤ γ_d in f64).
    // Scaled by max|cᵢ| so the squares cannot overflow: ε/σ² = (ε/m²)/(Σ(cᵢ/m)²/d).
    let c: Vec<f64> = center(&x.iter().map(|v| v.widen()).collect::<Vec<f64>>());
    let m = c.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let var_scaled: f64 = c.iter().map(|v| (v / m) * (v / m)).sum::<f64>() / d;
    let want = d / (1.0 + eps.widen() / m / m / var_scaled);
    let tol = want * (2.0 * budget + gamma::<f64>(2 * x.len() + 4)) + 4.0 * d * ulp(T::zero());
    prop_assert!(
        (q - want).abs() <= tol,
        "|LN x|² = {q}, want {want} for {x:?}"
    );
    Ok(())
}

/// LayerNorm is RMSNorm of the centered row: LN(x) = RMSNorm(center(x)) within two budgets.
fn layer_norm_is_rms_of_centered<T: FloatStrategies>(
    x: Vec<T>,
    eps: T,
) -> Result<(), TestCaseError> {
    let a = layer_norm(&x, eps, None, None);
    let b = rms_norm(&center(&x), eps, None);
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.widen().abs()));
    for (u, v) in a.iter().zip(&b) {
        // center(x) is rounded to T once more than LN's internal deviations.
        let tol = scale * relative::<T>(2 * NORM_LAYER_ULPS + 1) + 4.0 * ulp(T::zero());
        prop_assert!((u.widen() - v.widen()).abs() <= tol, "{a:?} vs {b:?}");
    }
    Ok(())
}

/// With ε = 0, scaling by a power of two changes nothing, bit for bit: the kernels rescale
/// every row to [1, 2) by an exact power of two first.
fn power_of_two_scale_is_exact<T: FloatStrategies>(x: Vec<T>, k: i32) -> Result<(), TestCaseError> {
    let s = T::narrow(2f64.powi(k));
    let xs: Vec<T> = x.iter().map(|&v| v * s).collect();
    prop_assume!(
        xs.iter()
            .zip(&x)
            .all(|(&a, &b)| a.is_finite() && (a / s) == b)
    );
    prop_assert_eq!(
        layer_norm(&x, T::zero(), None, None),
        layer_norm(&xs, T::zero(), None, None)
    );
    prop_assert_eq!(
        rms_norm(&x, T::zero(), None),
        rms_norm(&xs, T::zero(), None)
    );
    Ok(())
}

/// |RMSNorm(x)|² = d for ε = 0.
fn rms_norm_has_norm_sqrt_d<T: FloatStrategies>(x: Vec<T>) -> Result<(), TestCaseError> {
    let y = rms_norm(&x, T::zero(), None);
    let d = x.len() as f64;
    let (_, q, _) = sum_and_sq(&y);
    let tol = d * (2.0 * relative::<T>(NORM_LAYER_ULPS) + gamma::<f64>(x.len()))
        + 4.0 * d * ulp(T::zero());
    prop_assert!((q - d).abs() <= tol, "|RMS x|² = {q} for {x:?}");
    Ok(())
}

/// γ and β are applied as γ ⊙ n + β with one rounding: against the plain normalized row.
fn affine_parameters<T: FloatStrategies>(x: Vec<T>, g: T, b: T) -> Result<(), TestCaseError> {
    let n = layer_norm(&x, T::zero(), None, None);
    let gamma = vec![g; x.len()];
    let beta = vec![b; x.len()];
    let y = layer_norm(&x, T::zero(), Some(&gamma), Some(&beta));
    for (yi, ni) in y.iter().zip(&n) {
        let want = g.widen() * ni.widen() + b.widen();
        let tol = (g.widen() * ni.widen()).abs() * relative::<T>(NORM_LAYER_ULPS + 1)
            + ulp(T::narrow(want));
        prop_assert!((yi.widen() - want).abs() <= tol);
    }
    Ok(())
}

proptest! {
    #[test]
    fn layer_norm_moments_f32(x in non_constant::<f32>(), eps in eps_values::<f32>()) { layer_norm_moments(x, eps)?; }
    #[test]
    fn layer_norm_moments_f64(x in non_constant::<f64>(), eps in eps_values::<f64>()) { layer_norm_moments(x, eps)?; }
    #[test]
    fn layer_norm_is_rms_of_centered_f32(x in non_constant::<f32>(), eps in eps_values::<f32>()) { layer_norm_is_rms_of_centered(x, eps)?; }
    #[test]
    fn layer_norm_is_rms_of_centered_f64(x in non_constant::<f64>(), eps in eps_values::<f64>()) { layer_norm_is_rms_of_centered(x, eps)?; }
    #[test]
    fn power_of_two_scale_is_exact_f32(x in non_constant::<f32>(), k in -20i32..20) { power_of_two_scale_is_exact(x, k)?; }
    #[test]
    fn power_of_two_scale_is_exact_f64(x in non_constant::<f64>(), k in -200i32..200) { power_of_two_scale_is_exact(x, k)?; }
    #[test]
    fn rms_norm_has_norm_sqrt_d_f32(x in non_constant::<f32>()) { rms_norm_has_norm_sqrt_d(x)?; }
    #[test]
    fn rms_norm_has_norm_sqrt_d_f64(x in non_constant::<f64>()) { rms_norm_has_norm_sqrt_d(x)?; }
    #[test]
    fn affine_parameters_f32(x in non_constant::<f32>(), g in -4.0f32..4.0, b in -4.0f32..4.0) { affine_parameters(x, g, b)?; }
    #[test]
    fn affine_parameters_f64(x in non_constant::<f64>(), g in -4.0f64..4.0, b in -4.0f64..4.0) { affine_parameters(x, g, b)?; }
}
