//! The model's types — norms, heads, attention, MLPs, blocks, the model and its mask — their
//! shape validation, and [`ModelConfig`], the shape the random-model strategies draw from.

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

impl<T: Scalar> Head<T> {
    /// The three maps that read the residual stream — query, key and value — each with its
    /// bias (what a norm before the head folds into).
    pub(crate) fn readers_mut(&mut self) -> [(&mut DMatrix<T>, &mut Vec<T>); 3] {
        [
            (&mut self.w_q, &mut self.b_q),
            (&mut self.w_k, &mut self.b_k),
            (&mut self.w_v, &mut self.b_v),
        ]
    }
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
    /// (see the [module docs](super)).
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
    pub(super) fn allows(&self, i: usize, j: usize) -> bool {
        match self {
            Mask::None => true,
            Mask::Causal => j <= i,
            Mask::Custom(m) => m[(i, j)],
        }
    }
}

pub(super) fn shape<T: Scalar>(m: &DMatrix<T>) -> String {
    format!("{}×{}", m.nrows(), m.ncols())
}

pub(super) fn expect_shape<T: Scalar>(
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

pub(super) fn expect_len<T>(what: &str, v: &[T], len: usize) -> Result<(), String> {
    if v.len() == len {
        Ok(())
    } else {
        Err(format!("{what}: expected length {len}, got {}", v.len()))
    }
}

/// Equal entries, NaN equal to NaN (a copy of a NaN weight is still a copy).
#[allow(clippy::eq_op)]
pub(super) fn same<T: Scalar>(a: &[T], b: &[T]) -> bool {
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
