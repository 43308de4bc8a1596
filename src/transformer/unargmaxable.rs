//! Tokens that can never be the unique top-1: the "unargmaxable" tokens of Grivas, Bogoychev &
//! Lopez (*Low-Rank Softmax Can Have Unargmaxable Classes in Theory but Rarely in Practice*,
//! ACL 2022), decided one by one with a certificate that is re-checked exactly.
//!
//! Token `i` of an unembedding `W` (`d × V`, tokens as columns `wⱼ`) with bias `b` is
//! **argmaxable** when some vector `x ∈ ℝᵈ` makes it the unique largest logit:
//!
//! ```text
//! ∃x:  x·wᵢ + bᵢ > x·wⱼ + bⱼ   for every j ≠ i
//! ```
//!
//! By Motzkin's transposition theorem it is **unargmaxable** exactly when a convex combination
//! of the other tokens reaches it and dominates its bias:
//!
//! ```text
//! ∃λ ≥ 0, Σλⱼ = 1:  Σλⱼwⱼ = wᵢ  and  Σλⱼbⱼ ≥ bᵢ
//! ```
//!
//! (then `x·wᵢ + bᵢ ≤ Σλⱼ(x·wⱼ + bⱼ) ≤ maxⱼ (x·wⱼ + bⱼ)` for every `x`). Without a bias this says
//! `wᵢ` is not a vertex of the convex hull of the tokens — the claim `hull-interior-never-top`
//! (`proofs/hull-interior-never-top.md`); with one, `(wᵢ, bᵢ)` is not a vertex of the *upper*
//! hull. A token equal to another (same vector, same bias) is unargmaxable: it can tie, never
//! win alone.
//!
//! # How each token is decided
//!
//! 1. Exact duplicates are found by hashing (certificate: `λ = 1` on the twin).
//! 2. Cheap witnesses are tried for all tokens in blocks (one matrix product per block):
//!    `x = wᵢ − c` with `c` the mean token, then `x = wᵢ`. Without a bias, the tokens are taken
//!    in order of decreasing distance from `c`, and a block's centred trials are scored only
//!    against the prefix of tokens that can reach them: by Cauchy–Schwarz a token nearer to `c` than
//!    `(1 − u)‖x‖` cannot reach token `i`'s score at `x = fl(wᵢ − c)` (its margin is bounded
//!    from the two distances instead). That halves the product for a GPT-2-sized unembedding.
//! 3. The rest go to a cutting-plane linear program (the pure-Rust simplex of `microlp`):
//!    maximise `t` subject to `(wᵢ − wⱼ)·x + (bᵢ − bⱼ)s ≥ t` over a growing set of rivals `j`,
//!    `s ≥ t`, `x` in a box, `0 ≤ s ≤ 1`; the most violated rivals of each trial `x/s` are added
//!    until the trial wins against every token. An optimum `t ≤ 0` on a subset already proves
//!    the token unargmaxable (the full system has more constraints): the convex combination is
//!    then found by a second LP over that subset and **solved again exactly in rationals** on
//!    its support.
//!
//! The LP is only a guide. A token is reported argmaxable only with a witness `x` whose every
//! comparison was re-checked: in `f64` with a rigorous error bound and a margin above it, and
//! exactly in rationals where the margin was too thin. It is reported unargmaxable only with a
//! combination that holds exactly in rationals. Anything else — a solver failure, an optimum
//! too close to zero to trust, a combination that does not hold exactly, a support too large
//! for exact arithmetic — is reported [`Verdict::Undecided`] with the reason, never guessed.
//!
//! # What "whatever the residual" means here
//!
//! `x` ranges over all of `ℝᵈ`. The unembedding's real input is the final norm's output, which
//! lies on an ellipsoid (LayerNorm: also in a hyperplane): an argmaxable token may still be out
//! of reach of every input the model can produce; an unargmaxable token is out of reach
//! unconditionally.

use crate::kernels::scalar::Real;
use crate::kernels::tolerance::{score_error_bound, unit_roundoff};
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use nalgebra::DMatrix;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use rayon::prelude::*;
use std::collections::HashMap;

/// How a token was decided, with its certificate.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The token wins alone at `witness` (when kept, see [`ScanOptions::keep_witnesses`]) by at
    /// least `margin` against every other token.
    Argmaxable {
        /// `x` with `x·wᵢ + bᵢ > x·wⱼ + bⱼ` for every `j ≠ i` (checked exactly), if kept.
        witness: Option<Vec<f64>>,
        /// A verified lower bound on `minⱼ (x·wᵢ + bᵢ − x·wⱼ − bⱼ)`; `+∞` with one token.
        margin: f64,
        /// Which step found the witness.
        method: Method,
    },
    /// The token never wins alone: `wᵢ = Σλⱼwⱼ`, `Σλⱼ = 1`, `λ ≥ 0`, `Σλⱼbⱼ ≥ bᵢ`, exactly.
    Unargmaxable {
        /// The combination `(j, λⱼ)` (`λⱼ > 0`, exact rationals).
        combination: Vec<(usize, BigRational)>,
        /// Which step found it.
        method: Method,
    },
    /// Neither certificate could be established; the reason says why.
    Undecided {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// `Some(true)` argmaxable, `Some(false)` unargmaxable, `None` undecided.
    pub fn argmaxable(&self) -> Option<bool> {
        match self {
            Verdict::Argmaxable { .. } => Some(true),
            Verdict::Unargmaxable { .. } => Some(false),
            Verdict::Undecided { .. } => None,
        }
    }
}

