//! The layers applied to rows of the residual stream, as the reference forward pass computes
//! them: linear maps with the compensated dot product, the norms, the activations, scaled
//! dot-product attention and the rotary embedding. Each is computed with the crate's accurate
//! kernels and rounded once where it leaves f64.

use super::model::{Activation, Mask, Norm, NormKind, Rope, RopeStyle, shape};
use crate::kernels::norms::{layer_norm, rms_norm};
use crate::kernels::scalar::Real;
use crate::kernels::softmax::softmax;
use nalgebra::{DMatrix, Scalar};

pub(super) fn linear<T: Real>(x: &[T], w: &DMatrix<T>, b: Option<&[T]>) -> Vec<T> {
    (0..w.ncols())
        .map(|j| {
            let col = w.column(j);
            let c = col.as_slice();
            T::dot_plus(x, c, b.map_or(T::zero(), |b| b[j]))
        })
        .collect()
}

pub(super) fn inf_norm<T: Real>(x: &[T]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.widen().abs()))
}

pub(super) fn norm2<T: Real>(x: &[T]) -> f64 {
    x.iter().map(|v| v.widen() * v.widen()).sum::<f64>().sqrt()
}

pub(super) fn row<T: Scalar + Copy>(m: &DMatrix<T>, i: usize) -> Vec<T> {
    m.row(i).iter().copied().collect()
}

pub(super) fn from_rows<T: Scalar + Copy + num_traits::Zero>(
    rows: &[Vec<T>],
    cols: usize,
) -> DMatrix<T> {
    DMatrix::from_fn(rows.len(), cols, |i, j| rows[i][j])
}

impl<T: Scalar + Copy> Norm<T> {
    /// Apply the norm to one row.
    pub fn apply(&self, x: &[T]) -> Vec<T>
    where
        T: Real,
    {
        match self.kind {
            NormKind::LayerNorm => {
                layer_norm(x, self.eps, self.gamma.as_deref(), self.beta.as_deref())
            }
            NormKind::RmsNorm => rms_norm(x, self.eps, self.gamma.as_deref()),
        }
    }

    /// The scale the norm divides by: `√(σ² + ε)` or `√(mean(x²) + ε)`, computed in f64 from
    /// the compensated moments.
    pub fn scale(&self, x: &[T]) -> f64
    where
        T: Real,
    {
        let d = x.len() as f64;
        let x64: Vec<f64> = x.iter().map(|v| v.widen()).collect();
        let m2 = match self.kind {
            NormKind::LayerNorm => {
                let c = crate::kernels::norms::center(&x64);
                c.iter().map(|v| v * v).sum::<f64>() / d
            }
            NormKind::RmsNorm => x64.iter().map(|v| v * v).sum::<f64>() / d,
        };
        (m2 + self.eps.widen()).sqrt()
    }
}

pub(super) fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

/// `√(2/π)`, the tanh GELU's inner scale.
pub(super) const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

pub(super) fn gelu_tanh(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::tanh(SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)))
}

pub(super) fn silu(x: f64) -> f64 {
    x / (1.0 + libm::exp(-x))
}

impl Activation {
    /// The nonlinearity at one point, computed in f64 and rounded once (ReLU exactly in `T`).
    pub fn apply<T: Real>(self, v: T) -> T {
        match self {
            Activation::Relu => {
                if v > T::zero() {
                    v
                } else {
                    T::zero()
                }
            }
            Activation::Gelu => T::narrow(gelu(v.widen())),
            Activation::GeluTanh => T::narrow(gelu_tanh(v.widen())),
            Activation::Silu => T::narrow(silu(v.widen())),
        }
    }
}

