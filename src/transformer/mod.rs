//! A small, clear transformer — attention, MLP, pre-LN residual blocks, a final norm and the
//! unembedding — and the weight-processing transforms interpretability tools apply to it
//! ([`process`]).
//!
//! Conventions (those of TransformerLens): the residual stream is a matrix with one **row per
//! position**; a linear map is `y = x·W + b` with `W` of shape `input × output`; the
//! unembedding `W_U` is `d × V` (tokens are its **columns**, as in [`crate::unembed`]).
//!
//! ```text
//! x₀       = W_E[tokenₚ] + W_pos[p]                                   (n × d)
//! block ℓ:  x ← x + Attn(LN₁(x)),   x ← x + MLP(LN₂(x))
//! logits   = LN_final(x)·W_U + b_U                                     (n × V)
//! Attn(h)  = Σₕ softmax(mask(Qₕ·Kₕᵀ/√d_head))·Vₕ·W_O,ₕ + b_O,   Qₕ = h·W_Q,ₕ + b_Q,ₕ, …
//! MLP(h)   = act(h·W_in + b_in)·W_out + b_out,            act = ReLU, GELU (erf or tanh), SiLU
//! gated:     (act(h·W_gate + b_gate) ⊙ (h·W_in + b_in))·W_out + b_out            (SwiGLU)
//! ```
//!
//! Grouped-query attention (several query heads reading one key/value head, as in Llama) is
//! represented by giving each query head its own copy of its group's `W_K`, `b_K`, `W_V`, `b_V`
//! and recording the group size in [`Attention::heads_per_kv`]; [`Model::validate`] checks that
//! the copies within a group are identical, and every transform of [`process`] keeps them so
//! (it treats the copies alike). This keeps one [`Head`] type for both layouts at the cost of
//! `heads_per_kv`-fold memory for the key and value weights.
//!
//! Every linear map is computed with the crate's compensated dot product
//! ([`Ring::dot_kernel`](crate::Ring::dot_kernel)), every norm and softmax with the accurate
//! kernels of [`crate::norms`] and [`crate::softmax`]. Three entry points:
//!
//! * [`Model::forward`] — the logits alone, nothing else paid for.
//! * [`Model::run_with_bound`] — the same logits and, per position, a proven bound on their
//!   error against real arithmetic on the stored weights, tight to a factor of about 1.000001
//!   on the tested models: a shadow evaluation in 128-bit interval arithmetic ([`shadow`],
//!   `proofs/forward-error-bound.md`), a few hundred times the cost of `forward`.
//! * [`Model::run`] — every residual, component and pattern cached, and a worst-case first-order
//!   bound ([`Run::logit_error`], products of Jacobian norms: 10⁵ and more above the attained
//!   error) that also covers weights known only to a relative `ρ` — the tolerance of the tests
//!   that compare a processed model with its original.
//!
//! # Special values
//!
//! * A query whose keys are all masked (possible only with a custom [`Mask`]; never under the
//!   causal mask, where a position always sees itself) attends to **nothing**: its pattern row
//!   is all zeros and the head's output there is 0 (PyTorch's `scaled_dot_product_attention`
//!   returns NaN). Such a row does not sum to 1, which is exactly the condition under which
//!   [`process::fold_value_biases`] is not output-preserving.
//! * NaN or ±∞ anywhere in the input or weights propagates to NaN logits for the positions it
//!   reaches (nothing is hidden) — and only those: a masked key's value is never read, so a NaN
//!   at position p leaves every earlier position finite under the causal mask.
//! * An empty sequence gives a `0 × V` logit matrix. ±`MAX` in the embeddings stays finite
//!   through the first LayerNorm (it rescales).
//!
//! # Panics
//! Shape mismatches panic with both shapes and the offending weight named
//! ([`Model::validate`] returns the same message as an error).

pub mod checkpoint;
pub mod export;
pub mod report;
pub mod unargmaxable;

pub mod process;
pub mod shadow;

pub use shadow::{Bounded, Enclosure, SHADOW_BITS};

use crate::kernels::norms::{layer_norm, rms_norm};
use crate::kernels::scalar::Real;
use crate::kernels::softmax::softmax;
use crate::kernels::tolerance::{
    NORM_LAYER_ULPS, SOFTMAX_ULPS, compensated_dot_bound, gamma, unit_roundoff,
};
use nalgebra::{DMatrix, Scalar};

/// Which normalization a norm layer applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormKind {
    /// `γ ⊙ (x − μ)/√(σ² + ε) + β`.
    LayerNorm,
    /// `γ ⊙ x/√(mean(x²) + ε)` (no β).
    RmsNorm,
}

/// A LayerNorm or RMSNorm layer. `gamma`/`beta` absent means 1/0 (as after folding).
#[derive(Clone, Debug, PartialEq)]
pub struct Norm<T: Scalar> {
    /// LayerNorm or RMSNorm.
    pub kind: NormKind,
    /// ε ≥ 0.
    pub eps: T,
    /// Scale γ (length d), or none.
    pub gamma: Option<Vec<T>>,
    /// Shift β (length d), or none. Must be none for RMSNorm.
    pub beta: Option<Vec<T>>,
}

/// Which coordinates of a head's vector a rotary embedding rotates together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeStyle {
    /// Pairs `(2i, 2i+1)` (GPT-J, the original RoFormer, TransformerLens' default).
    Interleaved,
    /// Pairs `(i, i + d_head/2)` — `rotate_half` in Hugging Face's Llama (GPT-NeoX style).
    RotateHalf,
}

/// A rotary position embedding applied to queries and keys: pair `i` of the vector at position
/// `p` (see [`RopeStyle`]) is rotated by the angle `p·base^(−2i/d_head)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rope {
    /// The frequency base (10,000 in most models; Llama configs call it `rope_theta`).
    pub base: f64,
    /// Which coordinates form a pair.
    pub style: RopeStyle,
}

impl Rope {
    /// Pairs `(2i, 2i+1)`.
    pub fn interleaved(base: f64) -> Rope {
        Rope {
            base,
            style: RopeStyle::Interleaved,
        }
    }

    /// Pairs `(i, i + d_head/2)`, as Hugging Face's Llama.
    pub fn rotate_half(base: f64) -> Rope {
        Rope {
            base,
            style: RopeStyle::RotateHalf,
        }
    }
}

/// One attention head. Shapes: `w_q`, `w_k`, `w_v` are `d × d_head`; `w_o` is `d_head × d`;
/// the biases have length `d_head`.
#[derive(Clone, Debug, PartialEq)]
pub struct Head<T: Scalar> {
    /// Query weights.
    pub w_q: DMatrix<T>,
    /// Query bias.
    pub b_q: Vec<T>,
    /// Key weights.
    pub w_k: DMatrix<T>,
    /// Key bias.
    pub b_k: Vec<T>,
    /// Value weights.
    pub w_v: DMatrix<T>,
    /// Value bias.
    pub b_v: Vec<T>,
    /// Output weights.
    pub w_o: DMatrix<T>,
}

/// Multi-head attention with a shared output bias and an optional rotary embedding.
#[derive(Clone, Debug, PartialEq)]
pub struct Attention<T: Scalar> {
    /// The heads.
    pub heads: Vec<Head<T>>,
    /// Output bias (length d).
    pub b_o: Vec<T>,
    /// Rotary embedding of queries and keys, if any.
    pub rope: Option<Rope>,
    /// Query heads per key/value head: 1 for multi-head attention; `g > 1` for grouped-query
    /// attention, where heads `k·g .. (k+1)·g` hold identical copies of one key/value head
    /// (see the [module docs](self)).
    pub heads_per_kv: usize,
}

/// The MLP's nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `x·Φ(x) = x·(1 + erf(x/√2))/2` (the exact form, not the tanh approximation).
    Gelu,
    /// `x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2`: the tanh approximation (`gelu_new` in
    /// Hugging Face's GPT-2, `gelu_pytorch_tanh`).
    GeluTanh,
    /// `x·σ(x) = x/(1 + e⁻ˣ)` (SiLU, swish), the gate of Llama's SwiGLU.
    Silu,
}

/// A two-layer MLP, optionally gated. Shapes: `w_in` and `w_gate` are `d × d_mlp`, `w_out` is
/// `d_mlp × d`.
///
/// Without a gate: `act(h·W_in + b_in)·W_out + b_out`. With a gate (SwiGLU when `act` is SiLU):
/// `(act(h·W_gate + b_gate) ⊙ (h·W_in + b_in))·W_out + b_out` — `W_in` is Hugging Face's
/// `up_proj`, `W_gate` its `gate_proj` (TransformerLens' names).
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T: Scalar> {
    /// Input weights (the "up" projection of a gated MLP).
    pub w_in: DMatrix<T>,
    /// Input bias (length d_mlp), or none.
    pub b_in: Option<Vec<T>>,
    /// Gate weights, for a gated MLP.
    pub w_gate: Option<DMatrix<T>>,
    /// Gate bias (length d_mlp), or none.
    pub b_gate: Option<Vec<T>>,
    /// Output weights.
    pub w_out: DMatrix<T>,
    /// Output bias (length d), or none.
    pub b_out: Option<Vec<T>>,
    /// The nonlinearity.
    pub act: Activation,
}

