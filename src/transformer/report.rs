//! What `transformer-laws model report PATH --tokens …` says about one model on one token
//! sequence, computed here and rendered as text, Markdown or JSON
//! (`schema/model-report.schema.json`).
//!
//! 1. **Processing.** Each weight-processing transform of [`super::process`] applied to the
//!    model alone, and the whole pipeline [`super::export::process_all`] (what `model process`
//!    writes): the largest change of any log-probability on these tokens beside its bound, or
//!    the refusal with its reason. The bound of one transform is
//!    [`log_prob_change_bound`] of the two forward passes' bounds ([`Model::run`]: the original
//!    with `rho = 0`, the processed with `rho =` [`transform_rho`]). For the pipeline it is
//!    chained through the stages — every stage's exact function equals the previous stage's
//!    computed weights' exact function — so the pipeline's `delta` is
//!    `e₀ + Σₛ (eₛ(ρ) + eₛ(0))` over the intermediate stages plus the last stage's `e(ρ)`.
//! 2. **The thread's questions on the model's own vectors.** The norms of the unembedding's token
//!    vectors (columns of `W_U`); and at every position the input of the unembedding — the
//!    final norm's output, from which the logits are computed — with the token each of
//!    argmax-dot, nearest-Euclidean and nearest-cosine picks, and the rank of each pick under
//!    each of the three orders, decided exactly (scores in f64 with a rigorous error bound,
//!    re-compared in rationals where the bound does not separate them).
//! 3. **Unargmaxable tokens** ([`super::unargmaxable`]): tokens no input of the unembedding
//!    makes the unique top-1, each with a certificate checked exactly.
//!
//! Argmax-dot ranks the logits `x·wⱼ + bⱼ` (with the bias, when the model has one);
//! nearest-Euclidean and nearest-cosine compare `x` with the token vectors `wⱼ` alone.

use super::unargmaxable::{self, ScanOptions, Verdict};
use super::{Linear, Model, NormKind, transform_rho};
use crate::kernels::scalar::Real;
use crate::kernels::softmax::log_softmax;
use crate::kernels::tolerance::{log_prob_change_bound, score_error_bound};
use nalgebra::DMatrix;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use rayon::prelude::*;
use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt::Write;

/// The version of the JSON format, carried by every document as `schema_version` and pinned by
/// `schema/model-report.schema.json`.
pub const SCHEMA_VERSION: &str = "1.1.0";

/// Output formats of `model report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ModelFormat {
    /// Plain text.
    Text,
    /// Markdown.
    Markdown,
    /// JSON following `schema/model-report.schema.json`.
    Json,
}

/// A number that may be non-finite: JSON gets `"Infinity"`, `"-Infinity"` or `"NaN"` for
/// those (as `compute` writes them), a number otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            s.serialize_f64(x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if x > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:.3e}", self.0)
    }
}

/// Everything the report says.
#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// `"f32"` or `"f64"`: the type the model was run in.
    pub dtype: &'static str,
    /// The shape of the model.
    pub model: Shape,
    /// The input tokens.
    pub tokens: Vec<usize>,
    /// How the forward passes computed their linear maps, and the a-priori bound of one
    /// output entry.
    pub forward: ForwardPath,
    /// Section 1.
    pub processing: Vec<TransformRow>,
    /// Section 2: the token vectors' norms.
    pub token_norms: NormDistribution,
    /// Section 2: what "the residual" is below.
    pub residual: &'static str,
    /// Section 2: one entry per position.
    pub positions: Vec<Position>,
    /// Section 3, or `None` when not asked for.
    pub unargmaxable: Option<UnargmaxableSummary>,
}

/// Which forward pass the report ran ([`Linear`]).
#[derive(Clone, Debug, Serialize)]
pub struct ForwardPath {
    /// `"gemm"` (matrix products on exact f64 copies) or `"compensated"` (one compensated dot
    /// product per entry: the reference).
    pub linear: &'static str,
    /// The bound of one output entry of a linear map, in tolerance terms.
    pub entry_bound: &'static str,
}

impl ForwardPath {
    fn of<T: Real>(linear: Linear) -> ForwardPath {
        let f32 = T::MANTISSA_DIGITS == 24;
        let entry_bound = match (linear, f32) {
            (_, true) => {
                "(u + 2u_f64)·|s| + γ_n(f64)·Σ|terms| (exact products summed in f64, rounded once)"
            }
            (Linear::Gemm, false) => "γ_n(f64)·Σ|terms| (dgemm, any order)",
            (Linear::Compensated, false) => {
                "3u·|s| + γ_2n(f64)²·Σ|terms|, u = 2⁻⁵³ (compensated dot product)"
            }
        };
        ForwardPath {
            linear: linear.name(),
            entry_bound,
        }
    }
}

