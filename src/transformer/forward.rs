//! The forward pass: [`Model::forward`] (the logits alone, compensated: the reference),
//! [`Model::forward_fast`] (the same with the linear maps by matrix products) and
//! [`Model::run`] (every residual, component and pattern cached, with the first-order bound of
//! [`super::bound`]); the `_with` forms take the [`Linear`] kernel.

use super::bound::{head_forward, mlp_forward, rows_bound};
use super::layers::{Linear, from_rows, head_values, mlp_values, norm_matrix, norm2, project, row};
use super::model::{Model, Norm};
use crate::kernels::scalar::Real;
use crate::kernels::tolerance::{gamma, unit_roundoff};
use nalgebra::{DMatrix, Scalar};
use rayon::prelude::*;

/// Everything one forward pass computed.
#[derive(Clone, Debug)]
pub struct Run<T: Scalar> {
    /// The residual stream before each block, and after the last (`blocks + 1` matrices,
    /// `n × d`).
    pub resid: Vec<DMatrix<T>>,
    /// Every vector written to the residual stream, named (`embed`, `pos`,
    /// `blocks[ℓ].attn.heads[h]`, `blocks[ℓ].attn.b_o`, `blocks[ℓ].mlp`), each `n × d`; they sum
    /// to the final residual stream.
    pub components: Vec<(String, DMatrix<T>)>,
    /// Attention patterns: `patterns[ℓ][h]` is `n × n`.
    pub patterns: Vec<Vec<DMatrix<T>>>,
    /// The final norm's scale at each position: `√(σ² + ε)` (LayerNorm) or `√(mean(x²) + ε)`
    /// (RMSNorm) of the final residual stream.
    pub final_scale: Vec<f64>,
    /// Logits, `n × V`.
    pub logits: DMatrix<T>,
    /// For each position, a bound on the 2-norm (hence on every entry) of
    /// `computed logits − exact logits`, first order in the unit roundoff, for weights exact up to a relative error `rho` (see [`Model::run`]).
    pub logit_error: Vec<f64>,
}

impl<T: Real> Model<T> {
    /// The logits (`n × V`) of a sequence of input tokens, under the causal mask.
    ///
    /// # Panics
    /// On an invalid model ([`Model::validate`]'s message), a token outside `0..vocab_in`, or a
    /// sequence longer than `w_pos`.
    ///
    /// # Examples
    /// ```
    /// use transformer_laws::strategies::tiny_model;
    /// let model = tiny_model::<f64>();
    /// let logits = model.forward(&[0, 1]);
    /// assert_eq!((logits.nrows(), logits.ncols()), (2, model.vocab()));
    /// ```
    pub fn forward(&self, tokens: &[usize]) -> DMatrix<T> {
        self.forward_with(tokens, Linear::Compensated)
    }

    /// [`Model::forward`] with the linear maps by matrix products ([`Linear::Gemm`]): for f32
    /// weights the same a-priori error bound as the reference, at a small fraction of its
    /// time on a large model; for f64, `γₙ` in place of the compensated bound.
    ///
    /// # Panics
    /// As [`Model::forward`].
    ///
    /// # Examples
    /// ```
    /// use transformer_laws::strategies::tiny_model;
    /// let model = tiny_model::<f32>();
    /// let (fast, reference) = (model.forward_fast(&[0, 1]), model.forward(&[0, 1]));
    /// assert!((fast - reference).amax() < 1e-5);
    /// ```
    pub fn forward_fast(&self, tokens: &[usize]) -> DMatrix<T> {
        self.forward_with(tokens, Linear::Gemm)
    }

    /// The logits with the linear maps computed by `kind`. The heads of a block run in
    /// parallel; their outputs are summed in order, so the result does not depend on the
    /// thread count.
    ///
    /// # Panics
    /// As [`Model::forward`].
    pub fn forward_with(&self, tokens: &[usize], kind: Linear) -> DMatrix<T> {
        // The operations of `run_with` in the same order (so the logits agree bit for bit),
        // without the caches and the bound.
        let n = tokens.len();
        let d = self.d_model();
        let (embed, pos) = self.embed(tokens);
        let mut x = match &pos {
            Some(p) => &embed + p,
            None => embed,
        };
        for block in &self.blocks {
            let h = norm_matrix(&block.ln1, &x);
            let mut attn_total = DMatrix::from_element(n, d, T::zero());
            let outs: Vec<DMatrix<T>> = block
                .attn
                .heads
                .par_iter()
                .map(|head| head_values(head, block.attn.rope, &h, kind).out)
                .collect();
            for out in &outs {
                attn_total += out;
            }
            attn_total += &DMatrix::from_fn(n, d, |_, j| block.attn.b_o[j]);
            x += &attn_total;
            let h2 = norm_matrix(&block.ln2, &x);
            x += &mlp_values(&block.mlp, &h2, kind).out;
        }
        let hf = norm_matrix(&self.ln_final, &x);
        let b_u = self
            .b_u
            .clone()
            .unwrap_or_else(|| vec![T::zero(); self.vocab()]);
        project(&hf, &self.w_u, &b_u, kind)
    }

    /// The residual stream before the first block.
    pub fn embed(&self, tokens: &[usize]) -> (DMatrix<T>, Option<DMatrix<T>>) {
        if let Err(e) = self.validate() {
            panic!("invalid model: {e}");
        }
        let d = self.d_model();
        for &t in tokens {
            assert!(
                t < self.w_e.nrows(),
                "token {t} is outside the embedding's {} rows",
                self.w_e.nrows()
            );
        }
        let embed = DMatrix::from_fn(tokens.len(), d, |p, j| self.w_e[(tokens[p], j)]);
        let pos = self.w_pos.as_ref().map(|w| {
            assert!(
                tokens.len() <= w.nrows(),
                "sequence of {} tokens is longer than w_pos ({} positions)",
                tokens.len(),
                w.nrows()
            );
            DMatrix::from_fn(tokens.len(), d, |p, j| w[(p, j)])
        });
        (embed, pos)
    }

