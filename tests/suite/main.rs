//! The integration tests, one module per area, in one test binary (one link of the crate and
//! its dev-dependencies instead of one per file). Run one area with its module path:
//! `cargo test --test suite accuracy::`, or one test by name: `cargo test --test suite name`.
//!
//! | module | what it checks |
//! |---|---|
//! | `geometry`, `softmax`, `norms`, `loss`, `unembed` | each kernel module's properties, f32 and f64, exact where the math allows |
//! | `special_values` | every public function's special-value policy, bit for bit |
//! | `accuracy` | the kernels against a 256-bit oracle, in ulps |
//! | `claims_*` | the claims' property tests and the registry's verdicts, area by area |
//! | `transformer`, `model` | whole random models and checkpoints: forward pass, processing, reports |
//! | `laws` | the law harness on known-correct and planted-bug implementations |
//! | `proofs` | registry, proofs and README agree |
//! | `cli`, `json_schema`, `figures` | the binary as a user drives it (feature `cli`; figures also `plot`) |

/// `both!(name, body)`: the tests `name::f32` and `name::f64`, which run the generic `body` in
/// each float type.
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[test]
            fn f32() {
                super::$body::<f32>();
            }
            #[test]
            fn f64() {
                super::$body::<f64>();
            }
        }
    };
}

mod common;
mod support;

mod accuracy;
mod claims_cross_entropy;
mod claims_geometry;
mod claims_layernorm;
mod claims_softmax;
mod claims_transformer;
#[cfg(feature = "cli")]
mod cli;
#[cfg(all(feature = "cli", feature = "plot"))]
mod figures;
mod geometry;
#[cfg(feature = "cli")]
mod json_schema;
mod laws;
mod loss;
mod model;
mod norms;
mod proofs;
mod softmax;
mod special_values;
mod transformer;
mod unembed;
