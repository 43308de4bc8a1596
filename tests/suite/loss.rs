//! Properties of cross-entropy and its gradient (module `loss`), f32 and f64.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use transformer_laws::Real;
use transformer_laws::loss::*;
use transformer_laws::scalar::Acc;
use transformer_laws::softmax::{log_softmax, softmax};
use transformer_laws::strategies::{FloatStrategies, logits, small_int, vector};
use transformer_laws::tolerance::*;

fn row_and_target<T: FloatStrategies>() -> impl Strategy<Value = (Vec<T>, usize)> {
    logits::<T>(1..=24).prop_flat_map(|z| {
        let n = z.len();
        (Just(z), 0..n)
    })
}

/// The gradient has the signs the thread relies on — ∂L/∂z_y ≤ 0, ∂L/∂zⱼ ≥ 0 — exactly, and
/// sums to 0 within the gradient budget (a dominant target makes every entry subnormal in
/// f32: `[-7, 94.28106, 4.313178, -5, -5, 0]`, y = 1, is kept as a fixed case).
fn gradient_signs_and_sum<T: FloatStrategies>(z: Vec<T>, y: usize) -> Result<(), TestCaseError> {
    let g = cross_entropy_grad(&z, y);
    prop_assert!(g[y] <= T::zero(), "g_y = {:?}", g[y]);
    prop_assert!(g.iter().enumerate().all(|(j, &v)| j == y || v >= T::zero()));
    let mut acc = Acc::default();
    g.iter().for_each(|v| acc.add(v.widen()));
    let abs: f64 = g.iter().map(|v| v.widen().abs()).sum();
    // Each entry within its relative budget, or, where it is subnormal, within half the
    // smallest subnormal of its exact value: the n entries' absolute rounding adds up.
    let tol = abs * relative::<T>(CE_GRAD_ULPS) + subnormal_rounding::<T>(z.len());
    prop_assert!(acc.value().abs() <= tol, "Σg = {} > {tol}", acc.value());
    Ok(())
}

/// The loss is −log_softmax(z)_y (the same kernel: bit for bit) and is ≥ 0; the gradient is
/// softmax − one-hot off the target entry (bit for bit).
fn agrees_with_softmax<T: FloatStrategies>(z: Vec<T>, y: usize) -> Result<(), TestCaseError> {
    let (l, g) = cross_entropy_with_grad(&z, y);
    prop_assert!(l >= T::zero());
    prop_assert_eq!(
        l.to_bits_u64(),
        (T::zero() - log_softmax(&z)[y]).to_bits_u64()
    );
    let p = softmax(&z);
    for j in (0..z.len()).filter(|&j| j != y) {
        prop_assert_eq!(g[j], p[j]);
    }
    Ok(())
}

/// L(z + c) = L(z) bit for bit where z + c is exact (integer lattice).
fn shift_invariant<T: Real>(z: Vec<T>, c: T) -> Result<(), TestCaseError> {
    let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
    for y in 0..z.len() {
        prop_assert_eq!(
            cross_entropy_with_grad(&z, y),
            cross_entropy_with_grad(&zc, y)
        );
    }
    Ok(())
}

/// A dominant target: every entry of the f32 gradient is subnormal, and their roundings add up
/// to more than one smallest subnormal.
#[test]
fn gradient_sum_with_subnormal_entries_f32() {
    let z = [-7.0f32, 94.28106, 4.313178, -5.0, -5.0, 0.0];
    gradient_signs_and_sum(z.to_vec(), 1).unwrap();
    let g = cross_entropy_grad(&z, 1);
    assert!(g.iter().all(|v| v.abs() < f32::MIN_POSITIVE), "{g:?}");
}

proptest! {
    #[test]
    fn gradient_signs_and_sum_f32((z, y) in row_and_target::<f32>()) { gradient_signs_and_sum(z, y)?; }
    #[test]
    fn gradient_signs_and_sum_f64((z, y) in row_and_target::<f64>()) { gradient_signs_and_sum(z, y)?; }
    #[test]
    fn agrees_with_softmax_f32((z, y) in row_and_target::<f32>()) { agrees_with_softmax(z, y)?; }
    #[test]
    fn agrees_with_softmax_f64((z, y) in row_and_target::<f64>()) { agrees_with_softmax(z, y)?; }
    #[test]
    fn shift_invariant_f32(z in vector(small_int::<f32>(), 1..=8), c in small_int::<f32>()) { shift_invariant(z, c)?; }
    #[test]
    fn shift_invariant_f64(z in vector(small_int::<f64>(), 1..=8), c in small_int::<f64>()) { shift_invariant(z, c)?; }
}