/// A pre-LN residual block: `x ← x + Attn(LN₁(x))`, then `x ← x + MLP(LN₂(x))`.
#[derive(Clone, Debug, PartialEq)]
pub struct Block<T: Scalar> {
    /// The norm read by attention.
    pub ln1: Norm<T>,
    /// Attention.
    pub attn: Attention<T>,
    /// The norm read by the MLP.
    pub ln2: Norm<T>,
    /// The MLP.
    pub mlp: Mlp<T>,
}

/// A decoder-only transformer.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T: Scalar> {
    /// Token embedding, `vocab_in × d` (one row per input token).
    pub w_e: DMatrix<T>,
    /// Learned positional embedding, `n_ctx × d`, or none.
    pub w_pos: Option<DMatrix<T>>,
    /// The residual blocks.
    pub blocks: Vec<Block<T>>,
    /// The final norm.
    pub ln_final: Norm<T>,
    /// Unembedding, `d × V`.
    pub w_u: DMatrix<T>,
    /// Unembedding bias (length V), or none.
    pub b_u: Option<Vec<T>>,
}

/// Which keys a query may attend to.
#[derive(Clone, Debug, PartialEq)]
pub enum Mask {
    /// Every key.
    None,
    /// Keys at positions ≤ the query's.
    Causal,
    /// `allowed[(i, j)]`: query `i` may attend to key `j`.
    Custom(DMatrix<bool>),
}

impl Mask {
    fn allows(&self, i: usize, j: usize) -> bool {
        match self {
            Mask::None => true,
            Mask::Causal => j <= i,
            Mask::Custom(m) => m[(i, j)],
        }
    }
}

fn shape<T: Scalar>(m: &DMatrix<T>) -> String {
    format!("{}×{}", m.nrows(), m.ncols())
}

fn expect_shape<T: Scalar>(
    what: &str,
    m: &DMatrix<T>,
    rows: usize,
    cols: usize,
) -> Result<(), String> {
    if m.nrows() == rows && m.ncols() == cols {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected shape {rows}×{cols}, got {}",
            shape(m)
        ))
    }
}

fn expect_len<T>(what: &str, v: &[T], len: usize) -> Result<(), String> {
    if v.len() == len {
        Ok(())
    } else {
        Err(format!("{what}: expected length {len}, got {}", v.len()))
    }
}

/// Equal entries, NaN equal to NaN (a copy of a NaN weight is still a copy).
#[allow(clippy::eq_op)]
fn same<T: Scalar>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x != x && y != y))
}

impl<T: Scalar> Norm<T> {
    fn validate(&self, what: &str, d: usize) -> Result<(), String> {
        if let Some(g) = &self.gamma {
            expect_len(&format!("{what}.gamma"), g, d)?;
        }
        match (&self.beta, self.kind) {
            (Some(_), NormKind::RmsNorm) => Err(format!("{what}: RMSNorm has no beta")),
            (Some(b), _) => expect_len(&format!("{what}.beta"), b, d),
            (None, _) => Ok(()),
        }
    }
}

impl<T: Scalar> Model<T> {
    /// Width of the residual stream.
    pub fn d_model(&self) -> usize {
        self.w_e.ncols()
    }

    /// Size of the output vocabulary.
    pub fn vocab(&self) -> usize {
        self.w_u.ncols()
    }

    /// Check every shape; the error names the weight and both shapes.
    pub fn validate(&self) -> Result<(), String> {
        let d = self.d_model();
        if let Some(p) = &self.w_pos {
            expect_shape("w_pos", p, p.nrows(), d)?;
        }
        for (l, b) in self.blocks.iter().enumerate() {
            b.ln1.validate(&format!("blocks[{l}].ln1"), d)?;
            b.ln2.validate(&format!("blocks[{l}].ln2"), d)?;
            expect_len(&format!("blocks[{l}].attn.b_o"), &b.attn.b_o, d)?;
            let g = b.attn.heads_per_kv;
            if g == 0 || !b.attn.heads.len().is_multiple_of(g) {
                return Err(format!(
                    "blocks[{l}].attn: {} heads cannot share key/value heads in groups of {g}",
                    b.attn.heads.len()
                ));
            }
            for (h, hd) in b.attn.heads.iter().enumerate().filter(|(h, _)| h % g != 0) {
                let first = &b.attn.heads[h - h % g];
                if !same(hd.w_k.as_slice(), first.w_k.as_slice())
                    || !same(&hd.b_k, &first.b_k)
                    || !same(hd.w_v.as_slice(), first.w_v.as_slice())
                    || !same(&hd.b_v, &first.b_v)
                {
                    return Err(format!(
                        "blocks[{l}].attn.heads[{h}]: key/value weights differ from heads[{}] \
                         of the same group (heads_per_kv = {g})",
                        h - h % g
                    ));
                }
            }
            for (h, hd) in b.attn.heads.iter().enumerate() {
                let at = format!("blocks[{l}].attn.heads[{h}]");
                let dh = hd.w_q.ncols();
                expect_shape(&format!("{at}.w_q"), &hd.w_q, d, dh)?;
                expect_shape(&format!("{at}.w_k"), &hd.w_k, d, dh)?;
                expect_shape(&format!("{at}.w_v"), &hd.w_v, d, hd.w_v.ncols())?;
                let dv = hd.w_v.ncols();
                expect_shape(&format!("{at}.w_o"), &hd.w_o, dv, d)?;
                expect_len(&format!("{at}.b_q"), &hd.b_q, dh)?;
                expect_len(&format!("{at}.b_k"), &hd.b_k, dh)?;
                expect_len(&format!("{at}.b_v"), &hd.b_v, dv)?;
                if b.attn.rope.is_some() && !dh.is_multiple_of(2) {
                    return Err(format!(
                        "{at}: rotary embedding needs an even d_head, got {dh}"
                    ));
                }
            }
            let m = &b.mlp;
            let dm = m.w_in.ncols();
            expect_shape(&format!("blocks[{l}].mlp.w_in"), &m.w_in, d, dm)?;
            expect_shape(&format!("blocks[{l}].mlp.w_out"), &m.w_out, dm, d)?;
            if let Some(bi) = &m.b_in {
                expect_len(&format!("blocks[{l}].mlp.b_in"), bi, dm)?;
            }
            if let Some(wg) = &m.w_gate {
                expect_shape(&format!("blocks[{l}].mlp.w_gate"), wg, d, dm)?;
            }
            match (&m.b_gate, &m.w_gate) {
                (Some(_), None) => {
                    return Err(format!("blocks[{l}].mlp: b_gate without w_gate"));
                }
                (Some(bg), Some(_)) => expect_len(&format!("blocks[{l}].mlp.b_gate"), bg, dm)?,
                _ => {}
            }
            if let Some(bo) = &m.b_out {
                expect_len(&format!("blocks[{l}].mlp.b_out"), bo, d)?;
            }
        }
        self.ln_final.validate("ln_final", d)?;
        expect_shape("w_u", &self.w_u, d, self.w_u.ncols())?;
        if let Some(b) = &self.b_u {
            expect_len("b_u", b, self.vocab())?;
        }
        Ok(())
    }

    /// Every norm layer of the model with its name (`blocks[ℓ].ln1`, …, `ln_final`).
    pub fn norms(&self) -> Vec<(String, &Norm<T>)> {
        let mut out = Vec::new();
        for (l, b) in self.blocks.iter().enumerate() {
            out.push((format!("blocks[{l}].ln1"), &b.ln1));
            out.push((format!("blocks[{l}].ln2"), &b.ln2));
        }
        out.push(("ln_final".to_string(), &self.ln_final));
        out
    }
}

/// Everything one forward pass computed.
#[derive(Clone, Debug)]
pub struct Run<T: Scalar> {
    /// The residual stream before each block, and after the last (`blocks + 1` matrices,
    /// `n × d`).
    pub resid: Vec<DMatrix<T>>,
    /// Every vector written to the residual stream, named (`embed`, `pos`,
    /// `blocks[ℓ].attn.heads[h]`, `blocks[ℓ].attn.b_o`, `blocks[ℓ].mlp`), each `n × d`; they sum
    /// to the final residual stream.
    pub components: Vec<(String, DMatrix<T>)>,
    /// Attention patterns: `patterns[ℓ][h]` is `n × n`.
    pub patterns: Vec<Vec<DMatrix<T>>>,
    /// The final norm's scale at each position: `√(σ² + ε)` (LayerNorm) or `√(mean(x²) + ε)`
    /// (RMSNorm) of the final residual stream.
    pub final_scale: Vec<f64>,
    /// Logits, `n × V`.
    pub logits: DMatrix<T>,
    /// For each position, a bound on the 2-norm (hence on every entry) of
    /// `computed logits − exact logits`, first order in the unit roundoff, for weights exact up to a relative error `rho` (see [`Model::run`]).
    pub logit_error: Vec<f64>,
}

