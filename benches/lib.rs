//! The benchmarks of transformer-laws live in this package's bench targets (`kernels.rs`,
//! `forward.rs`); the package has no library code of its own.
