//! `layernorm-output-norm`: |LN(x)| is √d·σ/√(σ² + ε), not 1; after γ and β it depends on x.

use super::*;

fn output_norm_one(c: &Case) -> CaseOutcome {
    let x = c.v("x");
    if !non_constant(x) {
        return CaseOutcome::Skip;
    }
    let n = norm(&ln(&f(x), 0.0));
    compare_real(
        "|LN(x)|",
        &[n],
        "|LN(x)| as stated",
        &[1.0],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS) * n,
    )
}

fn output_norm_formula(c: &Case) -> CaseOutcome {
    let x = c.v("x");
    let eps = eps(c).value();
    if !non_constant(x) && eps == 0.0 {
        return CaseOutcome::Skip; // σ = ε = 0: the formula is 0/0
    }
    let xf = f(x);
    let d = x.len() as f64;
    let mu = xf.iter().sum::<f64>() / d; // exact for small integers
    let var = xf.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d;
    let want = if var == 0.0 {
        0.0
    } else {
        (d * var / (var + eps)).sqrt()
    };
    let got = norm(&ln(&xf, eps));
    compare_real(
        "|LN(x)|",
        &[got],
        "√d·σ/√(σ² + ε)",
        &[want],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS + 4) * want,
    )
}

fn affine_norm_constant(c: &Case) -> CaseOutcome {
    let (x1, x2) = (c.v("x1"), c.v("x2"));
    if !non_constant(x1) || !non_constant(x2) {
        return CaseOutcome::Skip;
    }
    let (g, b) = (f(c.v("γ")), f(c.v("β")));
    let y = |x: &[f64]| norm(&layer_norm(&f(x), 0.0, Some(&g), Some(&b)));
    let (n1, n2) = (y(x1), y(x2));
    let scale = g.iter().map(|v| v.abs()).fold(0.0, f64::max) * (x1.len() as f64).sqrt() + norm(&b);
    compare_real(
        "|γ ⊙ LN(x1) + β|",
        &[n1],
        "|γ ⊙ LN(x2) + β|",
        &[n2],
        4.0 * scale * relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS),
    )
}

fn output_norm_one_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 1..=6, -9..=9, vec![])
}

fn output_norm_formula_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 1..=12, -20..=20, vec![("ε", eps_param())])
}

fn affine_norm_constant_cases() -> BoxedStrategy<Case> {
    vectors(&["x1", "x2", "γ", "β"], 2..=4, -3..=3, vec![])
}

pub fn claim() -> Claim {
    Claim {
        id: "layernorm-output-norm",
        words: "since layer norm's output is always norm 1 (before applying the scale and bias terms)",
        readings: vec![
            Reading::new(
                "a",
                "|LN(x)| = 1 for every x with σ(x) > 0, ε = 0.",
                "σ > 0, ε = 0",
                Some(
                    "|LN(x)| = √d for ε = 0 (the output has mean 0 and variance 1, so its squared norm is d).",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    output_norm_one_cases,
                    output_norm_one,
                )],
            ),
            Reading::new(
                "b",
                "|LN(x)| = √d·σ/√(σ² + ε), for ε = 0 and for ε > 0.",
                "σ > 0 or ε > 0 (for σ = ε = 0 both sides are 0/0)",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    output_norm_formula_cases,
                    output_norm_formula,
                )],
            ),
            Reading::new(
                "c",
                "After γ and β, |γ ⊙ LN(x) + β| is constant in x.",
                "ε = 0, σ(x1) > 0, σ(x2) > 0",
                Some(
                    "|γ ⊙ LN(x) + β| depends on the direction of LN(x) unless γ is constant and β = 0 (then it is |γ|·√d).",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    affine_norm_constant_cases,
                    affine_norm_constant,
                )],
            ),
        ],
        tests: &[
            "claims_layernorm::output_norm_is_sqrt_d_f32",
            "claims_layernorm::output_norm_is_sqrt_d_f64",
            "claims_layernorm::output_norm_search_finds_and_verifies",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
