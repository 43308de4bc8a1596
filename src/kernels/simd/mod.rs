//! Vector paths of the kernels and the run-time choice between them.
//!
//! The readable reference of every kernel is its scalar code in [`crate::softmax`],
//! [`crate::norms`] and [`crate::loss`]. For `f32` inputs on a CPU with AVX2 and FMA the same
//! functions run vector lanes instead ([`Isa::Avx2Fma`]: four `f64` lanes; [`Isa::Avx512`]:
//! eight), the level detected once at run time, so one binary is fast on every x86-64 and
//! exact everywhere. Scalar and vector paths compute in
//! `f64` and round once to `f32`; they differ only in the order and kind of their `f64`
//! roundings:
//!
//! * `exp` of `zⱼ − m` is [`exp_poly`] on the AVX2 lanes and [`exp::exp_poly16`] on the AVX-512
//!   lanes (both within 3·2⁻⁵³, derived in [`exp`]) instead of `libm`, several registers per
//!   step, computed in lockstep, and without its clamp when the row's minimum shows that no
//!   argument is below −708 (the same values either way);
//! * sums are blocked (16 plain additions per lane, then compensated), where the
//!   scalar path adds in eight plain lanes;
//! * LayerNorm's mean is a shifted sum with its correction (`μ = c + Σ(xᵢ − c)/n`) instead
//!   of a compensated sum; the few entries whose value that leaves too close to the mean
//!   (`tolerance::narrow_norm_mean_floor`) are recomputed from the compensated mean.
//!
//! Each path's `f64` value before the final rounding is within a relative bound of the exact
//! value (`tolerance::narrow_softmax_rel_err`, `tolerance::narrow_norm_err`), so an `f32`
//! result is the correctly rounded one unless the exact value lies within that bound (a few
//! hundred `f64` ulps, about 2⁻²⁰ of an `f32` ulp) of a rounding boundary; `tests` checks
//! every path against an `f64` reference within its bound (and the two vector levels' norms,
//! scalings and rankings bit for bit: only the softmax family's `exp` differs between them),
//! and `tests/suite/accuracy.rs` against the oracle.
//!
//! `f64` inputs always take the scalar path (error-free transformations, double-`f64` pairs,
//! and the double-word `exp` and `ln(1 + s)` of [`crate::kernels::dd`], so that each `f64` result is rounded
//! once from a value within about 2⁻⁹⁶ of the exact one).

pub mod exp;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
#[cfg(target_arch = "x86_64")]
mod rank;

#[cfg(test)]
mod tests;

pub use exp::{EXP_POLY_REL_ERR, exp_poly};

/// Rows whose plain sums lose the mean: tiny entries among large ones that cancel (the mean is
/// tiny), and an entry `10⁻¹⁵` from a mean of ±3. Trap rows of the normalizations, shared by
/// this module's tests and the accuracy suite (in `f32` they round to the same values).
#[doc(hidden)]
pub const CANCELLING_ROWS: [&[f64]; 2] = [
    &[
        -7.22824e-39,
        4.0,
        -5.0,
        -7.0,
        3.692011e-39,
        8.0,
        1.796172e-33,
    ],
    &[3.0, -3.632316e-15, -3.0],
];

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// An instruction-set level the kernels can run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isa {
    /// Plain scalar code (the reference; any CPU).
    Scalar,
    /// x86-64 with AVX2 and FMA: four `f64` lanes.
    Avx2Fma,
    /// x86-64 with AVX-512 F (and AVX2, FMA): eight `f64` lanes for the softmax family, the
    /// norms and the rankings' scores. The norms and the scores are the [`Isa::Avx2Fma`]
    /// results bit for bit; the softmax family has its own `exp` ([`exp::exp_poly16`]), so an
    /// `f32` result may differ from the AVX2 one where the exact value lies within the two
    /// paths' bounds (about 2⁻⁴⁸, relative) of a rounding boundary.
    Avx512,
}

impl Isa {
    /// The best level this CPU supports.
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return if is_x86_feature_detected!("avx512f") {
                    Isa::Avx512
                } else {
                    Isa::Avx2Fma
                };
            }
            Isa::Scalar
        })
    }

    /// Whether this CPU can run the level.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2Fma => Isa::detected() != Isa::Scalar,
            Isa::Avx512 => Isa::detected() == Isa::Avx512,
        }
    }

    /// Whether the level runs vector lanes (any level but [`Isa::Scalar`]).
    pub fn is_vector(self) -> bool {
        self != Isa::Scalar
    }
}

