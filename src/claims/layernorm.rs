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

/// A value of the case as the reader sees it: a scalar alone, a vector in brackets.
fn shown(c: &Case, v: &[f64]) -> String {
    if v.len() == 1 {
        show_num(v[0], c.values)
    } else {
        show_vec(v, c.values)
    }
}

/// [`compare_real`] with both sides shown in the case's digits (integers without ".0", a
/// one-entry side as a scalar).
fn close(
    c: &Case,
    lhs_label: &str,
    lhs: &[f64],
    rhs_label: &str,
    rhs: &[f64],
    bound: f64,
) -> Outcome {
    match compare_real(lhs_label, lhs, rhs_label, rhs, bound) {
        Outcome::Found(mut e) => {
            e.lhs = shown(c, lhs);
            e.rhs = shown(c, rhs);
            Outcome::Found(e)
        }
        other => other,
    }
}

/// Every lattice case with the vectors `names` of a dimension in `dims`, entries in `range`
/// and each parameter from its list, in increasing complexity: a refuted reading that tries
/// them first finds the smallest case of that box (the minimality check then covers it).
fn lattice_cases(
    names: &'static [&'static str],
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, Vec<Param>)>,
    values: Values,
) -> Box<dyn Iterator<Item = Case>> {
    let entries: Vec<i64> = range.collect();
    let mut all = Vec::new();
    for d in dims {
        let n = d * names.len();
        let mut combos: Vec<Vec<Param>> = vec![vec![]];
        for (_, ps) in &params {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    ps.iter().map(move |p| {
                        let mut c = c.clone();
                        c.push(*p);
                        c
                    })
                })
                .collect();
        }
        let mut idx = vec![0usize; n];
        loop {
            for ps in &combos {
                let vals: Vec<i64> = idx.iter().map(|&i| entries[i]).collect();
                let mut c = Case::new(
                    names
                        .iter()
                        .zip(vals.chunks(d))
                        .map(|(k, v)| (*k, v.to_vec()))
                        .collect(),
                    params
                        .iter()
                        .map(|(k, _)| *k)
                        .zip(ps.iter().copied())
                        .collect(),
                );
                c.values = values;
                all.push(c);
            }
            // next entry combination (an odometer, the last entry fastest: among equally
            // simple cases, the sort keeps [0, 5] before [5, 0])
            let mut k = n;
            while k > 0 && idx[k - 1] + 1 == entries.len() {
                idx[k - 1] = 0;
                k -= 1;
            }
            if k == 0 {
                break;
            }
            idx[k - 1] += 1;
        }
    }
    all.sort_by(|a, b| {
        a.complexity()
            .partial_cmp(&b.complexity())
            .expect("lattice cases have finite sizes")
    });
    Box::new(all.into_iter())
}

/// A judgement that tries the cases of `enumerate` (in order) before its random cases.
fn enumerated(mut j: Judgement, enumerate: fn() -> Box<dyn Iterator<Item = Case>>) -> Judgement {
    j.check.enumerate = enumerate;
    j
}

// ---- layernorm-output-norm ---------------------------------------------------------------

fn output_norm_one(c: &Case) -> Outcome {
    let x = c.v("x");
    if !non_constant(x) {
        return Outcome::Skip;
    }
    let n = norm(&ln(&f(x), 0.0));
    close(
        c,
        "|LN(x)|",
        &[n],
        "|LN(x)| as stated",
        &[1.0],
        relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS) * n,
    )
}

