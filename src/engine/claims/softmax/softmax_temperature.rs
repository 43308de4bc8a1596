//! `softmax-temperature`: α·z as an inverse temperature — the argmax, the entropy and the limits.

use super::*;
use crate::engine::claims::judged_in_floats;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::softmax::{entropy, softmax};
use crate::kernels::tolerance::{ENTROPY_ULPS, relative, ulp};

/// (a) in ℝ, from an f64 evaluation: the unique largest logit keeps the largest probability
/// (found only if another probability exceeds it by far more than the rounding bound). The
/// products α·zᵢ are exact: small integers times powers of two.
fn temperature_argmax_real(c: &Case) -> CaseOutcome {
    let z = c.v("z");
    let Some(k) = unique_argmax(z) else {
        return CaseOutcome::Skip;
    };
    let a = c.p("α").value();
    let p = softmax(&z.iter().map(|v| v * a).collect::<Vec<f64>>());
    let bound = softmax_pair_bound::<f64>();
    let mut error = 0.0f64;
    for j in (0..z.len()).filter(|&j| j != k) {
        match at_most_real(
            &format!("p{j}"),
            p[j],
            &format!("p{k} (z{k} the unique maximum)"),
            p[k],
            bound,
        ) {
            CaseOutcome::Pass { error: e, .. } => error = error.max(e),
            found => return found,
        }
    }
    CaseOutcome::Pass { error, bound }
}

/// `softmax(fl(α·z))` computed in `T`, or `None` outside the conditions (α ≤ 0).
fn scaled_softmax<T: crate::kernels::scalar::Real>(c: &Case) -> Option<(Vec<T>, Vec<T>)> {
    let a = c.p("α").value();
    if a <= 0.0 {
        return None;
    }
    let at = T::narrow(a);
    let z: Vec<T> = ft(c.v("z"));
    let p = softmax(&z.iter().map(|&v| v * at).collect::<Vec<T>>());
    Some((z, p))
}

/// (a2) in `T`: no strict reversal — zᵢ > zⱼ and p̂ᵢ < p̂ⱼ is a counterexample (both strict,
/// so a tie is never one). A comparison of computed values: no tolerance (error and bound 0).
fn no_strict_reversal<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let Some((z, p)) = scaled_softmax::<T>(c) else {
        return CaseOutcome::Skip;
    };
    let vals = Values::of::<T>();
    if let Some((i, j)) = strict_reversal(&z, &p) {
        return CaseOutcome::Found(Evidence::arithmetic(
            domain_of::<T>(),
            format!(
                "p̂{i}, for the larger logit z{i} = {}",
                show_num(z[i].widen(), vals)
            ),
            p[i],
            format!(
                "p̂{j}, for z{j} = {} (larger: a strict reversal)",
                show_num(z[j].widen(), vals)
            ),
            p[j],
        ));
    }
    CaseOutcome::Pass {
        error: 0.0,
        bound: 0.0,
    }
}

/// (a3) in `T`: a witness is a unique largest logit whose computed probability equals another
/// one. The reading is about this equality itself, so it is tested with `==`: reading ties
/// the other way does not remove it.
fn tie_of_the_largest<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let Some(k) = unique_argmax(c.v("z")) else {
        return CaseOutcome::Skip;
    };
    let Some((_, p)) = scaled_softmax::<T>(c) else {
        return CaseOutcome::Skip;
    };
    let Some(j) = (0..p.len()).find(|&j| j != k && p[j] == p[k]) else {
        return CaseOutcome::Pass {
            error: 0.0,
            bound: 0.0,
        };
    };
    // In ℝ: p_k − p_j = p_k·(1 − e^{−α(z_k − z_j)}) > 0.
    let a = c.p("α").value();
    let (zk, zj) = (c.v("z")[k], c.v("z")[j]);
    let gap = p[k].widen() * -(-a * (zk - zj)).exp_m1();
    let mut ev = Evidence::arithmetic(
        domain_of::<T>(),
        format!(
            "softmax(α·z) computed in {} (p̂{j} = p̂{k}: a tie of the largest)",
            domain_of::<T>()
        ),
        &p,
        format!("p{k} − p{j} in ℝ (z{k} > z{j}), to 4 digits"),
        0.0,
    );
    ev.rhs = format!("{gap:.4e} > 0");
    CaseOutcome::Found(ev)
}

/// The smallest power-of-two α searched for a tie: below it α·z rounds to subnormals.
fn least_temperature<T: crate::kernels::scalar::Real>() -> i64 {
    -(i64::from(T::MANTISSA_DIGITS) + 40)
}

/// Logits on the lattice and values that exercise rounding, α a power of two or any positive
/// value of `T`; and as often, near-ties at α = 1 ([`near_ties`]).
fn temperature_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let alpha = prop_oneof![pow2(least_temperature::<T>()..=8), positive::<T>()].boxed();
    prop_oneof![
        float_case::<T>(&["z"], 0..=0, 0, 2..=6, -8..=8, vec![("α", alpha)]),
        near_ties::<T>(),
    ]
    .boxed()
}

/// A largest logit m ∈ {1, 2, 3} and a run of 2 to 5 logits x, x − ulp, x − 2 ulp, … of `T`
/// just below 0, α = 1: logits one ulp apart whose differences with m are not exact in `T`
/// (x and m lie in different binades), where a kernel's rounding of zᵢ − m meets their order.
fn near_ties<T: FloatStrategies>() -> BoxedStrategy<Case> {
    (1i64..=3, -0.125f64..0.0, 2usize..=5)
        .prop_map(|(m, x, run)| {
            let mut z = vec![m as f64];
            let mut v = T::narrow(x);
            for _ in 0..run {
                z.push(v.widen());
                v = T::narrow(v.widen() - ulp(v));
            }
            Case::of_values(
                vec![("z", z)],
                vec![("α", Param::Pow2(0))],
                Values::of::<T>(),
            )
        })
        .boxed()
}

