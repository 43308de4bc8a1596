//! `exp(x)` for `x ≤ 0` in `f64` by a table and a polynomial: the scalar [`exp_poly`] here and
//! the AVX2 lanes of the `f32` kernels compute the same values (fused multiply-adds in the same
//! order), so they agree bit for bit. The AVX-512 lanes compute [`exp_poly16`] (further down):
//! a sixteen-entry table and a degree-5 polynomial, within the same bound, bit for bit its
//! scalar form.
//!
//! # Formula
//! ```text
//! x·8/ln 2 rounded to an integer 8k + j (0 ≤ j < 8)   (x clamped to ≥ −708; results below → 0)
//! r = (x − (8k + j)·ln2ₕ/8) − (8k + j)·ln2ₗ/8     two fused multiply-adds, |r| ≤ a = ln2/16·(1 + 2⁻³⁰)
//! exp(x) = S + S·p,   S = 2^k·T[j],   T[j] = 2^(j/8) rounded to f64,   p = r·q(r)
//! q(r) = c₀ + r·(c₁ + r·(c₂ + … + r·(c₅ + r·c₆)))   (Horner, six fused multiply-adds)
//! ```
//! `q` is the degree-6 Chebyshev interpolant of `(eʳ − 1)/r` on `[−a, a]`, its coefficients
//! rounded to `f64`; [`T`] holds `2^(j/8)`, each entry rounded to nearest
//! (`scripts/exp_coefficients.py` computes both at 60 digits and checks every number below).
//! Horner's scheme rather than Estrin's: it takes the fewest operations (Estrin's adds r² and
//! r⁴), and the vector lanes are bound by the count of operations, not by the depth of one
//! chain (they run four registers in lockstep, and the processor overlaps consecutive steps);
//! its rounding error is also the smaller. Eight table entries rather than four: a degree
//! less, and the AVX2 lookup stays cheap: four operations (two permutations of the 32-bit
//! halves, a shift and a blend). `exp_poly(0) = T[0] = 1` exactly.
//!
//! `S = 2^k·T[j]` is formed on the bits, before the last fused multiply-add, by one integer
//! addition: the table holds `T[j]`'s bits less `j·2⁴⁹` (`T_SHIFTED_BITS`), and `t`'s bits
//! shifted left by 49 are `(8k + j)·2⁴⁹` (the bits above 64 drop out), so the sum is `T[j]`'s
//! bits plus `k·2⁵²`: `k` added to the exponent field. `S` is a normal number for every
//! `x ≥ −708` (`k ≥ −1022`), and so is every result kept (`e⁻⁷⁰⁸ > 2⁻¹⁰²²`), so the fused
//! multiply-add on `S` rounds `2^k·(T[j] + T[j]·p)` to exactly `2^k` times the rounding of
//! `T[j] + T[j]·p`: scaling before it or after it gives the same bits, and the error bound below
//! is that of the unscaled value.
//!
//! # Error bound (relative, in units of u = 2⁻⁵³)
//! ```text
//! table entry T[j]      one rounding                                                  →  1 u
//! final fma T + T·p     one rounding                                                  →  1 u
//! interpolation  |g − q∞| ≤ aⁿ⁺¹·eᵃ/((n+2)·2ⁿ·(n+1)!) (n = 6), times |r|/eʳ ≤ a·eᵃ    →  0.048 u
//! coefficient rounding  Σ|ĉᵢ − cᵢ|·aⁱ⁺¹ / e⁻ᵃ                                          →  0.001 u
//! Horner on q (each fma one rounding: |ĥᵢ − hᵢ| ≤ a·|ĥᵢ₊₁ − hᵢ₊₁| + u·|ĥᵢ|, with
//!   |hᵢ| ≤ Σ_{k≥i}|cₖ|·aᵏ⁻ⁱ) ≤ 1.05 u; then p = r·q one rounding; ÷ e⁻ᵃ                 →  0.094 u
//! reduction  r̂ − r: one rounding of each fma (|r| ≤ a), ln2 split error (8k + j)·2⁻¹¹²  →  0.091 u
//! total                                                                               ≤  2.24 u
//! ```
//! [`EXP_POLY_REL_ERR`] is that bound, rounded up to 3 u; `tests/suite/accuracy.rs` checks it
//! against the 256-bit oracle. The argument `x` itself must be exact
//! (for `f32` logits `z − m` is, unless the exponents of `z` and `m` differ by more than 29,
//! where its one rounding adds `u·|x|`).
//!
//! # Special values
//! `exp_poly(−∞) = 0`, `exp_poly(x) = 0` for `x < −708` (`e⁻⁷⁰⁸ ≈ 3·10⁻³⁰⁸`: what it flushes
//! is below `2⁻¹⁰²¹`, far under half the smallest `f32` subnormal, so no `f32` result changes).
//! Not defined for `x > 0` or NaN (the callers pass `zⱼ − max z`).

