//! # transformer-laws
//!
//! A careful reference implementation of the math inside transformers — softmax, LayerNorm,
//! RMSNorm, cross-entropy, dot products and distances, the unembedding — built to settle
//! claims about it with property tests, written proofs (`proofs/`) and minimal counterexamples.
//!
//! The crate is four layers, each using only those below it:
//!
//! 1. [`kernels`] — the reference kernels and what they are built from. Each kernel module is
//!    also reachable at the crate root:
//!    * [`geometry`]: dot, norm, distances, cosine, angle.
//!    * [`softmax`]: logsumexp, softmax, log-softmax, temperature, entropy.
//!    * [`norms`]: LayerNorm, RMSNorm, centering.
//!    * [`loss`]: cross-entropy and its gradient.
//!    * [`unembed`]: logits, argmax-dot, nearest token, the MIPS augmentation.
//!    * [`scalar`]: the [`Ring`], [`Field`] and [`Real`] bounds; [`kernels::eft`]: the
//!      error-free transformations; [`tolerance`]: the error-bound helpers (γₙ, ulps) and
//!      accuracy budgets every test tolerance comes from; the vector paths (AVX2 + FMA or
//!      AVX-512, chosen at run time) of the `f32` kernels ([`kernels::with_isa`]).
//! 2. [`transformer`] — attention, MLP, residual blocks and the forward pass, the
//!    weight-processing transforms ([`transformer::process`]) interpretability tools rely on,
//!    and loading Hugging Face checkpoints ([`transformer::checkpoint`]).
//! 3. [`engine`] — the claims ([`claims`]), the seeded [`runner`], the [`search`] for
//!    counterexamples, the proptest [`strategies`], and the rendering of verdicts ([`report`],
//!    figures with feature `plot`); beside it, [`laws`]: law checks to run against your own
//!    softmax / LayerNorm / … implementations.
//! 4. [`cli`] — the JSON Lines interface behind `transformer-laws compute` ([`compute`]) and
//!    the work behind `transformer-laws model …` (feature `cli`); the binary itself only parses
//!    arguments and prints what these render.
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

pub mod kernels;
pub use kernels::{geometry, loss, norms, scalar, softmax, tolerance, unembed};
pub use scalar::{Field, Real, Ring};

pub mod transformer;

pub mod engine;
#[cfg(feature = "plot")]
pub use engine::plot;
pub use engine::{claims, report, runner, search, strategies};

pub mod laws;

pub mod cli;
pub use cli::compute;
#[cfg(feature = "cli")]
pub use cli::model as model_cli;
