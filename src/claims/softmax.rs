//! Claims about the softmax (section "Softmax" of the thread's claims).

use super::*;
use crate::softmax::{entropy, log_softmax, logsumexp, softmax};
use crate::tolerance::{
    ENTROPY_ULPS, LOG_SOFTMAX_ULPS, LOGSUMEXP_ULPS, SOFTMAX_ULPS, relative, ulp,
};

/// Two softmax evaluations of the same real values differ by at most this (each is within
/// SOFTMAX_ULPS ulp of the truth; probabilities are ≤ 1; plus two subnormal ulps).
fn softmax_pair_bound<T: crate::Real>() -> f64 {
    2.0 * relative::<T>(SOFTMAX_ULPS) + 2.0 * ulp(T::zero())
}

fn argmax(p: &[f64]) -> usize {
    let mut k = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[k] {
            k = i;
        }
    }
    k
}

// ---- softmax-shift-invariance ------------------------------------------------------------

fn shift_real(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let k = c.p("c").value();
    let zc: Vec<f64> = z.iter().map(|v| v + k).collect(); // exact: small integers
    compare_real(
        "softmax(z + c·1)",
        &softmax(&zc),
        "softmax(z)",
        &softmax(&z),
        softmax_pair_bound::<f64>(),
    )
}

fn scale_real(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let a = c.p("α").value();
    if a <= 0.0 {
        return Outcome::Skip;
    }
    let za: Vec<f64> = z.iter().map(|v| v * a).collect();
    compare_real(
        "softmax(α·z)",
        &softmax(&za),
        "softmax(z)",
        &softmax(&z),
        softmax_pair_bound::<f64>(),
    )
}

fn shift_rounded<T: crate::Real>(c: &Case) -> Outcome {
    let z: Vec<T> = ft(c.v("z"));
    let k = T::narrow(c.p("c").value());
    let zc: Vec<T> = z.iter().map(|&v| v + k).collect(); // rounds in T
    compare_arith(
        domain_of::<T>(),
        "softmax(fl(z + c·1))",
        &softmax(&zc),
        "softmax(z)",
        &softmax(&z),
        softmax_pair_bound::<T>(),
    )
}

// ---- softmax-temperature -----------------------------------------------------------------

fn temperature_argmax<T: crate::Real>(c: &Case) -> Outcome {
    let z = &c.ints("z");
    let m = *z.iter().max().unwrap();
    if z.iter().filter(|&&v| v == m).count() != 1 {
        return Outcome::Skip;
    }
    let a = T::narrow(c.p("α").value());
    let zt: Vec<T> = ft(c.v("z"));
    let p: Vec<f64> = softmax(&zt.iter().map(|&v| v * a).collect::<Vec<T>>())
        .iter()
        .map(|v| v.widen())
        .collect();
    let p1: Vec<f64> = softmax(&zt).iter().map(|v| v.widen()).collect();
    let (ka, k1) = (argmax(&p), argmax(&p1));
    if ka == k1 {
        Outcome::EXACT
    } else {
        let ev = Evidence::arithmetic(domain_of::<T>(), "softmax(α·z)", &p, "softmax(z)", &p1);
        let ev = Evidence {
            lhs_label: format!("argmax softmax(α·z) = {ka}, softmax(α·z)"),
            rhs_label: format!("argmax softmax(z) = {k1}, softmax(z)"),
            ..ev
        };
        if domain_of::<T>() == Domain::F64 {
            // In ℝ (judged in f64) the argmax is read off the logits' order, which rounding of
            // small integers cannot change; a difference here would be a kernel bug.
            Outcome::Found(Evidence {
                verification: Verification::Margin {
                    margin: 1.0,
                    bound: 0.0,
                },
                ..ev
            })
        } else {
            Outcome::Found(ev)
        }
    }
}

fn entropy_monotone(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let (a1, a2) = (c.p("α₁").value(), c.p("α₂").value());
    if a1 >= a2 {
        return Outcome::Skip;
    }
    let h1 = entropy(&z.iter().map(|v| v * a1).collect::<Vec<f64>>());
    let h2 = entropy(&z.iter().map(|v| v * a2).collect::<Vec<f64>>());
    let bound = relative::<f64>(ENTROPY_ULPS) * (h1 + h2) + 2.0 * ulp(0.0f64);
    at_most_real("H(softmax(α₂·z))", h2, "H(softmax(α₁·z))", h1, bound)
}