/// z with entries in {−1, 0, 1} and a unique maximum, α = 2^0 … 2^least, simplest first.
fn temperature_small<T: FloatStrategies>() -> Box<dyn Iterator<Item = Case>> {
    let alphas = (least_temperature::<T>()..=0).map(Param::Pow2).collect();
    lattice_in_order(1..=2, -1..=1, &[("α", alphas)], Values::of::<T>(), |c| {
        unique_argmax(c.v("z")).is_some()
    })
}

fn entropy_monotone(c: &Case) -> CaseOutcome {
    let z = f(c.v("z"));
    let (a1, a2) = (c.p("α₁").value(), c.p("α₂").value());
    if a1 >= a2 {
        return CaseOutcome::Skip;
    }
    let h1 = entropy(&z.iter().map(|v| v * a1).collect::<Vec<f64>>());
    let h2 = entropy(&z.iter().map(|v| v * a2).collect::<Vec<f64>>());
    let bound = relative::<f64>(ENTROPY_ULPS) * (h1 + h2) + 2.0 * ulp(0.0f64);
    at_most_real("H(softmax(α₂·z))", h2, "H(softmax(α₁·z))", h1, bound)
}

fn temperature_limits(c: &Case) -> CaseOutcome {
    let z = c.v("z");
    let n = z.len() as f64;
    let a = c.p("α").value();
    let zf = f(z);
    let p = softmax(&zf.iter().map(|v| v * a).collect::<Vec<f64>>());
    let (mx, mn) = (z[argmax(z)], z[argmin(z)]);
    let tol = softmax_pair_bound::<f64>();
    // Near 0: |pᵢ − 1/n| ≤ (e^{α·(max − min)} − 1)/n.
    let dev = p.iter().map(|&v| (v - 1.0 / n).abs()).fold(0.0, f64::max);
    let lim0 = (a * (mx - mn)).exp_m1() / n;
    let near_zero = at_most_real("max|pᵢ − 1/n|", dev, "(e^{α(max−min)} − 1)/n", lim0, tol);
    if let CaseOutcome::Found(_) = near_zero {
        return near_zero;
    }
    // Unique max with gap g: Σ_{j≠k} pⱼ ≤ (n − 1)·e^{−α·g}.
    if let Some(k) = unique_argmax(z) {
        let g = z
            .iter()
            .filter(|&&v| v != mx)
            .map(|&v| mx - v)
            .fold(f64::INFINITY, f64::min);
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
        let far = lim * (1.0 + tol) + MARGIN_FACTOR * tol * ulp(0.0f64);
        if lt(far, rest) {
            return CaseOutcome::Found(Evidence::margin(
                "1 − p_max",
                rest,
                "(n − 1)·e^{−α·gap}",
                lim,
                rest - lim,
                tol,
            ));
        }
    }
    CaseOutcome::Pass {
        error: 0.0,
        bound: tol,
    }
}

/// The claim, its readings and their judgements.
pub fn claim() -> Claim {
    Claim {
        id: "softmax-temperature",
        words: "clearly distance would matter too in the softmax case!",
        readings: vec![
            Reading::new(
                "a",
                "argmax softmax(α·z) is the same for every α > 0.",
                "α > 0; a unique maximum",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || zs(1..=8, -10..=10, vec![("α", pow2(-8..=8))]),
                    temperature_argmax_real,
                )],
            ),
            Reading::new(
                "a2",
                "In f32/f64 no strict reversal: zᵢ > zⱼ ⇒ p̂ᵢ ≥ p̂ⱼ, where p̂ = softmax(fl(α·z)) computed in the type (what monotone rounding alone would give).",
                "α > 0; finite z (a comparison of computed values: no tolerance, error and bound 0)",
                None,
                [
                    Judgement::new(
                        Domain::F32,
                        Holds,
                        ForAll,
                        temperature_cases::<f32>,
                        no_strict_reversal::<f32>,
                    ),
                    Judgement::new(
                        Domain::F64,
                        Holds,
                        ForAll,
                        temperature_cases::<f64>,
                        no_strict_reversal::<f64>,
                    ),
                ],
            ),
            Reading::new(
                "a3",
                "In f32/f64 a unique maximum can become a tie: for some z with a unique largest entry and some α > 0, another computed probability equals the largest one, so argmax p̂ is then decided by the tie-breaking rule, not by z.",
                "α > 0; a unique maximum of z",
                None,
                judged_in_floats!(Holds, Exists, temperature_cases, tie_of_the_largest, enumerate: temperature_small),
            ),
            Reading::new(
                "b",
                "The entropy of softmax(α·z) is non-increasing in α ≥ 0.",
                "α ≥ 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || zs(1..=8, -10..=10, two_scales(-6..=4)),
                    entropy_monotone,
                )],
            ),
            Reading::new(
                "c",
                "α → ∞ gives the one-hot argmax (unique max); α → 0 gives the uniform distribution.",
                "unique maximum for the first limit",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || zs(1..=8, -10..=10, vec![("α", pow2(-10..=5))]),
                    temperature_limits,
                )],
            ),
        ],
        tests: &[
            "claims_softmax::temperature_keeps_argmax_real",
            "claims_softmax::temperature_order_kept_in_floats",
            "claims_softmax::temperature_tie_witnessed_in_floats",
            "claims_softmax::entropy_non_increasing_f32",
            "claims_softmax::entropy_non_increasing_f64",
            "claims_softmax::temperature_limits_f32",
            "claims_softmax::temperature_limits_f64",
        ],
    }
}
