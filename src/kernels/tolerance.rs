//! Every tolerance the crate's tests use: error bounds as named functions of `n` and the
//! type's unit roundoff, and the accuracy budget of each function, in ULPs.
//!
//! ```text
//! u      = ε/2                    unit roundoff (2⁻²⁴ for f32, 2⁻⁵³ for f64)
//! γ_n    = n·u / (1 − n·u)        bound on the relative error of an n-term recursive sum
//! 1 ulp  ≤ 2u·|x| = ε·|x|         for normal x
//! ```
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §2.1 and §3.1.)
//!
//! Three kinds of comparison, each with its helper:
//!
//! * **ULP distance** ([`ulp_distance`]) against a correctly rounded reference — for the
//!   accuracy tests against the high-precision oracle; the budgets are the `*_ULPS` constants.
//! * **Relative** ([`relative`]) — `k` ulps as a relative error bound, for identities between
//!   two computed quantities (a sum of probabilities against 1).
//! * **Absolute from a bound** ([`gamma`], [`compensated_dot_bound`]) — where a result is not
//!   componentwise accurate (a dot product under cancellation).

use crate::kernels::scalar::{Real, exponent_of, pow2};

/// softmax, softmax_with_temperature in `f32`: exact shifts, `exp` < 1 ulp, compensated sum,
/// one division (`f64`: [`F64_ULPS`]).
pub const SOFTMAX_ULPS: u64 = 3;
/// log_softmax in `f32`: two non-positive terms with an exact difference and `log1p` < 1 ulp
/// (`f64`: [`F64_ULPS`]).
pub const LOG_SOFTMAX_ULPS: u64 = 2;
/// logsumexp in `f32` (relative, except under cancellation: see `tests/suite/accuracy.rs`;
/// `f64`: [`F64_ULPS`]).
pub const LOGSUMEXP_ULPS: u64 = 2;
/// entropy in `f32`: non-negative terms of ≤ 3 ulp each, compensated sum (`f64`: [`F64_ULPS`]).
pub const ENTROPY_ULPS: u64 = 4;
/// cross-entropy loss in `f32`: as log_softmax (`f64`: [`F64_ULPS`]).
pub const CE_LOSS_ULPS: u64 = 2;
/// cross-entropy gradient in `f32`: as softmax; the target entry summed from the others (`f64`:
/// [`F64_ULPS`]).
pub const CE_GRAD_ULPS: u64 = 3;
/// layer_norm, rms_norm (before γ, β) in `f32`: exact deviations, compensated squares,
/// corrected root (`f64`: [`F64_ULPS`]).
pub const NORM_LAYER_ULPS: u64 = 3;
/// norm: compensated sum of squares and a Newton-corrected square root.
pub const NORM_ULPS: u64 = 2;
/// cosine_similarity: compensated dot, compensated squares, one root, one division.
pub const COSINE_ULPS: u64 = 4;
/// The normwise goal for every vector-valued function: `max|ŷᵢ − yᵢ| ≤ 2 ulp(max|yᵢ|)`.
pub const NORMWISE_ULPS: f64 = 2.0;

/// Unit roundoff `u = ε/2` of `T` (`2⁻²⁴` for `f32`, `2⁻⁵³` for `f64`).
///
/// ```
/// use transformer_laws::tolerance::unit_roundoff;
/// assert_eq!(unit_roundoff::<f32>(), 2f64.powi(-24));
/// assert_eq!(unit_roundoff::<f64>(), 2f64.powi(-53));
/// ```
pub fn unit_roundoff<T: Real>() -> f64 {
    T::epsilon().widen() / 2.0
}

/// `γ_n = n·u / (1 − n·u)`: the relative error bound of an `n`-term recursive sum or dot
/// product in `T` (Higham, Lemma 3.1). Returns `+∞` when `n·u ≥ 1`.
///
/// ```
/// use transformer_laws::tolerance::gamma;
/// assert!(gamma::<f32>(768) < 5e-5);
/// assert!(gamma::<f64>(768) < 1e-13);
/// ```
pub fn gamma<T: Real>(n: usize) -> f64 {
    let nu = n as f64 * unit_roundoff::<T>();
    if nu >= 1.0 {
        f64::INFINITY
    } else {
        nu / (1.0 - nu)
    }
}

/// Error bound of [`Ring::dot_kernel`](crate::Ring::dot_kernel) for `f32`/`f64`: for an `n`-term dot product whose exact
/// value is `s` and whose terms have `Σ|aᵢbᵢ| = abs_sum`,
///
/// ```text
/// f64: |computed − s| ≤ (u + 2u)·|s| + γ_{2n}²·Σ|aᵢbᵢ| + n·η + η/2      (compensated Dot2)
/// f32: |computed − s| ≤ (u_T + 2u)·|s| + γ_n·Σ|aᵢbᵢ| + η_T/2            (exact products, f64 sum)
/// ```
/// with `u` and `η = 2⁻¹⁰⁷⁴` the unit roundoff and underflow threshold of `f64`, `u_T` and `η_T`
/// those of `T`: the compensated-sum bound of Ogita, Rump & Oishi (2005, Prop. 5.5), over the
/// `2n` terms of the error-free products, plus one final rounding to `T` and the products'
/// underflow.
///
/// ```
/// use transformer_laws::tolerance::compensated_dot_bound;
/// // [1e16, 1] · [1, 1] − 1e16: a cancelling sum, still bounded by ~u·|s| + γ²·Σ|aᵢbᵢ|.
/// assert!(compensated_dot_bound::<f64>(3, 1.0, 2e16 + 1.0) < 1e-14);
/// assert!(compensated_dot_bound::<f32>(3, 1.0, 3.0) < 1e-7);
/// ```
pub fn compensated_dot_bound<T: Real>(n: usize, s: f64, abs_sum: f64) -> f64 {
    let eta = pow2(-1074);
    let sum_term = if T::MANTISSA_DIGITS == 24 {
        // f32: exact products summed in plain f64 (eight lanes), then rounded once.
        gamma::<f64>(n) * abs_sum
    } else {
        let g = gamma::<f64>(2 * n);
        g * g * abs_sum + n as f64 * eta
    };
    (unit_roundoff::<T>() + 2.0 * unit_roundoff::<f64>()) * s.abs()
        + sum_term
        + subnormal_rounding::<T>(1)
}

