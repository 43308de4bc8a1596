//! Cross-entropy of the softmax at a target class, and its gradient.
//!
//! ```text
//! L(z, y) = −log softmax(z)_y = logsumexp(z) − z_y
//! ∂L/∂zⱼ  = softmax(z)ⱼ − [j = y]
//! ```
//! The gradient pushes the target logit up and every other logit down, and sums to zero
//! (`proofs/ce-correct-logit-up.md`); `L(z + c·1) = L(z)`, and `L(α·z) → 0` as α → ∞ only when
//! `y` is the unique argmax (`proofs/ce-rewards-scale.md`).
//!
//! # Special values
//!
//! | logits | loss | gradient |
//! |---|---|---|
//! | NaN anywhere | NaN | all NaN |
//! | `c` entries +∞, target among them | ln c | softmax − one-hot (1/c on the +∞ entries) |
//! | some +∞, target finite | +∞ | softmax − one-hot |
//! | all −∞ | NaN | all NaN |
//! | target −∞, max finite | +∞ | softmax − one-hot |
//! | target out of range, or empty logits | panic | panic |

use crate::kernels::scalar::{Real, narrow_all, widen_all};
use crate::kernels::softmax::{
    NarrowParts, Row, from_f32, log_softmax_f64, narrow_parts, softmax_f64,
};

fn check_target(n: usize, target: usize) {
    assert!(
        target < n,
        "cross_entropy: target {target} is out of range for {n} logits"
    );
}

/// Loss and gradient on `f64`.
pub(crate) fn cross_entropy_f64(z: &[f64], y: usize) -> (f64, Vec<f64>) {
    check_target(z.len(), y);
    match Row::new(z, 1.0) {
        Row::Finite(f) => {
            let loss = 0.0 - f.log_prob(y); // +0, not −0, for a certain target
            let mut grad: Vec<f64> = (0..z.len()).map(|j| f.prob(j)).collect();
            // p_y − 1 = −(1 + S − e_y)/(1 + S), without cancelling against 1.
            grad[y] = f.prob_minus_one(y);
            (loss, grad)
        }
        _ => {
            let loss = 0.0 - log_softmax_f64(z)[y];
            let mut grad = softmax_f64(z, 1.0);
            grad[y] -= 1.0;
            (loss, grad)
        }
    }
}

/// Cross-entropy `−log softmax(z)_y`, accurate when the target logit dominates.
///
/// # Formula
/// ```text
/// L = log1p(S) + (m − z_y),   S = Σ_{j≠k} exp(zⱼ − m),  m = z_k = max z
/// ```
/// Both terms are ≥ 0 (double-word in f64, rounded once): within 1 ulp in f64, ≤ 2 ulp in f32. For `z = [40, 0]`, `y = 0` in f64 this gives
/// `4.248354255291589e-18`, where `logsumexp(z) − z_y` rounds to 0.
///
/// # Special values
/// See the [module table](self).
///
/// # Panics
/// If `target >= logits.len()` (this includes empty logits).
///
/// # Examples
/// ```
/// use transformer_laws::loss::cross_entropy;
/// assert_eq!(cross_entropy(&[40.0f64, 0.0], 0), 4.248354255291589e-18);
/// assert_eq!(cross_entropy(&[0.0f32, 0.0], 1), std::f32::consts::LN_2);
/// ```
pub fn cross_entropy<T: Real>(logits: &[T], target: usize) -> T {
    check_target(logits.len(), target);
    if let Some((z, p)) = narrow_parts(logits, false) {
        return T::narrow(narrow_loss(&p, z, target));
    }
    T::narrow(cross_entropy_f64(&widen_all(logits), target).0)
}

/// `L = ln(1 + S) − (z_y − m)` for `f32` inputs (both terms ≥ 0).
fn narrow_loss(p: &NarrowParts, z: &[f32], y: usize) -> f64 {
    p.log_total() - (f64::from(z[y]) - p.m)
}

/// Loss and gradient for `f32` inputs in plain `f64`.
fn narrow_with_grad(p: &NarrowParts, z: &[f32], y: usize) -> (f32, Vec<f32>) {
    let total = 1.0 + p.s;
    let mut g = p.probs();
    // p_y − 1 = −Σ_{j≠y} p_j, without cancelling against 1.
    let others = if y == p.k { p.s } else { 1.0 + (p.s - p.e[y]) };
    g[y] = (0.0 - others / total) as f32;
    (narrow_loss(p, z, y) as f32, g)
}

/// The gradient `softmax(z) − e_y` of [`cross_entropy`] with respect to the logits.
///
/// # Formula
/// ```text
/// gⱼ = softmax(z)ⱼ  (j ≠ y),     g_y = −Σ_{j≠y} softmax(z)ⱼ
/// ```
/// The target entry is summed from the others instead of computed as `p_y − 1`, so it keeps
/// its digits when `p_y ≈ 1` (in f64 as the double-word quotient `(1 + S − e_y)/(1 + S)`).
/// Within 1 ulp componentwise in f64, ≤ 3 ulp in f32.
///
/// # Special values
/// See the [module table](self).
///
/// # Panics
/// If `target >= logits.len()`.
///
/// # Examples
/// ```
/// use transformer_laws::loss::cross_entropy_grad;
/// assert_eq!(cross_entropy_grad(&[40.0f64, 0.0], 0), vec![-4.248354255291589e-18, 4.248354255291589e-18]);
/// assert_eq!(cross_entropy_grad(&[0.0f32, 0.0], 0), vec![-0.5, 0.5]);
/// ```
pub fn cross_entropy_grad<T: Real>(logits: &[T], target: usize) -> Vec<T> {
    cross_entropy_with_grad(logits, target).1
}

/// [`cross_entropy`] and [`cross_entropy_grad`] in one pass: `(loss, gradient)`.
///
/// # Formula
/// As the two functions it combines.
///
/// # Special values
/// See the [module table](self).
///
/// # Panics
/// If `target >= logits.len()`.
///
/// # Examples
/// ```
/// use transformer_laws::loss::cross_entropy_with_grad;
/// let (l, g) = cross_entropy_with_grad(&[0.0f64, 0.0], 0);
/// assert_eq!((l, g), (std::f64::consts::LN_2, vec![-0.5, 0.5]));
/// let (l, _) = cross_entropy_with_grad(&[0.0f32, 0.0], 0);
/// assert_eq!(l, std::f32::consts::LN_2);
/// ```
pub fn cross_entropy_with_grad<T: Real>(logits: &[T], target: usize) -> (T, Vec<T>) {
    check_target(logits.len(), target);
    if let Some((z, p)) = narrow_parts(logits, true) {
        let (l, g) = narrow_with_grad(&p, z, target);
        return (T::narrow(f64::from(l)), from_f32(g));
    }
    let (l, g) = cross_entropy_f64(&widen_all(logits), target);
    (T::narrow(l), narrow_all(g))
}
