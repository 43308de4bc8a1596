//! Weight processing: the rewrites interpretability tools apply to a trained model, trusting
//! them to preserve its outputs — and direct logit attribution and the logit lens, which rely
//! on them.
//!
//! | transform | preserves | proof |
//! |---|---|---|
//! | [`fold_layernorm`] | every output, exactly (LayerNorm and RMSNorm; gated MLPs: into `W_in` and `W_gate`) | `proofs/fold-layernorm.md` |
//! | [`center_unembed`] | probabilities exactly; logits up to a per-position constant | `proofs/center-unembed.md` |
//! | [`center_writing_weights`] | every output, when every reader is a LayerNorm — **not** with RMSNorm (refused) | `proofs/center-writing-weights.md` |
//! | [`fold_value_biases`] | every output, when every query attends to some key (always under the causal mask) | `proofs/fold-value-biases.md` |
//!
//! The transforms are generic over [`Field`]: on `BigRational` they are exact; on `f32`/`f64`
//! every produced weight is within about 2u of the exact transformed value
//! ([`super::transform_rho`]), computed with the compensated kernels.

use super::bound::{linear_bound, op_norm};
use super::layers::{Linear, from_rows, linear, norm2};
use super::{Mlp, Model, NormKind, Run};
use crate::kernels::scalar::Field;
use crate::kernels::scalar::Real;
use crate::kernels::tolerance::{gamma, unit_roundoff};
use nalgebra::DMatrix;
use std::fmt;

/// Why a transform refused a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessError {
    /// Centering the writing weights is only output-preserving when every reader of the
    /// residual stream is a LayerNorm; this norm is an RMSNorm.
    RmsNormReader(String),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ProcessError::RmsNormReader(at) => write!(
                f,
                "center_writing_weights: {at} is an RMSNorm, which does not remove the mean; \
                 centering would change the model's outputs (proofs/center-writing-weights.md)"
            ),
        }
    }
}

impl std::error::Error for ProcessError {}

fn column<T: Field>(w: &DMatrix<T>, j: usize) -> Vec<T> {
    w.column(j).iter().cloned().collect()
}

/// Fold a norm's γ and β into the linear map `y = n·W + b` that reads it:
/// `(γ ⊙ n + β)·W + b = n·(diag(γ)·W) + (β·W + b)`.
///
/// Returns `(diag(γ)·W, β·W + b)`.
///
/// # Panics
/// If γ, β or `b` do not match `W`'s shape (both shapes named).
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::transformer::process::fold_into_linear;
/// let w = DMatrix::from_row_slice(2, 1, &[1.0f64, 1.0]);
/// let (w2, b2) = fold_into_linear(Some(&[2.0, 3.0][..]), Some(&[1.0, -1.0][..]), &w, None);
/// assert_eq!(w2.as_slice(), &[2.0, 3.0]);
/// assert_eq!(b2, vec![0.0]);
/// ```
pub fn fold_into_linear<T: Field>(
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
    w: &DMatrix<T>,
    b: Option<&[T]>,
) -> (DMatrix<T>, Vec<T>) {
    let (k, m) = (w.nrows(), w.ncols());
    for (what, v) in [("gamma", gamma), ("beta", beta)] {
        if let Some(v) = v {
            assert!(
                v.len() == k,
                "fold_into_linear: {what} has length {} but the weight is {k}×{m}",
                v.len()
            );
        }
    }
    if let Some(b) = b {
        assert!(
            b.len() == m,
            "fold_into_linear: bias has length {} but the weight is {k}×{m}",
            b.len()
        );
    }
    let w2 = DMatrix::from_fn(k, m, |i, j| match gamma {
        Some(g) => g[i].clone() * w[(i, j)].clone(),
        None => w[(i, j)].clone(),
    });
    let b2 = (0..m)
        .map(|j| {
            let bj = b.map_or(T::zero(), |b| b[j].clone());
            match beta {
                Some(be) => T::dot_plus(be, &column(w, j), bj),
                None => bj,
            }
        })
        .collect();
    (w2, b2)
}

