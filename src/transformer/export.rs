//! The fully processed model as a checkpoint in TransformerLens' conventions: what
//! `transformer-laws model process PATH -o OUT_DIR` writes.
//!
//! [`process_all`] applies, in order, [`fold_layernorm`], [`center_writing_weights`] (refused,
//! and skipped, when a reader is an RMSNorm), [`center_unembed`] and [`fold_value_biases`] —
//! TransformerLens' `fold_ln`, `center_writing_weights`, `center_unembed`,
//! `fold_value_biases`. [`write_processed`] writes the result to `OUT_DIR/model.safetensors`
//! with a `OUT_DIR/config.json` beside it.
//!
//! # Tensor names and shapes (TransformerLens `HookedTransformer` state dict)
//!
//! | name | shape | from |
//! |---|---|---|
//! | `embed.W_E` | `[d_vocab, d_model]` | [`Model::w_e`] |
//! | `pos_embed.W_pos` | `[n_ctx, d_model]` | [`Model::w_pos`] (absent with rotary or no positions) |
//! | `blocks.{l}.attn.W_Q`, `W_K`, `W_V` | `[n_heads, d_model, d_head]` | each head's `w_q`, `w_k`, `w_v` |
//! | `blocks.{l}.attn.b_Q`, `b_K`, `b_V` | `[n_heads, d_head]` | each head's biases |
//! | `blocks.{l}.attn.W_O` | `[n_heads, d_head, d_model]` | each head's `w_o` |
//! | `blocks.{l}.attn.b_O` | `[d_model]` | |
//! | `blocks.{l}.mlp.W_in` | `[d_model, d_mlp]` | |
//! | `blocks.{l}.mlp.b_in` | `[d_mlp]` | zeros when the model has none |
//! | `blocks.{l}.mlp.W_gate`, `b_gate` | `[d_model, d_mlp]`, `[d_mlp]` | gated MLPs only (`gated_mlp` in the config) |
//! | `blocks.{l}.mlp.W_out` | `[d_mlp, d_model]` | |
//! | `blocks.{l}.mlp.b_out` | `[d_model]` | zeros when the model has none |
//! | `blocks.{l}.ln1.w`, `ln1.b`, `ln2.*`, `ln_final.*` | `[d_model]` | only a γ or β still present (never after folding) |
//! | `unembed.W_U` | `[d_model, d_vocab_out]` | [`Model::w_u`] |
//! | `unembed.b_U` | `[d_vocab_out]` | zeros when the model has none |
//!
//! Every linear map is `y = x·W + b` with `W` of shape `input × output`, rows stored first
//! (C order), as PyTorch and TransformerLens read them. Heads are stored one per index even
//! where the original shared keys and values between heads (grouped-query attention).
//!
//! `config.json` holds, under `"transformer_lens"`, only `HookedTransformerConfig` fields
//! (`n_layers`, `d_model`, `n_heads`, `d_head`, `d_mlp`, `d_vocab`, `d_vocab_out`, `act_fn`,
//! `normalization_type` — `"LNPre"`/`"RMSPre"` once folded — `eps`,
//! `positional_embedding_type`; `n_ctx` when the model has learned positions; `rotary_base`,
//! `rotary_dim` and `rotary_adjacent_pairs` for a rotary model), so that
//! `HookedTransformerConfig(**config["transformer_lens"])` accepts them. A rotary model's
//! context length is not part of its weights: set `n_ctx` yourself. Beside it: the `dtype`
//! written, which transforms were applied (`"processing"`) and why any was refused (`"refused"`).
//! The tensors are TransformerLens' processed state, except that W_Q, W_K, W_V, W_in and W_U
//! are not centered along d_model as its `fold_layer_norm(center_weights=True)` does — the
//! same function, different tensors.

use super::process::{center_unembed, center_writing_weights, fold_layernorm, fold_value_biases};
use super::{Model, NormKind, RopeStyle};
use crate::kernels::scalar::Real;
use nalgebra::DMatrix;
use serde_json::{Value, json};
use std::path::Path;

/// One transform of the pipeline: applied, or refused with the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// TransformerLens' name of the transform (`fold_ln`, `center_writing_weights`, …).
    pub name: &'static str,
    /// `None` when applied; the refusal otherwise.
    pub refused: Option<String>,
}

