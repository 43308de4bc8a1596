//! `logsumexp`, `softmax`, `log_softmax`, `softmax_with_temperature` and `entropy`.
//!
//! All five share one stable core: shift by the maximum `m`, take the differences `zⱼ − m`
//! exactly (as an unevaluated pair of `f64`), and split the sum of exponentials as
//! `1 + S` with `S = Σ_{j≠k} exp(zⱼ − m)` (`k` the first argmax) so that `ln(1 + S)` is
//! `log1p(S)`: a dominant logit's log-probability is `−log1p(S) ≈ −S`, not a rounded 0.
//!
//! # Special values (every function of this module)
//!
//! | input | softmax | log_softmax | logsumexp | entropy |
//! |---|---|---|---|---|
//! | empty | `[]` | `[]` | −∞ | NaN |
//! | NaN anywhere | all NaN | all NaN | NaN | NaN |
//! | `c` entries +∞ (no NaN) | 1/c on them, 0 elsewhere | −ln c on them, −∞ elsewhere | +∞ | ln c |
//! | all −∞ | all NaN | all NaN | −∞ | NaN |
//! | some −∞, max finite | 0 there | −∞ there | finite | finite |
//!
//! The +∞ rule is the limit of the function as those entries grow together; PyTorch returns
//! NaN there (it computes `∞ − ∞`).

use crate::kernels::scalar::{
    Acc, Real, fma_residual, narrow_all, scalbn, two_prod, two_sum, widen_all,
};

use crate::kernels::dd;

/// `x·2^k` for the exponent of a double-word `exp` (one rounding only if subnormal).
#[inline]
fn scale2(x: f64, k: i32) -> f64 {
    if k == 0 { x } else { scalbn(x, k) }
}

/// A row of logits sorted into the cases of the special-value table.
pub(crate) enum Row {
    Empty,
    Nan,
    /// Some entries are +∞: `mask[j]` tells which; `count` of them.
    PosInf {
        mask: Vec<bool>,
        count: usize,
    },
    AllNegInf,
    Finite(Finite),
}

/// The stable core for a row whose maximum is finite. Every quantity is a double-word pair
/// within about 2⁻⁹⁶ of its exact value (`kernels::dd`), so each output is rounded once.
pub(crate) struct Finite {
    /// Maximum logit (before any temperature).
    pub m: f64,
    /// First index of the maximum.
    k: usize,
    /// `(zⱼ − m)/T` as an unevaluated pair `(hi, lo)`.
    pub d: Vec<(f64, f64)>,
    /// `exp((zⱼ − m)/T) = (h + l)·2^e` as `(h, l, e)` (`(1, 0, 0)` at the maximum).
    e: Vec<(f64, f64, i32)>,
    /// `S = Σ_{j≠k} eⱼ` as a pair.
    pub s: (f64, f64),
    /// `1 + S` as a pair.
    total: (f64, f64),
    /// `ln(1 + S)` as a pair.
    log_total: (f64, f64),
}