/// Fold every norm's γ and β into the linear maps that read it: `ln1` into each head's
/// `W_Q`, `W_K`, `W_V` (and their biases), `ln2` into `W_in`/`b_in` (and, in a gated MLP,
/// `W_gate`/`b_gate`), `ln_final` into `W_U`/`b_U`. The norms are left with no γ and no β.
/// Preserves every output (`proofs/fold-layernorm.md`); valid for LayerNorm and RMSNorm alike
/// (RMSNorm has only γ), with or without a rotary embedding (it rotates the folded `q`, `k`),
/// and under grouped-query attention (the copies of a shared `W_K`, `W_V` are folded alike, so
/// they stay copies).
///
/// # Examples
/// ```
/// use transformer_laws::{strategies::tiny_model, transformer::process::fold_layernorm};
/// let model = tiny_model::<f64>();
/// let folded = fold_layernorm(&model);
/// assert!(folded.ln_final.gamma.is_none() && folded.ln_final.beta.is_none());
/// let (a, b) = (model.forward(&[0, 1, 2]), folded.forward(&[0, 1, 2]));
/// assert!((a - b).amax() < 1e-12);
/// ```
pub fn fold_layernorm<T: Field>(model: &Model<T>) -> Model<T> {
    let mut m = model.clone();
    for block in &mut m.blocks {
        let (g, b) = (block.ln1.gamma.take(), block.ln1.beta.take());
        for head in &mut block.attn.heads {
            for (w, bias) in head.readers_mut() {
                let (w2, b2) = fold_into_linear(g.as_deref(), b.as_deref(), w, Some(bias));
                *w = w2;
                *bias = b2;
            }
        }
        let (g, b) = (block.ln2.gamma.take(), block.ln2.beta.take());
        let Mlp {
            w_in,
            b_in,
            w_gate,
            b_gate,
            ..
        } = &mut block.mlp;
        if g.is_some() || b.is_some() {
            // A gated MLP reads the norm twice: through W_in (up) and through W_gate.
            let gate = w_gate.as_mut().map(|w| (w, b_gate));
            for (w, bias) in std::iter::once((w_in, b_in)).chain(gate) {
                let (w2, b2) = fold_into_linear(g.as_deref(), b.as_deref(), w, bias.as_deref());
                *w = w2;
                if b.is_some() || bias.is_some() {
                    *bias = Some(b2);
                }
            }
        }
    }
    let (g, b) = (m.ln_final.gamma.take(), m.ln_final.beta.take());
    if g.is_some() || b.is_some() {
        let (w2, b2) = fold_into_linear(g.as_deref(), b.as_deref(), &m.w_u, m.b_u.as_deref());
        m.w_u = w2;
        if b.is_some() || m.b_u.is_some() {
            m.b_u = Some(b2);
        }
    }
    m
}

fn center_rows<T: Field>(w: &DMatrix<T>) -> DMatrix<T> {
    let mut out = w.clone();
    for i in 0..w.nrows() {
        let r: Vec<T> = w.row(i).iter().cloned().collect();
        for (j, v) in T::centered(&r).into_iter().enumerate() {
            out[(i, j)] = v;
        }
    }
    out
}

/// Subtract the mean token vector from every token of the unembedding (`W_U ← W_U − m·1ᵀ`,
/// `m = W_U·1/V`) and the mean from the bias. Every logit of a position moves by the same
/// amount `x·m + mean(b_U)`, so the probabilities are unchanged
/// (`proofs/center-unembed.md`).
///
/// # Examples
/// ```
/// use transformer_laws::{strategies::tiny_model, transformer::process::center_unembed};
/// let model = tiny_model::<f64>();
/// let centered = center_unembed(&model);
/// let sums = centered.w_u.column_sum();
/// assert!(sums.amax() < 1e-12);
/// ```
pub fn center_unembed<T: Field>(model: &Model<T>) -> Model<T> {
    let mut m = model.clone();
    m.w_u = center_rows(&model.w_u);
    m.b_u = model.b_u.as_ref().map(|b| T::centered(b));
    m
}