/// The processed model and what was done to it.
#[derive(Clone, Debug)]
pub struct Processed<T: nalgebra::Scalar> {
    /// The model after every applicable transform.
    pub model: Model<T>,
    /// The four transforms in the order tried.
    pub steps: Vec<Step>,
}

impl<T: nalgebra::Scalar> Processed<T> {
    /// How many transforms were applied: each rounds the weights once more, so the model's
    /// weights are within this many times [`super::transform_rho`] of exact processing.
    pub fn applied(&self) -> usize {
        self.steps.iter().filter(|s| s.refused.is_none()).count()
    }
}

/// Apply `fold_ln`, `center_writing_weights` (where valid), `center_unembed`,
/// `fold_value_biases`, in that order.
///
/// # Examples
/// ```
/// use transformer_laws::{strategies::tiny_model, transformer::export::process_all};
/// let p = process_all(&tiny_model::<f64>());
/// assert_eq!(p.applied(), 4);
/// assert!(p.model.ln_final.gamma.is_none());
/// ```
pub fn process_all<T: Real>(model: &Model<T>) -> Processed<T> {
    let stages = stages(model);
    let steps = stages.iter().map(|(s, _)| s.clone()).collect();
    let model = stages
        .into_iter()
        .rev()
        .find_map(|(_, m)| m)
        .unwrap_or_else(|| model.clone());
    Processed { model, steps }
}

/// The pipeline of [`process_all`] one transform at a time: each step with the model after it
/// (`None` when refused; the next step then starts from the last model produced).
pub fn stages<T: Real>(model: &Model<T>) -> Vec<(Step, Option<Model<T>>)> {
    let step = |name, refused| Step { name, refused };
    let m1 = fold_layernorm(model);
    let mut out = vec![(step("fold_ln", None), Some(m1.clone()))];
    let last = match center_writing_weights(&m1) {
        Ok(c) => {
            out.push((step("center_writing_weights", None), Some(c.clone())));
            c
        }
        Err(e) => {
            out.push((step("center_writing_weights", Some(e.to_string())), None));
            m1
        }
    };
    let m3 = center_unembed(&last);
    out.push((step("center_unembed", None), Some(m3.clone())));
    out.push((
        step("fold_value_biases", None),
        Some(fold_value_biases(&m3)),
    ));
    out
}

/// A tensor to write: TransformerLens name, shape, values in row-major order (widened).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The state-dict name.
    pub name: String,
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, last index fastest.
    pub values: Vec<f64>,
}

/// The element type written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE single (every value rounded once to nearest, from the model's own type).
    F32,
    /// IEEE double.
    F64,
}

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The model cannot be laid out in TransformerLens' shapes.
    #[error("export: {0}")]
    Shape(String),
    /// Creating the directory or writing a file failed.
    #[error("export: {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The safetensors serializer refused the data.
    #[error("export: safetensors: {0}")]
    Safetensors(String),
}

fn rows_first<T: Real>(m: &DMatrix<T>) -> Vec<f64> {
    let mut v = Vec::with_capacity(m.len());
    for r in 0..m.nrows() {
        v.extend(m.row(r).iter().map(|x| x.widen()));
    }
    v
}

fn vector<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.widen()).collect()
}