/// Bound on `|computed − s|` for a sum of `n` terms — products `aᵢbᵢ` of `T` values, and
/// possibly one addend `c` taken as the product `1·c` — whose exact value is `s` and
/// `Σ|aᵢbᵢ| = abs_sum`, computed by a matrix-product kernel (`dgemm`) on the operands
/// converted to f64, in any order of additions, with or without fused multiply-adds, and
/// rounded once to `T`:
///
/// * `T = f32`: the f64 copies and their products are exact (24 + 24 significant bits, no
///   underflow: `2⁻²⁹⁸` is a normal f64); the `n − 1` additions, in any tree, leave each term
///   with at most `n − 1` roundings, `γₙ₋₁(f64)·abs_sum` in all; the rounding to f32 adds
///   `u·|ŝ|` and one half-ulp of underflow. That is within [`compensated_dot_bound`]`::<f32>`,
///   which this returns: the f32 reference kernel also sums exact products in f64.
/// * `T = f64`: each product is rounded once (or fused into its addition) and each term passes
///   at most `n − 1` additions: `γₙ·abs_sum` (Higham 2002, §3.1, for any order), plus one
///   underflow `η = 2⁻¹⁰⁷⁴` per product.
///
/// ```
/// use transformer_laws::tolerance::{gamma, gemm_dot_bound};
/// assert_eq!(gemm_dot_bound::<f64>(4, 1.0, 8.0), gamma::<f64>(4) * 8.0 + 4.0 * 2f64.powi(-1074));
/// assert!(gemm_dot_bound::<f32>(769, 1.0, 3.0) < 1e-7);
/// ```
pub fn gemm_dot_bound<T: Real>(n: usize, s: f64, abs_sum: f64) -> f64 {
    if T::MANTISSA_DIGITS == 24 {
        compensated_dot_bound::<T>(n, s, abs_sum)
    } else {
        gamma::<f64>(n) * abs_sum + n as f64 * pow2(-1074)
    }
}

/// The distance between `a` and `b` in units in the last place of `T`: the number of
/// representable values strictly after the smaller one up to and including the larger one.
/// `0` when equal (with `+0 = −0`); `u64::MAX` when exactly one is NaN; `0` for two NaNs.
///
/// ```
/// use transformer_laws::tolerance::ulp_distance;
/// assert_eq!(ulp_distance(1.0f32, 1.0 + f32::EPSILON), 1);
/// assert_eq!(ulp_distance(-0.0f64, 0.0), 0);
/// ```
pub fn ulp_distance<T: Real>(a: T, b: T) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    if a == b {
        return 0;
    }
    let (oa, ob) = (ordered(a), ordered(b));
    oa.abs_diff(ob)
}

/// Map a float's bits onto a line where adjacent floats differ by one.
fn ordered<T: Real>(x: T) -> i64 {
    let bits = x.to_bits_u64();
    let sign_bit = if T::MANTISSA_DIGITS == 24 {
        1u64 << 31
    } else {
        1u64 << 63
    };
    let mag = (bits & (sign_bit - 1)) as i64;
    if bits & sign_bit != 0 { -mag } else { mag }
}

/// The weight of one unit in the last place of `x` in `T` (the spacing of `T` at `|x|`,
/// subnormal spacing below the normal range).
///
/// ```
/// use transformer_laws::tolerance::ulp;
/// assert_eq!(ulp(1.0f32), f64::from(f32::EPSILON));
/// assert_eq!(ulp(0.0f64), 5e-324);
/// ```
pub fn ulp<T: Real>(x: T) -> f64 {
    let x = x.widen().abs();
    let min_exp = T::min_exponent() - 1; // exponent of MIN_POSITIVE
    let digits = T::MANTISSA_DIGITS as i32;
    let e = if x == 0.0 {
        min_exp
    } else {
        exponent_of(x).max(min_exp)
    };
    pow2(e - (digits - 1))
}

/// Minimum exponent helper: `f32::MIN_EXP` / `f64::MIN_EXP` through `Float`.
trait MinExp {
    fn min_exponent() -> i32;
}
impl<T: Real> MinExp for T {
    fn min_exponent() -> i32 {
        if T::MANTISSA_DIGITS == 24 {
            f32::MIN_EXP
        } else {
            f64::MIN_EXP
        }
    }
}

/// `k` ulps as a relative error bound: `k·ε` (one ulp of a normal `x` is at most `ε·|x|`).
///
/// ```
/// use transformer_laws::tolerance::relative;
/// assert_eq!(relative::<f64>(2), 2.0 * f64::EPSILON);
/// assert_eq!(relative::<f32>(3), 3.0 * f64::from(f32::EPSILON));
/// ```
pub fn relative<T: Real>(k: u64) -> f64 {
    k as f64 * T::epsilon().widen()
}

/// Bound on `|log_softmax(a)ⱼ − log_softmax(b)ⱼ|` for two computed logit rows whose exact
/// values differ by one constant (zero for an output-preserving transform, a per-position shift
/// for `center_unembed`), each computed row within its forward-pass bound of its exact value
/// (`delta` = the sum of the two bounds, which bound every entry), and each log-softmax
/// computed by [`crate::softmax::log_softmax`] in `T` (≤ [`LOG_SOFTMAX_ULPS`] ulp of each
/// output, whose magnitudes are at most `max_abs_a` and `max_abs_b`).
///
/// ```text
/// |Δ log pⱼ| ≤ |Δzⱼ| + |Δ logsumexp(z)| ≤ 2·delta        (logsumexp is 1-Lipschitz in ‖·‖∞)
///            + k·ε·(max|log pᵃ| + max|log pᵇ|)              (each kernel's rounding)
/// ```
///
/// ```
/// use transformer_laws::tolerance::log_prob_change_bound;
/// assert_eq!(log_prob_change_bound::<f64>(0.0, 0.0, 0.0), 0.0);
/// assert!(log_prob_change_bound::<f32>(1e-6, 10.0, 10.0) > 2e-6);
/// ```
pub fn log_prob_change_bound<T: Real>(delta: f64, max_abs_a: f64, max_abs_b: f64) -> f64 {
    2.0 * delta + relative::<T>(LOG_SOFTMAX_ULPS) * (max_abs_a + max_abs_b)
}