fn temperature_limits(c: &Case) -> Outcome {
    let z = c.v("z");
    let n = z.len() as f64;
    let a = c.p("α").value();
    let zf = f(z);
    let p = softmax(&zf.iter().map(|v| v * a).collect::<Vec<f64>>());
    let (mx, mn) = (
        z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v)),
        z.iter().fold(f64::INFINITY, |m, &v| m.min(v)),
    );
    let tol = softmax_pair_bound::<f64>();
    // Near 0: |pᵢ − 1/n| ≤ (e^{α·(max − min)} − 1)/n.
    let dev = p.iter().map(|&v| (v - 1.0 / n).abs()).fold(0.0, f64::max);
    let lim0 = (a * (mx - mn)).exp_m1() / n;
    let near_zero = at_most_real("max|pᵢ − 1/n|", dev, "(e^{α(max−min)} − 1)/n", lim0, tol);
    if let Outcome::Found(_) = near_zero {
        return near_zero;
    }
    // Unique max with gap g: Σ_{j≠k} pⱼ ≤ (n − 1)·e^{−α·g}.
    let m = mx;
    if z.iter().filter(|&&v| v == m).count() == 1 {
        let g = z
            .iter()
            .filter(|&&v| v != m)
            .map(|&v| m - v)
            .fold(f64::INFINITY, f64::min);
        let k = z.iter().position(|&v| v == m).unwrap();
        let rest: f64 = p
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != k)
            .map(|(_, v)| v)
            .sum();
        let lim = if g.is_finite() {
            (n - 1.0) * (-a * g).exp()
        } else {
            0.0
        };
        if rest > lim * (1.0 + tol) + MARGIN_FACTOR * tol * ulp(0.0f64) {
            return Outcome::Found(Evidence::margin(
                "1 − p_max",
                rest,
                "(n − 1)·e^{−α·gap}",
                lim,
                rest - lim,
                tol,
            ));
        }
    }
    Outcome::Pass {
        error: 0.0,
        bound: tol,
    }
}

// ---- softmax-is-a-distribution -----------------------------------------------------------

fn distribution_real(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let p = softmax(&z);
    let s: f64 = p.iter().sum();
    let bound = relative::<f64>(SOFTMAX_ULPS) + z.len() as f64 * relative::<f64>(1);
    if p.iter().any(|&v| v <= 0.0) {
        // For |z| ≤ 50 every exp is far above underflow: a zero here would be a kernel bug.
        return Outcome::Found(Evidence::margin(
            "min pᵢ",
            p.iter().cloned().fold(1.0, f64::min),
            "0",
            0.0,
            1.0,
            0.0,
        ));
    }
    compare_real("Σ softmax(z)", &[s], "1", &[1.0], bound)
}

fn order_real(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let p = softmax(&z);
    for i in 0..z.len() {
        for j in 0..z.len() {
            if z[i] > z[j] && p[i] <= p[j] {
                return Outcome::Found(Evidence::margin(
                    format!("p{i} (z{i} = {})", z[i]),
                    p[i],
                    format!("p{j} (z{j} = {})", z[j]),
                    p[j],
                    p[j] - p[i],
                    0.0,
                ));
            }
        }
    }
    // permutation equivariance: rotate by one.
    let mut zr = z.clone();
    zr.rotate_left(1);
    let mut pr = softmax(&zr);
    pr.rotate_right(1);
    compare_real(
        "softmax(πz) permuted back",
        &pr,
        "softmax(z)",
        &p,
        softmax_pair_bound::<f64>(),
    )
}

fn distribution_float<T: crate::Real>(c: &Case) -> Outcome {
    let z: Vec<T> = ft(c.v("z"));
    let p = softmax(&z);
    if let Some(j) = p.iter().position(|&v| v <= T::zero()) {
        // The real value, ≈ e^(zⱼ − max z) (the other terms are ≤ 1), written in base 10 so
        // that it does not underflow on the way to the screen.
        let zmax = c.v("z").iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let gap = c.v("z")[j] - zmax;
        let l10 = gap * std::f64::consts::LOG10_E;
        let (e10, m10) = (l10.floor(), 10f64.powf(l10 - l10.floor()));
        let mut ev = Evidence::arithmetic(
            domain_of::<T>(),
            format!("softmax(z)[{j}] computed in {}", domain_of::<T>()),
            p[j],
            format!("its real value (≥ e^(z{j} − max z)/n > 0)"),
            0.0,
        );
        ev.rhs = format!("≈ e^{gap} ≈ {m10:.4}e{e10}");
        return Outcome::Found(ev);
    }
    for i in 0..z.len() {
        for j in 0..z.len() {
            if z[i] > z[j] && p[i] <= p[j] {
                return Outcome::Found(Evidence::arithmetic(
                    domain_of::<T>(),
                    format!("p{i}"),
                    p[i],
                    format!("p{j}"),
                    p[j],
                ));
            }
        }
    }
    let s: f64 = p.iter().map(|v| v.widen()).sum();
    compare_arith(
        domain_of::<T>(),
        "Σ softmax(z)",
        &[T::narrow(s)],
        "1",
        &[T::one()],
        relative::<T>(SOFTMAX_ULPS) + z.len() as f64 * relative::<f64>(1),
    )
}