/// `‖W‖₂ ≤ √(‖W‖₁·‖W‖∞)` (Hölder): a cheap, rigorous bound on the spectral norm.
fn op_norm<T: Real>(w: &DMatrix<T>) -> f64 {
    let col = (0..w.ncols())
        .map(|j| w.column(j).iter().map(|v| v.widen().abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    let row = (0..w.nrows())
        .map(|i| w.row(i).iter().map(|v| v.widen().abs()).sum::<f64>())
        .fold(0.0f64, f64::max);
    (col * row).sqrt()
}

/// Bound (2-norm) of the error of one linear map `y = x·W + b` computed with the compensated dot
/// product, for an input known to within `e_in` (2-norm), weights known to a relative `rho`,
/// and `w_norm ≥ ‖W‖₂`.
fn linear_bound<T: Real>(
    x: &[T],
    e_in: f64,
    w: &DMatrix<T>,
    w_norm: f64,
    b: Option<&[T]>,
    rho: f64,
) -> f64 {
    let k = w.nrows();
    let mut own = 0.0f64;
    for j in 0..w.ncols() {
        let col = w.column(j);
        let mut abs_sum = 0.0;
        let mut s = 0.0;
        for i in 0..k {
            let p = x[i].widen() * col[i].widen();
            abs_sum += p.abs();
            s += p;
        }
        let bj = b.map_or(0.0, |b| b[j].widen());
        abs_sum += bj.abs();
        s += bj;
        let c = compensated_dot_bound::<T>(k + 1, s, abs_sum) + rho * abs_sum;
        own += c * c;
    }
    e_in * w_norm * (1.0 + rho) + own.sqrt()
}

fn linear<T: Real>(x: &[T], w: &DMatrix<T>, b: Option<&[T]>) -> Vec<T> {
    (0..w.ncols())
        .map(|j| {
            let col = w.column(j);
            let c = col.as_slice();
            T::dot_plus(x, c, b.map_or(T::zero(), |b| b[j]))
        })
        .collect()
}

fn inf_norm<T: Real>(x: &[T]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(v.widen().abs()))
}

fn norm2<T: Real>(x: &[T]) -> f64 {
    x.iter().map(|v| v.widen() * v.widen()).sum::<f64>().sqrt()
}

fn row<T: Scalar + Copy>(m: &DMatrix<T>, i: usize) -> Vec<T> {
    m.row(i).iter().copied().collect()
}

fn from_rows<T: Scalar + Copy + num_traits::Zero>(rows: &[Vec<T>], cols: usize) -> DMatrix<T> {
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

    /// Bound (2-norm) of the output error for an input known to `e` (2-norm), weights known
    /// to a relative `rho`.
    fn bound(&self, x: &[T], y: &[T], e: f64, rho: f64) -> f64
    where
        T: Real,
    {
        let s = self.scale(x);
        let g = self.gamma.as_deref().map_or(1.0, inf_norm);
        let propagated = if e == 0.0 {
            0.0
        } else if 2.0 * e >= s {
            f64::INFINITY
        } else {
            // The Jacobian of x ↦ n = (x − μ)/s is (I − 11ᵀ/d − nnᵀ/d)/s (for RMSNorm
            // (I − nnᵀ/d)/s): a projection over s since n ⟂ 1 and |n|² ≤ d, so its 2-norm is
            // ≤ 1/s. The factor 1/(1 − 2e/s) covers the second-order terms while e < s/2.
            e / s / (1.0 - 2.0 * e / s)
        };
        // The kernel's own error: ≤ NORM_LAYER_ULPS ulp of n (≤ 2u·|n| each), times γ, plus the
        // rounding of γ·n + β, plus rho on γ and β — componentwise ≤ c·(|γ||n| + |β|), and
        // |γ||n| + |β| ≥ |y| is bounded from the output and the parameters.
        let u = unit_roundoff::<T>();
        let c = 2.0 * u * NORM_LAYER_ULPS as f64 + u + rho;
        let mag: f64 = (0..x.len())
            .map(|i| {
                // |γᵢnᵢ| + |βᵢ| ≤ |yᵢ| + 2|βᵢ|.
                let bi = self.beta.as_ref().map_or(0.0, |bv| bv[i].widen().abs());
                let m = y[i].widen().abs() + 2.0 * bi;
                m * m
            })
            .sum::<f64>()
            .sqrt();
        g * propagated + c * mag
    }
}

fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

/// `√(2/π)`, the tanh GELU's inner scale.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

fn gelu_tanh(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::tanh(SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)))
}

fn silu(x: f64) -> f64 {
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

    /// A global Lipschitz constant: `|act(x) − act(y)| ≤ L·|x − y|` for all x, y.
    ///
    /// The slopes peak at `Φ(√2) + √2·φ(√2) = 1.12890…` (GELU, at x = √2), 1.12899… (tanh GELU,
    /// near x = 1.418) and 1.09984… (SiLU, near x = 2.40), and stay above −0.13 (the minima at
    /// negative x): the bounds below are checked on a fine grid in the tests.
    pub fn lipschitz(self) -> f64 {
        match self {
            Activation::Relu => 1.0,
            Activation::Gelu | Activation::GeluTanh => 1.13,
            Activation::Silu => 1.1,
        }
    }

    /// Bound on `|computed − act(x)|` relative to `|x|`, in units of the unit roundoff `u` of
    /// the output type (every f64 rounding is counted as `u` too: `u_f64 ≤ u`).
    ///
    /// * GELU: erf within 1 ulp, the f64 products and sum, the final rounding: 4u.
    /// * tanh GELU: the cubic's argument (3 roundings, damped by `sech² ≤ 1` and the factor
    ///   `|x|/2`), tanh within 1 ulp, `1 + t` (absolute u·2), the product `½x·(…)`, the final
    ///   rounding — each ≤ u·|x| or less, six in all: 6u.
    /// * SiLU: `e⁻ˣ` within 1 ulp (2u relative), `1 + e⁻ˣ` (u), the division (u), the final
    ///   rounding (u), all relative to `|silu(x)| ≤ |x|`: 5u.
    pub fn rounding_ulps(self) -> f64 {
        match self {
            Activation::Relu => 0.0,
            Activation::Gelu => 4.0,
            Activation::GeluTanh => 6.0,
            Activation::Silu => 5.0,
        }
    }
}

/// Scaled dot-product attention of one head: `softmax(mask(Q·Kᵀ/√d_head))·V`.
///
/// Returns the output (`n × d_v`) and the pattern (`n × n`). A query whose keys are all masked
/// gets a zero pattern row and a zero output (see the [module docs](self)).
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

fn project<T: Real>(h: &DMatrix<T>, w: &DMatrix<T>, b: &[T]) -> DMatrix<T> {
    let rows: Vec<Vec<T>> = (0..h.nrows())
        .map(|i| linear(&row(h, i), w, Some(b)))
        .collect();
    from_rows(&rows, w.ncols())
}

fn rows_bound<T: Real>(h: &DMatrix<T>, e: &[f64], w: &DMatrix<T>, b: &[T], rho: f64) -> Vec<f64> {
    let w_norm = op_norm(w);
    (0..h.nrows())
        .map(|i| linear_bound(&row(h, i), e[i], w, w_norm, Some(b), rho))
        .collect()
}

impl<T: Real> Model<T> {
    /// The logits (`n × V`) of a sequence of input tokens, under the causal mask.
    ///
    /// # Panics
    /// On an invalid model ([`Model::validate`]'s message), a token outside `0..vocab_in`, or a
    /// sequence longer than `w_pos`.
    ///
    /// # Examples
    /// ```
    /// use transformer_laws::strategies::tiny_model;
    /// let model = tiny_model::<f64>();
    /// let logits = model.forward(&[0, 1]);
    /// assert_eq!((logits.nrows(), logits.ncols()), (2, model.vocab()));
    /// ```
    pub fn forward(&self, tokens: &[usize]) -> DMatrix<T> {
        // The operations of `run` in the same order (so the logits agree bit for bit), without
        // the caches and the bound.
        let n = tokens.len();
        let d = self.d_model();
        let (embed, pos) = self.embed(tokens);
        let mut x = match &pos {
            Some(p) => &embed + p,
            None => embed,
        };
        for block in &self.blocks {
            let h = norm_matrix(&block.ln1, &x);
            let mut attn_total = DMatrix::from_element(n, d, T::zero());
            for head in &block.attn.heads {
                attn_total += &head_values(head, block.attn.rope, &h).out;
            }
            attn_total += &DMatrix::from_fn(n, d, |_, j| block.attn.b_o[j]);
            x += &attn_total;
            let h2 = norm_matrix(&block.ln2, &x);
            x += &mlp_values(&block.mlp, &h2).out;
        }
        let hf = norm_matrix(&self.ln_final, &x);
        let b_u = self
            .b_u
            .clone()
            .unwrap_or_else(|| vec![T::zero(); self.vocab()]);
        project(&hf, &self.w_u, &b_u)
    }