fn output_norm_formula(c: &Case) -> Outcome {
    let x = c.v("x");
    let eps = eps_of(c);
    if !non_constant(x) && eps == 0.0 {
        return Outcome::Skip; // σ = ε = 0: the formula is 0/0
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
    close(
        c,
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
    close(
        c,
        "|γ ⊙ LN(x1) + β|",
        &[n1],
        "|γ ⊙ LN(x2) + β|",
        &[n2],
        4.0 * scale * relative::<f64>(NORM_LAYER_ULPS + NORM_ULPS),
    )
}

// ---- layernorm-sees-direction, layernorm-hides-magnitude ---------------------------------

/// LN(α·x) = LN(x) for α of the sign the reading states (α is the signed value applied).
fn scale(c: &Case, negative: bool) -> Outcome {
    let x = c.v("x");
    let a = c.p("α").value();
    if (a < 0.0) != negative || a == 0.0 {
        return Outcome::Skip; // α of the other sign: outside the reading
    }
    let eps = eps_of(c);
    if !non_constant(x) && eps == 0.0 {
        return Outcome::Skip; // σ = ε = 0: LN is 0/0
    }
    let xf = f(x);
    let xa: Vec<f64> = xf.iter().map(|v| v * a).collect(); // exact: powers of two and small integers
    close(
        c,
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
    let k = c.p("c").value();
    let eps = eps_of(c);
    if !non_constant(x) && eps == 0.0 {
        return Outcome::Skip; // σ = ε = 0: LN is 0/0
    }
    let xf = f(x);
    let xc: Vec<f64> = xf.iter().map(|v| v + k).collect();
    close(
        c,
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
    let same = lt(&BigRational::from_integer(0.into()), &cxy)
        && cxy.clone() * cxy == dot(&cx, &cx) * dot(&cy, &cy);
    if same {
        // The centered parts are positive multiples of each other, so LN(x) = LN(x'), while
        // x and x' themselves are not.
        Outcome::Found(Evidence::exact(
            "x − μ(x)·1 (x' is no positive multiple of x)",
            show_q(&cx),
            "x' − μ(x')·1 (a positive multiple, so LN(x') = LN(x))",
            show_q(&cy),
        ))
    } else {
        Outcome::EXACT
    }
}

/// Every x, v in dimensions 1 and 2 with entries in [−3, 3] and α ∈ 1..=4, simplest first.
fn residual_update_cases() -> Box<dyn Iterator<Item = Case>> {
    lattice_cases(
        &["x", "v"],
        1..=2,
        -3..=3,
        vec![("α", (1..=4).map(Param::Int).collect())],
        Values::Lattice,
    )
}

fn residual_update(c: &Case) -> Outcome {
    let (x, v) = (f(c.v("x")), f(c.v("v")));
    let a = c.p("α").value();
    if a <= 0.0 {
        return Outcome::Skip; // the reading's α > 0
    }
    // exact: small integers
    let l: Vec<f64> = x.iter().zip(&v).map(|(p, r)| a * p + r).collect();
    let r: Vec<f64> = x.iter().zip(&v).map(|(p, r)| p + r).collect();
    if !non_constant(&l) || !non_constant(&r) {
        return Outcome::Skip; // σ = ε = 0 on a side: LN is 0/0
    }
    close(
        c,
        "LN(α·x + v)",
        &ln(&l, 0.0),
        "LN(x + v)",
        &ln(&r, 0.0),
        ln_bound(x.len()),
    )
}

/// The ε of the float judgement of layernorm-hides-magnitude (c): GPT-2's.
const RECOVERY_EPS: f64 = 1e-5;
/// The relative error at which the float judgement counts σ² as not recovered.
const RECOVERY_TOLERANCE: f64 = 0.01;

/// σ² of the row `x` recovered from `LN_ε(x)` computed in `T`, as ε·n²/(d − n²) with
/// n² = |LN(x)|² summed in f64, beside σ² of `x` itself (in f64) and their relative difference.
fn recover<T: crate::Real>(x: &[T], eps: T) -> (f64, f64, f64) {
    let y = layer_norm(x, eps, None, None);
    let d = x.len() as f64;
    let n2: f64 = y.iter().map(|v| v.widen() * v.widen()).sum();
    let xf: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    let mu = xf.iter().sum::<f64>() / d;
    let var = xf.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / d;
    let rec = eps.widen() * n2 / (d - n2);
    let rel = if var == 0.0 && rec == 0.0 {
        0.0 // σ = 0 and LN(x) = 0: recovered exactly
    } else {
        ((rec - var) / var).abs()
    };
    (rec, var, rel)
}

/// ℝ: σ² = ε·n²/(d − n²), n = |LN(x)|, for the row s·x (s = 2^k) and the case's ε > 0, judged
/// in f64 against the conditioning of the map.
fn recover_sigma_real(c: &Case) -> Outcome {
    let s = c.p("s").value();
    let eps = eps_of(c);
    let x: Vec<f64> = c.v("x").iter().map(|v| v * s).collect(); // exact: s = 2^k
    let (rec, var, rel) = recover(&x, eps);
    // Condition number of σ² ↦ n² ↦ σ² is (σ² + ε)/ε; each yᵢ is within NORM_LAYER_ULPS ulp.
    let bound = (var + eps) / eps
        * (2.0 * relative::<f64>(NORM_LAYER_ULPS) + relative::<f64>(x.len() as u64 + 4));
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
}

/// In `T`, at ε = [`RECOVERY_EPS`]: σ² recovered from the output within
/// [`RECOVERY_TOLERANCE`] (relative).
fn recover_sigma_float<T: crate::Real>(c: &Case) -> Outcome {
    let x: Vec<T> = ft(c.v("x"));
    let eps = T::narrow(RECOVERY_EPS);
    let (rec, var, rel) = recover(&x, eps);
    if rel.is_nan() || lt(RECOVERY_TOLERANCE, rel) {
        let dom = domain_of::<T>();
        Outcome::Found(Evidence {
            lhs_label: format!(
                "ε·n²/(d − n²), n = |LN(x)| computed in {dom} (ε = {})",
                show_num(eps.widen(), Values::of::<T>())
            ),
            lhs: format!(
                "{rec:?} ({:.1} % off; the reading allows {} %)",
                100.0 * rel,
                100.0 * RECOVERY_TOLERANCE
            ),
            rhs_label: "σ² of x".into(),
            rhs: show_num(var, c.values),
            verification: Verification::Arithmetic(dom),
        })
    } else {
        Outcome::Pass {
            error: rel,
            bound: RECOVERY_TOLERANCE,
        }
    }
}

fn recover_sigma_cases<T: crate::Real>() -> Box<dyn Iterator<Item = Case>> {
    lattice_cases(&["x"], 1..=2, -9..=9, vec![], Values::of::<T>())
}

fn recover_sigma_strategy<T: crate::strategies::FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(&["x"], 0..=0, 0, 2..=8, -9..=9, vec![])
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
    close(
        c,
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
    close(
        c,
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
    close(
        c,
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
    close(
        c,
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
    close(
        c,
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
    close(
        c,
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
                    "|LN(x)| = √d·σ/√(σ² + ε), for ε = 0 and for ε > 0.",
                    "σ > 0 or ε > 0 (for σ = ε = 0 both sides are 0/0)",
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
                    "α > 0, ε = 0, σ(x) > 0",
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
                    "α < 0, ε = 0, σ(x) > 0",
                    Some("LN(α·x) = −LN(x) for α < 0: LN is odd."),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || vectors(&["x"], 2..=6, -5..=5, vec![("α", int(-8..=-1))]),
                        scale_negative,
                    )],
                ),
                Reading::new(
                    "b",
                    "With ε > 0 (1e-5 as in GPT-2): LN(α·x) = LN(x) for α > 0.",
                    "α > 0, ε = 2^-17 ≈ 7.6e-6 (a power of two near GPT-2's 1e-5)",
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
                    "any ε ≥ 0; σ(x) > 0 when ε = 0 (else both sides are 0/0)",
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
                    "ε = 0, σ(x) > 0, σ(x') > 0",
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
                    "α > 0, ε = 0, σ(x) > 0",
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
                    "α > 0, ε = 0, σ(α·x + v) > 0 and σ(x + v) > 0 (else a side is 0/0)",
                    Some(
                        "A later write v meets the stream at its actual size: LN(αx + v) = LN(x + v/α), so the relative size of x and v — the magnitude of x — is visible downstream.",
                    ),
                    vec![enumerated(
                        Judgement::new(
                            Domain::Real,
                            Fails,
                            ForAll,
                            || vectors(&["x", "v"], 2..=4, -3..=3, vec![("α", int(1..=4))]),
                            residual_update,
                        ),
                        residual_update_cases,
                    )],
                ),
                Reading::new(
                    "c",
                    "With ε > 0, |x| (its centered part σ) can be recovered from LN(x).",
                    "ε > 0 (ℝ: the row s·x, s = 2^k). f32: ε = 1e-5 (GPT-2's), LN(x) computed in f32, σ² recovered as ε·n²/(d − n²) from it with n² summed in f64, and counted as recovered within 1 % relative error",
                    Some(
                        "Over ℝ σ² = ε·n²/(d − n²) with n = |LN(x)|, with condition number (σ² + ε)/ε: in f32 the relative error of the recovery is about (σ²/ε)·2^-24 — above 1 % from σ² of a few units at ε = 1e-5 — and the recovery is lost entirely once σ² ≳ ε·2^24 (n² rounds to d).",
                    ),
                    vec![
                        Judgement::new(
                            Domain::Real,
                            Holds,
                            ForAll,
                            || {
                                vectors(
                                    &["x"],
                                    2..=8,
                                    -9..=9,
                                    vec![("s", pow2(-12..=-4)), ("ε", pow2(-20..=0))],
                                )
                            },
                            recover_sigma_real,
                        ),
                        enumerated(
                            Judgement::new(
                                Domain::F32,
                                Fails,
                                ForAll,
                                recover_sigma_strategy::<f32>,
                                recover_sigma_float::<f32>,
                            ),
                            recover_sigma_cases::<f32>,
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
                    "ε = 0, x ≠ 0 and x + c·1 ≠ 0 (else a side is 0/0)",
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
                    "α > 0, ε = 0, σ(x) > 0",
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