// ---- logsumexp-bounds --------------------------------------------------------------------

fn lse_bounds(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let l = logsumexp(&z);
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let hi = m + (z.len() as f64).ln();
    let bound = relative::<f64>(LOGSUMEXP_ULPS) * (m.abs() + hi.abs()) + ulp(0.0f64);
    for side in [
        at_most_real("max z", m, "logsumexp(z)", l, bound),
        at_most_real("logsumexp(z)", l, "max z + ln n", hi, bound),
    ] {
        if let Outcome::Found(_) = side {
            return side;
        }
    }
    let ls = log_softmax(&z);
    let direct: Vec<f64> = z.iter().map(|v| v - l).collect();
    let b2 = relative::<f64>(LOG_SOFTMAX_ULPS + LOGSUMEXP_ULPS)
        * direct.iter().fold(0.0, |a: f64, v| a.max(v.abs()))
        + ulp(0.0f64);
    match compare_real("log_softmax(z)", &ls, "z − logsumexp(z)", &direct, b2) {
        Outcome::Pass { error, bound: b } => Outcome::Pass {
            error: error.max((m - l).max(l - hi).max(0.0)),
            bound: b.max(bound),
        },
        other => other,
    }
}

fn zs(
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    vectors(&["z"], dims, range, params)
}

