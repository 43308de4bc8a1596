//! `center-writing-weights`.

use super::*;

fn centered_sum(toks: &[&[f64]]) -> (Vec<BigRational>, Vec<BigRational>) {
    let d = toks[0].len();
    let x = q(&sum_rows(toks, d));
    let xc = toks
        .iter()
        .map(|t| <BigRational as crate::kernels::scalar::Field>::centered(&q(t)))
        .fold(vec![BigRational::zero(); d], |acc, t| {
            acc.into_iter().zip(t).map(|(a, b)| a + b).collect()
        });
    (x, xc)
}

fn writing_exact(c: &Case, layer: bool) -> CaseOutcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return CaseOutcome::Skip;
    }
    let eps = eps(c).rational();
    if eps.is_negative() {
        return CaseOutcome::Skip;
    }
    let (x, xc) = centered_sum(&toks);
    let (Some(a), Some(b)) = (norm_exact(&x, &eps, layer), norm_exact(&xc, &eps, layer)) else {
        return CaseOutcome::Skip; // ε = 0 and a constant input: 0/0, outside the conditions
    };
    let name = if layer { "LN" } else { "RMSNorm" };
    exact_eq(
        format!("{name}(Σ center(cᵢ))"),
        &b,
        format!("{name}(Σ cᵢ)"),
        &a,
        |v| show_exact(v),
    )
}
fn writing_layernorm_exact(c: &Case) -> CaseOutcome {
    writing_exact(c, true)
}
fn writing_rmsnorm_exact(c: &Case) -> CaseOutcome {
    writing_exact(c, false)
}

/// `LN(Σ center(cᵢ))` against `LN(Σ cᵢ)`, both sums and the centering in `T`: found when the
/// two differ by more than [`writing_threshold`] — a visible difference that no rounding of the
/// LayerNorm itself explains (the reading says the reader sees
/// the same input). `ε > 0`, so no 0/0 convention is involved.
fn writing_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let toks = c.tokens();
    let d = c.dim();
    let eps = T::narrow(eps(c).value());
    if toks.is_empty() || eps <= T::zero() {
        return CaseOutcome::Skip;
    }
    let add =
        |acc: Vec<T>, t: Vec<T>| -> Vec<T> { acc.into_iter().zip(t).map(|(a, b)| a + b).collect() };
    let x = toks
        .iter()
        .map(|t| ft::<T>(t))
        .fold(vec![T::zero(); d], add);
    let xc = toks
        .iter()
        .map(|t| <T as crate::kernels::scalar::Field>::centered(&ft::<T>(t)))
        .fold(vec![T::zero(); d], add);
    if !(all_finite(&x) && all_finite(&xc)) {
        return CaseOutcome::Skip;
    }
    let (a, b) = (
        layer_norm(&xc, eps, None, None),
        layer_norm(&x, eps, None, None),
    );
    if !(all_finite(&a) && all_finite(&b)) {
        return CaseOutcome::Skip;
    }
    let values = Values::of::<T>();
    let widen = |v: &[T]| -> Vec<f64> { v.iter().map(|x| x.widen()).collect() };
    match compare_arith(domain_of::<T>(), "", &a, "", &b, writing_threshold::<T>(d)) {
        CaseOutcome::Found(mut e) => {
            e.lhs_label = format!("LN(Σ center(cᵢ)) = LN({})", show_vec(&widen(&xc), values));
            e.rhs_label = format!("LN(Σ cᵢ) = LN({})", show_vec(&widen(&x), values));
            e.lhs = show_vec(&widen(&a), values);
            e.rhs = show_vec(&widen(&b), values);
            CaseOutcome::Found(e)
        }
        other => other,
    }
}

/// The change of a LayerNorm reader's output (ε > 0, no γ, β) when the writes `cᵢ` are
/// centered in `T` before being summed, as in the corrected statement of
/// center-writing-weights (a): `e/s/(1 − 2e/s) + ` two LayerNorm roundings, with `e = 4k·u·Σᵢ
/// max|cᵢ|·√d` (the rounding of the k centerings and of both sums, as a 2-norm) and `s =
/// √(σ²(Σcᵢ) + ε)` — LN's Jacobian has 2-norm ≤ 1/s, and a perturbation below s/2 changes s
/// by at most a factor `1 − 2e/s`. `None` when `2e ≥ s` (near cancellation: no first-order
/// bound; the output may change by O(1)).
pub fn writing_perturbation_bound<T: crate::kernels::scalar::Real>(
    toks: &[Vec<T>],
    eps: T,
) -> Option<f64> {
    let d = toks.first()?.len();
    let k = toks.len() as f64;
    let mag: f64 = toks
        .iter()
        .map(|t| t.iter().fold(0.0f64, |m, v| m.max(v.widen().abs())))
        .sum();
    let e_in = 4.0 * k * unit_roundoff::<T>() * mag * (d as f64).sqrt();
    let x: Vec<f64> = (0..d)
        .map(|i| toks.iter().map(|t| t[i].widen()).sum())
        .collect();
    // s = √(σ² + ε), scaled by the largest deviation so that no square overflows.
    let mu = x.iter().map(|v| v / d as f64).sum::<f64>();
    let m = x.iter().fold(0.0f64, |a, v| a.max((v - mu).abs()));
    let s = if m == 0.0 {
        eps.widen().sqrt()
    } else {
        let var = x.iter().map(|v| ((v - mu) / m).powi(2)).sum::<f64>() / d as f64;
        m * (var + eps.widen() / m / m).sqrt()
    } * (1.0 - 1e-9);
    (2.0 * e_in < s).then(|| e_in / s / (1.0 - 2.0 * e_in / s) + writing_ln_rounding::<T>(d))
}

