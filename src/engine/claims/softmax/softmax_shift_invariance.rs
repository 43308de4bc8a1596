//! `softmax-shift-invariance`: the softmax sees only differences of the logits (and not their scale).

use super::*;
use crate::engine::claims::judged_in_floats;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::softmax::softmax;

fn shift_real(c: &Case) -> CaseOutcome {
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

fn scale_real(c: &Case) -> CaseOutcome {
    let z = f(c.v("z"));
    let a = c.p("α").value();
    if a <= 0.0 {
        return CaseOutcome::Skip;
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

fn shift_rounded<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
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
fn top_shift<T: crate::kernels::scalar::Real>() -> i64 {
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

fn shift_real_cases() -> BoxedStrategy<Case> {
    zs(1..=8, -20..=20, vec![("c", int(-50..=50))])
}

fn scale_real_cases() -> BoxedStrategy<Case> {
    zs(1..=6, -5..=5, vec![("α", int(1..=6))])
}

/// The claim, its readings and their judgements.
pub fn claim() -> Claim {
    Claim {
        id: "softmax-shift-invariance",
        words: "the softmax doesn't care about absolute size, only about the relative differences of the logits",
        readings: vec![
            Reading::new(
                "a",
                "softmax(z + c·1) = softmax(z) for every real c.",
                "none",
                None,
                [in_reals(Holds, ForAll, shift_real_cases, shift_real)],
            ),
            Reading::new(
                "b",
                "\"absolute size\" read as scale: softmax(α·z) = softmax(z) for every α > 0.",
                "α > 0",
                Some(
                    "softmax(α·z) = softmax_with_temperature(z, 1/α): α is an inverse temperature. Only the argmax is scale-invariant (α > 0).",
                ),
                [in_reals(Fails, ForAll, scale_real_cases, scale_real)],
            ),
            Reading::new(
                "c",
                "In floating point: softmax(fl(z + c·1)) = softmax(z) for every c (the sum z + c rounded to the type).",
                "finite z and c",
                Some(
                    "It holds bit for bit (in this crate) whenever every zᵢ + c is exact in the type — e.g. integers z, c with |zᵢ + c| < 2^24 (f32) or 2^53 (f64). Otherwise the rounding of zᵢ + c perturbs the logits by up to u·|zᵢ + c|, so each probability changes by a factor up to e^{2u(|zᵢ|+|c|)}: the shift c must stay small beside 1/u.",
                ),
                judged_in_floats!(Fails, ForAll, shift_cases, shift_rounded, enumerate: shift_small),
            ),
        ],
        tests: &[
            "claims_softmax::shift_invariance_real_f32",
            "claims_softmax::shift_invariance_real_f64",
            "claims_softmax::scale_is_a_temperature_search_finds_and_verifies",
            "claims_softmax::shift_rounding_search_finds_and_verifies",
            "claims_softmax::scale_counterexample_f32_f64",
        ],
    }
}
