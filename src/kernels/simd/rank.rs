//! The vector scores of the `f32` ranking ([`crate::unembed::argmax_dot`],
//! [`crate::unembed::nearest_euclidean`], [`crate::unembed::nearest_cosine`]): one streaming
//! pass over the tokens, sixteen entries a step, as four registers of four `f64` lanes (AVX2 +
//! FMA) or two of eight (AVX-512, the same sums bit for bit).
//!
//! [`scores`] is compiled with `avx2,fma` enabled and may only be called where
//! [`super::Isa::Avx2Fma`] is available (on every vector level), [`scores_avx512`] with
//! `avx512f` where [`super::Isa::Avx512`] is; the callers in [`super`] check it.

use super::avx2::prefetch_ahead;
use core::arch::x86_64::*;

/// How far ahead of the entries it reads a pass asks for the matrix, in bytes: one 4 kB page.
/// The hardware's prefetcher does not cross 4 kB boundaries, so without this each page of the
/// matrix begins with misses; on this project's machine a one-query argmax-dot over 50,257 ×
/// 768 took 12.8 ms without it and 9.1 ms with it, at the speed of a plain read.
const PAGE_AHEAD: usize = 4096;

#[inline]
#[target_feature(enable = "avx2,fma")]
fn hsum(v: __m256d) -> f64 {
    let lo = _mm256_castpd256_pd128(v);
    let hi = _mm256_extractf128_pd::<1>(v);
    let s = _mm_add_pd(lo, hi);
    _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn hmax(v: __m256) -> f32 {
    let mut a = [0.0f32; 8];
    // SAFETY: `a` has room for eight f32.
    unsafe { _mm256_storeu_ps(a.as_mut_ptr(), v) };
    a.iter().copied().fold(0.0f32, f32::max)
}

/// The scores of the tokens stored column by column in `w` (`x.len()` entries each, one key
/// per token in `keys`) against `x` (an `f32` query widened to `f64`): `x·wⱼ` (`DOT`) or
/// `|x − wⱼ|²`, summed in `f64` (products exact; differences rounded once, squares fused into
/// their additions); for `DOT` also `maxᵢ|wⱼᵢ|` of each token in `col_max` (unused otherwise),
/// and with `SQ` (only with `DOT`: the cosine) each token's `Σᵢ wⱼᵢ²` in `sq` (squares exact,
/// summed in `f64`). Their error bounds: `tolerance::rank_dot_err_f32`,
/// `tolerance::rank_distance_rel_err_f32`, `tolerance::rank_cosine_norm_rel_err_f32` (which
/// covers the sums of squares).
///
/// `x` must not be empty, `w.len() = x.len()·keys.len()`, for `DOT`
/// `col_max.len() = keys.len()` and for `SQ` `sq.len() = keys.len()`.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn scores<const DOT: bool, const SQ: bool>(
    w: &[f32],
    x: &[f64],
    keys: &mut [f64],
    col_max: &mut [f32],
    sq: &mut [f64],
) {
    let d = x.len();
    assert!(d > 0 && w.len() == d * keys.len() && (!DOT || col_max.len() == keys.len()));
    assert!(!SQ || (DOT && sq.len() == keys.len()));
    let main = d / 16 * 16;
    let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    for (j, c) in w.chunks_exact(d).enumerate() {
        let mut a = [_mm256_setzero_pd(); 4];
        let mut a2 = [_mm256_setzero_pd(); 4];
        let (mut m0, mut m1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i < main {
            // SAFETY: i + 16 ≤ d, the length of both the column `c` and `x`.
            unsafe {
                let p = c.as_ptr().add(i);
                prefetch_ahead::<PAGE_AHEAD, _>(p);
                let q = x.as_ptr().add(i);
                let va = _mm256_loadu_ps(p);
                let vb = _mm256_loadu_ps(p.add(8));
                let w4 = [
                    _mm256_cvtps_pd(_mm256_castps256_ps128(va)),
                    _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(va)),
                    _mm256_cvtps_pd(_mm256_castps256_ps128(vb)),
                    _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(vb)),
                ];
                for k in 0..4 {
                    if SQ {
                        a2[k] = _mm256_fmadd_pd(w4[k], w4[k], a2[k]);
                    }
                    let xk = _mm256_loadu_pd(q.add(4 * k));
                    a[k] = if DOT {
                        _mm256_fmadd_pd(w4[k], xk, a[k])
                    } else {
                        let t = _mm256_sub_pd(w4[k], xk);
                        _mm256_fmadd_pd(t, t, a[k])
                    };
                }
                if DOT {
                    m0 = _mm256_max_ps(m0, _mm256_and_ps(va, abs));
                    m1 = _mm256_max_ps(m1, _mm256_and_ps(vb, abs));
                }
            }
            i += 16;
        }
        let total = |a: [__m256d; 4]| {
            hsum(_mm256_add_pd(
                _mm256_add_pd(a[0], a[1]),
                _mm256_add_pd(a[2], a[3]),
            ))
        };
        let m = if DOT {
            hmax(_mm256_max_ps(m0, m1))
        } else {
            0.0
        };
        let s2 = if SQ { total(a2) } else { 0.0 };
        let done = finish::<DOT, SQ>((&c[main..], &x[main..]), (total(a), s2, m));
        store::<DOT, SQ>(j, done, (keys, col_max, sq));
    }
}