/// Bound on the rounding error of a score `x·w + b` summed in `f64` in any order (a plain or
/// blocked matrix product), from the norms: `γ_{d+1}·(‖x‖‖w‖ + |b|)` (Higham, Lemma 3.1, with
/// `Σ|xₖwₖ| ≤ ‖x‖‖w‖`), widened by 8u for the two norms' own rounding, plus `d + 1` underflows
/// (`2⁻¹⁰⁷⁴` each). A comparison of two scores whose computed difference exceeds the sum of
/// their bounds is decided; a closer one must be re-decided exactly.
///
/// ```
/// use transformer_laws::tolerance::score_error_bound;
/// assert!(score_error_bound(768, 1.0, 1.0, 0.0) < 1e-13);
/// ```
pub fn score_error_bound(d: usize, x_norm: f64, w_norm: f64, b_abs: f64) -> f64 {
    let u = unit_roundoff::<f64>();
    gamma::<f64>(d + 1) * (1.0 + 8.0 * u) * (x_norm * w_norm + b_abs)
        + (d + 1) as f64 * f64::from_bits(1)
}

// ---- Bounds of the f32-input kernels before their one rounding (vector and scalar paths) ----

/// Relative error bound of [`crate::kernels::exp_poly`] and of
/// [`crate::kernels::exp::exp_poly16`] (and of the AVX2 and AVX-512 lanes, bit for bit the one
/// and the other): `3u`, `u = 2⁻⁵³` — derived in [`crate::kernels::exp`], checked against the
/// oracle in `tests/suite/accuracy.rs`.
///
/// ```
/// use transformer_laws::tolerance::exp_poly_rel_err;
/// assert_eq!(exp_poly_rel_err(), 3.0 * 2f64.powi(-53));
/// ```
pub fn exp_poly_rel_err() -> f64 {
    super::exp::EXP_POLY_REL_ERR * unit_roundoff::<f64>()
}

/// Relative error bound, in `f64`, of `S = Σ_{j≠k} exp(zⱼ − m)` for `n` `f32` logits, before
/// any rounding to `f32`:
///
/// ```text
/// vector paths:        3u (exp_poly, exp_poly16) + γ_16 (16 plain additions per lane and block)
///                      + 2u (the compensated block and lane totals, their final rounding)
/// scalar path:         2u (libm exp < 1 ulp) + γ_{⌈n/8⌉+8} (eight plain lanes, then their sum)
/// ```
/// All terms are ≥ 0, so each relative error carries over to the sum unchanged. (Plus
/// `u·|zⱼ − m|` on a term whose difference `zⱼ − m` is not exact in `f64`: exponents of `zⱼ`
/// and `m` more than 29 apart.)
///
/// ```
/// use transformer_laws::tolerance::narrow_sum_rel_err;
/// assert!(narrow_sum_rel_err(50_257, true) < 24.0 * 2f64.powi(-53));
/// assert!(narrow_sum_rel_err(50_257, false) > 6000.0 * 2f64.powi(-53));
/// ```
pub fn narrow_sum_rel_err(n: usize, vector: bool) -> f64 {
    let u = unit_roundoff::<f64>();
    if vector {
        exp_poly_rel_err() + gamma::<f64>(16) + 2.0 * u
    } else {
        2.0 * u + gamma::<f64>(n.div_ceil(8) + 8)
    }
}

/// Relative error bound, in `f64`, of each softmax / log-softmax / cross-entropy value of `n`
/// `f32` logits before its rounding to `f32`: the sum's bound ([`narrow_sum_rel_err`]), one
/// `exp` (3u vector, 2u scalar), `1 + S`, `1/(1 + S)` or `ln(1 + S)`, one product or
/// difference (≤ 3 more roundings, 2u with the log's 1 ulp):
///
/// ```text
/// softmax(z)ⱼ = eⱼ·(1/(1 + S)):        δ ≤ δ_exp + δ_S·S/(1 + S) + 3u/2
/// log_softmax(z)ⱼ = (zⱼ − m) − log1p(S):  both terms ≤ 0, log1p's relative error ≤ δ_S + 2u
/// ```
/// An `f32` result is the correctly rounded one unless the exact value lies within this
/// relative distance (about 2⁻⁴⁸ on the vector path) of the midpoint between two `f32`.
///
/// ```
/// use transformer_laws::tolerance::narrow_softmax_rel_err;
/// assert!(narrow_softmax_rel_err(50_257, true) < 2f64.powi(-48));
/// ```
pub fn narrow_softmax_rel_err(n: usize, vector: bool) -> f64 {
    narrow_sum_rel_err(n, vector) + 3.0 * unit_roundoff::<f64>() + 4.0 * unit_roundoff::<f64>()
}

/// The longest chain of plain additions any term passes through in the vector path's norm
/// sums of `n` terms: `⌊n/16⌋` in its lane, 4 to fold the sixteen lanes (two registers, then
/// two lanes), and one for each of the `n mod 16` remainder terms added after them.
///
/// ```
/// use transformer_laws::tolerance::narrow_lane_depth;
/// assert_eq!(narrow_lane_depth(4096), 260);
/// assert_eq!(narrow_lane_depth(40), 14);
/// ```
pub fn narrow_lane_depth(n: usize) -> usize {
    n / 16 + 4 + n % 16
}

