//! Claims about the cross-entropy loss (section "Cross-entropy").

use super::*;
use crate::loss::{cross_entropy, cross_entropy_with_grad};
use crate::tolerance::{CE_GRAD_ULPS, CE_LOSS_ULPS, relative, ulp};

fn target(c: &Case) -> Option<usize> {
    let y = c.p("y").raw();
    (y >= 0 && (y as usize) < c.dim()).then_some(y as usize)
}

fn gradient_signs<T: crate::Real>(c: &Case) -> Outcome {
    let Some(y) = target(c) else {
        return Outcome::Skip;
    };
    let z: Vec<T> = ft(c.v("z"));
    let (_, g) = cross_entropy_with_grad(&z, y);
    if g[y] > T::zero() {
        return Outcome::Found(Evidence::arithmetic(
            domain_of::<T>(),
            format!("∂L/∂z_y (y = {y})"),
            g[y],
            "0",
            0.0,
        ));
    }
    if let Some(j) = (0..g.len()).find(|&j| j != y && g[j] < T::zero()) {
        return Outcome::Found(Evidence::arithmetic(
            domain_of::<T>(),
            format!("∂L/∂z{j}"),
            g[j],
            "0",
            0.0,
        ));
    }
    Outcome::EXACT
}

fn gradient_sum<T: crate::Real>(c: &Case) -> Outcome {
    let Some(y) = target(c) else {
        return Outcome::Skip;
    };
    let z: Vec<T> = ft(c.v("z"));
    let (_, g) = cross_entropy_with_grad(&z, y);
    let s: f64 = g.iter().map(|v| v.widen()).sum();
    let abs: f64 = g.iter().map(|v| v.widen().abs()).sum();
    let bound =
        abs * (relative::<T>(CE_GRAD_ULPS) + relative::<f64>(g.len() as u64)) + ulp(T::zero());
    compare_real("Σⱼ ∂L/∂zⱼ", &[s], "0", &[0.0], bound)
}

