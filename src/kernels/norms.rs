//! LayerNorm, RMSNorm and centering.
//!
//! ```text
//! LN(x)      = (x − μ(x)·1) / √(σ²(x) + ε),   μ the mean, σ² the population variance
//! LayerNorm  = γ ⊙ LN(x) + β
//! RMSNorm(x) = γ ⊙ x / √(mean(x²) + ε)
//! ```
//!
//! What these functions do *not* do matters to the thread: `|LN(x)| = √d·σ/√(σ² + ε)`, not 1
//! (`proofs/layernorm-output-norm.md`), and LN forgets the component of `x` along `1` as well
//! as its scale (`proofs/layernorm-sees-direction.md`).
//!
//! # Special values (both norms and [`center`])
//!
//! | input | result |
//! |---|---|
//! | empty | `[]` |
//! | NaN or ±∞ anywhere in `x` | all NaN |
//! | zero variance (LN) / zero vector (RMSNorm), any ε ≥ 0 | normalized part exactly 0, so the output is exactly `β` (or 0) |
//! | ε < 0 or NaN | panic |
//!
//! For ε = 0 and zero variance the quotient is 0/0; it is defined as 0 (the ε → 0⁺ limit),
//! where PyTorch returns NaN.

use super::eft::{Acc, deviation_pairs, fma_residual, mean_pair, scalbn, sqrt_pair};
use super::eft::{pow2, two_prod, two_sum, unit_exponent};
use super::scalar::{Real, assert_same_len, narrow_all, widen_all};

fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Check ε and settle the rows the special-value table fixes: `Err` holds the result.
fn settle(x: &[f64], eps: f64, what: &str) -> Result<(), Vec<f64>> {
    assert!(
        eps >= 0.0,
        "{what}: eps must be a number >= 0 (and not NaN), got {eps}"
    );
    if x.is_empty() {
        return Err(vec![]);
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(vec![f64::NAN; x.len()]);
    }
    Ok(())
}

/// The shared kernel: `xᵢ / √(Σxⱼ²/n + ε)` (RMSNorm) or the same of `x − μ` (LayerNorm).
///
/// Everything is scaled by exact powers of two (`scalbn`): first `x` so that `max|xᵢ| ∈ [1, 2)`
/// (no overflow in the mean), then the deviations so that their maximum is in [1, 2) (no
/// overflow or underflow in the squares). With `2^K` the total scale the result is
/// `(2^K·dᵢ) / √(q + ε·2^{2K})`, one rounding per step; when `ε·2^{2K}` overflows, ε dominates
/// the variance by more than the range of `f64` and the result is `2^{−K}·(2^K dᵢ)/√(ε + q·2^{−2K})`.
fn normalize(x: &[f64], eps: f64, centered: bool) -> Vec<f64> {
    let m = max_abs(x);
    if m == 0.0 || (centered && x.iter().all(|&v| v == x[0])) {
        // Zero variance: the normalized row is exactly 0 (0/0 := 0 when ε = 0).
        return vec![0.0; x.len()];
    }
    let k1 = unit_exponent(m);
    let xs: Vec<f64> = x.iter().map(|&v| scalbn(v, k1)).collect();
    // The (scaled) deviations as pairs: LayerNorm's are not exact in one f64, and rounding them
    // first would cost half an ulp of every output.
    let (d, k2): (Vec<(f64, f64)>, i32) = if centered {
        let d = deviation_pairs(&xs);
        let dm = d.iter().fold(0.0f64, |m, v| m.max((v.0 + v.1).abs()));
        if dm == 0.0 {
            return vec![0.0; x.len()];
        }
        let k2 = unit_exponent(dm);
        (
            d.into_iter()
                .map(|(a, b)| (scalbn(a, k2), scalbn(b, k2)))
                .collect(),
            k2,
        )
    } else {
        (xs.into_iter().map(|v| (v, 0.0)).collect(), 0)
    };
    let big_k = k1 + k2;
    let mut acc = Acc::default();
    for &(a, b) in &d {
        // exact squares (error-free product), so that e.g. [MAX, −MAX] normalizes to exactly
        // ±1; (a + b)² = a² + (2a + b)·b
        let (p, e) = two_prod(a, a);
        acc.add(p);
        acc.add(e + (2.0 * a + b) * b);
    }
    // q = Σ(2^K dᵢ)²/n ∈ [1/n, 4), as a pair (qh, ql).
    let (qh, ql) = mean_pair(acc.pair(), d.len() as f64);
    let e2 = scalbn(eps, 2 * big_k);
    if e2.is_finite() {
        let (s, s_lo) = two_sum(qh, e2);
        let (ih, il) = inverse_root(s, s_lo + ql);
        d.iter()
            .zip(x)
            .map(|(&(a, b), &orig)| {
                let nonzero = if centered { a != 0.0 } else { orig != 0.0 };
                if nonzero && a.abs() < pow2(-900) {
                    // A tiny entry: the low parts of its products with ih, il would fall into
                    // the subnormals. Lift it by 2^128 (exact; an RMSNorm entry is taken
                    // unscaled, as its scaling into the subnormals may have lost bits or all of
                    // them), and scale the result back once.
                    let (a, b) = if centered {
                        (scalbn(a, 128), scalbn(b, 128))
                    } else {
                        (scalbn(orig, k1 + 128), 0.0)
                    };
                    let (p, e) = two_prod(a, ih);
                    scalbn(p + (e + (a * il + b * ih)), -128)
                } else {
                    let (p, e) = two_prod(a, ih);
                    p + (e + (a * il + b * ih))
                }
            })
            .collect()
    } else {
        // ε dominates the scaled mean square beyond the range of f64: the root of ε (with the
        // unscaled mean square as its low part), the outputs scaled back once.
        let (ih, il) = inverse_root(eps, scalbn(qh, -2 * big_k));
        d.iter()
            .map(|&(a, b)| {
                let (p, e) = two_prod(a, ih);
                scalbn(p + (e + (a * il + b * ih)), -big_k)
            })
            .collect()
    }
}

