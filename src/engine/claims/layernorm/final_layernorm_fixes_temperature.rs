//! `final-layernorm-fixes-temperature`: a final LayerNorm removes the temperature that scaling the
//! residual stream would set.

use super::*;

fn final_ln(c: &Case) -> CaseOutcome {
    let x = c.v("x");
    if !non_constant(x) {
        return CaseOutcome::Skip;
    }
    let w: DMatrix<f64> = token_matrix(c);
    let a = c.p("α").value();
    if a <= 0.0 {
        return CaseOutcome::Skip;
    }
    let xf = f(x);
    let xa: Vec<f64> = xf.iter().map(|v| v * a).collect();
    let p = |v: &[f64]| softmax(&logits(&w, &ln(v, 0.0)));
    let wsum = w.iter().map(|v| v.abs()).sum::<f64>();
    let bound = 2.0 * relative::<f64>(SOFTMAX_ULPS) + wsum * ln_bound(x.len());
    compare_real(
        "softmax(W·LN(α·x))",
        &p(&xa),
        "softmax(W·LN(x))",
        &p(&xf),
        bound,
    )
}

fn no_final_ln(c: &Case) -> CaseOutcome {
    let w: DMatrix<f64> = token_matrix(c);
    let a = c.p("α").value(); // a power of two: α·x and 1/α are exact
    let xf = f(c.v("x"));
    let xa: Vec<f64> = xf.iter().map(|v| v * a).collect();
    compare_real(
        "softmax(W·(α·x))",
        &softmax(&logits(&w, &xa)),
        "softmax_with_temperature(W·x, 1/α)",
        &softmax_with_temperature(&logits(&w, &xf), 1.0 / a),
        2.0 * relative::<f64>(SOFTMAX_ULPS) + 2.0 * ulp(0.0f64),
    )
}

fn final_ln_cases() -> BoxedStrategy<Case> {
    with_tokens(&["x"], 1..=5, 1, 2..=5, -6..=6, vec![("α", int(1..=40))])
}

fn no_final_ln_cases() -> BoxedStrategy<Case> {
    with_tokens(&["x"], 1..=5, 1, 1..=5, -6..=6, vec![("α", pow2(-6..=6))])
}

pub fn claim() -> Claim {
    Claim {
        id: "final-layernorm-fixes-temperature",
        words: "Layernorm seems to even further reduce the effect of distance",
        readings: vec![
            Reading::new(
                "a",
                "With a final LayerNorm before the unembedding, scaling the residual stream by α > 0 leaves the output distribution unchanged (ε = 0).",
                "α > 0, ε = 0, σ(x) > 0",
                None,
                [in_reals(Holds, ForAll, final_ln_cases, final_ln)],
            ),
            Reading::new(
                "b",
                "Without it, scaling the residual stream by α is the same as a softmax temperature of 1/α.",
                "α > 0",
                None,
                [in_reals(Holds, ForAll, no_final_ln_cases, no_final_ln)],
            ),
        ],
        tests: &[
            "claims_layernorm::final_layernorm_f64",
            "claims_layernorm::no_final_layernorm_is_temperature_f64",
            "claims_layernorm::final_layernorm_f32",
            "claims_layernorm::final_layernorm_generic_f64",
        ],
    }
}
