//! Dot product, norm, Euclidean and squared distance, cosine similarity and angle.
//!
//! The thread this crate checks compares three "distances" between a residual `x` and a token
//! `w`: the Euclidean distance `|x − w|`, the dot product `x·w = |x||w| cos θ`, and the cosine
//! `cos θ`. Only the first is a metric (see `proofs/dot-is-not-a-distance.md`).
//!
//! [`dot`] and [`squared_distance`] need only `+` and `×` and run on any [`Ring`] (including
//! `BigRational`, exactly); the rest need `sqrt` and run on [`Real`].

use super::eft::{scalbn, sqrt_pair, sum_squares_pair, unit_exponent};
use super::scalar::{Real, Ring, assert_same_len, widen_all};

/// Inner product `Σ aᵢ·bᵢ`.
///
/// Not a distance: `x·x ≠ 0` and a vector need not have the largest dot product with itself.
///
/// # Formula
/// ```text
/// dot(a, b) = Σᵢ aᵢ·bᵢ
/// ```
/// Computed with [`Ring::dot_kernel`]: exactly for rationals, with a compensated sum for `f64`
/// (Ogita–Rump–Oishi `Dot2`: error ≤ u·|a·b| + γ²_n·|a|·|b|), in `f64` for `f32`.
///
/// # Special values
/// Empty slices give 0. NaN in either input gives NaN; ∞·0 gives NaN; otherwise IEEE rules.
///
/// # Panics
/// If the lengths differ (both are named in the message).
///
/// # Examples
/// ```
/// use transformer_laws::geometry::dot;
/// assert_eq!(dot(&[1.0f32, 2.0], &[3.0, 4.0]), 11.0);
/// assert_eq!(dot(&[1.0f64, 2.0], &[3.0, 4.0]), 11.0);
/// // Exact on rationals:
/// use num_rational::BigRational;
/// let r = |n: i64, d: i64| BigRational::new(n.into(), d.into());
/// assert_eq!(dot(&[r(1, 3)], &[r(3, 1)]), r(1, 1));
/// ```
pub fn dot<T: Ring>(a: &[T], b: &[T]) -> T {
    assert_same_len("dot", a.len(), b.len());
    T::dot_kernel(a, b)
}

/// Squared Euclidean distance `Σ (aᵢ − bᵢ)²`.
///
/// Ranks points exactly as [`euclidean_distance`] does, without a square root, so it runs on
/// rationals. Related to the dot product by `|a − b|² = |a|² + |b|² − 2 a·b`.
///
/// # Formula
/// ```text
/// squared_distance(a, b) = Σᵢ (aᵢ − bᵢ)²
/// ```
/// Each difference is rounded once, then squared and summed with compensation (f64) or in
/// `f64` (f32): relative error ≤ 2u + γ²_n.
///
/// # Special values
/// Empty gives 0. NaN gives NaN; ∞ − ∞ (same sign) gives NaN; an infinite difference gives +∞.
///
/// # Panics
/// If the lengths differ.
///
/// # Examples
/// ```
/// use transformer_laws::geometry::squared_distance;
/// assert_eq!(squared_distance(&[1.0f32, 2.0], &[4.0, 6.0]), 25.0);
/// assert_eq!(squared_distance(&[1.0f64, 2.0], &[4.0, 6.0]), 25.0);
/// ```
pub fn squared_distance<T: Ring>(a: &[T], b: &[T]) -> T {
    assert_same_len("squared_distance", a.len(), b.len());
    T::squared_distance_kernel(a, b)
}

/// Euclidean norm `|x| = √(Σ xᵢ²)`, without overflow or underflow.
///
/// # Formula
/// ```text
/// |x| = 2^−k·√(Σᵢ (2^k·xᵢ)²),   k with 2^k·max|xᵢ| ∈ [1, 2)
/// ```
/// Scaling by a power of two is exact, so `[3·2⁶⁰⁰, 4·2⁶⁰⁰]` gives `5·2⁶⁰⁰` rather than ∞.
/// Error ≤ 1 ulp + γ²_n.
///
/// # Special values
/// Empty or all-zero gives 0. NaN anywhere gives NaN; otherwise ±∞ anywhere gives +∞.
///
/// # Examples
/// ```
/// use transformer_laws::geometry::norm;
/// assert_eq!(norm(&[3.0f32, 4.0]), 5.0);
/// let big = 2f64.powi(600);
/// assert_eq!(norm(&[3.0 * big, 4.0 * big]), 5.0 * big); // the squares overflow f64
/// ```
pub fn norm<T: Real>(x: &[T]) -> T {
    T::narrow(norm_f64(&widen_all(x)))
}

/// The kernel behind [`norm`], on `f64`.
pub(crate) fn norm_f64(x: &[f64]) -> f64 {
    let mut m = 0.0f64;
    for &v in x {
        if v.is_nan() {
            return f64::NAN;
        }
        m = m.max(v.abs());
    }
    if m == 0.0 || m.is_infinite() {
        return m;
    }
    let k = unit_exponent(m);
    // Exact squares in a compensated sum (Σ within u² of exact), so the corrected root is
    // correctly rounded but for near-halfway cases.
    let (hi, lo) = sum_squares_pair(x.iter().map(|&v| scalbn(v, k)));
    let (r, c) = sqrt_pair(hi, lo);
    scalbn(r + c, -k)
}

