//! Double-word (`f64` pair) `exp`, `expm1` and `ln(1 + s)`: what lets the `f64` softmax family
//! round once, at the end, from a value within about 2⁻⁹⁷ of the exact one.
//!
//! A pair `(h, l)` stands for the unevaluated sum `h + l` with `|l| ≤ ulp(h)/2`.
//!
//! # `exp(xₕ + xₗ)` — the algorithm and its error
//!
//! ```text
//! k = round(xₕ/ln 2),   r = (xₕ + xₗ) − k·ln 2         |r| ≤ ln2/2 (+ 2⁻⁵⁰)
//! s = r/2⁶,             e^s − 1 = s + s²/2! + … + s¹⁰/10!   |s| ≤ 2⁻⁷·⁴
//! e^r − 1 = ((1 + (e^s − 1))^(2⁶)) − 1   by six squarings  w ↦ 2w + w²
//! exp(x) = (1 + (e^r − 1))·2^k
//! ```
//!
//! * `k·ln 2` with `ln 2` as three `f64` (`LN2_H + LN2_M + LN2_L`, within 2⁻¹⁶⁰ of ln 2) and
//!   the products `k·LN2_H`, `k·LN2_M` exact (error-free products): `r` as a pair is within
//!   `|k|·2⁻¹⁶⁰ + 2⁻¹⁰⁶` of the exact reduced argument (the rounding of the small low-order
//!   sum), so `e^r` is within `2⁻¹⁰⁵` relatively.
//! * Truncating the series after `s¹⁰/10!` leaves `|s|¹¹/11! ≤ 2⁻¹⁰⁷`; the double-word
//!   Horner steps (coefficients `1/n!` as pairs, within `2⁻¹⁰⁶` relatively) add at most
//!   `12·2⁻¹⁰⁶·|s|`, and the low part `sₗ` enters as `sₗ·e^{sₕ}` (neglected `sₗ²/2 ≤ 2⁻¹²⁰`).
//!   So `1 + (e^s − 1)` is within `δ₀ ≤ 2⁻¹⁰⁵` relatively.
//! * Each squaring doubles the relative error and adds its own (a pair product and a pair sum,
//!   `≤ 4·2⁻¹⁰⁶` of `|w| ≤ 0.42` relative to `1 + w ≥ 0.7`): `δ₆ ≤ 2⁶·δ₀ + 2⁶·2⁻¹⁰⁴ ≤ 2⁻⁹⁷`.
//!
//! Altogether `|computed/exact − 1| ≤ 2⁻⁹⁶` ([`EXP_DD_REL_ERR`], checked against the 256-bit
//! oracle in `tests/accuracy.rs`), for `x` down to −746 (below, `e^x < 2⁻¹⁰⁷⁶` and the
//! result is 0). The scale `2^k` is returned apart, so a subnormal result keeps its digits
//! until the caller's one rounding.
//!
//! `expm1` is the same `e^r − 1` when `k = 0` (relative accuracy for small arguments), and
//! `ln(1 + s)` is one Newton step `y₁ = y₀ − (expm1(y₀) − s)/e^{y₀}` from `libm`'s `ln_1p`
//! (within an ulp): the quadratic term `(y₁ − y)² ≤ 2⁻¹⁰⁰·y²` and the exp error `2⁻⁹⁶·s`
//! leave `y₁` within `2⁻⁹⁵` relatively.

use super::eft::{two_prod, two_sum};

/// Relative error bound of [`exp_dd`] (and of [`expm1_dd`] relative to its own value, and of
/// [`ln1p_dd`] up to a factor 2): `2⁻⁹⁶`.
///
/// ```
/// use transformer_laws::kernels::dd::EXP_DD_REL_ERR;
/// assert_eq!(EXP_DD_REL_ERR, 2f64.powi(-96));
/// ```
pub const EXP_DD_REL_ERR: f64 = 1.262_177_448_353_619e-29;

/// `ln 2` as three parts (`LN2_H + LN2_M` is its double-word value; `LN2_L` the rest).
const LN2_H: f64 = std::f64::consts::LN_2;
const LN2_M: f64 = 2.319_046_813_846_299_6e-17;
const LN2_L: f64 = 5.707_708_438_416_212e-34;

/// `1/n!` for n = 3 … 5 as pairs: `hi` the rational rounded to `f64`, `lo` the rest rounded.
const C3: (f64, f64) = (0.166_666_666_666_666_66, 9.251_858_538_542_97e-18);
const C4: (f64, f64) = (0.041_666_666_666_666_664, 2.312_964_634_635_742_7e-18);
const C5: (f64, f64) = (0.008_333_333_333_333_333, 1.156_482_317_317_871_4e-19);
/// `1/n!` for n = 6 … 10, single `f64` (their terms are below 2⁻⁵¹: one rounding is enough).
const C6: f64 = 0.001_388_888_888_888_889;
const C7: f64 = 0.000_198_412_698_412_698_4;
const C8: f64 = 2.480_158_730_158_73e-5;
const C9: f64 = 2.755_731_922_398_589_3e-6;
const C10: f64 = 2.755_731_922_398_589e-7;