impl Row {
    /// Classify and, when finite, compute the shifted exponentials of `z / t` (`t > 0`).
    pub(crate) fn new(z: &[f64], t: f64) -> Row {
        if z.is_empty() {
            return Row::Empty;
        }
        let mut m = f64::NEG_INFINITY;
        let mut k = 0;
        for (j, &v) in z.iter().enumerate() {
            if v.is_nan() {
                return Row::Nan;
            }
            if v > m {
                m = v;
                k = j;
            }
        }
        if m == f64::INFINITY {
            let mask: Vec<bool> = z.iter().map(|&v| v == f64::INFINITY).collect();
            let count = mask.iter().filter(|&&b| b).count();
            return Row::PosInf { mask, count };
        }
        if m == f64::NEG_INFINITY {
            return Row::AllNegInf;
        }
        let mut d = Vec::with_capacity(z.len());
        let mut e = Vec::with_capacity(z.len());
        let mut acc = Acc::default();
        for (j, &v) in z.iter().enumerate() {
            let (mut hi, mut lo) = if v == f64::NEG_INFINITY {
                (f64::NEG_INFINITY, 0.0)
            } else {
                two_sum(v, -m)
            };
            if t != 1.0 && hi.is_finite() {
                // (hi + lo) / t as a pair: q + (hi − q·t + lo)/t
                let q = hi / t;
                let r = fma_residual(-q, t, hi) + lo;
                hi = q;
                lo = if q.is_finite() { r / t } else { 0.0 };
            }
            let ej = if j == k {
                (1.0, 0.0, 0)
            } else {
                let ej = dd::exp_dd(hi, lo);
                acc.add(scale2(ej.0, ej.2));
                acc.add(scale2(ej.1, ej.2));
                ej
            };
            d.push((hi, lo));
            e.push(ej);
        }
        let s = acc.pair();
        let (th, tl) = two_sum(1.0, s.0);
        let total = two_sum(th, tl + s.1);
        Row::Finite(Finite {
            m,
            k,
            d,
            e,
            s,
            total,
            log_total: dd::ln1p_dd(s.0, s.1),
        })
    }
}

impl Finite {
    /// `ln(1 + S)` as a pair.
    pub(crate) fn log_total(&self) -> (f64, f64) {
        self.log_total
    }

    /// `num / (1 + S)` as a pair `(q, c)`, `num` a pair.
    fn over_total(&self, num: (f64, f64)) -> (f64, f64) {
        let (th, tl) = self.total;
        let q = num.0 / th;
        let r = fma_residual(-q, th, num.0);
        two_sum(q, ((r + num.1) - q * tl) / th)
    }

    /// `eⱼ / (1 + S)` as a pair, before the scaling by `2^e` (returned apart).
    fn prob_pair(&self, j: usize) -> ((f64, f64), i32) {
        let (h, l, e) = self.e[j];
        (self.over_total((h, l)), e)
    }

    /// `eⱼ / (1 + S)`, rounded once (twice only into the subnormals).
    pub(crate) fn prob(&self, j: usize) -> f64 {
        let ((q, c), e) = self.prob_pair(j);
        scale2(q + c, e)
    }

    /// `−Σ_{i≠j} pᵢ = pⱼ − 1`, without cancelling against 1: `−(1 + S − eⱼ)/(1 + S)`.
    pub(crate) fn prob_minus_one(&self, j: usize) -> f64 {
        let num = if j == self.k {
            self.s
        } else {
            let (h, l, e) = self.e[j];
            dd::add(self.total, (-scale2(h, e), -scale2(l, e)))
        };
        let (q, c) = self.over_total(num);
        0.0 - (q + c)
    }

    /// `(zⱼ − m)/T − ln(1 + S)` as a pair (both terms ≤ 0: nothing cancels).
    fn log_prob_pair(&self, j: usize) -> (f64, f64) {
        let (lh, ll) = self.log_total;
        let (dh, dl) = self.d[j];
        if dh == f64::NEG_INFINITY {
            return (f64::NEG_INFINITY, 0.0);
        }
        let (s, e) = two_sum(dh, -lh);
        two_sum(s, e + (dl - ll))
    }

    /// `(zⱼ − m)/T − ln(1 + S)`.
    pub(crate) fn log_prob(&self, j: usize) -> f64 {
        let (h, l) = self.log_prob_pair(j);
        h + l
    }

    /// `pⱼ·(−ln pⱼ)` as a pair (0 when `pⱼ = 0`).
    fn entropy_term(&self, j: usize) -> (f64, f64) {
        let ((q, c), e) = self.prob_pair(j);
        if q == 0.0 {
            return (0.0, 0.0);
        }
        let (h, l) = self.log_prob_pair(j);
        let (p, pe) = two_prod(q, -h);
        let lo = pe + (q * -l + c * -h);
        (scale2(p, e), scale2(lo, e))
    }
}