/// The model's shape.
#[derive(Clone, Debug, Serialize)]
pub struct Shape {
    /// Residual width.
    pub d_model: usize,
    /// Blocks.
    pub layers: usize,
    /// Rows of `W_E`.
    pub vocab_in: usize,
    /// Columns of `W_U`.
    pub vocab_out: usize,
    /// `"LayerNorm"` or `"RMSNorm"` (of the final norm).
    pub final_norm: &'static str,
    /// Whether the unembedding has a bias.
    pub unembed_bias: bool,
}

/// One transform (or the pipeline) on this model.
#[derive(Clone, Debug, Serialize)]
pub struct TransformRow {
    /// `fold_layernorm`, `center_writing_weights`, `center_unembed`, `fold_value_biases`, or
    /// `pipeline` (all that apply, in that order).
    pub transform: String,
    /// What it preserves.
    pub preserves: &'static str,
    /// `None` when applied; the refusal otherwise.
    pub refused: Option<String>,
    /// `max |log p_processed − log p_original|` over positions and tokens.
    pub max_abs_change: Option<Num>,
    /// The largest per-position bound (first order in the unit roundoff, as `Run::logit_error`).
    pub bound: Option<Num>,
    /// Every position's change within that position's bound.
    pub within_bound: Option<bool>,
}

/// A token and its vector's norm.
#[derive(Clone, Debug, Serialize)]
pub struct TokenNorm {
    /// Token id.
    pub token: usize,
    /// `‖w_token‖₂`.
    pub norm: Num,
}

/// The distribution of the unembedding's token-vector norms.
#[derive(Clone, Debug, Serialize)]
pub struct NormDistribution {
    /// Tokens.
    pub count: usize,
    /// Smallest.
    pub min: Num,
    /// Nearest-rank quartiles: the values at ranks ⌈k·V/4⌉ of the sorted norms.
    pub q1: Num,
    /// Median (nearest rank).
    pub median: Num,
    /// Third quartile (nearest rank).
    pub q3: Num,
    /// Largest.
    pub max: Num,
    /// Mean.
    pub mean: Num,
    /// The smallest norms, smallest first.
    pub smallest: Vec<TokenNorm>,
    /// The largest norms, largest first.
    pub largest: Vec<TokenNorm>,
}

/// A pick and its rank under each order (1 = best; ties with the pick not counted in the rank).
#[derive(Clone, Debug, Serialize)]
pub struct Pick {
    /// `argmax_dot`, `nearest_euclidean` or `nearest_cosine`.
    pub by: &'static str,
    /// The token picked (`None`: no pick, e.g. a zero residual for cosine).
    pub token: Option<usize>,
    /// Rank under the dot product (the logits).
    pub rank_dot: Option<usize>,
    /// Rank under the Euclidean distance.
    pub rank_euclidean: Option<usize>,
    /// Rank under the cosine (zero tokens not ranked).
    pub rank_cosine: Option<usize>,
}

/// One position.
#[derive(Clone, Debug, Serialize)]
pub struct Position {
    /// Position in the sequence.
    pub position: usize,
    /// The input token there.
    pub input_token: usize,
    /// `‖x‖₂` of the residual (the final norm's output).
    pub residual_norm: Num,
    /// The largest logit at this position (the argmax-dot pick's).
    pub top_logit: Num,
    /// A rigorous bound on `max |computed − exact|` over this position's logits (exact: real
    /// arithmetic on the stored weights), from [`Model::run_with_bound`]; `None` when not asked
    /// for ([`ReportOptions::bound`]).
    pub logit_bound: Option<Num>,
    /// Whether one token is best under all three orders: every pick ranks first under every
    /// order (tied tokens agree, whichever of them an index picked).
    pub all_agree: bool,
    /// Argmax-dot, nearest-Euclidean, nearest-cosine.
    pub picks: Vec<Pick>,
}

/// A weight of a convex combination.
#[derive(Clone, Debug, Serialize)]
pub struct Weight {
    /// The token.
    pub token: usize,
    /// The exact weight, `"p/q"`.
    pub exact: String,
    /// Its nearest f64.
    pub approx: Num,
}

/// An unargmaxable token and its certificate.
#[derive(Clone, Debug, Serialize)]
pub struct Unargmaxable {
    /// The token.
    pub token: usize,
    /// How it was found.
    pub method: &'static str,
    /// The convex combination of other tokens that reaches it and dominates its bias.
    pub combination: Vec<Weight>,
}

/// An undecided token.
#[derive(Clone, Debug, Serialize)]
pub struct Undecided {
    /// The token.
    pub token: usize,
    /// Why.
    pub reason: String,
}