/// `1/√(s + s_lo)` as a pair `(ih, il)`, for `s > 0` and `|s_lo|` below an ulp or so of `s`:
/// the rounded root with one Newton correction `(r, c)`, then its inverse with the error-free
/// residual, so that a product `(a + b)·(ih + il)` is within about half an ulp before its
/// final rounding.
fn inverse_root(s: f64, s_lo: f64) -> (f64, f64) {
    let (r, c) = sqrt_pair(s, s_lo);
    let ih = 1.0 / r;
    let il = (fma_residual(-ih, r, 1.0) - ih * c) / r;
    (ih, il)
}

/// The kernel for `f32` inputs: plain `f64` arithmetic suffices, in one pass for the mean,
/// one for the variance and one that writes the output (γ and β applied, rounded once).
///
/// No scaling is needed (squares of `f32` values neither overflow nor underflow in `f64`), and
/// a compensated mean keeps each deviation within u_f64·|μ| of its exact value — far below an
/// `f32` ulp of the deviation, so a large mean with a small spread does not cancel; the result is
/// within a few `f64` ulps before its one rounding to `f32`.
fn narrow_input_norm<T: Real>(
    x: &[T],
    eps: f64,
    centered: bool,
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
    what: &str,
) -> Vec<T> {
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::isa().is_vector()
        && let Some(x32) = T::as_f32_slice(x)
    {
        assert!(
            eps >= 0.0,
            "{what}: eps must be a number >= 0 (and not NaN), got {eps}"
        );
        let g32 = gamma.map(|g| T::as_f32_slice(g).expect("T is f32"));
        let b32 = beta.map(|b| T::as_f32_slice(b).expect("T is f32"));
        if let Some((y, _)) =
            crate::kernels::simd::norm_vector(crate::kernels::isa(), x32, eps, centered, g32, b32)
        {
            return T::from_f32_vec(y).expect("T is f32");
        }
    }
    let first = x.first().map(|v| v.widen());
    let zero_variance = match first {
        None => true,
        Some(f0) => x
            .iter()
            .all(|v| v.widen() == if centered { f0 } else { 0.0 }),
    };
    if x.iter().any(|v| !v.is_finite()) || zero_variance {
        // empty, non-finite and zero-variance rows: the shared special-value path
        let x64: Vec<f64> = x.iter().map(|v| v.widen()).collect();
        let fixed = match settle(&x64, eps, what) {
            Err(fixed) => fixed,
            Ok(()) => vec![0.0; x.len()],
        };
        return affine(fixed, gamma, beta);
    }
    assert!(
        eps >= 0.0,
        "{what}: eps must be a number >= 0 (and not NaN), got {eps}"
    );
    let n = x.len() as f64;
    let (mh, ml) = if centered {
        // A compensated mean, kept as a pair: a plain sum can lose the whole mean to
        // cancellation ([4, 6e-39, −4]), and a rounded mean loses a deviation like 1 − μ for
        // μ = 1 + 3e-39.
        let mut acc = Acc::default();
        x.iter().for_each(|v| acc.add(v.widen()));
        mean_pair(acc.pair(), n)
    } else {
        (0.0, 0.0)
    };
    let dev = |v: T| (v.widen() - mh) - ml;
    let q = lanes_sum(x, |v| {
        let d = dev(v);
        d * d
    }) / n;
    let r = 1.0 / (q + eps).sqrt();
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let y = dev(v) * r;
            let g = gamma.map_or(1.0, |g| g[i].widen());
            let b = beta.map_or(0.0, |b| b[i].widen());
            T::narrow(g * y + b)
        })
        .collect()
}

