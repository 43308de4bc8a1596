//! # transformer-laws
//!
//! A careful reference implementation of the math inside transformers — softmax, LayerNorm,
//! RMSNorm, cross-entropy, dot products and distances, the unembedding — built to settle
//! claims about it with property tests, written proofs (`proofs/`) and minimal counterexamples.
//!
//! * [`geometry`]: dot, norm, distances, cosine, angle.
//! * [`softmax`]: logsumexp, softmax, log-softmax, temperature, entropy.
//! * [`norms`]: LayerNorm, RMSNorm, centering.
//! * [`loss`]: cross-entropy and its gradient.
//! * [`unembed`]: logits, argmax-dot, nearest token, the MIPS augmentation.
//! * [`transformer`]: attention, MLP, residual blocks, the weight-processing transforms
//!   ([`transformer::process`]) interpretability tools rely on, and loading Hugging Face
//!   checkpoints ([`transformer::checkpoint`]).
//! * [`compute`]: the JSON Lines interface behind `transformer-laws compute`.
//! * `model_cli` (feature `cli`): the work behind `transformer-laws model …` (Hugging Face checkpoints).
//! * [`laws`]: law checks to run against your own softmax / LayerNorm / … implementations.
//! * [`strategies`]: public proptest strategies (lattices that shrink to small numbers).
//! * [`kernels`]: the vector paths (AVX2 + FMA, chosen at run time) of the `f32` kernels, and
//!   the polynomial `exp` they use.
//! * [`scalar`]: the [`Ring`] and [`Real`] bounds and the
//!   error-free transformations the kernels are built from.
//! * [`tolerance`]: the error-bound helpers (γₙ, ulps) and accuracy budgets every test
//!   tolerance comes from.
//!
//! Functions that need only `+` and `×` are generic over [`Ring`] and run on
//! `BigRational` exactly; the others are generic over [`Real`] (`f32`, `f64`).
//! Every function documents its formula, its accuracy and its special values.
//!
//! ```
//! use transformer_laws::softmax::{log_softmax, softmax};
//! assert_eq!(softmax(&[0.0f32, 0.0]), vec![0.5, 0.5]);
//! assert_eq!(log_softmax(&[0.0f64, -40.0])[0], -4.248354255291589e-18);
//! ```

pub mod compute;
pub mod geometry;
pub mod kernels;
pub mod loss;
#[cfg(feature = "cli")]
pub mod model_cli;
pub mod norms;
pub mod scalar;
pub mod softmax;
pub mod strategies;
pub mod tolerance;
pub mod transformer;
pub mod unembed;

pub use scalar::{Field, Real, Ring};
pub mod claims;
pub mod laws;
#[cfg(feature = "plot")]
pub mod plot;
pub mod report;
pub mod runner;
pub mod search;
