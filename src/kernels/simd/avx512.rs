//! The AVX-512 lanes of the `f32`-input kernels: eight `f64` lanes per register and the same
//! sums lane for lane as [`super::avx2`]. The norms' sums and output passes, the scalings and
//! the rankings' scores give the AVX2 path's values bit for bit.
//!
//! The `exp` of the softmax family is its own, [`exp_poly16`]: a sixteen-entry table, one
//! permutation across two registers (`vpermi2pd`), lets a degree-5 polynomial reach the bound
//! for which the eight-entry table of the AVX2 lanes ([`super::exp::exp_poly`]) needs degree 6,
//! and the scaling by `2^k` is one `vscalefpd` where AVX2 shifts and adds the bits: seventeen
//! operations per eight terms, within the same bound (3·2⁻⁵³). Like the
//! AVX2 lanes' terms, each is a function of the exact difference `zⱼ − m` alone (so shifting
//! the logits by an exactly representable constant changes no bit); the `f32` results are the
//! AVX2 path's except where an exact value lies within the two paths' bounds of a rounding
//! boundary.
//!
//! The sixteen summing lanes of the AVX2 path (four registers of four) are two registers of
//! eight here: lane `ℓ` adds the entries `i ≡ ℓ (mod 16)` in the same order and in the same
//! blocks, and the lanes are folded in the AVX2 path's order.
//!
//! Every function here is compiled with `avx512f` (and AVX2, FMA) enabled and may only be
//! called where [`super::Isa::Avx512`] is available (the callers in [`super`] check it).

use super::avx2::{
    BLOCK, Param, READ_AHEAD, RowsIn, STORE_AHEAD, affine_dispatch, affine_tail, exp_sum_tail,
    prefetch_ahead, screen,
};
use super::exp::{C16, LN2_HI, LN2_LO, LOG2E, SHIFTER16, T16, X_MIN, exp_poly16};
use crate::kernels::scalar::Acc;
use core::arch::x86_64::*;
use std::mem::MaybeUninit;

#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
fn splat(x: f64) -> __m512d {
    _mm512_set1_pd(x)
}

/// The eight lanes of a register.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
fn lanes(v: __m512d) -> [f64; 8] {
    let mut a = [0.0f64; 8];
    // SAFETY: `a` has room for eight f64.
    unsafe { _mm512_storeu_pd(a.as_mut_ptr(), v) };
    a
}

/// Eight `f32` at `p` widened to eight `f64`.
///
/// # Safety
/// `p` must point to eight readable `f32`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn load8(p: *const f32) -> __m512d {
    // SAFETY: the caller guarantees eight readable f32 at p.
    _mm512_cvtps_pd(unsafe { _mm256_loadu_ps(p) })
}

/// `exp` of `N` registers of eight lanes, `x ≤ 0` or −∞ (no NaN): bit for bit
/// [`exp_poly16`]. Without `CLAMP` only for `x ≥ −708` (the caller checks the row's minimum).
/// Seventeen operations per register with the widening of the `f32` entries, the subtraction
/// of the maximum and the running sum: the sixteen-entry table is one permutation across two
/// registers (`vpermi2pd`) and lets the polynomial take five fused multiply-adds, and the
/// scaling by `2^⌊A⌋` is one `vscalefpd`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
fn exp_lanes<const N: usize, const CLAMP: bool>(x: [__m512d; N]) -> [__m512d; N] {
    let xc = if CLAMP {
        x.map(|x| _mm512_max_pd(x, splat(X_MIN)))
    } else {
        x
    };
    let t = xc.map(|x| _mm512_fmadd_pd(x, splat(LOG2E), splat(SHIFTER16)));
    let a = t.map(|t| _mm512_sub_pd(t, splat(SHIFTER16)));
    let mut r = xc;
    for q in 0..N {
        r[q] = _mm512_fnmadd_pd(a[q], splat(LN2_HI), r[q]);
    }
    for q in 0..N {
        r[q] = _mm512_fnmadd_pd(a[q], splat(LN2_LO), r[q]);
    }
    let mut h = [splat(C16[5]); N];
    for &c in C16[..5].iter().rev() {
        for q in 0..N {
            h[q] = _mm512_fmadd_pd(h[q], r[q], splat(c));
        }
    }
    // SAFETY: the table holds sixteen f64.
    let (lo, hi) = unsafe {
        (
            _mm512_loadu_pd(T16.as_ptr()),
            _mm512_loadu_pd(T16.as_ptr().add(8)),
        )
    };
    let mut out = r;
    for q in 0..N {
        let p = _mm512_mul_pd(r[q], h[q]);
        // The index is t's four low significand bits: 16·A mod 16.
        let tj = _mm512_permutex2var_pd(lo, _mm512_castpd_si512(t[q]), hi);
        let e = _mm512_scalef_pd(_mm512_fmadd_pd(tj, p, tj), a[q]);
        out[q] = if CLAMP {
            _mm512_maskz_mov_pd(_mm512_cmp_pd_mask::<_CMP_GE_OQ>(x[q], splat(X_MIN)), e)
        } else {
            e
        };
    }
    out
}

