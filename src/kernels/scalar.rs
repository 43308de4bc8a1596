//! The numeric traits the crate is generic over ([`Ring`], [`Field`], [`Real`]) and their
//! `f32`/`f64` kernels.
//!
//! Two bounds, one for each kind of function:
//!
//! * [`Ring`] — everything that needs only `+`, `−`, `×` and comparison (dot products, squared
//!   distances, logits, argmax-dot, nearest by squared distance). Implemented for `f32`, `f64`,
//!   [`BigRational`] and [`BigInt`], so a polynomial claim can be evaluated *exactly*.
//! * [`Real`] — everything that needs `exp`, `ln` or `sqrt`. Implemented for `f32` and `f64`.
//!
//! # Internal precision
//!
//! Every [`Real`] kernel computes in `f64` and rounds once at the end ([`Real::narrow`]). For
//! `f32` inputs this makes the result nearly correctly rounded; for `f64` inputs the kernels
//! use double-`f64` corrections ([`two_sum`], [`two_prod`], [`Acc`]) where cancellation would
//! otherwise cost accuracy.
//!
//! Error bounds and tolerances live in [`crate::tolerance`]; the error-free transformations in
//! [`super::eft`] (the public ones re-exported here).

use nalgebra::Scalar;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Float, One, Zero};
use std::fmt::{Debug, Display, LowerExp};
use std::ops::{Add, Div, Mul, Sub};
use std::str::FromStr;

pub use super::eft::{Acc, fma_residual, scalbn, two_prod, two_sum};
pub(crate) use super::eft::{dot2, exponent_of, f32_lanes, pow2, unit_exponent};

/// Scalars with `+`, `−`, `×`, `0`, `1` and a partial order: what a polynomial needs.
///
/// The kernels [`Ring::dot_kernel`] and [`Ring::squared_distance_kernel`] have plain default
/// implementations (exact for exact types); `f32` and `f64` override them with compensated
/// versions so that the same generic call is accurate in floating point.
///
/// ```text
/// a + 0 = a,  a·1 = a,  a·(b + c) = a·b + a·c   (up to rounding for f32 and f64)
/// ```
pub trait Ring:
    Scalar + Zero + One + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + PartialOrd
{
    /// `Σ aᵢ·bᵢ`. The slices have equal length (checked by the callers).
    fn dot_kernel(a: &[Self], b: &[Self]) -> Self {
        a.iter()
            .zip(b)
            .fold(Self::zero(), |s, (x, y)| s + x.clone() * y.clone())
    }

    /// `Σ (aᵢ − bᵢ)²`. The slices have equal length (checked by the callers).
    fn squared_distance_kernel(a: &[Self], b: &[Self]) -> Self {
        a.iter().zip(b).fold(Self::zero(), |s, (x, y)| {
            let d = x.clone() - y.clone();
            s + d.clone() * d
        })
    }

    /// The slice as its concrete float type when `Self` is `f32` or `f64`, else `None`: how
    /// generic kernels (the ranking of [`crate::unembed`]) reach their float paths.
    #[doc(hidden)]
    fn as_floats(_x: &[Self]) -> Option<FloatSlice<'_>> {
        None
    }
}

/// A slice of `f32` or `f64`, as [`Ring::as_floats`] reveals it.
#[doc(hidden)]
pub enum FloatSlice<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl Ring for BigRational {}
impl Ring for BigInt {}

