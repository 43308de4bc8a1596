//! Claims about transformer weight processing and attention (section "Transformer weight
//! processing", and the invariances interpretability tools rely on).
//!
//! The polynomial parts are checked exactly on rationals with the library's own transforms
//! ([`crate::transformer::process`]); a norm's output is compared exactly through its squares
//! and signs (`yᵢ² = (xᵢ − μ)²/(σ² + ε)` is rational). What needs `exp`, `sqrt` or `cos` is
//! judged in f64 with a margin far above the rounding bound.

use super::*;
use crate::geometry::dot;
use crate::norms::layer_norm;
use crate::softmax::softmax;
use crate::strategies::FloatStrategies;
use crate::tolerance::{
    NORM_LAYER_ULPS, SOFTMAX_ULPS, compensated_dot_bound, relative, ulp, unit_roundoff,
};
use crate::transformer::process::{center_unembed, fold_into_linear};
use crate::transformer::{Model, Norm, NormKind, Rope, apply_rope};
use crate::unembed::logits;
use Expect::{Fails, Holds};
use Quantifier::ForAll;
use nalgebra::DMatrix;
use num_traits::{Signed, Zero};

fn rq(v: f64) -> BigRational {
    exact(v)
}

/// The unembedding `d × V` whose columns are the case's tokens.
fn token_matrix<T: nalgebra::Scalar>(c: &Case, conv: impl Fn(f64) -> T) -> DMatrix<T> {
    let toks = c.tokens();
    DMatrix::from_fn(c.dim(), toks.len(), |i, j| conv(toks[j][i]))
}

fn eps_rational(c: &Case) -> BigRational {
    match c.params.iter().find(|(k, _)| k == "ε") {
        Some((_, p)) => p.rational(),
        None => BigRational::zero(),
    }
}

fn eps_f64(c: &Case) -> f64 {
    match c.params.iter().find(|(k, _)| k == "ε") {
        Some((_, p)) => p.value(),
        None => 0.0,
    }
}

/// A LayerNorm (`center = true`) or RMSNorm output, exactly: each entry as its sign and square
/// (`yᵢ² = vᵢ²/(mean(v²) + ε)`, `v` the centered or raw input). `None` when the denominator is
/// 0 (a constant row with ε = 0: 0/0, which the crate's policy maps to 0 and no check relies on).
fn norm_exact(
    x: &[BigRational],
    eps: &BigRational,
    center: bool,
) -> Option<Vec<(i8, BigRational)>> {
    let d = BigRational::from_integer(BigInt::from(x.len()));
    let v: Vec<BigRational> = if center {
        let mu = x.iter().cloned().fold(BigRational::zero(), |a, b| a + b) / d.clone();
        x.iter().map(|e| e - &mu).collect()
    } else {
        x.to_vec()
    };
    let m2 = v
        .iter()
        .map(|e| e * e)
        .fold(BigRational::zero(), |a, b| a + b)
        / d;
    let den = m2 + eps;
    if den.is_zero() {
        return None;
    }
    Some(v.iter().map(|e| (sign(e), e * e / &den)).collect())
}