/// Section 3.
#[derive(Clone, Debug, Serialize)]
pub struct UnargmaxableSummary {
    /// What was decided.
    pub question: &'static str,
    /// Tokens scanned.
    pub tokens: usize,
    /// Tokens with a verified witness.
    pub argmaxable: usize,
    /// Tokens with a verified convex combination.
    pub unargmaxable_count: usize,
    /// Tokens neither could be established for.
    pub undecided_count: usize,
    /// How many witnesses each method found.
    pub witnesses_by_method: Vec<(String, usize)>,
    /// The argmaxable token with the thinnest verified margin, and that margin.
    pub thinnest_margin: Option<(usize, Num)>,
    /// Every unargmaxable token with its certificate.
    pub unargmaxable: Vec<Unargmaxable>,
    /// Every undecided token with the reason.
    pub undecided: Vec<Undecided>,
}

/// What to compute.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Run the unargmaxable scan (the slow part: minutes for 50,257 × 768).
    pub unargmaxable: bool,
    /// The scan's limits.
    pub scan: ScanOptions,
    /// How many extreme tokens to list at each end of the norm distribution.
    pub extremes: usize,
    /// State a rigorous bound on each position's logit error ([`Model::run_with_bound`]: a
    /// forward pass in 128-bit interval arithmetic, a few hundred times a plain one).
    pub bound: bool,
    /// How the forward passes compute their linear maps (the fast path by default).
    pub linear: Linear,
}

impl Default for ReportOptions {
    fn default() -> ReportOptions {
        ReportOptions {
            unargmaxable: true,
            scan: ScanOptions::default(),
            extremes: 5,
            bound: true,
            linear: Linear::Gemm,
        }
    }
}

/// Why no report could be made: bad input, named.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The model's shapes do not fit together.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// A token id is not a row of `W_E`.
    #[error(
        "token {token} at position {position} is out of range (the vocabulary has {vocab} tokens)"
    )]
    TokenOutOfRange {
        /// The position.
        position: usize,
        /// The id.
        token: usize,
        /// Rows of `W_E`.
        vocab: usize,
    },
    /// More tokens than learned positions.
    #[error("{len} tokens are more than the model's {n_ctx} positions")]
    TooLong {
        /// Tokens given.
        len: usize,
        /// Rows of `W_pos`.
        n_ctx: usize,
    },
}

/// Compute the report of `model` on `tokens`. `progress` is called with the number of tokens
/// the unargmaxable scan just finished (see `unargmaxable::terminal_progress`, feature `cli`).
///
/// # Errors
/// [`ReportError`] for an invalid model, a token out of range or a sequence longer than the
/// positions — checked before anything is computed.
///
/// # Examples
/// ```
/// use transformer_laws::strategies::tiny_model;
/// use transformer_laws::transformer::report::{model_report, ReportOptions};
/// let r = model_report(&tiny_model::<f64>(), &[0, 3, 1], &ReportOptions::default(), &|_| {}).unwrap();
/// assert!(r.processing.iter().all(|t| t.within_bound != Some(false)));
/// assert_eq!(r.positions.len(), 3);
/// ```
pub fn model_report<T: Real>(
    model: &Model<T>,
    tokens: &[usize],
    options: &ReportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ModelReport, ReportError> {
    model.validate().map_err(ReportError::InvalidModel)?;
    let vocab = model.w_e.nrows();
    if let Some((position, &token)) = tokens.iter().enumerate().find(|(_, t)| **t >= vocab) {
        return Err(ReportError::TokenOutOfRange {
            position,
            token,
            vocab,
        });
    }
    if let Some(p) = &model.w_pos
        && tokens.len() > p.nrows()
    {
        return Err(ReportError::TooLong {
            len: tokens.len(),
            n_ctx: p.nrows(),
        });
    }
    let base = model.run_with(tokens, 0.0, options.linear);
    let processing = processing(model, tokens, &base, options.linear);
    let token_norms = norm_distribution(&model.w_u, options.extremes);
    let last = base.resid.last().expect("resid has blocks + 1 entries");
    let bound = options
        .bound
        .then(|| model.run_with_bound_using(tokens, options.linear).bound);
    let positions = (0..tokens.len())
        .into_par_iter()
        .map(|p| {
            let row: Vec<T> = last.row(p).iter().copied().collect();
            let x = model.ln_final.apply(&row);
            let top = base
                .logits
                .row(p)
                .iter()
                .fold(f64::NEG_INFINITY, |m, v| m.max(v.widen()));
            let mut pos = position(model, p, tokens[p], &x);
            pos.top_logit = Num(top);
            pos.logit_bound = bound.as_ref().map(|b| Num(b[p]));
            pos
        })
        .collect();
    let unargmaxable = options.unargmaxable.then(|| {
        let vs = unargmaxable::scan(&model.w_u, model.b_u.as_deref(), &options.scan, progress);
        summarize(&vs)
    });
    Ok(ModelReport {
        schema_version: SCHEMA_VERSION,
        dtype: T::NAME,
        model: Shape {
            d_model: model.d_model(),
            layers: model.blocks.len(),
            vocab_in: vocab,
            vocab_out: model.vocab(),
            final_norm: match model.ln_final.kind {
                NormKind::LayerNorm => "LayerNorm",
                NormKind::RmsNorm => "RMSNorm",
            },
            unembed_bias: model.b_u.is_some(),
        },
        tokens: tokens.to_vec(),
        forward: ForwardPath::of::<T>(options.linear),
        processing,
        token_norms,
        residual: "the final norm's output at each position (the input of the unembedding, \
                   from which the logits are computed)",
        positions,
        unargmaxable,
    })
}

fn log_probs<T: Real>(logits: &DMatrix<T>) -> Vec<Vec<T>> {
    (0..logits.nrows())
        .map(|i| log_softmax(&logits.row(i).iter().copied().collect::<Vec<T>>()))
        .collect()
}

fn max_abs<T: Real>(v: &[T]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.widen().abs()))
}

