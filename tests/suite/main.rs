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

/// `settled! { fn name() => "claim" ["a", "b"] in [F32, F64], "other" ["c"]; … }`: one named
/// `#[test]` per row, which settles each listed reading of each claim in each domain (`Exact`
/// when no `in` is given) with `support::settle`: the computed verdict agrees with the proof,
/// and a found case is verified again and is simplest. A reading followed by
/// `found { dim: 2, tokens: 1 }` also checks the size of the case found (`support::of_size`).
macro_rules! settled {
    (@domains) => {
        [transformer_laws::claims::Domain::Exact]
    };
    (@domains [$($domain:ident),+]) => {
        [$(transformer_laws::claims::Domain::$domain),+]
    };
    ($(
        $(#[$attr:meta])*
        fn $name:ident() => $(
            $id:literal $keys:tt $(in $domains:tt)?
            $(found { dim: $dim:literal $(, tokens: $tokens:literal)? })?
        ),+;
    )+) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                $(
                    for key in $keys {
                        for domain in settled!(@domains $($domains)?) {
                            let _verdict = crate::support::settle($id, key, domain);
                            $(crate::support::of_size(&_verdict, $dim, None$(.or(Some($tokens)))?);)?
                        }
                    }
                )+
            }
        )+
    };
}

/// `props_both! { fn a_f32(), fn a_f64() => body(z in logits::<T>(1..=8), c in small_int::<T>()); … }`:
/// the property tests `a_f32` and `a_f64`, which run the generic `body` on the values the
/// strategies draw, with `T` the float type: one line for a property in both types.
macro_rules! props_both {
    ($(
        $(#[$attr:meta])*
        fn $f32:ident(), fn $f64:ident() => $body:ident($($arg:ident in $strategy:expr),+);
    )+) => {
        proptest::proptest! {
            $(
                $(#[$attr])*
                #[test]
                fn $f32($($arg in { #[allow(dead_code)] type T = f32; $strategy }),+) {
                    $body($($arg),+)?;
                }
                $(#[$attr])*
                #[test]
                fn $f64($($arg in { #[allow(dead_code)] type T = f64; $strategy }),+) {
                    $body($($arg),+)?;
                }
            )+
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