fn show_exact(v: &[(i8, BigRational)]) -> String {
    let root = |q: &BigRational| -> String {
        let (n, d) = (q.numer().sqrt(), q.denom().sqrt());
        if &(&n * &n) == q.numer() && &(&d * &d) == q.denom() {
            BigRational::new(n, d).to_string()
        } else {
            format!("√({q})")
        }
    };
    let parts: Vec<String> = v
        .iter()
        .map(|(s, q)| match s {
            0 => "0".to_string(),
            1 => root(q),
            _ => format!("−{}", root(q)),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// `[a, b, …]` with each rational in its plain form (`3`, `-1/2`).
fn show_q(v: &[BigRational]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn sum_rows(toks: &[&[f64]], d: usize) -> Vec<f64> {
    (0..d).map(|i| toks.iter().map(|t| t[i]).sum()).collect()
}

// ---- center-unembed ------------------------------------------------------------------------

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

fn center_unembed_exact(c: &Case) -> Outcome {
    let w = token_matrix(c, rq);
    let x = q(c.v("x"));
    let centered = center_unembed(&bare_model(w.clone(), BigRational::zero()));
    let (a, b) = (logits(&w, &x), logits(&centered.w_u, &x));
    let shifts: Vec<BigRational> = a.iter().zip(&b).map(|(p, q)| p - q).collect();
    if shifts.iter().all(|s| s == &shifts[0]) {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "logits(W_U, x) − logits(W_U − m·1ᵀ, x)",
            show_q(&shifts),
            "one constant",
            &shifts[0],
        ))
    }
}

/// Each probability of two softmaxes of logits that agree up to a constant within `delta`.
/// Each probability of two softmaxes of logits that agree up to a constant within `delta`:
/// `|p'ⱼ − pⱼ| ≤ (e^{2Δ} − 1)·pⱼ(1 − pⱼ) ≤ ¼(e^{2Δ} − 1)` — `transformer::mix_bound`'s
/// centring argument with the values `vₖ = [k = j]`, whose mix is `pⱼ` (attained to first
/// order by two keys at `p = ½`, one pushed up by Δ and one down) — plus each softmax's own
/// rounding.
pub fn prob_bound<T: crate::Real>(delta: f64) -> f64 {
    0.25 * (2.0 * delta).exp_m1() + 2.0 * relative::<T>(SOFTMAX_ULPS)
}

fn logit_bound<T: crate::Real>(w: &DMatrix<T>, x: &[T], rho: f64) -> f64 {
    (0..w.ncols())
        .map(|j| {
            let col: Vec<f64> = w.column(j).iter().map(|v| v.widen()).collect();
            let abs: f64 = col.iter().zip(x).map(|(a, b)| (a * b.widen()).abs()).sum();
            let s: f64 = col.iter().zip(x).map(|(a, b)| a * b.widen()).sum();
            compensated_dot_bound::<T>(col.len(), s, abs) + rho * abs
        })
        .fold(0.0, f64::max)
}

fn center_unembed_float<T: crate::Real>(c: &Case) -> Outcome {
    let w = token_matrix(c, |v| T::narrow(v));
    let x: Vec<T> = ft(c.v("x"));
    let centered = center_unembed(&bare_model(w.clone(), T::zero()));
    let (l, l2) = (logits(&w, &x), logits(&centered.w_u, &x));
    if !(all_finite(&l) && all_finite(&l2) && all_finite(centered.w_u.as_slice())) {
        return Outcome::Skip; // the conditions: no logit overflows
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

// ---- fold-layernorm ------------------------------------------------------------------------

fn fold_exact(c: &Case) -> Outcome {
    let w = token_matrix(c, rq);
    let (n, g, be) = (q(c.v("n")), q(c.v("γ")), q(c.v("β")));
    let b = vec![c.p("b").rational(); w.ncols()];
    let (w2, b2) = fold_into_linear(Some(&g), Some(&be), &w, Some(&b));
    let y: Vec<BigRational> = (0..n.len()).map(|i| &g[i] * &n[i] + &be[i]).collect();
    let lhs: Vec<BigRational> = logits(&w, &y)
        .into_iter()
        .zip(&b)
        .map(|(v, b)| v + b)
        .collect();
    let rhs: Vec<BigRational> = logits(&w2, &n)
        .into_iter()
        .zip(&b2)
        .map(|(v, b)| v + b)
        .collect();
    if lhs == rhs {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "(γ ⊙ n + β)·W + b",
            show_q(&lhs),
            "n·(diag(γ)·W) + (β·W + b)",
            show_q(&rhs),
        ))
    }
}

/// Every value finite (the float readings' conditions exclude overflow).
fn all_finite<T: crate::Real>(v: &[T]) -> bool {
    v.iter().all(|x| x.widen().is_finite())
}

/// `(γ ⊙ n + β)·W + b` against the folded `n·W' + b'`, each column evaluated in `T`.
///
/// Against the exact value `Eⱼ = Σᵢ (γᵢnᵢ + βᵢ)Wᵢⱼ + b`:
/// * the left side rounds `yᵢ = γᵢnᵢ + βᵢ` (a product and a sum: `|ŷᵢ − yᵢ| ≤ u|γᵢnᵢ| +
///   u|ŷᵢ|`) and then the dot product (`compensated_dot_bound` over `k + 1` terms);
/// * the right side rounds `W'ᵢⱼ = γᵢWᵢⱼ` (`≤ u|W'ᵢⱼ|`, one product), `b'ⱼ = β·W₍ⱼ₎ + b`
///   (a dot product) and then its own dot product.
fn fold_float<T: crate::Real>(c: &Case) -> Outcome {
    let w = token_matrix(c, |v| T::narrow(v));
    let (n, g, be): (Vec<T>, Vec<T>, Vec<T>) = (ft(c.v("n")), ft(c.v("γ")), ft(c.v("β")));
    let b = vec![T::narrow(c.p("b").value()); w.ncols()];
    let (w2, b2) = fold_into_linear(Some(&g), Some(&be), &w, Some(&b));
    let y: Vec<T> = n
        .iter()
        .zip(&g)
        .zip(&be)
        .map(|((&n, &g), &b)| g * n + b)
        .collect();
    let with_b = |w: &DMatrix<T>, x: &[T], b: &[T]| -> Vec<T> {
        (0..w.ncols())
            .map(|j| {
                let col: Vec<T> = w.column(j).iter().copied().collect();
                T::dot_plus(x, &col, b[j])
            })
            .collect()
    };
    let (lhs, rhs) = (with_b(&w, &y, &b), with_b(&w2, &n, &b2));
    let gn: Vec<T> = n.iter().zip(&g).map(|(&n, &g)| g * n).collect();
    let finite = [&y, &gn, &b2, &lhs, &rhs].iter().all(|v| all_finite(v));
    if !finite || !all_finite(w2.as_slice()) {
        return Outcome::Skip;
    }
    let u = unit_roundoff::<T>();
    let k = n.len();
    let wd = |i: usize, j: usize| w[(i, j)].widen();
    let bound = (0..w.ncols())
        .map(|j| {
            let (mut exact, mut y_err, mut abs_l) = (b[j].widen(), 0.0, b[j].widen().abs());
            let (mut w_err, mut abs_r, mut abs_b, mut bj) = (0.0, b2[j].widen().abs(), 0.0, 0.0);
            for i in 0..k {
                let (yi, gi, ni, bi) = (y[i].widen(), g[i].widen(), n[i].widen(), be[i].widen());
                exact += (gi * ni + bi) * wd(i, j);
                y_err += (u * (gi * ni).abs() + u * yi.abs()) * wd(i, j).abs();
                abs_l += (yi * wd(i, j)).abs();
                w_err += u * w2[(i, j)].widen().abs() * ni.abs();
                abs_r += (ni * w2[(i, j)].widen()).abs();
                abs_b += (bi * wd(i, j)).abs();
                bj += bi * wd(i, j);
            }
            bj += b[j].widen();
            abs_b += b[j].widen().abs();
            let left = y_err + compensated_dot_bound::<T>(k + 1, exact, abs_l + y_err);
            let right = w_err
                + compensated_dot_bound::<T>(k + 1, bj, abs_b)
                + compensated_dot_bound::<T>(k + 1, exact, abs_r + w_err);
            (left + right) * (1.0 + 8.0 * unit_roundoff::<f64>())
        })
        .fold(0.0f64, f64::max);
    compare_arith(
        domain_of::<T>(),
        "(γ ⊙ n + β)·W + b",
        &lhs,
        "n·W' + b'",
        &rhs,
        bound,
    )
}

// ---- center-writing-weights ----------------------------------------------------------------

fn centered_sum(toks: &[&[f64]]) -> (Vec<BigRational>, Vec<BigRational>) {
    let d = toks[0].len();
    let x = q(&sum_rows(toks, d));
    let xc = toks
        .iter()
        .map(|t| <BigRational as crate::Field>::centered(&q(t)))
        .fold(vec![BigRational::zero(); d], |acc, t| {
            acc.into_iter().zip(t).map(|(a, b)| a + b).collect()
        });
    (x, xc)
}

fn writing_exact(c: &Case, layer: bool) -> Outcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return Outcome::Skip;
    }
    let eps = eps_rational(c);
    if eps.is_negative() {
        return Outcome::Skip;
    }
    let (x, xc) = centered_sum(&toks);
    let (Some(a), Some(b)) = (norm_exact(&x, &eps, layer), norm_exact(&xc, &eps, layer)) else {
        return Outcome::Skip; // ε = 0 and a constant input: 0/0, outside the conditions
    };
    if a == b {
        Outcome::EXACT
    } else {
        let name = if layer { "LN" } else { "RMSNorm" };
        Outcome::Found(Evidence::exact(
            format!("{name}(Σ center(cᵢ))"),
            show_exact(&b),
            format!("{name}(Σ cᵢ)"),
            show_exact(&a),
        ))
    }
}
fn writing_layernorm_exact(c: &Case) -> Outcome {
    writing_exact(c, true)
}
fn writing_rmsnorm_exact(c: &Case) -> Outcome {
    writing_exact(c, false)
}