fn loss_shift(c: &Case) -> Outcome {
    let Some(y) = target(c) else {
        return Outcome::Skip;
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

fn unique_argmax(z: &[i64]) -> Option<usize> {
    let m = *z.iter().max()?;
    (z.iter().filter(|&&v| v == m).count() == 1).then(|| z.iter().position(|&v| v == m).unwrap())
}

/// y the unique argmax: α₁ < α₂ ⇒ L(α₂z) < L(α₁z), and L(αz) ≤ (n − 1)e^{−α·gap} → 0.
fn scale_decreasing<T: crate::Real>(c: &Case) -> Outcome {
    let z = &c.ints("z");
    let Some(y) = unique_argmax(z) else {
        return Outcome::Skip;
    };
    if z.len() < 2 {
        return Outcome::Skip;
    }
    let (a1, a2) = (c.p("α₁").value(), c.p("α₂").value());
    if a1 >= a2 {
        return Outcome::Skip;
    }
    let l = |a: f64| {
        cross_entropy(
            &z.iter()
                .map(|&v| T::narrow(v as f64 * a))
                .collect::<Vec<T>>(),
            y,
        )
        .widen()
    };
    let (l1, l2) = (l(a1), l(a2));
    if l2 >= l1 {
        let ev = Evidence::arithmetic(domain_of::<T>(), "L(α₂·z)", l2, "L(α₁·z)", l1);
        return Outcome::Found(
            if domain_of::<T>() == Domain::F64 && c.p("α₂").value() <= 16.0 {
                Evidence {
                    verification: Verification::Margin {
                        margin: l2 - l1,
                        bound: 0.0,
                    },
                    ..ev
                }
            } else {
                ev
            },
        );
    }
    let gap = z
        .iter()
        .filter(|&&v| v != z[y])
        .map(|&v| (z[y] - v) as f64)
        .fold(f64::INFINITY, f64::min);
    let lim = (z.len() as f64 - 1.0) * (-a2 * gap).exp();
    if l2 > lim * (1.0 + 1e-6) + ulp(T::zero()) {
        return Outcome::Found(Evidence::margin(
            "L(α₂·z)",
            l2,
            "(n − 1)·e^{−α₂·gap}",
            lim,
            l2 - lim,
            lim * 1e-6,
        ));
    }
    Outcome::Pass {
        error: 0.0,
        bound: relative::<T>(CE_LOSS_ULPS),
    }
}

/// y not an argmax: L(αz) ≥ α·(max z − z_y) → ∞.
fn scale_diverges(c: &Case) -> Outcome {
    let Some(y) = target(c) else {
        return Outcome::Skip;
    };
    let z = &c.ints("z");
    let m = *z.iter().max().unwrap();
    if z[y] == m {
        return Outcome::Skip;
    }
    let a = c.p("α").value();
    let l = cross_entropy(&z.iter().map(|&v| v as f64 * a).collect::<Vec<f64>>(), y);
    let lower = a * (m - z[y]) as f64;
    let bound = relative::<f64>(CE_LOSS_ULPS) * l + ulp(lower);
    at_most_real("α·(max z − z_y)", lower, "L(α·z)", l, bound)
}

fn zy(
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    mut params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    params.insert(0, ("y", int(0..=7)));
    vectors(&["z"], dims, range, params)
}

/// The cross-entropy claims.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "ce-correct-logit-up",
            area: Area::CrossEntropy,
            words: "the network merely has to make the correct logits really big and the incorrect logits small",
            readings: vec![
                Reading {
                    key: "a",
                    statement: "∂L/∂z_y ≤ 0 and ∂L/∂zⱼ ≥ 0 for j ≠ y, with L the cross-entropy of softmax(z) at target y.",
                    conditions: "finite z, 0 ≤ y < n",
                    corrected: None,
                    judgements: vec![
                        Judgement::new(
                            Domain::F32,
                            Expect::Holds,
                            Quantifier::ForAll,
                            || zy(1..=8, -200..=200, vec![]),
                            gradient_signs::<f32>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Expect::Holds,
                            Quantifier::ForAll,
                            || zy(1..=8, -1000..=1000, vec![]),
                            gradient_signs::<f64>,
                        ),
                    ],
                },
                Reading {
                    key: "b",
                    statement: "The gradient sums to zero.",
                    conditions: "finite z",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zy(1..=8, -50..=50, vec![]),
                        gradient_sum::<f64>,
                    )],
                },
            ],
            tests: &[
                "claims_cross_entropy::gradient_signs_f32",
                "claims_cross_entropy::gradient_signs_f64",
                "claims_cross_entropy::gradient_sums_to_zero_f32",
                "claims_cross_entropy::gradient_sums_to_zero_f64",
            ],
        },
        Claim {
            id: "ce-rewards-scale",
            area: Area::CrossEntropy,
            words: "I think the core inductive bias comes from the cross-entropy loss",
            readings: vec![
                Reading {
                    key: "a",
                    statement: "L(z + c·1) = L(z).",
                    conditions: "finite z, c",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zy(1..=8, -20..=20, vec![("c", int(-50..=50))]),
                        loss_shift,
                    )],
                },
                Reading {
                    key: "b",
                    statement: "If y is the unique argmax of z, L(α·z) is strictly decreasing in α > 0 and tends to 0.",
                    conditions: "y the unique argmax; n ≥ 2",
                    corrected: Some(
                        "Over ℝ it holds: L(α·z) ≤ (n − 1)·e^{−α·gap}. In f64 the loss underflows to exactly 0 once α·gap > ~745, after which it is constant (non-increasing, not strictly decreasing).",
                    ),
                    judgements: vec![
                        Judgement::new(
                            Domain::Real,
                            Expect::Holds,
                            Quantifier::ForAll,
                            || {
                                vectors(
                                    &["z"],
                                    2..=6,
                                    -8..=8,
                                    vec![("α₁", pow2(-4..=4)), ("α₂", pow2(-4..=4))],
                                )
                            },
                            scale_decreasing::<f64>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Expect::Fails,
                            Quantifier::ForAll,
                            || {
                                vectors(
                                    &["z"],
                                    2..=6,
                                    -8..=8,
                                    vec![("α₁", pow2(0..=14)), ("α₂", pow2(0..=14))],
                                )
                            },
                            scale_decreasing::<f64>,
                        ),
                    ],
                },
                Reading {
                    key: "c",
                    statement: "If y is not an argmax of z, L(α·z) → ∞ as α → ∞.",
                    conditions: "z_y < max z",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zy(2..=8, -10..=10, vec![("α", pow2(-4..=12))]),
                        scale_diverges,
                    )],
                },
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
        },
    ]
}