/// `Σ f(xᵢ)` in eight independent `f64` lanes (vectorizable).
fn lanes_sum<T: Copy>(x: &[T], f: impl Fn(T) -> f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            lanes[k] += f(c[k]);
        }
    }
    lanes.iter().sum::<f64>() + rest.iter().map(|&v| f(v)).sum::<f64>()
}

/// `LN(x)` on `f64`, before γ and β.
pub(crate) fn ln_normalize_f64(x: &[f64], eps: f64) -> Vec<f64> {
    match settle(x, eps, "layer_norm") {
        Ok(()) => normalize(x, eps, true),
        Err(fixed) => fixed,
    }
}

/// `x / √(mean(x²) + ε)` on `f64`, before γ.
pub(crate) fn rms_normalize_f64(x: &[f64], eps: f64) -> Vec<f64> {
    match settle(x, eps, "rms_norm") {
        Ok(()) => normalize(x, eps, false),
        Err(fixed) => fixed,
    }
}

/// `γ ⊙ n + β`, rounded once to `T`.
fn affine<T: Real>(n: Vec<f64>, gamma: Option<&[T]>, beta: Option<&[T]>) -> Vec<T> {
    let out: Vec<f64> = n
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let g = gamma.map_or(1.0, |g| g[i].widen());
            let b = beta.map_or(0.0, |b| b[i].widen());
            g * v + b
        })
        .collect();
    narrow_all(out)
}

fn check_params<T>(what: &str, n: usize, gamma: Option<&[T]>, beta: Option<&[T]>) {
    // The message is formatted only on a mismatch: these checks run once per row.
    if let Some(g) = gamma.filter(|g| g.len() != n) {
        assert_same_len(&format!("{what} (x vs gamma)"), n, g.len());
    }
    if let Some(b) = beta.filter(|b| b.len() != n) {
        assert_same_len(&format!("{what} (x vs beta)"), n, b.len());
    }
}

/// LayerNorm `γ ⊙ (x − μ)/√(σ² + ε) + β` over the `d` entries of one row.
///
/// Its output (before γ, β) has mean 0 and norm `√d·σ/√(σ² + ε)` — not 1
/// (`proofs/layernorm-output-norm.md`). It is invariant under `x ↦ αx` (α > 0, ε = 0) *and*
/// under `x ↦ x + c·1`.
///
/// # Formula
/// ```text
/// μ  = Σxᵢ/d                               (compensated, kept as a pair μₕ + μₗ)
/// dᵢ = (xᵢ − μₕ) − μₗ                       (exact difference, then the correction)
/// LN(x)ᵢ = s·dᵢ / √(Σ(s·dⱼ)²/d + ε·s²),    s a power of two with s·max|dᵢ| ∈ [1, 2)
///                                          (x itself is first scaled the same way)
/// ```
/// Two passes with the mean carried in double precision: a row with a large mean and a small
/// spread (`[40000, 40001, 40002, 40003]` in f32) does not cancel. In f64 the deviations are
/// kept as pairs and the root and its inverse are Newton-corrected, so LN(x) is rounded once:
/// within 1 ulp componentwise (`tolerance::F64_ULPS`); f32 ≤ 3 ulp guaranteed. γ and β are
/// applied with one fused multiply-add.
///
/// # Special values
/// See the [module table](self): empty → `[]`; non-finite `x` → all NaN; a constant row →
/// exactly `β` (0 without β), also for ε = 0.
///
/// # Panics
/// If `eps` is negative or NaN, or `gamma`/`beta` have a length other than `x.len()`.
///
/// # Examples
/// ```
/// use transformer_laws::norms::layer_norm;
/// // −1.5/√(1.25 + ε) = −1.3416354199…, whose nearest f32 prints as −1.3416355.
/// let y = layer_norm(&[40000.0f32, 40001.0, 40002.0, 40003.0], 1e-5, None, None);
/// assert_eq!(y, vec![-1.3416355, -0.4472118, 0.4472118, 1.3416355]);
/// let beta = [0.5f64, -0.5];
/// assert_eq!(layer_norm(&[7.0f64, 7.0], 0.0, None, Some(&beta)), vec![0.5, -0.5]);
/// ```
pub fn layer_norm<T: Real>(x: &[T], eps: T, gamma: Option<&[T]>, beta: Option<&[T]>) -> Vec<T> {
    check_params("layer_norm", x.len(), gamma, beta);
    if T::MANTISSA_DIGITS == 24 {
        return narrow_input_norm(x, eps.widen(), true, gamma, beta, "layer_norm");
    }
    let x64: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    affine(ln_normalize_f64(&x64, eps.widen()), gamma, beta)
}