/// `LN(Σ center(cᵢ))` against `LN(Σ cᵢ)`, both sums and the centering in `T`: found when the
/// two differ by more than [`WRITING_FACTOR`] × the LayerNorm's own rounding on each side — a
/// difference no rounding of the LayerNorm itself explains (the reading says the reader sees
/// the same input). `ε > 0`, so no 0/0 convention is involved.
fn writing_float<T: crate::Real>(c: &Case) -> Outcome {
    let toks = c.tokens();
    let d = c.dim();
    let eps = T::narrow(eps(c).value());
    if toks.is_empty() || eps <= T::zero() {
        return Outcome::Skip;
    }
    let add =
        |acc: Vec<T>, t: Vec<T>| -> Vec<T> { acc.into_iter().zip(t).map(|(a, b)| a + b).collect() };
    let x = toks
        .iter()
        .map(|t| ft::<T>(t))
        .fold(vec![T::zero(); d], add);
    let xc = toks
        .iter()
        .map(|t| <T as crate::Field>::centered(&ft::<T>(t)))
        .fold(vec![T::zero(); d], add);
    if !(all_finite(&x) && all_finite(&xc)) {
        return Outcome::Skip;
    }
    let (a, b) = (
        layer_norm(&xc, eps, None, None),
        layer_norm(&x, eps, None, None),
    );
    if !(all_finite(&a) && all_finite(&b)) {
        return Outcome::Skip;
    }
    let values = Values::of::<T>();
    let widen = |v: &[T]| -> Vec<f64> { v.iter().map(|x| x.widen()).collect() };
    match compare_arith(
        domain_of::<T>(),
        "",
        &a,
        "",
        &b,
        WRITING_FACTOR * writing_ln_rounding::<T>(d),
    ) {
        Outcome::Found(mut e) => {
            e.lhs_label = format!("LN(Σ center(cᵢ)) = LN({})", show_vec(&widen(&xc), values));
            e.rhs_label = format!("LN(Σ cᵢ) = LN({})", show_vec(&widen(&x), values));
            e.lhs = show_vec(&widen(&a), values);
            e.rhs = show_vec(&widen(&b), values);
            Outcome::Found(e)
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
pub fn writing_perturbation_bound<T: crate::Real>(toks: &[Vec<T>], eps: T) -> Option<f64> {
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

/// The rounding of two LayerNorm evaluations (each entry within `NORM_LAYER_ULPS` ulp of a
/// value of size ≤ √d), the allowance of `writing_float`.
fn writing_ln_rounding<T: crate::Real>(d: usize) -> f64 {
    2.0 * (d as f64).sqrt() * relative::<T>(NORM_LAYER_ULPS) + 2.0 * ulp(T::zero())
}

// ---- attention-key-bias --------------------------------------------------------------------

fn scores_exact(q_: &[BigRational], keys: &[Vec<BigRational>]) -> Vec<BigRational> {
    keys.iter().map(|k| dot(q_, k)).collect()
}

fn key_bias(c: &Case, on_query: bool) -> Outcome {
    let (qv, b) = (q(c.v("q")), q(c.v("b")));
    let keys: Vec<Vec<BigRational>> = c.tokens().iter().map(|t| q(t)).collect();
    let s = scores_exact(&qv, &keys);
    let s2 = if on_query {
        let qb: Vec<BigRational> = qv.iter().zip(&b).map(|(a, b)| a + b).collect();
        scores_exact(&qb, &keys)
    } else {
        let kb: Vec<Vec<BigRational>> = keys
            .iter()
            .map(|k| k.iter().zip(&b).map(|(a, b)| a + b).collect())
            .collect();
        scores_exact(&qv, &kb)
    };
    // softmax(s') = softmax(s) ⇔ s' − s is constant (proofs/softmax-shift-invariance.md).
    let shifts: Vec<BigRational> = s2.iter().zip(&s).map(|(a, b)| a - b).collect();
    if shifts.iter().all(|v| v == &shifts[0]) {
        Outcome::EXACT
    } else {
        let what = if on_query {
            "(q + b)·kⱼ"
        } else {
            "q·(kⱼ + b)"
        };
        Outcome::Found(Evidence::exact(
            format!("scores {what}"),
            show_q(&s2),
            "scores q·kⱼ",
            format!(
                "{} (the differences {} are not one constant, so the softmax differs)",
                show_q(&s),
                show_q(&shifts)
            ),
        ))
    }
}
fn key_bias_keys(c: &Case) -> Outcome {
    key_bias(c, false)
}
fn key_bias_query(c: &Case) -> Outcome {
    key_bias(c, true)
}

/// The two float patterns `softmax(fl(q·fl(kⱼ + b)))` and `softmax(fl(q·kⱼ))` and the bound on
/// their difference ([`key_bias_bound`]); `None` when a sum or score is not finite.
pub fn key_bias_patterns<T: crate::Real>(
    q_: &[T],
    b: &[T],
    keys: &[Vec<T>],
) -> Option<(Vec<T>, Vec<T>, f64)> {
    let kb: Vec<Vec<T>> = keys
        .iter()
        .map(|k| k.iter().zip(b).map(|(&a, &b)| a + b).collect())
        .collect();
    let s: Vec<T> = keys.iter().map(|k| dot(q_, k)).collect();
    let s2: Vec<T> = kb.iter().map(|k| dot(q_, k)).collect();
    if !(kb.iter().all(|k| all_finite(k)) && all_finite(&s) && all_finite(&s2)) {
        return None;
    }
    let bound = key_bias_bound::<T>(q_, keys, &kb, &s, &s2);
    Some((softmax(&s2), softmax(&s), bound))
}

/// The bound on `|softmax(ŝ')ⱼ − softmax(ŝ)ⱼ|` for the computed scores `ŝ'ⱼ = fl(q·fl(kⱼ + b))`
/// and `ŝⱼ = fl(q·kⱼ)`. The exact scores differ by the constant `q·b`, which the softmax
/// ignores; what is left is
///
/// ```text
/// δⱼ = |ŝ'ⱼ − ŝⱼ − q·b| ≤ Σᵢ |qᵢ|·u|fl(kⱼ + b)ᵢ|            (each kⱼᵢ + bᵢ rounded once)
///                      + dot(q, fl(kⱼ + b)) and dot(q, kⱼ) rounding (compensated_dot_bound)
/// ```
///
/// and logits moved by at most `Δ = maxⱼ δⱼ` move every probability by at most
/// `¼(e^{2Δ} − 1)` ([`prob_bound`]), plus each softmax's own rounding. First order in `u`, and proportional to `|q|·|kⱼ + b|`: a large shared key bias
/// costs accuracy.
pub fn key_bias_bound<T: crate::Real>(
    q_: &[T],
    keys: &[Vec<T>],
    kb: &[Vec<T>],
    s: &[T],
    s2: &[T],
) -> f64 {
    let u = unit_roundoff::<T>();
    let n = q_.len();
    let abs = |a: &[T], b: &[T]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x.widen() * y.widen()).abs())
            .sum()
    };
    let delta = (0..keys.len())
        .map(|j| {
            let sum_rounding = u * abs(q_, &kb[j]);
            let d2 = compensated_dot_bound::<T>(n, s2[j].widen(), abs(q_, &kb[j]));
            let d1 = compensated_dot_bound::<T>(n, s[j].widen(), abs(q_, &keys[j]));
            (sum_rounding + d1 + d2) * (1.0 + 8.0 * unit_roundoff::<f64>())
        })
        .fold(0.0f64, f64::max);
    prob_bound::<T>(delta)
}

/// Key bias in `T`: within [`key_bias_bound`] (conditions: every sum and score finite).
fn key_bias_float<T: crate::Real>(c: &Case) -> Outcome {
    let (qv, b): (Vec<T>, Vec<T>) = (ft(c.v("q")), ft(c.v("b")));
    let keys: Vec<Vec<T>> = c.tokens().iter().map(|t| ft(t)).collect();
    let Some((p2, p, bound)) = key_bias_patterns(&qv, &b, &keys) else {
        return Outcome::Skip;
    };
    compare_arith(
        domain_of::<T>(),
        "softmax(q·(kⱼ + b))",
        &p2,
        "softmax(q·kⱼ)",
        &p,
        bound,
    )
}

// ---- direct-logit-attribution --------------------------------------------------------------

fn dla_frozen_exact(c: &Case) -> Outcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return Outcome::Skip;
    }
    let (w, g) = (q(c.v("w")), q(c.v("γ")));
    let d = c.dim();
    // With s frozen, every term is divided by the same s > 0: compare s·(both sides).
    let term = |v: &[BigRational]| -> BigRational {
        let cv = <BigRational as crate::Field>::centered(v);
        let y: Vec<BigRational> = cv.iter().zip(&g).map(|(a, b)| a * b).collect();
        dot(&w, &y)
    };
    let parts: Vec<BigRational> = toks.iter().map(|t| term(&q(t))).collect();
    let sum = parts
        .iter()
        .cloned()
        .fold(BigRational::zero(), |a, b| a + b);
    let whole = term(&q(&sum_rows(&toks, d)));
    if sum == whole {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "s·Σᵢ w·(γ ⊙ (cᵢ − μ(cᵢ)))/s",
            sum,
            "s·w·(γ ⊙ LN_s(Σᵢ cᵢ))",
            whole,
        ))
    }
}