/// Every tensor of `model` under TransformerLens' names and shapes (see the [module
/// docs](self)).
///
/// # Errors
/// [`ExportError::Shape`] when the heads of a block differ in width (no `[n_heads, …]` tensor
/// holds them) or the model is invalid ([`Model::validate`]'s message).
pub fn tensors<T: Real>(model: &Model<T>) -> Result<Vec<Tensor>, ExportError> {
    model.validate().map_err(ExportError::Shape)?;
    let d = model.d_model();
    let mut out = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, values: Vec<f64>| {
        out.push(Tensor {
            name,
            shape,
            values,
        })
    };
    push(
        "embed.W_E".into(),
        vec![model.w_e.nrows(), d],
        rows_first(&model.w_e),
    );
    if let Some(p) = &model.w_pos {
        push("pos_embed.W_pos".into(), vec![p.nrows(), d], rows_first(p));
    }
    let norm =
        |push: &mut dyn FnMut(String, Vec<usize>, Vec<f64>), at: &str, n: &super::Norm<T>| {
            if let Some(g) = &n.gamma {
                push(format!("{at}.w"), vec![d], vector(g));
            }
            if let Some(b) = &n.beta {
                push(format!("{at}.b"), vec![d], vector(b));
            }
        };
    for (l, block) in model.blocks.iter().enumerate() {
        norm(&mut push, &format!("blocks.{l}.ln1"), &block.ln1);
        let heads = &block.attn.heads;
        let n_heads = heads.len();
        let dh = heads.first().map_or(0, |h| h.w_q.ncols());
        if let Some((h, _)) = heads
            .iter()
            .enumerate()
            .find(|(_, h)| h.w_q.ncols() != dh || h.w_v.ncols() != dh)
        {
            return Err(ExportError::Shape(format!(
                "blocks[{l}].attn.heads[{h}] is not {dh} wide like head 0: TransformerLens \
                 stores a block's heads in one [n_heads, d_model, d_head] tensor"
            )));
        }
        let at = format!("blocks.{l}.attn");
        for (w, pick) in [("W_Q", 0), ("W_K", 1), ("W_V", 2)] {
            let values = heads
                .iter()
                .flat_map(|h| rows_first([&h.w_q, &h.w_k, &h.w_v][pick]))
                .collect();
            push(format!("{at}.{w}"), vec![n_heads, d, dh], values);
        }
        for (b, pick) in [("b_Q", 0), ("b_K", 1), ("b_V", 2)] {
            let values = heads
                .iter()
                .flat_map(|h| vector([&h.b_q, &h.b_k, &h.b_v][pick]))
                .collect();
            push(format!("{at}.{b}"), vec![n_heads, dh], values);
        }
        let values = heads.iter().flat_map(|h| rows_first(&h.w_o)).collect();
        push(format!("{at}.W_O"), vec![n_heads, dh, d], values);
        push(format!("{at}.b_O"), vec![d], vector(&block.attn.b_o));
        norm(&mut push, &format!("blocks.{l}.ln2"), &block.ln2);
        let mlp = &block.mlp;
        let dm = mlp.w_in.ncols();
        let at = format!("blocks.{l}.mlp");
        push(format!("{at}.W_in"), vec![d, dm], rows_first(&mlp.w_in));
        push(
            format!("{at}.b_in"),
            vec![dm],
            mlp.b_in.as_deref().map_or_else(|| vec![0.0; dm], vector),
        );
        if let Some(g) = &mlp.w_gate {
            push(format!("{at}.W_gate"), vec![d, dm], rows_first(g));
            push(
                format!("{at}.b_gate"),
                vec![dm],
                mlp.b_gate.as_deref().map_or_else(|| vec![0.0; dm], vector),
            );
        }
        push(format!("{at}.W_out"), vec![dm, d], rows_first(&mlp.w_out));
        push(
            format!("{at}.b_out"),
            vec![d],
            mlp.b_out.as_deref().map_or_else(|| vec![0.0; d], vector),
        );
    }
    norm(&mut push, "ln_final", &model.ln_final);
    let v = model.vocab();
    push("unembed.W_U".into(), vec![d, v], rows_first(&model.w_u));
    push(
        "unembed.b_U".into(),
        vec![v],
        model.b_u.as_deref().map_or_else(|| vec![0.0; v], vector),
    );
    Ok(out)
}

/// TransformerLens' `act_fn` for an activation (by its variant name, so that activations added
/// later map by the same rule: a tanh GELU is `gelu_new`).
fn act_fn(name: &str) -> String {
    let lower = name.to_lowercase();
    match lower.as_str() {
        "gelu" => "gelu".into(),
        "relu" => "relu".into(),
        s if s.contains("tanh") => "gelu_new".into(),
        s => s.into(),
    }
}

