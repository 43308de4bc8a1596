//! Claims about LayerNorm and RMSNorm (section "LayerNorm and RMSNorm").

use super::*;
use crate::geometry::{dot, norm};
use crate::norms::{layer_norm, rms_norm};
use crate::softmax::{softmax, softmax_with_temperature};
use crate::tolerance::{NORM_LAYER_ULPS, NORM_ULPS, SOFTMAX_ULPS, relative, ulp};
use crate::unembed::logits;
use nalgebra::DMatrix;

/// Two evaluations of LN outputs (each entry within NORM_LAYER_ULPS ulp, |entries| ≤ √d).
fn ln_bound(d: usize) -> f64 {
    2.0 * (d as f64).sqrt() * relative::<f64>(NORM_LAYER_ULPS) + 2.0 * ulp(0.0f64)
}

fn non_constant(v: &[f64]) -> bool {
    v.iter().any(|&e| e != v[0])
}

fn eps_of(c: &Case) -> f64 {
    match c.params.iter().find(|(k, _)| k == "ε") {
        Some((_, p)) if p.raw() == 0 && matches!(p, Param::Int(_)) => 0.0,
        Some((_, p)) => p.value(),
        None => 0.0,
    }
}

fn ln(v: &[f64], eps: f64) -> Vec<f64> {
    layer_norm(v, eps, None, None)
}

// ---- layernorm-output-norm ---------------------------------------------------------------

fn output_norm_one(c: &Case) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    let n = norm(&ln(&f(x), 0.0));
    compare_real(
        "|LN(x)|",
        &[n],
        "1",
        &[1.0],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS) * n,
    )
}

fn output_norm_formula(c: &Case) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    let xf = f(x);
    let eps = eps_of(c);
    let d = x.len() as f64;
    let mu = xf.iter().sum::<f64>() / d; // exact for small integers
    let var = xf.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d;
    let want = (d * var / (var + eps)).sqrt();
    let got = norm(&ln(&xf, eps));
    compare_real(
        "|LN(x)|",
        &[got],
        "√d·σ/√(σ² + ε)",
        &[want],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS + 4) * want,
    )
}

fn affine_norm_constant(c: &Case) -> Outcome {
    let (x1, x2) = (c.v("x1"), c.v("x2"));
    if !non_constant(x1) || !non_constant(x2) {
        return Outcome::Skip;
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

// ---- layernorm-sees-direction, layernorm-hides-magnitude ---------------------------------

fn scale(c: &Case, negative: bool) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    if c.p("α").value() <= 0.0 {
        return Outcome::Skip; // the sign is the reading's, α itself is > 0
    }
    let a = c.p("α").value() * if negative { -1.0 } else { 1.0 };
    let eps = eps_of(c);
    let xf = f(x);
    let xa: Vec<f64> = xf.iter().map(|v| v * a).collect(); // exact: powers of two and small integers
    compare_real(
        "LN(α·x)",
        &ln(&xa, eps),
        "LN(x)",
        &ln(&xf, eps),
        ln_bound(x.len()),
    )
}
fn scale_positive(c: &Case) -> Outcome {
    scale(c, false)
}
fn scale_negative(c: &Case) -> Outcome {
    scale(c, true)
}

/// GPT-2's ε, as the power of two 2^-17 ≈ 7.6e-6 so that α·x stays exact.
const GPT2_EPS: Param = Param::Pow2(-17);

fn scale_gpt2_eps(c: &Case) -> Outcome {
    if c.p("ε") != GPT2_EPS {
        return Outcome::Skip; // ε is fixed by the reading, not a free parameter
    }
    scale(c, false)
}

fn shift(c: &Case) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    let k = c.p("c").value();
    let eps = eps_of(c);
    let xf = f(x);
    let xc: Vec<f64> = xf.iter().map(|v| v + k).collect();
    compare_real(
        "LN(x + c·1)",
        &ln(&xc, eps),
        "LN(x)",
        &ln(&xf, eps),
        ln_bound(x.len()),
    )
}

