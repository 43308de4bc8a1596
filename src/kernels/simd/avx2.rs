//! The AVX2 + FMA lanes of the `f32`-input kernels: four `f64` lanes per register, the `exp`
//! of [`super::exp`] operation for operation, sums blocked and compensated.
//!
//! Every function here is compiled with `avx2,fma` enabled and may only be called after
//! [`super::Isa::Avx2Fma`] is available (on every vector level; the callers in [`super`] check it).

use super::exp::{C, LN2_HI_8, LN2_LO_8, LOG2E_8, SHIFTER, T_SHIFTED_BITS, X_MIN, exp_poly};
use crate::kernels::scalar::{Acc, two_sum};
use core::arch::x86_64::*;
use std::mem::MaybeUninit;

/// Terms per lane in one block of the blocked sum: each lane adds `BLOCK` terms plainly, then
/// the block total joins a compensated (TwoSum) accumulator. Error of the whole sum of
/// non-negative terms ≤ (γ_BLOCK + 2u)·Σ (see `tolerance::narrow_sum_rel_err`).
pub(crate) const BLOCK: usize = 16;

/// The low and the high 32 bits of each entry of [`T_SHIFTED_BITS`], as two tables of eight
/// for `vpermd`.
const TS_HALVES: ([i32; 8], [i32; 8]) = {
    let (mut lo, mut hi) = ([0i32; 8], [0i32; 8]);
    let mut j = 0;
    while j < 8 {
        lo[j] = T_SHIFTED_BITS[j] as u32 as i32;
        hi[j] = (T_SHIFTED_BITS[j] >> 32) as u32 as i32;
        j += 1;
    }
    (lo, hi)
};

/// How far ahead of its stores an output pass asks for the cache lines it will write, in
/// bytes (eight lines). A kernel's output is fresh memory, in L2 at best: without the request
/// the first store to each line waits for it, and the stores behind it fill the store buffer.
/// On this project's machine (AVX-512) it took LayerNorm of 32 × 4096 from 36.8 to 34.4 µs and
/// RMSNorm from 30.7 to 27.2; 4 kB ahead was worse for RMSNorm, 256 B and 1 kB the same.
pub(crate) const STORE_AHEAD: usize = 512;

/// How far ahead of its loads a pass over a row in L2 asks for the lines it will read, in
/// bytes. The passes over a 50,257-entry row (200 kB of `f32`, 400 kB of `f64` terms) read
/// from L2, where the hardware's prefetcher alone left them waiting: on this project's machine
/// (AVX-512) the softmax's scaling pass and the extremes pass each took about 0.4 µs less with
/// the request (1 and 4 kB ahead were no better).
pub(crate) const READ_AHEAD: usize = 2048;

/// Ask for the cache line `BYTES` past `p`, about to be read or written. A prefetch never
/// faults, and `wrapping_byte_add` claims nothing about the address: past the end of the data
/// the request is useless and harmless.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn prefetch_ahead<const BYTES: usize, T>(p: *const T) {
    _mm_prefetch::<_MM_HINT_T0>(p.wrapping_byte_add(BYTES).cast::<i8>());
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn splat(x: f64) -> __m256d {
    _mm256_set1_pd(x)
}

