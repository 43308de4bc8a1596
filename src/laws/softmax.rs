//! Laws of a softmax `Fn(&[T]) -> Vec<T>`.
//!
//! Tolerance: [`softmax_textbook_bound`] — the error bound of the max-shifted softmax computed
//! in `T`, per component and per input.

use super::*;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::tolerance::{
    LOG_SOFTMAX_ULPS, LOGSUMEXP_ULPS, SOFTMAX_ULPS, lse_tail_textbook_bound,
    lse_tail_unsplit_bound, softmax_textbook_bound, ulp,
};

/// The exact quantities of a row with a finite maximum, from this crate's f64 kernels (the
/// exact values, for f32 rows, to far below f32's resolution; for f64 rows within the crate's
/// budgets, which the bounds below add).
pub(crate) struct Shifted {
    /// `dⱼ = zⱼ − max z` (−∞ for masked entries).
    pub d: Vec<f64>,
    /// softmax(z).
    pub p: Vec<f64>,
    /// log_softmax(z).
    pub log_p: Vec<f64>,
    /// logsumexp(z).
    pub lse: f64,
    /// `max z`.
    pub m: f64,
    /// `Σⱼ pⱼ·|dⱼ|`.
    pub mean_shift: f64,
    /// Bound on the error of `L = ln(1 + Σ_{j≠k} e^{dⱼ})` computed in `T` with the log1p split.
    pub tail_split_bound: f64,
    /// The same without the split (`ln Σⱼ e^{dⱼ}`, absolute error `u` more).
    pub tail_bound: f64,
}

/// [`Shifted`] of a row, or `None` when its maximum is not finite (or it has a NaN).
pub(crate) fn shifted<T: Real>(z: &[T]) -> Option<Shifted> {
    let zf: Vec<f64> = z.iter().map(|v| v.widen()).collect();
    let m = zf.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() || zf.iter().any(|v| v.is_nan()) {
        return None;
    }
    let d: Vec<f64> = zf.iter().map(|v| v - m).collect();
    let p = crate::kernels::softmax::softmax(&zf);
    let log_p = crate::kernels::softmax::log_softmax(&zf);
    let lse = crate::kernels::softmax::logsumexp(&zf);
    let mean_shift: f64 = p
        .iter()
        .zip(&d)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, d)| p * d.abs())
        .sum();
    // The tail Σ_{j≠k} e^{dⱼ} without one largest entry, and its weighted mean shift.
    let k = d.iter().position(|&v| v == 0.0).unwrap_or(0);
    let (mut s, mut sd) = (0.0f64, 0.0f64);
    for (j, &dj) in d.iter().enumerate() {
        let e = dj.exp();
        if j != k && e > 0.0 {
            s += e;
            sd += e * dj.abs();
        }
    }
    let l = s.ln_1p();
    let tail_mean = if s > 0.0 { sd / s } else { 0.0 };
    let tail_split_bound = lse_tail_textbook_bound::<T>(z.len(), tail_mean, l);
    let tail_bound = lse_tail_unsplit_bound::<T>(z.len(), tail_mean, l);
    Some(Shifted {
        d,
        p,
        log_p,
        lse,
        m,
        mean_shift,
        tail_split_bound,
        tail_bound,
    })
}

/// The reference's own error in f64 (zero for practical purposes in f32): `k` f64 ulps of `v`.
pub(crate) fn reference_error(k: u64, v: f64) -> f64 {
    if v.is_finite() {
        k as f64 * ulp(v)
    } else {
        0.0
    }
}

/// softmax(z) exactly and the textbook bound of each component.
fn exact<T: Real>(z: &[T]) -> Option<(Vec<f64>, Vec<f64>)> {
    let s = shifted(z)?;
    let n = z.len();
    let bound =
        s.p.iter()
            .zip(&s.d)
            .map(|(&p, &d)| {
                let shift = if d.is_finite() { d } else { 0.0 };
                softmax_textbook_bound::<T>(n, shift, s.mean_shift, p)
                    + reference_error(SOFTMAX_ULPS, p)
            })
            .collect();
    Some((s.p, bound))
}

/// Why a law cannot judge `z`: a row with no finite maximum has no exact softmax.
pub(super) fn no_exact<T: Real>(z: &[T]) -> Mismatch {
    Mismatch::new(
        "a row with a finite maximum",
        show(z),
        "this law needs a finite maximum",
    )
}

entry_points!("softmax", Fn(&[T]) -> Vec<T>);

