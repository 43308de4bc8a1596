//! The unembedding: logits, the top token by dot product, the nearest token, and the
//! reduction from maximum inner product search to nearest-neighbour search; multi-threaded
//! forms of the rankings for one query (`*_par`) and for batches of queries (`*_batch`).
//!
//! Tokens are the **columns** of a `d × V` matrix `W` (the layout of TransformerLens' `W_U`,
//! `d_model × d_vocab`), so `logits(W, x) = Wᵀx`.
//!
//! The unembedding picks `argmax_i x·wᵢ`, which is *not* the nearest token:
//! `argmin_i |x − wᵢ| = argmax_i (x·wᵢ − |wᵢ|²/2)` (`proofs/argmax-dot-vs-nearest.md`).
//!
//! # Ties and special values
//!
//! Every `argmax`/`nearest` returns the **lowest index** among tied best tokens, and `None`
//! when there are no tokens or when a score is NaN (a NaN cannot be ranked). `nearest_cosine`
//! also answers `None` for a zero query and skips zero tokens (their cosine is undefined).
//!
//! `argmax_dot` and `nearest_euclidean` rank **exactly**, in every type: the scores are
//! computed in `f64` with their error bounds (for `f32`, before any rounding to `f32`; on
//! inputs scaled by one power of two where finite scores would overflow), and the tokens whose
//! scores lie within that bound of the best are re-compared in rational arithmetic. So `±MAX`
//! entries, and scores that differ by less than an ulp, rank as the exact scores do
//! (`tests/suite/special_values.rs`, `unembed_at_max`).
//!
//! For `f32` tokens on a CPU with AVX2 and FMA (detected at run time, [`crate::kernels::isa`])
//! the scores come from one vector pass over the matrix at about the speed of reading it, and
//! a derived error bound selects the few tokens to re-compare exactly (`filter` module docs:
//! why no winner is ever dropped); the answers are the same as on the scalar reference path.
//!
//! `nearest_cosine` ranks by the reference cosines (those of
//! [`crate::geometry::cosine_similarity`]: compensated, within a few units in the last place,
//! not exact). For `f32` tokens on the vector path the same pass also sums each token's
//! squares; each cosine then has a bound, and only the tokens whose cosine may reach the
//! leader's get their reference cosine: the reference's answer at the speed of the other
//! rankings.

mod filter;
mod par;
mod rank;

use crate::kernels::geometry::{CosineSide, norm_f64};
use crate::kernels::scalar::{FloatSlice, Real, Ring, assert_same_len, widen_all};
use crate::kernels::simd::isa;
use nalgebra::DMatrix;

/// The columns of `w` as slices (an empty slice each when `d = 0`).
fn columns<T: Ring>(w: &DMatrix<T>) -> Vec<&[T]> {
    rank::columns(w.as_slice(), w.ncols())
}

/// The logits `Wᵀx`: one dot product per token.
///
/// # Formula
/// ```text
/// logits(W, x)ᵢ = wᵢ·x      (wᵢ the i-th column of W; compensated as in `geometry::dot`)
/// ```
///
/// # Special values
/// As [`crate::geometry::dot`] per token. `d = 0` gives zeros; `V = 0` gives `[]`.
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::logits;
/// // Two tokens in 2-D, as columns: w₀ = (1, 0), w₁ = (0, 2).
/// let w = DMatrix::from_column_slice(2, 2, &[1.0f32, 0.0, 0.0, 2.0]);
/// assert_eq!(logits(&w, &[3.0, 1.0]), vec![3.0, 2.0]);
/// let w = DMatrix::from_column_slice(2, 2, &[1.0f64, 0.0, 0.0, 2.0]);
/// assert_eq!(logits(&w, &[3.0, 1.0]), vec![3.0, 2.0]);
/// ```
pub fn logits<T: Ring>(w: &DMatrix<T>, x: &[T]) -> Vec<T> {
    assert_same_len("logits (W rows vs x)", w.nrows(), x.len());
    columns(w)
        .into_iter()
        .map(|c| T::dot_kernel(c, x))
        .collect()
}

