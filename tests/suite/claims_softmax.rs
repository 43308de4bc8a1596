//! Property tests of the softmax claims: one generic body per property, instantiated for f32
//! and f64; refuted readings are checked by running the registry's search and re-verifying what
//! it finds (the test asserts the counterexample exists and verifies, not that a claim "fails").

use crate::support;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use support::{abs_sorted, case, found, minimal, settle};
use transformer_laws::Real;
use transformer_laws::claims::{self, Case, CaseOutcome, CaseTest, Domain, Param, Values};
use transformer_laws::search::Verdict;
use transformer_laws::softmax::{entropy, log_softmax, logsumexp, softmax};
use transformer_laws::strategies::{small_int, vector};
use transformer_laws::tolerance::*;

/// softmax(z + c·1) = softmax(z), checked where z + c is exact in T (an integer lattice):
/// bit for bit, since the kernel sees only the exact differences zᵢ − max z.
fn shift_invariance<T: Real>(z: Vec<T>, c: T) -> Result<(), TestCaseError> {
    let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
    prop_assert_eq!(softmax(&zc), softmax(&z));
    Ok(())
}

/// α₁ < α₂ ⇒ H(softmax(α₂z)) ≤ H(softmax(α₁z)) + the entropy budget.
fn entropy_non_increasing<T: Real>(z: Vec<T>, a1: T, a2: T) -> Result<(), TestCaseError> {
    let (lo, hi) = if a1 <= a2 { (a1, a2) } else { (a2, a1) };
    let h = |a: T| entropy(&z.iter().map(|&v| v * a).collect::<Vec<T>>()).widen();
    let (h1, h2) = (h(lo), h(hi));
    prop_assert!(
        h2 <= h1 + relative::<T>(ENTROPY_ULPS) * (h1 + h2) + ulp(T::zero()) * 4.0,
        "{h2} > {h1}"
    );
    Ok(())
}

/// On |z| ≤ 50: every pᵢ > 0 (no underflow there), Σp = 1 within the budget, order kept.
fn distribution_real<T: Real>(z: Vec<T>) -> Result<(), TestCaseError> {
    let p = softmax(&z);
    prop_assert!(p.iter().all(|&v| v > T::zero()));
    let s: f64 = p.iter().map(|v| v.widen()).sum();
    prop_assert!((s - 1.0).abs() <= relative::<T>(SOFTMAX_ULPS) + relative::<f64>(z.len() as u64));
    for i in 0..z.len() {
        for j in 0..z.len() {
            if z[i] > z[j] {
                prop_assert!(p[i] > p[j]);
            }
        }
    }
    Ok(())
}

/// max z ≤ logsumexp(z) ≤ max z + ln n and log_softmax = z − logsumexp, within budgets.
fn logsumexp_bounds<T: Real>(z: Vec<T>) -> Result<(), TestCaseError> {
    let l = logsumexp(&z).widen();
    let m = z.iter().fold(f64::NEG_INFINITY, |a, v| a.max(v.widen()));
    let hi = m + (z.len() as f64).ln();
    let tol = ulp(T::narrow(hi.abs().max(m.abs()))) * LOGSUMEXP_ULPS as f64;
    prop_assert!(l >= m - tol && l <= hi + tol);
    for (zi, li) in z.iter().zip(log_softmax(&z)) {
        let want = zi.widen() - l;
        prop_assert!(
            (li.widen() - want).abs()
                <= relative::<T>(LOG_SOFTMAX_ULPS + 1) * want.abs() + 2.0 * tol
        );
    }
    Ok(())
}

fn logits<T: Real>() -> impl Strategy<Value = Vec<T>> {
    vector((-50i64..=50).prop_map(|v| T::narrow(v as f64)), 1..=10)
}

proptest! {
    #[test]
    fn shift_invariance_real_f32(z in vector(small_int::<f32>(), 1..=8), c in small_int::<f32>()) { shift_invariance(z, c)?; }
    #[test]
    fn shift_invariance_real_f64(z in vector(small_int::<f64>(), 1..=8), c in small_int::<f64>()) { shift_invariance(z, c)?; }
    #[test]
    fn entropy_non_increasing_f32(z in vector(small_int::<f32>(), 1..=8), a in 0.0f32..8.0, b in 0.0f32..8.0) { entropy_non_increasing(z, a, b)?; }
    #[test]
    fn entropy_non_increasing_f64(z in vector(small_int::<f64>(), 1..=8), a in 0.0f64..8.0, b in 0.0f64..8.0) { entropy_non_increasing(z, a, b)?; }
    #[test]
    fn distribution_real_f32(z in logits::<f32>()) { distribution_real(z)?; }
    #[test]
    fn distribution_real_f64(z in logits::<f64>()) { distribution_real(z)?; }
    #[test]
    fn logsumexp_bounds_f32(z in logits::<f32>()) { logsumexp_bounds(z)?; }
    #[test]
    fn logsumexp_bounds_f64(z in logits::<f64>()) { logsumexp_bounds(z)?; }
}