/// Eight entries of γ or β at `p` as one register of eight `f64`.
///
/// # Safety
/// `p` must point to eight readable entries.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn load_param<P: Param>(p: *const P) -> __m512d {
    // SAFETY: eight readable entries at p (the caller's).
    unsafe {
        if P::WIDE {
            _mm512_loadu_pd(p.cast::<f64>())
        } else {
            load8(p.cast::<f32>())
        }
    }
}

/// The extremes of a non-empty row: `avx2::max_argmax_min_nan`'s contract and result, in two
/// passes. The first keeps sixty-four running maxima and minima (four registers of each, so
/// that their chains of dependent operations overlap) and the lanes' NaN test: eleven
/// operations per 64 entries (and a prefetch per cache line), against the AVX2 path's thirteen
/// per 16 with its chunk counters. It also notes where the maximum's first occurrence lies: at
/// the end of every block of [`EXTREMES_BLOCK`] entries it folds the running maxima into one,
/// and the last block after which that grew holds it, unless the maximum grew later, in the
/// last partial block or in the entries after the last chunk of 64 (there the entry itself is
/// noted). The second pass, only for a finite maximum without NaN, compares sixteen entries at
/// a time from there, stopping at the first equal to the maximum: one block at most, and the
/// entries of the remainder. The maximum returned is that entry, `z[k]` (of its sign, for a
/// zero).
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn max_argmax_min_nan(z: &[f32]) -> (f32, usize, f32, bool) {
    const CHUNKS_PER_BLOCK: usize = EXTREMES_BLOCK / 64;
    let chunks = z.chunks_exact(64);
    let rest = chunks.remainder();
    let chunked = z.len() - rest.len();
    let mut m = [_mm512_set1_ps(f32::NEG_INFINITY); 4];
    let mut l = [_mm512_set1_ps(f32::INFINITY); 4];
    let mut nan: __mmask16 = 0;
    // The running maximum at the end of the last block where it grew, and where the search
    // for its first occurrence starts.
    let (mut run, mut from) = (f32::NEG_INFINITY, 0);
    let fold = |m: &[__m512; 4]| {
        _mm512_reduce_max_ps(_mm512_max_ps(
            _mm512_max_ps(m[0], m[1]),
            _mm512_max_ps(m[2], m[3]),
        ))
    };
    for (i, c) in chunks.enumerate() {
        // SAFETY: a chunk holds sixty-four f32.
        let v: [__m512; 4] =
            std::array::from_fn(|q| unsafe { _mm512_loadu_ps(c.as_ptr().add(16 * q)) });
        for q in 0..4 {
            prefetch_ahead::<READ_AHEAD, _>(c.as_ptr().wrapping_add(16 * q));
        }
        for q in 0..4 {
            m[q] = _mm512_max_ps(m[q], v[q]);
            l[q] = _mm512_min_ps(l[q], v[q]);
        }
        nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v[0], v[1])
            | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v[2], v[3]);
        if (i + 1) % CHUNKS_PER_BLOCK == 0 {
            let now = fold(&m);
            if now > run {
                run = now;
                from = (i + 1 - CHUNKS_PER_BLOCK) * 64;
            }
        }
    }
    let mut best = fold(&m);
    if best > run {
        // It grew in the last, partial block.
        from = chunked / EXTREMES_BLOCK * EXTREMES_BLOCK;
    }
    let l = [_mm512_min_ps(l[0], l[1]), _mm512_min_ps(l[2], l[3])];
    let mut least = _mm512_reduce_min_ps(_mm512_min_ps(l[0], l[1]));
    let mut has_nan = nan != 0;
    for (j, &v) in rest.iter().enumerate() {
        has_nan |= v.is_nan();
        if v > best {
            // Strictly greater: a later equal entry (or a zero of the other sign) leaves the
            // first one noted.
            from = chunked + j;
        }
        best = best.max(v);
        least = least.min(v);
    }
    if has_nan || !best.is_finite() {
        return (best, 0, least, has_nan);
    }
    let bv = _mm512_set1_ps(best);
    let blocks = z[from..].chunks_exact(16);
    let tail = z.len() - blocks.remainder().len();
    for (i, c) in blocks.enumerate() {
        // SAFETY: a block holds sixteen f32.
        let eq = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(unsafe { _mm512_loadu_ps(c.as_ptr()) }, bv);
        if eq != 0 {
            let k = from + 16 * i + eq.trailing_zeros() as usize;
            return (z[k], k, least, false);
        }
    }
    let k = tail
        + z[tail..]
            .iter()
            .position(|&v| v == best)
            .expect("the maximum is an entry");
    (z[k], k, least, false)
}

