//! The layers applied to rows of the residual stream, as the reference forward pass computes
//! them: linear maps with the compensated dot product, the norms, the activations, scaled
//! dot-product attention and the rotary embedding. Each is computed with the crate's accurate
//! kernels and rounded once where it leaves f64.

use super::model::{Activation, Head, Mask, Mlp, Norm, NormKind, Rope, RopeStyle, shape};
use crate::kernels::norms::{layer_norm, rms_norm};
use crate::kernels::scalar::Real;
use crate::kernels::softmax::softmax;
use crate::kernels::tolerance::{compensated_dot_bound, gemm_dot_bound};
use nalgebra::{DMatrix, Scalar};
use rayon::prelude::*;

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

/// How a forward pass computes its linear maps `y = x·W + b`. Everything else (norms,
/// attention, activations, the rotary embedding) is the same in both.
///
/// Per output entry, with `n = k + 1` terms (`k` products and the bias), `s` their exact sum
/// and `Σ|·|` the sum of their magnitudes (`proofs/forward-error-bound.md`, "The fast path"):
///
/// | | f32 | f64 |
/// |---|---|---|
/// | [`Compensated`](Linear::Compensated) | `(u + 2u₆₄)·abs(s) + γₙ(f64)·Σ|·|` | `≈ u·abs(s) + γ₂ₙ(f64)²·Σ|·|` |
/// | [`Gemm`](Linear::Gemm) | the same | `γₙ(f64)·Σ|·|` |
///
/// (plus underflow terms; [`Linear::dot_bound`]). For f32 the two differ only in the order of
/// the f64 additions; for f64 the fast path gives up the compensation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Linear {
    /// One compensated dot product per output entry
    /// ([`Ring::dot_kernel`](crate::Ring::dot_kernel)): the reference.
    #[default]
    Compensated,
    /// Matrix products by `matrixmultiply::dgemm` on the operands converted to f64 (exactly),
    /// in blocks of columns on the rayon pool, each entry rounded once to `T`.
    Gemm,
}

impl Linear {
    /// A bound on `|computed − s|` for one output entry of `n` terms with exact sum `s` and
    /// `Σ|terms| = abs_sum`.
    pub fn dot_bound<T: Real>(self, n: usize, s: f64, abs_sum: f64) -> f64 {
        match self {
            Linear::Compensated => compensated_dot_bound::<T>(n, s, abs_sum),
            Linear::Gemm => gemm_dot_bound::<T>(n, s, abs_sum),
        }
    }

    /// The name the CLI and the report print.
    pub fn name(self) -> &'static str {
        match self {
            Linear::Compensated => "compensated",
            Linear::Gemm => "gemm",
        }
    }
}

/// Columns of `W` converted to f64 and multiplied at once by [`Linear::Gemm`]: 256 columns of
/// a 3072-row matrix are 6 MB of f64.
const GEMM_COLUMNS: usize = 256;

/// `h·W + b` (every row of `h`), by the kernel `kind`.
pub(super) fn project<T: Real>(
    h: &DMatrix<T>,
    w: &DMatrix<T>,
    b: &[T],
    kind: Linear,
) -> DMatrix<T> {
    match kind {
        Linear::Compensated => {
            let rows: Vec<Vec<T>> = (0..h.nrows())
                .map(|i| linear(&row(h, i), w, Some(b)))
                .collect();
            from_rows(&rows, w.ncols())
        }
        Linear::Gemm => project_gemm(h, w, b),
    }
}

/// `h·W + b` by `dgemm` on f64 copies: `C ← b` (each column its bias), `C ← 1·h·W + 1·C`, then
/// each entry rounded to `T`. The f64 copies of `T = f32` operands are exact, and so are their
/// products in f64 (24 + 24 significant bits); only the additions round.
fn project_gemm<T: Real>(h: &DMatrix<T>, w: &DMatrix<T>, b: &[T]) -> DMatrix<T> {
    let (n, k, m) = (h.nrows(), h.ncols(), w.ncols());
    assert_eq!(
        w.nrows(),
        k,
        "project: input is {} but the weight is {}",
        shape(h),
        shape(w)
    );
    let mut out = DMatrix::from_element(n, m, T::zero());
    if n == 0 || m == 0 {
        return out;
    }
    // Column-major throughout (nalgebra's layout): element (i, j) at i + j·rows.
    let h64: Vec<f64> = h.as_slice().iter().map(|v| v.widen()).collect();
    let w_all = w.as_slice();
    out.as_mut_slice()
        .par_chunks_mut(n * GEMM_COLUMNS)
        .enumerate()
        .for_each(|(block, out_block)| {
            let j0 = block * GEMM_COLUMNS;
            let cols = out_block.len() / n;
            let w64: Vec<f64> = w_all[j0 * k..(j0 + cols) * k]
                .iter()
                .map(|v| v.widen())
                .collect();
            let mut c: Vec<f64> = (0..cols)
                .flat_map(|j| std::iter::repeat_n(b[j0 + j].widen(), n))
                .collect();
            // SAFETY: h64 is n×k with strides (1, n), w64 is k×cols with strides (1, k), c is
            // n×cols with strides (1, n); all three are allocated to exactly those sizes and c
            // does not alias the inputs.
            unsafe {
                matrixmultiply::dgemm(
                    n,
                    k,
                    cols,
                    1.0,
                    h64.as_ptr(),
                    1,
                    n as isize,
                    w64.as_ptr(),
                    1,
                    k as isize,
                    1.0,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                );
            }
            for (o, v) in out_block.iter_mut().zip(&c) {
                *o = T::narrow(*v);
            }
        });
    out
}

