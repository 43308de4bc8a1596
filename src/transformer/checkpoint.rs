//! Load Hugging Face checkpoints into a [`Model`]: `safetensors` files, memory-mapped, read one
//! tensor at a time.
//!
//! # What loads
//!
//! | `architectures` in `config.json` | tensors | maps to |
//! |---|---|---|
//! | `GPT2LMHeadModel` (`model_type` `gpt2`) | `[transformer.]wte`, `wpe`, `h.N.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}`, `ln_f`; `lm_head` tied to `wte` | LayerNorm, learned positions, fused QKV (Conv1D, in×out) split by heads, GELU per `activation_function` (`gelu_new` = tanh form), biases |
//! | `LlamaForCausalLM` (`model_type` `llama`) | `model.embed_tokens`, `model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm, mlp.{gate,up,down}_proj}`, `model.norm`, `lm_head` (or tied when `tie_word_embeddings`) | RMSNorm, rotary embedding in the rotate-half convention (`rope_theta`), grouped-query attention (`num_key_value_heads`), SwiGLU, no biases (unless `attention_bias`/`mlp_bias`) |
//!
//! Hugging Face's `Linear` stores `out × in`; the model's maps are `in × out` (`x·W`), so Llama's
//! weights are transposed on the way in; GPT-2's `Conv1D` already stores `in × out`.
//!
//! Weights may be stored as f32, f16, bf16 or f64; every f32, f16 and bf16 value is exact in f32
//! and f64, so a checkpoint loads **exactly** (`rho = 0` for [`Model::run`]) — except f64 weights
//! loaded as f32, which are rounded (the loader says so in [`Info::rounded`]).
//!
//! # Paths
//!
//! A directory with `config.json` and `model.safetensors` (or the shards listed in
//! `model.safetensors.index.json`); a `.safetensors` file, or a `model.safetensors.index.json`,
//! with the config given explicitly (or a `config.json` beside it).
//!
//! # Errors
//!
//! Never a panic: every problem is a [`CheckpointError`] naming the file, the tensor or the
//! config field — a truncated or corrupt file, a missing or misshapen tensor, a config that
//! disagrees with the tensors (also a tensor the config has no place for, such as a block beyond
//! `n_layer`), an unknown architecture (the supported ones listed), an unsupported dtype.

use super::{Activation, Attention, Block, Head, Mlp, Model, Norm, NormKind, Rope};
use crate::kernels::scalar::Real;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};
use memmap2::Mmap;
use nalgebra::DMatrix;
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The architectures [`load`] reads (`architectures[0]` of `config.json`).
pub const SUPPORTED: [&str; 2] = ["GPT2LMHeadModel", "LlamaForCausalLM"];

/// Why a checkpoint could not be loaded. Every message names the file, tensor or field.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// No weights or no config where they were looked for.
    #[error("{0}")]
    NotFound(String),
    /// A safetensors file that does not parse: truncated, corrupt header, bad offsets.
    #[error("{path}: not a valid safetensors file: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        message: String,
    },
    /// `config.json` (or the shard index) is not valid JSON, or a field is missing or mistyped.
    #[error("{path}: field `{field}`: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// An architecture this loader does not read.
    #[error(
        "unknown architecture `{0}`; supported: {supported}",
        supported = SUPPORTED.join(", ")
    )]
    UnknownArchitecture(String),
    /// A config value the loader does not implement (e.g. a rope scaling, another activation).
    #[error("field `{field}` = {value}: not supported ({reason})")]
    Unsupported {
        /// The field.
        field: String,
        /// Its value.
        value: String,
        /// What is supported instead.
        reason: String,
    },
    /// A tensor the architecture needs is absent.
    #[error("tensor `{0}` is missing from the checkpoint")]
    MissingTensor(String),
    /// A tensor whose shape disagrees with the config.
    #[error("tensor `{name}` has shape {got:?}, but the config ({fields}) implies {expected:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// Its shape in the file.
        got: Vec<usize>,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The config fields the expected shape comes from.
        fields: String,
    },
    /// A tensor the config has no place for (a block beyond the layer count, …).
    #[error("tensor `{name}` has no place in a {arch} with this config ({fields})")]
    Unexpected {
        /// The tensor.
        name: String,
        /// The architecture.
        arch: String,
        /// The config fields that fix the layout.
        fields: String,
    },
    /// A tensor stored in a type the loader does not convert.
    #[error("tensor `{name}` has dtype {dtype}; supported: F32, F16, BF16, F64")]
    Dtype {
        /// The tensor.
        name: String,
        /// Its dtype.
        dtype: String,
    },
}

/// What the loader learned besides the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    /// `GPT2LMHeadModel` or `LlamaForCausalLM`.
    pub architecture: String,
    /// Input vocabulary: token ids are `0..vocab`.
    pub vocab: usize,
    /// The longest sequence the model takes (`n_positions`, `max_position_embeddings`).
    pub n_ctx: usize,
    /// The dtypes found, e.g. `["F32"]`.
    pub dtypes: Vec<String>,
    /// Whether any weight was rounded on the way in (f64 weights loaded as f32).
    pub rounded: bool,
    /// Bytes of tensor data read.
    pub bytes: u64,
}