thread_local! {
    static FORCED: Cell<Option<Isa>> = const { Cell::new(None) };
}

/// The level the kernels run at on this thread: [`Isa::detected`] unless [`with_isa`] says
/// otherwise.
pub fn isa() -> Isa {
    FORCED.with(|f| f.get()).unwrap_or_else(Isa::detected)
}

/// Run `f` with the kernels of this thread at level `level` (to compare paths, or to time the
/// scalar reference), then restore the previous level.
///
/// # Panics
/// If the CPU cannot run `level` ([`Isa::is_available`]).
///
/// # Examples
/// ```
/// use transformer_laws::kernels::{Isa, with_isa};
/// use transformer_laws::softmax::softmax;
/// let z = [1.0f32, 2.0, 3.0];
/// let reference = with_isa(Isa::Scalar, || softmax(&z));
/// assert_eq!(reference, softmax(&z)); // these entries are far from any rounding boundary
/// ```
pub fn with_isa<R>(level: Isa, f: impl FnOnce() -> R) -> R {
    assert!(
        level.is_available(),
        "with_isa: this CPU cannot run {level:?}"
    );
    struct Restore(Option<Isa>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FORCED.with(|c| c.replace(Some(level))));
    f()
}

/// A vector of `n` values written by `fill`, which must initialize every entry.
pub(crate) fn filled<T: Copy>(n: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    fill(&mut v.spare_capacity_mut()[..n]);
    // SAFETY: `fill` initialized the n entries (each caller's kernel writes every index of the
    // slice it is given; the kernels' loops and remainder loops cover 0..n).
    unsafe { v.set_len(n) };
    v
}

/// `avx2::exp_sum` at `level`: the AVX-512 lanes for [`Isa::Avx512`] (their own `exp`,
/// [`exp::exp_poly16`]), else the AVX2 lanes ([`exp_poly`]).
///
/// # Safety
/// `level` is a vector level this CPU runs.
#[cfg(target_arch = "x86_64")]
unsafe fn exp_sum(
    level: Isa,
    z: &[f32],
    m: f64,
    out: Option<&mut [MaybeUninit<f64>]>,
    clamp: bool,
) -> (f64, f64) {
    // SAFETY: the caller guarantees the level.
    unsafe {
        if level == Isa::Avx512 {
            avx512::exp_sum(z, m, out, clamp)
        } else {
            avx2::exp_sum(z, m, out, clamp)
        }
    }
}

/// `out[j] = (f32) (e[j]·c)` on the lanes of `level`, a vector level this CPU runs.
///
/// # Panics
/// If it is not one.
#[cfg(target_arch = "x86_64")]
pub(crate) fn scale_to_f32(level: Isa, e: &[f64], c: f64, out: &mut [MaybeUninit<f32>]) {
    assert!(level.is_vector() && level.is_available(), "{level:?}");
    // SAFETY: the level is available (asserted).
    unsafe {
        if level == Isa::Avx512 {
            avx512::scale_to_f32(e, c, out)
        } else {
            avx2::scale_to_f32(e, c, out)
        }
    }
}

/// `out[j] = (f32) ((z[j] − m) − l)` on the lanes of `level`, a vector level this CPU runs.
///
/// # Panics
/// If it is not one.
#[cfg(target_arch = "x86_64")]
pub(crate) fn shift_to_f32(level: Isa, z: &[f32], m: f64, l: f64, out: &mut [MaybeUninit<f32>]) {
    assert!(level.is_vector() && level.is_available(), "{level:?}");
    // SAFETY: the level is available (asserted).
    unsafe {
        if level == Isa::Avx512 {
            avx512::shift_to_f32(z, m, l, out)
        } else {
            avx2::shift_to_f32(z, m, l, out)
        }
    }
}

/// The shifted softmax of a row: `m = max z` (first at `k`), `S = Σ_{j≠k} eⱼ` as a pair, and
/// the terms `eⱼ = exp(zⱼ − m)` (`e_k = 0`; empty unless asked for).
pub(crate) struct SoftmaxCore {
    pub m: f64,
    pub k: usize,
    pub s: (f64, f64),
    pub e: Vec<f64>,
}