/// Token `j`'s score, and its largest magnitude and sum of squares where asked for, into the
/// outputs of the passes.
#[inline]
fn store<const DOT: bool, const SQ: bool>(
    j: usize,
    (s, s2, m): (f64, f64, f32),
    (keys, col_max, sq): (&mut [f64], &mut [f32], &mut [f64]),
) {
    keys[j] = s;
    if DOT {
        col_max[j] = m;
    }
    if SQ {
        sq[j] = s2;
    }
}

/// A token's entries after its last full step of sixteen, one at a time onto the lanes'
/// totals `(s, s2, m)` (the score, the sum of squares, the largest magnitude), as both
/// passes end.
#[inline]
fn finish<const DOT: bool, const SQ: bool>(
    (c, x): (&[f32], &[f64]),
    (mut s, mut s2, mut m): (f64, f64, f32),
) -> (f64, f64, f32) {
    for (&wv, &xv) in c.iter().zip(x) {
        if DOT {
            s += f64::from(wv) * xv;
            m = m.max(wv.abs());
            if SQ {
                s2 += f64::from(wv) * f64::from(wv);
            }
        } else {
            let t = f64::from(wv) - xv;
            s += t * t;
        }
    }
    (s, s2, m)
}

/// [`scores`] on eight `f64` lanes (AVX-512): the same sums bit for bit. The AVX2 pass's
/// sixteen lanes (four registers of four, lane `4k + j` adding the entries `i ≡ 4k + j`
/// (mod 16)) are two registers of eight here, and the totals are folded in the AVX2 order:
/// the four-lane halves added as the AVX2 registers were, `(a₀ + a₁) + (a₂ + a₃)`, then the
/// same horizontal sum.
///
/// May only be called where [`super::Isa::Avx512`] is available.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn scores_avx512<const DOT: bool, const SQ: bool>(
    w: &[f32],
    x: &[f64],
    keys: &mut [f64],
    col_max: &mut [f32],
    sq: &mut [f64],
) {
    let d = x.len();
    assert!(d > 0 && w.len() == d * keys.len() && (!DOT || col_max.len() == keys.len()));
    assert!(!SQ || (DOT && sq.len() == keys.len()));
    let main = d / 16 * 16;
    let abs = _mm512_set1_epi32(0x7fff_ffff);
    // (a₀ + a₁) + (a₂ + a₃) of the AVX2 registers: the halves of each register of eight.
    let total = |a: [__m512d; 2]| {
        let half =
            |v: __m512d| _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd::<1>(v));
        hsum(_mm256_add_pd(half(a[0]), half(a[1])))
    };
    for (j, c) in w.chunks_exact(d).enumerate() {
        let mut a = [_mm512_setzero_pd(); 2];
        let mut a2 = [_mm512_setzero_pd(); 2];
        let mut m = _mm512_setzero_ps();
        let mut i = 0;
        while i < main {
            // SAFETY: i + 16 ≤ d, the length of both the column `c` and `x`.
            unsafe {
                prefetch_ahead::<PAGE_AHEAD, _>(c.as_ptr().add(i));
                let v = _mm512_loadu_ps(c.as_ptr().add(i));
                let q = x.as_ptr().add(i);
                let w2 = [
                    _mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(
                        _mm512_castps_pd(v),
                    ))),
                ];
                for k in 0..2 {
                    if SQ {
                        a2[k] = _mm512_fmadd_pd(w2[k], w2[k], a2[k]);
                    }
                    let xk = _mm512_loadu_pd(q.add(8 * k));
                    a[k] = if DOT {
                        _mm512_fmadd_pd(w2[k], xk, a[k])
                    } else {
                        let t = _mm512_sub_pd(w2[k], xk);
                        _mm512_fmadd_pd(t, t, a[k])
                    };
                }
                if DOT {
                    // |v| by the integer and (AVX-512 F; the float one needs DQ).
                    let va = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), abs));
                    m = _mm512_max_ps(m, va);
                }
            }
            i += 16;
        }
        let mx = if DOT { _mm512_reduce_max_ps(m) } else { 0.0 };
        let s2 = if SQ { total(a2) } else { 0.0 };
        let done = finish::<DOT, SQ>((&c[main..], &x[main..]), (total(a), s2, mx));
        store::<DOT, SQ>(j, done, (keys, col_max, sq));
    }
}
