//! `ce-correct-logit-up`: the gradient raises the correct logit and lowers the others.

use super::*;
use crate::engine::claims::judged_in_floats;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::loss::cross_entropy_with_grad;
use crate::kernels::tolerance::{CE_GRAD_ULPS, relative, ulp};

/// ∂L/∂z_y ≤ 0 and ∂L/∂zⱼ ≥ 0 (j ≠ y) for the gradient computed in `T`: a sign check of
/// computed values, no tolerance (error and bound 0). A NaN fails both signs.
fn gradient_signs<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let Some(y) = target(c) else {
        return CaseOutcome::Skip;
    };
    let z: Vec<T> = ft(c.v("z"));
    let (_, g) = cross_entropy_with_grad(&z, y);
    // A computed entry whose sign is not the one it has in ℝ (`sign`).
    let wrong_sign = |entry: String, value: T, sign: &'static str| {
        let label = format!("∂L/∂{entry} (y = {y})");
        let ev = Evidence::arithmetic(domain_of::<T>(), label, value, "its sign in ℝ", sign);
        CaseOutcome::Found(ev)
    };
    if lt(T::zero(), g[y]) || g[y].is_nan() {
        return wrong_sign("z_y".into(), g[y], "≤ 0");
    }
    if let Some(j) = (0..g.len()).find(|&j| j != y && (lt(g[j], T::zero()) || g[j].is_nan())) {
        return wrong_sign(format!("z{j}"), g[j], "≥ 0");
    }
    CaseOutcome::Pass {
        error: 0.0,
        bound: 0.0,
    }
}

/// Logits on the lattice and values that exercise rounding (any magnitude, long rows), a
/// target 0 … 7.
fn gradient_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let r = if T::MANTISSA_DIGITS == 24 { 200 } else { 1000 };
    float_case::<T>(&["z"], 0..=0, 0, 1..=8, -r..=r, vec![("y", int(0..=7))])
}

fn gradient_sum<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let Some(y) = target(c) else {
        return CaseOutcome::Skip;
    };
    let z: Vec<T> = ft(c.v("z"));
    let (_, g) = cross_entropy_with_grad(&z, y);
    let s: f64 = g.iter().map(|v| v.widen()).sum();
    let abs: f64 = g.iter().map(|v| v.widen().abs()).sum();
    let bound =
        abs * (relative::<T>(CE_GRAD_ULPS) + relative::<f64>(g.len() as u64)) + ulp(T::zero());
    compare_real("Σⱼ ∂L/∂zⱼ", &[s], "0", &[0.0], bound)
}

/// The claim, its readings and their judgements.
pub fn claim() -> Claim {
    Claim {
        id: "ce-correct-logit-up",
        words: "the network merely has to make the correct logits really big and the incorrect logits small",
        readings: vec![
            Reading::new(
                "a",
                "∂L/∂z_y ≤ 0 and ∂L/∂zⱼ ≥ 0 for j ≠ y, with L the cross-entropy of softmax(z) at target y.",
                "finite z, 0 ≤ y < n (a sign check of the computed gradient: no tolerance, error and bound 0; it holds for every finite input)",
                None,
                judged_in_floats!(Holds, ForAll, gradient_cases, gradient_signs),
            ),
            Reading::new(
                "b",
                "The gradient sums to zero.",
                "finite z",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || zy(1..=8, -50..=50, vec![]),
                    gradient_sum::<f64>,
                )],
            ),
        ],
        tests: &[
            "claims_cross_entropy::gradient_signs_f32",
            "claims_cross_entropy::gradient_signs_f64",
            "claims_cross_entropy::gradient_sums_to_zero_f32",
            "claims_cross_entropy::gradient_sums_to_zero_f64",
        ],
    }
}