/// The token with the largest logit, `argmax_i x·wᵢ` (lowest index on ties).
///
/// Depends only on the direction of `x`: `argmax_dot(W, αx) = argmax_dot(W, x)` for α > 0.
///
/// # Formula
/// ```text
/// argmax_dot(W, x) = min { i : x·wᵢ = maxⱼ x·wⱼ }
/// ```
///
/// # Special values
/// `None` with no tokens or a NaN logit.
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::argmax_dot;
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f64, 2.0]);
/// assert_eq!(argmax_dot(&w, &[1.0]), Some(1)); // the longer token wins
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f32, 1.0]);
/// assert_eq!(argmax_dot(&w, &[1.0]), Some(0)); // tie: lowest index
/// ```
pub fn argmax_dot<T: Ring>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    assert_same_len("argmax_dot (W rows vs x)", w.nrows(), x.len());
    filter::best_token(w.as_slice(), w.ncols(), x, true)
}

/// The token nearest to `x` in Euclidean distance (lowest index on ties).
///
/// Ranks by squared distance, so it runs on rationals. Equals `argmax_i (x·wᵢ − |wᵢ|²/2)`,
/// which differs from [`argmax_dot`] unless all tokens have the same norm.
///
/// # Formula
/// ```text
/// nearest_euclidean(W, x) = min { i : |x − wᵢ|² = minⱼ |x − wⱼ|² }
/// ```
///
/// # Special values
/// `None` with no tokens or a NaN distance.
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::{argmax_dot, nearest_euclidean};
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f64, 2.0]);
/// assert_eq!(nearest_euclidean(&w, &[1.0]), Some(0)); // but argmax_dot picks 1
/// assert_eq!(argmax_dot(&w, &[1.0]), Some(1));
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f32, 2.0]);
/// assert_eq!(nearest_euclidean(&w, &[1.0]), Some(0));
/// ```
pub fn nearest_euclidean<T: Ring>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    assert_same_len("nearest_euclidean (W rows vs x)", w.nrows(), x.len());
    filter::best_token(w.as_slice(), w.ncols(), x, false)
}

/// [`argmax_dot`] on tokens stored one after another in one slice, no matrix built: token `j`
/// is `tokens[j·d..(j+1)·d]`. That is the column-major storage of the `d × V` matrix `W`
/// (`W.as_slice()`), and the row-major storage of a `V × d` array such as a checkpoint's
/// embedding or a C-ordered numpy array, which can then be ranked where it lies (memory-mapped
/// or borrowed) instead of copied into a `DMatrix`. The same answer as [`argmax_dot`].
///
/// # Special values
/// As [`argmax_dot`] (`None` when `tokens` is empty).
///
/// # Panics
/// If `d` is 0, `tokens.len()` is not a multiple of `d`, or `x.len() != d`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::{argmax_dot, argmax_dot_tokens};
/// // Three tokens of two entries, one after another.
/// let tokens = [1.0f32, 0.0, 0.5, 0.5, 0.0, 2.0];
/// assert_eq!(argmax_dot_tokens(&tokens, 2, &[1.0, 1.0]), Some(2));
/// let w = DMatrix::from_column_slice(2, 3, &tokens);
/// assert_eq!(argmax_dot(&w, &[1.0, 1.0]), Some(2));
/// ```
pub fn argmax_dot_tokens<T: Ring>(tokens: &[T], d: usize, x: &[T]) -> Option<usize> {
    let v = token_count("argmax_dot_tokens", tokens.len(), d, x.len());
    filter::best_token(tokens, v, x, true)
}

