//! Property tests of the LayerNorm and RMSNorm claims (f32/f64 generic bodies, exact rationals
//! for the ReLU layer, and the registry's searches for the readings that fail).

mod support;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{abs_sorted, case, settle};
use transformer_laws::Real;
use transformer_laws::claims::Domain;
use transformer_laws::geometry::norm;
use transformer_laws::norms::{layer_norm, rms_norm};
use transformer_laws::strategies::{small_int, vector};
use transformer_laws::tolerance::*;

fn row<T: Real>() -> impl Strategy<Value = Vec<T>> {
    vector(small_int::<T>(), 2..=12).prop_filter("σ > 0", |x| x.iter().any(|&v| v != x[0]))
}

/// |LN(x)| = √d for ε = 0 (not 1).
fn output_norm_is_sqrt_d<T: Real>(x: Vec<T>) -> Result<(), TestCaseError> {
    let n = norm(&layer_norm(&x, T::zero(), None, None)).widen();
    let d = (x.len() as f64).sqrt();
    prop_assert!(
        (n - d).abs() <= d * relative::<T>(NORM_LAYER_ULPS + NORM_ULPS + 1),
        "{n} vs √{}",
        x.len()
    );
    Ok(())
}

/// LN(α·x) = LN(x) for α a power of two, ε = 0: bit for bit (the kernel rescales exactly).
fn scale_invariance<T: Real>(x: Vec<T>, k: i32) -> Result<(), TestCaseError> {
    let a = T::narrow(2f64.powi(k));
    let xa: Vec<T> = x.iter().map(|&v| v * a).collect();
    prop_assert_eq!(
        layer_norm(&xa, T::zero(), None, None),
        layer_norm(&x, T::zero(), None, None)
    );
    Ok(())
}

/// The same for RMSNorm.
fn rms_scale_invariance<T: Real>(x: Vec<T>, k: i32) -> Result<(), TestCaseError> {
    let a = T::narrow(2f64.powi(k));
    let xa: Vec<T> = x.iter().map(|&v| v * a).collect();
    prop_assert_eq!(
        rms_norm(&xa, T::zero(), None),
        rms_norm(&x, T::zero(), None)
    );
    Ok(())
}

proptest! {
    #[test]
    fn output_norm_is_sqrt_d_f32(x in row::<f32>()) { output_norm_is_sqrt_d(x)?; }
    #[test]
    fn output_norm_is_sqrt_d_f64(x in row::<f64>()) { output_norm_is_sqrt_d(x)?; }
    #[test]
    fn scale_invariance_f32(x in row::<f32>(), k in -60i32..60) { scale_invariance(x, k)?; }
    #[test]
    fn scale_invariance_f64(x in row::<f64>(), k in -500i32..500) { scale_invariance(x, k)?; }
    #[test]
    fn rms_scale_invariance_f32(x in row::<f32>(), k in -60i32..60) { rms_scale_invariance(x, k)?; }
    #[test]
    fn rms_scale_invariance_f64(x in row::<f64>(), k in -500i32..500) { rms_scale_invariance(x, k)?; }
}

#[test]
fn output_norm_search_finds_and_verifies() {
    // |LN([0, 1])| = √2: two coordinates suffice.
    let c = case(&settle("layernorm-output-norm", "a", Domain::Real));
    assert_eq!(abs_sorted(c.v("x")), [0, 1], "{c}");
    settle("layernorm-output-norm", "b", Domain::Real);
    settle("layernorm-output-norm", "c", Domain::Real);
}

#[test]
fn shift_invariance_f64() {
    settle("layernorm-sees-direction", "a1", Domain::Real);
    settle("layernorm-sees-direction", "c1", Domain::Real);
    settle("layernorm-hides-magnitude", "a", Domain::Real);
}

#[test]
fn direction_search_finds_and_verifies() {
    settle("layernorm-sees-direction", "a2", Domain::Real);
    settle("layernorm-sees-direction", "b", Domain::Real);
    settle("layernorm-sees-direction", "c2", Domain::Real);
}

#[test]
fn residual_update_search_finds_and_verifies() {
    settle("layernorm-hides-magnitude", "b", Domain::Real);
}

#[test]
fn recover_sigma_real() {
    settle("layernorm-hides-magnitude", "c", Domain::Real);
    settle("layernorm-hides-magnitude", "c", Domain::F32);
}

#[test]
fn relu_homogeneous_exact() {
    settle("no-layernorm-magnitude", "a", Domain::Real);
}

#[test]
fn bias_and_gelu_search_finds_and_verifies() {
    settle("no-layernorm-magnitude", "b1", Domain::Real);
    settle("no-layernorm-magnitude", "b2", Domain::Real);
}

#[test]
fn rms_norm_sqrt_d_f64() {
    settle("rmsnorm-invariances", "a", Domain::Real);
    settle("rmsnorm-invariances", "c", Domain::Real);
}

#[test]
fn rms_shift_search_finds_and_verifies() {
    settle("rmsnorm-invariances", "b", Domain::Real);
}

#[test]
fn final_layernorm_f64() {
    settle("final-layernorm-fixes-temperature", "a", Domain::Real);
}

#[test]
fn no_final_layernorm_is_temperature_f64() {
    settle("final-layernorm-fixes-temperature", "b", Domain::Real);
}
