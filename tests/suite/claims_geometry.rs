//! Property tests of the claims about dot products, cosines, distances and the unembedding:
//! exact on rationals where the claim is polynomial, f32/f64 generic bodies elsewhere, and the
//! registry's searches (with re-verification) for readings that fail.

use crate::support;

use num_rational::BigRational;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{case, of_size, settle, simplest};
use transformer_laws::Real;
use transformer_laws::claims::{self, Case, CaseOutcome, Domain};
use transformer_laws::geometry::{angle, dot, euclidean_distance, norm, squared_distance};
use transformer_laws::strategies::{moderate, rational, small_int, vector_pair};
use transformer_laws::tolerance::*;

/// x·y = |x||y| cos θ with θ from Kahan's angle formula, within the documented budgets.
fn law_of_cosines<T: Real>(x: Vec<T>, y: Vec<T>) -> Result<(), TestCaseError> {
    let th = angle(&x, &y);
    prop_assume!(th.is_some(), "x or y is 0: the angle is undefined");
    let th = th.unwrap();
    let lhs = dot(&x, &y).widen();
    let (nx, ny) = (norm(&x).widen(), norm(&y).widen());
    let rhs = nx * ny * th.widen().cos();
    let tol = nx
        * ny
        * (relative::<T>(2 * NORM_ULPS + 4) + 8.0 * T::epsilon().widen() * std::f64::consts::PI);
    prop_assert!((lhs - rhs).abs() <= tol, "{lhs} vs {rhs}");
    Ok(())
}

/// The chord distance between directions satisfies the triangle inequality.
fn chord_triangle<T: Real>(x: Vec<T>, y: Vec<T>, z: Vec<T>) -> Result<(), TestCaseError> {
    let unit = |v: &[T]| -> Option<Vec<T>> {
        let n = norm(v);
        (n > T::zero()).then(|| v.iter().map(|&a| a / n).collect())
    };
    let (a, b, c) = (unit(&x), unit(&y), unit(&z));
    prop_assume!(
        a.is_some() && b.is_some() && c.is_some(),
        "a zero vector has no direction"
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let d = |p: &[T], q: &[T]| euclidean_distance(p, q).widen();
    prop_assert!(d(&a, &c) <= d(&a, &b) + d(&b, &c) + 8.0 * relative::<T>(NORM_ULPS + 2));
    Ok(())
}

/// Small integers (readable failures) and reals in [`transformer_laws::strategies::MODERATE`],
/// where the products and sums round.
fn entry<T: Real>() -> impl Strategy<Value = T> + Clone {
    prop_oneof![small_int::<T>(), moderate::<T>()]
}

fn triple<T: Real>() -> impl Strategy<Value = (Vec<T>, Vec<T>, Vec<T>)> {
    (1usize..=5).prop_flat_map(|d| {
        let e = || proptest::collection::vec(entry::<T>(), d);
        (e(), e(), e())
    })
}

proptest! {
    /// |x − y|² = |x|² + |y|² − 2x·y, exactly.
    #[test]
    fn polarization_exact((x, y) in vector_pair(rational(30, 7), 1..=8)) {
        let two = BigRational::from_integer(2.into());
        prop_assert_eq!(squared_distance(&x, &y), dot(&x, &x) + dot(&y, &y) - two * dot(&x, &y));
    }
    #[test]
    fn dot_symmetric_exact((x, y) in vector_pair(rational(30, 7), 1..=8)) {
        prop_assert_eq!(dot(&x, &y), dot(&y, &x));
    }
    #[test]
    fn law_of_cosines_f32((x, y) in vector_pair(entry::<f32>(), 1..=8)) { law_of_cosines(x, y)?; }
    #[test]
    fn law_of_cosines_f64((x, y) in vector_pair(entry::<f64>(), 1..=8)) { law_of_cosines(x, y)?; }
    #[test]
    fn chord_triangle_f32((x, y, z) in triple::<f32>()) { chord_triangle(x, y, z)?; }
    #[test]
    fn chord_triangle_f64((x, y, z) in triple::<f64>()) { chord_triangle(x, y, z)?; }
}

#[test]
fn dot_is_not_a_metric_search_finds_and_verifies() {
    for key in ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "c"] {
        settle("dot-is-not-a-distance", key, Domain::Exact);
    }
    settle("dot-law-of-cosines", "a", Domain::Exact);
    settle("dot-law-of-cosines", "b", Domain::Exact);
    // d(x, x) = x·x ≠ 0 at the simplest non-zero vector.
    assert_eq!(
        case(&settle("dot-is-not-a-distance", "a1", Domain::Exact))
            .v("x")
            .iter()
            .map(|v| v.abs())
            .collect::<Vec<_>>(),
        [1.0]
    );
}