/// `exp` of `N` registers of four lanes, `x ≤ 0` or −∞ (no NaN): bit for bit [`exp_poly`].
/// Without `CLAMP` only for `x ≥ −708` (the caller checks the row's minimum), where the clamp
/// and the final select of [`exp_poly`] change nothing: three operations fewer per register.
///
/// The registers go through the formula in lockstep, each operation applied to all `N` before
/// the next: one `exp` is a chain of some fifteen dependent operations (about 60 cycles), and
/// written one register after another the processor's scheduler holds too few of them to
/// keep both FMA units busy; interleaved, every operation has `N − 1` independent neighbours.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp_lanes<const N: usize, const CLAMP: bool>(x: [__m256d; N]) -> [__m256d; N] {
    let xc = if CLAMP {
        x.map(|x| _mm256_max_pd(x, splat(X_MIN)))
    } else {
        x
    };
    let t = xc.map(|x| _mm256_fmadd_pd(x, splat(LOG2E_8), splat(SHIFTER)));
    let kf = t.map(|t| _mm256_sub_pd(t, splat(SHIFTER)));
    let mut r = xc;
    for q in 0..N {
        r[q] = _mm256_fnmadd_pd(kf[q], splat(LN2_HI_8), r[q]);
    }
    for q in 0..N {
        r[q] = _mm256_fnmadd_pd(kf[q], splat(LN2_LO_8), r[q]);
    }
    let mut h = [splat(C[6]); N];
    for &c in C[..6].iter().rev() {
        for q in 0..N {
            h[q] = _mm256_fmadd_pd(h[q], r[q], splat(c));
        }
    }
    // SAFETY: each table holds eight i32.
    let (lo_t, hi_t) = unsafe {
        (
            _mm256_loadu_si256(TS_HALVES.0.as_ptr().cast()),
            _mm256_loadu_si256(TS_HALVES.1.as_ptr().cast()),
        )
    };
    let mut y = r;
    for q in 0..N {
        let p = _mm256_mul_pd(r[q], h[q]);
        // The shifted table entry of j, the low three bits of t: its low half picked by the
        // low 32 bits of t (vpermd reads three bits of each 32-bit index), its high half by
        // the same bits moved up to the high 32 bits; then the halves blended. Plus
        // tb << 49: S = 2^k·T[j].
        let tb = _mm256_castpd_si256(t[q]);
        let lo = _mm256_permutevar8x32_epi32(lo_t, tb);
        let hi = _mm256_permutevar8x32_epi32(hi_t, _mm256_slli_epi64::<32>(tb));
        let tj = _mm256_blend_epi32::<0b1010_1010>(lo, hi);
        let s = _mm256_castsi256_pd(_mm256_add_epi64(tj, _mm256_slli_epi64::<49>(tb)));
        let e = _mm256_fmadd_pd(s, p, s);
        y[q] = if CLAMP {
            _mm256_and_pd(e, _mm256_cmp_pd::<_CMP_GE_OQ>(x[q], splat(X_MIN)))
        } else {
            e
        };
    }
    y
}

/// Vector TwoSum: `a + b = s + e` exactly, lane by lane.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn two_sum4(a: __m256d, b: __m256d) -> (__m256d, __m256d) {
    let s = _mm256_add_pd(a, b);
    let bb = _mm256_sub_pd(s, a);
    let e = _mm256_add_pd(_mm256_sub_pd(a, _mm256_sub_pd(s, bb)), _mm256_sub_pd(b, bb));
    (s, e)
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn lanes(v: __m256d) -> [f64; 4] {
    let mut a = [0.0f64; 4];
    // SAFETY: `a` has room for four f64.
    unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) };
    a
}

/// Eight `f32` at `p` widened to two registers of four `f64`.
///
/// # Safety
/// `p` must point to eight readable `f32`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn load8(p: *const f32) -> (__m256d, __m256d) {
    // SAFETY: the caller guarantees eight readable f32 at p.
    unsafe {
        (
            _mm256_cvtps_pd(_mm_loadu_ps(p)),
            _mm256_cvtps_pd(_mm_loadu_ps(p.add(4))),
        )
    }
}

/// Rows of [`max_argmax_min_nan`] have fewer entries than this (2³⁶: sixteen-entry chunks
/// counted in 32 bits).
pub(crate) const MAX_EXTREMES_LEN: usize = 1 << 36;