    /// The residual stream before the first block.
    pub fn embed(&self, tokens: &[usize]) -> (DMatrix<T>, Option<DMatrix<T>>) {
        if let Err(e) = self.validate() {
            panic!("invalid model: {e}");
        }
        let d = self.d_model();
        for &t in tokens {
            assert!(
                t < self.w_e.nrows(),
                "token {t} is outside the embedding's {} rows",
                self.w_e.nrows()
            );
        }
        let embed = DMatrix::from_fn(tokens.len(), d, |p, j| self.w_e[(tokens[p], j)]);
        let pos = self.w_pos.as_ref().map(|w| {
            assert!(
                tokens.len() <= w.nrows(),
                "sequence of {} tokens is longer than w_pos ({} positions)",
                tokens.len(),
                w.nrows()
            );
            DMatrix::from_fn(tokens.len(), d, |p, j| w[(p, j)])
        });
        (embed, pos)
    }

    /// A full forward pass with everything cached, and a worst-case first-order bound on the
    /// error of the logits ([`Run::logit_error`]). For weights taken as exact,
    /// [`Model::run_with_bound`] gives a proven bound that is 10⁵ and more tighter; this one
    /// remains for weights known only to a relative `rho`. The logits are those of
    /// [`Model::forward`], bit for bit.
    ///
    /// `rho` is the relative error to which the weights themselves are known (0 for weights
    /// taken as exact; about 2u for weights produced by a transform of [`process`] from exact
    /// ones): it enters [`Run::logit_error`] so that a processed model can be compared with its
    /// original within a bound that covers both the forward passes and the transform.
    ///
    /// # Panics
    /// As [`Model::forward`].
    pub fn run(&self, tokens: &[usize], rho: f64) -> Run<T> {
        let u = unit_roundoff::<T>();
        let n = tokens.len();
        let d = self.d_model();
        let (embed, pos) = self.embed(tokens);
        let mut x = match &pos {
            Some(p) => &embed + p,
            None => embed.clone(),
        };
        // 2-norms, as every error below: |δxⱼ| ≤ (u + ρ)(|Eⱼ| + |Pⱼ|) (u: E + P rounded; E alone is exact).
        let mut e: Vec<f64> = (0..n)
            .map(|i| {
                let mag = norm2(&row(&embed, i)) + pos.as_ref().map_or(0.0, |p| norm2(&row(p, i)));
                (if pos.is_some() { u } else { 0.0 } + rho) * mag
            })
            .collect();
        let mut components = vec![("embed".to_string(), embed)];
        if let Some(p) = pos {
            components.push(("pos".to_string(), p));
        }
        let mut resid = vec![x.clone()];
        let mut patterns = Vec::new();
        for (l, block) in self.blocks.iter().enumerate() {
            // Attention.
            let (h, eh) = self.norm_rows(&block.ln1, &x, &e, rho);
            let mut attn_total = DMatrix::from_element(n, d, T::zero());
            let mut e_attn = vec![0.0f64; n];
            let mut mag_attn = vec![0.0f64; n];
            let mut pats = Vec::new();
            for (hi, head) in block.attn.heads.iter().enumerate() {
                let (out, pattern, eo) = head_forward(head, block.attn.rope, &h, &eh, rho);
                for i in 0..n {
                    e_attn[i] += eo[i];
                    mag_attn[i] += norm2(&row(&out, i));
                }
                attn_total += &out;
                components.push((format!("blocks[{l}].attn.heads[{hi}]"), out));
                pats.push(pattern);
            }
            let bo = DMatrix::from_fn(n, d, |_, j| block.attn.b_o[j]);
            let bo_norm = norm2(&block.attn.b_o);
            attn_total += &bo;
            components.push((format!("blocks[{l}].attn.b_o"), bo));
            patterns.push(pats);
            let heads = block.attn.heads.len();
            for i in 0..n {
                // Summing the heads and b_O: γ_{H+1} of the magnitudes, and rho on b_O.
                e_attn[i] += gamma::<T>(heads + 1) * (mag_attn[i] + bo_norm) + rho * bo_norm;
            }
            x += &attn_total;
            for i in 0..n {
                e[i] += e_attn[i] + u * norm2(&row(&x, i));
            }
            // MLP.
            let (h2, eh2) = self.norm_rows(&block.ln2, &x, &e, rho);
            let (out, eo) = mlp_forward(&block.mlp, &h2, &eh2, rho);
            x += &out;
            for i in 0..n {
                e[i] += eo[i] + u * norm2(&row(&x, i));
            }
            components.push((format!("blocks[{l}].mlp"), out));
            resid.push(x.clone());
        }
        let (hf, ef) = self.norm_rows(&self.ln_final, &x, &e, rho);
        let final_scale = (0..n).map(|i| self.ln_final.scale(&row(&x, i))).collect();
        let v = self.vocab();
        let b_u = self.b_u.clone().unwrap_or_else(|| vec![T::zero(); v]);
        let logits = project(&hf, &self.w_u, &b_u);
        let logit_error = rows_bound(&hf, &ef, &self.w_u, &b_u, rho);
        Run {
            resid,
            components,
            patterns,
            final_scale,
            logits,
            logit_error,
        }
    }

    fn norm_rows(
        &self,
        norm: &Norm<T>,
        x: &DMatrix<T>,
        e: &[f64],
        rho: f64,
    ) -> (DMatrix<T>, Vec<f64>) {
        let mut rows = Vec::new();
        let mut errs = Vec::new();
        for (i, &ei) in e.iter().enumerate() {
            let xi = row(x, i);
            let y = norm.apply(&xi);
            errs.push(norm.bound(&xi, &y, ei, rho));
            rows.push(y);
        }
        (from_rows(&rows, x.ncols()), errs)
    }
}

/// Bound on the error of one computed score `fl(fl(q·k)·fl(1/√d_h))` against the exact score
/// `q'·k'/√d_h` of exact vectors within `eq` and `ek` (2-norm) of the computed `q` and `k`:
/// the inputs' errors, `‖q' − q‖‖k‖ + ‖k' − k‖‖q‖ + ‖q' − q‖‖k' − k‖` (attained when q ∥ k and
/// both errors point along them), the compensated dot product's rounding, and the scaling's two.
fn score_bound<T: Real>(q: &[f64], k: &[f64], eq: f64, ek: f64) -> f64 {
    let scale = 1.0 / (q.len() as f64).sqrt();
    let s: f64 = q.iter().zip(k).map(|(a, b)| a * b).sum();
    let abs: f64 = q.iter().zip(k).map(|(a, b)| (a * b).abs()).sum();
    scale * (eq * norm2(k) + ek * norm2(q) + eq * ek)
        + scale * compensated_dot_bound::<T>(q.len(), s, abs)
        + 2.0 * unit_roundoff::<T>() * scale * s.abs()
}

/// Bound (2-norm) on the error of one attention output `z = Σⱼ pⱼvⱼ` (`p` the softmax of the
/// scores) when every score is off by at most `delta` and value `j` by at most `ev[j]`.
///
/// * Scores: `p'ⱼ = pⱼe^{δⱼ}/E` with `E = Σₖpₖe^{δₖ}`, and `z' − z = Σⱼ(p'ⱼ − pⱼ − c·pⱼ)(vⱼ − z)`
///   for any `c` (because `Σⱼpⱼ(vⱼ − z) = 0`). The ratios `p'ⱼ/pⱼ` lie in
///   `[e^{−Δ}/E, e^{Δ}/E]`; centring `c` on that interval leaves a half-width
///   `sinh(Δ)/E ≤ (e^{2Δ} − 1)/2`, so `‖z' − z‖ ≤ ½(e^{2Δ} − 1)·Σⱼpⱼ‖vⱼ − z‖` — attained to
///   first order by two groups of keys with equal values, one pushed up by Δ, one down.
/// * Values: the exact perturbed weights sum to 1, so errors of at most `ev[j]` move `z` by at
///   most `maxⱼ ev[j]` (attained when every value moves by the same vector).
/// * Own rounding: the softmax (≤ `SOFTMAX_ULPS` ulp of each weight) and the compensated sum of
///   `len(p)` terms, on `Σⱼpⱼ‖vⱼ‖`.
fn mix_bound<T: Real>(p: &[f64], v: &[Vec<f64>], z: &[f64], ev: &[f64], delta: f64) -> f64 {
    let dist = |a: &[f64]| {
        a.iter()
            .zip(z)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };
    let weighted: f64 = p.iter().zip(v).map(|(pj, vj)| pj * dist(vj)).sum();
    let abs: f64 = p.iter().zip(v).map(|(pj, vj)| pj * norm2(vj)).sum();
    let ev_max = ev.iter().fold(0.0f64, |m, &e| m.max(e));
    let own = 2.0 * unit_roundoff::<T>() * SOFTMAX_ULPS as f64 + gamma::<T>(p.len());
    (2.0 * delta).exp_m1() / 2.0 * weighted + ev_max + own * abs
}