/// The `f32` softmax core on the vector path at `level` (`keep_e`: store the terms). `None`
/// for an empty row, a NaN or an infinite maximum (the special rows), a row of 2³⁶ entries or
/// more, or when `level` is not a vector level this CPU runs.
#[cfg(target_arch = "x86_64")]
pub(crate) fn softmax_core(level: Isa, z: &[f32], keep_e: bool) -> Option<SoftmaxCore> {
    if z.is_empty()
        || z.len() >= avx2::MAX_EXTREMES_LEN
        || !(level.is_vector() && level.is_available())
    {
        return None;
    }
    // SAFETY (all calls below): the level is a vector level this CPU runs (checked above), so
    // AVX2 and FMA are available.
    let (m, k, least, nan) = unsafe {
        if level == Isa::Avx512 {
            avx512::max_argmax_min_nan(z)
        } else {
            avx2::max_argmax_min_nan(z)
        }
    };
    if nan || !m.is_finite() {
        return None;
    }
    let m64 = f64::from(m);
    // The lanes' exp needs its clamp only when some zⱼ − m (rounded as the lanes round it)
    // is below −708, or −∞.
    let clamp = f64::from(least) - m64 < exp::X_MIN; // no NaN here: −∞ counts as below
    let (a, b) = (&z[..k], &z[k + 1..]);
    let mut pairs = ((0.0, 0.0), (0.0, 0.0));
    let e = if keep_e {
        filled(z.len(), |out| {
            let (oa, rest) = out.split_at_mut(k);
            let (ok, ob) = rest.split_at_mut(1);
            ok[0].write(0.0);
            pairs = unsafe {
                (
                    exp_sum(level, a, m64, Some(oa), clamp),
                    exp_sum(level, b, m64, Some(ob), clamp),
                )
            };
        })
    } else {
        pairs = unsafe {
            (
                exp_sum(level, a, m64, None, clamp),
                exp_sum(level, b, m64, None, clamp),
            )
        };
        Vec::new()
    };
    Some(SoftmaxCore {
        m: m64,
        k,
        s: avx2::add_pairs(pairs.0, pairs.1),
        e,
    })
}

/// The constants of one row's output pass on the vector path: `yᵢ = (xᵢ − c)·r − c₂` before
/// γ and β, and the floor below which an entry is recomputed ([`fix_near_mean`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct NormRow {
    c: f64,
    r: f64,
    c2: f64,
    floor: f64,
    screen: Screen,
}

/// The screen of a row's output pass for its accuracy guard ([`avx2::screen`]): the row may
/// hold an entry below the floor only if the least screen value of its entries is at most
/// `width`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Screen {
    kind: u8,
    base: u32,
    width: u32,
}

#[cfg(target_arch = "x86_64")]
impl Screen {
    /// RMSNorm's: no guard.
    const NONE: Screen = Screen {
        kind: avx2::screen::NONE,
        base: 0,
        width: 0,
    };

