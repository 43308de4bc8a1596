//! `softmax-is-a-distribution`: positive outputs summing to 1, in the order of the logits.

use super::*;
use crate::engine::claims::judged_in_floats;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::softmax::{logsumexp, softmax};
use crate::kernels::tolerance::{SOFTMAX_ULPS, relative};

/// (a) in ℝ, from an f64 evaluation on |zᵢ| ≤ 50 (every pᵢ ≥ e^{−100}/n, far above underflow,
/// and computed within SOFTMAX_ULPS relative error, so a positive computed value is positive in
/// ℝ): the sum against 1.
fn distribution_real(c: &Case) -> CaseOutcome {
    let z = f(c.v("z"));
    let p = softmax(&z);
    let s: f64 = p.iter().sum();
    let bound = relative::<f64>(SOFTMAX_ULPS) + z.len() as f64 * relative::<f64>(1);
    let k = argmin(&p);
    if let CaseOutcome::Found(e) = at_most_real("−min pᵢ", -p[k], "0", 0.0, bound) {
        return CaseOutcome::Found(e);
    }
    compare_real("Σ softmax(z)", &[s], "1", &[1.0], bound)
}

fn order_real(c: &Case) -> CaseOutcome {
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
                if let CaseOutcome::Found(_) = side {
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
fn distribution_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
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
        return CaseOutcome::Found(ev);
    }
    let vals = Values::of::<T>();
    if let Some((i, j)) = strict_reversal(&z, &p) {
        return CaseOutcome::Found(Evidence::arithmetic(
            domain_of::<T>(),
            format!("p{i} (z{i} = {})", show_num(z[i].widen(), vals)),
            p[i],
            format!("p{j} (z{j} = {})", show_num(z[j].widen(), vals)),
            p[j],
        ));
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

/// Logits on the lattice ±50, up to 10 of them.
fn finite_logits() -> BoxedStrategy<Case> {
    zs(1..=10, -50..=50, vec![])
}

/// The claim, its readings and their judgements.
pub fn claim() -> Claim {
    Claim {
        id: "softmax-is-a-distribution",
        words: "(implicit in every use of the softmax)",
        readings: vec![
            Reading::new(
                "a",
                "Every output is strictly positive and the outputs sum to 1.",
                "finite z",
                None,
                [in_reals(Holds, ForAll, finite_logits, distribution_real)],
            ),
            Reading::new(
                "b",
                "Order-preserving: zᵢ > zⱼ ⇒ pᵢ > pⱼ; and permutation-equivariant.",
                "finite z",
                None,
                [in_reals(Holds, ForAll, finite_logits, order_real)],
            ),
            Reading::new(
                "c",
                "(a) and (b) in f32/f64, for finite inputs of any size.",
                "finite z",
                Some(
                    "In floating point pᵢ ≥ 0, and pᵢ rounds to 0 once its real value e^(zᵢ − logsumexp z) is below half the smallest subnormal, i.e. once zᵢ − logsumexp(z) < ln 2⁻¹⁵⁰ ≈ −103.97 (f32) or ln 2⁻¹⁰⁷⁵ ≈ −745.13 (f64) (the smallest subnormals 2⁻¹⁴⁹ and 2⁻¹⁰⁷⁴ have logs −103.28 and −744.44); order is preserved weakly in f32 (zᵢ > zⱼ ⇒ pᵢ ≥ pⱼ) and up to 6 ulp in f64 (zᵢ > zⱼ ⇒ pᵢ ≥ pⱼ − 6 ulp(pⱼ), see softmax-temperature (a2)); |Σp − 1| ≤ 3ε + n·ε_f64.",
                ),
                judged_in_floats!(Fails, ForAll, distribution_cases, distribution_float),
            ),
        ],
        tests: &[
            "claims_softmax::distribution_real_f32",
            "claims_softmax::distribution_real_f64",
            "claims_softmax::distribution_float_search_finds_and_verifies",
        ],
    }
}