/// The step that produced a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The only token.
    Alone,
    /// An exact duplicate of another token.
    Duplicate,
    /// `x = wᵢ − mean(w)`.
    CenteredVector,
    /// `x = wᵢ`.
    OwnVector,
    /// The cutting-plane linear program (and, for a combination, the exact solve after it).
    LinearProgram,
}

impl Method {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Alone => "only token",
            Method::Duplicate => "duplicate",
            Method::CenteredVector => "x = w_i - mean(w)",
            Method::OwnVector => "x = w_i",
            Method::LinearProgram => "linear program",
        }
    }
}

/// Limits of the scan.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanOptions {
    /// Rounds of the cutting-plane LP per token before giving up (undecided).
    pub max_rounds: usize,
    /// Rivals added to the LP per round (the most violated ones).
    pub cuts_per_round: usize,
    /// Exact rational elimination costs about `(d + 2)·k²` operations on growing numbers for a
    /// combination of `k` tokens: above this many, the token is left undecided.
    pub max_exact_work: usize,
    /// Keep every argmaxable token's witness (`d` numbers each: 300 MB for GPT-2's 50,257 × 768).
    pub keep_witnesses: bool,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            max_rounds: 60,
            cuts_per_round: 32,
            max_exact_work: 4_000_000,
            keep_witnesses: false,
        }
    }
}

/// The tokens in `f64` (exactly widened), with what every step needs.
///
/// The scan holds them sorted by their distance from the mean token, farthest first (`order`
/// maps back to the caller's ids): the rivals that can beat a token at its centred trial are
/// then a prefix (see [`witness_block`]).
struct Tokens {
    d: usize,
    v: usize,
    /// `d × V`, in the internal order.
    w: DMatrix<f64>,
    /// Length `V` (zeros without a bias).
    b: Vec<f64>,
    has_bias: bool,
    /// `‖wⱼ‖₂`, computed in f64 (within 2 ulp).
    norms: Vec<f64>,
    /// The largest magnitude of any entry (> 0 unless all are 0): the LP's unit.
    scale: f64,
    /// `c`, the mean token (as computed; any vector would do for the bound below).
    mean: Vec<f64>,
    /// Upper bounds on `‖wⱼ − c‖₂`, non-increasing when `sorted`.
    radius: Vec<f64>,
    /// Internal index → the caller's token id.
    order: Vec<usize>,
    /// Whether `order` sorts the radii (else it is the identity).
    sorted: bool,
}

impl Tokens {
    /// The tokens widened to `f64`; with `sort`, reordered by decreasing distance from the
    /// mean token.
    fn new<T: Real>(w: &DMatrix<T>, b: Option<&[T]>, sort: bool) -> Tokens {
        let (d, v) = (w.nrows(), w.ncols());
        let has_bias = b.is_some();
        let b_in: Vec<f64> =
            b.map_or_else(|| vec![0.0; v], |b| b.iter().map(|x| x.widen()).collect());
        assert!(
            b_in.len() == v,
            "unembedding bias has length {} but there are {v} tokens",
            b_in.len()
        );
        // Only a centre for trial directions: plain summation is enough.
        let mut mean = vec![0.0f64; d];
        for col in w.as_slice().chunks_exact(d.max(1)) {
            for (m, x) in mean.iter_mut().zip(col) {
                *m += x.widen();
            }
        }
        for m in &mut mean {
            *m /= v.max(1) as f64;
        }
        // ‖wⱼ − c‖ ≤ (1 + u)·‖fl(wⱼ − c)‖ (each difference rounds by at most u of itself),
        // and the computed norm is within 2 ulp (4u): 16u covers both and this product.
        let u = unit_roundoff::<f64>();
        let mut y = vec![0.0f64; d];
        let radius_in: Vec<f64> = (0..v)
            .map(|j| {
                for ((y, x), m) in y.iter_mut().zip(w.column(j).iter()).zip(&mean) {
                    *y = x.widen() - m;
                }
                crate::kernels::geometry::norm(&y) * (1.0 + 16.0 * u)
            })
            .collect();
        let mut order: Vec<usize> = (0..v).collect();
        if sort {
            // Farthest first; ties keep the caller's order (a stable sort).
            order.sort_by(|&a, &b| radius_in[b].total_cmp(&radius_in[a]));
        }
        let w = DMatrix::from_fn(d, v, |k, c| w[(k, order[c])].widen());
        let b: Vec<f64> = order.iter().map(|&j| b_in[j]).collect();
        let radius = order.iter().map(|&j| radius_in[j]).collect();
        let norms = (0..v)
            .map(|j| crate::kernels::geometry::norm(w.column(j).as_slice()))
            .collect();
        let scale = w.iter().chain(&b).fold(0.0f64, |m, x| m.max(x.abs()));
        Tokens {
            d,
            v,
            w,
            b,
            has_bias,
            norms,
            scale,
            mean,
            radius,
            order,
            sorted: sort,
        }
    }