/// Entries per block of [`max_argmax_min_nan`]'s first pass: its second pass searches at most
/// one block (and the remainder after the last chunk of 64).
const EXTREMES_BLOCK: usize = 1024;

/// Vector TwoSum: `a + b = s + e` exactly, lane by lane.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
fn two_sum8(a: __m512d, b: __m512d) -> (__m512d, __m512d) {
    let s = _mm512_add_pd(a, b);
    let bb = _mm512_sub_pd(s, a);
    let e = _mm512_add_pd(_mm512_sub_pd(a, _mm512_sub_pd(s, bb)), _mm512_sub_pd(b, bb));
    (s, e)
}

/// `Σ exp(zⱼ − m)` over a segment as a pair `(hi, lo)`, writing each term to `out` when given:
/// `avx2::exp_sum`'s contract, each term [`exp_poly16`] of `zⱼ − m` bit for bit, summed in the
/// AVX2 path's lanes and blocks.
#[target_feature(enable = "avx512f,avx2,fma")]
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

/// The terms `exp(zⱼ − m)` of the `8N` entries from `i` on (`mv`: `m` in every lane), written
/// to `out` when `STORE`.
///
/// # Safety
/// `i + 8N ≤ z.len()`, and `≤ out.len()` when `STORE`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn exp_step<const N: usize, const CLAMP: bool, const STORE: bool>(
    z: &[f32],
    i: usize,
    mv: __m512d,
    out: &mut [MaybeUninit<f64>],
) -> [__m512d; N] {
    let x: [__m512d; N] = std::array::from_fn(|q| {
        // SAFETY: i + 8q + 8 ≤ i + 8N ≤ z.len() (the caller's).
        _mm512_sub_pd(unsafe { load8(z.as_ptr().add(i + 8 * q)) }, mv)
    });
    let e = exp_lanes::<N, CLAMP>(x);
    if STORE {
        let o = out.as_mut_ptr().cast::<f64>();
        for (q, &eq) in e.iter().enumerate() {
            // SAFETY: i + 8q + 8 ≤ out.len() (the caller's).
            unsafe { _mm512_storeu_pd(o.add(i + 8 * q), eq) };
        }
    }
    e
}