fn dla_unfrozen(c: &Case) -> Outcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return Outcome::Skip;
    }
    let (w, g) = (f(c.v("w")), f(c.v("γ")));
    let d = c.dim();
    let eps = eps_f64(c);
    let term = |v: &[f64]| dot(&w, &layer_norm(v, eps, Some(&g), None));
    let parts: f64 = toks.iter().map(|t| term(&f(t))).sum();
    let whole = term(&f(&sum_rows(&toks, d)));
    // Each term: LN within NORM_LAYER_ULPS ulp of entries ≤ √d·|γ|, then a compensated dot.
    let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let wsum: f64 = w.iter().map(|v| v.abs()).sum();
    let per = 2.0 * relative::<f64>(NORM_LAYER_ULPS + 1) * gmax * (d as f64).sqrt() * wsum;
    let bound = per * (toks.len() as f64 + 1.0) + relative::<f64>(1) * (parts.abs() + whole.abs());
    compare_real(
        "Σᵢ w·(γ ⊙ LN(cᵢ))",
        &[parts],
        "w·(γ ⊙ LN(Σᵢ cᵢ))",
        &[whole],
        bound,
    )
}

// ---- fold-value-biases ---------------------------------------------------------------------

/// Self-attention of the query `q` over the tokens `xⱼ` (keys and values), with a value bias
/// `b`: `Σⱼ pⱼ(xⱼ + b)` against the folded `Σⱼ pⱼxⱼ + b`.
fn value_bias(c: &Case) -> Outcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return Outcome::Skip;
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