/// RMSNorm `γ ⊙ x / √(mean(x²) + ε)`.
///
/// Like LayerNorm without the centering: invariant under `x ↦ αx` (α > 0, ε = 0) but not under
/// `x ↦ x + c·1`; `|RMSNorm(x)| = √d` for ε = 0 (`proofs/rmsnorm-invariances.md`).
///
/// # Formula
/// ```text
/// RMSNorm(x)ᵢ = s·xᵢ / √(Σ(s·xⱼ)²/d + ε·s²),   s a power of two with s·max|xᵢ| ∈ [1, 2)
/// ```
/// The scaling makes `[3e19, 4e19]` in f32 (whose squares overflow f32) and `[3e200, 4e200]`
/// in f64 safe. Within 1 ulp componentwise in f64, ≤ 3 ulp in f32.
///
/// # Special values
/// See the [module table](self): empty → `[]`; non-finite `x` → all NaN; the zero vector →
/// zeros, also for ε = 0.
///
/// # Panics
/// If `eps` is negative or NaN, or `gamma` has a length other than `x.len()`.
///
/// # Examples
/// ```
/// use transformer_laws::norms::rms_norm;
/// assert_eq!(rms_norm(&[3e19f32, 4e19], 1e-5, None), vec![0.84852816, 1.1313708]);
/// assert_eq!(rms_norm(&[3e200f64, 4e200], 0.0, None), rms_norm(&[3.0, 4.0], 0.0, None));
/// ```
pub fn rms_norm<T: Real>(x: &[T], eps: T, gamma: Option<&[T]>) -> Vec<T> {
    check_params::<T>("rms_norm", x.len(), gamma, None);
    if T::MANTISSA_DIGITS == 24 {
        return narrow_input_norm(x, eps.widen(), false, gamma, None, "rms_norm");
    }
    let x64: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    affine(rms_normalize_f64(&x64, eps.widen()), gamma, None)
}

/// [`layer_norm`] of each row of a row-major batch: `x` holds rows of `d` entries one after
/// another, and row `i` of the result is `layer_norm(&x[i·d..(i+1)·d], eps, gamma, beta)`,
/// bit for bit. The batch form of PyTorch's `F.layer_norm(x, (d,), γ, β, ε)` on a `(rows, d)`
/// tensor.
///
/// For `f32` on the vector path the output pass runs over four rows at once, loading and
/// widening each entry of γ and β once for the four rather than once per row (the README's
/// speed section has the times against row-by-row calls).
///
/// # Panics
/// If `x` is not empty and `d` is 0 or does not divide `x.len()`, if `eps` is negative or
/// NaN, or if `gamma`/`beta` have a length other than `d`.
///
/// # Examples
/// ```
/// use transformer_laws::norms::{layer_norm, layer_norm_rows};
/// let x = [1.0f32, 2.0, 4.0, 40000.0, 40001.0, 40003.0];
/// let beta = [0.5f32, 0.0, -0.5];
/// let y = layer_norm_rows(&x, 3, 1e-5, None, Some(&beta));
/// assert_eq!(&y[..3], &layer_norm(&x[..3], 1e-5, None, Some(&beta))[..]);
/// assert_eq!(&y[3..], &layer_norm(&x[3..], 1e-5, None, Some(&beta))[..]);
/// ```
pub fn layer_norm_rows<T: Real>(
    x: &[T],
    d: usize,
    eps: T,
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
) -> Vec<T> {
    norm_rows(x, d, eps, true, (gamma, beta), "layer_norm_rows")
}