/// The core of the `f32`-input kernels, in plain `f64`: `zⱼ − m` of two `f32` values is exact
/// in `f64` (up to extreme exponent gaps, where its one rounding adds `u·|zⱼ − m|`), and every
/// error of the `f64` arithmetic is far below an `f32` ulp
/// (`tolerance::narrow_softmax_rel_err`). Only rows whose maximum is finite; the special rows
/// go through [`Row`].
///
/// Made by the scalar reference (`libm` exp, eight plain lanes) or, when the CPU has AVX2 and
/// FMA, by the vector path of [`crate::kernels`], which then also runs the output passes.
pub(crate) struct NarrowParts {
    /// max z.
    pub m: f64,
    /// First index of the max.
    pub k: usize,
    /// `e_j = exp(zⱼ − m)` for j ≠ k, and `e_k = 0` (empty when not asked for on the vector
    /// path).
    pub e: Vec<f64>,
    /// `S = Σ_{j≠k} e_j`.
    pub s: f64,
    /// The level that made them: [`crate::kernels::Isa::Scalar`] for the scalar path, else a
    /// vector level this CPU runs.
    level: crate::kernels::Isa,
}

impl NarrowParts {
    /// The parts of a row of `f32` logits (`keep_e`: the terms `eⱼ` are needed), `None` for the
    /// special rows (empty, NaN, infinite maximum).
    pub(crate) fn new(z: &[f32], keep_e: bool) -> Option<NarrowParts> {
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::isa().is_vector() {
            let level = crate::kernels::isa();
            let c = crate::kernels::simd::softmax_core(level, z, keep_e)?;
            return Some(NarrowParts {
                m: c.m,
                k: c.k,
                e: c.e,
                s: c.s.0 + c.s.1,
                level,
            });
        }
        let _ = keep_e;
        NarrowParts::scalar(z)
    }

    /// The scalar reference: `libm` exp, the sum in eight plain lanes.
    fn scalar(z: &[f32]) -> Option<NarrowParts> {
        if z.is_empty() {
            return None;
        }
        let (mut m, mut k) = (f64::NEG_INFINITY, 0);
        for (j, &v) in z.iter().enumerate() {
            let v = f64::from(v);
            if v.is_nan() {
                return None;
            }
            if v > m {
                m = v;
                k = j;
            }
        }
        if !m.is_finite() {
            return None;
        }
        let mut e: Vec<f64> = z.iter().map(|&v| (f64::from(v) - m).exp()).collect();
        e[k] = 0.0;
        let mut lanes = [0.0f64; 8];
        let chunks = e.chunks_exact(8);
        let rest: f64 = chunks.remainder().iter().sum();
        for c in chunks {
            for i in 0..8 {
                lanes[i] += c[i];
            }
        }
        let s = lanes.iter().sum::<f64>() + rest;
        Some(NarrowParts {
            m,
            k,
            e,
            s,
            level: crate::kernels::Isa::Scalar,
        })
    }

    /// `ln(1 + S)`.
    pub(crate) fn log_total(&self) -> f64 {
        self.s.ln_1p()
    }

    /// `softmax(z)ⱼ`.
    pub(crate) fn prob(&self, j: usize) -> f64 {
        let ej = if j == self.k { 1.0 } else { self.e[j] };
        ej / (1.0 + self.s)
    }

    /// `softmax(z)` rounded to `f32` (needs the terms `eⱼ`). The vector path multiplies by
    /// `1/(1 + S)` (one more rounding than the division, inside the bound).
    pub(crate) fn probs(&self) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if self.level.is_vector() {
            let c = 1.0 / (1.0 + self.s);
            let mut p = crate::kernels::simd::filled(self.e.len(), |out| {
                crate::kernels::simd::scale_to_f32(self.level, &self.e, c, out)
            });
            p[self.k] = c as f32;
            return p;
        }
        (0..self.e.len()).map(|j| self.prob(j) as f32).collect()
    }

    /// `log_softmax(z)` rounded to `f32`: `(zⱼ − m) − ln(1 + S)`.
    pub(crate) fn log_probs(&self, z: &[f32]) -> Vec<f32> {
        let l = self.log_total();
        #[cfg(target_arch = "x86_64")]
        if self.level.is_vector() {
            return crate::kernels::simd::filled(z.len(), |out| {
                crate::kernels::simd::shift_to_f32(self.level, z, self.m, l, out)
            });
        }
        z.iter()
            .map(|&v| ((f64::from(v) - self.m) - l) as f32)
            .collect()
    }
}

