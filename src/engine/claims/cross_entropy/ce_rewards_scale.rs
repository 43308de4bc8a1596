//! `ce-rewards-scale`: the loss keeps rewarding scale (shift invariance, the limits in α).

use super::*;
use crate::engine::claims::softmax::{lattice_in_order, positive, tiny_exp, unique_argmax};
use crate::engine::strategies::FloatStrategies;
use crate::kernels::loss::cross_entropy;
use crate::kernels::tolerance::{CE_LOSS_ULPS, relative, ulp};

fn loss_shift(c: &Case) -> CaseOutcome {
    let Some(y) = target(c) else {
        return CaseOutcome::Skip;
    };
    let z = f(c.v("z"));
    let k = c.p("c").value();
    let zc: Vec<f64> = z.iter().map(|v| v + k).collect();
    let (l1, l2) = (cross_entropy(&zc, y), cross_entropy(&z, y));
    compare_real(
        "L(z + c·1)",
        &[l1],
        "L(z)",
        &[l2],
        relative::<f64>(2 * CE_LOSS_ULPS) * l1.max(l2) + ulp(0.0f64),
    )
}

/// The smallest gap between the largest entry (index `y`) and the others.
fn gap(z: &[f64], y: usize) -> f64 {
    z.iter()
        .enumerate()
        .filter(|&(j, _)| j != y)
        .map(|(_, &v)| z[y] - v)
        .fold(f64::INFINITY, f64::min)
}

/// The target (the unique argmax of z) and 0 < α₁ < α₂, or `None` outside the conditions.
fn scale_setting(c: &Case) -> Option<(usize, f64, f64)> {
    let y = unique_argmax(c.v("z"))?;
    let (a1, a2) = (c.p("α₁").value(), c.p("α₂").value());
    (c.dim() >= 2 && 0.0 < a1 && a1 < a2).then_some((y, a1, a2))
}

/// (b) in ℝ, from an f64 evaluation (α·z exact: small integers times powers of two): found
/// only if L(α₂·z) exceeds L(α₁·z), or the bound (n − 1)·e^{−α₂·gap}, by far more than the
/// rounding.
fn scale_decreasing_real(c: &Case) -> CaseOutcome {
    let Some((y, a1, a2)) = scale_setting(c) else {
        return CaseOutcome::Skip;
    };
    let z = c.v("z");
    let l = |a: f64| cross_entropy(&z.iter().map(|v| v * a).collect::<Vec<f64>>(), y);
    let (l1, l2) = (l(a1), l(a2));
    let bound = relative::<f64>(CE_LOSS_ULPS) * (l1 + l2) + 2.0 * ulp(0.0f64);
    let decrease = at_most_real(
        &format!("L(α₂·z) at y = {y}"),
        l2,
        &format!("L(α₁·z) at y = {y} (α₁ < α₂: strictly decreasing)"),
        l1,
        bound,
    );
    let lim = (z.len() as f64 - 1.0) * (-a2 * gap(z, y)).exp();
    let limit = at_most_real(
        &format!("L(α₂·z) at y = {y}"),
        l2,
        "(n − 1)·e^{−α₂·gap} (the bound that sends it to 0)",
        lim,
        relative::<f64>(CE_LOSS_ULPS + 2) * (l2 + lim) + 2.0 * ulp(0.0f64),
    );
    decrease.and(limit)
}

/// (b) in `T`, on the logits fl(α·z) the loss sees: the strict decrease fails when
/// L(α₂·z) = L(α₁·z) (the loss is constant there — an equality, tested with `==`, so reading
/// ties the other way does not remove it) or L(α₂·z) > L(α₁·z); the limit bound fails when
/// L(α₂·z) exceeds (n − 1)·e^{−gap} (gap of the rounded logits) by more than the loss's
/// rounding.
fn scale_decreasing_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let Some((y, a1, a2)) = scale_setting(c) else {
        return CaseOutcome::Skip;
    };
    let z: Vec<T> = ft(c.v("z"));
    let scaled = |a: f64| z.iter().map(|&v| v * T::narrow(a)).collect::<Vec<T>>();
    let (z1, z2) = (scaled(a1), scaled(a2));
    let (l1, l2) = (cross_entropy(&z1, y), cross_entropy(&z2, y));
    let d = domain_of::<T>();
    // The real losses, ≈ Σ_{j≠y} e^{−α(z_y − zⱼ)} when they are tiny.
    let real = |a: f64| {
        let zf = c.v("z");
        let e = -a * gap(zf, y);
        if e < -700.0 {
            format!(" (in ℝ ≈ {})", tiny_exp(e))
        } else {
            String::new()
        }
    };
    if l1 == l2 || lt(l1, l2) {
        return CaseOutcome::Found(Evidence::arithmetic(
            d,
            format!(
                "the strict decrease L(α₂·z) < L(α₁·z) fails: L(α₂·z) at y = {y}{}",
                real(a2)
            ),
            l2,
            format!("L(α₁·z) at y = {y}{}", real(a1)),
            l1,
        ));
    }
    let zf: Vec<f64> = z2.iter().map(|v| v.widen()).collect();
    let lim = (zf.len() as f64 - 1.0) * (-gap(&zf, y)).exp();
    let tol = lim * relative::<T>(CE_LOSS_ULPS + 2) + 2.0 * ulp(T::zero());
    if lt(lim + tol, l2.widen()) {
        return CaseOutcome::Found(Evidence::arithmetic(
            d,
            format!("the limit bound fails: L(α₂·z) at y = {y}"),
            l2,
            "(n − 1)·e^{−α₂·gap}",
            lim,
        ));
    }
    CaseOutcome::Pass {
        error: (l2.widen() - lim).max(0.0),
        bound: tol,
    }
}