/// Two residuals that point in different directions (not positive multiples: exact test) and
/// have the same LN output.
fn different_direction_same_output(c: &Case) -> Outcome {
    let (x, y) = (c.v("x"), c.v("x'"));
    if !non_constant(x) || !non_constant(y) {
        return Outcome::Skip;
    }
    let (xq, yq) = (q(x), q(y));
    let xy = dot(&xq, &yq);
    let parallel = xy > BigRational::from_integer(0.into())
        && xy.clone() * xy == dot(&xq, &xq) * dot(&yq, &yq);
    if parallel {
        return Outcome::Skip;
    }
    // With ε = 0, LN(x) = LN(x') exactly iff x − μ(x)·1 = λ·(x' − μ(x')·1) for some λ > 0:
    // decided in rationals.
    let center = |v: &[BigRational]| -> Vec<BigRational> {
        let n = BigRational::from_integer((v.len() as i64).into());
        let mu = v
            .iter()
            .cloned()
            .fold(BigRational::from_integer(0.into()), |a, b| a + b)
            / n;
        v.iter().map(|e| e - mu.clone()).collect()
    };
    let (cx, cy) = (center(&xq), center(&yq));
    let cxy = dot(&cx, &cy);
    let same = cxy > BigRational::from_integer(0.into())
        && cxy.clone() * cxy == dot(&cx, &cx) * dot(&cy, &cy);
    if same {
        let (a, b) = (ln(&f(x), 0.0), ln(&f(y), 0.0));
        Outcome::Found(Evidence::exact(
            "LN(x) (x, x' not parallel; centered parts parallel, exactly)",
            format!("{a:?}"),
            "LN(x')",
            format!("{b:?}"),
        ))
    } else {
        Outcome::EXACT
    }
}

fn residual_update(c: &Case) -> Outcome {
    let (x, v) = (f(c.v("x")), f(c.v("v")));
    let a = c.p("α").value();
    if a <= 0.0 {
        return Outcome::Skip;
    }
    let l: Vec<f64> = x.iter().zip(&v).map(|(p, r)| a * p + r).collect();
    let r: Vec<f64> = x.iter().zip(&v).map(|(p, r)| p + r).collect();
    if !non_constant(c.v("x")) || l.iter().all(|&e| e == l[0]) || r.iter().all(|&e| e == r[0]) {
        return Outcome::Skip;
    }
    compare_real(
        "LN(α·x + v)",
        &ln(&l, 0.0),
        "LN(x + v)",
        &ln(&r, 0.0),
        ln_bound(x.len()),
    )
}

/// σ recovered from the LN output alone: σ² = ε·n²/(d − n²), n = |LN(x)|.
fn recover_sigma<T: crate::Real>(c: &Case) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    let k = c.p("s").value(); // scale 2^k of the row
    let eps = 1e-5;
    let xt: Vec<T> = x.iter().map(|&v| T::narrow(v as f64 * k)).collect();
    let y = layer_norm(&xt, T::narrow(eps), None, None);
    let d = x.len() as f64;
    let n2: f64 = y.iter().map(|v| v.widen() * v.widen()).sum();
    let xf: Vec<f64> = xt.iter().map(|v| v.widen()).collect();
    let mu = xf.iter().sum::<f64>() / d;
    let var = xf.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d;
    let rec = eps.to_owned() * n2 / (d - n2);
    let rel = ((rec - var) / var).abs();
    // Condition number of σ² ↦ n² ↦ σ² is (σ² + ε)/ε; each yᵢ is within NORM_LAYER_ULPS ulp.
    let bound = (var + eps) / eps
        * (2.0 * relative::<T>(NORM_LAYER_ULPS) + relative::<f64>(x.len() as u64 + 4));
    if domain_of::<T>() == Domain::F64 {
        // ℝ, judged in f64 where the conditioning allows: a failure must beat the bound.
        if rel.is_nan() || rel > MARGIN_FACTOR * bound {
            return Outcome::Found(Evidence::margin(
                "σ² recovered as ε·n²/(d − n²)",
                rec,
                "σ²",
                var,
                rel,
                bound,
            ));
        }
        Outcome::Pass { error: rel, bound }
    } else if rel.is_nan() || rel > 0.01 {
        Outcome::Found(Evidence::arithmetic(
            domain_of::<T>(),
            "σ² recovered from the f32 output",
            rec,
            "σ² of the input",
            var,
        ))
    } else {
        Outcome::Pass {
            error: rel,
            bound: 0.01,
        }
    }
}

// ---- no-layernorm-magnitude --------------------------------------------------------------

fn relu(v: BigRational) -> BigRational {
    if v > BigRational::from_integer(0.into()) {
        v
    } else {
        BigRational::from_integer(0.into())
    }
}

fn wq(c: &Case) -> DMatrix<BigRational> {
    let t = c.tokens();
    DMatrix::from_fn(c.dim(), t.len(), |r, k| exact(t[k][r]))
}