    /// A verdict on internal indices, on the caller's token ids.
    fn to_caller(&self, verdict: Verdict) -> Verdict {
        match verdict {
            Verdict::Unargmaxable {
                combination,
                method,
            } => {
                let mut combination: Vec<_> = combination
                    .into_iter()
                    .map(|(j, l)| (self.order[j], l))
                    .collect();
                combination.sort_by_key(|(j, _)| *j);
                Verdict::Unargmaxable {
                    combination,
                    method,
                }
            }
            other => other,
        }
    }

    /// The first token (internal index) with a non-finite entry or bias.
    fn non_finite(&self) -> Option<usize> {
        (0..self.v).find(|&j| !self.b[j].is_finite() || self.col(j).iter().any(|x| !x.is_finite()))
    }

    fn col(&self, j: usize) -> &[f64] {
        &self.w.as_slice()[j * self.d..(j + 1) * self.d]
    }

    /// Rigorous bound on `|fl(x·wⱼ) + bⱼ − (x·wⱼ + bⱼ)|` for a score computed by any
    /// summation order of the `d` products (`γ_{d+1}·Σ|terms|`, with `Σ|xₖwⱼₖ| ≤ ‖x‖‖wⱼ‖`), the
    /// two computed norms' own rounding (2 ulp each) and underflow.
    fn score_error(&self, j: usize, x_norm: f64) -> f64 {
        score_error_bound(self.d, x_norm, self.norms[j], self.b[j].abs())
    }

    /// `(wᵢ − wⱼ)·x + (bᵢ − bⱼ)` exactly.
    fn exact_gap(&self, i: usize, j: usize, x: &[BigRational]) -> BigRational {
        let (wi, wj) = (self.col(i), self.col(j));
        let mut s = q(self.b[i]) - q(self.b[j]);
        for k in 0..self.d {
            if wi[k] != wj[k] && !x[k].is_zero() {
                s += (q(wi[k]) - q(wj[k])) * &x[k];
            }
        }
        s
    }
}

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).expect("finite (checked before the scan)")
}

/// What checking one trial `x` against every token found.
enum Check {
    /// Token `i` wins against every other by at least this much (verified).
    Wins(f64),
    /// Rivals that beat or tie token `i`, most violating first (at most `keep`).
    Loses(Vec<usize>),
}

/// Check a trial `x` for token `i` given the scores `sⱼ = fl(x·wⱼ)` (without bias) of the
/// tokens `0..scores.len()` (`i` among them); every token past those is already known to lose
/// to `i` by at least `beyond` (`+∞` when all are scored).
fn check(tok: &Tokens, i: usize, x: &[f64], scores: &[f64], beyond: f64, keep: usize) -> Check {
    if x.iter().any(|v| !v.is_finite()) {
        // A solver's non-finite trial proves nothing; no rival is named, so the caller stops.
        return Check::Loses(Vec::new());
    }
    let x_norm = crate::kernels::geometry::norm(x);
    let u = unit_roundoff::<f64>();
    let si = scores[i] + tok.b[i];
    let ei = tok.score_error(i, x_norm);
    let mut margin = beyond;
    let mut losers: Vec<(f64, usize)> = Vec::new();
    let mut exact_x: Option<Vec<BigRational>> = None;
    for (j, &sj) in scores.iter().enumerate() {
        if j == i {
            continue;
        }
        // fl(fl(sᵢ) − fl(sⱼ)) within u of the difference; each score within its error.
        let diff = si - (sj + tok.b[j]);
        let slack = (ei + tok.score_error(j, x_norm)) * (1.0 + 4.0 * u);
        if diff * (1.0 - 2.0 * u) > slack {
            margin = margin.min(diff * (1.0 - 2.0 * u) - slack);
            continue;
        }
        if diff < -slack * (1.0 + 4.0 * u) {
            losers.push((diff, j));
            continue;
        }
        // Too close to call in f64: decide exactly.
        let xq = exact_x.get_or_insert_with(|| x.iter().map(|&v| q(v)).collect());
        let g = tok.exact_gap(i, j, xq);
        if g.is_positive() {
            margin = margin.min(g.to_f64().unwrap_or(0.0) * (1.0 - 4.0 * u));
        } else {
            losers.push((g.to_f64().unwrap_or(0.0), j));
        }
    }
    if losers.is_empty() {
        Check::Wins(margin.max(0.0))
    } else {
        losers.sort_by(|a, b| a.0.total_cmp(&b.0));
        Check::Loses(losers.into_iter().take(keep).map(|(_, j)| j).collect())
    }
}