/// The norm applied to every row.
pub(super) fn norm_matrix<T: Real>(norm: &Norm<T>, x: &DMatrix<T>) -> DMatrix<T> {
    let rows: Vec<Vec<T>> = (0..x.nrows()).map(|i| norm.apply(&row(x, i))).collect();
    from_rows(&rows, x.ncols())
}

/// Everything one head computes: the projections (before and after the rotary embedding),
/// the mixed values `z`, the pattern, and the output `z·W_O` (without b_O).
pub(super) struct HeadValues<T: Scalar> {
    pub(super) q_raw: DMatrix<T>,
    pub(super) k_raw: DMatrix<T>,
    pub(super) q: DMatrix<T>,
    pub(super) k: DMatrix<T>,
    pub(super) v: DMatrix<T>,
    pub(super) z: DMatrix<T>,
    pub(super) pattern: DMatrix<T>,
    pub(super) out: DMatrix<T>,
}

pub(super) fn head_values<T: Real>(
    head: &Head<T>,
    rope: Option<Rope>,
    h: &DMatrix<T>,
    kind: Linear,
) -> HeadValues<T> {
    let q_raw = project(h, &head.w_q, &head.b_q, kind);
    let k_raw = project(h, &head.w_k, &head.b_k, kind);
    let v = project(h, &head.w_v, &head.b_v, kind);
    let (q, k) = match rope {
        Some(r) => (apply_rope(&q_raw, r), apply_rope(&k_raw, r)),
        None => (q_raw.clone(), k_raw.clone()),
    };
    let (z, pattern) = attention(&q, &k, &v, &Mask::Causal);
    let zero_b = vec![T::zero(); head.w_o.ncols()];
    let out = project(&z, &head.w_o, &zero_b, kind);
    HeadValues {
        q_raw,
        k_raw,
        q,
        k,
        v,
        z,
        pattern,
        out,
    }
}

/// Everything an MLP computes: the input projection, the gate's projection and activation
/// (gated MLPs), the hidden activations and the output.
pub(super) struct MlpValues<T: Scalar> {
    pub(super) pre: DMatrix<T>,
    pub(super) gate: Option<(DMatrix<T>, DMatrix<T>)>,
    pub(super) post: DMatrix<T>,
    pub(super) out: DMatrix<T>,
}

pub(super) fn mlp_values<T: Real>(mlp: &Mlp<T>, h: &DMatrix<T>, kind: Linear) -> MlpValues<T> {
    let dm = mlp.w_in.ncols();
    let d = mlp.w_out.ncols();
    let zeros = vec![T::zero(); dm];
    let b_in = mlp.b_in.as_deref().unwrap_or(&zeros);
    let b_out = mlp.b_out.clone().unwrap_or_else(|| vec![T::zero(); d]);
    let pre = project(h, &mlp.w_in, b_in, kind);
    let (post, gate) = match &mlp.w_gate {
        None => (pre.map(|v| mlp.act.apply(v)), None),
        Some(w_gate) => {
            let b_gate = mlp.b_gate.as_deref().unwrap_or(&zeros);
            let g = project(h, w_gate, b_gate, kind);
            let a = g.map(|v| mlp.act.apply(v));
            // a ⊙ b computed in f64 and rounded once.
            let prod = a.zip_map(&pre, |x, y| T::narrow(x.widen() * y.widen()));
            (prod, Some((g, a)))
        }
    };
    let out = project(&post, &mlp.w_out, &b_out, kind);
    MlpValues {
        pre,
        gate,
        post,
        out,
    }
}