// ---- logit-lens-scale ----------------------------------------------------------------------

fn lens_scale(c: &Case) -> Outcome {
    let (r, x) = (c.v("r"), c.v("x"));
    let eps = eps_rational(c);
    if eps.is_negative() {
        return Outcome::Skip;
    }
    let rq_: Vec<BigRational> = q(r);
    let d = BigRational::from_integer(BigInt::from(r.len()));
    let var = |v: &[BigRational]| -> BigRational {
        let cv = <BigRational as crate::Field>::centered(v);
        cv.iter()
            .map(|e| e * e)
            .fold(BigRational::zero(), |a, b| a + b)
            / d.clone()
    };
    let s2_x = var(&q(x)) + &eps;
    if s2_x.is_zero() {
        return Outcome::Skip; // the cached scale would be 0: nothing to reuse
    }
    let dev = <BigRational as crate::Field>::centered(&rq_);
    // (r − μ)/s(x) against LN(r) = (r − μ)/s(r): equal iff r is constant or s(x) = s(r).
    let cached: Vec<(i8, BigRational)> = dev.iter().map(|e| (sign(e), e * e / &s2_x)).collect();
    let Some(own) = norm_exact(&rq_, &eps, true) else {
        return Outcome::Skip; // r constant with ε = 0: 0/0, outside the conditions
    };
    if cached == own {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact(
            "(r − μ(r))/s(x), the final norm's cached scale",
            show_exact(&cached),
            "LN_final(r) = (r − μ(r))/s(r)",
            show_exact(&own),
        ))
    }
}

fn sign(e: &BigRational) -> i8 {
    if e.is_positive() {
        1
    } else if e.is_negative() {
        -1
    } else {
        0
    }
}

// ---- qk-refactor-under-rope ----------------------------------------------------------------

/// The change of basis `M` (rows: the case's tokens), if square.
fn basis(c: &Case) -> Option<Vec<&[f64]>> {
    let m = c.tokens();
    (m.len() == c.dim()).then_some(m)
}

fn times(v: &[f64], m: &[&[f64]]) -> Vec<f64> {
    (0..m.len())
        .map(|j| v.iter().zip(m).map(|(a, row)| a * row[j]).sum())
        .collect()
}

fn times_transpose(v: &[f64], m: &[&[f64]]) -> Vec<f64> {
    m.iter()
        .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect()
}

fn det(m: &[&[f64]]) -> f64 {
    match m.len() {
        1 => m[0][0],
        2 => m[0][0] * m[1][1] - m[0][1] * m[1][0],
        _ => (0..m.len())
            .map(|j| {
                let minor: Vec<Vec<f64>> = m[1..]
                    .iter()
                    .map(|r| {
                        r.iter()
                            .enumerate()
                            .filter(|(k, _)| *k != j)
                            .map(|(_, v)| *v)
                            .collect()
                    })
                    .collect();
                let mr: Vec<&[f64]> = minor.iter().map(|r| r.as_slice()).collect();
                let s = if j % 2 == 0 { 1.0 } else { -1.0 };
                s * m[0][j] * det(&mr)
            })
            .sum(),
    }
}

/// `W_Q' = W_Q·M`, `W_K' = W_K·M⁻ᵀ` keeps `W_Q'·W_K'ᵀ`: a query `q` becomes `q·M` and a key
/// `k = k̃·Mᵀ` becomes `k̃` — so the claim is `(q·M)·k̃ = q·(k̃·Mᵀ)` (no inverse needed).
fn refactor_plain(c: &Case) -> Outcome {
    let Some(m) = basis(c) else {
        return Outcome::Skip;
    };
    if det(&m) == 0.0 {
        return Outcome::Skip;
    }
    let (qv, kt) = (c.v("q"), c.v("k̃"));
    let lhs = dot(&q(&times(qv, &m)), &q(kt));
    let rhs = dot(&q(qv), &q(&times_transpose(kt, &m)));
    if lhs == rhs {
        Outcome::EXACT
    } else {
        Outcome::Found(Evidence::exact("(q·M)·k̃", lhs, "q·(k̃·Mᵀ)", rhs))
    }
}

/// The same with a rotary embedding between the projections and the score: positions `i`
/// (query) and `j` (key), base 10,000 (pair 0 turns by 1 radian per position).
fn refactor_rope(c: &Case) -> Outcome {
    let Some(m) = basis(c) else {
        return Outcome::Skip;
    };
    if !c.dim().is_multiple_of(2) || det(&m) == 0.0 {
        return Outcome::Skip;
    }
    let (i, j) = (c.p("i").raw(), c.p("j").raw());
    if i < 0 || j < 0 {
        return Outcome::Skip;
    }
    let (qv, kt) = (c.v("q"), c.v("k̃"));
    let rope = Rope { base: 10_000.0 };
    let rot = |v: Vec<f64>, p: i64| -> Vec<f64> {
        // Rotate the vector as row p of a matrix whose other rows are zero.
        let mut mat = DMatrix::<f64>::zeros(p as usize + 1, v.len());
        for (k, &e) in v.iter().enumerate() {
            mat[(p as usize, k)] = e;
        }
        let r = apply_rope(&mat, rope);
        r.row(p as usize).iter().copied().collect()
    };
    let lhs = dot(&rot(times(qv, &m), i), &rot(kt.to_vec(), j));
    let rhs = dot(&rot(qv.to_vec(), i), &rot(times_transpose(kt, &m), j));
    // Each rotated entry within 2u of its value (f64 cos/sin, one rounding), then a
    // compensated dot: the bound is a few u of Σ|terms|.
    let mag = |a: &[f64], b: &[f64]| -> f64 {
        let na: f64 = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|v| v * v).sum::<f64>().sqrt();
        na * nb
    };
    let qm = rot(times(qv, &m), i);
    let km = rot(times_transpose(kt, &m), j);
    let bound = 8.0
        * relative::<f64>(1)
        * (mag(&qm, &rot(kt.to_vec(), j)) + mag(&rot(qv.to_vec(), i), &km))
        + 2.0 * ulp(0.0f64);
    compare_real(
        "RoPE_i(q·M)·RoPE_j(k̃)",
        &[lhs],
        "RoPE_i(q)·RoPE_j(k̃·Mᵀ)",
        &[rhs],
        bound,
    )
}