/// Measured change and bound of the log-probabilities, per position, from the combined logit
/// bound `delta` of each position.
fn compare<T: Real>(a: &[Vec<T>], b: &[Vec<T>], delta: &[f64]) -> (f64, f64, bool) {
    let (mut worst, mut bound, mut within) = (0.0f64, 0.0f64, true);
    for p in 0..a.len() {
        let change = a[p]
            .iter()
            .zip(&b[p])
            .map(|(x, y)| (x.widen() - y.widen()).abs())
            .fold(0.0f64, |m, d| if d.is_nan() { f64::NAN } else { m.max(d) });
        let bp = log_prob_change_bound::<T>(delta[p], max_abs(&a[p]), max_abs(&b[p]));
        within &= change <= bp;
        worst = if change.is_nan() {
            change
        } else {
            worst.max(change)
        };
        bound = bound.max(bp);
    }
    (worst, bound, within)
}

fn preserves(name: &str) -> &'static str {
    match name {
        "fold_ln" | "fold_layernorm" => "every output (LayerNorm and RMSNorm)",
        "center_writing_weights" => "every output when every reader is a LayerNorm",
        "center_unembed" => "probabilities (logits up to a per-position constant)",
        "fold_value_biases" => "every output when every query attends to some key",
        _ => "log-probabilities",
    }
}

fn processing<T: Real>(
    model: &Model<T>,
    tokens: &[usize],
    base: &super::Run<T>,
    linear: Linear,
) -> Vec<TransformRow> {
    let rho = transform_rho::<T>();
    let lp0 = log_probs(&base.logits);
    let e0 = &base.logit_error;
    let row = |name: &str, refused: Option<String>, r: Option<(f64, f64, bool)>| TransformRow {
        transform: name.to_string(),
        preserves: preserves(name),
        refused,
        max_abs_change: r.map(|r| Num(r.0)),
        bound: r.map(|r| Num(r.1)),
        within_bound: r.map(|r| r.2),
    };
    let single = |m: &Model<T>| {
        let run = m.run_with(tokens, rho, linear);
        let delta: Vec<f64> = e0
            .iter()
            .zip(&run.logit_error)
            .map(|(a, b)| a + b)
            .collect();
        compare(&lp0, &log_probs(&run.logits), &delta)
    };
    let mut rows = Vec::new();
    rows.push(row(
        "fold_layernorm",
        None,
        Some(single(&super::process::fold_layernorm(model))),
    ));
    match super::process::center_writing_weights(model) {
        Ok(m) => rows.push(row("center_writing_weights", None, Some(single(&m)))),
        Err(e) => rows.push(row("center_writing_weights", Some(e.to_string()), None)),
    }
    rows.push(row(
        "center_unembed",
        None,
        Some(single(&super::process::center_unembed(model))),
    ));
    rows.push(row(
        "fold_value_biases",
        None,
        Some(single(&super::process::fold_value_biases(model))),
    ));
    // The pipeline, chained through its stages.
    let produced: Vec<Model<T>> = super::export::stages(model)
        .into_iter()
        .filter_map(|(_, m)| m)
        .collect();
    let mut delta = e0.clone();
    let mut last_lp = lp0.clone();
    for (s, m) in produced.iter().enumerate() {
        let run = m.run_with(tokens, rho, linear);
        for (d, e) in delta.iter_mut().zip(&run.logit_error) {
            *d += e;
        }
        if s + 1 < produced.len() {
            for (d, e) in delta
                .iter_mut()
                .zip(&m.run_with(tokens, 0.0, linear).logit_error)
            {
                *d += e;
            }
        } else {
            last_lp = log_probs(&run.logits);
        }
    }
    rows.push(row("pipeline", None, Some(compare(&lp0, &last_lp, &delta))));
    rows
}