/// Error bound, in `f64`, of each LayerNorm / RMSNorm output `yᵢ = (xᵢ − μ)/√(σ² + ε)` of an
/// `n`-entry `f32` row before γ, β and the rounding to `f32`, as `(relative, absolute)`:
/// `|ŷᵢ − yᵢ| ≤ relative·|yᵢ| + absolute` (the absolute part in units of the output's own
/// scale, `√(σ²/(σ² + ε)) ≤ 1`).
///
/// ```text
/// vector path: dᵢ = xᵢ − c exact (c an f32) or one rounding; Σdᵢ, Σdᵢ² in 16 plain lanes,
///   h = narrow_lane_depth(n) additions deep:
///   σ² relative ≤ 3γ_{h+1} + 2u (the shift keeps δ² ≤ σ²); √, 1/·: 2u
///   mean correction δ: absolute ≤ γ_{h+1}·Σ|dᵢ|/n ≤ √2·γ_{h+1}·σ  →  2γ_{h+1} in output units
///   (entries smaller than narrow_norm_mean_floor are recomputed from the compensated mean:
///   relative 2u more, the absolute part u²|μ|)
/// scalar path: compensated mean (error u²|μ|, below u in output units), Σdᵢ² in eight
///   plain lanes: γ_{⌈n/8⌉+8}
/// ```
///
/// ```
/// use transformer_laws::tolerance::narrow_norm_err;
/// let (rel, abs) = narrow_norm_err(768, true);
/// assert!(rel < 2f64.powi(-44) && abs < 2f64.powi(-46));
/// ```
pub fn narrow_norm_err(n: usize, vector: bool) -> (f64, f64) {
    let u = unit_roundoff::<f64>();
    if vector {
        let g = gamma::<f64>(narrow_lane_depth(n) + 1);
        (3.0 * g + 10.0 * u, 2.0 * g)
    } else {
        (gamma::<f64>(n.div_ceil(8) + 8) + 8.0 * u, u)
    }
}

/// The smallest normalized entry `|ŷᵢ| = |(xᵢ − c)·r − δ·r|` the vector LayerNorm keeps from
/// its plain sums, for a row of `n` entries with computed variance `σ̂²` (`var`) and scale
/// `r = 1/√(σ̂² + ε)`; smaller entries are recomputed from the compensated mean.
///
/// ```text
/// δ = Σ(xᵢ − c)/n: each difference one rounding at most, then h = narrow_lane_depth(n)
///   plain additions and a division:  |δ̂ − δ| ≤ γ_{h+2}·Σ|xᵢ − c|/n ≤ γ_{h+2}·√(Σ(xᵢ − c)²/n)
///   (Cauchy–Schwarz), and Σ(xᵢ − c)²/n = σ² + δ² ≤ 2σ̂²·(1 + γ) on this path (δ² ≤ σ̂²)
/// so every output carries an absolute error of at most A = γ_{h+6}·√(2σ̂²)·r (the rest of
///   the `+6` covers σ̂'s own error and the products by r), beside its relative error
/// floor = 2²⁶·A:  an entry |ŷᵢ| ≥ floor has |yᵢ| ≥ floor − A and a relative error from the
///   mean below 2⁻²⁶/(1 − 2⁻²⁶) < 2⁻²⁵, so its one rounding to f32 lands within 1 ulp
/// ```
/// For ordinary rows the floor is about `n·2⁻²⁷/16` in normalized units (`2.8·10⁻⁶` at
/// `n = 4096`), so few entries and few rows fall below it.
///
/// ```
/// use transformer_laws::tolerance::narrow_norm_mean_floor;
/// let f = narrow_norm_mean_floor(4096, 1.0, 1.0);
/// assert!(f > 2e-6 && f < 4e-6);
/// ```
pub fn narrow_norm_mean_floor(n: usize, var: f64, r: f64) -> f64 {
    narrow_norm_mean_width(n, var) * r
}

/// [`narrow_norm_mean_floor`] before its product by `r`, in the units of the row's entries:
/// `2²⁶·γ_{h+6}·√(2σ̂²)`. The floor is this width times `r`; the vector path forms the same
/// product, and screens the entries with the width itself.
pub(crate) fn narrow_norm_mean_width(n: usize, var: f64) -> f64 {
    gamma::<f64>(narrow_lane_depth(n) + 6) * (2.0 * var).sqrt() * pow2(26)
}

// ---- The f64 kernels: one rounding from a double-word value ----

/// Componentwise budget of every `f64` result of the softmax family (softmax,
/// softmax_with_temperature, log_softmax, logsumexp, entropy, cross-entropy and its gradient)
/// and of LayerNorm / RMSNorm before γ, β: within 1 ulp of the correctly rounded value, because
/// each is rounded once from a value within [`f64_double_word_rel_err`] of the exact one
/// (the real error is within [`f64_rounded_once_ulps`]).
pub const F64_ULPS: u64 = 1;

/// Relative error bound of the double-word value an `f64` kernel of `n` inputs rounds once
/// (`n` logits, or a LayerNorm / RMSNorm row of `n` entries):
///
/// ```text
/// softmax family:  each exp(zⱼ − m) within 2⁻⁹⁶ (kernels::dd), ln(1 + S) within 2⁻⁹⁵;
///                  1 + S a compensated sum of 2n non-negative parts: γ_{2n}²;
///                  the quotient, the difference, the product: a few u² each
///                  → 8·2⁻⁹⁶ + γ_{2n}²
/// norms:           Σ(dᵢ)² compensated over 2n non-negative parts: γ_{2n}²; the corrected
///                  root and its inverse, the deviation pairs: ≤ 8u² (u = 2⁻⁵³)
/// ```
/// (LayerNorm: plus `γ_{n}²·max|xᵢ|` absolutely in each deviation, from the compensated mean;
/// it matters only for an entry closer to the mean than `n·2⁻⁵⁰·max|xᵢ|`.)
///
/// ```
/// use transformer_laws::tolerance::f64_double_word_rel_err;
/// assert!(f64_double_word_rel_err(24) < 2f64.powi(-90));
/// assert!(f64_double_word_rel_err(50_257) < 2f64.powi(-72));
/// ```
pub fn f64_double_word_rel_err(n: usize) -> f64 {
    let g = gamma::<f64>(2 * n);
    8.0 * crate::kernels::dd::EXP_DD_REL_ERR + g * g
}

