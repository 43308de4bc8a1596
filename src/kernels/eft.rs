//! The error-free transformations the accurate kernels are built from (Knuth, Dekker; see
//! Muller et al., Handbook of Floating-Point Arithmetic, §4.3), the compensated sums and means
//! made of them, and exact scaling by powers of two.

/// `a + b = s + e` exactly, with `s = fl(a + b)` (Knuth's TwoSum; any order of magnitudes).
///
/// # Example
/// ```
/// use transformer_laws::scalar::two_sum;
/// assert_eq!(two_sum(1.0, 1e-20), (1.0, 1e-20)); // the part 1.0 + 1e-20 lost, recovered
/// ```
#[inline]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// `a · b = p + e` exactly, with `p = fl(a · b)` (via a fused multiply-add), barring underflow.
///
/// # Example
/// ```
/// use transformer_laws::scalar::two_prod;
/// let a = 1.0 + f64::EPSILON;
/// assert_eq!(two_prod(a, a), (1.0 + 2.0 * f64::EPSILON, f64::EPSILON * f64::EPSILON));
/// ```
///
/// With the `fma` target feature (e.g. `RUSTFLAGS="-C target-cpu=native"`) this is one fused
/// multiply-add; without it, Dekker's product with Veltkamp splitting (17 flops), because a
/// software `fma` call is several times slower.
#[inline]
pub fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    #[cfg(target_feature = "fma")]
    {
        (p, a.mul_add(b, -p))
    }
    #[cfg(not(target_feature = "fma"))]
    {
        if !p.is_finite() || a.abs() > 1e300 || b.abs() > 1e300 {
            return (p, a.mul_add(b, -p)); // the splitting would overflow: take the slow path
        }
        let (ah, al) = split(a);
        let (bh, bl) = split(b);
        (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
    }
}

/// Veltkamp's splitting: `a = hi + lo` with `hi`, `lo` of at most 26 significant bits.
#[cfg(not(target_feature = "fma"))]
#[inline]
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `a·b + c` with the product exact and one compensated addition: the error-free residual
/// `c − a·b` where the result is representable (remainders of divisions and square roots).
#[inline]
pub fn fma_residual(a: f64, b: f64, c: f64) -> f64 {
    let (p, e) = two_prod(a, b);
    let (s, t) = two_sum(p, c);
    s + (t + e)
}

/// A compensated (Neumaier) accumulator: the sum of `n` terms with error
/// `≤ u·|Σ| + γ_n²·Σ|xᵢ|` instead of `γ_n·Σ|xᵢ|`.
///
/// # Example
/// ```
/// use transformer_laws::scalar::Acc;
/// let mut acc = Acc::default();
/// for x in [1e16, 1.0, -1e16] {
///     acc.add(x);
/// }
/// assert_eq!(acc.value(), 1.0); // a plain sum gives 0
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Acc {
    hi: f64,
    lo: f64,
}

impl Acc {
    /// Add one term.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let (s, e) = two_sum(self.hi, x);
        self.hi = s;
        if s.is_finite() {
            self.lo += e;
        }
    }

    /// The sum rounded to `f64`.
    #[inline]
    pub fn value(&self) -> f64 {
        self.hi + self.lo
    }

    /// The sum as an unevaluated pair `(hi, lo)` with `hi = fl(hi + lo)`.
    #[inline]
    pub fn pair(&self) -> (f64, f64) {
        if !self.hi.is_finite() {
            return (self.hi, 0.0);
        }
        two_sum(self.hi, self.lo)
    }
}

/// `Σ xᵢ / n` as an unevaluated pair `(mh, ml)`, from the sum as a pair `(sh, sl)` (an
/// [`Acc::pair`]): `mh = fl(sh/n)` and `ml` the rest, `mh + ml` within `u²·|μ|` of the mean.
#[inline]
pub(crate) fn mean_pair((sh, sl): (f64, f64), n: f64) -> (f64, f64) {
    let mh = sh / n;
    (mh, (fma_residual(-mh, n, sh) + sl) / n)
}