/// Sixteen summing lanes as two registers: the block sums, and the compensated totals.
struct Lanes16 {
    hi: [__m512d; 2],
    lo: [__m512d; 2],
    blk: [__m512d; 2],
    count: usize,
}

impl Lanes16 {
    /// One step of sixteen terms into the lanes (a block fold every `BLOCK` steps), as one
    /// step of `avx2::exp_sum_with`.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn add(&mut self, e: [__m512d; 2]) {
        for (blk, e) in self.blk.iter_mut().zip(e) {
            *blk = _mm512_add_pd(*blk, e);
        }
        self.count += 1;
        if self.count == BLOCK {
            for q in 0..2 {
                let (s, err) = two_sum8(self.hi[q], self.blk[q]);
                self.hi[q] = s;
                self.lo[q] = _mm512_add_pd(self.lo[q], err);
                self.blk[q] = _mm512_setzero_pd();
            }
            self.count = 0;
        }
    }

    /// The lanes' totals folded into `acc` in lane order, as the AVX2 path folds its four
    /// registers.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn fold(&self, acc: &mut Acc) {
        for q in 0..2 {
            let (s, err) = two_sum8(self.hi[q], self.blk[q]);
            for (a, b) in lanes(s)
                .into_iter()
                .zip(lanes(_mm512_add_pd(self.lo[q], err)))
            {
                acc.add(a);
                acc.add(b);
            }
        }
    }
}

/// [`exp_sum`] with the clamp (`CLAMP`) and the store of the terms (`STORE`) decided at compile
/// time. Two steps of sixteen terms (four registers) go through one [`exp_lanes`] call, then
/// into the lanes one step after the other, so the sums are the AVX2 path's.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
fn exp_sum_with<const CLAMP: bool, const STORE: bool>(
    z: &[f32],
    m: f64,
    out: &mut [MaybeUninit<f64>],
) -> (f64, f64) {
    const STEP: usize = 16;
    let mv = splat(m);
    let zero = _mm512_setzero_pd();
    let mut acc16 = Lanes16 {
        hi: [zero; 2],
        lo: [zero; 2],
        blk: [zero; 2],
        count: 0,
    };
    let full = z.len() / STEP * STEP;
    let pairs = z.len() / (2 * STEP) * (2 * STEP);
    assert!(!STORE || out.len() >= z.len());
    let mut i = 0;
    while i < pairs {
        // SAFETY: i + 2·STEP ≤ z.len(), and ≤ out.len() when storing (asserted).
        let e = unsafe { exp_step::<4, CLAMP, STORE>(z, i, mv, out) };
        acc16.add([e[0], e[1]]);
        acc16.add([e[2], e[3]]);
        i += 2 * STEP;
    }
    if i < full {
        // SAFETY: i + STEP ≤ z.len(), and ≤ out.len() when storing.
        acc16.add(unsafe { exp_step::<2, CLAMP, STORE>(z, i, mv, out) });
    }
    let mut acc = Acc::default();
    acc16.fold(&mut acc);
    let from = full.min(out.len());
    exp_sum_tail::<STORE>(&z[full..], m, &mut out[from..], &mut acc, exp_poly16);
    acc.pair()
}

/// `out[j] = (f32) (e[j]·c)`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn scale_to_f32(e: &[f64], c: f64, out: &mut [MaybeUninit<f32>]) {
    assert_eq!(e.len(), out.len());
    let cv = splat(c);
    let n8 = e.len() / 8 * 8;
    let mut i = 0;
    while i < n8 {
        // SAFETY: i + 8 ≤ len of both.
        unsafe {
            prefetch_ahead::<READ_AHEAD, _>(e.as_ptr().add(i));
            let v = _mm512_mul_pd(_mm512_loadu_pd(e.as_ptr().add(i)), cv);
            prefetch_ahead::<STORE_AHEAD, _>(out.as_ptr().add(i));
            _mm256_storeu_ps(out.as_mut_ptr().add(i).cast::<f32>(), _mm512_cvtpd_ps(v));
        }
        i += 8;
    }
    for j in n8..e.len() {
        out[j].write((e[j] * c) as f32);
    }
}