/// The real error, in ulps of the result, of an `f64` kernel result rounded once from a value
/// within [`f64_double_word_rel_err`]: `1/2` for the rounding plus that relative error in ulps
/// (`|x| < 2⁵³ ulp(x)`) — for normal results. A subnormal result is rounded twice (to 53 bits,
/// then to the subnormal grid): within 1 ulp.
///
/// ```
/// use transformer_laws::tolerance::f64_rounded_once_ulps;
/// assert!(f64_rounded_once_ulps(24) < 0.5 + 2e-12);
/// ```
pub fn f64_rounded_once_ulps(n: usize) -> f64 {
    0.5 + f64_double_word_rel_err(n) * 2f64.powi(53)
}

/// The relative perturbation of the weights that covers a plain float64 evaluation of a model
/// (PyTorch's, for the reference logits of `tests/fixtures`), for [`crate::transformer::Model::run`]'s
/// `rho`: `γ_{2K + n + 8}` in f64, with `K` the largest fan-in of a linear map (d_model, d_mlp
/// or d_head) and `n` the sequence length.
///
/// First-order backward-error argument (Higham §3.5): a matrix product of fan-in `K`, in any
/// summation order, is the exact product with every weight moved by a relative `γ_K`
/// (`γ_{K+1}` with the bias); an elementwise operation with a relative error of a few u whose
/// output feeds a linear map (LayerNorm's `1/√(σ² + ε)` with its `γ_d`-accurate variance, GELU,
/// SiLU) is absorbed the same way by the map it feeds; the softmax's relative error on each
/// weight (`γ_n` for its sum, 3u for exp and the division) scales the value it mixes, which is
/// a relative perturbation of `W_V` and `b_V` for that key — which the bound also covers, key by
/// key. Composing two such perturbations adds their sizes to first order:
/// `γ_{K+1} + γ_d + γ_n + 8u ≤ γ_{2K + n + 8}`. So the reference is the exact function of
/// weights within this `rho` of the stored ones, and `run(tokens, rho).logit_error` bounds the
/// distance between the crate's logits and the reference's.
///
/// It assumes what holds for the fixtures: LayerNorm inputs whose mean is not large against
/// their spread (a plain mean then centers with a relative error of order `γ_d`), and rotation
/// angles computed in float64 (Hugging Face's Llama computes them in float32 even in a float64
/// model, an error of about 10⁻⁷ per radian; `tests/fixtures/make_fixtures.py` patches that).
///
/// ```
/// use transformer_laws::tolerance::{gamma, reference_f64_rho};
/// assert_eq!(reference_f64_rho(64, 9), gamma::<f64>(145));
/// ```
pub fn reference_f64_rho(fan_in: usize, n: usize) -> f64 {
    gamma::<f64>(2 * fan_in + n + 8)
}

// ---------------------------------------------------------------------------------------------
// The error bounds of the textbook stable algorithms: the default tolerance of the law harness
// (`crate::laws`). Each is a first-order bound turned rigorous-looking by writing every `k·u` as
// `γ_k = k·u/(1 − k·u)`, which also absorbs the second-order terms while `k·u` stays small.
//
// Why these and not a fixed number of ulps: a correct plain f32 softmax, `exp(zᵢ − m)/Σ`, rounds
// the shift `zᵢ − m` to within `u·|zᵢ − m|`, and `exp` turns that absolute error into a relative
// one of the same size. A component near 1e-31 has `|zᵢ − m| ≈ 71`, so the textbook algorithm is
// only ~71·u (tens of ulps) accurate there — and is still correct. A fixed ulps budget either
// flags it or lets real bugs through on ordinary components; a bound that follows the algorithm
// does neither.
// ---------------------------------------------------------------------------------------------

/// Accuracy assumed of `exp`, `ln`, `ln_1p` and `sqrt` in an implementation under test: one ulp,
/// a relative error of at most `2u` (glibc, musl, Rust's `libm`, SLEEF's `u10` functions that
/// PyTorch's CPU kernels use).
pub const ELEMENTARY_ULPS: f64 = 1.0;

/// `γ_k` for a real `k ≥ 0` (the shift terms `|zᵢ − m|` are not integers).
fn gamma_real<T: Real>(k: f64) -> f64 {
    let ku = k * unit_roundoff::<T>();
    if ku >= 1.0 {
        f64::INFINITY
    } else {
        ku / (1.0 - ku)
    }
}

/// The absolute rounding error of `n` correctly rounded results of `T` in the subnormal
/// range, where the relative budgets no longer hold: half the smallest subnormal each.
pub fn subnormal_rounding<T: Real>(n: usize) -> f64 {
    n as f64 * ulp(T::zero()) / 2.0
}

/// The absolute allowance for results in the subnormal range: `T`'s smallest normal number,
/// so that an implementation that flushes subnormals to zero (FTZ/DAZ vector modes) is not
/// judged wrong for it.
pub fn underflow_allowance<T: Real>() -> f64 {
    T::min_positive_value().widen()
}

