//! A small, clear transformer — attention, MLP, pre-LN residual blocks, a final norm and the
//! unembedding — and the weight-processing transforms interpretability tools apply to it
//! ([`process`]).
//!
//! Conventions (those of TransformerLens): the residual stream is a matrix with one **row per
//! position**; a linear map is `y = x·W + b` with `W` of shape `input × output`; the
//! unembedding `W_U` is `d × V` (tokens are its **columns**, as in [`crate::unembed`]).
//!
//! ```text
//! x₀       = W_E[tokenₚ] + W_pos[p]                                   (n × d)
//! block ℓ:  x ← x + Attn(LN₁(x)),   x ← x + MLP(LN₂(x))
//! logits   = LN_final(x)·W_U + b_U                                     (n × V)
//! Attn(h)  = Σₕ softmax(mask(Qₕ·Kₕᵀ/√d_head))·Vₕ·W_O,ₕ + b_O,   Qₕ = h·W_Q,ₕ + b_Q,ₕ, …
//! MLP(h)   = act(h·W_in + b_in)·W_out + b_out,            act = ReLU, GELU (erf or tanh), SiLU
//! gated:     (act(h·W_gate + b_gate) ⊙ (h·W_in + b_in))·W_out + b_out            (SwiGLU)
//! ```
//!
//! Grouped-query attention (several query heads reading one key/value head, as in Llama) is
//! represented by giving each query head its own copy of its group's `W_K`, `b_K`, `W_V`, `b_V`
//! and recording the group size in [`Attention::heads_per_kv`]; [`Model::validate`] checks that
//! the copies within a group are identical, and every transform of [`process`] keeps them so
//! (it treats the copies alike). This keeps one [`Head`] type for both layouts at the cost of
//! `heads_per_kv`-fold memory for the key and value weights.
//!
//! Every norm and softmax is computed with the accurate kernels of [`crate::norms`] and
//! [`crate::softmax`]; every linear map either with the crate's compensated dot product
//! ([`Ring::dot_kernel`](crate::Ring::dot_kernel)) — the reference — or by matrix products
//! ([`Linear`]; for f32 weights with the same error bound). The entry points:
//!
//! * [`Model::forward`] — the logits alone, compensated, nothing else paid for;
//!   [`Model::forward_fast`] — the same by matrix products, about 15× faster at GPT-2 size.
//! * [`Model::run_with_bound`] — the same logits and, per position, a proven bound on their
//!   error against real arithmetic on the stored weights, tight to a factor of about 1.000001
//!   on the tested models: a shadow evaluation in 128-bit interval arithmetic ([`shadow`],
//!   `proofs/forward-error-bound.md`), a few hundred times the cost of `forward`.
//! * [`Model::run`] — every residual, component and pattern cached, and a worst-case first-order
//!   bound ([`Run::logit_error`], products of Jacobian norms: 10⁵ and more above the attained
//!   error) that also covers weights known only to a relative `ρ` — the tolerance of the tests
//!   that compare a processed model with its original.
//!
//! # Special values
//!
//! * A query whose keys are all masked (possible only with a custom [`Mask`]; never under the
//!   causal mask, where a position always sees itself) attends to **nothing**: its pattern row
//!   is all zeros and the head's output there is 0 (PyTorch's `scaled_dot_product_attention`
//!   returns NaN). Such a row does not sum to 1, which is exactly the condition under which
//!   [`process::fold_value_biases`] is not output-preserving.
//! * NaN or ±∞ anywhere in the input or weights propagates to NaN logits for the positions it
//!   reaches (nothing is hidden) — and only those: a masked key's value is never read, so a NaN
//!   at position p leaves every earlier position finite under the causal mask.
//! * An empty sequence gives a `0 × V` logit matrix. ±`MAX` in the embeddings stays finite
//!   through the first LayerNorm (it rescales).
//!
//! # Panics
//! Shape mismatches panic with both shapes and the offending weight named
//! ([`Model::validate`] returns the same message as an error).
//!
//! # Files
//!
//! * `model` — the types, their validation, [`ModelConfig`];
//! * `layers` — linear maps, norms, activations, attention and the rotary embedding on rows;
//! * `forward` — [`Model::forward`] and [`Model::run`];
//! * `bound` — the first-order error-bound algebra of [`Model::run`];
//! * [`shadow`] — the proven bound of [`Model::run_with_bound`];
//! * [`process`], [`export`] — the weight-processing transforms and the processed checkpoint;
//! * [`checkpoint`], [`report`], [`unargmaxable`] — loading, the model report, the scan.

mod bound;
mod forward;
mod layers;
mod model;
#[cfg(test)]
mod tests;

pub mod checkpoint;
pub mod export;
pub mod process;
pub mod report;
pub mod shadow;
pub mod unargmaxable;

pub use bound::transform_rho;
pub use forward::Run;
pub use layers::{Linear, apply_rope, attention};
pub use model::{
    Activation, Attention, Block, Head, Mask, Mlp, Model, ModelConfig, Norm, NormKind, Rope,
    RopeStyle,
};
pub use shadow::{Bounded, Enclosure, SHADOW_BITS};