/// [`rms_norm`] of each row of a row-major batch of rows of `d` entries: row `i` of the
/// result is `rms_norm(&x[i·d..(i+1)·d], eps, gamma)`, bit for bit; γ is shared as in
/// [`layer_norm_rows`].
///
/// # Panics
/// If `x` is not empty and `d` is 0 or does not divide `x.len()`, if `eps` is negative or
/// NaN, or if `gamma` has a length other than `d`.
///
/// # Examples
/// ```
/// use transformer_laws::norms::{rms_norm, rms_norm_rows};
/// let x = [3.0f64, 4.0, 3e200, 4e200];
/// let rows = [rms_norm(&x[..2], 0.0, None), rms_norm(&x[2..], 0.0, None)].concat();
/// assert_eq!(rms_norm_rows(&x, 2, 0.0, None), rows);
/// ```
pub fn rms_norm_rows<T: Real>(x: &[T], d: usize, eps: T, gamma: Option<&[T]>) -> Vec<T> {
    norm_rows(x, d, eps, false, (gamma, None), "rms_norm_rows")
}

/// `p` as `f32` (for `T = f32`).
#[cfg(target_arch = "x86_64")]
fn as_f32s<T: Real>(p: Option<&[T]>) -> Option<&[f32]> {
    p.map(|p| T::as_f32_slice(p).expect("T is f32"))
}

/// The batch norms: the vector path's batch kernel for `f32` rows (its special rows through
/// the one-row function), else the one-row function row by row.
fn norm_rows<T: Real>(
    x: &[T],
    d: usize,
    eps: T,
    centered: bool,
    (gamma, beta): (Option<&[T]>, Option<&[T]>),
    what: &str,
) -> Vec<T> {
    let eps64 = eps.widen();
    assert!(
        eps64 >= 0.0,
        "{what}: eps must be a number >= 0 (and not NaN), got {eps64}"
    );
    check_params(what, d, gamma, beta);
    if x.is_empty() {
        return vec![];
    }
    assert!(
        d > 0 && x.len().is_multiple_of(d),
        "{what}: x has {} entries, not a whole number of rows of d = {d}",
        x.len()
    );
    let row = |r: &[T]| {
        if centered {
            layer_norm(r, eps, gamma, beta)
        } else {
            rms_norm(r, eps, gamma)
        }
    };
    #[cfg(target_arch = "x86_64")]
    if crate::kernels::isa().is_vector()
        && let Some(x32) = T::as_f32_slice(x)
    {
        let y = crate::kernels::simd::filled(x.len(), |out| {
            let rest = crate::kernels::simd::norm_rows_vector(
                crate::kernels::isa(),
                x32,
                d,
                eps64,
                centered,
                (as_f32s(gamma), as_f32s(beta)),
                out,
            )
            .expect("the level was detected");
            // The rows the vector path left: through the one-row function, which takes its
            // scalar path for them.
            for i in rest {
                let yi = row(&x[i * d..(i + 1) * d]);
                let yi = T::as_f32_slice(&yi).expect("T is f32");
                for (o, &v) in out[i * d..(i + 1) * d].iter_mut().zip(yi) {
                    o.write(v);
                }
            }
        });
        return T::from_f32_vec(y).expect("T is f32");
    }
    x.chunks(d).flat_map(row).collect()
}

/// `x − mean(x)·1`: the projection onto the hyperplane orthogonal to `1`.
///
/// LayerNorm is `center` followed by RMSNorm: `LN(x) = RMSNorm(center(x))` for the same ε.
///
/// # Formula
/// ```text
/// center(x)ᵢ = (xᵢ − μₕ) − μₗ,   μₕ + μₗ the compensated mean
/// ```
/// Error ≤ 1 ulp of each entry plus u²·|μ|.
///
/// # Special values
/// Empty → `[]`; NaN or ±∞ anywhere → all NaN; a constant row → exact zeros. Finite inputs
/// give finite outputs except where the exact `xᵢ − μ` is beyond the largest finite value (an
/// entry far from a mean near ±`MAX`, e.g. `[MAX, −MAX, −MAX]`): that entry overflows to ±∞,
/// as the correctly rounded result must (found by the `kernels` fuzz target).
///
/// # Examples
/// ```
/// use transformer_laws::norms::center;
/// assert_eq!(center(&[1.0f32, 2.0, 3.0]), vec![-1.0, 0.0, 1.0]);
/// assert_eq!(center(&[0.1f64, 0.1, 0.1]), vec![0.0; 3]);
/// ```
pub fn center<T: Real>(x: &[T]) -> Vec<T> {
    narrow_all(super::eft::centered(&widen_all(x)))
}