// ---- strategies ----------------------------------------------------------------------------

fn eps_param() -> BoxedStrategy<Param> {
    prop_oneof![Just(Param::Int(0)), (-20i64..=2).prop_map(Param::Pow2)].boxed()
}

/// `names` fixed vectors and exactly `d` tokens (the rows of a d × d matrix).
fn square(
    names: &'static [&'static str],
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, BoxedStrategy<Param>)>,
) -> BoxedStrategy<Case> {
    let (pnames, pstrats): (Vec<&'static str>, Vec<BoxedStrategy<Param>>) =
        params.into_iter().unzip();
    (dims, pstrats)
        .prop_flat_map(move |(d, ps)| {
            let pnames = pnames.clone();
            (
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), names.len()),
                proptest::collection::vec(proptest::collection::vec(range.clone(), d), d),
                Just(ps),
            )
                .prop_map(move |(fixed, toks, ps)| {
                    let n = toks.len();
                    Case::with_tokens(
                        names.iter().copied().zip(fixed).collect(),
                        toks,
                        n,
                        pnames.iter().copied().zip(ps).collect(),
                    )
                    .named("m")
                })
        })
        .boxed()
}

/// Float cases of center-unembed: a residual `x` and 1–6 tokens.
fn unembed_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(&["x"], 1..=6, 1, 1..=5, -6..=6, vec![])
}

/// Float cases of fold-layernorm: `n`, `γ`, `β`, a shared bias `b` and 1–4 columns of `W`.
fn fold_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(
        &["n", "γ", "β"],
        1..=4,
        1,
        1..=5,
        -6..=6,
        vec![("b", value::<T>(f64::MIN, f64::MAX))],
    )
}

/// Float cases of attention-key-bias: a query, a key bias and 1–6 keys.
fn key_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(&["q", "b"], 1..=6, 1, 1..=5, -6..=6, vec![])
        .prop_map(|c| c.named("k"))
        .boxed()
}

/// Float cases of center-writing-weights: 1–4 writes and an ε > 0 (GPT-2's 10⁻⁵ or a power
/// of two).
fn writing_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let eps = prop_oneof![
        Just(Param::Value(T::narrow(1e-5).widen())),
        (-20i64..=2).prop_map(Param::Pow2)
    ]
    .boxed();
    float_case::<T>(&[], 1..=4, 1, 2..=6, -8..=8, vec![("ε", eps)])
        .prop_map(|c| c.named("c"))
        .boxed()
}