fn law_set<T: FloatStrategies>(f: RowFn<T>, cfg: &Config) -> HarnessReport {
    let g = f.clone();
    let sums = move |z: &Vec<T>| {
        let (_, bound) = exact(z).ok_or_else(|| no_exact(z))?;
        let p = g(z);
        let s: f64 = p.iter().map(|v| v.widen()).sum();
        let allowed = bound.iter().sum::<f64>() + 2.0 * z.len() as f64 * f64::EPSILON;
        value_within(&p, s, ("Σ", 1.0), allowed, "Σ softmax(z)")
    };
    let g = f.clone();
    let order = move |z: &Vec<T>| {
        let p = g(z);
        if p.len() != z.len() {
            return Err(Mismatch::new(
                format!("{} entries", z.len()),
                show(&p),
                "wrong length",
            ));
        }
        for i in 0..z.len() {
            if p[i].is_nan() || p[i] < T::zero() {
                return Err(Mismatch::new(
                    "pᵢ ≥ 0",
                    show(&p),
                    format!("p[{i}] = {:e} is negative or NaN", p[i]),
                ));
            }
            for j in 0..z.len() {
                if z[i] > z[j] && p[i] < p[j] {
                    return Err(Mismatch::new(
                        format!("p[{i}] ≥ p[{j}]"),
                        show(&p),
                        format!(
                            "z[{i}] > z[{j}] but p[{i}] = {:e} < p[{j}] = {:e}",
                            p[i], p[j]
                        ),
                    ));
                }
            }
        }
        Ok(())
    };
    let g = f.clone();
    let shift = move |z: &Vec<T>| {
        let zc = shift_by(z, 17.0);
        let (_, b0) = exact(z).ok_or_else(|| no_exact(z))?;
        let (_, b1) = exact(&zc).ok_or_else(|| no_exact(&zc))?;
        let y = g(z);
        agree_within_both(
            "softmax(z + 17) against softmax(z)",
            &g(&zc),
            &y,
            (&b0, &b1),
        )
    };
    let g = f.clone();
    let agrees = move |z: &Vec<T>| {
        let (p, bound) = exact(z).ok_or_else(|| no_exact(z))?;
        within_bounds("softmax", &g(z), &p, &bound)
    };
    let laws: Vec<Law<Vec<T>>> = vec![
        Law::new(
            "sums to one",
            "Σᵢ softmax(z)ᵢ = 1 within the sum of the componentwise bounds",
            rows(&[&[0.0; 7], &[-30.0, 0.0, 30.0]]),
            int_rows(1..=16, -40..=40),
            sums,
        ),
        Law::new(
            "order",
            "pᵢ ≥ 0, and zᵢ > zⱼ ⇒ pᵢ ≥ pⱼ",
            vec![],
            int_rows(1..=10, -80..=80),
            order,
        ),
        shift_law(
            "shift invariance",
            "softmax(z + c·1) = softmax(z) (c = 17, exact on the integer lattice) within both bounds",
            shift,
        ),
        agrees_law(
            "within the error bound of the max-shifted softmax in this type (tolerance::softmax_textbook_bound) on every finite input",
            &[&[0.0, -71.0]],
            agrees.clone(),
        ),
        no_overflow(
            "huge logits: softmax([1000, 1000]) = [0.5, 0.5], softmax([−1000, 0]) = [0, 1]",
            rows(&[&[1000.0, 1000.0], &[-1000.0, 0.0], &[88.0, 89.0, 90.0]]),
            agrees,
        ),
        masked_row_law(
            "a −∞ entry beside a finite one gets probability exactly 0; the rest is the softmax of the finite entries",
            ("softmax with masked entries", T::zero(), "0", "probability"),
            f.clone(),
            |z| exact(z).ok_or_else(|| no_exact(z)),
        ),
    ];
    let policies = softmax_policies(&[1.0, 0.0], &[0.5, 0.5, 0.0]);
    let as_accurate = AsAccurate {
        statement: "within `ulps` of this crate's softmax, componentwise (opt-in)",
        trap: &[0.0, -71.0],
        ours: crate::kernels::softmax::softmax,
    };
    family_report("softmax", laws, as_accurate, policies, move |z| f(z), cfg)
}

/// Used by the log-domain laws: the bound of `log_softmax(z)ᵢ` and `logsumexp(z)` — with the
/// log1p split when `split` (the "dominant logit" laws), else the textbook shifted algorithm's.
pub(crate) fn log_bounds<T: Real>(s: &Shifted, split: bool) -> (Vec<f64>, f64) {
    let tail = if split {
        s.tail_split_bound
    } else {
        s.tail_bound
    };
    let per = s
        .log_p
        .iter()
        .zip(&s.d)
        .map(|(&y, &d)| {
            crate::kernels::tolerance::log_softmax_textbook_bound::<T>(
                if d.is_finite() { d } else { 0.0 },
                tail,
                if y.is_finite() { y } else { 0.0 },
            ) + reference_error(LOG_SOFTMAX_ULPS, y)
        })
        .collect();
    let lse = crate::kernels::tolerance::logsumexp_textbook_bound::<T>(s.lse, tail)
        + reference_error(LOGSUMEXP_ULPS, s.lse)
        + reference_error(LOGSUMEXP_ULPS, s.m);
    (per, lse)
}
