//! The numeric traits the crate is generic over ([`Ring`], [`Field`], [`Real`]) and the ranking
//! of tokens by score that [`Ring`] carries.
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
pub(crate) use super::eft::{exponent_of, pow2, unit_exponent};

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

    /// The index of the best token — largest `x·wⱼ` (`dot = true`) or smallest `|x − wⱼ|²` —
    /// lowest index on ties, `None` when a score is NaN or there is no token.
    ///
    /// Exact for exact types. For `f32`/`f64` the ranking is exact too: scores are computed
    /// accurately (in `f64`, scaled by one power of two where they would overflow), and every
    /// token whose score is within its error bound of the best is re-compared exactly in
    /// rationals — so `±MAX` inputs and scores that differ by less than an ulp rank as the exact
    /// scores do.
    fn rank(tokens: &[&[Self]], x: &[Self], dot: bool) -> Option<usize> {
        best_of(exact_keys(tokens, x, dot), dot)
    }
}

/// The best index of a sequence of keys (largest for a dot product, smallest for a distance),
/// lowest index on ties, `None` on a NaN key or no key.
pub(crate) fn best_of<K: PartialOrd>(
    keys: impl IntoIterator<Item = K>,
    largest: bool,
) -> Option<usize> {
    let better = if largest {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Less
    };
    let mut best: Option<(usize, K)> = None;
    for (i, k) in keys.into_iter().enumerate() {
        k.partial_cmp(&k)?;
        match &best {
            Some((_, b)) if k.partial_cmp(b) != Some(better) => {}
            _ => best = Some((i, k)),
        }
    }
    best.map(|(i, _)| i)
}

/// Scores of an exact type: the values themselves.
fn exact_keys<T: Ring>(tokens: &[&[T]], x: &[T], dot: bool) -> Vec<T> {
    tokens
        .iter()
        .map(|w| {
            if dot {
                T::dot_kernel(w, x)
            } else {
                T::squared_distance_kernel(w, x)
            }
        })
        .collect()
}

/// `(Σ tᵢ, Σ|tᵢ|)` in `f64` for `f32` inputs, `tᵢ = aᵢ·bᵢ` (`DOT`) or `(aᵢ − bᵢ)²`: the terms
/// are exact in `f64` and summed in eight independent lanes (so the loop vectorizes), then the
/// remainder. The kernel behind the `f32` dot product, squared distance and ranking scores.
/// `Σ|tᵢ|` is accumulated only when `ABS` (it costs as much as the sum itself); otherwise the
/// second value is `Σ tᵢ` again (which is `Σ|tᵢ|` for the squared distance's terms).
fn f32_lanes<const DOT: bool, const ABS: bool>(a: &[f32], b: &[f32]) -> (f64, f64) {
    let term = |x: f32, y: f32| {
        if DOT {
            f64::from(x) * f64::from(y)
        } else {
            let d = f64::from(x) - f64::from(y);
            d * d
        }
    };
    let (mut s, mut abs) = ([0.0f64; 8], [0.0f64; 8]);
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            let t = term(x[k], y[k]);
            s[k] += t;
            if ABS {
                abs[k] += t.abs();
            }
        }
    }
    let (mut s, mut abs): (f64, f64) = (s.iter().sum(), abs.iter().sum());
    for (&x, &y) in ra.iter().zip(rb) {
        let t = term(x, y);
        s += t;
        if ABS {
            abs += t.abs();
        }
    }
    (s, if ABS { abs } else { s })
}

/// A float type whose tokens [`rank_float`] can rank: a score in `f64` (before any rounding to
/// the type), and on demand `Σ|terms|` for its error bound.
trait RankScore: Copy + Into<f64> {
    /// The score: dot product or squared distance.
    fn key(w: &[Self], x: &[Self], dot: bool) -> f64;
    /// `Σ|aᵢ·bᵢ|` of a dot product.
    fn abs_terms(w: &[Self], x: &[Self]) -> f64;
    /// `maxⱼ |wⱼᵢ|` for each coordinate i (NaN entries ignored), widened to `f64`.
    fn col_max(tokens: &[&[Self]], n: usize) -> Vec<f64>;
}

impl RankScore for f64 {
    /// Dot2 (compensated) for dot products.
    fn key(w: &[f64], x: &[f64], dot: bool) -> f64 {
        if dot {
            f64::dot_kernel(w, x)
        } else {
            f64::squared_distance_kernel(w, x)
        }
    }
    fn abs_terms(w: &[f64], x: &[f64]) -> f64 {
        w.iter().zip(x).map(|(a, b)| (a * b).abs()).sum()
    }
    fn col_max(tokens: &[&[f64]], n: usize) -> Vec<f64> {
        let mut cm = vec![0.0f64; n];
        for w in tokens {
            for (c, v) in cm.iter_mut().zip(w.iter()) {
                *c = c.max(v.abs());
            }
        }
        cm
    }
}