/// How far above the LayerNorm's own rounding a change of its output must be to refute
/// center-writing-weights in floats (2¹⁰: below the largest possible change, 2√(d − 1), even
/// in f32 at d = 2).
const WRITING_FACTOR: f64 = 1024.0;

/// The change of a LayerNorm output that refutes center-writing-weights in floats: 2⁻¹⁰
/// absolute (a visible change of an output whose entries are at most √(d − 1)), and at least
/// [`WRITING_FACTOR`] times the LayerNorm's own rounding.
fn writing_threshold<T: crate::kernels::scalar::Real>(d: usize) -> f64 {
    (WRITING_FACTOR * writing_ln_rounding::<T>(d)).max(2f64.powi(-10))
}

/// The rounding of two LayerNorm evaluations (each entry within `NORM_LAYER_ULPS` ulp of a
/// value of size ≤ √d), the allowance of `writing_float`.
fn writing_ln_rounding<T: crate::kernels::scalar::Real>(d: usize) -> f64 {
    2.0 * (d as f64).sqrt() * relative::<T>(NORM_LAYER_ULPS) + 2.0 * ulp(T::zero())
}

fn writing_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let eps = prop_oneof![
        Just(Param::Value(T::narrow(1e-5).widen())),
        (-20i64..=2).prop_map(Param::Pow2)
    ]
    .boxed();
    tokens_named(
        "c",
        float_case::<T>(&[], 1..=4, 1, 2..=6, -8..=8, vec![("ε", eps)]),
    )
}

fn writing_layernorm_exact_cases() -> BoxedStrategy<Case> {
    tokens_named(
        "c",
        with_tokens(&[], 1..=4, 1, 1..=6, -8..=8, vec![("ε", eps_param())]),
    )
}

fn writing_rmsnorm_exact_cases() -> BoxedStrategy<Case> {
    tokens_named(
        "c",
        with_tokens(&[], 1..=3, 1, 1..=4, -4..=4, vec![("ε", eps_param())]),
    )
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "center-writing-weights",
        words: "(weight processing as interpretability tools apply it; not from the thread) when every reader of the residual stream is a LayerNorm, removing the mean of every vector written to the stream leaves every output unchanged",
        readings: vec![
            Reading::new(
                "a",
                "LN(Σᵢ center(cᵢ)) = LN(Σᵢ cᵢ) for any vectors cᵢ written to the residual stream: every LayerNorm reader sees the same input.",
                "every reader is a LayerNorm; any ε ≥ 0, except ε = 0 with a constant Σcᵢ or Σ center(cᵢ) (0/0, a convention, not judged). In f32/f64: ε > 0, every sum finite; found only when an output changes by more than 2⁻¹⁰ (and 2¹⁰ × the LayerNorm's own rounding)",
                Some(
                    "Exact in ℝ; in floating point the centering is rounded (each write within a few u of |cᵢ|), and LayerNorm amplifies an input perturbation e by up to 1/√(σ² + ε): when the writes nearly cancel (σ(Σcᵢ) comparable to u·Σ|cᵢ|), the reader's output changes by O(1) — even its sign. Away from cancellation the change is at most e/s/(1 − 2e/s) plus the LayerNorm's rounding, e = 4k·u·Σᵢ max|cᵢ|·√d, s = √(σ²(Σcᵢ) + ε), when 2e < s (claims::transformer::writing_perturbation_bound; tested in claims_transformer).",
                ),
                [
                    in_reals(
                        Holds,
                        ForAll,
                        writing_layernorm_exact_cases,
                        writing_layernorm_exact,
                    ),
                    Judgement::new(
                        Domain::F32,
                        Fails,
                        ForAll,
                        writing_cases::<f32>,
                        writing_float::<f32>,
                    ),
                    Judgement::new(
                        Domain::F64,
                        Fails,
                        ForAll,
                        writing_cases::<f64>,
                        writing_float::<f64>,
                    ),
                ],
            ),
            Reading::new(
                "b",
                "The same when the readers are RMSNorms: RMSNorm(Σᵢ center(cᵢ)) = RMSNorm(Σᵢ cᵢ).",
                "every reader is an RMSNorm; ε > 0 or neither input is all zeros (0/0 is not judged)",
                Some(
                    "RMSNorm does not remove the mean: centering the writes changes its input from x to x − μ(x)·1 and its output unless μ(x) = 0. Centering the writing weights is output-preserving only for LayerNorm readers (transformer::process::center_writing_weights refuses RMSNorm models).",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    writing_rmsnorm_exact_cases,
                    writing_rmsnorm_exact,
                )],
            ),
        ],
        tests: &[
            "claims_transformer::centered_writes_stay_within_the_perturbation_bound_f32",
            "claims_transformer::centered_writes_stay_within_the_perturbation_bound_f64",
            "proofs::no_displayed_evidence_rests_on_a_tie",
            "claims_transformer::rmsnorm_centering_search_finds_and_verifies",
            "transformer::center_writing_weights_preserves_or_refuses_f32",
            "transformer::center_writing_weights_preserves_or_refuses_f64",
            "transformer::forced_centering_under_rmsnorm_changes_logits",
        ],
    }
}