/// [`nearest_euclidean`] on tokens stored one after another in one slice (token `j` is
/// `tokens[j·d..(j+1)·d]`, as for [`argmax_dot_tokens`]): the same answer as
/// [`nearest_euclidean`] on the `d × V` matrix with that column-major storage.
///
/// # Special values
/// As [`nearest_euclidean`] (`None` when `tokens` is empty).
///
/// # Panics
/// If `d` is 0, `tokens.len()` is not a multiple of `d`, or `x.len() != d`.
///
/// # Examples
/// ```
/// use transformer_laws::unembed::{argmax_dot_tokens, nearest_euclidean_tokens};
/// let tokens = [1.0f64, 2.0];
/// assert_eq!(nearest_euclidean_tokens(&tokens, 1, &[1.0]), Some(0));
/// assert_eq!(argmax_dot_tokens(&tokens, 1, &[1.0]), Some(1));
/// ```
pub fn nearest_euclidean_tokens<T: Ring>(tokens: &[T], d: usize, x: &[T]) -> Option<usize> {
    let v = token_count("nearest_euclidean_tokens", tokens.len(), d, x.len());
    filter::best_token(tokens, v, x, false)
}

/// The number of tokens of `d` entries in a slice of `len`, checked against a query of `n`.
fn token_count(what: &str, len: usize, d: usize, n: usize) -> usize {
    assert!(
        d > 0 && len.is_multiple_of(d),
        "{what}: {len} entries are not a whole number of tokens of d = {d}"
    );
    assert_same_len(&format!("{what} (d vs x)"), d, n);
    len / d
}

/// [`argmax_dot`] with the tokens split between the threads of rayon's pool: the same answer.
///
/// For `f32` tokens on the vector path each thread scores a block of tokens; the candidates
/// and their exact comparison are then those of [`argmax_dot`]. Other types, and the scalar
/// level, run [`argmax_dot`] on the calling thread.
///
/// # Formula
/// ```text
/// argmax_dot_par(W, x) = argmax_dot(W, x)
/// ```
///
/// # Special values
/// As [`argmax_dot`].
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::{argmax_dot, argmax_dot_par};
/// let w = DMatrix::from_fn(16, 5000, |i, j| ((i * 7 + j * 13) % 29) as f32 - 14.0);
/// let x: Vec<f32> = (0..16).map(|i| i as f32 - 7.5).collect();
/// assert_eq!(argmax_dot_par(&w, &x), argmax_dot(&w, &x));
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f64, 2.0]);
/// assert_eq!(argmax_dot_par(&w, &[1.0]), Some(1));
/// ```
pub fn argmax_dot_par<T: Ring + Send + Sync>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    assert_same_len("argmax_dot_par (W rows vs x)", w.nrows(), x.len());
    par::rank_par(w, x, true)
}

/// [`nearest_euclidean`] with the tokens split between the threads of rayon's pool: the same
/// answer (as [`argmax_dot_par`]).
///
/// # Formula
/// ```text
/// nearest_euclidean_par(W, x) = nearest_euclidean(W, x)
/// ```
///
/// # Special values
/// As [`nearest_euclidean`].
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::{nearest_euclidean, nearest_euclidean_par};
/// let w = DMatrix::from_fn(16, 5000, |i, j| ((i * 7 + j * 13) % 29) as f32 - 14.0);
/// let x: Vec<f32> = (0..16).map(|i| i as f32 - 7.5).collect();
/// assert_eq!(nearest_euclidean_par(&w, &x), nearest_euclidean(&w, &x));
/// ```
pub fn nearest_euclidean_par<T: Ring + Send + Sync>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    assert_same_len("nearest_euclidean_par (W rows vs x)", w.nrows(), x.len());
    par::rank_par(w, x, false)
}