/// The parts of `z` when `T` is `f32` and the row is not special.
pub(crate) fn narrow_parts<T: Real>(z: &[T], keep_e: bool) -> Option<(&[f32], NarrowParts)> {
    let z = T::as_f32_slice(z)?;
    NarrowParts::new(z, keep_e).map(|p| (z, p))
}

/// `Vec<f32>` as `Vec<T>` for `T = f32` (the only type [`narrow_parts`] answers for).
pub(crate) fn from_f32<T: Real>(v: Vec<f32>) -> Vec<T> {
    T::from_f32_vec(v).expect("narrow parts exist only for f32")
}

/// `ln Σ exp(zᵢ)`, without overflow.
///
/// Bounds: `max z ≤ logsumexp(z) ≤ max z + ln n` (`proofs/logsumexp-bounds.md`).
///
/// # Formula
/// ```text
/// logsumexp(z) = m + log1p(Σ_{j≠k} exp(zⱼ − m)),   m = z_k = max z
/// ```
/// The differences `zⱼ − m` are exact (error-free transformation), the exponentials, their sum
/// and `log1p` are double-word values (`kernels::dd`), so the result is rounded once: within
/// 1 ulp (f64: half an ulp plus 2⁻⁴⁰) of `max(|m|, log1p(S))` — relative to the result except
/// when `m < 0` and the two terms nearly cancel (a result near 0 from negative logits).
///
/// # Special values
/// Empty: −∞ (log of an empty sum). NaN anywhere: NaN. Any +∞: +∞. All −∞: −∞.
///
/// # Examples
/// ```
/// use transformer_laws::softmax::logsumexp;
/// assert_eq!(logsumexp(&[1000.0f64, 1000.0]), 1000.0 + std::f64::consts::LN_2);
/// assert_eq!(logsumexp(&[0.0f32, 0.0]), std::f32::consts::LN_2);
/// assert_eq!(logsumexp::<f32>(&[]), f32::NEG_INFINITY);
/// ```
pub fn logsumexp<T: Real>(z: &[T]) -> T {
    if let Some((_, p)) = narrow_parts(z, false) {
        return T::narrow(p.m + p.log_total());
    }
    T::narrow(logsumexp_f64(&widen_all(z)))
}

pub(crate) fn logsumexp_f64(z: &[f64]) -> f64 {
    match Row::new(z, 1.0) {
        Row::Empty | Row::AllNegInf => f64::NEG_INFINITY,
        Row::Nan => f64::NAN,
        Row::PosInf { .. } => f64::INFINITY,
        Row::Finite(f) => {
            let (lh, ll) = f.log_total();
            let (s, e) = two_sum(f.m, lh);
            s + (e + ll)
        }
    }
}

/// The softmax `exp(zᵢ) / Σⱼ exp(zⱼ)`: a probability distribution over the entries.
///
/// Invariant under adding a constant to every entry (exactly over ℝ; in floating point see
/// `proofs/softmax-shift-invariance.md`), but *not* under scaling: scaling is a temperature.
///
/// # Formula
/// ```text
/// softmax(z)ᵢ = exp(zᵢ − m) / (1 + S),   S = Σ_{j≠k} exp(zⱼ − m),  m = z_k = max z
/// ```
/// f64: exact differences, a double-word `exp`, sum and quotient, one rounding — within 1 ulp
/// componentwise (`tolerance::F64_ULPS`; real error half an ulp plus
/// `tolerance::f64_rounded_once_ulps`). f32: computed in `f64`, rounded once (≤ 3 ulp
/// guaranteed, correctly rounded in practice).
///
/// # Special values
/// See the [module table](self): empty → `[]`; NaN → all NaN; `c` entries +∞ → 1/c on them;
/// all −∞ → all NaN.
///
/// # Examples
/// ```
/// use transformer_laws::softmax::softmax;
/// assert_eq!(softmax(&[0.0f32, 0.0]), vec![0.5, 0.5]);
/// assert_eq!(softmax(&[1000.0f64, 1000.0]), vec![0.5, 0.5]); // no overflow
/// assert_eq!(softmax(&[0.0f64, f64::NEG_INFINITY]), vec![1.0, 0.0]); // masked entry
/// ```
pub fn softmax<T: Real>(z: &[T]) -> Vec<T> {
    if let Some((_, p)) = narrow_parts(z, true) {
        return from_f32(p.probs());
    }
    narrow_all(softmax_f64(&widen_all(z), 1.0))
}