/// The extremes of a non-empty row in one pass: `(max z, the first index of max z, min z, any
/// NaN)` (the extremes and the index are meaningful only without NaN, and the index only for a
/// finite maximum; the maximum is then the entry at that index, of its sign for a zero).
///
/// Sixteen lanes each keep their running maximum and the chunk where it last grew strictly:
/// the first chunk where the lane reached its final maximum, so the lane's first occurrence of
/// it. The first index of the row's maximum is the least of those occurrences over the lanes
/// whose maximum is the row's, and the entries after the last full chunk. Chunks are counted
/// in 32 bits: the row must have fewer than [`MAX_EXTREMES_LEN`] entries.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn max_argmax_min_nan(z: &[f32]) -> (f32, usize, f32, bool) {
    assert!(z.len() < MAX_EXTREMES_LEN);
    let chunks = z.chunks_exact(16);
    let rest = chunks.remainder();
    let (mut m0, mut m1) = (
        _mm256_set1_ps(f32::NEG_INFINITY),
        _mm256_set1_ps(f32::NEG_INFINITY),
    );
    let (mut l0, mut l1) = (_mm256_set1_ps(f32::INFINITY), _mm256_set1_ps(f32::INFINITY));
    let (mut at0, mut at1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    let mut chunk = _mm256_setzero_si256();
    let one = _mm256_set1_epi32(1);
    let mut nan = _mm256_setzero_ps();
    for c in chunks {
        // SAFETY: a chunk holds sixteen f32.
        let (a, b) = unsafe {
            (
                _mm256_loadu_ps(c.as_ptr()),
                _mm256_loadu_ps(c.as_ptr().add(8)),
            )
        };
        prefetch_ahead::<READ_AHEAD, _>(c.as_ptr());
        // Strictly greater (false for NaN): the lane's maximum grows in this chunk.
        let g0 = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(a, m0));
        let g1 = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(b, m1));
        at0 = _mm256_blendv_epi8(at0, chunk, g0);
        at1 = _mm256_blendv_epi8(at1, chunk, g1);
        m0 = _mm256_max_ps(m0, a);
        m1 = _mm256_max_ps(m1, b);
        l0 = _mm256_min_ps(l0, a);
        l1 = _mm256_min_ps(l1, b);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps::<_CMP_UNORD_Q>(a, b));
        chunk = _mm256_add_epi32(chunk, one);
    }
    let (mut m, mut l) = ([0.0f32; 16], [0.0f32; 8]);
    let mut at = [0u32; 16];
    // SAFETY: `m` and `at` have room for sixteen values, `l` for eight.
    unsafe {
        _mm256_storeu_ps(m.as_mut_ptr(), m0);
        _mm256_storeu_ps(m.as_mut_ptr().add(8), m1);
        _mm256_storeu_si256(at.as_mut_ptr().cast(), at0);
        _mm256_storeu_si256(at.as_mut_ptr().add(8).cast(), at1);
        _mm256_storeu_ps(l.as_mut_ptr(), _mm256_min_ps(l0, l1));
    }
    let mut has_nan = _mm256_movemask_ps(nan) != 0;
    let mut best = m.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut least = l.iter().copied().fold(f32::INFINITY, f32::min);
    let mut first = (0..16)
        .filter(|&q| m[q] == best)
        .map(|q| at[q] as usize * 16 + q)
        .min()
        .unwrap_or(usize::MAX);
    let tail = z.len() - rest.len();
    for (j, &v) in rest.iter().enumerate() {
        has_nan |= v.is_nan();
        if v > best {
            best = v;
            first = tail + j;
        } else if v == best {
            first = first.min(tail + j);
        }
        least = least.min(v);
    }
    if first < z.len() {
        // The entry itself: for a zero, of its own sign (the lanes' maxima may hold either).
        best = z[first];
    }
    (best, first, least, has_nan)
}

/// Registers of [`exp_sum`] per step (16 terms), each with its own block sum, all four through
/// one [`exp_lanes`] call: more in lockstep leave too few of the sixteen vector registers for
/// the formula's intermediate values, and the spills cost more than the overlap gains.
const WIDTH: usize = 4;

/// `Σ exp(zⱼ − m)` over a segment as a pair `(hi, lo)`, writing each term to `out` when given
/// (`out.len() == z.len()`). `zⱼ ≤ m`, no NaN; `clamp` must be set unless every
/// `zⱼ − m ≥ −708` (no −∞ either). Blocked: `BLOCK` plain additions per lane, then a TwoSum
/// into the lane's compensated accumulator.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn exp_sum(
    z: &[f32],
    m: f64,
    out: Option<&mut [MaybeUninit<f64>]>,
    clamp: bool,
) -> (f64, f64) {
    match (clamp, out) {
        (true, Some(o)) => exp_sum_with::<true, true>(z, m, o),
        (true, None) => exp_sum_with::<true, false>(z, m, &mut []),
        (false, Some(o)) => exp_sum_with::<false, true>(z, m, o),
        (false, None) => exp_sum_with::<false, false>(z, m, &mut []),
    }
}