    /// The screen of a LayerNorm row with shift `c`, mean correction `δ` (`delta`) and `q`, its
    /// floor in the units of the entries (`tolerance::narrow_norm_mean_width`; the row's scale
    /// is `r` and its floor `F = fl(q·r)`): an interval of `f32` values holding every entry
    /// whose normalized value `ŷ = fl(fl(x − c)·r − ĉ₂)` (`ĉ₂ = fl(δ·r)`, as the lanes compute
    /// it) has `|ŷ| < F`.
    ///
    /// ```text
    /// |ŷ| < F  ⇒  |fl(x − c)·r − ĉ₂| < F/(1 − u)            (the fused multiply-add's rounding)
    /// fl(x − c) = (x − c)(1 + θ), ĉ₂ = δr(1 + θ′), |θ|, |θ′| ≤ u
    ///          ⇒  D = |x − (c + δ)| ≤ F/(r(1 − u)²) + 2u|δ|/(1 − u)
    ///                              ≤ q(1 + u)/(1 − u)² + 2u|δ|/(1 − u)      (F ≤ q·r·(1 + u))
    /// interval  c + δ ± W,  W = q(1 + 2⁻²⁰) + 8u(|c| + |δ|)
    /// ```
    /// `W` covers `D`, its own three roundings and those of `c + δ ± W` (each at most
    /// `u(|c| + |δ| + W)`), and the ends are widened outward to `f32`. It does not wait for `r`:
    /// the row's output pass needs both, and their chains of divisions and roots run side by
    /// side. An interval of one sign is screened by [`avx2::screen::INTERVAL`] (the bits of `f32`
    /// of one sign are ordered as their values), one that holds zero by
    /// [`avx2::screen::MAGNITUDE`] (`|x|` at most the larger end).
    fn around_mean(c: f64, delta: f64, q: f64) -> Screen {
        let u = crate::kernels::tolerance::unit_roundoff::<f64>();
        let w = q * (1.0 + 2f64.powi(-20)) + 8.0 * u * (c.abs() + delta.abs());
        let m = c + delta;
        let (lo, hi) = (down_f32(m - w), up_f32(m + w));
        if lo > 0.0 {
            let base = lo.to_bits();
            Screen {
                kind: avx2::screen::INTERVAL,
                base,
                width: hi.to_bits() - base,
            }
        } else if hi < 0.0 {
            let base = hi.to_bits();
            Screen {
                kind: avx2::screen::INTERVAL,
                base,
                width: lo.to_bits() - base,
            }
        } else {
            Screen {
                kind: avx2::screen::MAGNITUDE,
                base: 0,
                width: lo.abs().max(hi).to_bits() << 1,
            }
        }
    }

    /// Whether a row whose least screen value is `least` may hold an entry below the floor.
    fn flags(self, least: u32) -> bool {
        self.kind != avx2::screen::NONE && least <= self.width
    }
}

/// The largest `f32` at most `v` (−∞ below the range).
#[cfg(target_arch = "x86_64")]
fn down_f32(v: f64) -> f32 {
    let f = v as f32;
    if f64::from(f) > v { f.next_down() } else { f }
}

/// The smallest `f32` at least `v` (+∞ above the range).
#[cfg(target_arch = "x86_64")]
fn up_f32(v: f64) -> f32 {
    let f = v as f32;
    if f64::from(f) < v { f.next_up() } else { f }
}

/// The vector path's constants for one non-empty `f32` row of LayerNorm (`centered`) or
/// RMSNorm. `None` for the rows the special-value table fixes (non-finite, zero variance) and
/// for a row whose shift does not settle: the caller takes the scalar path.
///
/// LayerNorm shifts by `c`, the mean of the first 16 entries rounded to `f32` (differences of
/// `f32` in `f64`: exact unless they span more than
/// 29 binades), sums `dᵢ = xᵢ − c` and
/// `dᵢ²`, and corrects: `δ = Σdᵢ/n`, `σ² = Σdᵢ²/n − δ²`. When `δ² > σ²` (the shift
/// lies more than σ from the mean, so the subtraction would cancel) it shifts once more, by
/// `c + δ` (so on this path `δ² ≤ σ²`: the variance loses at most a factor 2 of its
/// relative accuracy to the correction).
///
/// # Safety
/// `level` must be a vector level this CPU runs ([`Isa::is_available`]).
#[cfg(target_arch = "x86_64")]
unsafe fn norm_row(level: Isa, x: &[f32], eps: f64, centered: bool) -> Option<NormRow> {
    let sums = |c: f64| {
        // SAFETY: the caller guarantees the level.
        unsafe {
            if level == Isa::Avx512 {
                avx512::shifted_sums(x, c)
            } else {
                avx2::shifted_sums(x, c)
            }
        }
    };
    let n = x.len() as f64;
    // SAFETY (all calls below): the caller guarantees the level.
    let (c, delta, var) = if centered {
        // A shift near the mean: with c = x₀ alone, x₀ lies more than σ from the mean in
        // about a third of ordinary rows, each then paying a second pass.
        let head = &x[..x.len().min(16)];
        let mut c =
            f64::from((head.iter().map(|&v| f64::from(v)).sum::<f64>() / head.len() as f64) as f32);
        let mut shifts = 0;
        loop {
            let (s, q) = sums(c);
            if !(s.is_finite() && q.is_finite()) {
                return None;
            }
            if q == 0.0 {
                return None; // a constant row: the special-value table's
            }
            let delta = s / n;
            let var = q / n - delta * delta;
            if delta * delta <= var {
                break (c, delta, var);
            }
            // A shift more than σ from the mean: shift again by the mean (or, after three
            // tries, leave the row to the scalar path).
            shifts += 1;
            if shifts == 3 {
                return None;
            }
            c += delta;
        }
    } else {
        let (_, q) = sums(0.0);
        if !q.is_finite() || q == 0.0 {
            return None;
        }
        (0.0, 0.0, q / n)
    };
    let r = 1.0 / (var + eps).sqrt();
    let q = crate::kernels::tolerance::narrow_norm_mean_width(x.len(), var);
    // The floor is `tolerance::narrow_norm_mean_floor(n, var, r)`, the same product.
    let floor = q * r;
    debug_assert_eq!(
        floor.to_bits(),
        crate::kernels::tolerance::narrow_norm_mean_floor(x.len(), var, r).to_bits()
    );
    Some(NormRow {
        c,
        r,
        c2: delta * r,
        floor,
        screen: if centered {
            Screen::around_mean(c, delta, q)
        } else {
            Screen::NONE
        },
    })
}