/// [`argmax_dot`] of each query, the queries the **columns** of `xs` (`d × B`, like the tokens),
/// one query per task on rayon's pool: the same answers as one call per query.
///
/// # Formula
/// ```text
/// argmax_dot_batch(W, X)ₖ = argmax_dot(W, xₖ)      (xₖ the k-th column of X)
/// ```
///
/// # Special values
/// As [`argmax_dot`], query by query; `[]` for no query.
///
/// # Panics
/// If `xs.nrows() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::argmax_dot_batch;
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f32, 2.0]);
/// let xs = DMatrix::from_column_slice(1, 3, &[1.0f32, -1.0, f32::NAN]);
/// assert_eq!(argmax_dot_batch(&w, &xs), vec![Some(1), Some(0), None]);
/// ```
pub fn argmax_dot_batch<T: Ring + Send + Sync>(
    w: &DMatrix<T>,
    xs: &DMatrix<T>,
) -> Vec<Option<usize>> {
    par::batch(w, xs, "argmax_dot_batch (W rows vs query rows)", |x| {
        filter::best_token(w.as_slice(), w.ncols(), x, true)
    })
}

/// [`nearest_euclidean`] of each query, the queries the columns of `xs`, one query per task on
/// rayon's pool (as [`argmax_dot_batch`]).
///
/// # Formula
/// ```text
/// nearest_euclidean_batch(W, X)ₖ = nearest_euclidean(W, xₖ)
/// ```
///
/// # Special values
/// As [`nearest_euclidean`], query by query; `[]` for no query.
///
/// # Panics
/// If `xs.nrows() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::nearest_euclidean_batch;
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f64, 2.0]);
/// let xs = DMatrix::from_column_slice(1, 2, &[1.2f64, 1.9]);
/// assert_eq!(nearest_euclidean_batch(&w, &xs), vec![Some(0), Some(1)]);
/// ```
pub fn nearest_euclidean_batch<T: Ring + Send + Sync>(
    w: &DMatrix<T>,
    xs: &DMatrix<T>,
) -> Vec<Option<usize>> {
    par::batch(
        w,
        xs,
        "nearest_euclidean_batch (W rows vs query rows)",
        |x| filter::best_token(w.as_slice(), w.ncols(), x, false),
    )
}

/// The token of largest cosine similarity with `x` (lowest index on ties).
///
/// Equals [`argmax_dot`] when all tokens have the same norm; not in general.
///
/// # Formula
/// ```text
/// nearest_cosine(W, x) = min { i : cos(x, wᵢ) = maxⱼ cos(x, wⱼ) },   wⱼ ≠ 0
/// ```
///
/// # Special values
/// `None` with no non-zero token, for a zero `x`, or when a cosine is NaN (non-finite input).
/// Zero tokens are skipped.
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::nearest_cosine;
/// // w₀ = (1, 0), w₁ = (3, 3): x = (1, 1) points exactly along w₁.
/// let w = DMatrix::from_column_slice(2, 2, &[1.0f64, 0.0, 3.0, 3.0]);
/// assert_eq!(nearest_cosine(&w, &[1.0, 1.0]), Some(1));
/// let w = DMatrix::from_column_slice(2, 2, &[1.0f32, 0.0, 3.0, 3.0]);
/// assert_eq!(nearest_cosine(&w, &[0.0, 0.0]), None);
/// ```
pub fn nearest_cosine<T: Real>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    assert_same_len("nearest_cosine (W rows vs x)", w.nrows(), x.len());
    cosine_ranking(w.as_slice(), w.ncols(), x)
}

/// [`nearest_cosine`] on tokens stored one after another in one slice (token `j` is
/// `tokens[j·d..(j+1)·d]`, as for [`argmax_dot_tokens`]): the same answer as
/// [`nearest_cosine`] on the `d × V` matrix with that column-major storage, without the
/// matrix.
///
/// # Special values
/// As [`nearest_cosine`] (`None` when `tokens` is empty).
///
/// # Panics
/// If `d` is 0, `tokens.len()` is not a multiple of `d`, or `x.len() != d`.
///
/// # Examples
/// ```
/// use transformer_laws::unembed::nearest_cosine_tokens;
/// // w₀ = (1, 0), w₁ = (3, 3): x = (1, 1) points exactly along w₁.
/// let tokens = [1.0f32, 0.0, 3.0, 3.0];
/// assert_eq!(nearest_cosine_tokens(&tokens, 2, &[1.0, 1.0]), Some(1));
/// assert_eq!(nearest_cosine_tokens(&tokens, 2, &[0.0, 0.0]), None);
/// ```
pub fn nearest_cosine_tokens<T: Real>(tokens: &[T], d: usize, x: &[T]) -> Option<usize> {
    let v = token_count("nearest_cosine_tokens", tokens.len(), d, x.len());
    cosine_ranking(tokens, v, x)
}