/// Scaled dot-product attention of one head: `softmax(mask(Q·Kᵀ/√d_head))·V`.
///
/// Returns the output (`n × d_v`) and the pattern (`n × n`). A query whose keys are all masked
/// gets a zero pattern row and a zero output (see the [module docs](super)).
///
/// # Panics
/// If `q` and `k` differ in width, `k` and `v` in length, or a custom mask is not `n × n`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::transformer::{attention, Mask};
/// let q = DMatrix::from_row_slice(2, 1, &[0.0f64, 1.0]);
/// let v = DMatrix::from_row_slice(2, 1, &[1.0f64, 3.0]);
/// let (out, pattern) = attention(&q, &q, &v, &Mask::Causal);
/// assert_eq!(pattern[(0, 0)], 1.0); // the first position sees only itself
/// assert_eq!(out[(0, 0)], 1.0);
/// ```
pub fn attention<T: Real>(
    q: &DMatrix<T>,
    k: &DMatrix<T>,
    v: &DMatrix<T>,
    mask: &Mask,
) -> (DMatrix<T>, DMatrix<T>) {
    assert!(
        q.ncols() == k.ncols(),
        "attention: queries are {} but keys are {}",
        shape(q),
        shape(k)
    );
    assert!(
        k.nrows() == v.nrows(),
        "attention: keys are {} but values are {}",
        shape(k),
        shape(v)
    );
    if let Mask::Custom(m) = mask {
        assert!(
            m.nrows() == q.nrows() && m.ncols() == k.nrows(),
            "attention: mask is {}×{} but there are {} queries and {} keys",
            m.nrows(),
            m.ncols(),
            q.nrows(),
            k.nrows()
        );
    }
    let scale = T::one() / T::from_count(q.ncols()).sqrt();
    let krows: Vec<Vec<T>> = (0..k.nrows()).map(|j| row(k, j)).collect();
    let mut pattern = DMatrix::from_element(q.nrows(), k.nrows(), T::zero());
    let mut out = DMatrix::from_element(q.nrows(), v.ncols(), T::zero());
    for i in 0..q.nrows() {
        let qi = row(q, i);
        let allowed: Vec<usize> = (0..k.nrows()).filter(|&j| mask.allows(i, j)).collect();
        if allowed.is_empty() {
            continue;
        }
        let scores: Vec<T> = allowed
            .iter()
            .map(|&j| T::dot_kernel(&qi, &krows[j]) * scale)
            .collect();
        let p = softmax(&scores);
        for (&pj, &j) in p.iter().zip(&allowed) {
            pattern[(i, j)] = pj;
        }
        // Only the visible keys' values enter: a masked key's value (even NaN) is not read.
        for c in 0..v.ncols() {
            let vals: Vec<T> = allowed.iter().map(|&j| v[(j, c)]).collect();
            out[(i, c)] = T::dot_kernel(&p, &vals);
        }
    }
    (out, pattern)
}

/// Rotate pair `i` of each row `p` — coordinates `(2i, 2i+1)` or `(i, i + width/2)` by
/// [`Rope::style`] — by `p·base^(−2i/width)`, computed in f64 and rounded once.
pub fn apply_rope<T: Real>(x: &DMatrix<T>, rope: Rope) -> DMatrix<T> {
    let w = x.ncols();
    let mut out = x.clone();
    for p in 0..x.nrows() {
        for i in 0..w / 2 {
            let theta = p as f64 * rope.base.powf(-2.0 * i as f64 / w as f64);
            let (s, c) = theta.sin_cos();
            let (ja, jb) = match rope.style {
                RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                RopeStyle::RotateHalf => (i, i + w / 2),
            };
            let (a, b) = (x[(p, ja)].widen(), x[(p, jb)].widen());
            out[(p, ja)] = T::narrow(c * a - s * b);
            out[(p, jb)] = T::narrow(s * a + c * b);
        }
    }
    out
}

pub(super) fn project<T: Real>(h: &DMatrix<T>, w: &DMatrix<T>, b: &[T]) -> DMatrix<T> {
    let rows: Vec<Vec<T>> = (0..h.nrows())
        .map(|i| linear(&row(h, i), w, Some(b)))
        .collect();
    from_rows(&rows, w.ncols())
}

/// The norm applied to every row.
pub(super) fn norm_matrix<T: Real>(norm: &Norm<T>, x: &DMatrix<T>) -> DMatrix<T> {
    let rows: Vec<Vec<T>> = (0..x.nrows()).map(|i| norm.apply(&row(x, i))).collect();
    from_rows(&rows, x.ncols())
}
