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
use crate::tolerance::{NORM_LAYER_ULPS, SOFTMAX_ULPS, compensated_dot_bound, relative, ulp};
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
/// (`yᵢ² = vᵢ²/(mean(v²) + ε)`, `v` the centered or raw input). Zero when the denominator is 0
/// (the crate's policy for a constant row with ε = 0).
fn norm_exact(x: &[BigRational], eps: &BigRational, center: bool) -> Vec<(i8, BigRational)> {
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
    v.iter()
        .map(|e| {
            if den.is_zero() {
                (0, BigRational::zero())
            } else {
                (sign(e), e * e / &den)
            }
        })
        .collect()
}

fn show_exact(v: &[(i8, BigRational)]) -> String {
    let parts: Vec<String> = v
        .iter()
        .map(|(s, q)| match s {
            0 => "0".to_string(),
            1 => format!("√({q})"),
            _ => format!("−√({q})"),
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
fn prob_bound<T: crate::Real>(delta: f64) -> f64 {
    (2.0 * delta).exp_m1() + 2.0 * relative::<T>(SOFTMAX_ULPS)
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
    let w = token_matrix(c, |v| T::narrow(v as f64));
    let x: Vec<T> = ft(c.v("x"));
    let centered = center_unembed(&bare_model(w.clone(), T::zero()));
    let (p, p2) = (
        softmax(&logits(&w, &x)),
        softmax(&logits(&centered.w_u, &x)),
    );
    let delta = logit_bound::<T>(&w, &x, 0.0)
        + logit_bound::<T>(&centered.w_u, &x, crate::transformer::transform_rho::<T>());
    compare_arith(
        domain_of::<T>(),
        "softmax(x·(W_U − m·1ᵀ))",
        &p2,
        "softmax(x·W_U)",
        &p,
        prob_bound::<T>(2.0 * delta),
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

fn fold_float<T: crate::Real>(c: &Case) -> Outcome {
    let w = token_matrix(c, |v| T::narrow(v as f64));
    let (n, g, be): (Vec<T>, Vec<T>, Vec<T>) = (ft(c.v("n")), ft(c.v("γ")), ft(c.v("β")));
    let b = vec![T::narrow(c.p("b").value()); w.ncols()];
    let (w2, b2) = fold_into_linear(Some(&g), Some(&be), &w, Some(&b));
    // γ·n + β of small integers is exact in both types.
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
    let mag: f64 = (0..w.ncols())
        .map(|j| {
            let col = w.column(j);
            (0..n.len())
                .map(|i| (col[i].widen() * y[i].widen()).abs())
                .sum::<f64>()
                + b[j].widen().abs()
                + (0..n.len())
                    .map(|i| (col[i].widen() * be[i].widen()).abs())
                    .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let k = n.len() + 1;
    let bound = 2.0 * compensated_dot_bound::<T>(k, 0.0, mag)
        + 2.0 * crate::transformer::transform_rho::<T>() * mag
        + (4.0 * relative::<T>(1)) * lhs.iter().fold(0.0f64, |m, v| m.max(v.widen().abs()));
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
    let (x, xc) = centered_sum(&toks);
    let (a, b) = (norm_exact(&x, &eps, layer), norm_exact(&xc, &eps, layer));
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

fn writing_float<T: crate::Real>(c: &Case) -> Outcome {
    let toks = c.tokens();
    if toks.is_empty() {
        return Outcome::Skip;
    }
    let d = c.dim();
    let eps = T::narrow(eps_f64(c));
    let x: Vec<T> = ft(&sum_rows(&toks, d));
    let xc = toks
        .iter()
        .map(|t| <T as crate::Field>::centered(&ft::<T>(t)))
        .fold(vec![T::zero(); d], |acc, t| {
            acc.into_iter().zip(t).map(|(a, b)| a + b).collect()
        });
    // Σ center(cᵢ) is rounded (≤ 1 ulp per term, summed): a perturbation e of the input of LN
    // moves its output by ≤ e/σ (the Jacobian is a projection over s).
    let k = toks.len() as f64;
    let mag: f64 = toks
        .iter()
        .map(|t| t.iter().map(|v| v.abs()).fold(0.0, f64::max))
        .sum();
    let e_in = 4.0 * k * relative::<T>(1) * mag * (d as f64).sqrt();
    let s = Norm {
        kind: NormKind::LayerNorm,
        eps,
        gamma: None,
        beta: None,
    }
    .scale(&x);
    if s == 0.0 || 2.0 * e_in >= s {
        return Outcome::Skip; // constant residual: LN is 0 on both sides by policy
    }
    let bound = e_in / s / (1.0 - 2.0 * e_in / s)
        + 2.0 * (d as f64).sqrt() * relative::<T>(NORM_LAYER_ULPS)
        + 2.0 * ulp(T::zero());
    compare_arith(
        domain_of::<T>(),
        "LN(Σ center(cᵢ))",
        &layer_norm(&xc, eps, None, None),
        "LN(Σ cᵢ)",
        &layer_norm(&x, eps, None, None),
        bound,
    )
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

fn key_bias_float<T: crate::Real>(c: &Case) -> Outcome {
    let (qv, b): (Vec<T>, Vec<T>) = (ft(c.v("q")), ft(c.v("b")));
    let keys: Vec<Vec<T>> = c.tokens().iter().map(|t| ft(t)).collect();
    // Small integers: every score and sum is exact in both types; only the softmax rounds.
    let s: Vec<T> = keys.iter().map(|k| dot(&qv, k)).collect();
    let s2: Vec<T> = keys
        .iter()
        .map(|k| {
            let kb: Vec<T> = k.iter().zip(&b).map(|(&a, &b)| a + b).collect();
            dot(&qv, &kb)
        })
        .collect();
    compare_arith(
        domain_of::<T>(),
        "softmax(q·(kⱼ + b))",
        &softmax(&s2),
        "softmax(q·kⱼ)",
        &softmax(&s),
        prob_bound::<T>(0.0),
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
    let own = norm_exact(&rq_, &eps, true);
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
                "any x, W_U, b (a bias is a coordinate of x fixed at 1)",
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
                        || with_tokens(&["x"], 1..=6, 1, 1..=5, -6..=6, vec![]),
                        center_unembed_float::<f32>,
                    ),
                    Judgement::new(
                        Domain::F64,
                        Holds,
                        ForAll,
                        || with_tokens(&["x"], 1..=6, 1, 1..=5, -6..=6, vec![]),
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
                "any γ, β, W, b (RMSNorm: β = 0)",
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
                        fold_float::<f32>,
                    ),
                    Judgement::new(
                        Domain::F64,
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
                    "every reader is a LayerNorm; any ε ≥ 0",
                    None,
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
                            Holds,
                            ForAll,
                            || {
                                with_tokens(&[], 1..=4, 1, 2..=6, -8..=8, vec![("ε", eps_param())])
                                    .prop_map(|c| c.named("c"))
                                    .boxed()
                            },
                            writing_float::<f32>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Holds,
                            ForAll,
                            || {
                                with_tokens(&[], 1..=4, 1, 2..=6, -8..=8, vec![("ε", eps_param())])
                                    .prop_map(|c| c.named("c"))
                                    .boxed()
                            },
                            writing_float::<f64>,
                        ),
                    ],
                ),
                Reading::new(
                    "b",
                    "The same when the readers are RMSNorms: RMSNorm(Σᵢ center(cᵢ)) = RMSNorm(Σᵢ cᵢ).",
                    "every reader is an RMSNorm",
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
                "claims_transformer::centered_writes_leave_layernorm_unchanged_f32",
                "claims_transformer::centered_writes_leave_layernorm_unchanged_f64",
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
                    "any q, kⱼ, b; any mask (the shift q·b is the same for every visible key)",
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
                            || {
                                with_tokens(&["q", "b"], 1..=6, 1, 1..=5, -6..=6, vec![])
                                    .prop_map(|c| c.named("k"))
                                    .boxed()
                            },
                            key_bias_float::<f32>,
                        ),
                        Judgement::new(
                            Domain::F64,
                            Holds,
                            ForAll,
                            || {
                                with_tokens(&["q", "b"], 1..=6, 1, 1..=5, -6..=6, vec![])
                                    .prop_map(|c| c.named("k"))
                                    .boxed()
                            },
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
                "claims_transformer::key_bias_keeps_the_pattern_f32",
                "claims_transformer::key_bias_keeps_the_pattern_f64",
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