/// Remove the mean (over the `d` coordinates of the residual stream) of every vector written to
/// the stream: the rows of `W_E` and `W_pos`, of each head's `W_O`, of `W_out`, and the biases
/// `b_O`, `b_out`. Preserves every output when every reader of the stream is a LayerNorm,
/// because LayerNorm removes that mean anyway (`proofs/center-writing-weights.md`).
///
/// # Errors
/// [`ProcessError::RmsNormReader`] when some norm is an RMSNorm: RMSNorm does not remove the
/// mean, and centering would change the outputs.
///
/// # Examples
/// ```
/// use transformer_laws::strategies::tiny_model;
/// use transformer_laws::transformer::{process::center_writing_weights, NormKind};
/// let model = tiny_model::<f64>();
/// let centered = center_writing_weights(&model).unwrap();
/// assert!((model.forward(&[2, 0]) - centered.forward(&[2, 0])).amax() < 1e-12);
/// let mut rms = model.clone();
/// rms.ln_final.kind = NormKind::RmsNorm;
/// rms.ln_final.beta = None;
/// assert!(center_writing_weights(&rms).is_err());
/// ```
pub fn center_writing_weights<T: Field>(model: &Model<T>) -> Result<Model<T>, ProcessError> {
    if let Some((at, _)) = model
        .norms()
        .into_iter()
        .find(|(_, n)| n.kind == NormKind::RmsNorm)
    {
        return Err(ProcessError::RmsNormReader(at));
    }
    Ok(center_writing_weights_unchecked(model))
}

/// [`center_writing_weights`] without the check on the readers: for demonstrating what goes
/// wrong with RMSNorm readers (`proofs/center-writing-weights.md`, reading (b)).
pub fn center_writing_weights_unchecked<T: Field>(model: &Model<T>) -> Model<T> {
    let mut m = model.clone();
    m.w_e = center_rows(&model.w_e);
    m.w_pos = model.w_pos.as_ref().map(center_rows);
    for block in &mut m.blocks {
        for head in &mut block.attn.heads {
            head.w_o = center_rows(&head.w_o);
        }
        block.attn.b_o = T::centered(&block.attn.b_o);
        block.mlp.w_out = center_rows(&block.mlp.w_out);
        block.mlp.b_out = block.mlp.b_out.as_ref().map(|b| T::centered(b));
    }
    m
}

/// Move every head's value bias into the output bias: `b_O ← b_O + Σₕ b_V,ₕ·W_O,ₕ`,
/// `b_V,ₕ ← 0`. Under grouped-query attention the sum runs over the query heads — each reads
/// its group's value bias through its own `W_O,ₕ` — and the shared bias is zeroed in every copy. Preserves every output because each attention row sums to 1
/// (`proofs/fold-value-biases.md`) — which holds for every query under the causal mask, and
/// fails for a query that attends to nothing (a fully masked row, see the
/// [module docs](super)).
///
/// # Examples
/// ```
/// use transformer_laws::{strategies::tiny_model, transformer::process::fold_value_biases};
/// let model = tiny_model::<f64>();
/// let folded = fold_value_biases(&model);
/// assert!(folded.blocks[0].attn.heads.iter().all(|h| h.b_v.iter().all(|&b| b == 0.0)));
/// assert!((model.forward(&[1, 2]) - folded.forward(&[1, 2])).amax() < 1e-12);
/// ```
pub fn fold_value_biases<T: Field>(model: &Model<T>) -> Model<T> {
    let mut m = model.clone();
    for block in &mut m.blocks {
        let d = block.attn.b_o.len();
        let bv: Vec<T> = block
            .attn
            .heads
            .iter()
            .flat_map(|h| h.b_v.iter().cloned())
            .collect();
        block.attn.b_o = (0..d)
            .map(|j| {
                let wo: Vec<T> = block
                    .attn
                    .heads
                    .iter()
                    .flat_map(|h| h.w_o.column(j).iter().cloned().collect::<Vec<T>>())
                    .collect();
                T::dot_plus(&bv, &wo, block.attn.b_o[j].clone())
            })
            .collect();
        for head in &mut block.attn.heads {
            head.b_v = vec![T::zero(); head.b_v.len()];
        }
    }
    m
}

/// Each component's direct contribution to the logits, with the final norm's scale frozen.
#[derive(Clone, Debug)]
pub struct Attribution<T: nalgebra::Scalar> {
    /// `(name, n × V)`: the component's vector through the final norm's linear part (centering
    /// for LayerNorm, γ, division by the frozen scale) and `W_U`, without biases.
    pub components: Vec<(String, DMatrix<T>)>,
    /// `β·W_U + b_U` at every position (`n × V`).
    pub bias: DMatrix<T>,
    /// For each position, a bound on the rounding error of `Σ components + bias` against the
    /// exact attribution of the cached components.
    pub error: Vec<f64>,
}