/// Decide every token of an unembedding `w_u` (`d × V`, tokens as columns) with optional bias
/// `b_u` (length `V`). `progress` is called with the number of tokens just finished (for a
/// progress bar; see `terminal_progress`, feature `cli`). Runs on rayon's thread pool.
///
/// # Panics
/// If `b_u` does not have `V` entries.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::transformer::unargmaxable::{scan, ScanOptions};
/// // Four corners of a square and its centre (token 4), as columns.
/// let w = DMatrix::from_column_slice(2, 5, &[1.0f64, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 0.0, 0.0]);
/// let verdicts = scan(&w, None, &ScanOptions::default(), &|_| {});
/// let argmaxable: Vec<_> = verdicts.iter().map(|v| v.argmaxable()).collect();
/// assert_eq!(argmaxable, [Some(true), Some(true), Some(true), Some(true), Some(false)]);
/// ```
pub fn scan<T: Real>(
    w_u: &DMatrix<T>,
    b_u: Option<&[T]>,
    options: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Verdict> {
    let tok = Tokens::new(w_u, b_u, true);
    let v = tok.v;
    if let Some(j) = tok.non_finite() {
        progress(v as u64);
        return vec![
            Verdict::Undecided {
                reason: format!("token {} has a non-finite entry", tok.order[j])
            };
            v
        ];
    }
    let mut out: Vec<Option<Verdict>> = vec![None; v];
    if v == 1 {
        out[0] = Some(Verdict::Argmaxable {
            witness: options.keep_witnesses.then(|| vec![0.0; tok.d]),
            margin: f64::INFINITY,
            method: Method::Alone,
        });
    }
    // 1. Exact duplicates.
    for (j, t) in twins(&tok) {
        out[j] = Some(Verdict::Unargmaxable {
            combination: vec![(t, BigRational::from_integer(BigInt::from(1)))],
            method: Method::Duplicate,
        });
    }
    let done = out.iter().filter(|o| o.is_some()).count();
    if done > 0 {
        progress(done as u64);
    }
    // 2. Cheap witnesses in blocks of tokens, 3. the cutting-plane LP for the rest. Blocks are
    // independent, so the answer does not depend on the number of threads.
    let todo: Vec<usize> = (0..v).filter(|&j| out[j].is_none()).collect();
    const BLOCK: usize = 256;
    let results: Vec<(usize, Verdict)> = todo
        .par_chunks(BLOCK)
        .flat_map_iter(|block| {
            let (mut decided, pending) = witness_block(&tok, block, options);
            if !decided.is_empty() {
                progress(decided.len() as u64);
            }
            for (i, cuts) in pending {
                decided.push((i, decide_lp(&tok, i, cuts, options)));
                progress(1);
            }
            decided
        })
        .collect();
    for (i, verdict) in results {
        out[i] = Some(verdict);
    }
    // Back to the caller's token ids.
    let mut by_id: Vec<Option<Verdict>> = vec![None; v];
    for (k, o) in out.into_iter().enumerate() {
        by_id[tok.order[k]] = o.map(|verdict| tok.to_caller(verdict));
    }
    by_id
        .into_iter()
        .map(|o| o.expect("every token is decided or undecided"))
        .collect()
}

/// Tokens equal to another (same vector, same bias; −0 and +0 are the same value), each with
/// a twin: `(token, twin)` in internal indices. Columns are grouped by a hash of their bits,
/// then compared exactly within a group.
fn twins(tok: &Tokens) -> Vec<(usize, usize)> {
    use std::hash::{Hash, Hasher};
    let bits = |j: usize| {
        tok.col(j)
            .iter()
            .chain(std::iter::once(&tok.b[j]))
            .map(|x| (x + 0.0).to_bits())
    };
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for j in 0..tok.v {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for x in bits(j) {
            x.hash(&mut h);
        }
        groups.entry(h.finish()).or_default().push(j);
    }
    let mut pairs = Vec::new();
    for group in groups.values().filter(|g| g.len() > 1) {
        let mut firsts: Vec<usize> = Vec::new();
        let mut has_twin = vec![false; group.len()];
        for (gi, &j) in group.iter().enumerate() {
            match firsts.iter().find(|&&f| bits(f).eq(bits(j))) {
                Some(&f) => {
                    pairs.push((j, f));
                    let fi = group.iter().position(|&g| g == f).unwrap_or(gi);
                    if !has_twin[fi] {
                        // The first of the group has a twin too.
                        has_twin[fi] = true;
                        pairs.push((f, j));
                    }
                }
                None => firsts.push(j),
            }
        }
    }
    pairs
}

/// A token not decided yet, with the rivals known to beat it at some trial.
type Pending = (usize, Vec<usize>);

/// The cheap witnesses for a block of tokens (internal indices): `x = wᵢ − c` (`c` the mean
/// token), then `x = wᵢ`, each scored against the tokens by one matrix product per block.
/// Returns the tokens decided and, for the others, the rivals that beat them (the LP's first
/// cuts).
///
/// Without a bias only a prefix of the tokens (sorted by their distance from `c`) is scored at
/// the centred trial: by Cauchy–Schwarz `x·wⱼ ≤ ‖x‖·‖wⱼ − c‖ + x·c` and
/// `x·wᵢ − x·c = x·(wᵢ − c) ≥ (1 − u)‖x‖²` (as `x = fl(wᵢ − c)`), so token `i` beats every
/// `j` with `‖wⱼ − c‖ < (1 − u)‖x‖`, by at least `‖x‖·((1 − u)‖x‖ − ‖wⱼ − c‖)`.
fn witness_block(
    tok: &Tokens,
    block: &[usize],
    options: &ScanOptions,
) -> (Vec<(usize, Verdict)>, Vec<Pending>) {
    let u = unit_roundoff::<f64>();
    let mut pending: Vec<Pending> = block.iter().map(|&i| (i, vec![])).collect();
    let mut decided = Vec::new();
    for method in [Method::CenteredVector, Method::OwnVector] {
        if pending.is_empty() {
            break;
        }
        let centre = |k: usize| match method {
            Method::CenteredVector => tok.mean[k],
            _ => 0.0,
        };
        let xs = DMatrix::from_fn(tok.d, pending.len(), |k, c| {
            tok.w[(k, pending[c].0)] - centre(k)
        });
        // Per trial: a lower bound `t` on (1 − u)‖x‖ and on ‖x‖ itself (`lo`): the norm is
        // within 2 ulp, and 8u covers it and the products' rounding.
        let bounds: Vec<(f64, f64)> = (0..pending.len())
            .map(|c| {
                let lo = crate::kernels::geometry::norm(xs.column(c).as_slice()) * (1.0 - 8.0 * u);
                (lo, lo * (1.0 - 4.0 * u))
            })
            .collect();
        let prune = method == Method::CenteredVector && tok.sorted && !tok.has_bias;
        let reach = |t: f64| {
            if prune {
                tok.radius.partition_point(|&r| r >= t)
            } else {
                tok.v
            }
        };
        let first_i = pending.iter().map(|p| p.0).max().unwrap_or(0) + 1;
        let p = bounds
            .iter()
            .map(|&(_, t)| reach(t))
            .max()
            .unwrap_or(tok.v)
            .max(first_i)
            .min(tok.v);
        let scores = scores_block(tok, p, &xs);
        let mut still = Vec::new();
        for (c, (i, mut cuts)) in pending.into_iter().enumerate() {
            let x = xs.column(c);
            let (lo, t) = bounds[c];
            // Tokens p.. are beaten; the largest radius among them gives the smallest margin.
            let beyond = if p < tok.v {
                lo * (t - tok.radius[p]) * (1.0 - 4.0 * u)
            } else {
                f64::INFINITY
            };
            match check(
                tok,
                i,
                x.as_slice(),
                scores.column(c).as_slice(),
                beyond,
                options.cuts_per_round,
            ) {
                Check::Wins(margin) => decided.push((
                    i,
                    Verdict::Argmaxable {
                        witness: options.keep_witnesses.then(|| x.as_slice().to_vec()),
                        margin,
                        method,
                    },
                )),
                Check::Loses(l) => {
                    for j in l {
                        if !cuts.contains(&j) {
                            cuts.push(j);
                        }
                    }
                    still.push((i, cuts));
                }
            }
        }
        pending = still;
    }
    (decided, pending)
}

/// `S = W[:, ..p]ᵀ·X` (`p × n`, column `c` the scores `fl(x_c·wⱼ)` of trial `c`): one
/// cache-blocked product (the kernel packs the `p` tokens once per block of trials) written
/// straight in the layout the checks read.
fn scores_block(tok: &Tokens, p: usize, xs: &DMatrix<f64>) -> DMatrix<f64> {
    let (d, n) = (tok.d, xs.ncols());
    let mut s = DMatrix::<f64>::zeros(p, n);
    if p == 0 || n == 0 || d == 0 {
        return s;
    }
    let to = |x: usize| isize::try_from(x).expect("a matrix dimension fits in isize");
    // SAFETY: A = W[:, ..p]ᵀ is p × d with row stride d and column stride 1 (W is column-major
    // d × V with V ≥ p), B = X is d × n column-major, C = S is p × n column-major; each pointer
    // covers its matrix for those strides, and C does not alias A or B.
    unsafe {
        matrixmultiply::dgemm(
            p,
            d,
            n,
            1.0,
            tok.w.as_ptr(),
            to(d),
            1,
            xs.as_ptr(),
            1,
            to(d),
            0.0,
            s.as_mut_ptr(),
            1,
            to(p),
        );
    }
    s
}

/// Decide one token: the cheap witnesses, then the cutting-plane LP (no duplicate hashing, no
/// batching: for a few tokens, or for tests).
///
/// # Panics
/// If `token` is not a column of `w_u` or `b_u` has the wrong length.
pub fn decide<T: Real>(
    w_u: &DMatrix<T>,
    b_u: Option<&[T]>,
    token: usize,
    options: &ScanOptions,
) -> Verdict {
    assert!(
        token < w_u.ncols(),
        "token {token} is outside the {} tokens",
        w_u.ncols()
    );
    let tok = Tokens::new(w_u, b_u, false);
    if let Some(j) = tok.non_finite() {
        return Verdict::Undecided {
            reason: format!("token {j} has a non-finite entry"),
        };
    }
    if tok.v == 1 || tok.scale == 0.0 {
        return decide_lp(&tok, token, vec![], options);
    }
    let (mut decided, pending) = witness_block(&tok, &[token], options);
    match (decided.pop(), pending.into_iter().next()) {
        (Some((_, verdict)), _) => verdict,
        (None, Some((_, cuts))) => decide_lp(&tok, token, cuts, options),
        (None, None) => unreachable!("the token is decided or pending"),
    }
}

/// The trial `x` scored against every token: `fl(x·wⱼ)`.
fn scores_of(tok: &Tokens, x: &[f64]) -> Vec<f64> {
    let xv = nalgebra::DVector::from_column_slice(x);
    tok.w.tr_mul(&xv).as_slice().to_vec()
}

/// The cutting-plane LP for token `i`, starting from the rivals `cuts`.
/// `cuts` are the rivals that beat the cheap witnesses.
fn decide_lp(tok: &Tokens, i: usize, mut cuts: Vec<usize>, options: &ScanOptions) -> Verdict {
    if tok.v == 1 {
        return Verdict::Argmaxable {
            witness: options.keep_witnesses.then(|| vec![0.0; tok.d]),
            margin: f64::INFINITY,
            method: Method::Alone,
        };
    }
    if tok.scale == 0.0 {
        // Every token is zero (and every bias): all tie everywhere.
        let j = usize::from(i == 0);
        return Verdict::Unargmaxable {
            combination: vec![(j, BigRational::from_integer(BigInt::from(1)))],
            method: Method::LinearProgram,
        };
    }
    for _ in 0..options.max_rounds {
        let (x, t) = match primal(tok, i, &cuts) {
            Ok(r) => r,
            Err(e) => {
                return Verdict::Undecided {
                    reason: format!("the LP for the largest margin failed: {e}"),
                };
            }
        };
        // Optimum not clearly positive: a thin real margin is still checked exactly first;
        // otherwise look for the combination on these rivals.
        if t <= LP_TOLERANCE {
            if let Some(x) = x.as_ref().filter(|_| t > 0.0)
                && let Check::Wins(margin) = check(
                    tok,
                    i,
                    x,
                    &scores_of(tok, x),
                    f64::INFINITY,
                    options.cuts_per_round,
                )
            {
                return Verdict::Argmaxable {
                    witness: options.keep_witnesses.then(|| x.clone()),
                    margin,
                    method: Method::LinearProgram,
                };
            }
            return combination(tok, i, &cuts, t, options);
        }
        let Some(x) = x else {
            return Verdict::Undecided {
                reason: format!("the LP's optimum t = {t:e} has s = 0: no finite witness"),
            };
        };
        match check(
            tok,
            i,
            &x,
            &scores_of(tok, &x),
            f64::INFINITY,
            options.cuts_per_round,
        ) {
            Check::Wins(margin) => {
                return Verdict::Argmaxable {
                    witness: options.keep_witnesses.then_some(x),
                    margin,
                    method: Method::LinearProgram,
                };
            }
            Check::Loses(l) => {
                let before = cuts.len();
                for j in l {
                    if !cuts.contains(&j) {
                        cuts.push(j);
                    }
                }
                if cuts.len() == before {
                    return Verdict::Undecided {
                        reason: format!(
                            "the LP's optimum (t = {t:e}) loses to rivals it already has: \
                             numerically doubtful"
                        ),
                    };
                }
            }
        }
    }
    Verdict::Undecided {
        reason: format!(
            "the cutting-plane LP did not settle within {} rounds ({} rivals)",
            options.max_rounds,
            cuts.len()
        ),
    }
}

/// An LP optimum at or below this (in units of the largest entry) is not trusted as a positive
/// margin: the simplex' own feasibility tolerance is 10⁻⁷, and the coefficients are ≤ 2.
const LP_TOLERANCE: f64 = 1e-6;

/// Coefficients below this (relative to the largest entry) are left out of the LP: it keeps
/// every row within the solver's recommended range. The LP only proposes; every certificate is
/// re-checked on the true tokens.
const LP_DROP: f64 = 1e-9;

/// Maximise `t` subject to `(wᵢ − wⱼ)·x + (bᵢ − bⱼ)s ≥ t` (j in `cuts`), `s ≥ t`, `|xₖ| ≤ 1`,
/// `0 ≤ s ≤ 1`, `t ≤ 1`, all in units of the largest entry. Returns the trial `x/s` (`None` if
/// `s = 0`) and `t`.
fn primal(
    tok: &Tokens,
    i: usize,
    cuts: &[usize],
) -> Result<(Option<Vec<f64>>, f64), microlp::Error> {
    let mut p = Problem::new(OptimizationDirection::Maximize);
    let xs: Vec<_> = (0..tok.d).map(|_| p.add_var(0.0, (-1.0, 1.0))).collect();
    let s = tok.has_bias.then(|| p.add_var(0.0, (0.0, 1.0)));
    let t = p.add_var(1.0, (f64::NEG_INFINITY, 1.0));
    let wi = tok.col(i);
    for &j in cuts {
        let wj = tok.col(j);
        let mut row = Vec::with_capacity(tok.d + 2);
        for k in 0..tok.d {
            let c = (wi[k] - wj[k]) / tok.scale;
            if c.abs() > LP_DROP {
                row.push((xs[k], c));
            }
        }
        if let Some(s) = s {
            let c = (tok.b[i] - tok.b[j]) / tok.scale;
            if c.abs() > LP_DROP {
                row.push((s, c));
            }
        }
        row.push((t, -1.0));
        p.add_constraint(row.as_slice(), ComparisonOp::Ge, 0.0);
    }
    if let Some(s) = s {
        p.add_constraint(&[(s, 1.0), (t, -1.0)][..], ComparisonOp::Ge, 0.0);
    }
    let sol = p.solve()?;
    let sol = sol
        .into_solution()
        .map_err(|_| microlp::Error::InternalError("interrupted".into()))?;
    let tv = sol.var_value(t);
    let x: Vec<f64> = xs.iter().map(|&v| sol.var_value(v)).collect();
    let x = match s {
        None => Some(x),
        Some(s) => {
            let sv = sol.var_value(s);
            (sv > 0.0).then(|| x.iter().map(|v| v / sv).collect())
        }
    };
    Ok((x, tv))
}

/// Find `λ ≥ 0` on `cuts` with `Σλⱼwⱼ = wᵢ`, `Σλⱼ = 1`, `Σλⱼbⱼ ≥ bᵢ` (an LP), then solve the
/// equalities again exactly in rationals on the LP's support and check the rest exactly.
fn combination(tok: &Tokens, i: usize, cuts: &[usize], t: f64, options: &ScanOptions) -> Verdict {
    let undecided = |why: String| Verdict::Undecided {
        reason: format!("the LP's largest margin is t = {t:e} (not clearly positive), but {why}"),
    };
    let mut p = Problem::new(OptimizationDirection::Minimize);
    // Prefer combinations that dominate the bias by the most (cost −Σλⱼbⱼ).
    let lam: Vec<_> = cuts
        .iter()
        .map(|&j| p.add_var(-tok.b[j] / tok.scale, (0.0, f64::INFINITY)))
        .collect();
    for k in 0..tok.d {
        let row: Vec<_> = cuts
            .iter()
            .zip(&lam)
            .filter_map(|(&j, &l)| {
                let c = tok.w[(k, j)] / tok.scale;
                (c.abs() > LP_DROP).then_some((l, c))
            })
            .collect();
        p.add_constraint(row.as_slice(), ComparisonOp::Eq, tok.w[(k, i)] / tok.scale);
    }
    let ones: Vec<_> = lam.iter().map(|&l| (l, 1.0)).collect();
    p.add_constraint(ones.as_slice(), ComparisonOp::Eq, 1.0);
    if tok.has_bias {
        let row: Vec<_> = cuts
            .iter()
            .zip(&lam)
            .map(|(&j, &l)| (l, tok.b[j] / tok.scale))
            .collect();
        p.add_constraint(row.as_slice(), ComparisonOp::Ge, tok.b[i] / tok.scale);
    }
    let sol = match p.solve().map(|s| s.into_solution()) {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return undecided("the LP for the combination was interrupted".into()),
        Err(e) => return undecided(format!("the LP found no convex combination ({e})")),
    };
    let support: Vec<usize> = cuts
        .iter()
        .zip(&lam)
        .filter(|&(_, &l)| sol.var_value(l) > 1e-12)
        .map(|(&j, _)| j)
        .collect();
    let work = (tok.d + 2) * support.len() * support.len();
    if work > options.max_exact_work {
        return undecided(format!(
            "the combination has {} tokens, too many to check exactly (work {work} > {})",
            support.len(),
            options.max_exact_work
        ));
    }
    match exact_combination(tok, i, &support) {
        Ok(combination) => Verdict::Unargmaxable {
            combination,
            method: Method::LinearProgram,
        },
        Err(why) => undecided(why),
    }
}

/// Solve `Σλⱼwⱼ = wᵢ`, `Σλⱼ = 1` exactly for `λ` on `support` (Gaussian elimination in
/// rationals), and check `λ ≥ 0` and `Σλⱼbⱼ ≥ bᵢ` exactly.
fn exact_combination(
    tok: &Tokens,
    i: usize,
    support: &[usize],
) -> Result<Vec<(usize, BigRational)>, String> {
    let k = support.len();
    if k == 0 {
        return Err("the LP's combination is empty".into());
    }
    // Rows: d coordinates and the sum; columns: the support, then the right-hand side.
    let mut rows: Vec<Vec<BigRational>> = (0..tok.d)
        .map(|r| {
            support
                .iter()
                .map(|&j| q(tok.w[(r, j)]))
                .chain(std::iter::once(q(tok.w[(r, i)])))
                .collect()
        })
        .collect();
    let one = BigRational::from_integer(BigInt::from(1));
    rows.push(vec![one.clone(); k + 1]);
    let n_rows = rows.len();
    let mut pivot_row = 0;
    let mut pivots = Vec::new();
    for c in 0..k {
        let Some(r) = (pivot_row..n_rows).find(|&r| !rows[r][c].is_zero()) else {
            continue;
        };
        rows.swap(pivot_row, r);
        let inv = one.clone() / rows[pivot_row][c].clone();
        for e in rows[pivot_row].iter_mut() {
            *e = &*e * &inv;
        }
        let top = rows[pivot_row].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != pivot_row && !row[c].is_zero() {
                let f = row[c].clone();
                for (e, p) in row.iter_mut().zip(&top).skip(c) {
                    *e -= &f * p;
                }
            }
        }
        pivots.push(c);
        pivot_row += 1;
    }
    if rows[pivot_row..].iter().any(|r| !r[k].is_zero()) {
        return Err(format!(
            "the {k} tokens of the LP's combination do not reach token {} exactly",
            tok.order[i]
        ));
    }
    if pivots.len() < k {
        return Err(format!(
            "the LP's combination of {k} tokens is not unique (rank {})",
            pivots.len()
        ));
    }
    let lam: Vec<BigRational> = (0..k).map(|r| rows[r][k].clone()).collect();
    if let Some(r) = lam.iter().position(|l| l.is_negative()) {
        return Err(format!(
            "the exact combination has a negative weight on token {}",
            tok.order[support[r]]
        ));
    }
    let bias: BigRational = support
        .iter()
        .zip(&lam)
        .map(|(&j, l)| l * q(tok.b[j]))
        .fold(BigRational::zero(), |a, b| a + b);
    if bias < q(tok.b[i]) {
        return Err("the exact combination does not dominate the bias".into());
    }
    Ok(support
        .iter()
        .copied()
        .zip(lam)
        .filter(|(_, l)| !l.is_zero())
        .collect())
}

