//! Property tests of the cross-entropy claims (f32 and f64 generic bodies; the registry's
//! searches for the readings that fail somewhere).

use crate::support;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{minimal, settle};
use transformer_laws::Real;
use transformer_laws::claims::{self, Case, CaseOutcome, Domain, Param, Values};
use transformer_laws::loss::{cross_entropy, cross_entropy_grad, cross_entropy_with_grad};
use transformer_laws::scalar::Acc;
use transformer_laws::strategies::{FloatStrategies, logits, small_int, vector};
use transformer_laws::tolerance::*;

/// Logits with a target, half of them integers in [−300, 300] (exact in f32 and f64, with gaps
/// that underflow softmax entries), half the kernels' random rows
/// ([`transformer_laws::strategies::logits`]: wide ranges, near-ties, special rows).
fn row<T: FloatStrategies>() -> impl Strategy<Value = (Vec<T>, usize)> {
    prop_oneof![
        vector((-300i64..=300).prop_map(|v| T::narrow(v as f64)), 1..=10),
        logits::<T>(1..=24),
    ]
    .prop_flat_map(|z| {
        let n = z.len();
        (Just(z), 0..n)
    })
}

/// The gradient of both entry points: with the loss, and alone.
fn gradients<T: Real>(z: &[T], y: usize) -> [Vec<T>; 2] {
    [cross_entropy_with_grad(z, y).1, cross_entropy_grad(z, y)]
}

/// ∂L/∂z_y ≤ 0 and ∂L/∂zⱼ ≥ 0 (j ≠ y), exactly: the signs never depend on rounding.
fn gradient_signs<T: Real>(z: Vec<T>, y: usize) -> Result<(), TestCaseError> {
    for g in gradients(&z, y) {
        prop_assert!(g[y] <= T::zero(), "g_y = {:?}", g[y]);
        prop_assert!(g.iter().enumerate().all(|(j, &v)| j == y || v >= T::zero()));
    }
    Ok(())
}

/// Σⱼ ∂L/∂zⱼ = 0 within the gradient budget, summed without error: each entry is within its
/// relative budget or, where it is subnormal, within half the smallest subnormal of its exact
/// value, so the n entries' absolute roundings add up (a dominant target makes every entry
/// subnormal in f32: [`gradient_sum_with_subnormal_entries_f32`]).
fn gradient_sums_to_zero<T: Real>(z: Vec<T>, y: usize) -> Result<(), TestCaseError> {
    for g in gradients(&z, y) {
        let mut acc = Acc::default();
        g.iter().for_each(|v| acc.add(v.widen()));
        let abs: f64 = g.iter().map(|v| v.widen().abs()).sum();
        let tol = abs * relative::<T>(CE_GRAD_ULPS) + subnormal_rounding::<T>(z.len());
        prop_assert!(acc.value().abs() <= tol, "Σg = {} > {tol}", acc.value());
    }
    Ok(())
}

/// L(z + c·1) = L(z) and the same gradient, bit for bit on an integer lattice (z + c exact).
fn loss_shift_invariant<T: Real>(z: Vec<T>, c: T) -> Result<(), TestCaseError> {
    let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
    for y in 0..z.len() {
        prop_assert_eq!(
            cross_entropy_with_grad(&zc, y),
            cross_entropy_with_grad(&z, y)
        );
    }
    Ok(())
}

/// A dominant target: every entry of the f32 gradient is subnormal, and their roundings add up
/// to more than one smallest subnormal.
#[test]
fn gradient_sum_with_subnormal_entries_f32() {
    let z = [-7.0f32, 94.28106, 4.313178, -5.0, -5.0, 0.0];
    gradient_sums_to_zero(z.to_vec(), 1).unwrap();
    let g = cross_entropy_grad(&z, 1);
    assert!(g.iter().all(|v| v.abs() < f32::MIN_POSITIVE), "{g:?}");
}

proptest! {
    // Twice the default: `row` draws half its cases from each of its two sources.
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn gradient_signs_f32((z, y) in row::<f32>()) { gradient_signs(z, y)?; }
    #[test]
    fn gradient_signs_f64((z, y) in row::<f64>()) { gradient_signs(z, y)?; }
    #[test]
    fn gradient_sums_to_zero_f32((z, y) in row::<f32>()) { gradient_sums_to_zero(z, y)?; }
    #[test]
    fn gradient_sums_to_zero_f64((z, y) in row::<f64>()) { gradient_sums_to_zero(z, y)?; }
    #[test]
    fn loss_shift_invariant_f32(z in vector(small_int::<f32>(), 1..=8), c in small_int::<f32>()) { loss_shift_invariant(z, c)?; }
    #[test]
    fn loss_shift_invariant_f64(z in vector(small_int::<f64>(), 1..=8), c in small_int::<f64>()) { loss_shift_invariant(z, c)?; }
}