/// [`nearest_cosine`] with the tokens split between the threads of rayon's pool: the same
/// answer. For `f32` tokens on the vector path the vector pass runs as tasks of 2048 tokens
/// each; the filter and the reference cosines then decide as in [`nearest_cosine`]. Other
/// types, and the scalar level, run [`nearest_cosine`]'s reference on the calling thread.
///
/// # Formula
/// ```text
/// nearest_cosine_par(W, x) = nearest_cosine(W, x)
/// ```
///
/// # Special values
/// As [`nearest_cosine`].
///
/// # Panics
/// If `x.len() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::{nearest_cosine, nearest_cosine_par};
/// let w = DMatrix::from_fn(16, 5000, |i, j| ((i * 7 + j * 13) % 29) as f32 - 14.0);
/// let x: Vec<f32> = (0..16).map(|i| i as f32 - 7.5).collect();
/// assert_eq!(nearest_cosine_par(&w, &x), nearest_cosine(&w, &x));
/// ```
pub fn nearest_cosine_par<T: Real + Send + Sync>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    assert_same_len("nearest_cosine_par (W rows vs x)", w.nrows(), x.len());
    par::cosine_par(w, x)
}

/// [`nearest_cosine`] of each query, the queries the **columns** of `xs` (`d × B`, like the
/// tokens), one query per task on rayon's pool: the same answers as one call per query.
///
/// # Formula
/// ```text
/// nearest_cosine_batch(W, X)ₖ = nearest_cosine(W, xₖ)
/// ```
///
/// # Special values
/// As [`nearest_cosine`], per query; `[]` for no query.
///
/// # Panics
/// If `xs.nrows() != W.nrows()`.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::nearest_cosine_batch;
/// // w₀ = (1, 0), w₁ = (3, 3); the queries (1, 0.1), (0, 1) and (0, 0).
/// let w = DMatrix::from_column_slice(2, 2, &[1.0f64, 0.0, 3.0, 3.0]);
/// let xs = DMatrix::from_column_slice(2, 3, &[1.0, 0.1, 0.0, 1.0, 0.0, 0.0]);
/// assert_eq!(nearest_cosine_batch(&w, &xs), vec![Some(0), Some(1), None]);
/// ```
pub fn nearest_cosine_batch<T: Real + Send + Sync>(
    w: &DMatrix<T>,
    xs: &DMatrix<T>,
) -> Vec<Option<usize>> {
    par::batch(w, xs, "nearest_cosine_batch (W rows vs query rows)", |x| {
        nearest_cosine(w, x)
    })
}

/// [`nearest_cosine`] of the `v` tokens stored one after another in `w`: for `f32` the vector
/// pass and its filter ([`filter::cosine_f32`]), which give the reference's answer; otherwise,
/// or when that path does not apply, the reference [`best_cosine`].
fn cosine_ranking<T: Real>(w: &[T], v: usize, x: &[T]) -> Option<usize> {
    if let (Some(FloatSlice::F32(ws)), Some(FloatSlice::F32(xs))) =
        (T::as_floats(w), T::as_floats(x))
        && let Some(best) = filter::cosine_f32(isa(), ws, v, xs)
    {
        return best;
    }
    best_cosine(rank::columns(w, v), x)
}