/// `out[j] = (f32) ((z[j] − m) − l)`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn shift_to_f32(z: &[f32], m: f64, l: f64, out: &mut [MaybeUninit<f32>]) {
    assert_eq!(z.len(), out.len());
    let (mv, lv) = (splat(m), splat(l));
    let n16 = z.len() / 16 * 16;
    let o = out.as_mut_ptr().cast::<f32>();
    let mut i = 0;
    while i < n16 {
        // SAFETY: i + 16 ≤ len of both.
        unsafe {
            prefetch_ahead::<READ_AHEAD, _>(z.as_ptr().add(i));
            let a = _mm512_sub_pd(_mm512_sub_pd(load8(z.as_ptr().add(i)), mv), lv);
            let b = _mm512_sub_pd(_mm512_sub_pd(load8(z.as_ptr().add(i + 8)), mv), lv);
            prefetch_ahead::<STORE_AHEAD, _>(o.add(i));
            _mm256_storeu_ps(o.add(i), _mm512_cvtpd_ps(a));
            _mm256_storeu_ps(o.add(i + 8), _mm512_cvtpd_ps(b));
        }
        i += 16;
    }
    for j in n16..z.len() {
        out[j].write(((f64::from(z[j]) - m) - l) as f32);
    }
}

/// `(Σ (xᵢ − c), Σ (xᵢ − c)²)` in sixteen plain `f64` lanes, folded in the order of
/// `avx2::shifted_sums`: its result, bit for bit.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) fn shifted_sums(x: &[f32], c: f64) -> (f64, f64) {
    let cv = splat(c);
    let zero = _mm512_setzero_pd();
    let (mut s, mut q) = ([zero; 2], [zero; 2]);
    let n16 = x.len() / 16 * 16;
    let mut i = 0;
    while i < n16 {
        for k in 0..2 {
            // SAFETY: i + 8k + 8 ≤ i + 16 ≤ x.len().
            let d = _mm512_sub_pd(unsafe { load8(x.as_ptr().add(i + 8 * k)) }, cv);
            s[k] = _mm512_add_pd(s[k], d);
            q[k] = _mm512_fmadd_pd(d, d, q[k]);
        }
        i += 16;
    }
    // The AVX2 path's lane j of register k is lane 4k + j here: its four registers added
    // pairwise, then their four lanes pairwise.
    let sum = |v: [__m512d; 2]| {
        let (a, b) = (lanes(v[0]), lanes(v[1]));
        let l = |i: usize| if i < 8 { a[i] } else { b[i - 8] };
        let t = |j: usize| (l(j) + l(4 + j)) + (l(8 + j) + l(12 + j));
        (t(0) + t(1)) + (t(2) + t(3))
    };
    let (mut ss, mut qq) = (sum(s), sum(q));
    for &v in &x[n16..] {
        let d = f64::from(v) - c;
        ss += d;
        qq = d.mul_add(d, qq);
    }
    (ss, qq)
}

/// `avx2::affine_rows` on eight lanes: the same values per entry and the same least screen
/// value per row.
#[target_feature(enable = "avx512f,avx2,fma")]
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