/// Coefficients `c₀ … c₆` of `q(r) ≈ (eʳ − 1)/r` (`scripts/exp_coefficients.py`).
pub(crate) const C: [f64; 7] = [
    1.0,
    0.500000000000018,
    0.16666666666666866,
    0.041666666590226054,
    0.008333333324839985,
    0.001388970348025617,
    0.00019842174938499476,
];

/// `T[j] = 2^(j/8)` rounded to nearest `f64` (`scripts/exp_coefficients.py`), as bit patterns.
pub(crate) const T_BITS: [u64; 8] = [
    0x3ff0000000000000,
    0x3ff172b83c7d517b,
    0x3ff306fe0a31b715,
    0x3ff4bfdad5362a27,
    0x3ff6a09e667f3bcd,
    0x3ff8ace5422aa0db,
    0x3ffae89f995ad3ad,
    0x3ffd5818dcfba487,
];

/// `T[j] = 2^(j/8)` rounded to nearest `f64`, `j = 0 … 7`.
pub const T: [f64; 8] = from_bits(T_BITS);

/// A table of `f64` from their bit patterns.
const fn from_bits<const N: usize>(bits: [u64; N]) -> [f64; N] {
    let mut t = [0.0; N];
    let mut j = 0;
    while j < N {
        t[j] = f64::from_bits(bits[j]);
        j += 1;
    }
    t
}

/// `T[j]`'s bits less `j·2⁴⁹` (wrapping): adding `(8k + j)·2⁴⁹` gives the bits of `2^k·T[j]`
/// (see the module docs).
pub(crate) const T_SHIFTED_BITS: [u64; 8] = {
    let mut t = [0u64; 8];
    let mut j = 0;
    while j < 8 {
        t[j] = T_BITS[j].wrapping_sub((j as u64) << 49);
        j += 1;
    }
    t
};

/// `8·log₂ e`.
pub(crate) const LOG2E_8: f64 = std::f64::consts::LOG2_E * 8.0;
/// `ln 2 / 8` rounded to `f64` (an exact scaling of `ln 2` rounded).
pub(crate) const LN2_HI_8: f64 = std::f64::consts::LN_2 / 8.0;
/// `(ln 2 − 8·LN2_HI_8)/8`, rounded (an exact scaling of the remainder rounded).
pub(crate) const LN2_LO_8: f64 = 2.3190468138462996e-17 / 8.0;
/// `1.5·2⁵²`: adding it rounds to an integer and leaves `8k + j` in the low mantissa bits.
pub(crate) const SHIFTER: f64 = 6755399441055744.0;
/// Below this the result is flushed to 0 (and 2^k stays normal above it).
pub(crate) const X_MIN: f64 = -708.0;

/// The relative error bound of [`exp_poly`] and [`exp_poly16`] (and of the vector lanes, bit
/// for bit the one or the other), in units of `u = 2⁻⁵³`: see their docs.
pub const EXP_POLY_REL_ERR: f64 = 3.0;