fn norm_distribution<T: Real>(w: &DMatrix<T>, extremes: usize) -> NormDistribution {
    let norms: Vec<f64> = (0..w.ncols())
        .map(|j| {
            crate::kernels::geometry::norm(&w.column(j).iter().copied().collect::<Vec<T>>()).widen()
        })
        .collect();
    let mut order: Vec<usize> = (0..norms.len()).collect();
    order.sort_by(|&a, &b| norms[a].total_cmp(&norms[b]).then(a.cmp(&b)));
    let v = norms.len();
    let at = |k: usize| {
        // Nearest rank ⌈k·V/4⌉ (1-based).
        if v == 0 {
            Num(f64::NAN)
        } else {
            let r = (k * v).div_ceil(4).max(1);
            Num(norms[order[r - 1]])
        }
    };
    let tn = |j: usize| TokenNorm {
        token: j,
        norm: Num(norms[j]),
    };
    NormDistribution {
        count: v,
        min: at(0),
        q1: at(1),
        median: at(2),
        q3: at(3),
        max: if v == 0 {
            Num(f64::NAN)
        } else {
            Num(norms[order[v - 1]])
        },
        mean: Num(norms.iter().sum::<f64>() / v as f64),
        smallest: order.iter().take(extremes).map(|&j| tn(j)).collect(),
        largest: order.iter().rev().take(extremes).map(|&j| tn(j)).collect(),
    }
}

/// The three orders of the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Dot,
    Euclidean,
    Cosine,
}

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite")
}

/// The tokens in f64 with their norms and the residual, for exact ranking.
struct Ranker {
    d: usize,
    w: Vec<Vec<f64>>,
    b: Option<Vec<f64>>,
    norms: Vec<f64>,
    x: Vec<f64>,
    x_norm: f64,
}

impl Ranker {
    /// The f64 score of token j under `order` (larger is better) and a bound on its error.
    fn key(&self, order: Order, j: usize) -> Option<(f64, f64)> {
        let w = &self.w[j];
        let dot: f64 = w.iter().zip(&self.x).map(|(a, b)| a * b).sum();
        Some(match order {
            Order::Dot => {
                let b = self.b.as_ref().map_or(0.0, |b| b[j]);
                (
                    dot + b,
                    score_error_bound(self.d, self.x_norm, self.norms[j], b.abs()),
                )
            }
            Order::Euclidean => {
                let s: f64 = w.iter().zip(&self.x).map(|(a, b)| (b - a) * (b - a)).sum();
                // Non-negative terms, each rounded thrice: γ_{d+3} of the sum.
                let e = crate::kernels::tolerance::gamma::<f64>(self.d + 3) * s + f64::from_bits(1);
                (-s, e)
            }
            Order::Cosine => {
                if self.norms[j] == 0.0 || self.x_norm == 0.0 {
                    return None;
                }
                let c = dot / (self.x_norm * self.norms[j]);
                // |c| ≤ 1: the dot's bound over ‖x‖‖w‖, and the division and norms (≤ 6u).
                let e = score_error_bound(self.d, 1.0, 1.0, 0.0)
                    + 8.0 * crate::kernels::tolerance::unit_roundoff::<f64>();
                (c, e)
            }
        })
    }

    /// Exact comparison of token `a` against token `b` under `order` (Greater: a is better).
    fn exact_cmp(&self, order: Order, a: usize, b: usize) -> Ordering {
        let xq: Vec<BigRational> = self.x.iter().map(|&v| q(v)).collect();
        let dot = |j: usize| {
            self.w[j]
                .iter()
                .zip(&xq)
                .fold(BigRational::zero(), |s, (w, x)| s + q(*w) * x)
        };
        match order {
            Order::Dot => {
                let bias = |j: usize| self.b.as_ref().map_or(BigRational::zero(), |b| q(b[j]));
                (dot(a) + bias(a)).cmp(&(dot(b) + bias(b)))
            }
            Order::Euclidean => {
                let sq = |j: usize| {
                    self.w[j]
                        .iter()
                        .zip(&xq)
                        .fold(BigRational::zero(), |s, (w, x)| {
                            let d = x - q(*w);
                            s + &d * &d
                        })
                };
                sq(b).cmp(&sq(a))
            }
            Order::Cosine => {
                // cos_a > cos_b ⇔ sign(dₐ)dₐ²‖w_b‖² > sign(d_b)d_b²‖wₐ‖² (the norms' squares exact).
                let n2 = |j: usize| {
                    self.w[j]
                        .iter()
                        .fold(BigRational::zero(), |s, w| s + q(*w) * q(*w))
                };
                let signed_sq = |d: BigRational| {
                    let s = &d * &d;
                    if d.is_negative() { -s } else { s }
                };
                (signed_sq(dot(a)) * n2(b)).cmp(&(signed_sq(dot(b)) * n2(a)))
            }
        }
    }