impl RankScore for f32 {
    /// Exact products and differences in `f64`, summed in `f64` lanes and not rounded to `f32`.
    fn key(w: &[f32], x: &[f32], dot: bool) -> f64 {
        if dot {
            f32_lanes::<true, false>(w, x).0
        } else {
            f32_lanes::<false, false>(w, x).0
        }
    }
    fn abs_terms(w: &[f32], x: &[f32]) -> f64 {
        f32_lanes::<true, true>(w, x).1
    }
    /// In `f32` (exact: a maximum rounds nothing), widened at the end.
    fn col_max(tokens: &[&[f32]], n: usize) -> Vec<f64> {
        let mut cm = vec![0.0f32; n];
        for w in tokens {
            for (c, v) in cm.iter_mut().zip(w.iter()) {
                *c = c.max(v.abs());
            }
        }
        cm.into_iter().map(f64::from).collect()
    }
}

/// Rank float tokens exactly: scores in `f64` with their error bounds (on inputs scaled by one
/// power of two where finite scores overflow), then every token within the error window of the
/// best re-compared in rationals. Lowest index on exact ties.
///
/// The window of a dot product needs `Σ|terms|` of each token, which costs as much as the score
/// itself; it is computed only for the tokens inside a window widened to the bound
/// `Σᵢ|xᵢ|·maxⱼ|wⱼᵢ|` that holds for every token (one pass of maxima), which selects the same
/// tokens.
fn rank_float<S: RankScore>(tokens: &[&[S]], x: &[S], dot: bool) -> Option<usize> {
    let n = x.len();
    let mut keys: Vec<f64> = tokens.iter().map(|w| S::key(w, x, dot)).collect();
    let finite = |v: &S| (*v).into().is_finite();
    let finite_in = || tokens.iter().flat_map(|w| w.iter()).chain(x).all(finite);
    // The frame the keys are in: the inputs themselves, or scaled by 2^scale.
    let mut scale = 0;
    if keys.iter().any(|k| k.is_infinite()) && finite_in() {
        // Overflow of finite scores (f64 only): one power of two for all keeps the ranking.
        let m = tokens
            .iter()
            .flat_map(|w| w.iter())
            .chain(x)
            .fold(0.0f64, |m, v| m.max((*v).into().abs()));
        scale = unit_exponent(m) - 8 + unit_exponent((n.max(1) as f64).sqrt());
    }
    let scaled = |v: &[S]| -> Vec<f64> { v.iter().map(|&e| scalbn(e.into(), scale)).collect() };
    let xs = scaled(x);
    if scale != 0 {
        keys = tokens
            .iter()
            .map(|w| f64::key(&scaled(w), &xs, dot))
            .collect();
    }
    let abs_of = |j: usize| match (dot, scale) {
        (false, _) => keys[j],
        (true, 0) => S::abs_terms(tokens[j], x),
        (true, _) => f64::abs_terms(&scaled(tokens[j]), &xs),
    };
    let best = best_of(keys.iter().copied(), dot)?;
    // Error of each score ≤ (n + 1)·u·Σ|terms| (plain f64 sums) or less (compensated); the
    // window is generous — a wider one only costs exact comparisons.
    let eps = f64::EPSILON * (n + 16) as f64;
    let slack = |k: f64, abs: f64| eps * (k.abs() + abs) + f64::MIN_POSITIVE;
    let kb = keys[best];
    let sb = slack(kb, abs_of(best));
    let inside = |j: usize, abs: f64| (keys[j] - kb).abs() <= slack(keys[j], abs) + sb;
    let near: Vec<usize> = if dot {
        // Σ|terms| ≤ Σᵢ|xᵢ|·maxⱼ|wⱼᵢ| for every token, rounded up by the window's own margin.
        let cm = S::col_max(tokens, n);
        let bound = xs
            .iter()
            .zip(&cm)
            .map(|(a, c)| a.abs() * scalbn(*c, scale))
            .sum::<f64>()
            * (1.0 + eps);
        (0..keys.len())
            .filter(|&j| inside(j, bound) && inside(j, abs_of(j)))
            .collect()
    } else {
        (0..keys.len()).filter(|&j| inside(j, keys[j])).collect()
    };
    if near.len() < 2 || !finite_in() {
        return Some(best);
    }
    let q = |v: S| BigRational::from_float(v.into()).expect("finite");
    let xq: Vec<BigRational> = x.iter().map(|&v| q(v)).collect();
    let exact = near.iter().map(|&j| {
        let wq: Vec<BigRational> = tokens[j].iter().map(|&v| q(v)).collect();
        exact_keys(&[wq.as_slice()], &xq, dot).remove(0)
    });
    best_of(exact, dot).map(|i| near[i])
}

impl Ring for BigRational {}
impl Ring for BigInt {}

impl Ring for f64 {
    fn rank(tokens: &[&[f64]], x: &[f64], dot: bool) -> Option<usize> {
        rank_float(tokens, x, dot)
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

/// Ogita–Rump–Oishi `Dot2` on `f64`, with a Neumaier accumulator.
fn dot2(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = Acc::default();
    for (&x, &y) in a.iter().zip(b) {
        let (p, e) = two_prod(x, y);
        acc.add(p);
        if p.is_finite() {
            acc.add(e);
        }
    }
    acc.value()
}

impl Ring for f32 {
    fn rank(tokens: &[&[f32]], x: &[f32], dot: bool) -> Option<usize> {
        rank_float(tokens, x, dot)
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
