//! Properties of dot products, norms, distances, cosine and angle (module `geometry`): exact
//! identities on rationals, bounded ones in f32 and f64.

use num_rational::BigRational;
use num_traits::Zero;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use transformer_laws::Real;
use transformer_laws::geometry::*;
use transformer_laws::strategies::{FloatStrategies, moderate, rational, small_int, vector_pair};
use transformer_laws::tolerance::*;

fn r(n: i64) -> BigRational {
    BigRational::from_integer(n.into())
}

fn scale(c: &BigRational, x: &[BigRational]) -> Vec<BigRational> {
    x.iter().map(|v| c * v).collect()
}

proptest! {
    /// |x − y|² = |x|² + |y|² − 2 x·y, exactly (the polarization identity behind
    /// proofs/dot-law-of-cosines.md (b)).
    #[test]
    fn polarization_exact((x, y) in vector_pair(rational(20, 6), 1..=8)) {
        let lhs = squared_distance(&x, &y);
        let rhs = dot(&x, &x) + dot(&y, &y) - r(2) * dot(&x, &y);
        prop_assert_eq!(lhs, rhs);
    }

    /// The dot product is symmetric and bilinear, exactly.
    #[test]
    fn dot_bilinear_exact((x, y) in vector_pair(rational(20, 6), 1..=8), c in rational(9, 4)) {
        prop_assert_eq!(dot(&x, &y), dot(&y, &x));
        prop_assert_eq!(dot(&scale(&c, &x), &y), c.clone() * dot(&x, &y));
        let xy: Vec<BigRational> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
        prop_assert_eq!(dot(&xy, &y), dot(&x, &y) + dot(&y, &y));
    }

    /// d(x, x) = x·x is 0 only for x = 0: the dot product is not a distance.
    #[test]
    fn self_dot_is_squared_norm((x, _y) in vector_pair(rational(20, 6), 1..=8)) {
        prop_assert_eq!(dot(&x, &x), squared_distance(&x, &vec![BigRational::zero(); x.len()]));
        prop_assert_eq!(dot(&x, &x).is_zero(), x.iter().all(|v| v.is_zero()));
    }
}

/// cos(x, x) = 1 exactly (the denominator is √(s²) = s), and cos ∈ [−1, 1].
fn cosine_of_self<T: FloatStrategies>(x: Vec<T>, y: Vec<T>) -> Result<(), TestCaseError> {
    prop_assume!(x.iter().any(|&v| v != T::zero()));
    prop_assert_eq!(cosine_similarity(&x, &x), Some(T::one()));
    if let Some(c) = cosine_similarity(&x, &y) {
        prop_assert!(c >= -T::one() && c <= T::one());
    }
    Ok(())
}

/// Cauchy–Schwarz: |x·y| ≤ |x||y|, within the dot product's bound and the norms' budget.
fn cauchy_schwarz<T: FloatStrategies>(x: Vec<T>, y: Vec<T>) -> Result<(), TestCaseError> {
    let d = dot(&x, &y).widen().abs();
    let nn = norm(&x).widen() * norm(&y).widen();
    prop_assume!(nn.is_finite());
    let abs_sum: f64 = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a.widen() * b.widen()).abs())
        .sum();
    let tol =
        compensated_dot_bound::<T>(x.len(), d, abs_sum) + nn * relative::<T>(2 * NORM_ULPS + 1);
    prop_assert!(d <= nn + tol, "|x·y| = {d} > |x||y| = {nn}");
    Ok(())
}

/// |x − y| agrees with √(squared_distance), and the angle is in [0, π] with angle(x, x) = 0.
fn distance_and_angle<T: FloatStrategies>(x: Vec<T>, y: Vec<T>) -> Result<(), TestCaseError> {
    let e = euclidean_distance(&x, &y).widen();
    let s = squared_distance(&x, &y).widen();
    prop_assume!(s.is_finite() && s > 0.0);
    prop_assert!(
        (e * e - s).abs() <= s * relative::<T>(2 * NORM_ULPS + 3),
        "{e}² vs {s}"
    );
    if let Some(a) = angle(&x, &y) {
        prop_assert!(
            a.widen() >= 0.0 && a.widen() <= std::f64::consts::PI * (1.0 + relative::<T>(1))
        );
    }
    if x.iter().any(|&v| v != T::zero()) {
        prop_assert_eq!(angle(&x, &x), Some(T::zero()));
    }
    Ok(())
}

/// On an integer lattice the dot product is exact: f32 and f64 agree with the rationals.
fn dot_exact_on_lattice<T: Real>(x: Vec<T>, y: Vec<T>) -> Result<(), TestCaseError> {
    let exact: i64 = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a.widen() * b.widen()) as i64)
        .sum();
    prop_assert_eq!(dot(&x, &y).widen(), exact as f64);
    Ok(())
}

proptest! {
    #[test]
    fn cosine_of_self_f32((x, y) in vector_pair(moderate::<f32>(), 1..=16)) { cosine_of_self(x, y)?; }
    #[test]
    fn cosine_of_self_f64((x, y) in vector_pair(moderate::<f64>(), 1..=16)) { cosine_of_self(x, y)?; }
    #[test]
    fn cauchy_schwarz_f32((x, y) in vector_pair(f32::any_finite(), 1..=16)) { cauchy_schwarz(x, y)?; }
    #[test]
    fn cauchy_schwarz_f64((x, y) in vector_pair(f64::any_finite(), 1..=16)) { cauchy_schwarz(x, y)?; }
    #[test]
    fn distance_and_angle_f32((x, y) in vector_pair(moderate::<f32>(), 1..=16)) { distance_and_angle(x, y)?; }
    #[test]
    fn distance_and_angle_f64((x, y) in vector_pair(moderate::<f64>(), 1..=16)) { distance_and_angle(x, y)?; }
    #[test]
    fn dot_exact_on_lattice_f32((x, y) in vector_pair(small_int::<f32>(), 1..=16)) { dot_exact_on_lattice(x, y)?; }
    #[test]
    fn dot_exact_on_lattice_f64((x, y) in vector_pair(small_int::<f64>(), 1..=16)) { dot_exact_on_lattice(x, y)?; }
}