    /// A best token under `order`, decided exactly: the exact maximum lies within the f64
    /// maximum's error window, where candidates are compared in rationals.
    fn best(&self, order: Order, keys: &[Option<(f64, f64)>]) -> Option<usize> {
        let u = crate::kernels::tolerance::unit_roundoff::<f64>();
        let m = (0..keys.len())
            .filter(|&j| keys[j].is_some())
            .max_by(|&a, &b| keys[a].unwrap().0.total_cmp(&keys[b].unwrap().0))?;
        let (km, em) = keys[m]?;
        let mut best = m;
        for (j, k) in keys.iter().enumerate() {
            let Some((kj, ej)) = *k else { continue };
            let slack = (em + ej) * (1.0 + 4.0 * u);
            if j != best
                && kj - km >= -slack * (1.0 + 4.0 * u)
                && self.exact_cmp(order, j, best) == Ordering::Greater
            {
                best = j;
            }
        }
        Some(best)
    }

    /// Rank of `pick` under `order`: 1 + the tokens strictly better, decided exactly.
    fn rank(&self, order: Order, keys: &[Option<(f64, f64)>], pick: usize) -> Option<usize> {
        let (kp, ep) = keys[pick]?;
        let u = crate::kernels::tolerance::unit_roundoff::<f64>();
        let mut better = 0;
        for (j, k) in keys.iter().enumerate() {
            let Some((kj, ej)) = *k else { continue };
            if j == pick {
                continue;
            }
            let slack = (ep + ej) * (1.0 + 4.0 * u);
            let diff = kj - kp;
            let clearly = diff * (1.0 - 2.0 * u) > slack;
            let close = !clearly && diff >= -slack * (1.0 + 4.0 * u);
            if clearly || (close && self.exact_cmp(order, j, pick) == Ordering::Greater) {
                better += 1;
            }
        }
        Some(better + 1)
    }
}

fn position<T: Real>(model: &Model<T>, p: usize, input: usize, x: &[T]) -> Position {
    let w = &model.w_u;
    let argmax = match &model.b_u {
        None => crate::kernels::unembed::argmax_dot(w, x),
        Some(b) => {
            // The logits x·wⱼ + bⱼ as a dot product of (x, 1) with (wⱼ, bⱼ).
            let d = w.nrows();
            let aug = DMatrix::from_fn(
                d + 1,
                w.ncols(),
                |r, j| if r < d { w[(r, j)] } else { b[j] },
            );
            let mut xa = x.to_vec();
            xa.push(T::one());
            crate::kernels::unembed::argmax_dot(&aug, &xa)
        }
    };
    let picks = [
        ("argmax_dot", argmax),
        (
            "nearest_euclidean",
            crate::kernels::unembed::nearest_euclidean(w, x),
        ),
        ("nearest_cosine", None),
    ];
    let xs: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    let finite = xs.iter().all(|v| v.is_finite())
        && w.iter().all(|v| v.widen().is_finite())
        && model.b_u.iter().flatten().all(|v| v.widen().is_finite());
    let ranker = Ranker {
        d: w.nrows(),
        w: (0..w.ncols())
            .map(|j| w.column(j).iter().map(|v| v.widen()).collect())
            .collect(),
        b: model
            .b_u
            .as_ref()
            .map(|b| b.iter().map(|v| v.widen()).collect()),
        // In f64 (the f32 norm's own rounding would exceed the cosine's error allowance).
        norms: (0..w.ncols())
            .map(|j| {
                crate::kernels::geometry::norm(
                    &w.column(j).iter().map(|v| v.widen()).collect::<Vec<f64>>(),
                )
            })
            .collect(),
        x_norm: crate::kernels::geometry::norm(&xs),
        x: xs,
    };
    let orders = [Order::Dot, Order::Euclidean, Order::Cosine];
    let keys: Vec<Vec<Option<(f64, f64)>>> = orders
        .iter()
        .map(|&o| (0..w.ncols()).map(|j| ranker.key(o, j)).collect())
        .collect();
    // The cosine pick is decided by the exact comparison too (the kernel's cosines are rounded).
    let mut picks = picks;
    picks[2].1 = if finite {
        ranker.best(Order::Cosine, &keys[2])
    } else {
        crate::kernels::unembed::nearest_cosine(w, x)
    };
    let rank = |o: usize, pick: Option<usize>| {
        if !finite {
            return None;
        }
        pick.and_then(|t| ranker.rank(orders[o], &keys[o], t))
    };
    let picks: Vec<Pick> = picks
        .iter()
        .map(|&(by, token)| Pick {
            by,
            token,
            rank_dot: rank(0, token),
            rank_euclidean: rank(1, token),
            rank_cosine: rank(2, token),
        })
        .collect();
    // Agreement is about the orders, not about which of several tied tokens an index picked:
    // every pick ranks first under every order.
    let all_agree = picks.iter().all(|p| {
        [p.rank_dot, p.rank_euclidean, p.rank_cosine]
            .iter()
            .all(|r| *r == Some(1))
    });
    Position {
        position: p,
        input_token: input,
        residual_norm: Num(ranker.x_norm),
        top_logit: Num(f64::NAN),
        logit_bound: None,
        all_agree,
        picks,
    }
}

