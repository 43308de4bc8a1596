//! Laws of a logsumexp `Fn(&[T]) -> T`.
//!
//! Tolerance: [`logsumexp_textbook_bound`](crate::tolerance::logsumexp_textbook_bound) — the
//! shifted algorithm `m + ln_1p(Σ_{j≠k} e^{zⱼ−m})` in `T`.

use super::softmax::{log_bounds, no_exact, shifted};
use super::*;
use crate::engine::strategies::FloatStrategies;

fn exact<T: Real>(z: &[T], split: bool) -> Result<(f64, f64), Mismatch> {
    let s = shifted(z).ok_or_else(|| no_exact(z))?;
    let (_, bound) = log_bounds::<T>(&s, split);
    Ok((s.lse, bound))
}

entry_points!("logsumexp", Fn(&[T]) -> T);

fn law_set<T: FloatStrategies>(f: ReduceFn<T>, cfg: &Config) -> HarnessReport {
    let g = f.clone();
    let bounds = move |z: &Vec<T>| {
        let (_, b) = exact(z, false)?;
        let l = g(z).widen();
        let m = z.iter().fold(f64::NEG_INFINITY, |a, v| a.max(v.widen()));
        let hi = m + (z.len() as f64).ln();
        if l >= m - b && l <= hi + b {
            Ok(())
        } else {
            Err(Mismatch::new(
                format!("in [{m:e}, {hi:e}] ± {b:.2e}"),
                format!("{l:e}"),
                "max z ≤ logsumexp(z) ≤ max z + ln n is broken",
            ))
        }
    };
    let g = f.clone();
    let shift = move |z: &Vec<T>| {
        let zc = shift_by(z, 17.0);
        let (_, b0) = exact(z, false)?;
        let (_, b1) = exact(&zc, false)?;
        let moved = g(&zc);
        let want = ("logsumexp(z) + 17", g(z).widen() + 17.0);
        value_within(&[moved], moved.widen(), want, b0 + b1, "logsumexp(z + 17)")
    };
    let g = f.clone();
    let agrees = move |z: &Vec<T>| {
        let (y, b) = exact(z, false)?;
        within_bounds("logsumexp", &[g(z)], &[y], &[b])
    };
    let g = f.clone();
    let dominant = move |z: &Vec<T>| {
        let (y, b) = exact(z, true)?;
        within_bounds("logsumexp (log1p split)", &[g(z)], &[y], &[b])
    };
    let laws: Vec<Law<Vec<T>>> = vec![
        Law::new(
            "bounds",
            "max z ≤ logsumexp(z) ≤ max z + ln n, within the bound",
            vec![],
            int_rows(1..=16, -40..=40),
            bounds,
        ),
        shift_law(
            "shift equivariance",
            "logsumexp(z + c·1) = logsumexp(z) + c (c = 17), within both bounds",
            shift,
        ),
        agrees_law(
            "within the error bound of the shifted m + ln Σⱼ e^{zⱼ−m} in this type (tolerance::logsumexp_textbook_bound with lse_tail_unsplit_bound)",
            &[],
            agrees.clone(),
        ),
        dominant_logit(
            "logsumexp([0, −20]) = 2.06e−9 to a few ulps, relatively, not 0 (ln Σⱼ e^{zⱼ−m} without the log1p split loses it; tolerance::lse_tail_textbook_bound)",
            &[&[0.0, -20.0], &[0.0, -40.0]],
            dominant,
        ),
        no_overflow(
            "logsumexp([1000, 1000]) = 1000 + ln 2",
            rows(&[&[1000.0, 1000.0], &[-1000.0, -1000.0]]),
            agrees.clone(),
        ),
        masked_entry(
            "a −∞ entry beside a finite one adds nothing: logsumexp([0, −∞]) = 0",
            agrees,
        ),
    ];
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let policies = vec![
        PolicyCase::new("empty row", vec![], &[-inf], &[-inf]).or_error(),
        PolicyCase::new("+∞ entry", row(&[inf, 0.0]), &[inf], &[inf]),
        PolicyCase::new("all −∞", row(&[-inf, -inf]), &[-inf], &[-inf]),
        PolicyCase::new("NaN entry", row(&[nan, 1.0]), &[nan], &[nan]),
    ];
    let as_accurate = AsAccurate {
        statement: "within `ulps` of this crate's logsumexp (opt-in)",
        trap: &[0.0, -40.0],
        ours: |z| vec![crate::kernels::softmax::logsumexp(z)],
    };
    family_report(
        "logsumexp",
        laws,
        as_accurate,
        policies,
        move |z| vec![f(z)],
        cfg,
    )
}