/// The softmax claims.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "softmax-shift-invariance",
            area: Area::Softmax,
            words: "the softmax doesn't care about absolute size, only about the relative differences of the logits",
            readings: vec![
                Reading {
                    key: "a",
                    statement: "softmax(z + c·1) = softmax(z) for every real c.",
                    conditions: "none",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zs(1..=8, -20..=20, vec![("c", int(-50..=50))]),
                        shift_real,
                    )],
                },
                Reading {
                    key: "b",
                    statement: "\"absolute size\" read as scale: softmax(α·z) = softmax(z) for every α > 0.",
                    conditions: "α > 0",
                    corrected: Some(
                        "softmax(α·z) = softmax_with_temperature(z, 1/α): α is an inverse temperature. Only the argmax is scale-invariant (α > 0).",
                    ),
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Fails,
                        Quantifier::ForAll,
                        || zs(1..=6, -5..=5, vec![("α", int(1..=6))]),
                        scale_real,
                    )],
                },
                Reading {
                    key: "c",
                    statement: "In floating point: softmax(fl(z + c·1)) = softmax(z) for every c (the sum z + c rounded to the type).",
                    conditions: "finite z and c",
                    corrected: Some(
                        "It holds bit for bit (in this crate) whenever every zᵢ + c is exact in the type — e.g. integers z, c with |zᵢ + c| < 2^24 (f32) or 2^53 (f64). Otherwise the rounding of zᵢ + c perturbs the logits by up to u·|zᵢ + c|, so each probability changes by a factor up to e^{2u(|zᵢ|+|c|)}: the shift c must stay small beside 1/u.",
                    ),
                    judgements: vec![
                        Judgement::new(
                            Domain::F32,
                            Expect::Fails,
                            Quantifier::ForAll,
                            || zs(2..=6, -8..=8, vec![("c", pow2(0..=60))]),
                            shift_rounded::<f32>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Expect::Fails,
                            Quantifier::ForAll,
                            || zs(2..=6, -8..=8, vec![("c", pow2(0..=100))]),
                            shift_rounded::<f64>,
                        ),
                    ],
                },
            ],
            tests: &[
                "claims_softmax::shift_invariance_real_f32",
                "claims_softmax::shift_invariance_real_f64",
                "claims_softmax::scale_is_a_temperature_search_finds_and_verifies",
                "claims_softmax::shift_rounding_search_finds_and_verifies",
                "claims_softmax::scale_counterexample_f32_f64",
            ],
        },
        Claim {
            id: "softmax-temperature",
            area: Area::Softmax,
            words: "clearly distance would matter too in the softmax case!",
            readings: vec![
                Reading {
                    key: "a",
                    statement: "argmax softmax(α·z) is the same for every α > 0.",
                    conditions: "α > 0; a unique maximum",
                    corrected: Some(
                        "Over ℝ it holds. In f32 a tiny α rounds the leading probabilities together and the tie goes to the lowest index: keep α·(z_max − z_next) above a few ulps of 1/n.",
                    ),
                    judgements: vec![
                        Judgement::new(
                            Domain::Real,
                            Expect::Holds,
                            Quantifier::ForAll,
                            || zs(1..=8, -10..=10, vec![("α", pow2(-8..=8))]),
                            temperature_argmax::<f64>,
                        ),
                        Judgement::new(
                            Domain::F32,
                            Expect::Fails,
                            Quantifier::ForAll,
                            || zs(2..=6, -8..=8, vec![("α", pow2(-40..=8))]),
                            temperature_argmax::<f32>,
                        ),
                    ],
                },
                Reading {
                    key: "b",
                    statement: "The entropy of softmax(α·z) is non-increasing in α ≥ 0.",
                    conditions: "α ≥ 0",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || {
                            zs(
                                1..=8,
                                -10..=10,
                                vec![("α₁", pow2(-6..=4)), ("α₂", pow2(-6..=4))],
                            )
                        },
                        entropy_monotone,
                    )],
                },
                Reading {
                    key: "c",
                    statement: "α → ∞ gives the one-hot argmax (unique max); α → 0 gives the uniform distribution.",
                    conditions: "unique maximum for the first limit",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zs(1..=8, -10..=10, vec![("α", pow2(-10..=5))]),
                        temperature_limits,
                    )],
                },
            ],
            tests: &[
                "claims_softmax::temperature_keeps_argmax_real",
                "claims_softmax::temperature_argmax_f32_search_finds_and_verifies",
                "claims_softmax::entropy_non_increasing_f32",
                "claims_softmax::entropy_non_increasing_f64",
                "claims_softmax::temperature_limits_f32",
                "claims_softmax::temperature_limits_f64",
            ],
        },
        Claim {
            id: "softmax-is-a-distribution",
            area: Area::Softmax,
            words: "(implicit in every use of the softmax)",
            readings: vec![
                Reading {
                    key: "a",
                    statement: "Every output is strictly positive and the outputs sum to 1.",
                    conditions: "finite z",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zs(1..=10, -50..=50, vec![]),
                        distribution_real,
                    )],
                },
                Reading {
                    key: "b",
                    statement: "Order-preserving: zᵢ > zⱼ ⇒ pᵢ > pⱼ; and permutation-equivariant.",
                    conditions: "finite z",
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zs(1..=10, -50..=50, vec![]),
                        order_real,
                    )],
                },
                Reading {
                    key: "c",
                    statement: "(a) and (b) in f32/f64, for finite inputs of any size.",
                    conditions: "finite z",
                    corrected: Some(
                        "In floating point pᵢ ≥ 0, with pᵢ = 0 once zᵢ − max z < ln(smallest subnormal) ≈ −103.97 (f32) or −745.13 (f64); order is preserved weakly (zᵢ > zⱼ ⇒ pᵢ ≥ pⱼ); |Σp − 1| ≤ 3ε + n·ε_f64.",
                    ),
                    judgements: vec![
                        Judgement::new(
                            Domain::F32,
                            Expect::Fails,
                            Quantifier::ForAll,
                            || zs(2..=6, -200..=200, vec![]),
                            distribution_float::<f32>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Expect::Fails,
                            Quantifier::ForAll,
                            || zs(2..=6, -1500..=1500, vec![]),
                            distribution_float::<f64>,
                        ),
                    ],
                },
            ],
            tests: &[
                "claims_softmax::distribution_real_f32",
                "claims_softmax::distribution_real_f64",
                "claims_softmax::distribution_float_search_finds_and_verifies",
            ],
        },
        Claim {
            id: "logsumexp-bounds",
            area: Area::Softmax,
            words: "(the bounds behind the max-shift)",
            readings: vec![Reading {
                key: "a",
                statement: "max(z) ≤ logsumexp(z) ≤ max(z) + ln n, and log_softmax(z) = z − logsumexp(z).",
                conditions: "finite z, n ≥ 1 entries",
                corrected: None,
                judgements: vec![Judgement::new(
                    Domain::Real,
                    Expect::Holds,
                    Quantifier::ForAll,
                    || zs(1..=12, -50..=50, vec![]),
                    lse_bounds,
                )],
            }],
            tests: &[
                "claims_softmax::logsumexp_bounds_f32",
                "claims_softmax::logsumexp_bounds_f64",
            ],
        },
    ]
}