/// `exp(x)` for `x ≤ 0` (or −∞) by the crate's polynomial: the scalar twin of the AVX2 lanes,
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
    let (tb, p) = reduce(x.max(X_MIN));
    let s = two_k_t(tb);
    let y = s.mul_add(p, s);
    if x >= X_MIN { y } else { 0.0 }
}

/// The reduction and the polynomial of [`exp_poly`] for `−708 ≤ x ≤ 0`: the bits of `t` (whose
/// low bits hold `8k + j`) and `p = r·q(r)`, so that `exp(x) ≈ 2^k·T[j]·(1 + p)`.
#[inline]
fn reduce(x: f64) -> (u64, f64) {
    let (t, _, p) = reduce_by(x, (LOG2E_8, SHIFTER, LN2_HI_8, LN2_LO_8), &C);
    (t.to_bits(), p)
}

/// The reduction and the polynomial of a table `exp`, its constants given: `t = x·s + shifter`
/// (`s` the table's entries per unit of `log₂`, times `log₂ e`), `a = t − shifter`,
/// `r = (x − a·ln2ₕ) − a·ln2ₗ` (the split of `ln 2` scaled alike), `p = r·q(r)` with `q` in
/// Horner's scheme on the coefficients `c`: `(t, a, p)`, each operation as the lanes run it.
#[inline]
fn reduce_by(
    x: f64,
    (s, shifter, ln2_hi, ln2_lo): (f64, f64, f64, f64),
    c: &[f64],
) -> (f64, f64, f64) {
    let t = x.mul_add(s, shifter);
    let a = t - shifter;
    let r = (-a).mul_add(ln2_hi, x);
    let r = (-a).mul_add(ln2_lo, r);
    let (last, rest) = c.split_last().expect("coefficients");
    let mut q = *last;
    for &c in rest.iter().rev() {
        q = q.mul_add(r, c);
    }
    (t, a, r * q)
}

/// `2^k·T[j]` from the bits `tb` of `t` (whose low bits hold `8k + j`): the shifted table
/// entry plus `tb << 49` (the bits above 64 — the exponent, the shifter's `2⁵¹` — drop out).
#[inline]
fn two_k_t(tb: u64) -> f64 {
    f64::from_bits(T_SHIFTED_BITS[(tb & 7) as usize].wrapping_add(tb << 49))
}

// ---- The AVX-512 lanes' exp: sixteen table entries, degree 5 ----

/// `T₁₆[j] = 2^(j/16)` rounded to nearest `f64` (`scripts/exp_coefficients.py 16 5`), as bit
/// patterns.
pub(crate) const T16_BITS: [u64; 16] = [
    0x3ff0000000000000,
    0x3ff0b5586cf9890f,
    0x3ff172b83c7d517b,
    0x3ff2387a6e756238,
    0x3ff306fe0a31b715,
    0x3ff3dea64c123422,
    0x3ff4bfdad5362a27,
    0x3ff5ab07dd485429,
    0x3ff6a09e667f3bcd,
    0x3ff7a11473eb0187,
    0x3ff8ace5422aa0db,
    0x3ff9c49182a3f090,
    0x3ffae89f995ad3ad,
    0x3ffc199bdd85529c,
    0x3ffd5818dcfba487,
    0x3ffea4afa2a490da,
];

/// Coefficients `c₀ … c₅` of `q(r) ≈ (eʳ − 1)/r` on `[−a, a]`, `a = ln2/32·(1 + 2⁻³⁰)`: the
/// degree-5 Chebyshev interpolant, rounded (`scripts/exp_coefficients.py 16 5`).
pub(crate) const C16: [f64; 6] = [
    1.0000000000000007,
    0.5000000000000001,
    0.16666666664209706,
    0.041666666663595475,
    0.008333472974951489,
    0.0013889063440655652,
];