impl Ring for f64 {
    fn as_floats(x: &[f64]) -> Option<FloatSlice<'_>> {
        Some(FloatSlice::F64(x))
    }

    /// Compensated dot product (Ogita, Rump & Oishi's `Dot2`): as accurate as if computed in
    /// twice the working precision, then rounded.
    ///
    /// If a product or a partial sum overflows although every input is finite, the sum is
    /// recomputed on inputs scaled by powers of two, and scaled back with one rounding: a
    /// finite dot product of finite vectors is never reported as ∞ or NaN.
    fn dot_kernel(a: &[f64], b: &[f64]) -> f64 {
        let r = dot2(a, b);
        if r.is_finite() || a.iter().chain(b).any(|v| !v.is_finite()) {
            return r;
        }
        let ka = unit_exponent(a.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        let kb = unit_exponent(b.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        let sa: Vec<f64> = a.iter().map(|&v| scalbn(v, ka)).collect();
        let sb: Vec<f64> = b.iter().map(|&v| scalbn(v, kb)).collect();
        scalbn(dot2(&sa, &sb), -(ka + kb))
    }

    /// The squares are non-negative, so a compensated sum of the rounded squares is enough:
    /// relative error ≤ 2u + γ²_n.
    fn squared_distance_kernel(a: &[f64], b: &[f64]) -> f64 {
        let mut acc = Acc::default();
        for (&x, &y) in a.iter().zip(b) {
            let d = x - y;
            acc.add(d * d);
        }
        acc.value()
    }
}

impl Ring for f32 {
    fn as_floats(x: &[f32]) -> Option<FloatSlice<'_>> {
        Some(FloatSlice::F32(x))
    }

    /// Products of two `f32` are exact in `f64`; they are summed in `f64` in eight independent
    /// lanes (so the loop vectorizes) and rounded once: error ≤ u_f32·|s| + γ_n(f64)·Σ|aᵢbᵢ|,
    /// as if computed in `f64` and rounded.
    fn dot_kernel(a: &[f32], b: &[f32]) -> f32 {
        f32_lanes::<true, false>(a, b).0 as f32
    }

    /// Differences of two `f32` (and their squares, for all but extreme exponent gaps) are
    /// exact in `f64`; the non-negative squares are summed in eight `f64` lanes and rounded
    /// once: relative error ≤ u_f32 + γ_n(f64).
    fn squared_distance_kernel(a: &[f32], b: &[f32]) -> f32 {
        f32_lanes::<false, false>(a, b).0 as f32
    }
}

/// A [`Ring`] with exact-enough division: what the weight-processing transforms of
/// [`crate::transformer`] need (means, centering, folding).
///
/// Implemented for `f32`, `f64` (accurate: each result within about 2u of its own value) and
/// [`BigRational`] (exact), so a transform can be checked exactly on rationals and then run on
/// floats with a stated error.
pub trait Field: Ring + Div<Output = Self> {
    /// `n` as a scalar.
    fn from_count(n: usize) -> Self;

    /// `v − mean(v)·1`. Exact for exact types; for `f32`/`f64` each entry is within 1 ulp of
    /// its own value plus `u²·|mean|` (the compensated centering of the norms).
    fn centered(v: &[Self]) -> Vec<Self> {
        if v.is_empty() {
            return vec![];
        }
        let sum = v.iter().cloned().fold(Self::zero(), |s, x| s + x);
        let mean = sum / Self::from_count(v.len());
        v.iter().map(|x| x.clone() - mean.clone()).collect()
    }

    /// `a·b + c`, as accurate as [`Ring::dot_kernel`] over the `n + 1` terms.
    fn dot_plus(a: &[Self], b: &[Self], c: Self) -> Self {
        let mut aa = a.to_vec();
        let mut bb = b.to_vec();
        aa.push(Self::one());
        bb.push(c);
        Self::dot_kernel(&aa, &bb)
    }
}

impl Field for BigRational {
    fn from_count(n: usize) -> Self {
        BigRational::from_integer(BigInt::from(n))
    }
}

impl Field for f64 {
    fn from_count(n: usize) -> Self {
        n as f64
    }
    fn centered(v: &[f64]) -> Vec<f64> {
        super::eft::centered(v)
    }
}

impl Field for f32 {
    fn from_count(n: usize) -> Self {
        n as f32
    }
    fn centered(v: &[f32]) -> Vec<f32> {
        narrow_all(super::eft::centered(&widen_all(v)))
    }
}

