//! Properties of the softmax family (module `softmax`), one generic body per property,
//! instantiated for f32 and f64. Tolerances come from `transformer_laws::tolerance`.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use transformer_laws::Real;
use transformer_laws::scalar::Acc;
use transformer_laws::softmax::*;
use transformer_laws::strategies::{FloatStrategies, logits, small_int, vector};
use transformer_laws::tolerance::*;

fn sum<T: Real>(v: &[T]) -> f64 {
    let mut acc = Acc::default();
    v.iter().for_each(|x| acc.add(x.widen()));
    acc.value()
}

/// Σ softmax(z) = 1 to within the componentwise budget (plus the f64 rounding of the test's
/// own compensated sum), and every entry is in [0, 1].
fn sums_to_one<T: FloatStrategies>(z: Vec<T>) -> Result<(), TestCaseError> {
    let p = softmax(&z);
    let s = sum(&p);
    let tol = relative::<T>(SOFTMAX_ULPS) + relative::<f64>(1);
    prop_assert!((s - 1.0).abs() <= tol, "Σp = {s} for {z:?}");
    prop_assert!(p.iter().all(|&x| x >= T::zero() && x <= T::one()));
    Ok(())
}

/// The kernel depends only on the exact differences zᵢ − max z: on an integer lattice, where
/// z + c is exact, softmax, log_softmax and the cross-entropy family agree bit for bit.
fn shift_is_bitwise<T: Real>(z: Vec<T>, c: T) -> Result<(), TestCaseError> {
    let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
    prop_assert_eq!(softmax(&z), softmax(&zc));
    prop_assert_eq!(log_softmax(&z), log_softmax(&zc));
    prop_assert_eq!(entropy(&z), entropy(&zc));
    Ok(())
}

/// exp(log_softmax) = softmax: |exp(l̂ᵢ) − p̂ᵢ| ≤ pᵢ·(ε·LOG_SOFTMAX_ULPS·|l̂ᵢ| + ε·(SOFTMAX_ULPS + 1)).
fn log_is_log_of_softmax<T: FloatStrategies>(z: Vec<T>) -> Result<(), TestCaseError> {
    let p = softmax(&z);
    let l = log_softmax(&z);
    for (pi, li) in p.iter().zip(&l) {
        let (pi, li) = (pi.widen(), li.widen());
        // A log-probability below the type's range rounds to −∞ (exp: 0), where the relative
        // budget would be 0·∞: only the subnormal floor applies to its probability.
        let tol = if li.is_finite() {
            pi * (relative::<T>(LOG_SOFTMAX_ULPS) * li.abs() + relative::<T>(SOFTMAX_ULPS + 1))
        } else {
            0.0
        };
        // Below the smallest normal the relative budget no longer holds: allow a few subnormal ulps.
        let floor = 4.0 * ulp(T::zero());
        prop_assert!(
            (li.exp() - pi).abs() <= tol + floor,
            "exp({li}) vs {pi} for {z:?}"
        );
    }
    Ok(())
}

/// max z ≤ logsumexp(z) ≤ max z + ln n, up to one rounding of the result.
fn logsumexp_bounds<T: FloatStrategies>(z: Vec<T>) -> Result<(), TestCaseError> {
    let l = logsumexp(&z).widen();
    let m = z.iter().fold(f64::NEG_INFINITY, |a, b| a.max(b.widen()));
    let hi = m + (z.len() as f64).ln();
    let slack = 2.0 * ulp(T::narrow(hi.abs().max(m.abs())));
    prop_assert!(l >= m - slack && l <= hi + slack, "{m} ≤ {l} ≤ {hi}");
    Ok(())
}

/// 0 ≤ H ≤ ln n, up to the entropy budget.
fn entropy_bounds<T: FloatStrategies>(z: Vec<T>) -> Result<(), TestCaseError> {
    let h = entropy(&z).widen();
    let ln_n = (z.len() as f64).ln();
    prop_assert!(h >= 0.0 && h <= ln_n * (1.0 + relative::<T>(ENTROPY_ULPS)) + ulp(T::zero()));
    Ok(())
}

/// Temperature 1 is the plain softmax (bit for bit), and every temperature keeps the argmax
/// of a lattice row whose maximum is unique.
fn temperature_keeps_argmax<T: Real>(z: Vec<T>, t: T) -> Result<(), TestCaseError> {
    prop_assert_eq!(softmax_with_temperature(&z, T::one()), softmax(&z));
    let m = z.iter().cloned().fold(T::neg_infinity(), T::max);
    prop_assume!(z.iter().filter(|&&v| v == m).count() == 1);
    let k = z.iter().position(|&v| v == m).unwrap();
    let p = softmax_with_temperature(&z, t);
    prop_assert!(
        p.iter().enumerate().all(|(i, &v)| i == k || v < p[k]),
        "{p:?}"
    );
    Ok(())
}

/// A row whose smaller logit lies more than `f32::MAX` below the larger: its log-probability
/// rounds to −∞ and its probability to 0, which agree.
#[test]
fn log_of_softmax_beyond_the_range() {
    log_is_log_of_softmax(vec![-1.7584965e38f32, 3.0905833e38]).unwrap();
    assert_eq!(
        log_softmax(&[-1.7584965e38f32, 3.0905833e38]),
        [f32::NEG_INFINITY, 0.0]
    );
}

props_both! {
    fn sums_to_one_f32(), fn sums_to_one_f64() => sums_to_one(z in logits::<T>(1..=32));
    fn shift_is_bitwise_f32(), fn shift_is_bitwise_f64() => shift_is_bitwise(z in vector(small_int::<T>(), 1..=12), c in small_int::<T>());
    fn log_is_log_of_softmax_f32(), fn log_is_log_of_softmax_f64() => log_is_log_of_softmax(z in logits::<T>(1..=16));
    fn logsumexp_bounds_f32(), fn logsumexp_bounds_f64() => logsumexp_bounds(z in logits::<T>(1..=32));
    fn entropy_bounds_f32(), fn entropy_bounds_f64() => entropy_bounds(z in logits::<T>(1..=32));
    fn temperature_keeps_argmax_f32(), fn temperature_keeps_argmax_f64() => temperature_keeps_argmax(z in vector(small_int::<T>(), 1..=12), t in (0.01 as T)..100.0);
}
