//! Laws of an RMSNorm without a gain, `Fn(&[T], eps: T) -> Vec<T>`.
//!
//! Tolerance: [`rms_norm_textbook_bound`] — `xᵢ / √(Σxⱼ²/n + ε)` computed in `T`, on inputs
//! where `Σxⱼ²` is finite. Rows whose squares overflow `T` are judged only by the opt-in law
//! "as accurate as this crate" (this crate scales them; the textbook algorithm returns 0).

use super::softmax::reference_error;
use super::*;
use crate::engine::strategies::{FloatStrategies, logits};
use crate::kernels::tolerance::{NORM_LAYER_ULPS, rms_norm_textbook_bound};

fn exact<T: Real>(x: &[T], eps: T) -> (Vec<f64>, Vec<f64>) {
    let xf: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    let y = crate::kernels::norms::rms_norm(&xf, eps.widen(), None);
    let bound = y
        .iter()
        .map(|&yi| rms_norm_textbook_bound::<T>(x.len(), yi) + reference_error(NORM_LAYER_ULPS, yi))
        .collect();
    (y, bound)
}

/// Scale a row by a power of two (exact) until `Σxⱼ²` is finite in `T` with room to spare.
fn in_textbook_range<T: Real>(mut x: Vec<T>) -> Vec<T> {
    let limit = T::max_value().widen() / 64.0;
    while x.iter().map(|v| v.widen().powi(2)).sum::<f64>() > limit {
        x.iter_mut().for_each(|v| *v *= T::narrow(0.25));
    }
    x
}

entry_points!("RMSNorm", Fn(&[T], T) -> Vec<T>);

fn law_set<T: FloatStrategies>(f: NormFn<T>, cfg: &Config) -> HarnessReport {
    let scale = super::scale_invariance("RMSNorm", f.clone(), exact::<T>);
    let g = f.clone();
    let norm = move |x: &Vec<T>| {
        if x.iter().all(|&v| v == T::zero()) {
            return Ok(());
        }
        let got = g(x, T::zero());
        let d = x.len() as f64;
        let (y, bound) = exact(x, T::zero());
        let slack = 4.0 * d * f64::EPSILON;
        squared_norm_within(&got, (&y, &bound), ("d", d), slack, "|RMSNorm(x)|²")
    };
    let g = f.clone();
    let agrees = move |x: &Vec<T>| {
        let (y, bound) = exact(x, T::epsilon());
        within_bounds("rms_norm", &g(x, T::epsilon()), &y, &bound)
    };
    let big = (T::max_value().widen() / 64.0).sqrt();
    // A row whose mean square is comparable to ε (machine epsilon): the only place where ε
    // outside the root, x/(√(Σxⱼ²/n) + ε), differs from the law's x/√(Σxⱼ²/n + ε) by more than an
    // ulp or two; random rows reach it only by chance.
    let at_eps = T::epsilon().widen().sqrt() / 4.0;
    let mut laws: Vec<Law<Vec<T>>> = vec![
        Law::new(
            "scale invariance",
            "RMSNorm(α·x) = RMSNorm(x) for α = 64, ε = 0, within both bounds",
            vec![],
            int_rows(1..=16, -40..=40)
                .prop_filter("x ≠ 0", |x| x.iter().any(|&v| v != T::zero()))
                .boxed(),
            scale,
        ),
        Law::new(
            "norm √d",
            "|RMSNorm(x)| = √d for ε = 0, within what the componentwise bounds allow",
            vec![],
            int_rows(1..=16, -40..=40),
            norm,
        ),
        Law::new(
            "agrees with the exact result",
            "within the error bound of xᵢ/√(Σxⱼ²/n + ε) in this type (tolerance::rms_norm_textbook_bound), ε = machine epsilon, where Σxⱼ² is finite",
            rows(&[
                &[3.0, 4.0],
                &[-0.5, 1e-3, 3.25],
                &[3.0 * at_eps, 4.0 * at_eps],
            ]),
            logits::<T>(1..=16).prop_map(in_textbook_range).boxed(),
            agrees.clone(),
        ),
        Law::new(
            "no overflow",
            "large entries whose squares still sum to a finite value: RMSNorm([3, 4]·√(max/64)/8) = RMSNorm([3, 4])",
            rows(&[&[3.0 * big / 8.0, big / 2.0], &[big / 4.0; 4]]),
            int_rows(1..=6, 1..=8)
                .prop_map(move |x: Vec<T>| {
                    x.into_iter().map(|v| v * T::narrow(big / 32.0)).collect()
                })
                .boxed(),
            agrees,
        ),
    ];
    let g = f.clone();
    let huge = T::max_value().widen().sqrt() * 4.0;
    laws.extend(as_accurate_as_this_crate(
        cfg,
        "rms_norm",
        "within `ulps` of this crate's rms_norm (ε = machine epsilon), componentwise, on every finite input — rows whose squares overflow included (opt-in)",
        vec![row(&[3.0 * huge / 4.0, huge]), row(&[huge, huge])],
        logits::<T>(1..=16).boxed(),
        move |x: &Vec<T>| g(x, T::epsilon()),
        |x: &Vec<T>| crate::kernels::norms::rms_norm(x, T::epsilon(), None),
    ));
    let policies = norm_policies(("zero row, ε = 0", [0.0, 0.0]), [f64::NAN, 0.0]);
    run(
        "rms_norm",
        laws,
        policies,
        &move |x: &Vec<T>| f(x, T::zero()),
        cfg,
    )
}