/// Rows of the same length with their constants and their output, for [`norm_rows_out`].
#[cfg(target_arch = "x86_64")]
type RowOut<'a, 'o> = (&'a [f32], NormRow, &'o mut [MaybeUninit<f32>]);

/// The output of `R` rows on the vector path: one output pass over them
/// ([`avx2::affine_rows`]), then for each LayerNorm row its [`Screen`] flags, the entries
/// the plain sums leave too close to the mean recomputed ([`fix_near_mean`], which tests every
/// entry itself). Returns how many were.
///
/// # Safety
/// `level` must be a vector level this CPU runs ([`Isa::is_available`]); every row and its
/// output have the length of γ and β.
#[cfg(target_arch = "x86_64")]
unsafe fn norm_rows_out<const R: usize, P: avx2::Param>(
    level: Isa,
    mut rows: [RowOut<'_, '_>; R],
    (gamma, beta): (Option<&[P]>, Option<&[P]>),
) -> usize {
    let kind = rows[0].1.screen.kind;
    if rows.iter().any(|t| t.1.screen.kind != kind) {
        // Rows of different screens: one at a time (rare: a mean within about 10⁻⁶σ of zero
        // beside one that is not).
        // SAFETY: as the caller's.
        return rows
            .into_iter()
            .map(|row| unsafe { norm_rows_out(level, [row], (gamma, beta)) })
            .sum();
    }
    let x = rows.each_ref().map(|t| t.0);
    let k = rows.each_ref().map(|t| (t.1.c, t.1.r, t.1.c2));
    let base = rows.each_ref().map(|t| t.1.screen.base);
    let out = rows.each_mut().map(|t| &mut *t.2);
    let scr = (gamma, beta);
    // SAFETY: the caller guarantees the level.
    let least = unsafe {
        if level == Isa::Avx512 {
            avx512::affine_rows(kind, x, k, base, scr, out)
        } else {
            avx2::affine_rows(kind, x, k, base, scr, out)
        }
    };
    let mut fixed = 0;
    for ((x, row, out), least) in rows.into_iter().zip(least) {
        if row.screen.flags(least) {
            // SAFETY: affine_rows wrote every entry of `out`.
            let y = unsafe { &mut *(std::ptr::from_mut(out) as *mut [f32]) };
            fixed += fix_near_mean(x, (row.c, row.r, row.c2), row.floor, gamma, beta, y);
        }
    }
    fixed
}

/// `f32` LayerNorm (`centered`) or RMSNorm of one row on the vector path, γ and β applied and
/// rounded once. `None` for the rows the special-value table fixes (empty, non-finite, zero
/// variance), for a row whose shift does not settle, and when the CPU lacks the level: the
/// caller takes the scalar path.
///
/// The sums and their corrections are [`norm_row`]'s. The entries the plain sums leave
/// too close to the mean (below `tolerance::narrow_norm_mean_floor`) are recomputed from the
/// compensated mean, as the scalar path computes every entry ([`fix_near_mean`]); the second
/// value counts them.
#[cfg(target_arch = "x86_64")]
pub(crate) fn norm_vector(
    level: Isa,
    x: &[f32],
    eps: f64,
    centered: bool,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
) -> Option<(Vec<f32>, usize)> {
    if x.is_empty() || !(level.is_vector() && level.is_available()) {
        return None;
    }
    // SAFETY: the level is a vector level this CPU runs (checked above).
    let row = unsafe { norm_row(level, x, eps, centered) }?;
    let mut fixed = 0;
    let y = filled(x.len(), |out| {
        // SAFETY: as above; the callers check γ and β have x.len() entries.
        fixed = unsafe { norm_rows_out(level, [(x, row, out)], (gamma, beta)) };
    });
    Some((y, fixed))
}