/// The weight-processing and attention claims.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "center-unembed",
            area: Area::Transformer,
            words: "subtracting the mean token vector from every token's unembedding vector (and the mean of the unembedding bias from every bias) leaves every softmax output unchanged",
            readings: vec![Reading::new(
                "a",
                "softmax(x·(W_U − m·1ᵀ) + b − mean(b)) = softmax(x·W_U + b) for every residual x, with m = W_U·1/V the mean token vector.",
                "any x, W_U, b (a bias is a coordinate of x fixed at 1). In f32/f64: every logit finite; equal within ¼(e^{2Δ} − 1) + 2·SOFTMAX_ULPS ulp, Δ the two logit vectors' rounding bounds (compensated dot products, centered weights within 2u)",
                None,
                vec![
                    Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || with_tokens(&["x"], 1..=6, 1, 1..=5, -6..=6, vec![]),
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
                "claims_transformer::center_unembed_exact",
                "claims_transformer::center_unembed_shifts_logits_by_a_constant_f32",
                "claims_transformer::center_unembed_shifts_logits_by_a_constant_f64",
                "transformer::center_unembed_preserves_probabilities_f32",
                "transformer::center_unembed_preserves_probabilities_f64",
            ],
        },
        Claim {
            id: "fold-layernorm",
            area: Area::Transformer,
            words: "folding γ and β of a LayerNorm into the next linear map (W·(γ ⊙ n + β) + b = (W·diag γ)·n + (W·β + b)) leaves every output unchanged",
            readings: vec![Reading::new(
                "a",
                "(γ ⊙ n + β)·W + b = n·(diag(γ)·W) + (β·W + b) for every normalized vector n: the folded model computes the same function.",
                "any γ, β, W, b (RMSNorm: β = 0). In f32/f64: every product and sum finite; equal within the rounding of both sides (γᵢnᵢ + βᵢ rounded twice, W' = γ·W once, b' = β·W + b and both outputs as compensated dot products)",
                None,
                vec![
                    Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || {
                            with_tokens(
                                &["n", "γ", "β"],
                                1..=4,
                                1,
                                1..=5,
                                -6..=6,
                                vec![("b", int(-6..=6))],
                            )
                        },
                        fold_exact,
                    ),
                    Judgement::new(
                        Domain::F32,
                        Holds,
                        ForAll,
                        fold_cases::<f32>,
                        fold_float::<f32>,
                    ),
                    Judgement::new(
                        Domain::F64,
                        Holds,
                        ForAll,
                        fold_cases::<f64>,
                        fold_float::<f64>,
                    ),
                ],
            )],
            tests: &[
                "claims_transformer::center_unembed_exact",
                "claims_transformer::fold_is_an_identity_f32",
                "claims_transformer::fold_is_an_identity_f64",
                "transformer::fold_into_linear_is_exact_on_rationals",
                "transformer::fold_layernorm_preserves_logits_f32",
                "transformer::fold_layernorm_preserves_logits_f64",
                "transformer::a_fold_that_forgets_beta_is_caught_f32",
                "transformer::a_fold_that_forgets_beta_is_caught_f64",
            ],
        },
        Claim {
            id: "center-writing-weights",
            area: Area::Transformer,
            words: "when every reader of the residual stream is a LayerNorm, removing the mean of every vector written to the stream leaves every output unchanged",
            readings: vec![
                Reading::new(
                    "a",
                    "LN(Σᵢ center(cᵢ)) = LN(Σᵢ cᵢ) for any vectors cᵢ written to the residual stream: every LayerNorm reader sees the same input.",
                    "every reader is a LayerNorm; any ε ≥ 0, except ε = 0 with a constant Σcᵢ or Σ center(cᵢ) (0/0, a convention, not judged). In f32/f64: ε > 0, every sum finite; found only when the outputs differ by more than 2¹⁰ × the LayerNorm's own rounding",
                    Some(
                        "Exact in ℝ; in floating point the centering is rounded (each write within a few u of |cᵢ|), and LayerNorm amplifies an input perturbation e by up to 1/√(σ² + ε): when the writes nearly cancel (σ(Σcᵢ) comparable to u·Σ|cᵢ|), the reader's output changes by O(1) — even its sign. Away from cancellation the change is at most e/s/(1 − 2e/s) plus the LayerNorm's rounding, e = 4k·u·Σᵢ max|cᵢ|·√d, s = √(σ²(Σcᵢ) + ε), when 2e < s (claims::transformer::writing_perturbation_bound; tested in claims_transformer).",
                    ),
                    vec![
                        Judgement::new(
                            Domain::Real,
                            Holds,
                            ForAll,
                            || {
                                with_tokens(&[], 1..=4, 1, 1..=6, -8..=8, vec![("ε", eps_param())])
                                    .prop_map(|c| c.named("c"))
                                    .boxed()
                            },
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
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || {
                            with_tokens(&[], 1..=3, 1, 1..=4, -4..=4, vec![("ε", eps_param())])
                                .prop_map(|c| c.named("c"))
                                .boxed()
                        },
                        writing_rmsnorm_exact,
                    )],
                ),
            ],
            tests: &[
                "claims_transformer::centered_writes_stay_within_the_perturbation_bound_f32",
                "claims_transformer::centered_writes_stay_within_the_perturbation_bound_f64",
                "claims_transformer::transformer_refutations_do_not_rest_on_ties",
                "claims_transformer::rmsnorm_centering_search_finds_and_verifies",
                "transformer::center_writing_weights_preserves_or_refuses_f32",
                "transformer::center_writing_weights_preserves_or_refuses_f64",
                "transformer::forced_centering_under_rmsnorm_changes_logits",
            ],
        },
        Claim {
            id: "attention-key-bias",
            area: Area::Transformer,
            words: "adding one vector to every key leaves each query's attention pattern unchanged; adding one vector to every query does not",
            readings: vec![
                Reading::new(
                    "a",
                    "softmax over j of q·(kⱼ + b) = softmax over j of q·kⱼ: a bias shared by all keys (e.g. b_K) does not change any attention pattern.",
                    "any q, kⱼ, b; any mask (the shift q·b is the same for every visible key). In f32/f64: every kⱼ + b and score finite; equal within ¼(e^{2Δ} − 1) + 2·SOFTMAX_ULPS ulp, Δ = maxⱼ (Σᵢ|qᵢ|·u·|kⱼᵢ + bᵢ| + both scores' rounding) — first order in u but proportional to |q|·|kⱼ + b|, so a large shared bias costs accuracy (f32: q = [1.1], b = [10⁴], keys [0], [1] moves the pattern by 1.1·10⁻⁴)",
                    None,
                    vec![
                        Judgement::new(
                            Domain::Real,
                            Holds,
                            ForAll,
                            || {
                                with_tokens(&["q", "b"], 1..=6, 1, 1..=5, -6..=6, vec![])
                                    .prop_map(|c| c.named("k"))
                                    .boxed()
                            },
                            key_bias_keys,
                        ),
                        Judgement::new(
                            Domain::F32,
                            Holds,
                            ForAll,
                            key_cases::<f32>,
                            key_bias_float::<f32>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Holds,
                            ForAll,
                            key_cases::<f64>,
                            key_bias_float::<f64>,
                        ),
                    ],
                ),
                Reading::new(
                    "b",
                    "softmax over j of (q + b)·kⱼ = softmax over j of q·kⱼ: a bias shared by all queries (e.g. b_Q) does not change the pattern either.",
                    "any q, kⱼ, b",
                    Some(
                        "Adding b to the query adds b·kⱼ to the score of key j, which depends on j: the pattern is unchanged only when b·kⱼ is the same for every visible key (b orthogonal to all key differences).",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || {
                            with_tokens(&["q", "b"], 2..=4, 2, 1..=3, -3..=3, vec![])
                                .prop_map(|c| c.named("k"))
                                .boxed()
                        },
                        key_bias_query,
                    )],
                ),
            ],
            tests: &[
                "claims_transformer::key_bias_moves_the_pattern_within_its_bound_f32",
                "claims_transformer::key_bias_moves_the_pattern_within_its_bound_f64",
                "claims_transformer::a_large_key_bias_moves_the_f32_pattern_close_to_the_bound",
                "claims_transformer::float_bounds_are_nearly_attained",
                "claims_transformer::query_bias_search_finds_and_verifies",
            ],
        },
        Claim {
            id: "direct-logit-attribution",
            area: Area::Transformer,
            words: "with the final-LayerNorm scale frozen at its value on the full residual stream, the logits are exactly the sum of each component's contribution (plus the bias terms)",
            readings: vec![
                Reading::new(
                    "a",
                    "Σᵢ w·(γ ⊙ (cᵢ − μ(cᵢ)))/s + (β·w + b) = w·LN_final(Σᵢ cᵢ) + b, s = √(σ²(Σᵢcᵢ) + ε) frozen on the full stream.",
                    "the scale s is the final norm's on the full residual stream (for RMSNorm drop the centering)",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || {
                            with_tokens(&["w", "γ"], 1..=5, 1, 1..=6, -6..=6, vec![])
                                .prop_map(|c| c.named("c"))
                                .boxed()
                        },
                        dla_frozen_exact,
                    )],
                ),
                Reading::new(
                    "b",
                    "Without freezing: Σᵢ w·(γ ⊙ LN(cᵢ)) = w·(γ ⊙ LN(Σᵢ cᵢ)) — applying the final LayerNorm to each component separately adds up to the logit.",
                    "each component normalized by its own scale",
                    Some(
                        "LN is not additive: each LN(cᵢ) divides by its own σ(cᵢ). Attributions add up to the logits only with the scale frozen at the full stream's value (reading (a)); transformer::process::direct_logit_attribution does that.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || {
                            with_tokens(&["w", "γ"], 2..=3, 2, 2..=3, -3..=3, vec![])
                                .prop_map(|c| c.named("c"))
                                .boxed()
                        },
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
        },
        Claim {
            id: "fold-value-biases",
            area: Area::Transformer,
            words: "moving Σ_h b_V,h·W_O,h into the output bias preserves every output (each attention row sums to 1)",
            readings: vec![Reading::new(
                "a",
                "Σⱼ pⱼ(vⱼ + b_V)·W_O = (Σⱼ pⱼvⱼ)·W_O + b_V·W_O for every attention row p: the value bias can be folded into b_O.",
                "every query attends to at least one key, so Σⱼ pⱼ = 1 (always under the causal mask; a fully masked row, which this crate maps to a zero pattern, breaks it)",
                None,
                vec![Judgement::new(
                    Domain::Real,
                    Holds,
                    ForAll,
                    || {
                        with_tokens(&["q", "b"], 1..=6, 1, 1..=5, -4..=4, vec![])
                            .prop_map(|c| c.named("x"))
                            .boxed()
                    },
                    value_bias,
                )],
            )],
            tests: &[
                "claims_transformer::unfrozen_attribution_search_finds_and_verifies",
                "claims_transformer::value_bias_folds_f32",
                "claims_transformer::value_bias_folds_f64",
                "transformer::fold_value_biases_preserves_logits_f32",
                "transformer::fold_value_biases_preserves_logits_f64",
                "transformer::fully_masked_row_attends_to_nothing",
            ],
        },
        Claim {
            id: "logit-lens-scale",
            area: Area::Transformer,
            words: "normalising an intermediate residual with the final layer's cached scale is the same as applying the final norm to it",
            readings: vec![Reading::new(
                "a",
                "(r − μ(r))/s(x) = LN_final(r) = (r − μ(r))/s(r) for an intermediate residual r, with s(x) = √(σ²(x) + ε) cached from the final residual x.",
                "r not constant",
                Some(
                    "The two agree only when σ²(r) = σ²(x). The logit lens must apply the final norm with r's own scale: LN_final(r)·W_U + b_U (transformer::process::logit_lens). Reusing the cached scale of a larger final residual shrinks an early residual towards 0, its logits towards the bias, and its distribution towards uniform.",
                ),
                vec![Judgement::new(
                    Domain::Real,
                    Fails,
                    ForAll,
                    || vectors(&["r", "x"], 1..=4, -4..=4, vec![("ε", eps_param())]),
                    lens_scale,
                )],
            )],
            tests: &[
                "claims_transformer::cached_scale_search_finds_and_verifies",
                "claims_transformer::cached_scale_is_own_scale_times_ratio_f32",
                "claims_transformer::cached_scale_is_own_scale_times_ratio_f64",
                "transformer::logit_lens_at_last_layer_is_the_output_f32",
                "transformer::logit_lens_at_last_layer_is_the_output_f64",
            ],
        },
        Claim {
            id: "qk-refactor-under-rope",
            area: Area::Transformer,
            words: "a change of basis that preserves W_Q·W_Kᵀ preserves attention scores without rotary position embeddings and not with them",
            readings: vec![
                Reading::new(
                    "a",
                    "Without RoPE: W_Q' = W_Q·M, W_K' = W_K·M⁻ᵀ (M invertible) gives the same scores: (q·M)·(k·M⁻ᵀ) = q·k.",
                    "M invertible, no position-dependent map between projection and score",
                    None,
                    vec![Judgement::new(
                        Domain::Real,
                        Holds,
                        ForAll,
                        || square(&["q", "k̃"], 1..=3, -4..=4, vec![]),
                        refactor_plain,
                    )],
                ),
                Reading::new(
                    "b",
                    "With RoPE between the projections and the score: RoPE_i(q·M)·RoPE_j(k·M⁻ᵀ) = RoPE_i(q)·RoPE_j(k).",
                    "M invertible, rotary embedding (base 10,000) at query position i and key position j",
                    Some(
                        "RoPE inserts the rotation R_{j−i} between q and k: the score is q·R_{j−i}·kᵀ, and q·M·R·M⁻¹·kᵀ = q·R·kᵀ for all positions only if M commutes with every rotation R (M a scaled rotation within each 2-D pair, e.g. M = c·I). A general refactoring of W_Q·W_Kᵀ is invalid under RoPE.",
                    ),
                    vec![Judgement::new(
                        Domain::Real,
                        Fails,
                        ForAll,
                        || {
                            square(
                                &["q", "k̃"],
                                2..=2,
                                -2..=2,
                                vec![("i", int(0..=3)), ("j", int(0..=3))],
                            )
                        },
                        refactor_rope,
                    )],
                ),
            ],
            tests: &[
                "claims_transformer::refactor_without_rope_is_exact",
                "claims_transformer::rope_refactor_search_finds_and_verifies",
                "claims_transformer::rope_refactor_holds_for_scaled_rotations_f32",
                "claims_transformer::rope_refactor_holds_for_scaled_rotations_f64",
            ],
        },
    ]
}