/// The `config.json` written beside the tensors.
pub fn config<T: Real>(processed: &Processed<T>, dtype: Dtype) -> Value {
    let m = &processed.model;
    let first = m.blocks.first();
    let folded = m
        .norms()
        .iter()
        .all(|(_, n)| n.gamma.is_none() && n.beta.is_none());
    let kind = m.ln_final.kind;
    let normalization_type = match (kind, folded) {
        (NormKind::LayerNorm, true) => "LNPre",
        (NormKind::LayerNorm, false) => "LN",
        (NormKind::RmsNorm, true) => "RMSPre",
        (NormKind::RmsNorm, false) => "RMS",
    };
    let rope = first.and_then(|b| b.attn.rope);
    let processing: serde_json::Map<String, Value> = processed
        .steps
        .iter()
        .map(|s| (s.name.to_string(), Value::Bool(s.refused.is_none())))
        .collect();
    let refused: serde_json::Map<String, Value> = processed
        .steps
        .iter()
        .filter_map(|s| s.refused.as_ref().map(|r| (s.name.to_string(), json!(r))))
        .collect();
    let d_head = first
        .and_then(|b| b.attn.heads.first())
        .map_or(0, |h| h.w_q.ncols());
    // Only fields of TransformerLens' HookedTransformerConfig, so that
    // `HookedTransformerConfig(**config["transformer_lens"])` accepts them; what this crate
    // adds sits beside it.
    let mut tl = json!({
        "n_layers": m.blocks.len(),
        "d_model": m.d_model(),
        "n_heads": first.map_or(0, |b| b.attn.heads.len()),
        "d_head": d_head,
        "d_mlp": first.map_or(0, |b| b.mlp.w_in.ncols()),
        "d_vocab": m.w_e.nrows(),
        "d_vocab_out": m.vocab(),
        "act_fn": first.map(|b| act_fn(&format!("{:?}", b.mlp.act))),
        "normalization_type": normalization_type,
        "eps": m.ln_final.eps.widen(),
        "positional_embedding_type": if rope.is_some() { "rotary" } else { "standard" },
    });
    if first.is_some_and(|b| b.mlp.w_gate.is_some()) {
        tl["gated_mlp"] = json!(true);
    }
    if let Some(n_ctx) = m.w_pos.as_ref().map(|p| p.nrows()) {
        tl["n_ctx"] = json!(n_ctx);
    }
    if let Some(r) = rope {
        tl["rotary_base"] = json!(r.base);
        tl["rotary_dim"] = json!(d_head);
        tl["rotary_adjacent_pairs"] = json!(r.style == RopeStyle::Interleaved);
    }
    json!({
        "transformer_lens": tl,
        "dtype": match dtype { Dtype::F32 => "float32", Dtype::F64 => "float64" },
        "processing": processing,
        "refused": refused,
        "written_by": concat!("transformer-laws ", env!("CARGO_PKG_VERSION")),
    })
}

/// Process `model` ([`process_all`]) and write `dir/model.safetensors` and `dir/config.json`
/// (the directory is created if missing). Returns what was done.
///
/// # Errors
/// [`ExportError`] naming the file or the shape that failed; nothing is left half-written
/// under the final names (each file is written to a temporary name and renamed).
///
/// # Examples
/// ```
/// use transformer_laws::strategies::tiny_model;
/// use transformer_laws::transformer::export::{write_processed, Dtype};
/// let dir = std::env::temp_dir().join(format!("tl-export-doc-{}", std::process::id()));
/// let p = write_processed(&tiny_model::<f64>(), &dir, Dtype::F32).unwrap();
/// assert!(dir.join("model.safetensors").exists() && dir.join("config.json").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_processed<T: Real>(
    model: &Model<T>,
    dir: &Path,
    dtype: Dtype,
) -> Result<Processed<T>, ExportError> {
    let processed = process_all(model);
    let ts = tensors(&processed.model)?;
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ExportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = ts
        .into_iter()
        .map(|t| {
            let data = match dtype {
                Dtype::F32 => t
                    .values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect(),
                Dtype::F64 => t.values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
            };
            (t.name, t.shape, data)
        })
        .collect();
    let st_dtype = match dtype {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F64 => safetensors::Dtype::F64,
    };
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(st_dtype, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| ExportError::Safetensors(format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = Some(
        [("format".to_string(), "pt".to_string())]
            .into_iter()
            .collect(),
    );
    let st = dir.join("model.safetensors");
    let tmp = dir.join(".model.safetensors.partial");
    safetensors::tensor::serialize_to_file(views, metadata, &tmp)
        .map_err(|e| ExportError::Safetensors(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &st).map_err(io(&st))?;
    let cfg = dir.join("config.json");
    let tmp = dir.join(".config.json.partial");
    let text =
        serde_json::to_string_pretty(&config(&processed, dtype)).expect("a JSON value serializes");
    std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
    std::fs::rename(&tmp, &cfg).map_err(io(&cfg))?;
    Ok(processed)
}
