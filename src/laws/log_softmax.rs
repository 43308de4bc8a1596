//! Laws of a log-softmax `Fn(&[T]) -> Vec<T>`.
//!
//! Tolerance: [`log_softmax_textbook_bound`](crate::tolerance::log_softmax_textbook_bound) — the
//! error bound of the shifted algorithm `(zᵢ − m) − ln_1p(Σ_{j≠k} e^{zⱼ−m})` in `T`. Relative for
//! a dominant logit's log-probability, which `ln(Σⱼ e^{zⱼ−m})` without the split loses.

use super::softmax::{log_bounds, no_exact, shifted};
use super::*;
use crate::engine::strategies::FloatStrategies;

/// log_softmax(z) exactly, the bound of each component, and softmax(z).
type Exact = (Vec<f64>, Vec<f64>, Vec<f64>);

fn exact<T: Real>(z: &[T], split: bool) -> Result<Exact, Mismatch> {
    let s = shifted(z).ok_or_else(|| no_exact(z))?;
    let (bound, _) = log_bounds::<T>(&s, split);
    Ok((s.log_p, bound, s.p))
}

entry_points!("log-softmax", Fn(&[T]) -> Vec<T>);

fn law_set<T: FloatStrategies>(f: RowFn<T>, cfg: &Config) -> HarnessReport {
    let g = f.clone();
    let exp_sums = move |z: &Vec<T>| {
        let (_, bound, p) = exact(z, false)?;
        let y = g(z);
        let s: f64 = y.iter().map(|v| v.widen().exp()).sum();
        // |e^ŷ − e^y| ≤ p·(e^b − 1) for |ŷ − y| ≤ b.
        let allowed: f64 = p
            .iter()
            .zip(&bound)
            .map(|(p, b)| p * b.exp_m1())
            .sum::<f64>()
            + 4.0 * z.len() as f64 * f64::EPSILON;
        value_within(&y, s, ("Σ exp", 1.0), allowed, "Σ exp(log_softmax(z))")
    };
    let g = f.clone();
    let shift = move |z: &Vec<T>| {
        let zc = shift_by(z, 17.0);
        let (_, b0, _) = exact(z, false)?;
        let (_, b1, _) = exact(&zc, false)?;
        let y = g(z);
        let what = "log_softmax(z + 17) against log_softmax(z)";
        agree_within_both(what, &g(&zc), &y, (&b0, &b1))
    };
    let g = f.clone();
    let agrees = move |z: &Vec<T>| {
        let (y, bound, _) = exact(z, false)?;
        within_bounds("log_softmax", &g(z), &y, &bound)
    };
    let g = f.clone();
    let dominant = move |z: &Vec<T>| {
        let (y, bound, _) = exact(z, true)?;
        within_bounds("log_softmax (log1p split)", &g(z), &y, &bound)
    };
    let laws: Vec<Law<Vec<T>>> = vec![
        Law::new(
            "exp sums to one",
            "Σᵢ exp(log_softmax(z)ᵢ) = 1 within what the componentwise bounds allow",
            vec![],
            int_rows(1..=16, -40..=40),
            exp_sums,
        ),
        shift_law(
            "shift invariance",
            "log_softmax(z + c·1) = log_softmax(z) (c = 17) within both bounds",
            shift,
        ),
        agrees_law(
            "within the error bound of the shifted log-softmax (zᵢ − m) − ln Σⱼ e^{zⱼ−m} in this type (tolerance::log_softmax_textbook_bound with lse_tail_unsplit_bound)",
            &[],
            agrees.clone(),
        ),
        dominant_logit(
            "a dominant logit keeps its log-probability to a few ulps, relatively: log_softmax([0, −20])₀ = −2.06e−9, not 0 (ln Σⱼ e^{zⱼ−m} without the log1p split, or log(softmax), loses it; tolerance::lse_tail_textbook_bound)",
            &[&[0.0, -20.0], &[0.0, -40.0], &[10.0, -30.0, -35.0]],
            dominant,
        ),
        no_overflow(
            "log_softmax([1000, 1000]) = [−ln 2, −ln 2]; log_softmax([0, −1000]) = [0, −1000]",
            rows(&[&[1000.0, 1000.0], &[-1000.0, 0.0], &[0.0, -200.0]]),
            agrees,
        ),
        masked_row_law(
            "a −∞ entry beside a finite one gets exactly −∞; the rest is the log-softmax of the finite entries",
            (
                "log_softmax with masked entries",
                T::neg_infinity(),
                "−∞",
                "log-probability",
            ),
            f.clone(),
            |z| exact(z, false).map(|(y, bound, _)| (y, bound)),
        ),
    ];
    let (inf, ln2) = (f64::INFINITY, std::f64::consts::LN_2);
    let policies = softmax_policies(&[0.0, -inf], &[-ln2, -ln2, -inf]);
    let as_accurate = AsAccurate {
        statement: "within `ulps` of this crate's log_softmax, componentwise (opt-in)",
        trap: &[0.0, -20.0],
        ours: crate::kernels::softmax::log_softmax,
    };
    family_report(
        "log_softmax",
        laws,
        as_accurate,
        policies,
        move |z| f(z),
        cfg,
    )
}