impl<T: Real> Attribution<T> {
    /// `Σ components + bias`, summed in f64 and rounded once.
    pub fn total(&self) -> DMatrix<T> {
        let (n, v) = (self.bias.nrows(), self.bias.ncols());
        DMatrix::from_fn(n, v, |i, j| {
            let s: f64 = self
                .components
                .iter()
                .map(|(_, c)| c[(i, j)].widen())
                .sum::<f64>()
                + self.bias[(i, j)].widen();
            T::narrow(s)
        })
    }
}

/// Direct logit attribution: split the logits into one term per component written to the
/// residual stream ([`Run::components`]) plus a bias term, **with the final norm's scale frozen**
/// at its value on the full residual stream ([`Run::final_scale`]).
///
/// With the scale frozen the final norm is an affine map, so the terms add up to the logits
/// (`proofs/direct-logit-attribution.md`, reading (a)); normalising each component by its own
/// scale does not (reading (b)).
///
/// # Examples
/// ```
/// use transformer_laws::{strategies::tiny_model, transformer::process::direct_logit_attribution};
/// let model = tiny_model::<f64>();
/// let run = model.run(&[0, 2, 1], 0.0);
/// let dla = direct_logit_attribution(&model, &run);
/// assert!((dla.total() - &run.logits).amax() < 1e-12);
/// ```
pub fn direct_logit_attribution<T: Real>(model: &Model<T>, run: &Run<T>) -> Attribution<T> {
    let n = run.logits.nrows();
    let v = model.vocab();
    let d = model.d_model();
    let u = unit_roundoff::<T>();
    let ln = &model.ln_final;
    let gamma_v = ln.gamma.clone().unwrap_or_else(|| vec![T::one(); d]);
    let beta_v = ln.beta.clone().unwrap_or_else(|| vec![T::zero(); d]);
    let b_u = model.b_u.clone().unwrap_or_else(|| vec![T::zero(); v]);
    let w_norm = op_norm(&model.w_u);
    let bias_row = linear(&beta_v, &model.w_u, Some(&b_u));
    let bias = DMatrix::from_fn(n, v, |_, j| bias_row[j]);
    let mut error = vec![
        linear_bound(
            &beta_v,
            0.0,
            &model.w_u,
            w_norm,
            Some(&b_u),
            0.0,
            Linear::Compensated
        ) + gamma::<T>(run.components.len() + 1) * norm2(&bias_row);
        n
    ];
    let mut components = Vec::new();
    for (name, c) in &run.components {
        let mut rows = Vec::new();
        for (i, err) in error.iter_mut().enumerate() {
            let ci: Vec<T> = c.row(i).iter().copied().collect();
            let centered = match ln.kind {
                NormKind::LayerNorm => T::centered(&ci),
                NormKind::RmsNorm => ci,
            };
            let s = run.final_scale[i];
            let y: Vec<T> = centered
                .iter()
                .zip(&gamma_v)
                .map(|(&a, &g)| T::narrow(a.widen() * g.widen() / s))
                .collect();
            let out = linear(&y, &model.w_u, None);
            // y: centering (≤ 2u), ×γ/s in f64 and one rounding (u): 3u·|y| per entry, then the
            // map; the K + 1 terms are summed in f64 by `total`.
            let ey = 3.0 * u * norm2(&y);
            *err += linear_bound(&y, ey, &model.w_u, w_norm, None, 0.0, Linear::Compensated)
                + gamma::<T>(run.components.len() + 1) * norm2(&out);
            rows.push(out);
        }
        components.push((name.clone(), from_rows(&rows, v)));
    }
    Attribution {
        components,
        bias,
        error,
    }
}

/// The logit lens, done right: apply the **whole** final norm (its own scale) to a residual
/// stream (`n × d`, e.g. [`Run::resid`]`[ℓ]`), then the unembedding.
///
/// Reusing the scale cached from the full residual stream instead is a different map: it
/// shrinks early, small residuals towards the bias and makes their distributions look uniform
/// (`proofs/logit-lens-scale.md`).
pub fn logit_lens<T: Real>(model: &Model<T>, resid: &DMatrix<T>) -> DMatrix<T> {
    let v = model.vocab();
    let b_u = model.b_u.clone().unwrap_or_else(|| vec![T::zero(); v]);
    let rows: Vec<Vec<T>> = (0..resid.nrows())
        .map(|i| {
            let r: Vec<T> = resid.row(i).iter().copied().collect();
            linear(&model.ln_final.apply(&r), &model.w_u, Some(&b_u))
        })
        .collect();
    from_rows(&rows, v)
}