/// Error bound of component `i` of the max-shifted softmax computed in `T`:
/// `dⱼ = fl(zⱼ − m)`, `eⱼ = exp(dⱼ)`, `s = Σⱼ eⱼ` (any order), `pᵢ = eᵢ / s`.
///
/// ```text
/// |p̂ᵢ − pᵢ| ≤ pᵢ·γ_k + η,   k = |dᵢ| + D + n + 2 + 2·e,   D = Σⱼ pⱼ·|dⱼ|
/// ```
/// where `pᵢ` and `dᵢ = zᵢ − max z` are exact, `e` = [`ELEMENTARY_ULPS`] and `η` =
/// [`underflow_allowance`]. Derivation: the rounded shift changes `exp(dᵢ)` by a factor
/// `exp(±u·|dᵢ|)` (relative `u·|dᵢ|`), `exp` adds `2e·u`; the sum's relative error is the
/// `p`-weighted mean of its terms' errors, `(D + 2e)·u`, plus `γ_{n−1}` for the additions; the
/// division adds `u`. (Blanchard, Higham & Higham, *Accurately computing the log-sum-exp and
/// softmax functions*, IMA J. Numer. Anal. 41, 2021, obtain the same `|dᵢ|`-proportional term.)
/// The `|dᵢ|·u` term is why a tiny probability is only accurate to tens of ulps.
///
/// ```
/// use transformer_laws::tolerance::{softmax_textbook_bound, unit_roundoff};
/// // softmax([0, −71]) in f32: the small component is ~1.5e−31; the bound is ~77·u relative.
/// let p = (-71.0f64).exp() / (1.0 + (-71.0f64).exp());
/// let b = softmax_textbook_bound::<f32>(2, -71.0, 71.0 * p, p);
/// assert!(b / p > 70.0 * unit_roundoff::<f32>() && b / p < 80.0 * unit_roundoff::<f32>());
/// ```
pub fn softmax_textbook_bound<T: Real>(n: usize, shift: f64, mean_shift: f64, p: f64) -> f64 {
    if p == 0.0 {
        // exp(dᵢ) underflows in f64 already: only the underflow allowance is left.
        return underflow_allowance::<T>();
    }
    let k = shift.abs() + mean_shift + n as f64 + 2.0 + 2.0 * ELEMENTARY_ULPS;
    p * gamma_real::<T>(k) + underflow_allowance::<T>()
}

/// Error bound of the log-sum-exp part `L = ln(1 + s')` with the log1p split, computed in `T`:
/// `s' = Σ_{j≠k} exp(dⱼ)` over every entry but one largest (`dₖ = 0`), `L̂ = ln_1p(ŝ')`.
///
/// ```text
/// |L̂ − L| ≤ L·γ_k,   k = D' + n + 4·e,   D' = Σ_{j≠k} e^{dⱼ}·|dⱼ| / s'
/// ```
/// The sum `ŝ'` has relative error `(D' + 2e)·u + γ_{n−2}`, and `ln_1p` is relatively
/// well-conditioned (`s'/((1 + s')·ln_1p(s')) ≤ 1`), adding its own `2e·u`. A relative bound on
/// `L`: without the split, `ln(fl(1 + s'))` loses `L` entirely once `s' < u` (the *dominant
/// logit* trap), which this bound does not allow.
///
/// ```
/// use transformer_laws::tolerance::{lse_tail_textbook_bound, unit_roundoff};
/// let l = (-20.0f64).exp().ln_1p(); // logsumexp([0, −20]) = 2.06e−9
/// assert!(lse_tail_textbook_bound::<f32>(2, 20.0, l) < 30.0 * unit_roundoff::<f32>() * l);
/// ```
pub fn lse_tail_textbook_bound<T: Real>(n: usize, tail_mean_shift: f64, l: f64) -> f64 {
    if l == 0.0 {
        return 0.0;
    }
    let k = tail_mean_shift + n as f64 + 4.0 * ELEMENTARY_ULPS;
    l * gamma_real::<T>(k)
}

/// Error bound of `L = ln(Σⱼ e^{dⱼ})` computed in `T` *without* the log1p split, as PyTorch,
/// JAX and SciPy do: [`lse_tail_textbook_bound`] plus `γ_{n+1}`, absolute — the sum that
/// includes the `1` of the largest entry has relative error `γ_{n−1}` (plus `u` more for the
/// rounding of `1 + s'`), which `ln` turns into an absolute error of `L` however small `L` is. The law harness allows this everywhere except in its "dominant logit" laws, which ask for
/// the relative accuracy only the split gives.
///
/// ```
/// use transformer_laws::tolerance::{lse_tail_textbook_bound, lse_tail_unsplit_bound, unit_roundoff};
/// let l = (-4.0f64).exp().ln_1p();
/// assert!(lse_tail_unsplit_bound::<f32>(2, 4.0, l) > unit_roundoff::<f32>());
/// assert!(lse_tail_textbook_bound::<f32>(2, 4.0, l) < 0.2 * unit_roundoff::<f32>());
/// ```
pub fn lse_tail_unsplit_bound<T: Real>(n: usize, tail_mean_shift: f64, l: f64) -> f64 {
    lse_tail_textbook_bound::<T>(n, tail_mean_shift, l) + gamma::<T>(n + 1)
}

/// Error bound of `log_softmax(z)ᵢ = dᵢ − L` computed in `T` as `fl(fl(zᵢ − m) − L̂)` (the shifted
/// algorithm with the log1p split; `L̂` within [`lse_tail_textbook_bound`]):
///
/// ```text
/// |ŷᵢ − yᵢ| ≤ γ₁·|dᵢ| + (1 + γ₁)·|L̂ − L| + γ₁·|yᵢ| + η
/// ```
/// The same bound serves the cross-entropy loss `−log_softmax(z)_y`. Computing `zᵢ − logsumexp(z)`
/// instead adds `u·|logsumexp(z)|`, which is not allowed: at large logits it is much more.
///
/// ```
/// use transformer_laws::tolerance::{log_softmax_textbook_bound, lse_tail_textbook_bound};
/// let l = (-20.0f64).exp().ln_1p();
/// let tail = lse_tail_textbook_bound::<f32>(2, 20.0, l);
/// // The dominant entry, −2.06e−9: a relative bound, so 0 is far outside it.
/// assert!(log_softmax_textbook_bound::<f32>(0.0, tail, -l) < 1e-3 * l);
/// ```
pub fn log_softmax_textbook_bound<T: Real>(shift: f64, tail_bound: f64, y: f64) -> f64 {
    let g1 = gamma_real::<T>(1.0);
    g1 * shift.abs() + (1.0 + g1) * tail_bound + g1 * y.abs() + underflow_allowance::<T>()
}

