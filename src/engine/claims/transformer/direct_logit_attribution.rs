//! `direct-logit-attribution`.

use super::*;

/// The components cᵢ written to the residual stream (the case's tokens) and their sum Σᵢ cᵢ;
/// `None` without components.
fn components(c: &Case) -> Option<(Vec<&[f64]>, Vec<f64>)> {
    let toks = c.tokens();
    let sum = sum_rows(&toks, c.dim());
    (!toks.is_empty()).then_some((toks, sum))
}

fn dla_frozen_exact(c: &Case) -> CaseOutcome {
    let Some((toks, total)) = components(c) else {
        return CaseOutcome::Skip;
    };
    let (w, g) = (q(c.v("w")), q(c.v("γ")));
    // With s frozen, every term is divided by the same s > 0: compare s·(both sides).
    let term = |v: &[BigRational]| -> BigRational {
        let cv = <BigRational as crate::kernels::scalar::Field>::centered(v);
        let y: Vec<BigRational> = cv.iter().zip(&g).map(|(a, b)| a * b).collect();
        dot(&w, &y)
    };
    let parts: Vec<BigRational> = toks.iter().map(|t| term(&q(t))).collect();
    let sum = parts
        .iter()
        .cloned()
        .fold(BigRational::zero(), |a, b| a + b);
    let whole = term(&q(&total));
    exact_eq(
        "s·Σᵢ w·(γ ⊙ (cᵢ − μ(cᵢ)))/s",
        &sum,
        "s·w·(γ ⊙ LN_s(Σᵢ cᵢ))",
        &whole,
        |v| v.to_string(),
    )
}

fn dla_unfrozen(c: &Case) -> CaseOutcome {
    let Some((toks, total)) = components(c) else {
        return CaseOutcome::Skip;
    };
    let (w, g) = (f(c.v("w")), f(c.v("γ")));
    let eps = eps(c).value();
    let constant = |v: &[f64]| v.iter().all(|&e| e == v[0]);
    if toks.iter().any(|t| constant(t)) || constant(&total) {
        return CaseOutcome::Skip; // LN with ε = 0 of a constant row is 0/0: outside the conditions
    }
    let term = |v: &[f64]| dot(&w, &layer_norm(v, eps, Some(&g), None));
    let parts: f64 = toks.iter().map(|t| term(&f(t))).sum();
    let whole = term(&total);
    // Each term: LN within NORM_LAYER_ULPS ulp of entries ≤ √d·|γ|, then a compensated dot.
    let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let wsum: f64 = w.iter().map(|v| v.abs()).sum();
    let per = 2.0 * relative::<f64>(NORM_LAYER_ULPS + 1) * gmax * (c.dim() as f64).sqrt() * wsum;
    let bound = per * (toks.len() as f64 + 1.0) + relative::<f64>(1) * (parts.abs() + whole.abs());
    compare_real(
        "Σᵢ w·(γ ⊙ LN(cᵢ))",
        &[parts],
        "w·(γ ⊙ LN(Σᵢ cᵢ))",
        &[whole],
        bound,
    )
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "direct-logit-attribution",
        words: "(weight processing as interpretability tools apply it; not from the thread) with the final-LayerNorm scale frozen at its value on the full residual stream, the logits are exactly the sum of each component's contribution (plus the bias terms)",
        readings: vec![
            Reading::new(
                "a",
                "Σᵢ w·(γ ⊙ (cᵢ − μ(cᵢ)))/s + (β·w + b) = w·LN_final(Σᵢ cᵢ) + b, s = √(σ²(Σᵢcᵢ) + ε) frozen on the full stream.",
                "the scale s is the final norm's on the full residual stream (for RMSNorm drop the centering)",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || lattice_tokens("c", &["w", "γ"], 1..=5, 1..=6, -6..=6),
                    dla_frozen_exact,
                )],
            ),
            Reading::new(
                "b",
                "Without freezing: Σᵢ w·(γ ⊙ LN(cᵢ)) = w·(γ ⊙ LN(Σᵢ cᵢ)) — applying the final LayerNorm to each component separately adds up to the logit.",
                "each component normalized by its own scale, with ε = 0; no component constant (its LayerNorm would be 0/0)",
                Some(
                    "LN is not additive: each LN(cᵢ) divides by its own σ(cᵢ). Attributions add up to the logits only with the scale frozen at the full stream's value (reading (a)); transformer::process::direct_logit_attribution does that.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || lattice_tokens("c", &["w", "γ"], 2..=3, 2..=3, -3..=3),
                    dla_unfrozen,
                )],
            ),
        ],
        tests: &[
            "claims_transformer::frozen_attribution_adds_up_f32",
            "claims_transformer::frozen_attribution_adds_up_f64",
            "claims_transformer::unfrozen_attribution_search_finds_and_verifies",
            "transformer::direct_logit_attribution_adds_up_f32",
            "transformer::direct_logit_attribution_adds_up_f64",
        ],
    }
}