fn summarize(vs: &[Verdict]) -> UnargmaxableSummary {
    let mut by_method: Vec<(String, usize)> = Vec::new();
    let mut thinnest: Option<(usize, f64)> = None;
    let mut un = Vec::new();
    let mut undecided = Vec::new();
    for (i, v) in vs.iter().enumerate() {
        match v {
            Verdict::Argmaxable { margin, method, .. } => {
                let name = method.name().to_string();
                match by_method.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, c)) => *c += 1,
                    None => by_method.push((name, 1)),
                }
                if thinnest.is_none_or(|(_, m)| *margin < m) {
                    thinnest = Some((i, *margin));
                }
            }
            Verdict::Unargmaxable {
                combination,
                method,
            } => un.push(Unargmaxable {
                token: i,
                method: method.name(),
                combination: combination
                    .iter()
                    .map(|(j, l)| Weight {
                        token: *j,
                        exact: l.to_string(),
                        approx: Num(l.to_f64().unwrap_or(f64::NAN)),
                    })
                    .collect(),
            }),
            Verdict::Undecided { reason } => undecided.push(Undecided {
                token: i,
                reason: reason.clone(),
            }),
        }
    }
    UnargmaxableSummary {
        question: "tokens that no vector x in R^d makes the unique top logit (x·w_i + b_i > \
                   x·w_j + b_j for all j ≠ i); x is not restricted to what the final norm can \
                   output",
        tokens: vs.len(),
        argmaxable: vs.len() - un.len() - undecided.len(),
        unargmaxable_count: un.len(),
        undecided_count: undecided.len(),
        witnesses_by_method: by_method,
        thinnest_margin: thinnest.map(|(i, m)| (i, Num(m))),
        unargmaxable: un,
        undecided,
    }
}

fn opt<T: std::fmt::Display>(x: &Option<T>) -> String {
    x.as_ref().map_or("—".to_string(), |v| v.to_string())
}

/// The report as plain text.
pub fn text(r: &ModelReport) -> String {
    render_table(r, false)
}

/// The report as Markdown.
pub fn markdown(r: &ModelReport) -> String {
    render_table(r, true)
}

