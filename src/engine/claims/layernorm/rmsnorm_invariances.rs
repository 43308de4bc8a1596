//! `rmsnorm-invariances`: RMSNorm is scale- but not shift-invariant, and |RMSNorm(x)| = √d.

use super::*;

/// RMSNorm with ε = 0, defined where the row is not 0.
fn rms(v: &[f64]) -> Vec<f64> {
    rms_norm(v, 0.0, None)
}

fn rms_scale(c: &Case) -> CaseOutcome {
    let a = c.p("α").value();
    norm_invariance(c, ("RMSNorm(α·x)", "RMSNorm(x)"), rms, nonzero, |v| v * a)
}

fn rms_shift(c: &Case) -> CaseOutcome {
    let k = c.p("c").value();
    norm_invariance(c, ("RMSNorm(x + c·1)", "RMSNorm(x)"), rms, nonzero, |v| {
        v + k
    })
}

fn rms_norm_is_sqrt_d(c: &Case) -> CaseOutcome {
    let x = c.v("x");
    if !nonzero(x) {
        return CaseOutcome::Skip;
    }
    let n = norm(&rms(x));
    let d = (x.len() as f64).sqrt();
    compare_real(
        "|RMSNorm(x)|",
        &[n],
        "√d",
        &[d],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS) * d,
    )
}

fn rms_scale_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 1..=10, -20..=20, vec![("α", pow2(-30..=30))])
}

fn rms_shift_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 1..=4, -5..=5, vec![("c", int(-5..=5))])
}

fn rms_norm_is_sqrt_d_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 1..=12, -20..=20, vec![])
}

pub fn claim() -> Claim {
    Claim {
        id: "rmsnorm-invariances",
        words: "(RMSNorm, the LayerNorm without centering that many current models use)",
        readings: vec![
            Reading::new(
                "a",
                "RMSNorm(α·x) = RMSNorm(x) for α > 0 (ε = 0).",
                "α > 0, ε = 0, x ≠ 0",
                None,
                [in_reals(Holds, ForAll, rms_scale_cases, rms_scale)],
            ),
            Reading::new(
                "b",
                "RMSNorm(x + c·1) = RMSNorm(x).",
                "ε = 0, x ≠ 0 and x + c·1 ≠ 0 (else a side is 0/0)",
                Some(
                    "RMSNorm does not center: only LayerNorm (= RMSNorm ∘ center) is shift-invariant.",
                ),
                [in_reals(Fails, ForAll, rms_shift_cases, rms_shift)],
            ),
            Reading::new(
                "c",
                "|RMSNorm(x)| = √d for ε = 0.",
                "x ≠ 0, ε = 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    rms_norm_is_sqrt_d_cases,
                    rms_norm_is_sqrt_d,
                )],
            ),
        ],
        tests: &[
            "claims_layernorm::rms_scale_invariance_f32",
            "claims_layernorm::rms_scale_invariance_f64",
            "claims_layernorm::rms_norm_sqrt_d_f64",
            "claims_layernorm::rms_shift_search_finds_and_verifies",
            "claims_layernorm::rms_norm_sqrt_d_f32",
            "claims_layernorm::rms_norm_sqrt_d_generic_f64",
            "claims_layernorm::refutations_hold_in_f32_and_f64",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
