//! The multi-threaded rankings (rayon's pool): one query with the tokens split between threads,
//! and batches of queries, one query per task. Every answer is the one-thread function's
//! (the exact one, or for the cosine the reference cosines'), whatever the number of threads.

use super::filter::{self, Scores, best_token};
use super::rank::{columns, rank_float};
use crate::kernels::scalar::{FloatSlice, Real, Ring, assert_same_len};
use crate::kernels::simd::{self, Isa, isa, with_isa};
use nalgebra::DMatrix;
use rayon::prelude::*;

/// Tokens per task of the split pass: large enough that a task streams a few MB.
const TOKENS_PER_TASK: usize = 2048;

/// One query, tokens split between the threads of the pool.
pub(crate) fn rank_par<T: Ring + Send + Sync>(w: &DMatrix<T>, x: &[T], dot: bool) -> Option<usize> {
    let v = w.ncols();
    match (T::as_floats(w.as_slice()), T::as_floats(x)) {
        (Some(FloatSlice::F32(ws)), Some(FloatSlice::F32(xs))) => {
            rank_f32_par(isa(), ws, v, xs, dot)
                .unwrap_or_else(|| rank_float(&columns(ws, v), xs, dot))
        }
        _ => best_token(w.as_slice(), v, x, dot),
    }
}

/// The split vector pass of [`filter::rank_f32`]: each task scores a block of tokens at the
/// caller's level (`level`, passed on: worker threads do not see the caller's
/// [`crate::kernels::with_isa`]); the candidates and the exact decision are the same.
fn rank_f32_par(level: Isa, w: &[f32], v: usize, x: &[f32], dot: bool) -> Option<Option<usize>> {
    let d = x.len();
    if v == 0 || d == 0 || level == Isa::Scalar {
        return None;
    }
    let x64 = filter::widen(x);
    let mut s = Scores::new(v, dot);
    let col_max: Vec<&mut [f32]> = if dot {
        s.col_max.chunks_mut(TOKENS_PER_TASK).collect()
    } else {
        (0..v.div_ceil(TOKENS_PER_TASK))
            .map(|_| &mut [][..])
            .collect()
    };
    let done = s
        .keys
        .par_chunks_mut(TOKENS_PER_TASK)
        .zip(w.par_chunks(TOKENS_PER_TASK * d))
        .zip(col_max.into_par_iter())
        .all(|((keys, wc), cm)| simd::rank_scores(level, wc, &x64, dot, keys, cm));
    if !done {
        return None;
    }
    filter::decide(w, x, &s, dot)
}

/// [`super::nearest_cosine`] with the tokens split between the threads of the pool: for `f32`
/// on the vector path each task runs the pass over a block of tokens, and the filter and the
/// reference cosines decide as on one thread; otherwise the reference on this thread.
pub(crate) fn cosine_par<T: Real + Send + Sync>(w: &DMatrix<T>, x: &[T]) -> Option<usize> {
    if let (Some(FloatSlice::F32(ws)), Some(FloatSlice::F32(q))) =
        (T::as_floats(w.as_slice()), T::as_floats(x))
    {
        let (level, d) = (isa(), q.len());
        let split = |x64: &[f64], keys: &mut [f64], col_max: &mut [f32], sq: &mut [f64]| {
            keys.par_chunks_mut(TOKENS_PER_TASK)
                .zip(ws.par_chunks(TOKENS_PER_TASK * d))
                .zip(col_max.par_chunks_mut(TOKENS_PER_TASK))
                .zip(sq.par_chunks_mut(TOKENS_PER_TASK))
                .all(|(((k, wc), c), q)| simd::cosine_scores(level, wc, x64, k, c, q))
        };
        if let Some(best) = filter::cosine_with_pass(level, ws, w.ncols(), q, split) {
            return best;
        }
    }
    super::best_cosine(columns(w.as_slice(), w.ncols()), x)
}

/// Each query (a column of `xs`) ranked by `rank` on its own task, at the caller's level.
pub(crate) fn batch<T: Ring + Send + Sync>(
    w: &DMatrix<T>,
    xs: &DMatrix<T>,
    what: &str,
    rank: impl Fn(&[T]) -> Option<usize> + Sync,
) -> Vec<Option<usize>> {
    assert_same_len(what, w.nrows(), xs.nrows());
    let (level, d) = (isa(), xs.nrows());
    (0..xs.ncols())
        .into_par_iter()
        .map(|k| with_isa(level, || rank(&xs.as_slice()[k * d..(k + 1) * d])))
        .collect()
}
