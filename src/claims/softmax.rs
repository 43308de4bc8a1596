//! Claims about the softmax (section "Softmax" of the thread's claims).

use super::*;
use crate::judged_in_floats;
use crate::softmax::{entropy, log_softmax, logsumexp, softmax};
use crate::strategies::FloatStrategies;
use crate::tolerance::{
    ENTROPY_ULPS, LOG_SOFTMAX_ULPS, LOGSUMEXP_ULPS, SOFTMAX_ULPS, relative, ulp,
};

/// Two softmax evaluations of the same real values differ by at most this (each is within
/// SOFTMAX_ULPS ulp of the truth; probabilities are ≤ 1; plus two subnormal ulps).
fn softmax_pair_bound<T: crate::Real>() -> f64 {
    2.0 * relative::<T>(SOFTMAX_ULPS) + 2.0 * ulp(T::zero())
}

/// A judgement that tries `enumerate`'s cases (in complexity order) before its random ones.
pub(crate) fn enumerated(
    mut j: Judgement,
    enumerate: fn() -> Box<dyn Iterator<Item = Case>>,
) -> Judgement {
    j.check.enumerate = enumerate;
    j
}

/// Every case with the vector `z` of `dims` integer entries in `range` and one value of each
/// parameter list, that `keep` admits, in the crate's complexity order (ties in the order
/// they are generated: entries, then parameters, counting up).
pub(crate) fn lattice_in_order(
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: &[(&'static str, Vec<Param>)],
    values: Values,
    keep: impl Fn(&Case) -> bool,
) -> Box<dyn Iterator<Item = Case>> {
    let entries: Vec<i64> = range.collect();
    let mut zs: Vec<Vec<i64>> = Vec::new();
    let mut layer: Vec<Vec<i64>> = vec![vec![]];
    for d in 1..=*dims.end() {
        layer = layer
            .into_iter()
            .flat_map(|z| {
                entries.iter().map(move |&e| {
                    let mut z = z.clone();
                    z.push(e);
                    z
                })
            })
            .collect();
        if dims.contains(&d) {
            zs.extend(layer.iter().cloned());
        }
    }
    let mut ps: Vec<Vec<(&'static str, Param)>> = vec![vec![]];
    for (name, vals) in params {
        ps = ps
            .into_iter()
            .flat_map(|p| {
                vals.iter().map(move |&v| {
                    let mut p = p.clone();
                    p.push((*name, v));
                    p
                })
            })
            .collect();
    }
    let mut out: Vec<Case> = zs
        .iter()
        .flat_map(|z| {
            ps.iter().map(move |p| {
                Case::of_values(
                    vec![("z", z.iter().map(|&x| x as f64).collect())],
                    p.clone(),
                    values,
                )
            })
        })
        .filter(|c| keep(c))
        .collect();
    out.sort_by(|a, b| {
        a.complexity()
            .partial_cmp(&b.complexity())
            .expect("lattice cases have finite sizes")
    });
    Box::new(out.into_iter())
}

/// The index of the unique largest entry, if the largest is unique.
pub(crate) fn unique_argmax(z: &[f64]) -> Option<usize> {
    let k = argmax(z);
    (z.iter().filter(|&&v| v == z[k]).count() == 1).then_some(k)
}

/// `e^x` for an `x` far below the range of `f64`, in base 10: `≈ 6.8136e-46`.
pub(crate) fn tiny_exp(x: f64) -> String {
    let l10 = x * std::f64::consts::LOG10_E;
    let (e10, m10) = (l10.floor(), 10f64.powf(l10 - l10.floor()));
    format!("{m10:.4}e{e10}")
}

/// Positive values of `T` across its whole range (α of a temperature or a scale).
pub(crate) fn positive<T: FloatStrategies>() -> BoxedStrategy<Param> {
    let max = T::max_value().widen();
    value::<T>(-max, max)
        .prop_map(|p| Param::Value(p.value().abs()))
        .boxed()
}

/// Any finite value of `T` (a shift).
fn any_value<T: FloatStrategies>() -> BoxedStrategy<Param> {
    let max = T::max_value().widen();
    value::<T>(-max, max)
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

/// The largest power-of-two shift searched: far beyond the point (2^24, 2^53) where z + c
/// stops being exact.
fn top_shift<T: crate::Real>() -> i64 {
    i64::from(T::MANTISSA_DIGITS) + 40
}

/// Logits on the lattice and values that exercise rounding; shifts that are powers of two or
/// any finite value of `T`.
fn shift_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let shift = prop_oneof![pow2(0..=top_shift::<T>()), any_value::<T>()].boxed();
    float_case::<T>(&["z"], 0..=0, 0, 2..=6, -8..=8, vec![("c", shift)])
}

/// z with entries in {−1, 0, 1} (1 or 2 of them) and c = 2^0 … 2^top, simplest first.
fn shift_small<T: FloatStrategies>() -> Box<dyn Iterator<Item = Case>> {
    let shifts = (0..=top_shift::<T>()).map(Param::Pow2).collect();
    lattice_in_order(1..=2, -1..=1, &[("c", shifts)], Values::of::<T>(), |_| true)
}

// ---- softmax-temperature -----------------------------------------------------------------

/// (a) in ℝ, from an f64 evaluation: the unique largest logit keeps the largest probability
/// (found only if another probability exceeds it by far more than the rounding bound). The
/// products α·zᵢ are exact: small integers times powers of two.
fn temperature_argmax_real(c: &Case) -> Outcome {
    let z = c.v("z");
    let Some(k) = unique_argmax(z) else {
        return Outcome::Skip;
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
            Outcome::Pass { error: e, .. } => error = error.max(e),
            found => return found,
        }
    }
    Outcome::Pass { error, bound }
}

/// `softmax(fl(α·z))` computed in `T`, or `None` outside the conditions (α ≤ 0).
fn scaled_softmax<T: crate::Real>(c: &Case) -> Option<(Vec<T>, Vec<T>)> {
    let a = c.p("α").value();
    if a <= 0.0 {
        return None;
    }
    let at = T::narrow(a);
    let z: Vec<T> = ft(c.v("z"));
    let p = softmax(&z.iter().map(|&v| v * at).collect::<Vec<T>>());
    Some((z, p))
}

/// (a2) in `T`: no strict reversal — zᵢ > zⱼ and p̂ᵢ < p̂ⱼ is a counterexample. A sign check
/// of computed values: no tolerance (error and bound 0).
fn no_strict_reversal<T: crate::Real>(c: &Case) -> Outcome {
    let Some((z, p)) = scaled_softmax::<T>(c) else {
        return Outcome::Skip;
    };
    let vals = Values::of::<T>();
    for i in 0..z.len() {
        for j in 0..z.len() {
            if lt(z[j], z[i]) && lt(p[i], p[j]) {
                return Outcome::Found(Evidence::arithmetic(
                    domain_of::<T>(),
                    format!("p̂{i} (z{i} = {})", show_num(z[i].widen(), vals)),
                    p[i],
                    format!("p̂{j} (z{j} = {})", show_num(z[j].widen(), vals)),
                    p[j],
                ));
            }
        }
    }
    Outcome::Pass {
        error: 0.0,
        bound: 0.0,
    }
}

/// (a3) in `T`: a witness is a unique largest logit whose computed probability equals another
/// one. The reading is about this equality itself, so it is tested with `==`: reading ties
/// the other way does not remove it.
fn tie_of_the_largest<T: crate::Real>(c: &Case) -> Outcome {
    let Some(k) = unique_argmax(c.v("z")) else {
        return Outcome::Skip;
    };
    let Some((_, p)) = scaled_softmax::<T>(c) else {
        return Outcome::Skip;
    };
    let Some(j) = (0..p.len()).find(|&j| j != k && p[j] == p[k]) else {
        return Outcome::Pass {
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
    Outcome::Found(ev)
}

/// The smallest power-of-two α searched for a tie: below it α·z rounds to subnormals.
fn least_temperature<T: crate::Real>() -> i64 {
    -(i64::from(T::MANTISSA_DIGITS) + 40)
}

/// Logits on the lattice and values that exercise rounding; α a power of two or any positive
/// value of `T`.
fn temperature_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let alpha = prop_oneof![pow2(least_temperature::<T>()..=8), positive::<T>()].boxed();
    float_case::<T>(&["z"], 0..=0, 0, 2..=6, -8..=8, vec![("α", alpha)])
}

/// z with entries in {−1, 0, 1} and a unique maximum, α = 2^0 … 2^least, simplest first.
fn temperature_small<T: FloatStrategies>() -> Box<dyn Iterator<Item = Case>> {
    let alphas = (least_temperature::<T>()..=0).map(Param::Pow2).collect();
    lattice_in_order(1..=2, -1..=1, &[("α", alphas)], Values::of::<T>(), |c| {
        unique_argmax(c.v("z")).is_some()
    })
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
    let (mx, mn) = (z[argmax(z)], z[argmin(z)]);
    let tol = softmax_pair_bound::<f64>();
    // Near 0: |pᵢ − 1/n| ≤ (e^{α·(max − min)} − 1)/n.
    let dev = p.iter().map(|&v| (v - 1.0 / n).abs()).fold(0.0, f64::max);
    let lim0 = (a * (mx - mn)).exp_m1() / n;
    let near_zero = at_most_real("max|pᵢ − 1/n|", dev, "(e^{α(max−min)} − 1)/n", lim0, tol);
    if let Outcome::Found(_) = near_zero {
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

/// (a) in ℝ, from an f64 evaluation on |zᵢ| ≤ 50 (every pᵢ ≥ e^{−100}/n, far above underflow,
/// and computed within SOFTMAX_ULPS relative error, so a positive computed value is positive in
/// ℝ): the sum against 1.
fn distribution_real(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let p = softmax(&z);
    let s: f64 = p.iter().sum();
    let bound = relative::<f64>(SOFTMAX_ULPS) + z.len() as f64 * relative::<f64>(1);
    let k = argmin(&p);
    if let Outcome::Found(e) = at_most_real("−min pᵢ", -p[k], "0", 0.0, bound) {
        return Outcome::Found(e);
    }
    compare_real("Σ softmax(z)", &[s], "1", &[1.0], bound)
}

fn order_real(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let p = softmax(&z);
    let bound = softmax_pair_bound::<f64>();
    for i in 0..z.len() {
        for j in 0..z.len() {
            if lt(z[j], z[i]) {
                // pᵢ > pⱼ in ℝ: found only if pⱼ exceeds pᵢ by far more than the rounding.
                let side = at_most_real(
                    &format!("p{j} (z{j} = {})", z[j]),
                    p[j],
                    &format!("p{i} (z{i} = {})", z[i]),
                    p[i],
                    bound,
                );
                if let Outcome::Found(_) = side {
                    return side;
                }
            }
        }
    }
    // permutation equivariance: rotate by one.
    let mut zr = z.clone();
    zr.rotate_left(1);
    let mut pr = softmax(&zr);
    pr.rotate_right(1);
    compare_real("softmax(πz) permuted back", &pr, "softmax(z)", &p, bound)
}

/// (c) in `T`: a computed probability of exactly 0 (the statement says strictly positive, so
/// a 0 refutes it however ties are read: it is tested with `==`), a strict reversal of order,
/// or a sum off 1 by more than the rounding of the entries.
fn distribution_float<T: crate::Real>(c: &Case) -> Outcome {
    let z: Vec<T> = ft(c.v("z"));
    let p = softmax(&z);
    if let Some(j) = p.iter().position(|&v| v == T::zero() || lt(v, T::zero())) {
        // The real value e^(zⱼ − logsumexp z), in base 10 so that it does not underflow on the
        // way to the screen.
        let zf = c.v("z");
        let ln_p = zf[j] - logsumexp(zf);
        let mut ev = Evidence::arithmetic(
            domain_of::<T>(),
            format!("softmax(z)[{j}] computed in {}", domain_of::<T>()),
            p[j],
            format!("its real value e^(z{j} − logsumexp z)"),
            0.0,
        );
        ev.rhs = format!("e^{ln_p:.2} ≈ {} > 0", tiny_exp(ln_p));
        return Outcome::Found(ev);
    }
    let vals = Values::of::<T>();
    for i in 0..z.len() {
        for j in 0..z.len() {
            if lt(z[j], z[i]) && lt(p[i], p[j]) {
                return Outcome::Found(Evidence::arithmetic(
                    domain_of::<T>(),
                    format!("p{i} (z{i} = {})", show_num(z[i].widen(), vals)),
                    p[i],
                    format!("p{j} (z{j} = {})", show_num(z[j].widen(), vals)),
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

/// Logits on the lattice `±range` and values that exercise rounding.
fn distribution_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let r = if T::MANTISSA_DIGITS == 24 { 200 } else { 1500 };
    float_case::<T>(&["z"], 0..=0, 0, 2..=6, -r..=r, vec![])
}

// ---- logsumexp-bounds --------------------------------------------------------------------

fn lse_bounds(c: &Case) -> Outcome {
    let z = f(c.v("z"));
    let l = logsumexp(&z);
    let m = z[argmax(&z)];
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
                    judgements: {
                        let [f32, f64] = judged_in_floats!(
                            Expect::Fails,
                            Quantifier::ForAll,
                            shift_cases,
                            shift_rounded
                        );
                        vec![
                            enumerated(f32, shift_small::<f32>),
                            enumerated(f64, shift_small::<f64>),
                        ]
                    },
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
                    corrected: None,
                    judgements: vec![Judgement::new(
                        Domain::Real,
                        Expect::Holds,
                        Quantifier::ForAll,
                        || zs(1..=8, -10..=10, vec![("α", pow2(-8..=8))]),
                        temperature_argmax_real,
                    )],
                },
                Reading {
                    key: "a2",
                    statement: "In f32/f64 no strict reversal: zᵢ > zⱼ ⇒ p̂ᵢ ≥ p̂ⱼ, where p̂ = softmax(fl(α·z)) computed in the type. Rounding is monotone, so the largest logit always keeps a largest probability; the argmax can change only through a tie (a3).",
                    conditions: "α > 0; finite z (a comparison of computed values: no tolerance, error and bound 0)",
                    corrected: None,
                    judgements: judged_in_floats!(
                        Expect::Holds,
                        Quantifier::ForAll,
                        temperature_cases,
                        no_strict_reversal
                    )
                    .into(),
                },
                Reading {
                    key: "a3",
                    statement: "In f32/f64 a unique maximum can become a tie: for some z with a unique largest entry and some α > 0, another computed probability equals the largest one, so argmax p̂ is then decided by the tie-breaking rule, not by z.",
                    conditions: "α > 0; a unique maximum of z",
                    corrected: None,
                    judgements: {
                        let [f32, f64] = judged_in_floats!(
                            Expect::Holds,
                            Quantifier::Exists,
                            temperature_cases,
                            tie_of_the_largest
                        );
                        vec![
                            enumerated(f32, temperature_small::<f32>),
                            enumerated(f64, temperature_small::<f64>),
                        ]
                    },
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
                "claims_softmax::temperature_order_kept_in_floats",
                "claims_softmax::temperature_tie_witnessed_in_floats",
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
                        "In floating point pᵢ ≥ 0, and pᵢ rounds to 0 once its real value e^(zᵢ − logsumexp z) is below half the smallest subnormal, i.e. once zᵢ − logsumexp(z) < ln 2⁻¹⁵⁰ ≈ −103.97 (f32) or ln 2⁻¹⁰⁷⁵ ≈ −745.13 (f64) (the smallest subnormals 2⁻¹⁴⁹ and 2⁻¹⁰⁷⁴ have logs −103.28 and −744.44); order is preserved weakly (zᵢ > zⱼ ⇒ pᵢ ≥ pⱼ); |Σp − 1| ≤ 3ε + n·ε_f64.",
                    ),
                    judgements: judged_in_floats!(
                        Expect::Fails,
                        Quantifier::ForAll,
                        distribution_cases,
                        distribution_float
                    )
                    .into(),
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
