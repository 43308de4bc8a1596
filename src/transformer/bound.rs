//! The error-bound algebra of [`Model::run`](super::Model::run): for each operation of the
//! reference forward pass, a bound (2-norm, per row) on the error of its output from the bound
//! on its input, its own rounding, and a relative error `rho` of the weights. These are
//! first-order worst cases (products of Jacobian norms); the proven bound of
//! [`Model::run_with_bound`](super::Model::run_with_bound) is the interval shadow of
//! [`super::shadow`].

use super::layers::{HeadValues, Linear, MlpValues, head_values, inf_norm, mlp_values, norm2, row};
use super::model::{Activation, Head, Mlp, Norm, Rope};
use crate::kernels::scalar::Real;
use crate::kernels::tolerance::{
    NORM_LAYER_ULPS, SOFTMAX_ULPS, compensated_dot_bound, gamma, unit_roundoff,
};
use nalgebra::{DMatrix, Scalar};

/// `‖W‖₂ ≤ √(‖W‖₁·‖W‖∞)` (Hölder): a cheap, rigorous bound on the spectral norm.
pub(super) fn op_norm<T: Real>(w: &DMatrix<T>) -> f64 {
    let col = (0..w.ncols())
        .map(|j| w.column(j).iter().map(|v| v.widen().abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    let row = (0..w.nrows())
        .map(|i| w.row(i).iter().map(|v| v.widen().abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    (col * row).sqrt()
}

/// Bound (2-norm) of the error of one linear map `y = x·W + b` computed with the compensated dot
/// product, for an input known to within `e_in` (2-norm), weights known to a relative `rho`,
/// and `w_norm ≥ ‖W‖₂`.
pub(super) fn linear_bound<T: Real>(
    x: &[T],
    e_in: f64,
    w: &DMatrix<T>,
    w_norm: f64,
    b: Option<&[T]>,
    rho: f64,
    kind: Linear,
) -> f64 {
    let k = w.nrows();
    let mut own = 0.0f64;
    for j in 0..w.ncols() {
        let col = w.column(j);
        let mut abs_sum = 0.0;
        let mut s = 0.0;
        for i in 0..k {
            let p = x[i].widen() * col[i].widen();
            abs_sum += p.abs();
            s += p;
        }
        let bj = b.map_or(0.0, |b| b[j].widen());
        abs_sum += bj.abs();
        s += bj;
        let c = kind.dot_bound::<T>(k + 1, s, abs_sum) + rho * abs_sum;
        own += c * c;
    }
    e_in * w_norm * (1.0 + rho) + own.sqrt()
}

impl<T: Scalar + Copy> Norm<T> {
    /// Bound (2-norm) of the output error for an input known to `e` (2-norm), weights known
    /// to a relative `rho`.
    pub(super) fn bound(&self, x: &[T], y: &[T], e: f64, rho: f64) -> f64
    where
        T: Real,
    {
        let s = self.scale(x);
        let g = self.gamma.as_deref().map_or(1.0, inf_norm);
        let propagated = if e == 0.0 {
            0.0
        } else if 2.0 * e >= s {
            f64::INFINITY
        } else {
            // The Jacobian of x ↦ n = (x − μ)/s is (I − 11ᵀ/d − nnᵀ/d)/s (for RMSNorm
            // (I − nnᵀ/d)/s): a projection over s since n ⟂ 1 and |n|² ≤ d, so its 2-norm is
            // ≤ 1/s. The factor 1/(1 − 2e/s) covers the second-order terms while e < s/2.
            e / s / (1.0 - 2.0 * e / s)
        };
        // The kernel's own error: ≤ NORM_LAYER_ULPS ulp of n (≤ 2u·|n| each), times γ, plus the
        // rounding of γ·n + β, plus rho on γ and β — componentwise ≤ c·(|γ||n| + |β|), and
        // |γ||n| + |β| ≥ |y| is bounded from the output and the parameters.
        let u = unit_roundoff::<T>();
        let c = 2.0 * u * NORM_LAYER_ULPS as f64 + u + rho;
        let mag: f64 = (0..x.len())
            .map(|i| {
                // |γᵢnᵢ| + |βᵢ| ≤ |yᵢ| + 2|βᵢ|.
                let bi = self.beta.as_ref().map_or(0.0, |bv| bv[i].widen().abs());
                let m = y[i].widen().abs() + 2.0 * bi;
                m * m
            })
            .sum::<f64>()
            .sqrt();
        g * propagated + c * mag
    }
}

impl Activation {
    /// A global Lipschitz constant: `|act(x) − act(y)| ≤ L·|x − y|` for all x, y.
    ///
    /// The slopes peak at `Φ(√2) + √2·φ(√2) = 1.12890…` (GELU, at x = √2), 1.12899… (tanh GELU,
    /// near x = 1.418) and 1.09984… (SiLU, near x = 2.40), and stay above −0.13 (the minima at
    /// negative x): the bounds below are checked on a fine grid in the tests.
    pub fn lipschitz(self) -> f64 {
        match self {
            Activation::Relu => 1.0,
            Activation::Gelu | Activation::GeluTanh => 1.13,
            Activation::Silu => 1.1,
        }
    }

    /// Bound on `|computed − act(x)|` relative to `|x|`, in units of the unit roundoff `u` of
    /// the output type (every f64 rounding is counted as `u` too: `u_f64 ≤ u`).
    ///
    /// * GELU: erf within 1 ulp, the f64 products and sum, the final rounding: 4u.
    /// * tanh GELU: the cubic's argument (3 roundings, damped by `sech² ≤ 1` and the factor
    ///   `|x|/2`), tanh within 1 ulp, `1 + t` (absolute u·2), the product `½x·(…)`, the final
    ///   rounding — each ≤ u·|x| or less, six in all: 6u.
    /// * SiLU: `e⁻ˣ` within 1 ulp (2u relative), `1 + e⁻ˣ` (u), the division (u), the final
    ///   rounding (u), all relative to `|silu(x)| ≤ |x|`: 5u.
    pub fn rounding_ulps(self) -> f64 {
        match self {
            Activation::Relu => 0.0,
            Activation::Gelu => 4.0,
            Activation::GeluTanh => 6.0,
            Activation::Silu => 5.0,
        }
    }
}

pub(super) fn rows_bound<T: Real>(
    h: &DMatrix<T>,
    e: &[f64],
    w: &DMatrix<T>,
    b: &[T],
    rho: f64,
    kind: Linear,
) -> Vec<f64> {
    let w_norm = op_norm(w);
    (0..h.nrows())
        .map(|i| linear_bound(&row(h, i), e[i], w, w_norm, Some(b), rho, kind))
        .collect()
}

/// Bound on the error of one computed score `fl(fl(q·k)·fl(1/√d_h))` against the exact score
/// `q'·k'/√d_h` of exact vectors within `eq` and `ek` (2-norm) of the computed `q` and `k`:
/// the inputs' errors, `‖q' − q‖‖k‖ + ‖k' − k‖‖q‖ + ‖q' − q‖‖k' − k‖` (attained when q ∥ k and
/// both errors point along them), the compensated dot product's rounding, and the scaling's two.
pub(super) fn score_bound<T: Real>(q: &[f64], k: &[f64], eq: f64, ek: f64) -> f64 {
    let scale = 1.0 / (q.len() as f64).sqrt();
    let s: f64 = q.iter().zip(k).map(|(a, b)| a * b).sum();
    let abs: f64 = q.iter().zip(k).map(|(a, b)| (a * b).abs()).sum();
    scale * (eq * norm2(k) + ek * norm2(q) + eq * ek)
        + scale * compensated_dot_bound::<T>(q.len(), s, abs)
        + 2.0 * unit_roundoff::<T>() * scale * s.abs()
}

/// Bound (2-norm) on the error of one attention output `z = Σⱼ pⱼvⱼ` (`p` the softmax of the
/// scores) when every score is off by at most `delta` and value `j` by at most `ev[j]`.
///
/// * Scores: `p'ⱼ = pⱼe^{δⱼ}/E` with `E = Σₖpₖe^{δₖ}`, and `z' − z = Σⱼ(p'ⱼ − pⱼ − c·pⱼ)(vⱼ − z)`
///   for any `c` (because `Σⱼpⱼ(vⱼ − z) = 0`). The ratios `p'ⱼ/pⱼ` lie in
///   `[e^{−Δ}/E, e^{Δ}/E]`; centring `c` on that interval leaves a half-width
///   `sinh(Δ)/E ≤ (e^{2Δ} − 1)/2`, so `‖z' − z‖ ≤ ½(e^{2Δ} − 1)·Σⱼpⱼ‖vⱼ − z‖` — attained to
///   first order by two groups of keys with equal values, one pushed up by Δ, one down.
/// * Values: the exact perturbed weights sum to 1, so errors of at most `ev[j]` move `z` by at
///   most `maxⱼ ev[j]` (attained when every value moves by the same vector).
/// * Own rounding: the softmax (≤ `SOFTMAX_ULPS` ulp of each weight) and the compensated sum of
///   `len(p)` terms, on `Σⱼpⱼ‖vⱼ‖`.
pub(super) fn mix_bound<T: Real>(
    p: &[f64],
    v: &[Vec<f64>],
    z: &[f64],
    ev: &[f64],
    delta: f64,
) -> f64 {
    let dist = |a: &[f64]| {
        a.iter()
            .zip(z)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };
    let weighted: f64 = p.iter().zip(v).map(|(pj, vj)| pj * dist(vj)).sum();
    let abs: f64 = p.iter().zip(v).map(|(pj, vj)| pj * norm2(vj)).sum();
    let ev_max = ev.iter().fold(0.0f64, |m, &e| m.max(e));
    let own = 2.0 * unit_roundoff::<T>() * SOFTMAX_ULPS as f64 + gamma::<T>(p.len());
    (2.0 * delta).exp_m1() / 2.0 * weighted + ev_max + own * abs
}

/// The error bound of each row after [`apply_rope`](super::apply_rope), from the bound `e`
/// before it (row `p` is position `p`). A rotation is orthogonal, so it keeps the 2-norm of the
/// error. Its own error, with `u` the unit roundoff of f64:
///
/// * the angle `θ = p·base^(−2i/w)`: the exponent's rounding moves the power by a relative
///   `ln(base)·u`, the power (≤ 1 ulp) and the product by `3u` more, so `|Δθ| ≤ (ln base + 4)·u·p`
///   (θ ≤ p); rotating by a wrong angle moves a pair by at most `|Δθ|·‖pair‖`;
/// * sin and cos within 1 ulp (2u each: ≤ 4u·‖pair‖), the two products and the sum of each
///   output (≤ 4u·‖pair‖ together);
/// * the final rounding to `T`: `u_T·‖row‖`.
pub(super) fn rope_bound<T: Real>(x: &DMatrix<T>, e: &[f64], rope: Rope) -> Vec<f64> {
    let u = unit_roundoff::<f64>();
    let u_t = unit_roundoff::<T>();
    let log_base = rope.base.ln().abs();
    e.iter()
        .enumerate()
        .map(|(p, ei)| {
            let own = u_t + u * ((log_base + 4.0) * p as f64 + 8.0);
            ei + own * norm2(&row(x, p))
        })
        .collect()
}

/// One head's output `softmax(…)·V·W_O` (without b_O), its pattern, and the bound per row.
pub(super) fn head_forward<T: Real>(
    head: &Head<T>,
    rope: Option<Rope>,
    h: &DMatrix<T>,
    eh: &[f64],
    rho: f64,
    kind: Linear,
) -> (DMatrix<T>, DMatrix<T>, Vec<f64>) {
    let n = h.nrows();
    let HeadValues {
        q_raw,
        k_raw,
        q,
        k,
        v,
        z,
        pattern,
        out,
    } = head_values(head, rope, h, kind);
    let mut eq = rows_bound(h, eh, &head.w_q, &head.b_q, rho, kind);
    let mut ek = rows_bound(h, eh, &head.w_k, &head.b_k, rho, kind);
    let ev = rows_bound(h, eh, &head.w_v, &head.b_v, rho, kind);
    if let Some(r) = rope {
        eq = rope_bound(&q_raw, &eq, r);
        ek = rope_bound(&k_raw, &ek, r);
    }
    let wide = |m: &DMatrix<T>, i: usize| crate::kernels::scalar::widen_all(&row(m, i));
    let ez: Vec<f64> = (0..n)
        .map(|i| {
            // The causal mask: query i sees keys 0..=i.
            let qi = wide(&q, i);
            let delta = (0..=i)
                .map(|j| score_bound::<T>(&qi, &wide(&k, j), eq[i], ek[j]))
                .fold(0.0f64, f64::max);
            let p: Vec<f64> = (0..=i).map(|j| pattern[(i, j)].widen()).collect();
            let vs: Vec<Vec<f64>> = (0..=i).map(|j| wide(&v, j)).collect();
            mix_bound::<T>(&p, &vs, &wide(&z, i), &ev[..=i], delta)
        })
        .collect();
    let zero_b = vec![T::zero(); head.w_o.ncols()];
    let eo = rows_bound(&z, &ez, &head.w_o, &zero_b, rho, kind);
    (out, pattern, eo)
}

pub(super) fn mlp_forward<T: Real>(
    mlp: &Mlp<T>,
    h: &DMatrix<T>,
    eh: &[f64],
    rho: f64,
    kind: Linear,
) -> (DMatrix<T>, Vec<f64>) {
    let u = unit_roundoff::<T>();
    let dm = mlp.w_in.ncols();
    let d = mlp.w_out.ncols();
    let zeros = vec![T::zero(); dm];
    let b_in = mlp.b_in.as_deref().unwrap_or(&zeros);
    let b_out = mlp.b_out.clone().unwrap_or_else(|| vec![T::zero(); d]);
    let MlpValues {
        pre,
        gate,
        post,
        out,
    } = mlp_values(mlp, h, kind);
    let e_pre = rows_bound(h, eh, &mlp.w_in, b_in, rho, kind);
    // act is L-Lipschitz (propagates L·e) and computed with ≤ c·u·|x| absolute error per entry.
    let act_err = |m: &DMatrix<T>, e: &[f64]| -> Vec<f64> {
        let own = mlp.act.rounding_ulps() * u;
        (0..m.nrows())
            .map(|i| mlp.act.lipschitz() * e[i] + own * norm2(&row(m, i)))
            .collect()
    };
    let e_post = match (&mlp.w_gate, &gate) {
        (Some(w_gate), Some((g, a))) => {
            let b_gate = mlp.b_gate.as_deref().unwrap_or(&zeros);
            let e_g = rows_bound(h, eh, w_gate, b_gate, rho, kind);
            let e_a = act_err(g, &e_g);
            // a ⊙ b computed in f64 and rounded once. With â, b̂ the computed factors,
            // a⊙b − â⊙b̂ = (a − â)⊙b̂ + a⊙(b − b̂), so the 2-norm of the error is at most
            // e_a·‖b̂‖∞ + (‖â‖∞ + e_a)·e_b, plus the rounding u·‖â⊙b̂‖.
            (0..h.nrows())
                .map(|i| {
                    let (ai, bi) = (row(a, i), row(&pre, i));
                    e_a[i] * inf_norm(&bi)
                        + (inf_norm(&ai) + e_a[i]) * e_pre[i]
                        + u * norm2(&row(&post, i))
                })
                .collect()
        }
        _ => act_err(&pre, &e_pre),
    };
    let eo = rows_bound(&post, &e_post, &mlp.w_out, &b_out, rho, kind);
    (out, eo)
}

/// The relative accuracy of every weight a transform of [`process`](super::process) produces from exact
/// weights: each is within 1 ulp plus `u²` terms of the exact transformed value — taken as
/// `2u` — which is the `rho` to pass to [`Model::run`](super::Model::run) for the processed model.
pub fn transform_rho<T: Real>() -> f64 {
    2.0 * unit_roundoff::<T>()
}