/// `log₂ e` rounded.
pub(crate) const LOG2E: f64 = std::f64::consts::LOG2_E;
/// `ln 2` rounded, and the remainder `ln 2 − LN2_HI` rounded.
pub(crate) const LN2_HI: f64 = std::f64::consts::LN_2;
pub(crate) const LN2_LO: f64 = LN2_LO_8 * 8.0;
/// `1.5·2⁴⁸`: adding it rounds to a multiple of 1/16 and leaves `16·A mod 16` (the table
/// index) in the four low significand bits.
pub(crate) const SHIFTER16: f64 = SHIFTER / 16.0;

/// `T₁₆[j] = 2^(j/16)` rounded to nearest `f64`, `j = 0 … 15`.
pub const T16: [f64; 16] = from_bits(T16_BITS);

/// `exp(x)` for `x ≤ 0` (or −∞) by a sixteen-entry table and a degree-5 polynomial: the `exp`
/// of the AVX-512 lanes of the `f32` kernels, bit for bit (their scalar twin, as [`exp_poly`]
/// is the AVX2 lanes'). Relative error ≤ [`EXP_POLY_REL_ERR`]·2⁻⁵³; 0 for `x < −708`.
///
/// The table costs the AVX-512 lanes one permutation across two registers (`vpermi2pd`) and
/// saves them a fused multiply-add of the polynomial; on AVX2 its lookup would cost four
/// operations more than the eight-entry table's, so those lanes keep [`exp_poly`].
///
/// # Formula
/// ```text
/// A = x·log₂e rounded to a multiple of 1/16   (one fused multiply-add onto 1.5·2⁴⁸)
/// r = (x − A·ln2ₕ) − A·ln2ₗ                   two fused multiply-adds, |r| ≤ a = ln2/32·(1 + 2⁻³⁰)
/// exp(x) = 2^⌊A⌋ · T₁₆[j] · (1 + p),  j = 16·(A − ⌊A⌋),  p = r·q(r)
/// q(r) = c₀ + r·(c₁ + … + r·c₅)               (Horner, five fused multiply-adds)
/// ```
/// `T₁₆[j](1 + p)` is rounded by one fused multiply-add and scaled by `2^⌊A⌋` (the lanes'
/// `vscalefpd`), exactly: every result kept is a normal number.
///
/// # Error bound (relative, in units of u = 2⁻⁵³; `scripts/exp_coefficients.py 16 5`)
/// ```text
/// table entry 1 u, final fma 1 u, interpolation 0.131 u, coefficient rounding 0.005 u,
/// Horner and p = r·q 0.045 u, reduction (two fma roundings of |r| ≤ a) 0.044 u   ≤  2.23 u
/// ```
/// The slack `2⁻³⁰` in `a` holds the rounding of `log₂ e` (`|x|·2⁻⁵³` in `A`, `|x| ≤ 708`);
/// the split of `ln 2` leaves `|A|·2⁻¹⁰⁷ < 2⁻⁹⁶` in `r`.
///
/// # Examples
/// ```
/// use transformer_laws::kernels::exp::exp_poly16;
/// assert_eq!(exp_poly16(0.0), 1.0);
/// assert_eq!(exp_poly16(f64::NEG_INFINITY), 0.0);
/// assert!((exp_poly16(-1.0) / (-1.0f64).exp() - 1.0).abs() < 4e-16);
/// ```
#[inline]
pub fn exp_poly16(x: f64) -> f64 {
    let (t, a, p) = reduce_by(x.max(X_MIN), (LOG2E, SHIFTER16, LN2_HI, LN2_LO), &C16);
    let tj = T16[(t.to_bits() & 15) as usize];
    // Scaled by 2^⌊A⌋ as vscalefpd scales: exact, the result being normal.
    let y = crate::kernels::eft::scalbn(tj.mul_add(p, tj), a.floor() as i32);
    if x >= X_MIN { y } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments over [−708, 0]: a grid of step 0.0173 and three neighbours of each point.
    fn over_the_range(mut check: impl FnMut(f64)) {
        let mut x = -708.0f64;
        while x <= 0.0 {
            for v in [x, x + 1e-9, x - 3.7e-13, -x.abs() * (1.0 - 1e-16)] {
                check(v.clamp(X_MIN, 0.0));
            }
            x += 0.0173;
        }
    }

    #[test]
    fn split_of_ln2_is_the_rounded_remainder() {
        // LN2_LO_8 is (ln 2 − 8·LN2_HI_8)/8 to 17 digits: their sum rounds back.
        assert_eq!(LN2_HI_8 + LN2_LO_8, LN2_HI_8);
        assert!(LN2_LO_8.abs() < LN2_HI_8 * f64::EPSILON);
        assert_eq!(LN2_HI_8 * 8.0, std::f64::consts::LN_2);
    }

    #[test]
    fn table_is_the_eighth_roots_of_powers_of_two() {
        // T[4] = √2 and T[2] = √√2 (sqrt is correctly rounded; the second within an ulp); every
        // T[i]·T[j] with i + j < 8 lands within two ulps of T[i + j] (a product of two correctly
        // rounded values: within 1.5 ulp, plus the rounding of the product).
        assert_eq!(T[0], 1.0);
        assert_eq!(T[4], 2f64.sqrt());
        let ulp = |v: f64| f64::from_bits(v.to_bits() + 1) - v;
        assert!((T[2] - 2f64.sqrt().sqrt()).abs() <= ulp(T[2]));
        for i in 1..8 {
            for j in 1..8 - i {
                assert!(
                    (T[i] * T[j] - T[i + j]).abs() <= 2.0 * ulp(T[i + j]),
                    "{i} {j}"
                );
            }
        }
        assert!(T.windows(2).all(|w| w[0] < w[1]) && T[7] < 2.0);
    }

    #[test]
    fn shifted_table_plus_the_shifted_bits_is_a_power_of_two_times_the_entry() {
        // Every k the clamp admits (x ≥ −708: 8k + j ≥ −8172) up to 0, every j: the bits of t
        // as the reduction forms them, and 2^k·T[j] computed by multiplication (exact: normal).
        for n in -8172i64..=0 {
            let t = (n as f64 + SHIFTER).to_bits();
            assert_eq!(t & 7, n.rem_euclid(8) as u64);
            let (k, j) = (n.div_euclid(8), n.rem_euclid(8) as usize);
            let want = T[j] * 2f64.powi(k as i32);
            assert!(want.is_normal(), "{n}");
            assert_eq!(two_k_t(t).to_bits(), want.to_bits(), "8k + j = {n}");
        }
        // At the clamp's bound x = −708, as the reduction rounds it: 8k + j ≥ −8172, S normal.
        let t = X_MIN.mul_add(LOG2E_8, SHIFTER);
        assert!((t - SHIFTER) >= -8172.0 && two_k_t(t.to_bits()).is_normal());
    }

    #[test]
    fn scaling_before_the_last_fma_is_scaling_after_it() {
        // exp_poly rounds S + S·p with S = 2^k·T[j]; the error bound is derived for T[j] + T[j]·p
        // rounded, then scaled. Both give the same bits over the whole range.
        over_the_range(|v| {
            let (tb, p) = reduce(v);
            let n = (f64::from_bits(tb) - SHIFTER) as i64;
            let (k, j) = (n.div_euclid(8), n.rem_euclid(8) as usize);
            let want = T[j].mul_add(p, T[j]) * 2f64.powi(k as i32);
            assert_eq!(exp_poly(v).to_bits(), want.to_bits(), "x = {v:e}");
        });
    }

    #[test]
    fn sixteenth_roots_table_and_ln2_split() {
        // T₁₆[2j] = T[j]; T₁₆[8] = √2 (sqrt is correctly rounded); increasing, below 2.
        for j in 0..8 {
            assert_eq!(T16_BITS[2 * j], T_BITS[j], "{j}");
        }
        assert_eq!(T16[8], 2f64.sqrt());
        assert!(T16_BITS.windows(2).all(|w| w[0] < w[1]) && f64::from_bits(T16_BITS[15]) < 2.0);
        assert_eq!(LN2_HI + LN2_LO, LN2_HI);
        assert_eq!(LN2_LO, 2.3190468138462996e-17);
        assert_eq!((SHIFTER16 + 0.0625) - SHIFTER16, 0.0625);
        assert_eq!((SHIFTER16 + 0.03125) - SHIFTER16, 0.0); // ties to even: 1/16 is the step
    }

    #[test]
    fn both_tables_are_correctly_rounded() {
        // t rounds x = 2^(j/N) to nearest iff |t − x| < ulp(t)/2 = 2⁻⁵³ (t in [1, 2); a tie is
        // impossible, x being irrational for 0 < j < N). With t^N = 2^j·(1 + δ) in double-word
        // arithmetic (N = 2^s: s squarings, within about 2⁻¹⁰⁰), t − x = x·((1 + δ)^(1/N) − 1)
        // = t·δ/N up to δ², far below the margin. An entry one ulp off is 2⁻⁵³ or more away.
        for (table, n) in [(&T[..], 8u32), (&T16[..], 16)] {
            for (j, &t) in table.iter().enumerate() {
                let mut p = (t, 0.0);
                for _ in 0..n.trailing_zeros() {
                    p = crate::kernels::dd::mul(p, p);
                }
                let two_j = 2f64.powi(j as i32);
                let delta = ((p.0 - two_j) + p.1) / two_j;
                let dist = t * delta / f64::from(n);
                assert!(dist.abs() < 2f64.powi(-53), "N = {n}, j = {j}: {dist:e}");
            }
        }
    }

    #[test]
    fn sixteen_entry_exp_scales_after_the_last_fma() {
        // exp_poly16 rounds T₁₆[j] + T₁₆[j]·p and scales by 2^⌊A⌋: the error bound is that of
        // the unscaled value, and every result it keeps is normal.
        over_the_range(|v| {
            let (t, _, p) = reduce_by(v, (LOG2E, SHIFTER16, LN2_HI, LN2_LO), &C16);
            let n = ((t - SHIFTER16) * 16.0) as i64;
            let (k, j) = (n.div_euclid(16), n.rem_euclid(16) as usize);
            // The lanes index the table by t's four low bits: j.
            assert_eq!((t.to_bits() & 15) as usize, j);
            let want = T16[j].mul_add(p, T16[j]) * 2f64.powi(k as i32);
            assert!(want.is_normal(), "{v:e}");
            assert_eq!(exp_poly16(v).to_bits(), want.to_bits(), "x = {v:e}");
        });
    }

    #[test]
    fn exact_points_and_range() {
        // Both exps: the AVX2 lanes' and the AVX-512 lanes'.
        for exp in [exp_poly, exp_poly16] {
            assert_eq!(exp(0.0), 1.0);
            assert_eq!(exp(-0.0), 1.0);
            assert_eq!(exp(-709.0), 0.0);
            assert!(exp(-708.0) > 0.0 && exp(-708.0) < 4e-308);
            // Every result kept is normal.
            assert!(exp(-708.0) >= f64::MIN_POSITIVE);
            for x in [-1e-300, -1e-17, -0.25, -0.5, -1.0, -10.0, -100.0, -700.0] {
                let rel = (exp(x) - x.exp()).abs() / x.exp();
                // libm's exp is within 1 ulp; the polynomial within 3 u.
                assert!(
                    rel <= (EXP_POLY_REL_ERR + 2.0) * 2f64.powi(-53),
                    "{x}: {rel:e}"
                );
            }
        }
    }
}