/// Error bound of `logsumexp(z) = m + L` computed in `T` as `fl(m + L̂)`:
/// `|ŷ − y| ≤ γ₁·|y| + (1 + γ₁)·|L̂ − L| + η`.
///
/// ```
/// use transformer_laws::tolerance::{logsumexp_textbook_bound, unit_roundoff};
/// // logsumexp([1000, 1000]) = 1000 + ln 2: dominated by the final rounding, u·|y|.
/// let b = logsumexp_textbook_bound::<f32>(1000.7, 1e-7);
/// assert!(b > 1000.0 * unit_roundoff::<f32>());
/// ```
pub fn logsumexp_textbook_bound<T: Real>(y: f64, tail_bound: f64) -> f64 {
    let g1 = gamma_real::<T>(1.0);
    g1 * y.abs() + (1.0 + g1) * tail_bound + underflow_allowance::<T>()
}

/// Error bound of component `i` of the two-pass LayerNorm (no γ, β) computed in `T`:
/// `μ̂ = fl(Σxⱼ/n)`, `d̂ⱼ = fl(xⱼ − μ̂)`, `v̂ = fl(Σd̂ⱼ²/n)`, `ŷᵢ = d̂ᵢ / fl(√(v̂ + ε))` (or times
/// the reciprocal root).
///
/// ```text
/// e_μ = γ_n·mean|x|                                   error of the mean
/// e_v = γ_{n+3}·σ² + 2u·e_μ·σ + 2·e_μ²                error of the variance (Σdⱼ = 0 cancels
///                                                     the first-order effect of e_μ)
/// ρ   = ½·(e_v + u·(σ² + ε))/(σ² + ε) + (2e + 1)·u    relative error of the root and reciprocal
/// |ŷᵢ − yᵢ| ≤ (1 + γ₄)·((e_μ·(1 + u) + u·|dᵢ|)/s + |yᵢ|·(ρ + u)) + η,   s = √(σ² + ε)
/// ```
/// The mean's error is absolute (it scales with `mean|x|`, not with the spread), so a large mean
/// with a small spread is allowed to cost what it costs the two-pass algorithm — and no more: the
/// one-pass `E[x²] − E[x]²` loses the variance itself there, and `ε` outside the root or the
/// unbiased variance change `yᵢ` by far more than `ρ` wherever `σ²` is comparable to `ε` or `n`
/// is small.
///
/// ```
/// use transformer_laws::tolerance::layer_norm_textbook_bound;
/// // [1, 2, 3, 4] with ε = 1e−5: σ² = 1.25; the bound on y₀ ≈ −1.34 is a few u.
/// let b = layer_norm_textbook_bound::<f32>(4, 2.5, 1.25, 1e-5, -1.5);
/// assert!(b < 3e-6 && b > 1e-7);
/// ```
pub fn layer_norm_textbook_bound<T: Real>(
    n: usize,
    mean_abs: f64,
    var: f64,
    eps: f64,
    deviation: f64,
) -> f64 {
    let u = unit_roundoff::<T>();
    let e_mu = gamma::<T>(n.max(1)) * mean_abs;
    let e_v = gamma::<T>(n + 3) * var + 2.0 * u * e_mu * var.sqrt() + 2.0 * e_mu * e_mu;
    let t = var + eps;
    let s = t.sqrt();
    let rho = 0.5 * (e_v + u * t) / t + (2.0 * ELEMENTARY_ULPS + 1.0) * u;
    let y = deviation / s;
    (1.0 + gamma::<T>(4)) * ((e_mu * (1.0 + u) + u * deviation.abs()) / s + y.abs() * (rho + u))
        + underflow_allowance::<T>()
}

/// Error bound of component `i` of RMSNorm (no γ) computed in `T`: `ms = fl(Σxⱼ²/n)`,
/// `ŷᵢ = xᵢ · fl(1/√(ms + ε))` — componentwise relative, the sum of squares having no
/// cancellation:
///
/// ```text
/// |ŷᵢ − yᵢ| ≤ |yᵢ|·(½·γ_{n+2} + (2e + 2)·u) + η
/// ```
///
/// ```
/// use transformer_laws::tolerance::{rms_norm_textbook_bound, unit_roundoff};
/// let b = rms_norm_textbook_bound::<f32>(4, 1.0);
/// assert!(b > 3.0 * unit_roundoff::<f32>() && b < 8.0 * unit_roundoff::<f32>());
/// ```
pub fn rms_norm_textbook_bound<T: Real>(n: usize, y: f64) -> f64 {
    let u = unit_roundoff::<T>();
    y.abs() * (0.5 * gamma::<T>(n + 2) + (2.0 * ELEMENTARY_ULPS + 2.0) * u)
        + underflow_allowance::<T>()
}

/// The error factor of the `f32` ranking's scores ([`crate::unembed::argmax_dot`]): for `n`
/// entries, `|x̂·w − x·w| ≤ c·‖x‖₁·maxᵢ|wᵢ|` with `c` this value, where `x̂·w` is the dot
/// product summed in `f64` in any order (with or without fused multiply-adds) and `‖x‖₁` and
/// the right side are themselves computed in `f64` (`fl(fl(c·fl(‖x‖₁))·max|wᵢ|)`).
///
/// Derivation. Products of two `f32` are exact in `f64` (24 + 24 bits, no underflow: `2⁻²⁹⁸`
/// is normal), and `n` terms summed in any tree leave each at most `n − 1` roundings:
/// `|x̂·w − x·w| ≤ γₙ₋₁·Σ|xᵢwᵢ| ≤ γₙ₋₁·S·m` (Higham 2002, §3.1), `S = ‖x‖₁`, `m = max|wᵢ|`
/// (exact in `f64`). The computed `Ŝ` (non-negative terms) has `S ≤ Ŝ/(1 − γₙ₋₁)`, and the
/// two products round down by at most `(1 − u)²`; so `c = 2γₙ` suffices whenever
/// `(1 − γₙ₋₁)(1 − u)² ≥ ½`, i.e. for every `n ≤ 2⁵⁰`.
///
/// ```
/// use transformer_laws::tolerance::{gamma, rank_dot_err_f32};
/// assert_eq!(rank_dot_err_f32(768), 2.0 * gamma::<f64>(768));
/// ```
pub fn rank_dot_err_f32(n: usize) -> f64 {
    2.0 * gamma::<f64>(n)
}