/// [`exp_sum`] with the clamp (`CLAMP`) and the store of the terms (`STORE`, into `out`)
/// decided at compile time.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp_sum_with<const CLAMP: bool, const STORE: bool>(
    z: &[f32],
    m: f64,
    out: &mut [MaybeUninit<f64>],
) -> (f64, f64) {
    let mv = splat(m);
    let zero = _mm256_setzero_pd();
    let (mut hi, mut lo) = ([zero; WIDTH], [zero; WIDTH]);
    let mut blk = [zero; WIDTH];
    let step = 4 * WIDTH;
    let full = z.len() / step * step;
    assert!(!STORE || out.len() >= z.len());
    let mut count = 0;
    let mut i = 0;
    while i < full {
        let x: [__m256d; WIDTH] = std::array::from_fn(|q| {
            // SAFETY: i + 4q + 4 ≤ i + step ≤ z.len().
            let a = unsafe { _mm256_cvtps_pd(_mm_loadu_ps(z.as_ptr().add(i + 4 * q))) };
            _mm256_sub_pd(a, mv)
        });
        let e = exp_lanes::<WIDTH, CLAMP>(x);
        for q in 0..WIDTH {
            if STORE {
                let o = out.as_mut_ptr().cast::<f64>();
                // SAFETY: i + 4q + 4 ≤ z.len() ≤ out.len() (asserted).
                unsafe { _mm256_storeu_pd(o.add(i + 4 * q), e[q]) };
            }
            blk[q] = _mm256_add_pd(blk[q], e[q]);
        }
        count += 1;
        if count == BLOCK {
            for q in 0..WIDTH {
                let (s, err) = two_sum4(hi[q], blk[q]);
                hi[q] = s;
                lo[q] = _mm256_add_pd(lo[q], err);
                blk[q] = zero;
            }
            count = 0;
        }
        i += step;
    }
    let mut acc = Acc::default();
    for q in 0..WIDTH {
        let (s, err) = two_sum4(hi[q], blk[q]);
        for (a, b) in lanes(s).into_iter().zip(lanes(_mm256_add_pd(lo[q], err))) {
            acc.add(a);
            acc.add(b);
        }
    }
    let from = full.min(out.len());
    exp_sum_tail::<STORE>(&z[full..], m, &mut out[from..], &mut acc, exp_poly);
    acc.pair()
}

/// The entries of an exp pass after its last full step, one at a time (`exp` of `zⱼ − m`: the
/// lanes' scalar twin, [`exp_poly`] here, `exp_poly16` on the AVX-512 lanes), into `acc`, each
/// term also written to `out` when `STORE`.
pub(crate) fn exp_sum_tail<const STORE: bool>(
    z: &[f32],
    m: f64,
    out: &mut [MaybeUninit<f64>],
    acc: &mut Acc,
    exp: fn(f64) -> f64,
) {
    for (j, &v) in z.iter().enumerate() {
        let e = exp(f64::from(v) - m);
        if STORE {
            out[j].write(e);
        }
        acc.add(e);
    }
}

/// `out[j] = (f32) (e[j]·c)`.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn scale_to_f32(e: &[f64], c: f64, out: &mut [MaybeUninit<f32>]) {
    assert_eq!(e.len(), out.len());
    let cv = splat(c);
    let n4 = e.len() / 4 * 4;
    let mut i = 0;
    while i < n4 {
        // SAFETY: i + 4 ≤ len of both.
        unsafe {
            prefetch_ahead::<READ_AHEAD, _>(e.as_ptr().add(i));
            let v = _mm256_mul_pd(_mm256_loadu_pd(e.as_ptr().add(i)), cv);
            prefetch_ahead::<STORE_AHEAD, _>(out.as_ptr().add(i));
            _mm_storeu_ps(out.as_mut_ptr().add(i).cast::<f32>(), _mm256_cvtpd_ps(v));
        }
        i += 4;
    }
    for j in n4..e.len() {
        out[j].write((e[j] * c) as f32);
    }
}

/// `out[j] = (f32) ((z[j] − m) − l)`.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn shift_to_f32(z: &[f32], m: f64, l: f64, out: &mut [MaybeUninit<f32>]) {
    assert_eq!(z.len(), out.len());
    let (mv, lv) = (splat(m), splat(l));
    let n8 = z.len() / 8 * 8;
    let mut i = 0;
    while i < n8 {
        // SAFETY: i + 8 ≤ len of both.
        unsafe {
            prefetch_ahead::<READ_AHEAD, _>(z.as_ptr().add(i));
            let (a, b) = load8(z.as_ptr().add(i));
            let a = _mm256_sub_pd(_mm256_sub_pd(a, mv), lv);
            let b = _mm256_sub_pd(_mm256_sub_pd(b, mv), lv);
            let o = out.as_mut_ptr().cast::<f32>();
            prefetch_ahead::<STORE_AHEAD, _>(o.add(i));
            _mm_storeu_ps(o.add(i), _mm256_cvtpd_ps(a));
            _mm_storeu_ps(o.add(i + 4), _mm256_cvtpd_ps(b));
        }
        i += 8;
    }
    for j in n8..z.len() {
        out[j].write(((f64::from(z[j]) - m) - l) as f32);
    }
}