/// `Σ xᵢ²` as a pair: exact squares (error-free products) in a compensated sum, within `u²` of
/// the exact sum relatively. The caller scales `x` so that the squares neither overflow nor
/// underflow.
pub(crate) fn sum_squares_pair(x: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let mut acc = Acc::default();
    for v in x {
        let (p, e) = two_prod(v, v);
        acc.add(p);
        acc.add(e);
    }
    acc.pair()
}

/// `√(sh + sl)` as a pair `(r, c)`: the rounded root with one Newton correction
/// (`c = (sh − r² + sl)/(2r)`, `sh − r²` exact), so `r + c` is within about half an ulp of the
/// exact root. Near the top of the range (`sh > 2¹⁰⁰⁰`) the residual `r·r − sh` would overflow:
/// the root of a quarter is taken and doubled (exact scalings).
pub(crate) fn sqrt_pair(sh: f64, sl: f64) -> (f64, f64) {
    let big = f64::from_bits((1023 + 1000) << 52);
    let (s, s_lo, two) = if sh > big {
        (sh / 4.0, sl / 4.0, 2.0)
    } else {
        (sh, sl, 1.0)
    };
    let r = s.sqrt();
    let c = (fma_residual(-r, r, s) + s_lo) / (2.0 * r);
    (r * two, c * two)
}

/// `x − mean(x)` with the special values of the norms' centering: `[]` for an empty row,
/// all NaN when any entry is NaN or ±∞, exact zeros for a constant row; otherwise each entry
/// within 1 ulp of its own value plus `u²·|μ|` (the row scaled by a power of two so that
/// nothing overflows, the mean carried as a pair).
pub(crate) fn centered(x: &[f64]) -> Vec<f64> {
    if x.iter().any(|v| !v.is_finite()) {
        return vec![f64::NAN; x.len()];
    }
    if x.iter().all(|&v| v == x[0]) {
        return vec![0.0; x.len()];
    }
    let m = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let k = unit_exponent(m);
    let xs: Vec<f64> = x.iter().map(|&v| scalbn(v, k)).collect();
    deviations(&xs).into_iter().map(|v| scalbn(v, -k)).collect()
}

/// `x − mean(x)` as pairs `(hi, lo)`: the mean is carried as a pair and each difference is
/// exact up to the rounding of the mean's low part, so the deviations are within about
/// `u²·|μ|` of the exact ones. The entries are at most 2 in magnitude (callers scale first),
/// so the sum cannot overflow.
pub(crate) fn deviation_pairs(x: &[f64]) -> Vec<(f64, f64)> {
    let mut acc = Acc::default();
    for &v in x {
        acc.add(v);
    }
    let (mh, ml) = mean_pair(acc.pair(), x.len() as f64);
    x.iter()
        .map(|&v| {
            let (a, b) = two_sum(v, -mh);
            two_sum(a, b - ml)
        })
        .collect()
}

/// `x − mean(x)`, each deviation of [`deviation_pairs`] rounded once.
pub(crate) fn deviations(x: &[f64]) -> Vec<f64> {
    deviation_pairs(x).into_iter().map(|(a, b)| a + b).collect()
}

/// The exponent `k` with `|x|·2^k ∈ [1, 2)`, for finite non-zero `x`: scaling by it (with
/// [`scalbn`]) keeps sums of squares from overflowing or underflowing.
pub(crate) fn unit_exponent(x: f64) -> i32 {
    debug_assert!(x.is_finite() && x != 0.0);
    -exponent_of(x)
}