#[test]
fn alignment_search_finds_and_verifies() {
    // In one dimension cosines are ±1, so two are needed.
    let c = of_size(&settle("alignment-beats-size", "a", Domain::Exact), 2, None);
    // The statement's names, and non-negative entries (an equally simple example has them).
    assert_eq!(c.to_string(), "x = [1, 0], w1 = [1, 0], w2 = [2, 1]");
    // Equal logits are no reversal: x·w1 = x·w2 = 1 while cos(x, w1) > cos(x, w2).
    let tie = Case::new(
        vec![("x", vec![1, 0]), ("w1", vec![1, 0]), ("w2", vec![1, 1])],
        vec![],
    );
    tie_is_no_counterexample("alignment-beats-size", "a", &tie);
}

#[test]
fn smallest_dot_vs_nearest_exact() {
    // One dimension, two tokens, integers at most 2 — and the 64 configurations before it
    // (d = 1, V = 2, entries in [−1, 1], and the smaller ones with entries in [−2, 2]) fail.
    let checked = simplest("argmax-dot-vs-nearest", "a", "x = [1], w0 = [2], w1 = [1]");
    assert!(checked.smaller >= 27 && checked.max_dim == 1, "{checked:?}");
}

#[test]
fn argmax_cosine_vs_dot_found_without_a_tie() {
    // x = [1], w0 = [1], w1 = [2] has equal cosines (both 1): a tie, not a counterexample.
    let c = case(&settle("argmax-dot-vs-nearest", "d2", Domain::Exact));
    assert_eq!(c.v("x"), [1.0, 0.0]);
    let mut tokens: Vec<&[f64]> = c.tokens();
    tokens.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(tokens, [[1.0, 0.0], [2.0, 1.0]], "{c}");
    let tie = Case::with_tokens(vec![("x", vec![1])], vec![vec![1], vec![2]], 2, vec![]);
    tie_is_no_counterexample("argmax-dot-vs-nearest", "d2", &tie);
}

#[test]
fn nearest_changes_with_scale_exact() {
    let want = "x = [1], w0 = [2], w1 = [1], α = 2";
    let checked = simplest("argmax-dot-scale-invariance", "b", want);
    assert!(checked.smaller > 0, "{checked:?}");
}

settled! {
    /// (a): one dimension suffices.
    fn cosine_slip_search_finds_and_verifies() => "cosine-sign-slip" ["a"] found { dim: 1 };
    fn larger_cosine_bigger_logit_exact() => "cosine-sign-slip" ["b"];
    fn equal_norms_agree_exact() => "argmax-dot-vs-nearest" ["b1", "d1"];
    fn nearest_is_biased_argmax_exact() => "argmax-dot-vs-nearest" ["c"];
    fn unequal_norms_disagree_exact() => "argmax-dot-vs-nearest" ["b2"];
    fn argmax_dot_scale_invariant_exact() => "argmax-dot-scale-invariance" ["a"];
    fn scale_limits_exact() => "argmax-dot-scale-invariance" ["c"];
    fn mips_exact() => "mips-reduction" ["a"];
    fn hull_interior_exact() => "hull-interior-never-top" ["a"];
    fn hull_interior_with_bias_exact() => "hull-interior-never-top" ["b"];
    fn unembed_linear_exact() => "unembed-is-linear" ["a"];
    fn nonlinear_maps_search_finds_and_verifies() => "unembed-is-linear" ["b", "c"];
}

/// The registry's test of reading `key` of `id` in ℝ passes `tie` exactly: a tie is not the
/// reversal the reading looks for.
fn tie_is_no_counterexample(id: &str, key: &str, tie: &Case) {
    let claim = claims::find(id).unwrap();
    let reading = claim.readings.iter().find(|r| r.key == key).unwrap();
    let test = reading.judgements[0].check.test;
    assert_eq!(test(tie), CaseOutcome::Exact, "{id} ({key}) at {tie}");
}