/// A loaded checkpoint.
#[derive(Clone, Debug)]
pub struct Checkpoint<T: nalgebra::Scalar> {
    /// The model.
    pub model: Model<T>,
    /// Architecture, vocabulary, context length, dtypes.
    pub info: Info,
}

impl<T: nalgebra::Scalar> Checkpoint<T> {
    /// Check a token sequence against the vocabulary and the context length; the error is one
    /// line naming the offending token or the length.
    pub fn check_tokens(&self, tokens: &[usize]) -> Result<(), String> {
        if let Some((p, &t)) = tokens
            .iter()
            .enumerate()
            .find(|(_, t)| **t >= self.info.vocab)
        {
            return Err(format!(
                "token {t} at position {p} is out of range: the vocabulary has {} tokens (ids 0 to {})",
                self.info.vocab,
                self.info.vocab - 1
            ));
        }
        if tokens.len() > self.info.n_ctx {
            return Err(format!(
                "{} tokens is longer than the model's {} positions",
                tokens.len(),
                self.info.n_ctx
            ));
        }
        Ok(())
    }
}

/// Load a checkpoint's model in `T` (f32 or f64). See the [module docs](self) for paths and
/// architectures.
pub fn load<T: Real>(path: &Path, config: Option<&Path>) -> Result<Model<T>, CheckpointError> {
    load_checkpoint(path, config, &mut |_, _| {}).map(|c| c.model)
}