/// `(Σ (xᵢ − c), Σ (xᵢ − c)²)` in sixteen plain `f64` lanes (`c` the shift of the norms).
#[target_feature(enable = "avx2,fma")]
pub(crate) fn shifted_sums(x: &[f32], c: f64) -> (f64, f64) {
    let cv = splat(c);
    let zero = _mm256_setzero_pd();
    let (mut s, mut q) = ([zero; 4], [zero; 4]);
    let n16 = x.len() / 16 * 16;
    let mut i = 0;
    while i < n16 {
        // SAFETY: i + 16 ≤ x.len().
        let (a0, a1) = unsafe { load8(x.as_ptr().add(i)) };
        let (a2, a3) = unsafe { load8(x.as_ptr().add(i + 8)) };
        for (k, a) in [a0, a1, a2, a3].into_iter().enumerate() {
            let d = _mm256_sub_pd(a, cv);
            s[k] = _mm256_add_pd(s[k], d);
            q[k] = _mm256_fmadd_pd(d, d, q[k]);
        }
        i += 16;
    }
    let sum = |v: [__m256d; 4]| {
        let t = _mm256_add_pd(_mm256_add_pd(v[0], v[1]), _mm256_add_pd(v[2], v[3]));
        let l = lanes(t);
        (l[0] + l[1]) + (l[2] + l[3])
    };
    let (mut ss, mut qq) = (sum(s), sum(q));
    for &v in &x[n16..] {
        let d = f64::from(v) - c;
        ss += d;
        qq = d.mul_add(d, qq);
    }
    (ss, qq)
}

/// How [`affine_rows`] screens a LayerNorm row's entries for the caller's accuracy guard, on
/// their `f32` bits `b`: the row's least `d(b)` tells whether any entry lies in an interval
/// around its mean (see `super::Screen`).
pub(crate) mod screen {
    /// No screen (RMSNorm): the least is `u32::MAX`.
    pub const NONE: u8 = 0;
    /// `d = b − base` (wrapping): an interval of one sign, `d ≤ width` inside it.
    pub const INTERVAL: u8 = 1;
    /// `d = b << 1`, twice the bits of `|x|`: an interval about zero, `d ≤ width` inside it.
    pub const MAGNITUDE: u8 = 2;
}

/// The screen value of one entry's bits `b` (see [`screen`]).
#[inline]
pub(crate) fn screen_d<const SCR: u8>(b: u32, base: u32) -> u32 {
    match SCR {
        screen::INTERVAL => b.wrapping_sub(base),
        screen::MAGNITUDE => b << 1,
        _ => u32::MAX,
    }
}

/// γ and β as an output pass reads them: `f32` as the caller has them (widened at each step of
/// rows), or `f64` widened once by the caller for all its rows (one conversion less per eight
/// entries and row; worth its own pass and stores from a few steps of rows on).
pub(crate) trait Param: Copy {
    /// The entries are `f64` already.
    const WIDE: bool;
    /// The entry as `f64` (exact).
    fn wide(self) -> f64;
}

impl Param for f32 {
    const WIDE: bool = false;
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

impl Param for f64 {
    const WIDE: bool = true;
    fn wide(self) -> f64 {
        self
    }
}

/// Eight entries of γ or β at `p` as two registers of four `f64`.
///
/// # Safety
/// `p` must point to eight readable entries.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn load_param8<P: Param>(p: *const P) -> (__m256d, __m256d) {
    // SAFETY: eight readable entries at p (the caller's).
    unsafe {
        if P::WIDE {
            let p = p.cast::<f64>();
            (_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(4)))
        } else {
            load8(p.cast::<f32>())
        }
    }
}