fn relu_layer(c: &Case, with_bias: bool) -> Outcome {
    let w = wq(c);
    let x = q(c.v("x"));
    let a = c.p("α").rational();
    if a <= BigRational::from_integer(0.into()) {
        return Outcome::Skip;
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
    if lhs == rhs {
        Outcome::EXACT
    } else {
        let s = |v: &[BigRational]| {
            format!(
                "[{}]",
                v.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Outcome::Found(Evidence::exact("f(α·x)", s(&lhs), "α·f(x)", s(&rhs)))
    }
}
fn relu_homogeneous(c: &Case) -> Outcome {
    relu_layer(c, false)
}
fn relu_with_bias(c: &Case) -> Outcome {
    relu_layer(c, true)
}

fn gelu(v: f64) -> f64 {
    0.5 * v * (1.0 + libm::erf(v / std::f64::consts::SQRT_2))
}

fn gelu_layer(c: &Case) -> Outcome {
    let x = f(c.v("x"));
    let a = c.p("α").value();
    if a <= 0.0 {
        return Outcome::Skip;
    }
    let w: DMatrix<f64> = {
        let t = c.tokens();
        DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r] as f64)
    };
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

// ---- rmsnorm-invariances -----------------------------------------------------------------

fn rms_scale(c: &Case) -> Outcome {
    let x = c.v("x");
    if x.iter().all(|&e| e == 0.0) {
        return Outcome::Skip;
    }
    let a = c.p("α").value();
    let xf = f(x);
    let xa: Vec<f64> = xf.iter().map(|v| v * a).collect();
    compare_real(
        "RMSNorm(α·x)",
        &rms_norm(&xa, 0.0, None),
        "RMSNorm(x)",
        &rms_norm(&xf, 0.0, None),
        ln_bound(x.len()),
    )
}

fn rms_shift(c: &Case) -> Outcome {
    let x = c.v("x");
    let k = c.p("c").value();
    let xf = f(x);
    let xc: Vec<f64> = xf.iter().map(|v| v + k).collect();
    if x.iter().all(|&e| e == 0.0) || xc.iter().all(|&e| e == 0.0) {
        return Outcome::Skip;
    }
    compare_real(
        "RMSNorm(x + c·1)",
        &rms_norm(&xc, 0.0, None),
        "RMSNorm(x)",
        &rms_norm(&xf, 0.0, None),
        ln_bound(x.len()),
    )
}

fn rms_norm_is_sqrt_d(c: &Case) -> Outcome {
    let x = c.v("x");
    if x.iter().all(|&e| e == 0.0) {
        return Outcome::Skip;
    }
    let n = norm(&rms_norm(&f(x), 0.0, None));
    let d = (x.len() as f64).sqrt();
    compare_real(
        "|RMSNorm(x)|",
        &[n],
        "√d",
        &[d],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS) * d,
    )
}

// ---- final-layernorm-fixes-temperature ---------------------------------------------------

fn final_ln(c: &Case) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    let w: DMatrix<f64> = {
        let t = c.tokens();
        DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r] as f64)
    };
    let a = c.p("α").value();
    if a <= 0.0 {
        return Outcome::Skip;
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

fn no_final_ln(c: &Case) -> Outcome {
    let w: DMatrix<f64> = {
        let t = c.tokens();
        DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r] as f64)
    };
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

use Expect::{Fails, Holds};
use Quantifier::{Exists, ForAll};

fn eps_param() -> BoxedStrategy<Param> {
    prop_oneof![Just(Param::Int(0)), (-20i64..=2).prop_map(Param::Pow2)].boxed()
}