#[test]
fn scale_is_a_temperature_search_finds_and_verifies() {
    // The smallest counterexample: two logits one apart, α = 2 (up to sign and order).
    let c = case(&settle("softmax-shift-invariance", "b", Domain::Exact));
    assert_eq!(abs_sorted(c.v("z")), [0, 1], "{c}");
    assert_eq!(c.p("α"), Param::Int(2), "{c}");
    settle("softmax-shift-invariance", "a", Domain::Exact);
}

#[test]
fn shift_rounding_search_finds_and_verifies() {
    // The smallest power-of-two shift that breaks it: 2^24 in f32 (2^24 + 1 is not an f32)...
    let v = settle("softmax-shift-invariance", "c", Domain::F32);
    assert!(found(&v).ends_with("c = 2^24"), "{}", found(&v));
    // ... and 2^53 in f64.
    let v = settle("softmax-shift-invariance", "c", Domain::F64);
    assert!(found(&v).ends_with("c = 2^53"), "{}", found(&v));
}

settled! {
    fn temperature_keeps_argmax_real() => "softmax-temperature" ["a", "b", "c"];
}

#[test]
fn temperature_order_kept_in_floats() {
    // No strict reversal in f32 or f64, over inputs that exercise rounding and near-ties (a
    // run of logits one ulp apart below a largest logit in another binade).
    for d in [Domain::F32, Domain::F64] {
        let v = settle("softmax-temperature", "a2", d);
        assert!(
            matches!(v, Verdict::Holds { cases, .. } if cases > 0),
            "{d:?}: {v:?}"
        );
    }
    // The row that reversed two probabilities by an ulp when the f64 kernel computed
    // e^hi·(1 + lo) in one rounding: now in order (the larger logit's probability is at least
    // the other's).
    let z = [1.0f64, -0.0896615138344693, -0.08966151383446933];
    let p = softmax(&z);
    assert!(z[1] > z[2] && p[1] >= p[2], "{p:?}");
}

#[test]
fn temperature_tie_witnessed_in_floats() {
    // The largest α at which z = [0, 1] rounds to a tie: p0 = 1/2 − α/4 + α³/48 − …, within
    // half an ulp of 1/2 from α = 2^-24 in f32 (ulp below 1/2 is 2^-25; the f64 value is the
    // midpoint 1/2 − 2^-26, rounded to even) and from α = 2^-53 in f64, where p0 lies just above
    // the midpoint 1/2 − 2^-55 (by α³/48) and the correctly rounded f64 kernel gives 1/2.
    for (d, k) in [(Domain::F32, -24), (Domain::F64, -53)] {
        let v = settle("softmax-temperature", "a3", d);
        let (f, _) = minimal(&v);
        assert_eq!(f.case.v("z"), [0.0, 1.0], "{}", f.case);
        assert_eq!(f.case.p("α"), Param::Pow2(k), "{}", f.case);
        assert_eq!(f.evidence.lhs, "[0.5, 0.5]", "{:?}", f.evidence);
    }
}

/// The test of reading `key` of `id` in `domain`, from the registry.
fn test_of(id: &str, key: &str, domain: Domain) -> CaseTest {
    let claim = claims::find(id).expect("a claim");
    let reading = claim
        .readings
        .iter()
        .find(|r| r.key == key)
        .expect("a reading");
    let j = reading.judgements.iter().find(|j| j.domain == domain);
    j.expect("a judgement").check.test
}

#[test]
fn temperature_no_reversal_is_sharp() {
    // (a2) allows p̂ᵢ = p̂ⱼ when zᵢ > zⱼ (error and bound 0), and the (a3) witnesses attain that
    // bound: the same check, reading the tie the other way, finds a reversal there.
    for (d, values, k) in [
        (Domain::F32, Values::F32, -24),
        (Domain::F64, Values::F64, -54),
    ] {
        let c = Case::of_values(
            vec![("z", vec![0.0, 1.0])],
            vec![("α", Param::Pow2(k))],
            values,
        );
        let t = test_of("softmax-temperature", "a2", d);
        assert!(matches!(t(&c), CaseOutcome::Pass { .. }), "{c}");
        assert!(
            matches!(claims::with_ties_reversed(|| t(&c)), CaseOutcome::Found(_)),
            "{c}"
        );
    }
}

