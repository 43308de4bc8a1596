//! `logit-lens-scale`.

use super::*;

fn lens_scale(c: &Case) -> CaseOutcome {
    let (r, x) = (c.v("r"), c.v("x"));
    let eps = eps(c).rational();
    if eps.is_negative() {
        return CaseOutcome::Skip;
    }
    let rq_: Vec<BigRational> = q(r);
    let d = BigRational::from_integer(BigInt::from(r.len()));
    let var = |v: &[BigRational]| -> BigRational {
        let cv = <BigRational as crate::kernels::scalar::Field>::centered(v);
        cv.iter()
            .map(|e| e * e)
            .fold(BigRational::zero(), |a, b| a + b)
            / d.clone()
    };
    let s2_x = var(&q(x)) + &eps;
    if s2_x.is_zero() {
        return CaseOutcome::Skip; // the cached scale would be 0: nothing to reuse
    }
    let dev = <BigRational as crate::kernels::scalar::Field>::centered(&rq_);
    // (r − μ)/s(x) against LN(r) = (r − μ)/s(r): equal iff r is constant or s(x) = s(r).
    let cached: Vec<(i8, BigRational)> = dev.iter().map(|e| (sign(e), e * e / &s2_x)).collect();
    let Some(own) = norm_exact(&rq_, &eps, true) else {
        return CaseOutcome::Skip; // r constant with ε = 0: 0/0, outside the conditions
    };
    exact_eq(
        "(r − μ(r))/s(x), the final norm's cached scale",
        &cached,
        "LN_final(r) = (r − μ(r))/s(r)",
        &own,
        |v| show_exact(v),
    )
}

fn lens_scale_cases() -> BoxedStrategy<Case> {
    vectors(&["r", "x"], 1..=4, -4..=4, vec![("ε", eps_param())])
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "logit-lens-scale",
        words: "(weight processing as interpretability tools apply it; not from the thread) normalising an intermediate residual with the final layer's cached scale is the same as applying the final norm to it",
        readings: vec![Reading::new(
            "a",
            "(r − μ(r))/s(x) = LN_final(r) = (r − μ(r))/s(r) for an intermediate residual r, with s(x) = √(σ²(x) + ε) cached from the final residual x.",
            "r not constant; ε ≥ 0 and σ²(x) + ε > 0 (the cached scale is not 0)",
            Some(
                "The two agree only when σ²(r) = σ²(x). The logit lens must apply the final norm with r's own scale: LN_final(r)·W_U + b_U (transformer::process::logit_lens). Reusing the cached scale of a larger final residual shrinks an early residual towards 0, its logits towards the bias, and its distribution towards uniform.",
            ),
            [in_reals(Fails, ForAll, lens_scale_cases, lens_scale)],
        )],
        tests: &[
            "claims_transformer::cached_scale_search_finds_and_verifies",
            "claims_transformer::cached_scale_is_own_scale_times_ratio_f32",
            "claims_transformer::cached_scale_is_own_scale_times_ratio_f64",
            "transformer::logit_lens_at_last_layer_is_the_output_f32",
            "transformer::logit_lens_at_last_layer_is_the_output_f64",
        ],
    }
}
