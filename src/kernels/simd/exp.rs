//! `exp(x)` for `x ≤ 0` in `f64` by one polynomial, the same on every path: the scalar
//! [`exp_poly`] here and the vector lanes of the `f32` kernels compute the same operations
//! (fused multiply-adds) in the same order, so they agree bit for bit.
//!
//! # Formula
//! ```text
//! k = round(x·log₂e)                          (x clamped to ≥ −708; results below → 0)
//! r = (x − k·ln2ₕ) − k·ln2ₗ                    two fused multiply-adds, |r| ≤ a = ln2/2·(1 + 2⁻³⁰)
//! exp(x) = 2^k · (1 + r·q(r)),    q(r) = Σ_{i=0}^{10} cᵢ rⁱ   (Horner, fused multiply-adds)
//! ```
//! `q` is the degree-10 Chebyshev interpolant of `(eʳ − 1)/r` on `[−a, a]`, its coefficients
//! rounded to `f64` (`scripts/exp_coefficients.py` computes them at 60 digits and checks every
//! number below). `c₀` rounds to exactly 1, so `exp_poly(0) = 1` exactly; `2^k` is added to the
//! exponent field, exact because every result kept is a normal number (`k ≥ −1021`).
//!
//! # Error bound (relative, in units of u = 2⁻⁵³)
//! ```text
//! interpolation  |g − q∞| ≤ aⁿ⁺¹·eᵃ/((n+2)·2ⁿ·(n+1)!) (n = 10), times |r|/eʳ ≤ a·eᵃ  →  0.11 u
//! coefficient rounding  Σ|ĉᵢ − cᵢ|·aⁱ⁺¹ / e⁻ᵃ                                     →  0.012 u
//! Horner on q (fma)     eᵢ ≤ u·|qᵢ| + a·eᵢ₊₁  ⇒  e₀ ≤ 1.42 u; times a/e⁻ᵃ              →  0.70 u
//! final fma 1 + r·q     one rounding                                                 →  1 u
//! reduction  r̂ − r: one rounding of each fma (|r| ≤ a), ln2 split error k·2⁻¹⁰⁸      →  0.70 u
//! total                                                                              ≤  2.6 u
//! ```
//! [`EXP_POLY_REL_ERR`] is that bound, rounded up to 3 u; `tests/suite/accuracy.rs` checks it against
//! the 256-bit oracle (the worst measured is about 1 u). The argument `x` itself must be exact
//! (for `f32` logits `z − m` is, unless the exponents of `z` and `m` differ by more than 29,
//! where its one rounding adds `u·|x|`).
//!
//! # Special values
//! `exp_poly(−∞) = 0`, `exp_poly(x) = 0` for `x < −708` (`e⁻⁷⁰⁸ ≈ 3·10⁻³⁰⁸`: what it flushes
//! is below `2⁻¹⁰²¹`, far under half the smallest `f32` subnormal, so no `f32` result changes).
//! Not defined for `x > 0` or NaN (the callers pass `zⱼ − max z`).

/// Coefficients `c₀ … c₁₀` of `q(r) ≈ (eʳ − 1)/r` (`scripts/exp_coefficients.py`).
pub(crate) const C: [f64; 11] = [
    1.0,
    0.5000000000000006,
    0.1666666666666667,
    0.04166666666657314,
    0.008333333333326141,
    0.0013888888932488599,
    0.00019841269874800493,
    2.4801504346997378e-05,
    2.7557255425746198e-06,
    2.7626357241575966e-07,
    2.510520637405601e-08,
];
/// `log₂ e`.
pub(crate) const LOG2E: f64 = std::f64::consts::LOG2_E;
/// `ln 2` rounded to `f64`.
pub(crate) const LN2_HI: f64 = std::f64::consts::LN_2;
/// `ln 2 − LN2_HI`, rounded.
pub(crate) const LN2_LO: f64 = 2.3190468138462996e-17;
/// `1.5·2⁵²`: adding it rounds to an integer and leaves `k` in the low mantissa bits.
pub(crate) const SHIFTER: f64 = 6755399441055744.0;
/// Below this the result is flushed to 0 (and 2^k stays normal above it).
pub(crate) const X_MIN: f64 = -708.0;

/// The relative error bound of [`exp_poly`] (and of the vector lanes), in units of
/// `u = 2⁻⁵³`: see the module docs.
pub const EXP_POLY_REL_ERR: f64 = 3.0;

/// `exp(x)` for `x ≤ 0` (or −∞) by the crate's polynomial: the scalar twin of the vector lanes,
/// bit for bit. Relative error ≤ [`EXP_POLY_REL_ERR`]·2⁻⁵³; 0 for `x < −708`.
///
/// Without a hardware FMA the fused multiply-adds run in software (correct, slow): this is the
/// reference the vector paths are tested against, not a fast path.
///
/// # Examples
/// ```
/// use transformer_laws::kernels::exp_poly;
/// assert_eq!(exp_poly(0.0), 1.0);
/// assert_eq!(exp_poly(f64::NEG_INFINITY), 0.0);
/// assert!((exp_poly(-1.0) / (-1.0f64).exp() - 1.0).abs() < 4e-16);
/// ```
#[inline]
pub fn exp_poly(x: f64) -> f64 {
    let xc = x.max(X_MIN);
    let t = xc.mul_add(LOG2E, SHIFTER);
    let kf = t - SHIFTER;
    let r = (-kf).mul_add(LN2_HI, xc);
    let r = (-kf).mul_add(LN2_LO, r);
    let mut q = C[10];
    for &c in C[..10].iter().rev() {
        q = q.mul_add(r, c);
    }
    let p = r.mul_add(q, 1.0);
    let y = f64::from_bits(p.to_bits().wrapping_add(t.to_bits() << 52));
    if x >= X_MIN { y } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_of_ln2_is_the_rounded_remainder() {
        // LN2_LO is ln 2 − LN2_HI to 17 digits: their sum rounds back to LN2_HI.
        assert_eq!(LN2_HI + LN2_LO, LN2_HI);
        assert!(LN2_LO.abs() < LN2_HI * f64::EPSILON);
    }

    #[test]
    fn exact_points_and_range() {
        assert_eq!(exp_poly(0.0), 1.0);
        assert_eq!(exp_poly(-0.0), 1.0);
        assert_eq!(exp_poly(-709.0), 0.0);
        assert!(exp_poly(-708.0) > 0.0 && exp_poly(-708.0) < 4e-308);
        // Every result kept is normal.
        assert!(exp_poly(-708.0) >= f64::MIN_POSITIVE);
        for x in [-1e-300, -1e-17, -0.25, -0.5, -1.0, -10.0, -100.0, -700.0] {
            let rel = (exp_poly(x) - x.exp()).abs() / x.exp();
            // libm's exp is within 1 ulp; the polynomial within 3 u.
            assert!(
                rel <= (EXP_POLY_REL_ERR + 2.0) * 2f64.powi(-53),
                "{x}: {rel:e}"
            );
        }
    }
}