settled! {
    fn scale_decreasing_real() =>
        "ce-correct-logit-up" ["a"] in [F32, F64],
        "ce-correct-logit-up" ["b"],
        "ce-rewards-scale" ["a", "b"];
    fn scale_diverges_real() => "ce-rewards-scale" ["c"];
}

#[test]
fn loss_saturation_search_finds_and_verifies() {
    // In f64 the loss of a dominant target underflows to exactly 0 (e^{−α₁·gap} below half
    // the smallest subnormal, α₁·gap > 745.13), and then stays there. The simplest such case
    // among logits in [−4, 4] and powers of two α (the enumeration): gap 3, α₁ = 2^8 (3·256 =
    // 768).
    let v = settle("ce-rewards-scale", "b", Domain::F64);
    let (f, checked) = minimal(&v);
    assert_eq!(f.case.v("z"), [0.0, 3.0], "{}", f.case);
    assert_eq!(f.case.p("α₁"), Param::Pow2(8), "{}", f.case);
    assert_eq!(f.case.p("α₂"), Param::Pow2(9), "{}", f.case);
    assert!(
        f.evidence
            .lhs_label
            .starts_with("the strict decrease L(α₂·z) < L(α₁·z) fails")
            && f.evidence.lhs_label.contains("y = 1")
            && f.evidence.rhs_label.contains("y = 1"),
        "{:?}",
        f.evidence
    );
    assert_eq!(
        (f.evidence.lhs.as_str(), f.evidence.rhs.as_str()),
        ("0.0", "0.0")
    );
    assert_eq!(checked.max_entry, 3, "{checked:?}");
}

#[test]
fn gradient_signs_are_sharp() {
    // The sign check allows 0 (error and bound 0) and the search's range attains it: p₁ = e^{−200}
    // rounds to 0 in f32 (and e^{−1000} in f64), so ∂L/∂z₁ = 0 and ∂L/∂z₀ = −0. The check passes,
    // and reading those ties the other way finds them.
    let claim = claims::find("ce-correct-logit-up").expect("the claim");
    for j in &claim.readings[0].judgements {
        let (values, z1) = match j.domain {
            Domain::F32 => (Values::F32, -200.0),
            _ => (Values::F64, -1000.0),
        };
        let c = Case::of_values(
            vec![("z", vec![0.0, z1])],
            vec![("y", Param::Int(0))],
            values,
        );
        assert!(
            matches!((j.check.test)(&c), CaseOutcome::Pass { .. }),
            "{c}"
        );
        assert!(
            matches!(
                claims::with_ties_reversed(|| (j.check.test)(&c)),
                CaseOutcome::Found(_)
            ),
            "{c}"
        );
    }
}

/// ce-rewards-scale (c): y not an argmax ⇒ L(α·z) ≥ α·(max z − z_y), in T within the budget.
fn scale_diverges<T: Real>(z: Vec<T>, y: usize, a: T) -> Result<(), TestCaseError> {
    let m = z.iter().fold(f64::NEG_INFINITY, |h, v| h.max(v.widen()));
    prop_assume!(z[y].widen() < m);
    // The bound is stated for the logits the loss actually sees: α·z rounded in T.
    // Bounding with the unrounded α·(max z − z_y) would charge the loss for the
    // rounding of the products (up to u·α·(|max z| + |z_y|), e.g. 1.5e-4 for
    // z = [7, 6], α ≈ 372.8 in f32), an error outside the function under test.
    let scaled: Vec<T> = z.iter().map(|&v| v * a).collect();
    let l = cross_entropy(&scaled, y).widen();
    let top = scaled
        .iter()
        .fold(f64::NEG_INFINITY, |h, v| h.max(v.widen()));
    let lower = top - scaled[y].widen();
    prop_assert!(
        l >= lower * (1.0 - relative::<T>(CE_LOSS_ULPS + 1)) - ulp(T::zero()),
        "{l} < {lower}"
    );
    Ok(())
}

fn row_small<T: Real>() -> impl Strategy<Value = (Vec<T>, usize)> {
    vector(small_int::<T>(), 2..=8).prop_flat_map(|z| {
        let n = z.len();
        (Just(z), 0..n)
    })
}

proptest! {
    #[test]
    fn scale_diverges_f32((z, y) in row_small::<f32>(), a in 0.0f32..1000.0) { scale_diverges(z, y, a)?; }
    #[test]
    fn scale_diverges_f64((z, y) in row_small::<f64>(), a in 0.0f64..1000.0) { scale_diverges(z, y, a)?; }
}

/// The case CI found: the products 7α and 6α round in f32, and the bound must be
/// taken on the rounded logits.
#[test]
fn scale_diverges_f32_rounded_products() {
    scale_diverges(vec![7.0f32, 6.0], 1, 372.81583f32).unwrap();
}