/// The index of the largest cosine between `x` and the tokens (lowest on ties, zero tokens
/// skipped): [`nearest_cosine`]'s answer for any storage of the tokens, computed from the
/// reference cosines.
pub(super) fn best_cosine<'a, T: Real + 'a>(
    tokens: impl IntoIterator<Item = &'a [T]>,
    x: &[T],
) -> Option<usize> {
    // x scaled, and its squared norm, once for every token.
    let x = CosineSide::new(&widen_all(x))?;
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in tokens.into_iter().enumerate() {
        let Some(c) = CosineSide::new(&widen_all(c)) else {
            continue;
        };
        let cos = x.cosine(&c);
        if cos.is_nan() {
            return None;
        }
        if best.is_none_or(|(_, b)| cos > b) {
            best = Some((i, cos));
        }
    }
    best.map(|(i, _)| i)
}

/// The MIPS augmentation: each token `wᵢ` becomes `(wᵢ, √(M² − |wᵢ|²))`, so that every
/// augmented token has norm `M` and nearest-neighbour search on the augmented tokens with the
/// query `(x, 0)` ([`mips_query`]) finds `argmax_i x·wᵢ` (Bachrach et al., RecSys 2014).
///
/// # Formula
/// ```text
/// w'ᵢ = (wᵢ, √((M − |wᵢ|)(M + |wᵢ|))),   M = max_i |wᵢ| unless given
/// ```
/// The factored form avoids the cancellation in `M² − |wᵢ|²` for the longest tokens.
///
/// # Special values
/// A NaN or infinite norm makes that token's extra coordinate NaN.
///
/// # Panics
/// If `m` is given and smaller than the largest token norm, or is NaN.
///
/// # Examples
/// ```
/// use nalgebra::DMatrix;
/// use transformer_laws::unembed::{argmax_dot, mips_augment, mips_query, nearest_euclidean};
/// let w = DMatrix::from_column_slice(1, 2, &[1.0f64, 2.0]);
/// let w2 = mips_augment(&w, None);
/// assert_eq!(w2.column(0).as_slice(), &[1.0, 3f64.sqrt()]);
/// let x = [1.0];
/// assert_eq!(nearest_euclidean(&w2, &mips_query(&x)), argmax_dot(&w, &x));
/// let w = DMatrix::from_column_slice(1, 1, &[3.0f32]);
/// assert_eq!(mips_augment(&w, Some(5.0)).as_slice(), &[3.0, 4.0]);
/// ```
pub fn mips_augment<T: Real>(w: &DMatrix<T>, m: Option<T>) -> DMatrix<T> {
    let norms: Vec<f64> = columns(w)
        .into_iter()
        .map(|c| norm_f64(&widen_all(c)))
        .collect();
    let max = norms.iter().fold(0.0f64, |a, &b| a.max(b));
    let m = match m {
        Some(m) => {
            let mw = m.widen();
            assert!(
                mw >= max,
                "mips_augment: M = {m} is smaller than the largest token norm {max}"
            );
            mw
        }
        None => max,
    };
    let d = w.nrows();
    let cols = columns(w);
    DMatrix::from_fn(d + 1, w.ncols(), |r, c| {
        if r < d {
            cols[c][r]
        } else {
            let n = norms[c];
            let r = (m - n) * (m + n);
            T::narrow(if r.is_nan() { r } else { r.max(0.0).sqrt() })
        }
    })
}

/// The query side of the MIPS augmentation: `(x, 0)`.
///
/// # Formula
/// ```text
/// x' = (x₁, …, x_d, 0)
/// ```
///
/// # Special values
/// None: the entries are copied.
///
/// # Examples
/// ```
/// use transformer_laws::unembed::mips_query;
/// assert_eq!(mips_query(&[1.0f32, 2.0]), vec![1.0, 2.0, 0.0]);
/// assert_eq!(mips_query(&[1.0f64]), vec![1.0, 0.0]);
/// ```
pub fn mips_query<T: Ring>(x: &[T]) -> Vec<T> {
    let mut v = x.to_vec();
    v.push(T::zero());
    v
}