/// The error bound of each row after [`apply_rope`], from the bound `e` before it (row `p` is
/// position `p`). A rotation is orthogonal, so it keeps the 2-norm of the error. Its own error,
/// with `u` the unit roundoff of f64:
///
/// * the angle `θ = p·base^(−2i/w)`: the exponent's rounding moves the power by a relative
///   `ln(base)·u`, the power (≤ 1 ulp) and the product by `3u` more, so `|Δθ| ≤ (ln base + 4)·u·p`
///   (θ ≤ p); rotating by a wrong angle moves a pair by at most `|Δθ|·‖pair‖`;
/// * sin and cos within 1 ulp (2u each: ≤ 4u·‖pair‖), the two products and the sum of each
///   output (≤ 4u·‖pair‖ together);
/// * the final rounding to `T`: `u_T·‖row‖`.
fn rope_bound<T: Real>(x: &DMatrix<T>, e: &[f64], rope: Rope) -> Vec<f64> {
    let u = unit_roundoff::<f64>();
    let u_t = unit_roundoff::<T>();
    let log_base = rope.base.ln().abs();
    e.iter()
        .enumerate()
        .map(|(p, ei)| {
            let own = u_t + u * ((log_base + 4.0) * p as f64 + 8.0);
            ei + own * norm2(&row(x, p))
        })
        .collect()
}

/// One head's output `softmax(…)·V·W_O` (without b_O), its pattern, and the bound per row.
fn head_forward<T: Real>(
    head: &Head<T>,
    rope: Option<Rope>,
    h: &DMatrix<T>,
    eh: &[f64],
    rho: f64,
) -> (DMatrix<T>, DMatrix<T>, Vec<f64>) {
    let n = h.nrows();
    let HeadValues {
        q_raw,
        k_raw,
        q,
        k,
        v,
        z,
        pattern,
        out,
    } = head_values(head, rope, h);
    let mut eq = rows_bound(h, eh, &head.w_q, &head.b_q, rho);
    let mut ek = rows_bound(h, eh, &head.w_k, &head.b_k, rho);
    let ev = rows_bound(h, eh, &head.w_v, &head.b_v, rho);
    if let Some(r) = rope {
        eq = rope_bound(&q_raw, &eq, r);
        ek = rope_bound(&k_raw, &ek, r);
    }
    let wide = |m: &DMatrix<T>, i: usize| crate::kernels::scalar::widen_all(&row(m, i));
    let ez: Vec<f64> = (0..n)
        .map(|i| {
            // The causal mask: query i sees keys 0..=i.
            let qi = wide(&q, i);
            let delta = (0..=i)
                .map(|j| score_bound::<T>(&qi, &wide(&k, j), eq[i], ek[j]))
                .fold(0.0f64, f64::max);
            let p: Vec<f64> = (0..=i).map(|j| pattern[(i, j)].widen()).collect();
            let vs: Vec<Vec<f64>> = (0..=i).map(|j| wide(&v, j)).collect();
            mix_bound::<T>(&p, &vs, &wide(&z, i), &ev[..=i], delta)
        })
        .collect();
    let zero_b = vec![T::zero(); head.w_o.ncols()];
    let eo = rows_bound(&z, &ez, &head.w_o, &zero_b, rho);
    (out, pattern, eo)
}

/// Everything one head computes: the projections (before and after the rotary embedding),
/// the mixed values `z`, the pattern, and the output `z·W_O` (without b_O).
struct HeadValues<T: Scalar> {
    q_raw: DMatrix<T>,
    k_raw: DMatrix<T>,
    q: DMatrix<T>,
    k: DMatrix<T>,
    v: DMatrix<T>,
    z: DMatrix<T>,
    pattern: DMatrix<T>,
    out: DMatrix<T>,
}

fn head_values<T: Real>(head: &Head<T>, rope: Option<Rope>, h: &DMatrix<T>) -> HeadValues<T> {
    let q_raw = project(h, &head.w_q, &head.b_q);
    let k_raw = project(h, &head.w_k, &head.b_k);
    let v = project(h, &head.w_v, &head.b_v);
    let (q, k) = match rope {
        Some(r) => (apply_rope(&q_raw, r), apply_rope(&k_raw, r)),
        None => (q_raw.clone(), k_raw.clone()),
    };
    let (z, pattern) = attention(&q, &k, &v, &Mask::Causal);
    let zero_b = vec![T::zero(); head.w_o.ncols()];
    let out = project(&z, &head.w_o, &zero_b);
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

/// The norm applied to every row.
fn norm_matrix<T: Real>(norm: &Norm<T>, x: &DMatrix<T>) -> DMatrix<T> {
    let rows: Vec<Vec<T>> = (0..x.nrows()).map(|i| norm.apply(&row(x, i))).collect();
    from_rows(&rows, x.ncols())
}

/// Everything an MLP computes: the input projection, the gate's projection and activation
/// (gated MLPs), the hidden activations and the output.
struct MlpValues<T: Scalar> {
    pre: DMatrix<T>,
    gate: Option<(DMatrix<T>, DMatrix<T>)>,
    post: DMatrix<T>,
    out: DMatrix<T>,
}

fn mlp_values<T: Real>(mlp: &Mlp<T>, h: &DMatrix<T>) -> MlpValues<T> {
    let dm = mlp.w_in.ncols();
    let d = mlp.w_out.ncols();
    let zeros = vec![T::zero(); dm];
    let b_in = mlp.b_in.as_deref().unwrap_or(&zeros);
    let b_out = mlp.b_out.clone().unwrap_or_else(|| vec![T::zero(); d]);
    let pre = project(h, &mlp.w_in, b_in);
    let (post, gate) = match &mlp.w_gate {
        None => (pre.map(|v| mlp.act.apply(v)), None),
        Some(w_gate) => {
            let b_gate = mlp.b_gate.as_deref().unwrap_or(&zeros);
            let g = project(h, w_gate, b_gate);
            let a = g.map(|v| mlp.act.apply(v));
            // a ⊙ b computed in f64 and rounded once.
            let prod = a.zip_map(&pre, |x, y| T::narrow(x.widen() * y.widen()));
            (prod, Some((g, a)))
        }
    };
    let out = project(&post, &mlp.w_out, &b_out);
    MlpValues {
        pre,
        gate,
        post,
        out,
    }
}

fn mlp_forward<T: Real>(
    mlp: &Mlp<T>,
    h: &DMatrix<T>,
    eh: &[f64],
    rho: f64,
) -> (DMatrix<T>, Vec<f64>) {
    let u = unit_roundoff::<T>();
    let dm = mlp.w_in.ncols();
    let d = mlp.w_out.ncols();
    let zeros = vec![T::zero(); dm];
    let b_in = mlp.b_in.as_deref().unwrap_or(&zeros);
    let b_out = mlp.b_out.clone().unwrap_or_else(|| vec![T::zero(); d]);
    let MlpValues {
        pre,
        gate,
        post,
        out,
    } = mlp_values(mlp, h);
    let e_pre = rows_bound(h, eh, &mlp.w_in, b_in, rho);
    // act is L-Lipschitz (propagates L·e) and computed with ≤ c·u·|x| absolute error per entry.
    let act_err = |m: &DMatrix<T>, e: &[f64]| -> Vec<f64> {
        let own = mlp.act.rounding_ulps() * u;
        (0..m.nrows())
            .map(|i| mlp.act.lipschitz() * e[i] + own * norm2(&row(m, i)))
            .collect()
    };
    let e_post = match (&mlp.w_gate, &gate) {
        (Some(w_gate), Some((g, a))) => {
            let b_gate = mlp.b_gate.as_deref().unwrap_or(&zeros);
            let e_g = rows_bound(h, eh, w_gate, b_gate, rho);
            let e_a = act_err(g, &e_g);
            // a ⊙ b computed in f64 and rounded once. With â, b̂ the computed factors,
            // a⊙b − â⊙b̂ = (a − â)⊙b̂ + a⊙(b − b̂), so the 2-norm of the error is at most
            // e_a·‖b̂‖∞ + (‖â‖∞ + e_a)·e_b, plus the rounding u·‖â⊙b̂‖.
            (0..h.nrows())
                .map(|i| {
                    let (ai, bi) = (row(a, i), row(&pre, i));
                    e_a[i] * inf_norm(&bi)
                        + (inf_norm(&ai) + e_a[i]) * e_pre[i]
                        + u * norm2(&row(&post, i))
                })
                .collect()
        }
        _ => act_err(&pre, &e_pre),
    };
    let eo = rows_bound(&post, &e_post, &mlp.w_out, &b_out, rho);
    (out, eo)
}

/// The relative accuracy of every weight a transform of [`process`] produces from exact
/// weights: each is within 1 ulp plus `u²` terms of the exact transformed value — taken as
/// `2u` — which is the `rho` to pass to [`Model::run`] for the processed model.
pub fn transform_rho<T: Real>() -> f64 {
    2.0 * unit_roundoff::<T>()
}

/// The shape of a model, for the strategies that generate random models.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelConfig {
    /// Residual width.
    pub d_model: usize,
    /// Blocks.
    pub layers: usize,
    /// Heads per block.
    pub heads: usize,
    /// Width of each head.
    pub d_head: usize,
    /// Hidden width of the MLP.
    pub d_mlp: usize,
    /// Input vocabulary (rows of `W_E`).
    pub vocab_in: usize,
    /// Output vocabulary (columns of `W_U`).
    pub vocab_out: usize,
    /// Positions of `W_pos` (0: no positional embedding).
    pub n_ctx: usize,
    /// LayerNorm or RMSNorm everywhere.
    pub norm: NormKind,
    /// The MLP's nonlinearity.
    pub act: Activation,
    /// Whether the linear maps have biases (and LayerNorms a β).
    pub biases: bool,
    /// A rotary embedding in every attention layer.
    pub rope: Option<Rope>,
    /// A gated MLP (`W_gate` beside `W_in`, as Llama's SwiGLU).
    pub gated: bool,
    /// Query heads per key/value head (1: multi-head attention; must divide `heads`).
    pub heads_per_kv: usize,
}