#[test]
fn distribution_float_search_finds_and_verifies() {
    // Two logits 104 apart in f32 (e^-104 is below half the smallest subnormal), 746 in f64.
    // ln 2^-150 ≈ −103.97 and ln 2^-1075 ≈ −745.13: half the smallest subnormal.
    for (domain, gap, rhs) in [
        (Domain::F32, 104, "e^-104.00 ≈ 6.8136e-46"),
        (Domain::F64, 746, "e^-746.00 ≈ 1.0383e-324"),
    ] {
        let v = settle("softmax-is-a-distribution", "c", domain);
        assert_eq!(
            abs_sorted(case(&v).v("z")),
            [0, gap],
            "{domain}: {}",
            found(&v)
        );
        let evidence = &v.found().unwrap().evidence;
        assert!(evidence.rhs.starts_with(rhs), "{domain}: {}", evidence.rhs);
    }
    settle("softmax-is-a-distribution", "a", Domain::Exact);
    settle("softmax-is-a-distribution", "b", Domain::Exact);
    settle("logsumexp-bounds", "a", Domain::Exact);
}

/// softmax-temperature (c): |pᵢ − 1/n| ≤ (e^{αR} − 1)/n and, for a unique maximum with gap g,
/// 1 − p_max ≤ (n − 1)e^{−αg} — in T, within the softmax budget.
fn temperature_limits<T: Real>(z: Vec<T>, a: T) -> Result<(), TestCaseError> {
    let n = z.len() as f64;
    let p = softmax(&z.iter().map(|&v| v * a).collect::<Vec<T>>());
    let (mx, mn) = z
        .iter()
        .fold((f64::NEG_INFINITY, f64::INFINITY), |(h, l), v| {
            (h.max(v.widen()), l.min(v.widen()))
        });
    let tol = relative::<T>(SOFTMAX_ULPS) + 2.0 * ulp(T::zero());
    let lim0 = (a.widen() * (mx - mn)).exp_m1() / n;
    for v in &p {
        prop_assert!(
            (v.widen() - 1.0 / n).abs() <= lim0 + tol,
            "{v:?} vs 1/{n}, bound {lim0}"
        );
    }
    let k = (0..z.len())
        .filter(|&j| z[j].widen() == mx)
        .collect::<Vec<_>>();
    if k.len() == 1 {
        let g = z
            .iter()
            .map(|v| mx - v.widen())
            .filter(|&d| d > 0.0)
            .fold(f64::INFINITY, f64::min);
        let rest: f64 = p
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != k[0])
            .map(|(_, v)| v.widen())
            .sum();
        let lim = if g.is_finite() {
            (n - 1.0) * (-a.widen() * g).exp()
        } else {
            0.0
        };
        prop_assert!(
            rest <= lim * (1.0 + tol) + n * tol,
            "1 − p_max = {rest} > {lim}"
        );
    }
    Ok(())
}

/// softmax-shift-invariance (b) in T: the counterexample z = [0, 1], α = 2 breaks it in f32
/// and f64 too, by more than 10⁵ × the rounding budget (0.15 against 3.6e-7 in f32).
fn scale_counterexample_in<T: Real>() {
    let z: Vec<T> = vec![T::zero(), T::one()];
    let za: Vec<T> = z.iter().map(|&v| v * T::narrow(2.0)).collect();
    let (p, q) = (softmax(&za), softmax(&z));
    let gap = (p[0].widen() - q[0].widen()).abs();
    assert!(gap > 1e5 * relative::<T>(SOFTMAX_ULPS), "{p:?} vs {q:?}");
}

proptest! {
    #[test]
    fn temperature_limits_f32(z in vector(small_int::<f32>(), 1..=8), a in 0.0f32..6.0) { temperature_limits(z, a)?; }
    #[test]
    fn temperature_limits_f64(z in vector(small_int::<f64>(), 1..=8), a in 0.0f64..6.0) { temperature_limits(z, a)?; }
}

#[test]
fn scale_counterexample_f32_f64() {
    scale_counterexample_in::<f32>();
    scale_counterexample_in::<f64>();
}