/// [`load`], with the metadata, reporting progress as `(bytes read, total bytes)` after each
/// tensor (for a progress bar).
pub fn load_checkpoint<T: Real>(
    path: &Path,
    config: Option<&Path>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Checkpoint<T>, CheckpointError> {
    let (config_path, files) = locate(path, config)?;
    let cfg = Config::read(&config_path)?;
    let mmaps = files
        .iter()
        .map(|f| map(f))
        .collect::<Result<Vec<_>, _>>()?;
    let parsed = mmaps
        .iter()
        .zip(&files)
        .map(|(m, f)| {
            SafeTensors::deserialize(m).map_err(|e| CheckpointError::Corrupt {
                path: f.clone(),
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = Store::new(&parsed, &mmaps, &files, progress)?;
    let arch = cfg.architecture()?;
    let model = match arch.as_str() {
        "GPT2LMHeadModel" => gpt2(&cfg, &mut store)?,
        "LlamaForCausalLM" => llama(&cfg, &mut store)?,
        other => return Err(CheckpointError::UnknownArchitecture(other.to_string())),
    };
    store.no_leftovers(&arch, &cfg)?;
    let (vocab, n_ctx) = match arch.as_str() {
        "GPT2LMHeadModel" => (
            cfg.usize("vocab_size")?,
            cfg.usize_or(&["n_positions", "n_ctx"])?,
        ),
        _ => (
            cfg.usize("vocab_size")?,
            cfg.usize("max_position_embeddings")?,
        ),
    };
    Ok(Checkpoint {
        model,
        info: Info {
            architecture: arch,
            vocab,
            n_ctx,
            dtypes: store.dtypes.iter().cloned().collect(),
            rounded: store.rounded,
            bytes: store.done,
        },
    })
}

/// The config file and the safetensors files of a checkpoint path.
fn locate(path: &Path, config: Option<&Path>) -> Result<(PathBuf, Vec<PathBuf>), CheckpointError> {
    let (dir, weights) = if path.is_dir() {
        let single = path.join("model.safetensors");
        let index = path.join("model.safetensors.index.json");
        if single.is_file() {
            (path.to_path_buf(), single)
        } else if index.is_file() {
            (path.to_path_buf(), index)
        } else {
            return Err(CheckpointError::NotFound(format!(
                "{}: no model.safetensors or model.safetensors.index.json in this directory",
                path.display()
            )));
        }
    } else if path.is_file() {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (dir, path.to_path_buf())
    } else {
        return Err(CheckpointError::NotFound(format!(
            "{}: no such file or directory",
            path.display()
        )));
    };
    let config_path = match config {
        Some(c) => c.to_path_buf(),
        None => {
            let c = dir.join("config.json");
            if !c.is_file() {
                return Err(CheckpointError::NotFound(format!(
                    "{}: no config.json beside the weights; give one with --config",
                    c.display()
                )));
            }
            c
        }
    };
    let files = if weights.to_string_lossy().ends_with(".index.json") {
        let index = read_json(&weights)?;
        let map = index
            .get("weight_map")
            .and_then(Value::as_object)
            .ok_or_else(|| CheckpointError::Config {
                path: weights.clone(),
                field: "weight_map".into(),
                message: "missing or not an object".into(),
            })?;
        let mut shards = BTreeSet::new();
        for (name, file) in map {
            let file = file.as_str().ok_or_else(|| CheckpointError::Config {
                path: weights.clone(),
                field: format!("weight_map.{name}"),
                message: "not a file name".into(),
            })?;
            shards.insert(dir.join(file));
        }
        shards.into_iter().collect()
    } else {
        vec![weights]
    };
    Ok((config_path, files))
}

fn read_json(path: &Path) -> Result<Value, CheckpointError> {
    let text = std::fs::read_to_string(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| CheckpointError::Config {
        path: path.to_path_buf(),
        field: "(file)".into(),
        message: format!("not valid JSON: {e}"),
    })
}

fn map(path: &Path) -> Result<Mmap, CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    // SAFETY: the map is read-only and private; it is only unsound if another process truncates
    // or rewrites the file while it is loaded, which a checkpoint on disk does not expect.
    unsafe { Mmap::map(&file) }.map_err(io)
}

/// `config.json`, with typed field access whose errors name the field.
struct Config {
    path: PathBuf,
    json: Value,
}

impl Config {
    fn read(path: &Path) -> Result<Config, CheckpointError> {
        let json = read_json(path)?;
        if !json.is_object() {
            return Err(CheckpointError::Config {
                path: path.to_path_buf(),
                field: "(file)".into(),
                message: "not a JSON object".into(),
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            json,
        })
    }

    fn err(&self, field: &str, message: &str) -> CheckpointError {
        CheckpointError::Config {
            path: self.path.clone(),
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    fn get(&self, field: &str) -> Option<&Value> {
        self.json.get(field).filter(|v| !v.is_null())
    }

    fn usize(&self, field: &str) -> Result<usize, CheckpointError> {
        match self.get(field) {
            None => Err(self.err(field, "missing")),
            Some(v) => v
                .as_u64()
                .filter(|&n| n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| self.err(field, &format!("{v} is not a positive integer"))),
        }
    }

    /// The first of several alternative names that is present.
    fn usize_or(&self, fields: &[&str]) -> Result<usize, CheckpointError> {
        match fields.iter().find(|f| self.get(f).is_some()) {
            Some(f) => self.usize(f),
            None => Err(self.err(&fields.join("` or `"), "missing")),
        }
    }

    fn opt_usize(&self, field: &str) -> Result<Option<usize>, CheckpointError> {
        self.get(field).map(|_| self.usize(field)).transpose()
    }

    fn f64(&self, field: &str, default: Option<f64>) -> Result<f64, CheckpointError> {
        match (self.get(field), default) {
            (None, Some(d)) => Ok(d),
            (None, None) => Err(self.err(field, "missing")),
            (Some(v), _) => v
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| self.err(field, &format!("{v} is not a non-negative number"))),
        }
    }

    fn bool(&self, field: &str, default: bool) -> Result<bool, CheckpointError> {
        match self.get(field) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.err(field, &format!("{v} is not true or false"))),
        }
    }

    fn str(&self, field: &str, default: &str) -> Result<String, CheckpointError> {
        match self.get(field) {
            None => Ok(default.to_string()),
            Some(v) => v
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| self.err(field, &format!("{v} is not a string"))),
        }
    }

    /// `architectures[0]`, or the one `model_type` names.
    fn architecture(&self) -> Result<String, CheckpointError> {
        if let Some(a) = self.get("architectures") {
            let first = a
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .ok_or_else(|| self.err("architectures", "not a list of names"))?;
            return Ok(first.to_string());
        }
        match self.str("model_type", "")?.as_str() {
            "gpt2" => Ok("GPT2LMHeadModel".into()),
            "llama" => Ok("LlamaForCausalLM".into()),
            "" => Err(self.err("architectures", "missing (and no `model_type`)")),
            other => Err(CheckpointError::UnknownArchitecture(format!(
                "model_type {other}"
            ))),
        }
    }
}

/// Elements decoded per step: a tile this size (and its source bytes) stays in the L2 cache.
const CHUNK: usize = 1 << 14;

/// Decode little-endian `f32`, `f16` or `bf16` bytes into `out` (as many elements as `out`
/// holds). Each conversion is exact; the loops are branch-free per element so that they
/// vectorize (`half`'s slice conversions use F16C where the CPU has it).
fn decode_f32(dtype: Dtype, bytes: &[u8], out: &mut [f32], halves: &mut Vec<u16>) {
    match dtype {
        Dtype::F32 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        _ => {
            halves.clear();
            halves.extend(
                bytes
                    .chunks_exact(2)
                    .take(out.len())
                    .map(|c| u16::from_le_bytes([c[0], c[1]])),
            );
            let bits: &[u16] = halves;
            if dtype == Dtype::F16 {
                bits.reinterpret_cast::<half::f16>()
                    .convert_to_f32_slice(out);
            } else {
                bits.reinterpret_cast::<half::bf16>()
                    .convert_to_f32_slice(out);
            }
        }
    }
}

/// Decode little-endian `f64` bytes into `out`.
fn decode_f64(bytes: &[u8], out: &mut [f64]) {
    for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        *o = f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    }
}

/// A tensor's bytes decoded into `T`, tile by tile, straight into the destination.
///
/// `rows_cols = None` keeps the file's (row-major) order. `Some((r, c))` transposes an `r × c`
/// row-major tensor into column-major order (`out[j·r + i] = t[i][j]`): the layout of an
/// `r × c` [`DMatrix`]. A tile is a band of whole rows (at most [`CHUNK`] elements), written
/// into the destination in strips of [`STRIP`] columns, so each destination column receives a
/// contiguous run per band.
///
/// `consumed` is called with the source bytes already decoded, every [`RELEASE`] bytes and at
/// the end (to let the kernel drop those pages of the map).
fn decode_into<T: Real>(
    dtype: Dtype,
    data: &[u8],
    out: &mut [T],
    rows_cols: Option<(usize, usize)>,
    consumed: &mut dyn FnMut(&[u8]),
) {
    let mut tile = Tile::new(dtype);
    let width = dtype.bitsize() / 8;
    let mut released = 0;
    let mut decoded = |upto: usize, last: bool| {
        if upto * width - released >= RELEASE || (last && upto * width > released) {
            consumed(&data[released..upto * width]);
            released = upto * width;
        }
    };
    match rows_cols {
        None => {
            for (c, dst) in out.chunks_mut(CHUNK).enumerate() {
                tile.fill(data, c * CHUNK, dst.len());
                for (k, o) in dst.iter_mut().enumerate() {
                    *o = tile.get(k);
                }
                decoded(c * CHUNK + dst.len(), false);
            }
        }
        Some((r, c)) => {
            let band = (CHUNK / c.max(1)).max(1);
            for i0 in (0..r).step_by(band) {
                let h = band.min(r - i0);
                tile.fill(data, i0 * c, h * c);
                for j0 in (0..c).step_by(STRIP) {
                    for i in 0..h {
                        for j in j0..(j0 + STRIP).min(c) {
                            out[j * r + i0 + i] = tile.get(i * c + j);
                        }
                    }
                }
                decoded((i0 + h) * c, false);
            }
        }
    }
    decoded(out.len(), true);
}

/// Bytes of a tensor decoded between two releases of their pages (see [`release`]).
const RELEASE: usize = 1 << 22;

/// Decoded elements of one tile: in `f32` for f32, f16 and bf16 tensors, in `f64` for f64.
struct Tile {
    dtype: Dtype,
    narrow: Vec<f32>,
    wide: Vec<f64>,
    halves: Vec<u16>,
}

impl Tile {
    fn new(dtype: Dtype) -> Tile {
        Tile {
            dtype,
            narrow: Vec::new(),
            wide: Vec::new(),
            halves: Vec::new(),
        }
    }

    /// Decode elements `start..start + n` of the tensor `data`.
    fn fill(&mut self, data: &[u8], start: usize, n: usize) {
        let width = self.dtype.bitsize() / 8;
        let bytes = &data[start * width..(start + n) * width];
        if self.dtype == Dtype::F64 {
            self.wide.resize(n, 0.0);
            decode_f64(bytes, &mut self.wide);
        } else {
            self.narrow.resize(n, 0.0);
            decode_f32(self.dtype, bytes, &mut self.narrow, &mut self.halves);
        }
    }

    /// Element `k` of the tile in `T`. `T::narrow(f64::from(x))` is the identity for `f32`
    /// (LLVM folds the exact round trip) and exact for `f64`; f64 elements round to `T`.
    #[inline]
    fn get<T: Real>(&self, k: usize) -> T {
        if self.dtype == Dtype::F64 {
            T::narrow(self.wide[k])
        } else {
            T::narrow(f64::from(self.narrow[k]))
        }
    }
}

/// Columns written together by [`decode_into`]'s transpose.
const STRIP: usize = 16;

/// The tensors of every shard, taken by name; tracks what was used, the progress, the dtypes.
struct Store<'a, 'p> {
    tensors: BTreeMap<String, (usize, safetensors::tensor::TensorView<'a>)>,
    mmaps: &'a [Mmap],
    files: &'a [PathBuf],
    used: BTreeSet<String>,
    dtypes: BTreeSet<String>,
    rounded: bool,
    done: u64,
    total: u64,
    progress: &'p mut dyn FnMut(u64, u64),
}

/// Tensors a checkpoint may carry that are not weights (GPT-2's causal-mask buffers, a saved
/// rotary frequency table).
fn ignorable(name: &str) -> bool {
    name.ends_with(".attn.bias")
        || name.ends_with(".attn.masked_bias")
        || name.ends_with("rotary_emb.inv_freq")
}

impl<'a, 'p> Store<'a, 'p> {
    fn new(
        parsed: &[SafeTensors<'a>],
        mmaps: &'a [Mmap],
        files: &'a [PathBuf],
        progress: &'p mut dyn FnMut(u64, u64),
    ) -> Result<Store<'a, 'p>, CheckpointError> {
        let mut tensors = BTreeMap::new();
        let mut total = 0u64;
        for (f, st) in parsed.iter().enumerate() {
            for (name, view) in st.tensors() {
                total += view.data().len() as u64;
                tensors.insert(name, (f, view));
            }
        }
        Ok(Store {
            tensors,
            mmaps,
            files,
            used: BTreeSet::new(),
            dtypes: BTreeSet::new(),
            rounded: false,
            done: 0,
            total,
            progress,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The tensor `name`, checked to have `shape` (whose config fields are `fields`), decoded
    /// into `T`: in the file's row-major order, or (`transpose`, a 2-D tensor) in column-major
    /// order — the layout of a [`DMatrix`] of the stored shape.
    fn take<T: Real>(
        &mut self,
        name: &str,
        shape: &[usize],
        fields: &str,
        transpose: bool,
    ) -> Result<Vec<T>, CheckpointError> {
        let (f, view) = self
            .tensors
            .get(name)
            .ok_or_else(|| CheckpointError::MissingTensor(name.to_string()))?;
        if view.shape() != shape {
            return Err(CheckpointError::Shape {
                name: name.to_string(),
                got: view.shape().to_vec(),
                expected: shape.to_vec(),
                fields: fields.to_string(),
            });
        }
        let dtype = view.dtype();
        match dtype {
            Dtype::F32 | Dtype::F16 | Dtype::BF16 => {}
            Dtype::F64 => self.rounded |= T::MANTISSA_DIGITS < 53,
            other => {
                return Err(CheckpointError::Dtype {
                    name: name.to_string(),
                    dtype: format!("{other:?}"),
                });
            }
        }
        let n: usize = shape.iter().product();
        let data = view.data();
        if data.len() != n * (dtype.bitsize() / 8) {
            return Err(CheckpointError::Corrupt {
                path: self.files[*f].clone(),
                message: format!(
                    "tensor `{name}` has {} bytes, not the {n} elements of its shape",
                    data.len()
                ),
            });
        }
        self.dtypes.insert(format!("{dtype:?}"));
        let mut out = vec![T::zero(); n];
        let layout = match shape {
            [r, c] if transpose => Some((*r, *c)),
            _ => None,
        };
        let mmap = &self.mmaps[*f];
        decode_into(dtype, data, &mut out, layout, &mut |bytes| {
            release(mmap, bytes)
        });
        // A tensor read twice (GPT-2's tied `wte`) counts once.
        if self.used.insert(name.to_string()) {
            self.done += data.len() as u64;
        }
        (self.progress)(self.done, self.total);
        Ok(out)
    }

    /// A `rows × cols` matrix, stored in the file as `stored` says.
    fn matrix<T: Real>(
        &mut self,
        name: &str,
        (rows, cols): (usize, usize),
        fields: &str,
        stored: Stored,
    ) -> Result<DMatrix<T>, CheckpointError> {
        let data = match stored {
            Stored::AsIs => self.take(name, &[rows, cols], fields, true)?,
            Stored::Transposed => self.take(name, &[cols, rows], fields, false)?,
        };
        Ok(DMatrix::from_vec(rows, cols, data))
    }

    fn vector<T: Real>(
        &mut self,
        name: &str,
        len: usize,
        fields: &str,
    ) -> Result<Vec<T>, CheckpointError> {
        self.take(name, &[len], fields, false)
    }

    /// Every tensor was used (or is a known non-weight buffer).
    fn no_leftovers(&self, arch: &str, cfg: &Config) -> Result<(), CheckpointError> {
        let fields = match arch {
            "GPT2LMHeadModel" => "n_layer, tie_word_embeddings",
            _ => "num_hidden_layers, tie_word_embeddings, attention_bias, mlp_bias",
        };
        let _ = cfg;
        match self
            .tensors
            .keys()
            .find(|n| !self.used.contains(*n) && !ignorable(n))
        {
            Some(name) => Err(CheckpointError::Unexpected {
                name: name.clone(),
                arch: arch.to_string(),
                fields: fields.to_string(),
            }),
            None => Ok(()),
        }
    }
}

/// Let the kernel drop the pages of bytes already converted, so that resident memory stays
/// near the size of the model rather than model + file.
fn release(mmap: &Mmap, data: &[u8]) {
    #[cfg(unix)]
    {
        let start = data.as_ptr() as usize - mmap.as_ptr() as usize;
        // SAFETY: a private, read-only file mapping: dropped pages are read again from the file
        // if touched, so no data the program sees changes.
        let _ = unsafe {
            mmap.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, data.len())
        };
    }
    #[cfg(not(unix))]
    let _ = (mmap, data);
}

fn norm<T: Real>(kind: NormKind, eps: f64, gamma: Vec<T>, beta: Option<Vec<T>>) -> Norm<T> {
    Norm {
        kind,
        eps: T::narrow(eps),
        gamma: Some(gamma),
        beta,
    }
}

/// One head cut from the layer's projections: for each of query, key and value the weight
/// matrix, its bias and the first of the head's `dh` columns; the output projection and the
/// first of the head's `dh` rows.
fn head<T: Real>(
    [(wq, bq, q), (wk, bk, k), (wv, bv, v)]: [(&DMatrix<T>, &[T], usize); 3],
    (wo, o): (&DMatrix<T>, usize),
    dh: usize,
) -> Head<T> {
    Head {
        w_q: wq.columns(q, dh).into_owned(),
        b_q: bq[q..q + dh].to_vec(),
        w_k: wk.columns(k, dh).into_owned(),
        b_k: bk[k..k + dh].to_vec(),
        w_v: wv.columns(v, dh).into_owned(),
        b_v: bv[v..v + dh].to_vec(),
        w_o: wo.rows(o, dh).into_owned(),
    }
}

fn gpt2<T: Real>(cfg: &Config, s: &mut Store) -> Result<Model<T>, CheckpointError> {
    let d = cfg.usize_or(&["n_embd", "hidden_size"])?;
    let layers = cfg.usize_or(&["n_layer", "num_hidden_layers"])?;
    let heads = cfg.usize_or(&["n_head", "num_attention_heads"])?;
    let vocab = cfg.usize("vocab_size")?;
    let n_pos = cfg.usize_or(&["n_positions", "n_ctx"])?;
    let d_mlp = cfg.opt_usize("n_inner")?.unwrap_or(4 * d);
    let eps = cfg.f64("layer_norm_epsilon", Some(1e-5))?;
    if !d.is_multiple_of(heads) {
        return Err(cfg.err("n_head", &format!("{heads} does not divide n_embd = {d}")));
    }
    let dh = d / heads;
    let act = match cfg.str("activation_function", "gelu_new")?.as_str() {
        "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
        "gelu" => Activation::Gelu,
        "relu" => Activation::Relu,
        "silu" | "swish" => Activation::Silu,
        other => {
            return Err(CheckpointError::Unsupported {
                field: "activation_function".into(),
                value: other.into(),
                reason: "supported: gelu_new, gelu_pytorch_tanh, gelu, relu, silu".into(),
            });
        }
    };
    if !cfg.bool("scale_attn_weights", true)? {
        return Err(CheckpointError::Unsupported {
            field: "scale_attn_weights".into(),
            value: "false".into(),
            reason: "attention scores are always divided by √d_head".into(),
        });
    }
    if cfg.bool("scale_attn_by_inverse_layer_idx", false)? {
        return Err(CheckpointError::Unsupported {
            field: "scale_attn_by_inverse_layer_idx".into(),
            value: "true".into(),
            reason: "scores are divided by √d_head only".into(),
        });
    }
    let p = if s.has("transformer.wte.weight") {
        "transformer."
    } else {
        ""
    };
    let dims = "vocab_size, n_embd";
    let w_e = s.matrix::<T>(&format!("{p}wte.weight"), (vocab, d), dims, Stored::AsIs)?;
    let w_pos = s.matrix::<T>(
        &format!("{p}wpe.weight"),
        (n_pos, d),
        "n_positions, n_embd",
        Stored::AsIs,
    )?;
    let mut blocks = Vec::with_capacity(layers);
    for l in 0..layers {
        let at = |n: &str| format!("{p}h.{l}.{n}");
        let ln = |s: &mut Store, n: &str| -> Result<Norm<T>, CheckpointError> {
            let g = s.vector(&at(&format!("{n}.weight")), d, "n_embd")?;
            let b = s.vector(&at(&format!("{n}.bias")), d, "n_embd")?;
            Ok(norm(NormKind::LayerNorm, eps, g, Some(b)))
        };
        let ln1 = ln(s, "ln_1")?;
        let qkv = s.matrix::<T>(
            &at("attn.c_attn.weight"),
            (d, 3 * d),
            "n_embd",
            Stored::AsIs,
        )?;
        let qkv_b = s.vector::<T>(&at("attn.c_attn.bias"), 3 * d, "n_embd")?;
        let proj = s.matrix::<T>(&at("attn.c_proj.weight"), (d, d), "n_embd", Stored::AsIs)?;
        let b_o = s.vector(&at("attn.c_proj.bias"), d, "n_embd")?;
        let heads_v = (0..heads)
            .map(|h| {
                // Conv1D's fused c_attn: the queries, keys and values side by side.
                let (q, k, v) = (h * dh, d + h * dh, 2 * d + h * dh);
                let fused = |at| (&qkv, &qkv_b[..], at);
                head([fused(q), fused(k), fused(v)], (&proj, q), dh)
            })
            .collect();
        let ln2 = ln(s, "ln_2")?;
        let mlp = Mlp {
            w_in: s.matrix(
                &at("mlp.c_fc.weight"),
                (d, d_mlp),
                "n_embd, n_inner",
                Stored::AsIs,
            )?,
            b_in: Some(s.vector(&at("mlp.c_fc.bias"), d_mlp, "n_inner")?),
            w_gate: None,
            b_gate: None,
            w_out: s.matrix(
                &at("mlp.c_proj.weight"),
                (d_mlp, d),
                "n_inner, n_embd",
                Stored::AsIs,
            )?,
            b_out: Some(s.vector(&at("mlp.c_proj.bias"), d, "n_embd")?),
            act,
        };
        blocks.push(Block {
            ln1,
            attn: Attention {
                heads: heads_v,
                b_o,
                rope: None,
                heads_per_kv: 1,
            },
            ln2,
            mlp,
        });
    }
    let g = s.vector(&format!("{p}ln_f.weight"), d, "n_embd")?;
    let b = s.vector(&format!("{p}ln_f.bias"), d, "n_embd")?;
    let ln_final = norm(NormKind::LayerNorm, eps, g, Some(b));
    let w_u = if cfg.bool("tie_word_embeddings", true)? {
        // W_U = W_Eᵀ: the file's row-major `vocab × d` is W_U's column-major order.
        s.matrix(
            &format!("{p}wte.weight"),
            (d, vocab),
            dims,
            Stored::Transposed,
        )?
    } else {
        s.matrix("lm_head.weight", (d, vocab), dims, Stored::Transposed)?
    };
    // A saved copy of the tied head is the same tensor as wte.
    if s.has("lm_head.weight") && cfg.bool("tie_word_embeddings", true)? {
        s.used.insert("lm_head.weight".into());
    }
    Ok(Model {
        w_e,
        w_pos: Some(w_pos),
        blocks,
        ln_final,
        w_u,
        b_u: None,
    })
}

fn llama<T: Real>(cfg: &Config, s: &mut Store) -> Result<Model<T>, CheckpointError> {
    let d = cfg.usize("hidden_size")?;
    let layers = cfg.usize("num_hidden_layers")?;
    let heads = cfg.usize("num_attention_heads")?;
    let kv = cfg.opt_usize("num_key_value_heads")?.unwrap_or(heads);
    let vocab = cfg.usize("vocab_size")?;
    let d_mlp = cfg.usize("intermediate_size")?;
    let eps = cfg.f64("rms_norm_eps", Some(1e-6))?;
    if !heads.is_multiple_of(kv) {
        return Err(cfg.err(
            "num_key_value_heads",
            &format!("{kv} does not divide num_attention_heads = {heads}"),
        ));
    }
    let dh = match cfg.opt_usize("head_dim")? {
        Some(h) => h,
        None if d.is_multiple_of(heads) => d / heads,
        None => {
            return Err(cfg.err(
                "num_attention_heads",
                &format!("{heads} does not divide hidden_size = {d} (and no head_dim)"),
            ));
        }
    };
    if !dh.is_multiple_of(2) {
        return Err(cfg.err(
            "head_dim",
            &format!("{dh} is odd: the rotary embedding needs pairs"),
        ));
    }
    let act = cfg.str("hidden_act", "silu")?;
    if act != "silu" {
        return Err(CheckpointError::Unsupported {
            field: "hidden_act".into(),
            value: act,
            reason: "Llama's gated MLP is read with SiLU only".into(),
        });
    }
    let theta = rope_theta(cfg)?;
    let (attn_bias, mlp_bias) = (
        cfg.bool("attention_bias", false)?,
        cfg.bool("mlp_bias", false)?,
    );
    let w_e = s.matrix::<T>(
        "model.embed_tokens.weight",
        (vocab, d),
        "vocab_size, hidden_size",
        Stored::AsIs,
    )?;
    let g = heads / kv;
    let mut blocks = Vec::with_capacity(layers);
    for l in 0..layers {
        let at = |n: &str| format!("model.layers.{l}.{n}");
        let f_q = "num_attention_heads, head_dim, hidden_size";
        let f_kv = "num_key_value_heads, head_dim, hidden_size";
        let ln1 = norm(
            NormKind::RmsNorm,
            eps,
            s.vector(&at("input_layernorm.weight"), d, "hidden_size")?,
            None,
        );
        // Hugging Face's `Linear` stores its weight as out × in: transposed.
        let mut linear =
            |name: &str, shape, fields| s.matrix::<T>(&at(name), shape, fields, Stored::Transposed);
        let wq = linear("self_attn.q_proj.weight", (d, heads * dh), f_q)?;
        let wk = linear("self_attn.k_proj.weight", (d, kv * dh), f_kv)?;
        let wv = linear("self_attn.v_proj.weight", (d, kv * dh), f_kv)?;
        let wo = linear("self_attn.o_proj.weight", (heads * dh, d), f_q)?;
        let bias =
            |s: &mut Store, n: &str, len: usize, f: &str| -> Result<Vec<T>, CheckpointError> {
                if attn_bias {
                    s.vector(&at(&format!("self_attn.{n}.bias")), len, f)
                } else {
                    Ok(vec![T::zero(); len])
                }
            };
        let bq = bias(s, "q_proj", heads * dh, f_q)?;
        let bk = bias(s, "k_proj", kv * dh, f_kv)?;
        let bv = bias(s, "v_proj", kv * dh, f_kv)?;
        let b_o = bias(s, "o_proj", d, "hidden_size")?;
        let heads_v = (0..heads)
            .map(|h| {
                // Query head h reads key/value head h / g (grouped-query attention).
                let (q, k) = (h * dh, (h / g) * dh);
                head([(&wq, &bq, q), (&wk, &bk, k), (&wv, &bv, k)], (&wo, q), dh)
            })
            .collect();
        let ln2 = norm(
            NormKind::RmsNorm,
            eps,
            s.vector(&at("post_attention_layernorm.weight"), d, "hidden_size")?,
            None,
        );
        let f_m = "hidden_size, intermediate_size";
        let mb = |s: &mut Store, n: &str, len: usize| -> Result<Option<Vec<T>>, CheckpointError> {
            if mlp_bias {
                s.vector(
                    &at(&format!("mlp.{n}.bias")),
                    len,
                    "intermediate_size, hidden_size",
                )
                .map(Some)
            } else {
                Ok(None)
            }
        };
        let mlp = Mlp {
            w_in: s.matrix(
                &at("mlp.up_proj.weight"),
                (d, d_mlp),
                f_m,
                Stored::Transposed,
            )?,
            b_in: mb(s, "up_proj", d_mlp)?,
            w_gate: Some(s.matrix(
                &at("mlp.gate_proj.weight"),
                (d, d_mlp),
                f_m,
                Stored::Transposed,
            )?),
            b_gate: mb(s, "gate_proj", d_mlp)?,
            w_out: s.matrix(
                &at("mlp.down_proj.weight"),
                (d_mlp, d),
                f_m,
                Stored::Transposed,
            )?,
            b_out: mb(s, "down_proj", d)?,
            act: Activation::Silu,
        };
        blocks.push(Block {
            ln1,
            attn: Attention {
                heads: heads_v,
                b_o,
                rope: Some(Rope::rotate_half(theta)),
                heads_per_kv: g,
            },
            ln2,
            mlp,
        });
    }
    let ln_final = norm(
        NormKind::RmsNorm,
        eps,
        s.vector("model.norm.weight", d, "hidden_size")?,
        None,
    );
    let tied = cfg.bool("tie_word_embeddings", false)?;
    let w_u = if tied {
        // A saved copy of the tied head is the same tensor as the embedding.
        if s.has("lm_head.weight") {
            s.used.insert("lm_head.weight".into());
        }
        s.matrix(
            "model.embed_tokens.weight",
            (d, vocab),
            "vocab_size, hidden_size",
            Stored::Transposed,
        )?
    } else if !s.has("lm_head.weight") {
        return Err(CheckpointError::MissingTensor(
            "lm_head.weight (tie_word_embeddings is false)".into(),
        ));
    } else {
        s.matrix(
            "lm_head.weight",
            (d, vocab),
            "vocab_size, hidden_size",
            Stored::Transposed,
        )?
    };
    Ok(Model {
        w_e,
        w_pos: None,
        blocks,
        ln_final,
        w_u,
        b_u: None,
    })
}

/// `rope_theta` (older configs) or `rope_parameters.rope_theta` (transformers ≥ 5); only the
/// default rope type (no scaling) is read.
fn rope_theta(cfg: &Config) -> Result<f64, CheckpointError> {
    let unsupported = |field: &str, v: &Value| CheckpointError::Unsupported {
        field: field.into(),
        value: v.to_string(),
        reason: "only the default rotary embedding (no scaling) is implemented".into(),
    };
    if let Some(v) = cfg.get("rope_scaling") {
        let kind = v.get("rope_type").or_else(|| v.get("type"));
        if kind.and_then(Value::as_str) != Some("default") {
            return Err(unsupported("rope_scaling", v));
        }
    }
    if let Some(p) = cfg.get("rope_parameters") {
        if let Some(kind) = p.get("rope_type")
            && kind.as_str() != Some("default")
        {
            return Err(unsupported("rope_parameters.rope_type", kind));
        }
        if let Some(t) = p.get("rope_theta") {
            return t
                .as_f64()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| cfg.err("rope_parameters.rope_theta", "not a positive number"));
        }
    }
    cfg.f64("rope_theta", Some(10_000.0))
}

/// How a matrix is laid out in a checkpoint file.
#[derive(Clone, Copy)]
enum Stored {
    /// `rows × cols`, row-major: transposed into nalgebra's column-major order.
    AsIs,
    /// `cols × rows` (Hugging Face's `Linear`): the file's row-major order is the matrix'
    /// column-major order, copied as is.
    Transposed,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Element `k` of a tensor read the plain way, one element at a time.
    fn element(dtype: Dtype, data: &[u8], k: usize) -> f64 {
        let w = dtype.bitsize() / 8;
        let b = &data[k * w..(k + 1) * w];
        match dtype {
            Dtype::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]).into(),
            Dtype::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f64(),
            Dtype::BF16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f64(),
            _ => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    /// The tiled decoder against the element-by-element reference, bit for bit, in both
    /// layouts, for every dtype, on shapes that cross the tile ([`CHUNK`]), the strip
    /// ([`STRIP`]) and the release ([`RELEASE`]) boundaries; the released ranges cover the
    /// tensor exactly once, in order.
    #[test]
    fn the_tiled_decoder_matches_the_plain_one() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut byte = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        };
        let shapes = [
            (1, 1),
            (3, 17),
            (130, 129),
            (1, CHUNK + 5),
            (CHUNK + 3, 2),
            (700, 1500),
        ];
        for dtype in [Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::F64] {
            for (r, c) in shapes {
                let n = r * c;
                let data: Vec<u8> = (0..n * dtype.bitsize() / 8).map(|_| byte()).collect();
                for transpose in [false, true] {
                    let mut got = vec![0f64; n];
                    let mut next = 0;
                    let mut consumed = |bytes: &[u8]| {
                        assert_eq!(bytes.as_ptr(), data[next..].as_ptr(), "released in order");
                        next += bytes.len();
                    };
                    decode_into(
                        dtype,
                        &data,
                        &mut got,
                        transpose.then_some((r, c)),
                        &mut consumed,
                    );
                    assert_eq!(next, data.len(), "every byte released once");
                    for i in 0..r {
                        for j in 0..c {
                            let want = element(dtype, &data, i * c + j);
                            let at = if transpose { j * r + i } else { i * c + j };
                            assert_eq!(
                                got[at].to_bits(),
                                want.to_bits(),
                                "{dtype:?} {r}×{c} transpose {transpose}: element ({i}, {j})"
                            );
                        }
                    }
                    // And into f32: the same values (f64 tensors rounded to nearest). A NaN
                    // stays a NaN; its payload bits are not compared, since a conversion
                    // between float widths may quiet a signaling NaN.
                    let mut narrow = vec![0f32; n];
                    decode_into(
                        dtype,
                        &data,
                        &mut narrow,
                        transpose.then_some((r, c)),
                        &mut |_| {},
                    );
                    for (k, (x, y)) in narrow.iter().zip(&got).enumerate() {
                        if y.is_nan() {
                            assert!(x.is_nan(), "{dtype:?} element {k}: NaN decoded as {x}");
                        } else {
                            assert_eq!(x.to_bits(), (*y as f32).to_bits(), "{dtype:?} element {k}");
                        }
                    }
                }
            }
        }
    }
}
