//! Layer 1: the numerical kernels. The reference kernels (each re-exported at the crate root,
//! where users reach them), the traits they are generic over, the error analysis their
//! tolerances come from, and ([`simd`]) the vector paths of the `f32` kernels with the run-time
//! choice between them.

pub mod dd;
pub mod eft;
pub mod geometry;
pub mod loss;
pub mod norms;
pub mod scalar;
pub mod simd;
pub mod softmax;
pub mod tolerance;
pub mod unembed;

pub use simd::{EXP_POLY_REL_ERR, Isa, exp, exp_poly, isa, with_isa};
