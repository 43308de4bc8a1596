//! `layernorm-sees-direction`: LN sees the direction of x − μ·1 (for α > 0 and ε = 0), not of x.

use super::*;

/// GPT-2's ε, as the power of two 2^-17 ≈ 7.6e-6 so that α·x stays exact.
const GPT2_EPS: Param = Param::Pow2(-17);

fn scale_gpt2_eps(c: &Case) -> CaseOutcome {
    if c.p("ε") != GPT2_EPS {
        return CaseOutcome::Skip; // ε is fixed by the reading, not a free parameter
    }
    scale(c, false)
}

fn shift(c: &Case) -> CaseOutcome {
    let k = c.p("c").value();
    let eps = eps(c).value();
    norm_invariance(
        c,
        ("LN(x + c·1)", "LN(x)"),
        |v| ln(v, eps),
        ln_defined(eps),
        |v| v + k,
    )
}

/// Whether `b` is a positive multiple of `a` (Cauchy–Schwarz with equality, a·b > 0), in
/// rationals.
fn positive_multiples(a: &[BigRational], b: &[BigRational]) -> bool {
    let ab = dot(a, b);
    lt(&exact(0.0), &ab) && ab.clone() * ab == dot(a, a) * dot(b, b)
}

/// Two residuals that point in different directions (not positive multiples: exact test) and
/// have the same LN output.
fn different_direction_same_output(c: &Case) -> CaseOutcome {
    let (x, y) = (c.v("x"), c.v("x'"));
    if !non_constant(x) || !non_constant(y) {
        return CaseOutcome::Skip;
    }
    let (xq, yq) = (q(x), q(y));
    if positive_multiples(&xq, &yq) {
        return CaseOutcome::Skip; // the same direction: not a pair the statement asks for
    }
    // With ε = 0, LN(x) = LN(x') exactly iff x − μ(x)·1 = λ·(x' − μ(x')·1) for some λ > 0:
    // decided in rationals.
    let center = |v: &[BigRational]| -> Vec<BigRational> {
        let n = exact(v.len() as f64);
        let mu = v.iter().fold(exact(0.0), |a, b| a + b) / n;
        v.iter().map(|e| e - mu.clone()).collect()
    };
    let (cx, cy) = (center(&xq), center(&yq));
    if positive_multiples(&cx, &cy) {
        // The centered parts are positive multiples of each other, so LN(x) = LN(x'), while
        // x and x' themselves are not.
        CaseOutcome::Found(Evidence::exact(
            "x − μ(x)·1 (x' is no positive multiple of x)",
            show_q(&cx),
            "x' − μ(x')·1 (a positive multiple, so LN(x') = LN(x))",
            show_q(&cy),
        ))
    } else {
        CaseOutcome::EXACT
    }
}

fn scale_positive_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 2..=10, -20..=20, vec![("α", pow2(-30..=30))])
}

fn scale_negative_cases() -> BoxedStrategy<Case> {
    vectors(&["x"], 2..=6, -5..=5, vec![("α", int(-8..=-1))])
}

fn scale_gpt2_eps_cases() -> BoxedStrategy<Case> {
    vectors(
        &["x"],
        2..=4,
        -4..=4,
        vec![("α", pow2(-12..=0)), ("ε", Just(GPT2_EPS).boxed())],
    )
}

fn shift_cases() -> BoxedStrategy<Case> {
    vectors(
        &["x"],
        2..=10,
        -20..=20,
        vec![("c", int(-100..=100)), ("ε", eps_param())],
    )
}

pub fn claim() -> Claim {
    Claim {
        id: "layernorm-sees-direction",
        words: "All any \"active\" component of the neural network \"sees\" is the direction of the residual stream, and not its magnitude",
        readings: vec![
            scale_positive_reading(
                "a1",
                "LN(α·x) = LN(x) for every α > 0 (ε = 0).",
                scale_positive_cases,
            ),
            Reading::new(
                "a2",
                "LN(α·x) = LN(x) for α < 0 too.",
                "α < 0, ε = 0, σ(x) > 0",
                Some("LN(α·x) = −LN(x) for α < 0: LN is odd."),
                [in_reals(Fails, ForAll, scale_negative_cases, |c| {
                    scale(c, true)
                })],
            ),
            Reading::new(
                "b",
                "With ε > 0 (1e-5 as in GPT-2): LN(α·x) = LN(x) for α > 0.",
                "α > 0, ε = 2^-17 ≈ 7.6e-6 (a power of two near GPT-2's 1e-5)",
                Some(
                    "LN_ε(x) = LN_0(x)·σ/√(σ² + ε): scaling by α changes the output by the factor ασ√(σ²+ε)/(σ√(α²σ²+ε)), negligible when α²σ² ≫ ε and large when |x| is small.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    scale_gpt2_eps_cases,
                    scale_gpt2_eps,
                )],
            ),
            Reading::new(
                "c1",
                "LN(x + c·1) = LN(x).",
                "any ε ≥ 0; σ(x) > 0 when ε = 0 (else both sides are 0/0)",
                None,
                [in_reals(Holds, ForAll, shift_cases, shift)],
            ),
            Reading::new(
                "c2",
                "So LN keeps the direction of x − μ·1, not of x: two residuals with different directions and the same LN output exist.",
                "ε = 0, σ(x) > 0, σ(x') > 0",
                None,
                [in_reals(
                    Holds,
                    Exists,
                    || vectors(&["x", "x'"], 2..=3, -3..=3, vec![]),
                    different_direction_same_output,
                )],
            ),
        ],
        tests: &[
            "claims_layernorm::scale_invariance_f32",
            "claims_layernorm::scale_invariance_f64",
            "claims_layernorm::shift_invariance_f64",
            "claims_layernorm::direction_search_finds_and_verifies",
            "claims_layernorm::layernorm_shift_invariance_f32",
            "claims_layernorm::layernorm_shift_invariance_f64",
            "claims_layernorm::refutations_hold_in_f32_and_f64",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