    /// A full forward pass with everything cached, and a worst-case first-order bound on the
    /// error of the logits ([`Run::logit_error`]). For weights taken as exact,
    /// [`Model::run_with_bound`] gives a proven bound that is 10⁵ and more tighter; this one
    /// remains for weights known only to a relative `rho`. The logits are those of
    /// [`Model::forward`], bit for bit.
    ///
    /// `rho` is the relative error to which the weights themselves are known (0 for weights
    /// taken as exact; about 2u for weights produced by a transform of [`process`](super::process) from exact
    /// ones): it enters [`Run::logit_error`] so that a processed model can be compared with its
    /// original within a bound that covers both the forward passes and the transform.
    ///
    /// # Panics
    /// As [`Model::forward`].
    pub fn run(&self, tokens: &[usize], rho: f64) -> Run<T> {
        self.run_with(tokens, rho, Linear::Compensated)
    }

    /// [`Model::run`] with the linear maps computed by `kind`, and the bound for that kernel
    /// ([`Linear::dot_bound`]); the logits are those of [`Model::forward_with`], bit for bit.
    ///
    /// # Panics
    /// As [`Model::forward`].
    pub fn run_with(&self, tokens: &[usize], rho: f64, kind: Linear) -> Run<T> {
        let u = unit_roundoff::<T>();
        let n = tokens.len();
        let d = self.d_model();
        let (embed, pos) = self.embed(tokens);
        let mut x = match &pos {
            Some(p) => &embed + p,
            None => embed.clone(),
        };
        // 2-norms, as every error below: |δxⱼ| ≤ (u + ρ)(|Eⱼ| + |Pⱼ|) (u: E + P rounded; E alone is exact).
        let mut e: Vec<f64> = (0..n)
            .map(|i| {
                let mag = norm2(&row(&embed, i)) + pos.as_ref().map_or(0.0, |p| norm2(&row(p, i)));
                (if pos.is_some() { u } else { 0.0 } + rho) * mag
            })
            .collect();
        let mut components = vec![("embed".to_string(), embed)];
        if let Some(p) = pos {
            components.push(("pos".to_string(), p));
        }
        let mut resid = vec![x.clone()];
        let mut patterns = Vec::new();
        for (l, block) in self.blocks.iter().enumerate() {
            // Attention.
            let (h, eh) = self.norm_rows(&block.ln1, &x, &e, rho);
            let mut attn_total = DMatrix::from_element(n, d, T::zero());
            let mut e_attn = vec![0.0f64; n];
            let mut mag_attn = vec![0.0f64; n];
            let mut pats = Vec::new();
            for (hi, head) in block.attn.heads.iter().enumerate() {
                let (out, pattern, eo) = head_forward(head, block.attn.rope, &h, &eh, rho, kind);
                for i in 0..n {
                    e_attn[i] += eo[i];
                    mag_attn[i] += norm2(&row(&out, i));
                }
                attn_total += &out;
                components.push((format!("blocks[{l}].attn.heads[{hi}]"), out));
                pats.push(pattern);
            }
            let bo = DMatrix::from_fn(n, d, |_, j| block.attn.b_o[j]);
            let bo_norm = norm2(&block.attn.b_o);
            attn_total += &bo;
            components.push((format!("blocks[{l}].attn.b_o"), bo));
            patterns.push(pats);
            let heads = block.attn.heads.len();
            for i in 0..n {
                // Summing the heads and b_O: γ_{H+1} of the magnitudes, and rho on b_O.
                e_attn[i] += gamma::<T>(heads + 1) * (mag_attn[i] + bo_norm) + rho * bo_norm;
            }
            x += &attn_total;
            for i in 0..n {
                e[i] += e_attn[i] + u * norm2(&row(&x, i));
            }
            // MLP.
            let (h2, eh2) = self.norm_rows(&block.ln2, &x, &e, rho);
            let (out, eo) = mlp_forward(&block.mlp, &h2, &eh2, rho, kind);
            x += &out;
            for i in 0..n {
                e[i] += eo[i] + u * norm2(&row(&x, i));
            }
            components.push((format!("blocks[{l}].mlp"), out));
            resid.push(x.clone());
        }
        let (hf, ef) = self.norm_rows(&self.ln_final, &x, &e, rho);
        let final_scale = (0..n).map(|i| self.ln_final.scale(&row(&x, i))).collect();
        let v = self.vocab();
        let b_u = self.b_u.clone().unwrap_or_else(|| vec![T::zero(); v]);
        let logits = project(&hf, &self.w_u, &b_u, kind);
        let logit_error = rows_bound(&hf, &ef, &self.w_u, &b_u, rho, kind);
        Run {
            resid,
            components,
            patterns,
            final_scale,
            logits,
            logit_error,
        }
    }

    fn norm_rows(
        &self,
        norm: &Norm<T>,
        x: &DMatrix<T>,
        e: &[f64],
        rho: f64,
    ) -> (DMatrix<T>, Vec<f64>) {
        let mut rows = Vec::new();
        let mut errs = Vec::new();
        for (i, &ei) in e.iter().enumerate() {
            let xi = row(x, i);
            let y = norm.apply(&xi);
            errs.push(norm.bound(&xi, &y, ei, rho));
            rows.push(y);
        }
        (from_rows(&rows, x.ncols()), errs)
    }
}