/// [`affine_rows`] for one screen and the presence of γ and β: sixteen entries of each row
/// per step (the screen on one register of sixteen `f32` bit patterns, the values on two of
/// eight `f64`), then eight, γ and β (widened) loaded once for the `R` rows.
///
/// # Safety
/// Every row of `x` and `out` has the same length, and so do `g` when `G` and `b` when `B`.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn affine_with<const SCR: u8, const G: bool, const B: bool, const R: usize, P: Param>(
    (x, k, base): RowsIn<'_, R>,
    g: &[P],
    b: &[P],
    out: [&mut [MaybeUninit<f32>]; R],
) -> [u32; R] {
    let cen = SCR != screen::NONE;
    let n = x[0].len();
    let kv = k.map(|(c, r, c2)| (splat(c), splat(r), splat(-c2)));
    let bv = base.map(|b| _mm512_set1_epi32(b as i32));
    let zero = _mm512_setzero_pd();
    let mut s = [_mm512_set1_epi32(-1); R];
    // The values of eight entries from `p` (of row q, γ and β at `gv`, `btv`), stored to `o`.
    let value = |q: usize, p: *const f32, gv: __m512d, btv: __m512d, o: *mut MaybeUninit<f32>| {
        let (cv, rv, c2v) = kv[q];
        // SAFETY: the callers pass eight readable entries at p and eight writable at o.
        unsafe {
            let a = load8(p);
            let mut y = if cen {
                _mm512_fmadd_pd(_mm512_sub_pd(a, cv), rv, c2v)
            } else {
                _mm512_mul_pd(a, rv)
            };
            if G {
                y = _mm512_fmadd_pd(gv, y, if B { btv } else { zero });
            } else if B {
                y = _mm512_add_pd(y, btv);
            }
            prefetch_ahead::<STORE_AHEAD, _>(o);
            _mm256_storeu_ps(o.cast::<f32>(), _mm512_cvtpd_ps(y));
        }
    };
    // The screen values of sixteen entries' bits into the running minima of row q.
    let screen16 = |s: &mut [__m512i; R], q: usize, bits: __m512i| {
        let d = if SCR == screen::INTERVAL {
            _mm512_sub_epi32(bits, bv[q])
        } else {
            _mm512_slli_epi32::<1>(bits)
        };
        s[q] = _mm512_min_epu32(s[q], d);
    };
    let (n16, n8) = (n / 16 * 16, n / 8 * 8);
    let mut i = 0;
    while i < n16 {
        // SAFETY: i + 16 ≤ n for every row of x and out, and for g, b when read (the caller
        // guarantees their lengths).
        unsafe {
            let gv = if G {
                [
                    load_param(g.as_ptr().add(i)),
                    load_param(g.as_ptr().add(i + 8)),
                ]
            } else {
                [zero; 2]
            };
            let btv = if B {
                [
                    load_param(b.as_ptr().add(i)),
                    load_param(b.as_ptr().add(i + 8)),
                ]
            } else {
                [zero; 2]
            };
            for q in 0..R {
                let p = x[q].as_ptr().add(i);
                if cen {
                    screen16(&mut s, q, _mm512_loadu_si512(p.cast()));
                }
                for h in 0..2 {
                    value(
                        q,
                        p.add(8 * h),
                        gv[h],
                        btv[h],
                        out[q].as_mut_ptr().add(i + 8 * h),
                    );
                }
            }
        }
        i += 16;
    }
    // The last eight, screened in the upper half of a register of sixteen whose lower half
    // repeats them (the minimum is the same).
    if i < n8 {
        // SAFETY: i + 8 ≤ n (as above).
        unsafe {
            let gv = if G {
                load_param(g.as_ptr().add(i))
            } else {
                zero
            };
            let btv = if B {
                load_param(b.as_ptr().add(i))
            } else {
                zero
            };
            for q in 0..R {
                let p = x[q].as_ptr().add(i);
                if cen {
                    let h = _mm256_loadu_si256(p.cast());
                    screen16(
                        &mut s,
                        q,
                        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(h), h),
                    );
                }
                value(q, p, gv, btv, out[q].as_mut_ptr().add(i));
            }
        }
    }
    let s = s.map(|v| _mm512_reduce_min_epu32(v));
    let mut least = [u32::MAX; R];
    for (q, out) in out.into_iter().enumerate() {
        let tail = affine_tail::<SCR, G, B, P>((x[q], k[q], base[q]), g, b, out, n8);
        least[q] = s[q].min(tail);
    }
    least
}