impl Default for ModelConfig {
    /// Two blocks of two heads, d = 8, LayerNorm, GELU, biases, learned positions.
    fn default() -> ModelConfig {
        ModelConfig {
            d_model: 8,
            layers: 2,
            heads: 2,
            d_head: 4,
            d_mlp: 16,
            vocab_in: 5,
            vocab_out: 6,
            n_ctx: 6,
            norm: NormKind::LayerNorm,
            act: Activation::Gelu,
            biases: true,
            rope: None,
            gated: false,
            heads_per_kv: 1,
        }
    }
}

/// The bounds are not only valid but sharp: each piece is attained (to first order) by a
/// perturbation built to attain it. A bound that is valid but loose by an unknown factor could
/// hide a wrong term; these pin each term to the worst case it describes.
#[cfg(test)]
mod sharp {
    use super::*;
    use proptest::prelude::*;

    /// `‖a − b‖₂` in f64.
    fn dist(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    }

    /// `(1 − below)·bound ≤ observed ≤ (1 + ABOVE)·bound`. Below: the perturbation does not
    /// quite reach the worst case (second-order terms), by a margin each test states. Above:
    /// the test's own arithmetic (perturbed weights and inputs rounded in f64) adds a few u·|y|
    /// that the bound of the unperturbed computation need not cover; every bound here is
    /// ≥ 10⁻⁷·|y|, so that is below [`ABOVE`] — while a wrong term moves the ratio by far more.
    fn attained(observed: f64, bound: f64, below: f64) -> Result<(), TestCaseError> {
        prop_assert!(
            observed <= (1.0 + ABOVE) * bound && observed >= (1.0 - below) * bound,
            "observed {observed:e} against the bound {bound:e} (ratio {})",
            observed / bound
        );
        Ok(())
    }

    /// See [`attained`]: 2⁻²⁶ ≈ 1.5·10⁻⁸.
    const ABOVE: f64 = 1.0 / (1u64 << 26) as f64;

    fn sign(x: f64) -> f64 {
        if x < 0.0 { -1.0 } else { 1.0 }
    }

    /// A one-unit MLP `x ↦ w_out·act(x)`, without biases.
    fn unit_mlp(w_out: f64, act: Activation) -> Mlp<f64> {
        Mlp {
            w_in: DMatrix::from_element(1, 1, 1.0),
            b_in: None,
            w_gate: None,
            b_gate: None,
            w_out: DMatrix::from_element(1, 1, w_out),
            b_out: None,
            act,
        }
    }

