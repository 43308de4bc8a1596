//! `center-unembed`.

use super::*;

/// A model with no blocks whose unembedding is `w`: only `center_unembed` is applied to it.
fn bare_model<T: nalgebra::Scalar + Zero>(w: DMatrix<T>, eps: T) -> Model<T> {
    Model {
        w_e: DMatrix::from_element(1, w.nrows(), T::zero()),
        w_pos: None,
        blocks: vec![],
        ln_final: Norm {
            kind: NormKind::LayerNorm,
            eps,
            gamma: None,
            beta: None,
        },
        w_u: w,
        b_u: None,
    }
}

fn center_unembed_exact(c: &Case) -> CaseOutcome {
    let w = token_matrix(c, exact);
    let x = q(c.v("x"));
    let centered = center_unembed(&bare_model(w.clone(), BigRational::zero()));
    let (a, b) = (logits(&w, &x), logits(&centered.w_u, &x));
    let shifts: Vec<BigRational> = a.iter().zip(&b).map(|(p, q)| p - q).collect();
    if shifts.iter().all(|s| s == &shifts[0]) {
        CaseOutcome::EXACT
    } else {
        CaseOutcome::Found(Evidence::exact(
            "logits(W_U, x) − logits(W_U − m·1ᵀ, x)",
            show_q(&shifts),
            "one constant",
            &shifts[0],
        ))
    }
}

/// The largest rounding bound among the logits `x·W₍ⱼ₎` (compensated dot products), with the
/// weights themselves within `rho` of exact (relative).
fn logit_bound<T: crate::kernels::scalar::Real>(w: &DMatrix<T>, x: &[T], rho: f64) -> f64 {
    (0..w.ncols())
        .map(|j| {
            let col: Vec<f64> = w.column(j).iter().map(|v| v.widen()).collect();
            let abs: f64 = col.iter().zip(x).map(|(a, b)| (a * b.widen()).abs()).sum();
            let s: f64 = col.iter().zip(x).map(|(a, b)| a * b.widen()).sum();
            compensated_dot_bound::<T>(col.len(), s, abs) + rho * abs
        })
        .fold(0.0, f64::max)
}

fn center_unembed_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let w = token_matrix(c, |v| T::narrow(v));
    let x: Vec<T> = ft(c.v("x"));
    let centered = center_unembed(&bare_model(w.clone(), T::zero()));
    let (l, l2) = (logits(&w, &x), logits(&centered.w_u, &x));
    if !(all_finite(&l) && all_finite(&l2) && all_finite(centered.w_u.as_slice())) {
        return CaseOutcome::Skip; // the conditions: no logit overflows
    }
    let (p, p2) = (softmax(&l), softmax(&l2));
    let delta = logit_bound::<T>(&w, &x, 0.0)
        + logit_bound::<T>(&centered.w_u, &x, crate::transformer::transform_rho::<T>());
    compare_arith(
        domain_of::<T>(),
        "softmax(x·(W_U − m·1ᵀ))",
        &p2,
        "softmax(x·W_U)",
        &p,
        prob_bound::<T>(delta),
    )
}

fn unembed_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(&["x"], 1..=6, 1, 1..=5, -6..=6, vec![])
}

fn center_unembed_exact_cases() -> BoxedStrategy<Case> {
    with_tokens(&["x"], 1..=6, 1, 1..=5, -6..=6, vec![])
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "center-unembed",
        words: "(weight processing as interpretability tools apply it; not from the thread) subtracting the mean token vector from every token's unembedding vector (and the mean of the unembedding bias from every bias) leaves every softmax output unchanged",
        readings: vec![Reading::new(
            "a",
            "softmax(x·(W_U − m·1ᵀ) + b − mean(b)) = softmax(x·W_U + b) for every residual x, with m = W_U·1/V the mean token vector.",
            "any x, W_U, b (a bias is a coordinate of x fixed at 1). In f32/f64: every logit finite; equal within ¼(e^{2Δ} − 1) + 2·SOFTMAX_ULPS ulp, Δ the two logit vectors' rounding bounds (compensated dot products, centered weights within 2u)",
            None,
            [
                in_reals(
                    Holds,
                    ForAll,
                    center_unembed_exact_cases,
                    center_unembed_exact,
                ),
                Judgement::new(
                    Domain::F32,
                    Holds,
                    ForAll,
                    unembed_cases::<f32>,
                    center_unembed_float::<f32>,
                ),
                Judgement::new(
                    Domain::F64,
                    Holds,
                    ForAll,
                    unembed_cases::<f64>,
                    center_unembed_float::<f64>,
                ),
            ],
        )],
        tests: &[
            "claims_transformer::center_unembed_settles",
            "claims_transformer::center_unembed_shifts_logits_by_a_constant_f32",
            "claims_transformer::center_unembed_shifts_logits_by_a_constant_f64",
            "transformer::center_unembed_preserves_probabilities_f32",
            "transformer::center_unembed_preserves_probabilities_f64",
            "claims_transformer::float_bounds_are_nearly_attained",
        ],
    }
}