/// Rows per step of the batch norms' output pass: γ and β are loaded once for them.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const ROWS: usize = 4;

/// Batches of this many rows or more have γ and β widened to `f64` once, for all their steps
/// (a tenth of the output pass at 768 entries: one conversion less per eight entries and row);
/// smaller ones widen them at each step, which costs less than the widening's own pass and
/// stores (one row of 768 took 0.33 µs so, 0.46 µs with the widening).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const WIDEN_FROM: usize = 3 * ROWS;

/// [`norm_vector`] for each row of a row-major batch `x` of rows of `d > 0` entries
/// (`x.len()` a multiple of `d`; γ and β of `d`), into `out` (`x.len()` entries), each row
/// bit for bit what [`norm_vector`] gives it. [`ROWS`] rows at a time: the sums of each, then
/// one output pass over them together ([`avx2::affine_rows`]), which reads each entry of γ and
/// β (widened once for a batch of [`WIDEN_FROM`] rows or more) once for the step rather than
/// once per row. Returns the rows the vector path left unwritten (special rows, a shift that
/// did not settle) for the caller's scalar path; `None`, nothing written, when the CPU lacks
/// the level.
#[cfg(target_arch = "x86_64")]
pub(crate) fn norm_rows_vector(
    level: Isa,
    x: &[f32],
    d: usize,
    eps: f64,
    centered: bool,
    (gamma, beta): (Option<&[f32]>, Option<&[f32]>),
    out: &mut [MaybeUninit<f32>],
) -> Option<Vec<usize>> {
    assert!(d > 0 && x.len().is_multiple_of(d) && out.len() == x.len());
    assert!(gamma.is_none_or(|g| g.len() == d) && beta.is_none_or(|b| b.len() == d));
    if !(level.is_vector() && level.is_available()) {
        return None;
    }
    // SAFETY (both calls): the level is a vector level this CPU runs (checked above), and the
    // lengths are asserted above.
    if x.len() / d < WIDEN_FROM {
        return Some(unsafe { norm_steps(level, x, d, eps, centered, (gamma, beta), out) });
    }
    let widen = |v: Option<&[f32]>| v.map(|v| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>());
    let (g, b) = (widen(gamma), widen(beta));
    let gb = (g.as_deref(), b.as_deref());
    Some(unsafe { norm_steps(level, x, d, eps, centered, gb, out) })
}

/// The steps of [`norm_rows_vector`], with γ and β as given or widened.
///
/// # Safety
/// `level` must be a vector level this CPU runs; γ and β have `d` entries, `x` and `out` a
/// whole number of rows of `d`.
#[cfg(target_arch = "x86_64")]
unsafe fn norm_steps<P: avx2::Param>(
    level: Isa,
    x: &[f32],
    d: usize,
    eps: f64,
    centered: bool,
    (gamma, beta): (Option<&[P]>, Option<&[P]>),
    out: &mut [MaybeUninit<f32>],
) -> Vec<usize> {
    let mut scalar_rows = Vec::new();
    for (s, (xs, outs)) in x.chunks(ROWS * d).zip(out.chunks_mut(ROWS * d)).enumerate() {
        let mut ready: [Option<RowOut>; ROWS] = Default::default();
        let mut count = 0;
        for (q, (xr, o)) in xs.chunks(d).zip(outs.chunks_mut(d)).enumerate() {
            // SAFETY: the level is a vector level this CPU runs (the caller's).
            match unsafe { norm_row(level, xr, eps, centered) } {
                Some(row) => {
                    ready[count] = Some((xr, row, o));
                    count += 1;
                }
                None => scalar_rows.push(s * ROWS + q),
            }
        }
        // SAFETY (both calls): as above; every row, γ and β have d entries (the caller's).
        if count == ROWS {
            let step = ready.map(|r| r.expect("every row of the step is ready"));
            unsafe { norm_rows_out(level, step, (gamma, beta)) };
        } else {
            for row in ready.into_iter().flatten() {
                unsafe { norm_rows_out(level, [row], (gamma, beta)) };
            }
        }
    }
    scalar_rows
}

