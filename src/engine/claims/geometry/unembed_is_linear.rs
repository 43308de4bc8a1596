//! `unembed-is-linear` (`proofs/unembed-is-linear.md`): The unembedding is linear; through a final
//! LayerNorm or a softmax it is not.

use super::*;

fn unembed_linear(c: &Case) -> CaseOutcome {
    let (x, y, ts) = (q(c.v("x")), q(c.v("y")), tokens_q(c));
    let (a, b) = (c.p("α").rational(), c.p("β").rational());
    let comb: Vec<Q> = x
        .iter()
        .zip(&y)
        .map(|(u, v)| a.clone() * u + b.clone() * v)
        .collect();
    let lhs = scores(&comb, &ts);
    let rhs: Vec<Q> = scores(&x, &ts)
        .into_iter()
        .zip(scores(&y, &ts))
        .map(|(u, v)| a.clone() * u + b.clone() * v)
        .collect();
    exact_eq("W(αx + βy)", &lhs, "αWx + βWy", &rhs, |v| show_q(v))
}

fn wf(c: &Case) -> DMatrix<f64> {
    let t = c.tokens();
    DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r])
}

fn ln0(v: &[f64]) -> Vec<f64> {
    layer_norm(v, 0.0, None, None)
}

/// Whether every entry is the same (LayerNorm with ε = 0 divides 0 by 0 there).
fn constant(v: &[f64]) -> bool {
    v.iter().all(|&e| e == v[0])
}

fn through_layernorm(c: &Case) -> CaseOutcome {
    let w = wf(c);
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    let xy: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    if constant(&x) || constant(&y) || constant(&xy) {
        return CaseOutcome::Skip;
    }
    let lhs = logits(&w, &ln0(&xy));
    let rhs: Vec<f64> = logits(&w, &ln0(&x))
        .into_iter()
        .zip(logits(&w, &ln0(&y)))
        .map(|(a, b)| a + b)
        .collect();
    let scale = w.iter().map(|v| v.abs()).sum::<f64>() * (x.len() as f64).sqrt();
    readable(
        compare_real(
            &format!("W·LN(x + y) (LN(x + y) = {})", vec64(&ln0(&xy))),
            &lhs,
            &format!(
                "W·LN(x) + W·LN(y) (LN(x) = {}, LN(y) = {})",
                vec64(&ln0(&x)),
                vec64(&ln0(&y))
            ),
            &rhs,
            3.0 * scale * relative::<f64>(NORM_LAYER_ULPS + 2),
        ),
        vec64(&lhs),
        vec64(&rhs),
    )
}

fn to_probabilities(c: &Case) -> CaseOutcome {
    let w = wf(c);
    let (x, y) = (f(c.v("x")), f(c.v("y")));
    let xy: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a + b).collect();
    let lhs = softmax(&logits(&w, &xy));
    let rhs: Vec<f64> = softmax(&logits(&w, &x))
        .into_iter()
        .zip(softmax(&logits(&w, &y)))
        .map(|(a, b)| a + b)
        .collect();
    readable(
        compare_real(
            "softmax(W(x + y))",
            &lhs,
            "softmax(Wx) + softmax(Wy)",
            &rhs,
            3.0 * relative::<f64>(SOFTMAX_ULPS) + ulp(0.0f64),
        ),
        vec64(&lhs),
        vec64(&rhs),
    )
}

fn unembed_linear_cases() -> BoxedStrategy<Case> {
    xs_tokens(
        &["x", "y"],
        1..=4,
        1,
        1..=4,
        vec![("α", int(-5..=5)), ("β", int(-5..=5))],
    )
}

fn through_layernorm_cases() -> BoxedStrategy<Case> {
    xs_tokens(&["x", "y"], 1..=3, 1, 2..=4, vec![])
}

fn to_probabilities_cases() -> BoxedStrategy<Case> {
    xs_tokens(&["x", "y"], 1..=3, 1, 1..=3, vec![])
}

/// The claim `unembed-is-linear` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "unembed-is-linear",
        words: "(in the brief's list of claims, not found in the thread's comments) especially since the embed/unembed are linear functions",
        readings: vec![
            Reading::new(
                "a",
                "x ↦ W·x is linear.",
                "none",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    unembed_linear_cases,
                    unembed_linear,
                )],
            ),
            Reading::new(
                "b",
                "The map from the residual stream to logits through a final LayerNorm is linear.",
                "ε = 0; x, y and x + y not constant vectors (with ε = 0 LayerNorm divides 0 by 0 there)",
                Some(
                    "x ↦ W·LN(x) is invariant under x ↦ αx (α > 0) and x ↦ x + c·1, hence not additive; only W itself is linear.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    through_layernorm_cases,
                    through_layernorm,
                )],
            ),
            Reading::new(
                "c",
                "The map from the residual stream to probabilities is linear.",
                "none",
                Some(
                    "softmax is not additive (Σ softmax(Wx) + softmax(Wy) = 2); log-probabilities are affine in the logits only up to the per-row constant logsumexp.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    to_probabilities_cases,
                    to_probabilities,
                )],
            ),
        ],
        tests: &[
            "claims_geometry::unembed_linear_exact",
            "claims_geometry::nonlinear_maps_search_finds_and_verifies",
        ],
    }
}