/// `x·2^n` with a single rounding, for any `n` (musl's `scalbn`): exact unless the result
/// overflows or is subnormal.
///
/// # Example
/// ```
/// use transformer_laws::scalar::scalbn;
/// assert_eq!(scalbn(3.0, -2), 0.75);
/// assert_eq!(scalbn(1.5, -1074), 1e-323); // one rounding into the subnormals (ties to even)
/// ```
pub fn scalbn(x: f64, n: i32) -> f64 {
    let p1023 = f64::from_bits(0x7fe0_0000_0000_0000); // 2^1023
    let pm969 = f64::from_bits(0x0360_0000_0000_0000); // 2^-969 = 2^-1022 · 2^53
    let (mut y, mut n) = (x, n);
    if n > 1023 {
        y *= p1023;
        n -= 1023;
        if n > 1023 {
            y *= p1023;
            n -= 1023;
            n = n.min(1023);
        }
    } else if n < -1022 {
        y *= pm969;
        n += 969;
        if n < -1022 {
            y *= pm969;
            n += 969;
            n = n.max(-1022);
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}

/// `⌊log₂ |x|⌋` for finite non-zero `x` (subnormals included).
pub(crate) fn exponent_of(x: f64) -> i32 {
    let bits = x.abs().to_bits();
    let biased = (bits >> 52) as i32;
    if biased == 0 {
        // subnormal: 2^-1074 · mantissa
        let m = bits & ((1u64 << 52) - 1);
        -1074 + (63 - m.leading_zeros() as i32)
    } else {
        biased - 1023
    }
}

/// `2^k` as an `f64`, for any `k` (saturating to 0 or +∞ outside the range).
pub(crate) fn pow2(k: i32) -> f64 {
    // Split so that each factor is a normal power of two.
    let mut r = 1.0f64;
    let mut k = k;
    while k > 1000 {
        r *= f64::from_bits(((1000 + 1023) as u64) << 52);
        k -= 1000;
    }
    while k < -1000 {
        r *= f64::from_bits(((-1000 + 1023) as u64) << 52);
        k += 1000;
    }
    r * f64::from_bits(((k + 1023) as u64) << 52)
}

/// Ogita–Rump–Oishi `Dot2` on `f64`, with a Neumaier accumulator: as accurate as if computed in
/// twice the working precision, then rounded (the `f64` [`crate::Ring::dot_kernel`]).
pub(crate) fn dot2(a: &[f64], b: &[f64]) -> f64 {
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

/// `(Σ tᵢ, Σ|tᵢ|)` in `f64` for `f32` inputs, `tᵢ = aᵢ·bᵢ` (`DOT`) or `(aᵢ − bᵢ)²`: the terms
/// are exact in `f64` and summed in eight independent lanes (so the loop vectorizes), then the
/// remainder. The kernel behind the `f32` dot product and squared distance
/// ([`crate::Ring::dot_kernel`]) and the ranking's error bounds.
/// `Σ|tᵢ|` is accumulated only when `ABS` (it costs as much as the sum itself); otherwise the
/// second value is `Σ tᵢ` again (which is `Σ|tᵢ|` for the squared distance's terms).
pub(crate) fn f32_lanes<const DOT: bool, const ABS: bool>(a: &[f32], b: &[f32]) -> (f64, f64) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sum_is_exact() {
        let (s, e) = two_sum(1.0, 1e-20);
        assert_eq!(s, 1.0);
        assert_eq!(e, 1e-20);
    }

    #[test]
    fn two_prod_is_exact() {
        let a = 1.0 + f64::EPSILON;
        let (p, e) = two_prod(a, a);
        assert_eq!(p, 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(e, f64::EPSILON * f64::EPSILON);
    }

    #[test]
    fn exponent_and_pow2_agree() {
        for &x in &[1.0, 1.5, 2.0, 3.0, 1e-310, 5e-324, 1e308, 0.1] {
            let e = exponent_of(x);
            assert!(pow2(e) <= x && x < pow2(e + 1), "{x} {e}");
            let k = unit_exponent(x);
            assert!((1.0..2.0).contains(&scalbn(x, k)), "{x}");
            assert_eq!(scalbn(scalbn(x, k), -k), x);
        }
        assert_eq!(pow2(-1074), 5e-324);
        assert_eq!(pow2(1023), 2f64.powi(1023));
        // One rounding into the subnormals: 1.5·2^-1074 rounds to even (2^-1073), not twice.
        assert_eq!(scalbn(1.5, -1074), 2.0 * 5e-324);
        assert_eq!(scalbn(1.0, 2000), f64::INFINITY);
    }
}