/// Squarings after the reduction by `2⁶`.
const SQUARINGS: u32 = 6;

/// `a + b` as a pair when `|a| ≥ |b|` (or `a = 0`).
#[inline]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `(h, l)·x` as a pair.
#[inline]
fn mul_d(a: (f64, f64), x: f64) -> (f64, f64) {
    let (p, e) = two_prod(a.0, x);
    fast_two_sum(p, e + a.1 * x)
}

/// `a·b` of two pairs.
#[inline]
pub(crate) fn mul(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (p, e) = two_prod(a.0, b.0);
    fast_two_sum(p, e + (a.0 * b.1 + a.1 * b.0))
}

/// `a + b` of two pairs (no cancellation between them in the uses here).
#[inline]
pub(crate) fn add(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (s, e) = two_sum(a.0, b.0);
    fast_two_sum(s, e + (a.1 + b.1))
}

/// `e^s − 1` for `|s| ≤ 2⁻⁷` as a pair.
#[inline]
fn expm1_small(s: f64) -> (f64, f64) {
    let tail = C6 + s * (C7 + s * (C8 + s * (C9 + s * C10)));
    let mut acc = fast_two_sum(C5.0, C5.1 + s * tail);
    for c in [C4, C3, (0.5, 0.0), (1.0, 0.0)] {
        acc = add(c, mul_d(acc, s));
    }
    mul_d(acc, s)
}

/// `(k, e^r − 1)` with `xₕ + xₗ = k·ln 2 + r`, `|r| ≤ ln2/2`: the shared core.
#[inline]
fn exp_core(xh: f64, xl: f64) -> (i32, (f64, f64)) {
    let kf = (xh * std::f64::consts::LOG2_E).round();
    let (p1, e1) = two_prod(kf, LN2_H);
    let (s, se) = two_sum(xh, -p1);
    let (p2, e2) = two_prod(kf, LN2_M);
    let (t, te) = two_sum(-e1, xl);
    let (t2, te2) = two_sum(t, -p2);
    let low = ((se + te) + te2) - (e2 + kf * LN2_L);
    let (rh, rl) = two_sum(s, t2);
    let (rh, rl) = fast_two_sum(rh, rl + low);
    let scale = 1.0 / f64::from(1u32 << SQUARINGS);
    let (sh, sl) = (rh * scale, rl * scale);
    let w = expm1_small(sh);
    // e^{sₕ + sₗ} − 1 = w + sₗ·(1 + w)
    let mut w = add(w, (sl + sl * w.0, 0.0));
    for _ in 0..SQUARINGS {
        w = add((2.0 * w.0, 2.0 * w.1), mul(w, w));
    }
    (kf as i32, w)
}

/// `exp(xₕ + xₗ) = (h + l)·2^k` with `h + l ∈ [0.7, 1.42]`, within [`EXP_DD_REL_ERR`];
/// `(0, 0, 0)` for `xₕ < −746` (and `xₕ = −∞`). For `xₕ ≤ 709` and `|xₗ| ≤ ulp(xₕ)`.
pub fn exp_dd(xh: f64, xl: f64) -> (f64, f64, i32) {
    if xh < -746.0 {
        return (0.0, 0.0, 0);
    }
    let (k, w) = exp_core(xh, xl);
    let (h, l) = two_sum(1.0, w.0);
    let (h, l) = fast_two_sum(h, l + w.1);
    (h, l, k)
}

/// `exp(x) − 1` as a pair, relative to its own value within about [`EXP_DD_REL_ERR`], for
/// `−746 ≤ x ≤ 709`.
pub fn expm1_dd(x: f64) -> (f64, f64) {
    let (k, w) = exp_core(x, 0.0);
    if k == 0 {
        return w;
    }
    // (1 + w)·2^k − 1, no cancellation: |e^x − 1| ≥ 0.29·max(e^x, 1) for |x| ≥ ln2/2.
    let p = super::eft::pow2(k);
    let (h, l) = two_sum(p, -1.0);
    add((h, l), (w.0 * p, w.1 * p))
}

/// `ln(1 + s)` for a pair `s = sₕ + sₗ ≥ 0`, as a pair within `2·`[`EXP_DD_REL_ERR`]
/// relatively.
pub fn ln1p_dd(sh: f64, sl: f64) -> (f64, f64) {
    if sh == 0.0 || !sh.is_finite() {
        return (sh.ln_1p(), 0.0);
    }
    let y0 = sh.ln_1p();
    let (eh, el) = expm1_dd(y0);
    // expm1(y₀) − s: the two agree to about an ulp, so the difference is nearly exact.
    let (dh, dl) = two_sum(eh, -sh);
    let num = dh + (dl + (el - sl));
    let c = num / (1.0 + eh);
    fast_two_sum(y0, -c)
}