    /// Nonzero entries of either sign, away from zero.
    fn entry() -> impl Strategy<Value = f64> {
        (0.1f64..2.0, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m })
    }

    fn linear_case() -> impl Strategy<Value = (Vec<f64>, DMatrix<f64>, Vec<f64>)> {
        (1usize..6, 1usize..6).prop_flat_map(|(k, m)| {
            (
                proptest::collection::vec(entry(), k),
                proptest::collection::vec(entry(), k * m)
                    .prop_map(move |w| DMatrix::from_vec(k, m, w)),
                proptest::collection::vec(entry(), m),
            )
        })
    }

    /// A row with a spread (so that a norm's scale is well away from ε).
    fn norm_row() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(-2.0f64..2.0, 3..8).prop_filter("spread", |x| {
            let m = x.iter().sum::<f64>() / x.len() as f64;
            x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() > 0.5
        })
    }

    /// The component of `r` orthogonal to every vector of `basis` (orthogonal to each other).
    fn orthogonal(mut r: Vec<f64>, basis: &[Vec<f64>]) -> Vec<f64> {
        for b in basis {
            let c = r.iter().zip(b).map(|(x, y)| x * y).sum::<f64>()
                / b.iter().map(|y| y * y).sum::<f64>();
            for (x, y) in r.iter_mut().zip(b) {
                *x -= c * y;
            }
        }
        r
    }

    proptest! {
        /// Every weight and bias moved by ρ so that its term grows by ρ·|term|: each output moves
        /// by exactly ρ·Σ|terms|, which is the ρ part of `linear_bound`.
        #[test]
        fn linear_bound_rho_is_attained((x, w, b) in linear_case()) {
            let rho = 1e-3;
            let bound = linear_bound(&x, 0.0, &w, op_norm(&w), Some(&b), rho);
            let w2 = DMatrix::from_fn(w.nrows(), w.ncols(), |i, j| {
                w[(i, j)] * (1.0 + rho * sign(x[i] * w[(i, j)]))
            });
            let b2: Vec<f64> = b.iter().map(|&v| v * (1.0 + rho * sign(v))).collect();
            let observed = dist(&linear(&x, &w2, Some(&b2)), &linear(&x, &w, Some(&b)));
            attained(observed, bound, 1e-9)?;
        }

        /// One input, one output: an input error `e` and a relative `ρ` on the weight and the
        /// bias, all pushing the same way, attain `e·|w|·(1 + ρ) + ρ·(|xw| + |b|)`.
        #[test]
        fn linear_bound_input_error_is_attained(x in entry(), w in entry(), b in entry()) {
            let (e, rho) = (1e-4, 1e-3);
            let wm = DMatrix::from_element(1, 1, w);
            let bound = linear_bound(&[x], e, &wm, op_norm(&wm), Some(&[b]), rho);
            let t = sign(x * w);
            let moved = DMatrix::from_element(1, 1, w * (1.0 + rho));
            let y2 = linear(&[x + e * t * sign(w)], &moved, Some(&[b * (1.0 + rho * t * sign(b))]));
            let observed = dist(&y2, &linear(&[x], &wm, Some(&[b])));
            attained(observed, bound, 1e-9)?;
        }

        /// `op_norm` is an upper bound on the spectral norm, and exact on a diagonal matrix.
        #[test]
        fn op_norm_bounds_the_spectral_norm((_, w, _) in linear_case(), diag in proptest::collection::vec(entry(), 1..6)) {
            let spectral = w.clone().svd(false, false).singular_values.max();
            prop_assert!(op_norm(&w) >= spectral * (1.0 - 1e-12), "{} < {spectral}", op_norm(&w));
            let dm = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(diag.clone()));
            let largest = diag.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            prop_assert!((op_norm(&dm) - largest).abs() <= 1e-15 * largest);
        }

        /// An input error orthogonal to 1 and to the normalized row moves the output of a norm
        /// with a constant γ by |γ|·e/s to first order: the propagated part of `Norm::bound`.
        #[test]
        fn norm_propagation_is_attained(
            x in norm_row(),
            r in proptest::collection::vec(-1.0f64..1.0, 8),
            g in entry(),
            rms in any::<bool>(),
        ) {
            let d = x.len();
            let norm = Norm {
                kind: if rms { NormKind::RmsNorm } else { NormKind::LayerNorm },
                eps: 1e-5,
                gamma: Some(vec![g; d]),
                beta: None,
            };
            let s = norm.scale(&x);
            let mean = if rms { 0.0 } else { x.iter().sum::<f64>() / d as f64 };
            let n: Vec<f64> = x.iter().map(|v| (v - mean) / s).collect();
            let mut basis = vec![n];
            if !rms {
                basis.push(vec![1.0; d]);
            }
            let dir = orthogonal(r[..d].to_vec(), &basis);
            let len = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            prop_assume!(len > 1e-3);
            let e = 1e-3 * s;
            let moved: Vec<f64> = x.iter().zip(&dir).map(|(v, q)| v + e * q / len).collect();
            let y = norm.apply(&x);
            let bound = norm.bound(&x, &y, e, 0.0);
            // Second-order: the output moves by (e/s)(1 − O(e²/s²)), the bound allows e/s/(1 − 2e/s).
            attained(dist(&norm.apply(&moved), &y), bound, 3e-3)?;
        }

        /// γ and β moved by ρ so that every term grows by ρ·|term| move each output by
        /// ρ·(|γᵢnᵢ| + |βᵢ|); with βᵢ opposing γᵢnᵢ (and smaller), that is ρ·(|yᵢ| + 2|βᵢ|),
        /// the ρ part of `Norm::bound`.
        #[test]
        fn norm_rho_is_attained(
            x in norm_row(),
            gamma in proptest::collection::vec(entry(), 8),
            frac in proptest::collection::vec(0.0f64..0.9, 8),
            rms in any::<bool>(),
        ) {
            let d = x.len();
            let rho = 1e-3;
            let mut norm = Norm {
                kind: if rms { NormKind::RmsNorm } else { NormKind::LayerNorm },
                eps: 1e-5,
                gamma: Some(gamma[..d].to_vec()),
                beta: None,
            };
            let n = Norm { gamma: None, ..norm.clone() }.apply(&x);
            if !rms {
                norm.beta = Some((0..d).map(|i| -frac[i] * gamma[i] * n[i]).collect());
            }
            let y = norm.apply(&x);
            let bound = norm.bound(&x, &y, 0.0, rho);
            let mut moved = norm.clone();
            moved.gamma = Some((0..d).map(|i| gamma[i] * (1.0 + rho * sign(gamma[i] * n[i]))).collect());
            // Every term moves up: γᵢnᵢ by ρ|γᵢnᵢ|, βᵢ by ρ|βᵢ|.
            moved.beta = norm.beta.as_ref().map(|b| b.iter().map(|&v| v * (1.0 + rho * sign(v))).collect());
            // The kernel's own rounding (7u of the same magnitude) is in the bound too.
            attained(dist(&moved.apply(&x), &y), bound, 1e-11)?;
        }

        /// At x = √2, where GELU's slope peaks (Φ(√2) + √2·φ(√2) = 1.1289…), an input error
        /// through a one-unit MLP comes out multiplied by that slope: the 1.13 of the bound.
        #[test]
        fn gelu_slope_is_attained(w_out in entry(), up in any::<bool>()) {
            let e = 1e-6;
            let mlp = unit_mlp(w_out, Activation::Gelu);
            let x = std::f64::consts::SQRT_2;
            let h = DMatrix::from_element(1, 1, x);
            let (y, eo) = mlp_forward(&mlp, &h, &[e], 0.0);
            let moved = DMatrix::from_element(1, 1, if up { x + e } else { x - e });
            let (y2, _) = mlp_forward(&mlp, &moved, &[0.0], 0.0);
            attained((y2[(0, 0)] - y[(0, 0)]).abs(), eo[0], 2e-3)?;
        }

        /// ReLU passes an input error through unchanged where it is active, and kills it where
        /// it is not (for an error smaller than the input).
        #[test]
        fn relu_passes_the_error_through(x in entry(), w_out in entry()) {
            let e = 1e-6;
            let mlp = unit_mlp(w_out, Activation::Relu);
            let h = DMatrix::from_element(1, 1, x);
            let (y, eo) = mlp_forward(&mlp, &h, &[e], 0.0);
            let (y2, _) = mlp_forward(&mlp, &DMatrix::from_element(1, 1, x + e), &[0.0], 0.0);
            let observed = (y2[(0, 0)] - y[(0, 0)]).abs();
            if x > 0.0 {
                attained(observed, eo[0], 1e-7)?;
            } else {
                prop_assert_eq!(observed, 0.0);
                prop_assert!(eo[0] >= e * w_out.abs());
            }
        }
    }

    proptest! {
        /// q ∥ k with both errors along them: the score moves by exactly the inputs' part of
        /// `score_bound`.
        #[test]
        fn score_bound_is_attained(
            k in proptest::collection::vec(entry(), 1..6),
            c in 0.1f64..3.0,
            rel in (1e-3f64..1e-1, 1e-3f64..1e-1),
        ) {
            let q: Vec<f64> = k.iter().map(|v| c * v).collect();
            let (nq, nk) = (norm2(&q), norm2(&k));
            let (eq, ek) = (rel.0 * nq, rel.1 * nk);
            let q2: Vec<f64> = q.iter().zip(&k).map(|(a, b)| a + eq * b / nk).collect();
            let k2: Vec<f64> = k.iter().zip(&q).map(|(b, a)| b + ek * a / nq).collect();
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            let scale = 1.0 / (k.len() as f64).sqrt();
            let observed = (dot(&q2, &k2) - dot(&q, &k)).abs() * scale;
            attained(observed, score_bound::<f64>(&q, &k, eq, ek), 1e-9)?;
        }

        /// Two groups of keys with equal values, one group's scores pushed up by Δ and the
        /// other's down: the output moves by the scores' part of `mix_bound` (to first order in Δ).
        #[test]
        fn mix_bound_scores_are_attained(
            scores in proptest::collection::vec(-2.0f64..2.0, 2..7),
            a in proptest::collection::vec(-2.0f64..2.0, 3),
            b in proptest::collection::vec(-2.0f64..2.0, 3),
        ) {
            prop_assume!(dist(&a, &b) > 0.1);
            let delta = 1e-5;
            let up = |j: usize| j.is_multiple_of(2);
            let v: Vec<Vec<f64>> = (0..scores.len()).map(|j| if up(j) { a.clone() } else { b.clone() }).collect();
            let mix = |p: &[f64]| (0..3).map(|c| p.iter().zip(&v).map(|(pj, vj)| pj * vj[c]).sum()).collect::<Vec<f64>>();
            let p = crate::kernels::softmax::softmax(&scores);
            let moved: Vec<f64> = scores.iter().enumerate().map(|(j, s)| if up(j) { s + delta } else { s - delta }).collect();
            let z = mix(&p);
            let observed = dist(&mix(&crate::kernels::softmax::softmax(&moved)), &z);
            let bound = mix_bound::<f64>(&p, &v, &z, &vec![0.0; v.len()], delta);
            attained(observed, bound, 1e-4)?;
        }

        /// Every value moved by the same vector of length `e`: the output moves by `e`, the
        /// values' part of `mix_bound`; values moved by different lengths (along one direction)
        /// move it by their weighted mean, at most the largest.
        #[test]
        fn mix_bound_values_are_attained(
            scores in proptest::collection::vec(-2.0f64..2.0, 1..7),
            vals in proptest::collection::vec(-2.0f64..2.0, 7),
            lens in proptest::collection::vec(1e-4f64..1e-3, 7),
        ) {
            let m = scores.len();
            let v: Vec<Vec<f64>> = (0..m).map(|j| vec![vals[j]]).collect();
            let p = crate::kernels::softmax::softmax(&scores);
            let z = vec![p.iter().zip(&vals).map(|(pj, vj)| pj * vj).sum::<f64>()];
            let e = lens[0];
            attained(e, mix_bound::<f64>(&p, &v, &z, &vec![e; m], 0.0), 1e-8)?;
            let shifted: f64 = p.iter().zip(&lens).map(|(pj, l)| pj * l).sum();
            let bound = mix_bound::<f64>(&p, &v, &z, &lens[..m], 0.0);
            let largest = lens[..m].iter().fold(0.0f64, |x, &l| x.max(l));
            prop_assert!(shifted <= bound && bound <= largest * (1.0 + 1e-8), "{shifted:e} {bound:e} {largest:e}");
        }
    }

    /// The rounding part of `linear_bound` (f32: the products are exact in f64, summed in f64,
    /// rounded once) against two adversarial sums whose exact value is known.
    #[test]
    fn linear_bound_covers_adversarial_rounding() {
        let exact_error = |x: &[f32], col: &[f32], b: Option<f32>, exact: f64| {
            let w = DMatrix::from_column_slice(col.len(), 1, col);
            let bias = b.map(|b| vec![b]);
            let y = linear(x, &w, bias.as_deref())[0];
            let bound = linear_bound(x, 0.0, &w, op_norm(&w), bias.as_deref(), 0.0);
            ((f64::from(y) - exact).abs(), bound)
        };
        // x·w + b with b = fl(x·w): the result's own rounding (u·|s|, |s| ≈ 2) is the whole
        // error, 2⁻⁴⁶ here.
        let a = 1.0 + f32::EPSILON;
        let p = f64::from(a) * f64::from(a);
        let (observed, bound) = exact_error(&[a], &[a], Some(p as f32), p + f64::from(p as f32));
        assert!(
            observed > 0.0 && observed <= bound,
            "{observed:e} > {bound:e}"
        );
        // 2⁵³ + 1 − 2⁵³ in one f64 lane (terms 0, 8 and 16): the sum loses the 1, an error of
        // Σ|terms|·γ scale, not u·|s|.
        let (big_x, big_w) = (2f32.powi(27), 2f32.powi(26));
        let mut x = vec![0.0f32; 17];
        let mut col = vec![0.0f32; 17];
        (x[0], col[0]) = (big_x, big_w);
        (x[8], col[8]) = (1.0, 1.0);
        (x[16], col[16]) = (-big_x, big_w);
        let (observed, bound) = exact_error(&x, &col, None, 1.0);
        assert!(
            observed > 0.0 && observed <= bound,
            "{observed:e} > {bound:e}"
        );
        // The same with a bias of 2⁻³⁰: the lost 1 must still be charged to Σ|terms| (which
        // includes |b|, not a product with it).
        let (observed, bound) = exact_error(&x, &col, Some(2f32.powi(-30)), 1.0 + 2f64.powi(-30));
        assert!(
            observed > 0.5 && observed <= bound,
            "{observed:e} > {bound:e}"
        );
        // One product, a tie: (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds down by 2⁻²⁴ = u·|s| (to
        // even). A weight known to ρ = 2u, moved up, adds ρ·|s| on top: the bound must hold
        // both, added (not one subtracted from the other).
        let a = 1.0 + 2f32.powi(-12);
        let w = DMatrix::from_element(1, 1, a);
        let y = linear(&[a], &w, None)[0];
        let rho = 2.0 * unit_roundoff::<f32>();
        let square = f64::from(a) * f64::from(a);
        for (moved, rho) in [(square, 0.0), (square * (1.0 + rho), rho)] {
            let observed = (f64::from(y) - moved).abs();
            let bound = linear_bound(&[a], 0.0, &w, op_norm(&w), None, rho);
            assert!(
                observed >= 2f64.powi(-24) && observed <= bound,
                "ρ = {rho:e}: {observed:e} > {bound:e}"
            );
        }
    }

    /// The rounding part of `score_bound` against two f32 scores whose exact value is known,
    /// computed as [`attention`] computes them (`fl(fl(q·k)·fl(1/√d_h))`).
    #[test]
    fn score_bound_covers_adversarial_rounding() {
        let check = |q: &[f32], k: &[f32], exact: f64| {
            let scale = 1.0 / (q.len() as f32).sqrt();
            let computed = <f32 as crate::kernels::scalar::Ring>::dot_kernel(q, k) * scale;
            let observed = (f64::from(computed) - exact * f64::from(scale)).abs();
            let (q64, k64): (Vec<f64>, Vec<f64>) = (
                q.iter().map(|&v| v.into()).collect(),
                k.iter().map(|&v| v.into()).collect(),
            );
            let bound = score_bound::<f32>(&q64, &k64, 0.0, 0.0);
            assert!(
                observed > 0.0 && observed <= bound,
                "{observed:e} > {bound:e}"
            );
            observed / bound
        };
        // 4097² = 2²⁴ + 2¹³ + 1, a tie in f32 (ulp 2 there), rounded to even: off by 1 = u·|s|.
        // With d_h = 4 the scaling by ½ is exact: one rounding of the three the bound allows.
        let four = [4097.0, 0.0, 0.0, 0.0];
        let share = check(&four, &four, 16_785_409.0);
        assert!(share > 0.33, "{share}");
        // 2⁵³ + 1 − 2⁵³ in one f64 lane of the dot product (terms 0, 8, 16): the 1 is lost, an
        // error of order Σ|terms|·γ, not u·|s|.
        let (big_q, big_k) = (2f32.powi(27), 2f32.powi(26));
        let mut q = vec![0.0f32; 17];
        let mut k = vec![0.0f32; 17];
        (q[0], k[0]) = (big_q, big_k);
        (q[8], k[8]) = (1.0, 1.0);
        (q[16], k[16]) = (-big_q, big_k);
        check(&q, &k, 1.0);
    }

    /// The propagated part is infinite once the error can reach half the scale (the
    /// linearisation is no longer valid), and zero for an exact input.
    #[test]
    fn norm_bound_limits() {
        let norm = Norm {
            kind: NormKind::LayerNorm,
            eps: 0.0,
            gamma: None,
            beta: None,
        };
        let x = [1.0, -1.0];
        let y = norm.apply(&x);
        assert_eq!(norm.scale(&x), 1.0);
        assert_eq!(norm.bound(&x, &y, 0.5, 0.0), f64::INFINITY);
        assert!(norm.bound(&x, &y, 0.49, 0.0).is_finite());
        let own = norm.bound(&x, &y, 0.0, 0.0);
        assert!(own > 0.0 && own < 1e-14, "{own:e}");
    }
    /// The Lipschitz constants of `Activation::lipschitz` bound every slope: difference
    /// quotients on a grid of step 10⁻³ over [−12, 12] (outside it the slopes are within 10⁻⁶
    /// of 0 or 1), and the peaks they name are nearly attained (so the constants are not loose
    /// by a factor that could hide a wrong one).
    #[test]
    fn activation_slopes_are_within_their_lipschitz_constants() {
        for act in [
            Activation::Relu,
            Activation::Gelu,
            Activation::GeluTanh,
            Activation::Silu,
        ] {
            let f = |x: f64| act.apply(x);
            let l = act.lipschitz();
            let mut peak = 0.0f64;
            for k in -12_000..12_000 {
                let (a, b) = (k as f64 * 1e-3, (k + 1) as f64 * 1e-3);
                let slope = ((f(b) - f(a)) / (b - a)).abs();
                assert!(slope <= l, "{act:?}: slope {slope} on [{a}, {b}] > {l}");
                peak = peak.max(slope);
            }
            assert!(peak > 0.99 * l - 0.01, "{act:?}: peak {peak} far below {l}");
        }
        // The tanh form matches gelu_new's formula at a few points (values from PyTorch's
        // `gelu(x, approximate="tanh")` in float64).
        for (x, want) in [
            (1.0, 0.841_191_990_608_276_8),
            (-2.0, -0.045_402_305_912_224_94),
        ] {
            let got = gelu_tanh(x);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON,
                "{x}: {got} vs {want}"
            );
        }
        assert!((silu(2.0) - 2.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-16);
    }

    /// GELU against Φ from the tables: x·Φ(x) at 0, ±1, 2 (Φ(1) = 0.8413447460685429…,
    /// Φ(2) = 0.9772498680518208…), and its slope peak at √2 (Φ(√2) + √2·φ(√2)).
    #[test]
    fn gelu_is_x_times_the_normal_cdf() {
        let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1e-300);
        assert_eq!(gelu(0.0), 0.0);
        assert!(close(gelu(1.0), 0.841_344_746_068_542_9), "{}", gelu(1.0));
        assert!(
            close(gelu(-1.0), -0.158_655_253_931_457_05),
            "{}",
            gelu(-1.0)
        );
        assert!(
            close(gelu(2.0), 2.0 * 0.977_249_868_051_820_8),
            "{}",
            gelu(2.0)
        );
        let h = 1e-6;
        let r2 = std::f64::consts::SQRT_2;
        let slope = (gelu(r2 + h) - gelu(r2 - h)) / (2.0 * h);
        assert!((slope - 1.128_904_145_185).abs() < 1e-8, "{slope}");
        assert!(slope < 1.13);
    }
    proptest! {
        /// The charge for the rotation's rounding covers it: f32 rows rotated in f32 against
        /// the same rows rotated in f64.
        #[test]
        fn rope_bound_covers_the_rotation(
            rows in proptest::collection::vec(proptest::collection::vec(-4.0f32..4.0, 4), 1..6),
        ) {
            let n = rows.len();
            let x = DMatrix::from_fn(n, 4, |i, j| rows[i][j]);
            let rope = Rope::interleaved(10_000.0);
            let got = apply_rope(&x, rope);
            let exact = apply_rope(&x.map(f64::from), rope);
            let bound = rope_bound(&x, &vec![0.0; n], rope);
            for i in 0..n {
                let err = (0..4)
                    .map(|j| (f64::from(got[(i, j)]) - exact[(i, j)]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                prop_assert!(err <= bound[i], "row {i}: {err:e} > {:e}", bound[i]);
            }
        }
    }
}