/// The LayerNorm and RMSNorm claims.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "layernorm-output-norm",
            area: Area::LayerNorm,
            words: "since layer norm's output is always norm 1 (before applying the scale and bias terms)",
            readings: vec![
                Reading::new(
                    "a",
                    "|LN(x)| = 1 for every x with σ(x) > 0, ε = 0.",
                    "σ > 0, ε = 0",
                    Some(
                        "|LN(x)| = √d for ε = 0 (the output has mean 0 and variance 1, so its squared norm is d).",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x"], 1..=6, -9..=9, vec![]),
                        output_norm_one,
                    )],
                ),
                Reading::new(
                    "b",
                    "|LN(x)| = √d·σ/√(σ² + ε) exactly, for ε = 0 and for ε > 0.",
                    "σ > 0 (or ε > 0)",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x"], 1..=12, -20..=20, vec![("ε", eps_param())]),
                        output_norm_formula,
                    )],
                ),
                Reading::new(
                    "c",
                    "After γ and β, |γ ⊙ LN(x) + β| is constant in x.",
                    "ε = 0, σ > 0",
                    Some(
                        "|γ ⊙ LN(x) + β| depends on the direction of LN(x) unless γ is constant and β = 0 (then it is |γ|·√d).",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x1", "x2", "γ", "β"], 2..=4, -3..=3, vec![]),
                        affine_norm_constant,
                    )],
                ),
            ],
            tests: &[
                "claims_layernorm::output_norm_is_sqrt_d_f32",
                "claims_layernorm::output_norm_is_sqrt_d_f64",
                "claims_layernorm::output_norm_search_finds_and_verifies",
            ],
        },
        Claim {
            id: "layernorm-sees-direction",
            area: Area::LayerNorm,
            words: "All any \"active\" component of the neural network \"sees\" is the direction of the residual stream, and not its magnitude",
            readings: vec![
                Reading::new(
                    "a1",
                    "LN(α·x) = LN(x) for every α > 0 (ε = 0).",
                    "α > 0, ε = 0, σ > 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x"], 2..=10, -20..=20, vec![("α", pow2(-30..=30))]),
                        scale_positive,
                    )],
                ),
                Reading::new(
                    "a2",
                    "LN(α·x) = LN(x) for α < 0 too.",
                    "α < 0, ε = 0",
                    Some("LN(α·x) = −LN(x) for α < 0: LN is odd."),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x"], 2..=6, -5..=5, vec![("α", pow2(0..=3))]),
                        scale_negative,
                    )],
                ),
                Reading::new(
                    "b",
                    "With ε > 0 (1e-5 as in GPT-2): LN(α·x) = LN(x) for α > 0.",
                    "ε = 2^-17 ≈ 7.6e-6 (a power of two near GPT-2's 1e-5)",
                    Some(
                        "LN_ε(x) = LN_0(x)·σ/√(σ² + ε): scaling by α changes the output by the factor ασ√(σ²+ε)/(σ√(α²σ²+ε)), negligible when α²σ² ≫ ε and large when |x| is small.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || {
                            vectors(
                                &["x"],
                                2..=4,
                                -4..=4,
                                vec![("α", pow2(-12..=0)), ("ε", Just(GPT2_EPS).boxed())],
                            )
                        },
                        scale_gpt2_eps,
                    )],
                ),
                Reading::new(
                    "c1",
                    "LN(x + c·1) = LN(x).",
                    "any ε ≥ 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || {
                            vectors(
                                &["x"],
                                2..=10,
                                -20..=20,
                                vec![("c", int(-100..=100)), ("ε", eps_param())],
                            )
                        },
                        shift,
                    )],
                ),
                Reading::new(
                    "c2",
                    "So LN keeps the direction of x − μ·1, not of x: two residuals with different directions and the same LN output exist.",
                    "ε = 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
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
            ],
        },
        Claim {
            id: "layernorm-hides-magnitude",
            area: Area::LayerNorm,
            words: "for networks w/ layernorm the intermediate components literally do not have access to magnitude data",
            readings: vec![
                Reading::new(
                    "a",
                    "Any f(LN(α·x)) = f(LN(x)) for α > 0, ε = 0.",
                    "α > 0, ε = 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x"], 2..=10, -20..=20, vec![("α", int(1..=50))]),
                        scale_positive,
                    )],
                ),
                Reading::new(
                    "b",
                    "Across a residual update: LN(α·x + v) = LN(x + v).",
                    "α > 0, ε = 0",
                    Some(
                        "A later write v meets the stream at its actual size: LN(αx + v) = LN(x + v/α), so the relative size of x and v — the magnitude of x — is visible downstream.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x", "v"], 2..=4, -3..=3, vec![("α", int(1..=4))]),
                        residual_update,
                    )],
                ),
                Reading::new(
                    "c",
                    "With ε > 0, |x| (its centered part σ) can be recovered from LN(x).",
                    "ε > 0",
                    Some(
                        "Over ℝ σ² = ε·n²/(d − n²) with n = |LN(x)|; in f32 the recovery is lost once σ² ≫ ε/ε_f32 (n² rounds to d).",
                    ),
                    vec![
                        Judgement::new(
                            Domain::Real,
                            Holds,
                            ForAll,
                            || vectors(&["x"], 2..=8, -9..=9, vec![("s", pow2(-12..=-4))]),
                            recover_sigma::<f64>,
                        ),
                        Judgement::new(
                            Domain::F32,
                            Fails,
                            ForAll,
                            || vectors(&["x"], 2..=8, -9..=9, vec![("s", pow2(-12..=8))]),
                            recover_sigma::<f32>,
                        ),
                    ],
                ),
            ],
            tests: &[
                "claims_layernorm::scale_invariance_f64",
                "claims_layernorm::residual_update_search_finds_and_verifies",
                "claims_layernorm::recover_sigma_real",
            ],
        },
        Claim {
            id: "no-layernorm-magnitude",
            area: Area::LayerNorm,
            words: "without layernorm, intermediate components of the network could \"care more\" about the magnitude",
            readings: vec![
                Reading::new(
                    "a",
                    "A bias-free ReLU layer is positively homogeneous: f(α·x) = α·f(x), so the direction of its output ignores |x|.",
                    "α > 0, no bias",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || {
                            with_tokens(
                                &["x"],
                                1..=4,
                                1,
                                1..=4,
                                -5..=5,
                                vec![("α", int(1..=9)), ("b", Just(Param::Int(0)).boxed())],
                            )
                        },
                        relu_homogeneous,
                    )],
                ),
                Reading::new(
                    "b1",
                    "With a bias, f(α·x) = α·f(x) still.",
                    "α > 0, bias b",
                    Some("ReLU(Wx + b) is homogeneous only for b = 0."),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || {
                            with_tokens(
                                &["x"],
                                1..=3,
                                1,
                                1..=3,
                                -5..=5,
                                vec![("α", int(1..=5)), ("b", int(-5..=5))],
                            )
                        },
                        relu_with_bias,
                    )],
                ),
                Reading::new(
                    "b2",
                    "With GELU instead of ReLU, f(α·x) = α·f(x) still.",
                    "α > 0",
                    Some(
                        "GELU(t) = t·Φ(t) is not homogeneous: GELU(αt) ≠ α·GELU(t) for t ≠ 0, α ≠ 1.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || with_tokens(&["x"], 1..=3, 1, 1..=3, -3..=3, vec![("α", int(1..=5))]),
                        gelu_layer,
                    )],
                ),
            ],
            tests: &[
                "claims_layernorm::relu_homogeneous_exact",
                "claims_layernorm::bias_and_gelu_search_finds_and_verifies",
            ],
        },
        Claim {
            id: "rmsnorm-invariances",
            area: Area::LayerNorm,
            words: "(RMSNorm, the LayerNorm without centering that many current models use)",
            readings: vec![
                Reading::new(
                    "a",
                    "RMSNorm(α·x) = RMSNorm(x) for α > 0 (ε = 0).",
                    "α > 0, ε = 0, x ≠ 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x"], 1..=10, -20..=20, vec![("α", pow2(-30..=30))]),
                        rms_scale,
                    )],
                ),
                Reading::new(
                    "b",
                    "RMSNorm(x + c·1) = RMSNorm(x).",
                    "ε = 0",
                    Some(
                        "RMSNorm does not center: only LayerNorm (= RMSNorm ∘ center) is shift-invariant.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x"], 1..=4, -5..=5, vec![("c", int(-5..=5))]),
                        rms_shift,
                    )],
                ),
                Reading::new(
                    "c",
                    "|RMSNorm(x)| = √d for ε = 0.",
                    "x ≠ 0, ε = 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || vectors(&["x"], 1..=12, -20..=20, vec![]),
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
            ],
        },
        Claim {
            id: "final-layernorm-fixes-temperature",
            area: Area::LayerNorm,
            words: "Layernorm seems to even further reduce the effect of distance",
            readings: vec![
                Reading::new(
                    "a",
                    "With a final LayerNorm before the unembedding, scaling the residual stream by α > 0 leaves the output distribution unchanged (ε = 0).",
                    "α > 0, ε = 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || with_tokens(&["x"], 1..=5, 1, 2..=5, -6..=6, vec![("α", int(1..=40))]),
                        final_ln,
                    )],
                ),
                Reading::new(
                    "b",
                    "Without it, scaling the residual stream by α is the same as a softmax temperature of 1/α.",
                    "α > 0",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || with_tokens(&["x"], 1..=5, 1, 1..=5, -6..=6, vec![("α", pow2(-6..=6))]),
                        no_final_ln,
                    )],
                ),
            ],
            tests: &[
                "claims_layernorm::final_layernorm_f64",
                "claims_layernorm::no_final_layernorm_is_temperature_f64",
                "claims_layernorm::final_layernorm_f32",
                "claims_layernorm::final_layernorm_generic_f64",
            ],
        },
    ]
}
