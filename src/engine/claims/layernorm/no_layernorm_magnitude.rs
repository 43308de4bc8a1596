//! `no-layernorm-magnitude`: a bias-free ReLU layer is positively homogeneous; a bias or GELU is not.

use super::*;

fn relu(v: BigRational) -> BigRational {
    v.max(exact(0.0))
}

fn wq(c: &Case) -> DMatrix<BigRational> {
    let t = c.tokens();
    DMatrix::from_fn(c.dim(), t.len(), |r, k| exact(t[k][r]))
}

fn relu_layer(c: &Case, with_bias: bool) -> CaseOutcome {
    let w = wq(c);
    let x = q(c.v("x"));
    let a = c.p("α").rational();
    if a <= exact(0.0) {
        return CaseOutcome::Skip;
    }
    let b = c.p("b").rational();
    let f = |v: &[BigRational]| -> Vec<BigRational> {
        logits(&w, v)
            .into_iter()
            .map(|l| relu(if with_bias { l + b.clone() } else { l }))
            .collect()
    };
    let ax: Vec<BigRational> = x.iter().map(|v| a.clone() * v).collect();
    let lhs = f(&ax);
    let rhs: Vec<BigRational> = f(&x).into_iter().map(|v| a.clone() * v).collect();
    let (l, r) = if with_bias {
        ("f(α·x) = ReLU(W·(α·x) + b)", "α·f(x) = α·ReLU(W·x + b)")
    } else {
        ("f(α·x) = ReLU(W·(α·x))", "α·f(x) = α·ReLU(W·x)")
    };
    exact_eq(l, &lhs, r, &rhs, |v| show_q(v))
}

fn gelu(v: f64) -> f64 {
    0.5 * v * (1.0 + libm::erf(v / std::f64::consts::SQRT_2))
}

fn gelu_layer(c: &Case) -> CaseOutcome {
    let x = f(c.v("x"));
    let a = c.p("α").value();
    if a <= 0.0 {
        return CaseOutcome::Skip;
    }
    let w: DMatrix<f64> = token_matrix(c);
    let g = |v: &[f64]| logits(&w, v).into_iter().map(gelu).collect::<Vec<f64>>();
    let ax: Vec<f64> = x.iter().map(|v| v * a).collect();
    let lhs = g(&ax);
    let rhs: Vec<f64> = g(&x).into_iter().map(|v| v * a).collect();
    let scale = lhs.iter().chain(&rhs).fold(1.0f64, |m, v| m.max(v.abs()));
    compare_real(
        "GELU(W(α·x))",
        &lhs,
        "α·GELU(Wx)",
        &rhs,
        16.0 * f64::EPSILON * scale,
    )
}

/// x and between 1 and `n` rows of W, of a dimension up to `n`, entries in [−5, 5];
/// α ∈ 1..=`alpha`, and the bias from `bias`.
fn relu_cases(n: usize, alpha: i64, bias: BoxedStrategy<Param>) -> BoxedStrategy<Case> {
    let params = vec![("α", int(1..=alpha)), ("b", bias)];
    with_tokens(&["x"], 1..=n, 1, 1..=n, -5..=5, params)
}

fn gelu_layer_cases() -> BoxedStrategy<Case> {
    with_tokens(&["x"], 1..=3, 1, 1..=3, -3..=3, vec![("α", int(1..=5))])
}

pub fn claim() -> Claim {
    Claim {
        id: "no-layernorm-magnitude",
        words: "without layernorm, intermediate components of the network could \"care more\" about the magnitude",
        readings: vec![
            Reading::new(
                "a",
                "A bias-free ReLU layer is positively homogeneous: f(α·x) = α·f(x), so the direction of its output ignores |x|.",
                "α > 0, no bias; W has the rows w0, w1, …",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || relu_cases(4, 9, Just(Param::Int(0)).boxed()),
                    |c| relu_layer(c, false),
                )],
            ),
            Reading::new(
                "b1",
                "With a bias, f(α·x) = α·f(x) still.",
                "α > 0, the bias b on every unit; W has the rows w0, w1, …",
                Some("ReLU(Wx + b) is homogeneous only for b = 0."),
                [in_reals(
                    Fails,
                    ForAll,
                    || relu_cases(3, 5, int(-5..=5)),
                    |c| relu_layer(c, true),
                )],
            ),
            Reading::new(
                "b2",
                "With GELU instead of ReLU, f(α·x) = α·f(x) still.",
                "α > 0; W has the rows w0, w1, …",
                Some("GELU(t) = t·Φ(t) is not homogeneous: GELU(αt) ≠ α·GELU(t) for t ≠ 0, α ≠ 1."),
                [in_reals(Fails, ForAll, gelu_layer_cases, gelu_layer)],
            ),
        ],
        tests: &[
            "claims_layernorm::relu_homogeneous_exact",
            "claims_layernorm::bias_and_gelu_search_finds_and_verifies",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
