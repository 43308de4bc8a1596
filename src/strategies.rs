//! Public proptest strategies: the inputs this crate's own tests use, for users who test
//! their implementations the same way.
//!
//! proptest does not shrink floats to readable numbers, so the strategies come in two kinds:
//!
//! * **lattices** ([`small_int`], [`dyadic`], [`rational`]) whose values shrink towards 0 on a
//!   grid of small integers or dyadic fractions — counterexamples come out readable;
//! * **magnitudes** ([`FloatStrategies::any_finite`], [`moderate`]) that cover the whole
//!   range of a type, for accuracy and special-value testing.
//!
//! All sizes are named, bounded ranges.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use transformer_laws::softmax::softmax;
//! use transformer_laws::strategies::{logits, small_int, vector};
//!
//! // Your property, on the crate's strategies, in f32 and f64:
//! fn sums_to_one<T: transformer_laws::strategies::FloatStrategies>() {
//!     TestRunner::default()
//!         .run(&logits::<T>(1..=8), |z| {
//!             let s: f64 = softmax(&z).iter().map(|p| p.widen()).sum();
//!             prop_assert!((s - 1.0).abs() < 1e-5);
//!             Ok(())
//!         })
//!         .unwrap();
//! }
//! sums_to_one::<f32>();
//! sums_to_one::<f64>();
//! let _ = vector(small_int::<f32>(), 1..=4);
//! ```

use crate::scalar::Real;
use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::collection::vec;
use proptest::prelude::*;
use std::ops::RangeInclusive;

/// Vector lengths used by default: 1 to 16 coordinates.
pub const DIM: RangeInclusive<usize> = 1..=16;
/// Small integers: −8 to 8.
pub const SMALL_INT: RangeInclusive<i32> = -8..=8;
/// Moderate reals: −100 to 100.
pub const MODERATE: RangeInclusive<f64> = -100.0..=100.0;

/// Per-type strategies over the whole finite range.
pub trait FloatStrategies: Real {
    /// Any finite value: normal, subnormal or zero, either sign, every exponent.
    fn any_finite() -> BoxedStrategy<Self>;
}

impl FloatStrategies for f32 {
    fn any_finite() -> BoxedStrategy<f32> {
        use proptest::num::f32::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
        (POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO).boxed()
    }
}

impl FloatStrategies for f64 {
    fn any_finite() -> BoxedStrategy<f64> {
        use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
        (POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO).boxed()
    }
}

/// Integers in [`SMALL_INT`] as `T`; shrink towards 0.
pub fn small_int<T: Real>() -> impl Strategy<Value = T> + Clone {
    SMALL_INT.prop_map(|k| T::narrow(f64::from(k)))
}

/// Dyadic fractions `k / 2^bits` with `|k| ≤ max_k`; shrink towards 0 on the grid.
pub fn dyadic<T: Real>(bits: u32, max_k: i32) -> impl Strategy<Value = T> + Clone {
    let scale = f64::from(bits).exp2();
    (-max_k..=max_k).prop_map(move |k| T::narrow(f64::from(k) / scale))
}

/// Reals uniform in [`MODERATE`].
pub fn moderate<T: Real>() -> impl Strategy<Value = T> + Clone {
    MODERATE.prop_map(T::narrow)
}

/// Rationals `p/q` with `|p| ≤ max_p`, `1 ≤ q ≤ max_q`; shrink towards 0.
pub fn rational(max_p: i64, max_q: i64) -> impl Strategy<Value = BigRational> + Clone {
    (-max_p..=max_p, 1..=max_q)
        .prop_map(|(p, q)| BigRational::new(BigInt::from(p), BigInt::from(q)))
}

/// Vectors of `len` entries drawn from `elem`.
pub fn vector<S: Strategy>(
    elem: S,
    len: RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<S::Value>> {
    vec(elem, len)
}

/// Pairs of vectors of one common length.
pub fn vector_pair<S: Strategy + Clone>(
    elem: S,
    len: RangeInclusive<usize>,
) -> impl Strategy<Value = (Vec<S::Value>, Vec<S::Value>)> {
    len.prop_flat_map(move |n| (vec(elem.clone(), n), vec(elem.clone(), n)))
}

/// Logits for accuracy tests: a mixture of moderate values, small integers and any finite
/// value of the type, so that both ordinary rows and extreme ones (one dominant logit, huge
/// spreads) appear.
pub fn logits<T: FloatStrategies>(len: RangeInclusive<usize>) -> impl Strategy<Value = Vec<T>> {
    let elem = prop_oneof![
        3 => moderate::<T>(),
        2 => small_int::<T>(),
        1 => T::any_finite(),
    ];
    vec(elem, len)
}