/// LayerNorm's output pass over `R` rows of the same length at once: for row `q` with its
/// constants `k[q] = (c, r, c₂)`, `out[q][i] = (f32) (γᵢ·((xᵢ − c)·r − c₂) + βᵢ)`, γ = 1 and
/// β = 0 when absent (`c₂ = δ·r` for the mean correction δ, computed by the caller);
/// RMSNorm's when `scr` is [`screen::NONE`] (then `c = c₂ = 0`). γ and β come as given (`f32`,
/// widened at each step) or widened to `f64` by the caller once for all its rows ([`Param`]);
/// each entry is loaded once for the `R` rows, and each row's result is the same for every `R`
/// and either form of γ and β.
///
/// Returns, per row, the least screen value of its entries ([`screen`], with the row's
/// `base`) for the caller's accuracy guard: two integer operations per eight entries, on the
/// `f32` bits, where the normalized values' magnitudes would cost four.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn affine_rows<const R: usize, P: Param>(
    scr: u8,
    x: [&[f32]; R],
    k: [(f64, f64, f64); R],
    base: [u32; R],
    (gamma, beta): (Option<&[P]>, Option<&[P]>),
    out: [&mut [MaybeUninit<f32>]; R],
) -> [u32; R] {
    let n = x[0].len();
    assert!(x.iter().all(|x| x.len() == n) && out.iter().all(|o| o.len() == n));
    assert!(gamma.is_none_or(|g| g.len() == n) && beta.is_none_or(|b| b.len() == n));
    assert!(scr != screen::NONE || k.iter().all(|&(c, _, c2)| c == 0.0 && c2 == 0.0));
    // SAFETY (every arm): the lengths are asserted above, and each arm reads γ (β) only when
    // it passes them.
    unsafe { affine_dispatch!(affine_with, scr, (gamma, beta), (x, k, base), out) }
}

/// The rows of an output pass with their constants `(c, r, c₂)` and screen bases.
pub(crate) type RowsIn<'a, const R: usize> = ([&'a [f32]; R], [(f64, f64, f64); R], [u32; R]);

/// `$f::<SCR, G, B, R>(rows, g, b, out)` for the screen `$scr` and the presence of γ and β
/// (`$gb`), each combination compiled on its own: the output passes of both vector levels.
macro_rules! affine_dispatch {
    ($f:ident, $scr:expr, $gb:expr, $rows:expr, $out:expr) => {{
        use $crate::kernels::simd::avx2::screen::{INTERVAL as I, MAGNITUDE as M, NONE as O};
        let (a, out) = ($rows, $out);
        match ($scr, $gb.0, $gb.1) {
            (I, Some(g), Some(b)) => $f::<I, true, true, R, P>(a, g, b, out),
            (I, Some(g), None) => $f::<I, true, false, R, P>(a, g, &[], out),
            (I, None, Some(b)) => $f::<I, false, true, R, P>(a, &[], b, out),
            (I, None, None) => $f::<I, false, false, R, P>(a, &[], &[], out),
            (M, Some(g), Some(b)) => $f::<M, true, true, R, P>(a, g, b, out),
            (M, Some(g), None) => $f::<M, true, false, R, P>(a, g, &[], out),
            (M, None, Some(b)) => $f::<M, false, true, R, P>(a, &[], b, out),
            (M, None, None) => $f::<M, false, false, R, P>(a, &[], &[], out),
            (O, Some(g), Some(b)) => $f::<O, true, true, R, P>(a, g, b, out),
            (O, Some(g), None) => $f::<O, true, false, R, P>(a, g, &[], out),
            (O, None, Some(b)) => $f::<O, false, true, R, P>(a, &[], b, out),
            (O, None, None) => $f::<O, false, false, R, P>(a, &[], &[], out),
            (scr, ..) => unreachable!("screen {scr}"),
        }
    }};
}
pub(crate) use affine_dispatch;

/// Four lanes of [`affine_rows`]: the normalized entries `a·r − c₂` (`a = x − c` when
/// centered, else `x`: the same value, as `c = 0`), then γ and β.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn affine4<const CEN: bool, const G: bool, const B: bool>(
    a: __m256d,
    g: __m256d,
    b: __m256d,
    (cv, rv, c2v): (__m256d, __m256d, __m256d),
) -> __m256d {
    let mut y = if CEN {
        _mm256_fmadd_pd(_mm256_sub_pd(a, cv), rv, c2v)
    } else {
        _mm256_mul_pd(a, rv)
    };
    if G {
        y = _mm256_fmadd_pd(g, y, if B { b } else { _mm256_setzero_pd() });
    } else if B {
        y = _mm256_add_pd(y, b);
    }
    y
}