/// Euclidean distance `|a − b|`, without overflow.
///
/// # Formula
/// ```text
/// |a − b| = norm(a − b)       (each difference rounded once, then as in `norm`)
/// ```
/// Relative error ≤ u + 1 ulp + γ²_n.
///
/// # Special values
/// As [`norm`] of the differences: NaN in gives NaN; ∞ − ∞ of the same sign gives NaN.
///
/// # Panics
/// If the lengths differ.
///
/// # Examples
/// ```
/// use transformer_laws::geometry::euclidean_distance;
/// assert_eq!(euclidean_distance(&[0.0f32, 0.0], &[3.0, 4.0]), 5.0);
/// assert_eq!(euclidean_distance(&[0.0f64, 0.0], &[3.0, 4.0]), 5.0);
/// ```
pub fn euclidean_distance<T: Real>(a: &[T], b: &[T]) -> T {
    assert_same_len("euclidean_distance", a.len(), b.len());
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.widen() - y.widen())
        .collect();
    T::narrow(norm_f64(&d))
}

/// Cosine similarity `a·b / (|a||b|)`, or `None` when either vector is zero (or empty).
///
/// Equal to `cos θ` of [`angle`]. Beware the thread's slip: for tokens of equal norm, a
/// *larger* cosine gives a larger logit (`proofs/cosine-sign-slip.md`).
///
/// # Formula
/// ```text
/// cos(a, b) = (sₐa)·(s_b b) / √(|sₐa|²·|s_b b|²),   sₐ, s_b powers of two scaling to [1, 2)
/// ```
/// The dot product and the squared norms are compensated; the result is clamped to [−1, 1].
/// Absolute error ≤ `tolerance::cosine_abs_err_f64` (about 10u, u = 2⁻⁵³) for `f32` inputs.
///
/// # Special values
/// `None` for a zero or empty vector. `Some(NaN)` if any entry is NaN or ±∞.
///
/// # Panics
/// If the lengths differ.
///
/// # Examples
/// ```
/// use transformer_laws::geometry::cosine_similarity;
/// assert_eq!(cosine_similarity(&[1.0f32, 0.0], &[2.0, 0.0]), Some(1.0));
/// assert_eq!(cosine_similarity(&[1.0f64, 0.0], &[0.0, 5.0]), Some(0.0));
/// assert_eq!(cosine_similarity(&[0.0f64, 0.0], &[1.0, 0.0]), None);
/// ```
pub fn cosine_similarity<T: Real>(a: &[T], b: &[T]) -> Option<T> {
    assert_same_len("cosine_similarity", a.len(), b.len());
    cosine_f64(&widen_all(a), &widen_all(b)).map(T::narrow)
}

/// Scale a vector so its largest entry is in [1, 2). `None` for zero; NaN-filled for non-finite.
fn unit_scaled(x: &[f64]) -> Option<Vec<f64>> {
    let mut m = 0.0f64;
    for &v in x {
        if !v.is_finite() {
            return Some(vec![f64::NAN; x.len()]);
        }
        m = m.max(v.abs());
    }
    if m == 0.0 {
        return None;
    }
    let k = unit_exponent(m);
    Some(x.iter().map(|&v| scalbn(v, k)).collect())
}

pub(crate) fn cosine_f64(a: &[f64], b: &[f64]) -> Option<f64> {
    Some(CosineSide::new(a)?.cosine(&CosineSide::new(b)?))
}

/// One vector of a cosine, prepared once for many cosines with it: scaled so its largest entry
/// is in [1, 2), and its squared norm.
pub(crate) struct CosineSide {
    v: Vec<f64>,
    sq: f64,
}

impl CosineSide {
    /// `None` for a zero vector.
    pub(crate) fn new(a: &[f64]) -> Option<CosineSide> {
        let v = unit_scaled(a)?;
        let sq = f64::dot_kernel(&v, &v);
        Some(CosineSide { v, sq })
    }

    /// The cosine of the two vectors, clamped to [−1, 1] (NaN for a non-finite entry).
    pub(crate) fn cosine(&self, b: &CosineSide) -> f64 {
        let num = f64::dot_kernel(&self.v, &b.v);
        // √(|a|²·|b|²) rather than |a|·|b|: one square root, and — with the squared norms from
        // the same kernel as the numerator — cos(x, x) = s/√(s²) = 1 exactly.
        let c = num / (self.sq * b.sq).sqrt();
        if c.is_nan() { c } else { c.clamp(-1.0, 1.0) }
    }
}

/// The angle between two vectors in radians, in [0, π], or `None` for a zero vector.
///
/// # Formula
/// Kahan's formula, accurate near 0 and π where `acos(cos θ)` loses half the digits:
/// ```text
/// θ = 2·atan2(|â − b̂|, |â + b̂|),   â = a/|a|, b̂ = b/|b|
/// ```
///
/// # Special values
/// `None` for a zero or empty vector; `Some(NaN)` if any entry is NaN or ±∞.
///
/// # Panics
/// If the lengths differ.
///
/// # Examples
/// ```
/// use transformer_laws::geometry::angle;
/// let right = angle(&[1.0f64, 0.0], &[0.0, 3.0]).unwrap();
/// assert!((right - std::f64::consts::FRAC_PI_2).abs() < 1e-15);
/// assert_eq!(angle(&[1.0f32, 1.0], &[2.0, 2.0]), Some(0.0));
/// ```
pub fn angle<T: Real>(a: &[T], b: &[T]) -> Option<T> {
    assert_same_len("angle", a.len(), b.len());
    let a = unit_scaled(&widen_all(a))?;
    let b = unit_scaled(&widen_all(b))?;
    let (na, nb) = (norm_f64(&a), norm_f64(&b));
    let ua: Vec<f64> = a.iter().map(|v| v / na).collect();
    let ub: Vec<f64> = b.iter().map(|v| v / nb).collect();
    let diff: Vec<f64> = ua.iter().zip(&ub).map(|(x, y)| x - y).collect();
    let sum: Vec<f64> = ua.iter().zip(&ub).map(|(x, y)| x + y).collect();
    Some(T::narrow(2.0 * norm_f64(&diff).atan2(norm_f64(&sum))))
}