/// Recompute the LayerNorm entries whose normalized value `ŷᵢ = (xᵢ − c)·r − c₂` from the
/// plain sums is below `floor` in magnitude, where the plain mean's absolute error could
/// cost them their `f32` digits: as the scalar path, `((xᵢ − μₕ) − μₗ)·r` with the compensated
/// mean `μₕ + μₗ` (one more pass over the row, only for the rows that need it), then γ and β
/// as [`avx2::affine_rows`] applies them. Returns how many entries it recomputed.
#[cfg(target_arch = "x86_64")]
fn fix_near_mean<P: avx2::Param>(
    x: &[f32],
    (c, r, c2): (f64, f64, f64),
    floor: f64,
    gamma: Option<&[P]>,
    beta: Option<&[P]>,
    y: &mut [f32],
) -> usize {
    use crate::kernels::eft::{Acc, mean_pair};
    let mut acc = Acc::default();
    x.iter().for_each(|&v| acc.add(f64::from(v)));
    let (mh, ml) = mean_pair(acc.pair(), x.len() as f64);
    let mut fixed = 0;
    for (i, &v) in x.iter().enumerate() {
        let v = f64::from(v);
        // The same operations as the vector lanes: the same ŷᵢ, bit for bit.
        if (v - c).mul_add(r, -c2).abs() >= floor {
            continue;
        }
        let t = ((v - mh) - ml) * r;
        let b = beta.map_or(0.0, |b| b[i].wide());
        y[i] = match gamma {
            Some(g) => g[i].wide().mul_add(t, b),
            None => t + b,
        } as f32;
        fixed += 1;
    }
    fixed
}

/// The scores of the `f32` ranking at level `level` (the caller's [`isa`], passed on so that
/// worker threads use the caller's level): `x·wⱼ` (`dot`) or `|x − wⱼ|²` for the tokens stored
/// column by column in `w`, into `keys`, and for `dot` each token's `maxᵢ|wⱼᵢ|` into
/// `col_max`. `false` (nothing written) when `level` has no vector path: the caller takes the
/// reference path of [`crate::unembed`].
///
/// `x` must not be empty, `w.len() = x.len()·keys.len()` and, for `dot`,
/// `col_max.len() = keys.len()`.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn rank_scores(
    level: Isa,
    w: &[f32],
    x: &[f64],
    dot: bool,
    keys: &mut [f64],
    col_max: &mut [f32],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if level.is_vector() && level.is_available() {
        // SAFETY: a vector level this CPU runs (checked above): AVX2 and FMA are available,
        // and AVX-512 at its level.
        unsafe {
            match (level == Isa::Avx512, dot) {
                (true, true) => rank::scores_avx512::<true, false>(w, x, keys, col_max, &mut []),
                (true, false) => rank::scores_avx512::<false, false>(w, x, keys, col_max, &mut []),
                (false, true) => rank::scores::<true, false>(w, x, keys, col_max, &mut []),
                (false, false) => rank::scores::<false, false>(w, x, keys, col_max, &mut []),
            }
        }
        return true;
    }
    false
}

/// The vector pass of the cosine ranking at `level`: [`rank_scores`]' dot products and
/// maxima, and each token's `Σᵢ wⱼᵢ²` into `sq` (`sq.len() = keys.len()`), in one pass over
/// the tokens. `false` (nothing written) when `level` has no vector path.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn cosine_scores(
    level: Isa,
    w: &[f32],
    x: &[f64],
    keys: &mut [f64],
    col_max: &mut [f32],
    sq: &mut [f64],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if level.is_vector() && level.is_available() {
        // SAFETY: a vector level this CPU runs (checked above): AVX2 and FMA are available,
        // and AVX-512 at its level.
        unsafe {
            if level == Isa::Avx512 {
                rank::scores_avx512::<true, true>(w, x, keys, col_max, sq);
            } else {
                rank::scores::<true, true>(w, x, keys, col_max, sq);
            }
        }
        return true;
    }
    false
}