pub(crate) fn softmax_f64(z: &[f64], t: f64) -> Vec<f64> {
    match Row::new(z, t) {
        Row::Empty => vec![],
        Row::Nan | Row::AllNegInf => vec![f64::NAN; z.len()],
        Row::PosInf { mask, count } => mask
            .iter()
            .map(|&b| if b { 1.0 / count as f64 } else { 0.0 })
            .collect(),
        Row::Finite(f) => (0..z.len()).map(|j| f.prob(j)).collect(),
    }
}

/// `log softmax(z)ᵢ = zᵢ − logsumexp(z)`, accurate for a dominant logit.
///
/// `log(softmax(z))` loses everything when one logit dominates (`softmax` rounds to 1, its log
/// to 0); this does not.
///
/// # Formula
/// ```text
/// log_softmax(z)ᵢ = (zᵢ − m) − log1p(S),   S = Σ_{j≠k} exp(zⱼ − m)
/// ```
/// Both terms are ≤ 0, so nothing cancels; both are double-word values in f64 (`ln(1 + S)` by
/// a Newton step on the double-word `expm1`), rounded once: within 1 ulp componentwise
/// (f32: ≤ 2 ulp guaranteed).
///
/// # Special values
/// See the [module table](self): empty → `[]`; NaN → all NaN; `c` entries +∞ → −ln c on
/// them and −∞ elsewhere; all −∞ → all NaN; a −∞ entry beside a finite max → −∞.
///
/// # Examples
/// ```
/// use transformer_laws::softmax::log_softmax;
/// // PyTorch's f32 log_softmax gives [0, -20] here; the true value of the first entry is -2.06e-9.
/// assert_eq!(log_softmax(&[0.0f32, -20.0]), vec![-2.0611537e-9, -20.0]);
/// assert_eq!(log_softmax(&[0.0f64, 0.0]), vec![-std::f64::consts::LN_2; 2]);
/// ```
pub fn log_softmax<T: Real>(z: &[T]) -> Vec<T> {
    if let Some((z, p)) = narrow_parts(z, false) {
        return from_f32(p.log_probs(z));
    }
    narrow_all(log_softmax_f64(&widen_all(z)))
}

pub(crate) fn log_softmax_f64(z: &[f64]) -> Vec<f64> {
    match Row::new(z, 1.0) {
        Row::Empty => vec![],
        Row::Nan | Row::AllNegInf => vec![f64::NAN; z.len()],
        Row::PosInf { mask, count } => {
            let l = (1.0 / count as f64).ln(); // ln(1/1) = +0, not −0
            mask.iter()
                .map(|&b| if b { l } else { f64::NEG_INFINITY })
                .collect()
        }
        Row::Finite(f) => (0..z.len()).map(|j| f.log_prob(j)).collect(),
    }
}