/// Re-check a certificate from scratch, exactly in rationals: a witness must make token `i`
/// win strictly against every other token; a combination must be non-negative, sum to 1, reach
/// `wᵢ` and dominate `bᵢ`. `Err` names the first failure. `Undecided` is never "valid".
///
/// For callers (and tests) that want to trust nothing of the scan but this function.
pub fn verify<T: Real>(
    w_u: &DMatrix<T>,
    b_u: Option<&[T]>,
    token: usize,
    verdict: &Verdict,
) -> Result<(), String> {
    let tok = Tokens::new(w_u, b_u, false);
    if let Some(j) = tok.non_finite() {
        return Err(format!(
            "token {j} has a non-finite entry: no certificate can be checked"
        ));
    }
    match verdict {
        Verdict::Undecided { reason } => Err(format!("undecided: {reason}")),
        Verdict::Argmaxable { witness: None, .. } => {
            Err("the witness was not kept (ScanOptions::keep_witnesses)".into())
        }
        Verdict::Argmaxable {
            witness: Some(x), ..
        } => {
            if x.len() != tok.d {
                return Err(format!(
                    "the witness has {} entries, not {}",
                    x.len(),
                    tok.d
                ));
            }
            if x.iter().any(|v| !v.is_finite()) {
                return Err("the witness is not finite".into());
            }
            let xq: Vec<BigRational> = x.iter().map(|&v| q(v)).collect();
            for j in (0..tok.v).filter(|&j| j != token) {
                if !tok.exact_gap(token, j, &xq).is_positive() {
                    return Err(format!(
                        "token {j} ties or beats token {token} at the witness"
                    ));
                }
            }
            Ok(())
        }
        Verdict::Unargmaxable { combination, .. } => {
            let mut sum = BigRational::zero();
            let mut point = vec![BigRational::zero(); tok.d];
            let mut bias = BigRational::zero();
            for (j, l) in combination {
                if *j == token || *j >= tok.v {
                    return Err(format!("the combination uses token {j}"));
                }
                if l.is_negative() {
                    return Err(format!("negative weight on token {j}"));
                }
                sum += l;
                for (k, p) in point.iter_mut().enumerate() {
                    *p += l * q(tok.w[(k, *j)]);
                }
                bias += l * q(tok.b[*j]);
            }
            if sum != BigRational::from_integer(BigInt::from(1)) {
                return Err(format!("the weights sum to {sum}, not 1"));
            }
            if let Some(k) = (0..tok.d).find(|&k| point[k] != q(tok.w[(k, token)])) {
                return Err(format!(
                    "coordinate {k} of the combination misses the token"
                ));
            }
            if bias < q(tok.b[token]) {
                return Err("the combination's bias is below the token's".into());
            }
            Ok(())
        }
    }
}

/// A progress bar for a long scan on standard error — hidden (draws nothing) when standard
/// error is not a terminal. Pass `&|n| bar.inc(n)` as [`scan`]'s `progress`.
#[cfg(feature = "cli")]
pub fn terminal_progress(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta} left)")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}