fn render_table(r: &ModelReport, md: bool) -> String {
    let mut s = String::new();
    let h = |s: &mut String, level: usize, t: &str| {
        if md {
            let _ = writeln!(s, "{} {t}\n", "#".repeat(level));
        } else {
            let _ = writeln!(
                s,
                "{t}\n{}",
                if level == 1 { "=" } else { "-" }.repeat(t.chars().count())
            );
        }
    };
    let table = |s: &mut String, head: &[&str], rows: Vec<Vec<String>>| {
        if md {
            let _ = writeln!(s, "| {} |", head.join(" | "));
            let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
            for row in rows {
                let _ = writeln!(s, "| {} |", row.join(" | "));
            }
        } else {
            let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
            for row in &rows {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            let _ = writeln!(s, "{}", line(head.iter().map(|h| h.to_string()).collect()));
            for row in rows {
                let _ = writeln!(s, "{}", line(row));
            }
        }
        s.push('\n');
    };
    let m = &r.model;
    h(&mut s, 1, "Model report");
    let _ = writeln!(
        s,
        "d_model {}, {} blocks, {} input tokens, {} output tokens, final norm {}{}, run in {}; \
         tokens {:?}\n",
        m.d_model,
        m.layers,
        m.vocab_in,
        m.vocab_out,
        m.final_norm,
        if m.unembed_bias {
            ", unembedding bias"
        } else {
            ""
        },
        r.dtype,
        r.tokens
    );
    let _ = writeln!(
        s,
        "forward pass: linear maps by {} ({}); each output entry within {}\n",
        if r.forward.linear == "gemm" {
            "matrix products on exact f64 copies"
        } else {
            "one compensated dot product per entry"
        },
        r.forward.linear,
        r.forward.entry_bound
    );
    h(
        &mut s,
        2,
        "1. Weight processing: change of the log-probabilities on these tokens",
    );
    table(
        &mut s,
        &[
            "transform",
            "preserves",
            "max |Δ log p|",
            "bound (first order in u)",
            "within",
        ],
        r.processing
            .iter()
            .map(|t| match &t.refused {
                Some(why) => vec![
                    t.transform.clone(),
                    t.preserves.into(),
                    "refused".into(),
                    why.clone(),
                    "—".into(),
                ],
                None => vec![
                    t.transform.clone(),
                    t.preserves.into(),
                    opt(&t.max_abs_change),
                    opt(&t.bound),
                    opt(&t.within_bound.map(|b| if b { "yes" } else { "NO" })),
                ],
            })
            .collect(),
    );
    h(
        &mut s,
        2,
        "2. The unembedding's token vectors and the residual",
    );
    let n = &r.token_norms;
    let _ = writeln!(
        s,
        "Norms of the {} token vectors (columns of W_U): min {}, q1 {}, median {}, q3 {}, max {}, \
         mean {} (nearest-rank quartiles).",
        n.count, n.min, n.q1, n.median, n.q3, n.max, n.mean
    );
    let list = |v: &[TokenNorm]| {
        v.iter()
            .map(|t| format!("{} ({})", t.token, t.norm))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        s,
        "Smallest: {}.\nLargest: {}.\n",
        list(&n.smallest),
        list(&n.largest)
    );
    let _ = writeln!(
        s,
        "The residual x is {}. Each position's largest logit and a rigorous bound on the error \
         of every logit there (a 128-bit interval shadow of the forward pass; — when not \
         computed); each pick's rank under each order (1 = best, decided exactly):\n",
        r.residual
    );
    let mut rows = Vec::new();
    for p in &r.positions {
        for (k, pick) in p.picks.iter().enumerate() {
            rows.push(vec![
                if k == 0 {
                    p.position.to_string()
                } else {
                    String::new()
                },
                if k == 0 {
                    p.input_token.to_string()
                } else {
                    String::new()
                },
                if k == 0 {
                    p.top_logit.to_string()
                } else {
                    String::new()
                },
                if k == 0 {
                    opt(&p.logit_bound)
                } else {
                    String::new()
                },
                pick.by.to_string(),
                opt(&pick.token),
                opt(&pick.rank_dot),
                opt(&pick.rank_euclidean),
                opt(&pick.rank_cosine),
                if k == 0 {
                    (if p.all_agree { "yes" } else { "no" }).to_string()
                } else {
                    String::new()
                },
            ]);
        }
    }
    table(
        &mut s,
        &[
            "pos",
            "input",
            "top logit",
            "logit error ≤",
            "pick",
            "token",
            "rank dot",
            "rank euclid",
            "rank cosine",
            "agree",
        ],
        rows,
    );
    let disagree = r.positions.iter().filter(|p| !p.all_agree).count();
    let _ = writeln!(
        s,
        "The three picks differ at {disagree} of {} positions.\n",
        r.positions.len()
    );
    h(&mut s, 2, "3. Unargmaxable tokens");
    match &r.unargmaxable {
        None => {
            let _ = writeln!(s, "Not computed.");
        }
        Some(u) => {
            let _ = writeln!(
                s,
                "Question: {}.\n{} tokens: {} argmaxable (a witness re-checked exactly), {} \
                 unargmaxable (a convex combination re-checked exactly), {} undecided.",
                u.question, u.tokens, u.argmaxable, u.unargmaxable_count, u.undecided_count
            );
            if !u.witnesses_by_method.is_empty() {
                let by = u
                    .witnesses_by_method
                    .iter()
                    .map(|(m, c)| format!("{m}: {c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(s, "Witnesses found by: {by}.");
            }
            if let Some((t, m)) = &u.thinnest_margin {
                let _ = writeln!(s, "Thinnest verified margin: token {t}, {m}.");
            }
            s.push('\n');
            if !u.unargmaxable.is_empty() {
                table(
                    &mut s,
                    &[
                        "token",
                        "found by",
                        "= convex combination of (token: weight)",
                    ],
                    u.unargmaxable
                        .iter()
                        .map(|t| {
                            vec![
                                t.token.to_string(),
                                t.method.to_string(),
                                t.combination
                                    .iter()
                                    .map(|w| format!("{}: {}", w.token, w.exact))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            ]
                        })
                        .collect(),
                );
            }
            if !u.undecided.is_empty() {
                table(
                    &mut s,
                    &["undecided token", "reason"],
                    u.undecided
                        .iter()
                        .map(|t| vec![t.token.to_string(), t.reason.clone()])
                        .collect(),
                );
            }
        }
    }
    s
}

/// The report as one JSON document (`schema/model-report.schema.json`).
pub fn json(r: &ModelReport) -> String {
    serde_json::to_string_pretty(r).expect("the report serializes")
}

/// The report in `format`.
pub fn render(r: &ModelReport, format: ModelFormat) -> String {
    match format {
        ModelFormat::Text => text(r),
        ModelFormat::Markdown => markdown(r),
        ModelFormat::Json => json(r),
    }
}