/// `softmax(z / t)`: the softmax at temperature `t > 0`.
///
/// Scaling the logits by `α > 0` is the temperature `1/α`: the argmax is unchanged, the
/// distribution is not (`proofs/softmax-temperature.md`).
///
/// # Formula
/// ```text
/// softmax(z/t)ᵢ = exp((zᵢ − m)/t) / Σⱼ exp((zⱼ − m)/t)
/// ```
/// The quotient `(zᵢ − m)/t` is carried as a pair (exact remainder by FMA), so the result is as
/// accurate as [`softmax`] (f64: within 1 ulp componentwise).
///
/// # Special values
/// As [`softmax`]. `t = 1` gives exactly `softmax(z)`.
///
/// # Panics
/// If `t` is not a finite number `> 0`.
///
/// # Examples
/// ```
/// use transformer_laws::softmax::softmax_with_temperature;
/// let cold = softmax_with_temperature(&[1.0f64, 0.0], 0.01);
/// assert!(cold[0] > 0.9999);
/// assert_eq!(softmax_with_temperature(&[1.0f32, 0.0], 1e30), vec![0.5, 0.5]);
/// ```
pub fn softmax_with_temperature<T: Real>(z: &[T], t: T) -> Vec<T> {
    let tw = t.widen();
    assert!(
        tw.is_finite() && tw > 0.0,
        "softmax_with_temperature: temperature must be finite and > 0, got {t}"
    );
    narrow_all(softmax_f64(&widen_all(z), tw))
}

/// The entropy `H = −Σ pᵢ ln pᵢ` (in nats) of `p = softmax(z)`, from the logits.
///
/// Non-increasing as the logits are scaled up (`proofs/softmax-temperature.md`); between 0 and
/// `ln n`.
///
/// # Formula
/// ```text
/// H(softmax(z)) = Σᵢ pᵢ·(−log_softmax(z)ᵢ)      (terms with pᵢ = 0 contribute 0)
/// ```
/// Every term is ≥ 0 and a double-word product, so the compensated sum does not cancel and
/// rounds once: within 1 ulp (f64; f32 ≤ 4 ulp guaranteed).
///
/// # Special values
/// Empty: NaN (no distribution). NaN anywhere: NaN. `c` entries +∞: ln c. All −∞: NaN.
///
/// # Examples
/// ```
/// use transformer_laws::softmax::entropy;
/// assert_eq!(entropy(&[0.0f64, 0.0]), std::f64::consts::LN_2);
/// assert_eq!(entropy(&[0.0f32, f32::NEG_INFINITY]), 0.0);
/// ```
pub fn entropy<T: Real>(z: &[T]) -> T {
    T::narrow(entropy_f64(&widen_all(z)))
}

pub(crate) fn entropy_f64(z: &[f64]) -> f64 {
    match Row::new(z, 1.0) {
        Row::Empty | Row::Nan | Row::AllNegInf => f64::NAN,
        Row::PosInf { count, .. } => (count as f64).ln(),
        Row::Finite(f) => {
            let mut acc = Acc::default();
            for j in 0..z.len() {
                let (h, l) = f.entropy_term(j);
                acc.add(h);
                acc.add(l);
            }
            acc.value()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dominant_logit_trap() {
        assert_eq!(log_softmax(&[0.0f32, -20.0])[0], -2.0611537e-9);
        assert_eq!(logsumexp(&[0.0f64, -40.0]), 4.248354255291589e-18);
    }

    #[test]
    fn hidden_mass_in_long_rows() {
        // 2^20 entries of −17 beside one 0: the mass 2^20·e^−17 ≈ 0.0433 is not negligible.
        let mut z = vec![-17.0f32; 1 << 20];
        z.push(0.0);
        let l = logsumexp(&z);
        let exact = ((1u64 << 20) as f64 * (-17.0f64).exp()).ln_1p();
        assert_eq!(l, exact as f32);
        let p = softmax(&z);
        let s: f64 = p.iter().map(|&v| f64::from(v)).sum();
        assert!((s - 1.0).abs() < 1e-5, "{s}");
    }

    #[test]
    fn temperature_one_is_softmax() {
        let z = [0.3f64, -1.7, 2.5];
        assert_eq!(softmax_with_temperature(&z, 1.0), softmax(&z));
    }

    #[test]
    #[should_panic(expected = "temperature must be finite and > 0, got 0")]
    fn zero_temperature_panics() {
        softmax_with_temperature(&[1.0f64], 0.0);
    }
}