/// The powers of two searched for α₁, α₂.
const SCALES: std::ops::RangeInclusive<i64> = -14..=14;

/// Logits on the lattice and values that exercise rounding; α₁, α₂ powers of two or any
/// positive values of `T`.
fn scale_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let alpha = || prop_oneof![pow2(SCALES), positive::<T>()].boxed();
    float_case::<T>(
        &["z"],
        0..=0,
        0,
        2..=6,
        -8..=8,
        vec![("α₁", alpha()), ("α₂", alpha())],
    )
}

/// Every two-logit case with integer logits in [−4, 4], a unique maximum, and α₁ < α₂ powers
/// of two in 2^−12 … 2^12, simplest first: the first one found is the simplest there.
fn scale_small<T: FloatStrategies>() -> Box<dyn Iterator<Item = Case>> {
    let alphas: Vec<Param> = (-12..=12).map(Param::Pow2).collect();
    lattice_in_order(
        2..=2,
        -4..=4,
        &[("α₁", alphas.clone()), ("α₂", alphas)],
        Values::of::<T>(),
        |c| scale_setting(c).is_some(),
    )
}

/// y not an argmax: L(αz) ≥ α·(max z − z_y) → ∞.
fn scale_diverges(c: &Case) -> CaseOutcome {
    let Some(y) = target(c) else {
        return CaseOutcome::Skip;
    };
    let z = c.v("z");
    let m = z[argmax(z)];
    if z[y] >= m {
        return CaseOutcome::Skip;
    }
    let a = c.p("α").value();
    let l = cross_entropy(&z.iter().map(|&v| v * a).collect::<Vec<f64>>(), y);
    let lower = a * (m - z[y]);
    let bound = relative::<f64>(CE_LOSS_ULPS) * l + ulp(lower);
    at_most_real("α·(max z − z_y)", lower, "L(α·z)", l, bound)
}

/// The claim, its readings and their judgements.
pub fn claim() -> Claim {
    Claim {
        id: "ce-rewards-scale",
        words: "I think the core inductive bias comes from the cross-entropy loss",
        readings: vec![
            Reading::new(
                "a",
                "L(z + c·1) = L(z).",
                "finite z, c",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || zy(1..=8, -20..=20, vec![("c", int(-50..=50))]),
                    loss_shift,
                )],
            ),
            Reading::new(
                "b",
                "If y is the unique argmax of z, L(α·z) is strictly decreasing in α > 0 and tends to 0.",
                "y the unique argmax; n ≥ 2; 0 < α₁ < α₂ (in f64 the loss of the rounded logits fl(α·z)). In ℝ the search evaluates in f64 and can refute only with L(α₂·z) above L(α₁·z) by far more than the rounding (or above the limit bound); that the decrease is strict rests on the proof (dL/dα < 0), since two values equal within rounding refute nothing",
                Some(
                    "Over ℝ it holds: L(α·z) ≤ (n − 1)·e^{−α·gap}. In f64 the loss underflows to exactly 0 once α·gap > ~745, after which it is constant (non-increasing, not strictly decreasing).",
                ),
                [
                    in_reals(
                        Holds,
                        ForAll,
                        || vectors(&["z"], 2..=6, -8..=8, two_scales(-4..=4)),
                        scale_decreasing_real,
                    ),
                    Judgement::new(
                        Domain::F64,
                        Fails,
                        ForAll,
                        scale_cases::<f64>,
                        scale_decreasing_float::<f64>,
                    )
                    .enumerating(scale_small::<f64>),
                ],
            ),
            Reading::new(
                "c",
                "If y is not an argmax of z, L(α·z) → ∞ as α → ∞.",
                "z_y < max z",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || zy(2..=8, -10..=10, vec![("α", pow2(-4..=12))]),
                    scale_diverges,
                )],
            ),
        ],
        tests: &[
            "claims_cross_entropy::loss_shift_invariant_f32",
            "claims_cross_entropy::loss_shift_invariant_f64",
            "claims_cross_entropy::scale_decreasing_real",
            "claims_cross_entropy::loss_saturation_search_finds_and_verifies",
            "claims_cross_entropy::scale_diverges_real",
            "claims_cross_entropy::scale_diverges_f32",
            "claims_cross_entropy::scale_diverges_f64",
        ],
    }
}
