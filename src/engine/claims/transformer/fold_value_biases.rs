//! `fold-value-biases`.

use super::*;

/// Self-attention of the query `q` over the tokens `xⱼ` (keys and values), with a value bias
/// `b`: `Σⱼ pⱼ(xⱼ + b)` against the folded `Σⱼ pⱼxⱼ + b`.
fn value_bias(c: &Case) -> CaseOutcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return CaseOutcome::Skip;
    }
    let (qv, b) = (f(c.v("q")), f(c.v("b")));
    let xs: Vec<Vec<f64>> = toks.iter().map(|t| f(t)).collect();
    let p = softmax(&xs.iter().map(|x| dot(&qv, x)).collect::<Vec<f64>>());
    let d = c.dim();
    let combine = |vals: &[Vec<f64>]| -> Vec<f64> {
        (0..d)
            .map(|i| {
                let col: Vec<f64> = vals.iter().map(|v| v[i]).collect();
                dot(&p, &col)
            })
            .collect()
    };
    let biased: Vec<Vec<f64>> = xs
        .iter()
        .map(|x| x.iter().zip(&b).map(|(a, b)| a + b).collect())
        .collect();
    let lhs = combine(&biased);
    let rhs: Vec<f64> = combine(&xs).iter().zip(&b).map(|(a, b)| a + b).collect();
    // Σpⱼ = 1 within n·SOFTMAX_ULPS ulp; each side a compensated dot plus one addition.
    let mag = xs
        .iter()
        .chain(std::iter::once(&b))
        .flat_map(|v| v.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let n = toks.len() as f64;
    let bound = (2.0 * n * relative::<f64>(SOFTMAX_ULPS) + 8.0 * relative::<f64>(1)) * 2.0 * mag;
    compare_real("Σⱼ pⱼ(xⱼ + b_V)", &lhs, "Σⱼ pⱼxⱼ + b_V", &rhs, bound)
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "fold-value-biases",
        words: "(weight processing as interpretability tools apply it; not from the thread) moving Σ_h b_V,h·W_O,h into the output bias preserves every output (each attention row sums to 1)",
        readings: vec![Reading::new(
            "a",
            "Σⱼ pⱼ(vⱼ + b_V)·W_O = (Σⱼ pⱼvⱼ)·W_O + b_V·W_O for every attention row p: the value bias can be folded into b_O.",
            "every query attends to at least one key, so Σⱼ pⱼ = 1 (always under the causal mask; a fully masked row, which this crate maps to a zero pattern, breaks it)",
            None,
            [in_reals(
                Holds,
                ForAll,
                || lattice_tokens("x", &["q", "b"], 1..=6, 1..=5, -4..=4),
                value_bias,
            )],
        )],
        tests: &[
            "claims_transformer::fold_value_biases_settles",
            "claims_transformer::value_bias_folds_f32",
            "claims_transformer::value_bias_folds_f64",
            "transformer::fold_value_biases_preserves_logits_f32",
            "transformer::fold_value_biases_preserves_logits_f64",
            "transformer::fully_masked_row_attends_to_nothing",
        ],
    }
}