/// [`affine_rows`] for one screen (`SCR`, centered unless [`screen::NONE`]) and the presence
/// of γ (`G`) and β (`B`); `g`, `b` are read only when present. Eight entries per step: γ and
/// β loaded once, then for each row one 256-bit load of `x` and one store, widened and
/// narrowed as two halves, and the screen on the loaded bits.
///
/// # Safety
/// Every row of `x` and `out` has the same length, and so do `g` when `G` and `b` when `B`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn affine_with<const SCR: u8, const G: bool, const B: bool, const R: usize, P: Param>(
    (x, k, base): RowsIn<'_, R>,
    g: &[P],
    b: &[P],
    out: [&mut [MaybeUninit<f32>]; R],
) -> [u32; R] {
    let cen = SCR != screen::NONE;
    let n = x[0].len();
    let kv = k.map(|(c, r, c2)| (splat(c), splat(r), splat(-c2)));
    let bv = base.map(|b| _mm256_set1_epi32(b as i32));
    let zero = _mm256_setzero_pd();
    let mut s = [_mm256_set1_epi32(-1); R];
    let n8 = n / 8 * 8;
    let mut i = 0;
    while i < n8 {
        // SAFETY: i + 8 ≤ n for every row of x and out, and for g, b when read (the caller
        // guarantees their lengths).
        unsafe {
            let (g0, g1) = if G {
                load_param8(g.as_ptr().add(i))
            } else {
                (zero, zero)
            };
            let (b0, b1) = if B {
                load_param8(b.as_ptr().add(i))
            } else {
                (zero, zero)
            };
            for q in 0..R {
                let p = x[q].as_ptr().add(i);
                let (a0, a1) = load8(p);
                if cen {
                    let bits = _mm256_loadu_si256(p.cast());
                    let d = if SCR == screen::INTERVAL {
                        _mm256_sub_epi32(bits, bv[q])
                    } else {
                        _mm256_slli_epi32::<1>(bits)
                    };
                    s[q] = _mm256_min_epu32(s[q], d);
                }
                let y0 = if cen {
                    affine4::<true, G, B>(a0, g0, b0, kv[q])
                } else {
                    affine4::<false, G, B>(a0, g0, b0, kv[q])
                };
                let y1 = if cen {
                    affine4::<true, G, B>(a1, g1, b1, kv[q])
                } else {
                    affine4::<false, G, B>(a1, g1, b1, kv[q])
                };
                let y = _mm256_set_m128(_mm256_cvtpd_ps(y1), _mm256_cvtpd_ps(y0));
                prefetch_ahead::<STORE_AHEAD, _>(out[q].as_ptr().add(i));
                _mm256_storeu_ps(out[q].as_mut_ptr().add(i).cast::<f32>(), y);
            }
        }
        i += 8;
    }
    let mut least = [u32::MAX; R];
    for (q, out) in out.into_iter().enumerate() {
        let tail = affine_tail::<SCR, G, B, P>((x[q], k[q], base[q]), g, b, out, n8);
        least[q] = least_lane(s[q]).min(tail);
    }
    least
}

/// The least of a screen's eight running minima.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn least_lane(s: __m256i) -> u32 {
    let mut l = [0u32; 8];
    // SAFETY: `l` has room for eight u32.
    unsafe { _mm256_storeu_si256(l.as_mut_ptr().cast(), s) };
    l.into_iter().min().unwrap_or(u32::MAX)
}

/// The entries from `from` on of one row of an output pass, one at a time with the lanes'
/// operations (the same values), and their least screen value.
pub(crate) fn affine_tail<const SCR: u8, const G: bool, const B: bool, P: Param>(
    (x, (c, r, c2), base): (&[f32], (f64, f64, f64), u32),
    g: &[P],
    b: &[P],
    out: &mut [MaybeUninit<f32>],
    from: usize,
) -> u32 {
    let mut least = u32::MAX;
    for j in from..x.len() {
        least = least.min(screen_d::<SCR>(x[j].to_bits(), base));
        let v = f64::from(x[j]);
        let y = if SCR != screen::NONE {
            (v - c).mul_add(r, -c2)
        } else {
            v * r
        };
        let bj = if B { b[j].wide() } else { 0.0 };
        let y = if G {
            g[j].wide().mul_add(y, bj)
        } else if B {
            y + bj
        } else {
            y
        };
        out[j].write(y as f32);
    }
    least
}

/// Fold the two lanes' pairs into one (used by callers combining segments).
pub(crate) fn add_pairs(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (s, e) = two_sum(a.0, b.0);
    two_sum(s, e + a.1 + b.1)
}