/// The binary floating-point types the real-valued functions accept: `f32` and `f64`.
///
/// Kernels widen to `f64` ([`Real::widen`], exact), compute, and round back once
/// ([`Real::narrow`], round to nearest even).
pub trait Real:
    Ring
    + Field
    + Float
    + num_traits::NumAssignOps
    + Copy
    + Debug
    + Display
    + LowerExp
    + Default
    + FromStr
    + Send
    + Sync
    + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Bits in the significand, including the implicit bit (24 or 53).
    const MANTISSA_DIGITS: u32;
    /// Exact conversion to `f64`.
    fn widen(self) -> f64;
    /// Round an `f64` to this type (to nearest, ties to even; overflow gives ±∞).
    fn narrow(x: f64) -> Self;
    /// The bit pattern, widened to `u64` (for bit-for-bit comparisons and ULP distances).
    fn to_bits_u64(self) -> u64;
    /// Shortest decimal text that parses back to the same value (`ryu`), `"NaN"`,
    /// `"Infinity"` or `"-Infinity"` for the non-finite values.
    fn shortest_repr(self) -> String;
    /// The slice as `&[f32]` when `Self` is `f32` (the vector kernels' input), else `None`.
    #[doc(hidden)]
    fn as_f32_slice(_x: &[Self]) -> Option<&[f32]> {
        None
    }
    /// The vector as `Vec<Self>` when `Self` is `f32`, else `None`.
    #[doc(hidden)]
    fn from_f32_vec(_v: Vec<f32>) -> Option<Vec<Self>> {
        None
    }
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    const MANTISSA_DIGITS: u32 = f32::MANTISSA_DIGITS;
    fn widen(self) -> f64 {
        f64::from(self)
    }
    fn narrow(x: f64) -> f32 {
        x as f32
    }
    fn to_bits_u64(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn shortest_repr(self) -> String {
        non_finite_repr(self).unwrap_or_else(|| ryu::Buffer::new().format_finite(self).to_owned())
    }
    fn as_f32_slice(x: &[f32]) -> Option<&[f32]> {
        Some(x)
    }
    fn from_f32_vec(v: Vec<f32>) -> Option<Vec<f32>> {
        Some(v)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const MANTISSA_DIGITS: u32 = f64::MANTISSA_DIGITS;
    fn widen(self) -> f64 {
        self
    }
    fn narrow(x: f64) -> f64 {
        x
    }
    fn to_bits_u64(self) -> u64 {
        self.to_bits()
    }
    fn shortest_repr(self) -> String {
        non_finite_repr(self).unwrap_or_else(|| ryu::Buffer::new().format_finite(self).to_owned())
    }
}

fn non_finite_repr<T: Float>(x: T) -> Option<String> {
    if x.is_nan() {
        Some("NaN".into())
    } else if x.is_infinite() {
        Some(
            if x > T::zero() {
                "Infinity"
            } else {
                "-Infinity"
            }
            .into(),
        )
    } else {
        None
    }
}

/// Widen a slice to `f64` (exact).
pub(crate) fn widen_all<T: Real>(x: &[T]) -> Vec<f64> {
    x.iter().map(|v| v.widen()).collect()
}

/// Round a vector of `f64` to `T`.
pub(crate) fn narrow_all<T: Real>(x: Vec<f64>) -> Vec<T> {
    x.into_iter().map(T::narrow).collect()
}

/// Panic with both lengths named when two slices that must match do not.
pub(crate) fn assert_same_len(what: &str, a: usize, b: usize) {
    assert!(
        a == b,
        "{what}: length mismatch: left has {a} entries, right has {b}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_repr_round_trips() {
        assert_eq!(0.1f32.shortest_repr(), "0.1");
        assert_eq!(
            4.248354255291589e-18f64.shortest_repr(),
            "4.248354255291589e-18"
        );
        assert_eq!(f64::NEG_INFINITY.shortest_repr(), "-Infinity");
        assert_eq!(f32::NAN.shortest_repr(), "NaN");
    }
}