/// The relative error of the `f32` ranking's squared distances
/// ([`crate::unembed::nearest_euclidean`]): for `n` entries, `|k̂ − k| ≤ r·k` with `r` this
/// value, where `k = Σ(wᵢ − xᵢ)²` and `k̂` is summed in `f64` in any order, each difference
/// rounded once and each square rounded once or fused into its addition.
///
/// Derivation. Each difference of two `f32` rounds once in `f64` (it is exact unless their
/// exponents differ by more than 29), so its square is `dᵢ²(1 + φᵢ)` with `|φᵢ| ≤ γ₂` (two
/// roundings of the factors, one more if the square is rounded: `γ₃`); the non-negative terms
/// summed in any tree pick up `γₙ₋₁` each, and `(1 + γ₃)(1 + γₙ₋₁) ≤ 1 + γₙ₊₂` (Higham 2002,
/// Lemma 3.3). Hence `r = γₙ₊₂(f64)`, with no underflow term: a non-zero difference of `f32`
/// is at least `2⁻¹⁴⁹`, its square a normal `f64`.
///
/// ```
/// use transformer_laws::tolerance::{gamma, rank_distance_rel_err_f32};
/// assert_eq!(rank_distance_rel_err_f32(768), gamma::<f64>(770));
/// ```
pub fn rank_distance_rel_err_f32(n: usize) -> f64 {
    gamma::<f64>(n + 2)
}

/// The relative error of the `f32` cosine ranking's norm product
/// `N̂ = fl(√fl(ŝₓ·ŝⱼ))` against `N = |x|·|wⱼ|` ([`crate::unembed::nearest_cosine`]), each
/// squared norm `ŝ` a sum of the squares of `n` `f32` entries in `f64`, in any order:
/// `|N̂ − N| ≤ ρ·N` with `ρ` this value.
///
/// Derivation. A square of an `f32` is exact in `f64` (and normal: at least `2⁻²⁹⁸`), and `n`
/// non-negative terms summed in any tree pick up at most `n − 1` roundings each:
/// `ŝ = s(1 + θ)`, `|θ| ≤ γₙ₋₁` (Higham 2002, §4.2). The product and the square root round
/// once each, and the root halves the relative error of its argument:
/// `|η| ≤ (2γₙ₋₁ + u)/2 + u + O(u²) ≤ γₙ₋₁ + 2u ≤ γₙ₊₁`.
///
/// ```
/// use transformer_laws::tolerance::{gamma, rank_cosine_norm_rel_err_f32};
/// assert_eq!(rank_cosine_norm_rel_err_f32(768), gamma::<f64>(769));
/// ```
pub fn rank_cosine_norm_rel_err_f32(n: usize) -> f64 {
    gamma::<f64>(n + 1)
}

/// The absolute error of the reference cosine of two `f64` vectors of `n` entries
/// ([`crate::geometry::cosine_similarity`]'s kernel, which [`crate::unembed::nearest_cosine`]
/// ranks by): `|ĉ − cos| ≤` this value, for finite non-zero vectors whose entries, scaled so
/// the largest is in [1, 2), have products and product errors above `f64`'s underflow
/// threshold (widened `f32` vectors always do: their scaled entries are at least `2⁻²⁷⁷`).
///
/// Derivation. Both vectors are scaled by powers of two (exact, under that condition); the
/// numerator and both squared norms are [`crate::Ring::dot_kernel`]'s compensated dot products,
/// `|r̂ − a·b| ≤ 3u|a·b| + γ₂ₙ²·Σ|aᵢbᵢ|` ([`compensated_dot_bound`], without its underflow
/// terms), and `Σ|aᵢbᵢ| ≤ |a||b|`. So each squared norm is within `3u + γ₂ₙ²` relatively; the
/// product and the square root of the two round once each, giving `|a||b|(1 + η)` with
/// `|η| ≤ (2(3u + γ₂ₙ²) + u)/2 + u = 4.5u + γ₂ₙ²`; the quotient rounds once more:
/// `|ĉ − c| ≤ |c|·(3u + 4.5u + γ₂ₙ² + u) + γ₂ₙ² + O(u²) ≤ 8.5u + 2γ₂ₙ² + O(u²)` with `|c| ≤ 1`;
/// the clamp to [−1, 1] only moves `ĉ` toward `c`. This value, `10u + 4γ₂ₙ²`, covers the
/// `O(u²)` terms.
///
/// ```
/// use transformer_laws::tolerance::{cosine_abs_err_f64, gamma};
/// let u = f64::EPSILON / 2.0;
/// assert_eq!(cosine_abs_err_f64(768), 10.0 * u + 4.0 * gamma::<f64>(1536).powi(2));
/// ```
pub fn cosine_abs_err_f64(n: usize) -> f64 {
    let u = unit_roundoff::<f64>();
    10.0 * u + 4.0 * gamma::<f64>(2 * n).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulp_distance_counts_steps() {
        assert_eq!(ulp_distance(1.0f64, 1.0 + f64::EPSILON), 1);
        assert_eq!(ulp_distance(-0.0f64, 0.0), 0);
        assert_eq!(ulp_distance(f32::from_bits(1), -f32::from_bits(1)), 2);
        assert_eq!(ulp_distance(f64::NAN, 1.0), u64::MAX);
        assert_eq!(ulp(1.0f32), f64::from(f32::EPSILON));
        assert_eq!(ulp(0.0f64), 5e-324);
    }

    #[test]
    fn gamma_grows_with_n() {
        assert_eq!(gamma::<f64>(0), 0.0);
        assert!(gamma::<f32>(10) > 10.0 * unit_roundoff::<f32>());
        assert!(gamma::<f32>(1 << 25).is_infinite());
    }

    #[test]
    fn relative_is_k_epsilons() {
        assert_eq!(relative::<f64>(2), 2.0 * f64::EPSILON);
        assert_eq!(relative::<f32>(1), f64::from(f32::EPSILON));
    }
}
