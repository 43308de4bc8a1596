//! Laws of a LayerNorm without affine parameters, `Fn(&[T], eps: T) -> Vec<T>`.
//!
//! Tolerance: [`layer_norm_textbook_bound`] — the error bound of the two-pass algorithm
//! (mean, then the mean of squared deviations) in `T`, on inputs where its intermediates
//! (`Σ|xᵢ|`, `Σ(xᵢ − μ)²`) are finite.

use super::softmax::reference_error;
use super::*;
use crate::engine::strategies::{FloatStrategies, logits};
use crate::kernels::tolerance::{NORM_LAYER_ULPS, layer_norm_textbook_bound};

fn non_constant<T: Real>(x: &[T]) -> bool {
    x.iter().any(|&v| v != x[0])
}

/// Mean of |x|, σ² and the deviations of a row, in f64 (two-pass; only scales the bound).
fn moments<T: Real>(x: &[T]) -> (f64, f64, Vec<f64>) {
    let n = x.len() as f64;
    let mean_abs = x.iter().map(|v| v.widen().abs()).sum::<f64>() / n;
    let mu = x.iter().map(|v| v.widen()).sum::<f64>() / n;
    let d: Vec<f64> = x.iter().map(|v| v.widen() - mu).collect();
    let var = d.iter().map(|v| v * v).sum::<f64>() / n;
    (mean_abs, var, d)
}

/// LN(x) exactly (this crate's f64 kernel) and the two-pass bound of each component.
fn exact<T: Real>(x: &[T], eps: T) -> (Vec<f64>, Vec<f64>) {
    let xf: Vec<f64> = x.iter().map(|v| v.widen()).collect();
    let y = crate::kernels::norms::layer_norm(&xf, eps.widen(), None, None);
    let (mean_abs, var, d) = moments(x);
    let bound = d
        .iter()
        .zip(&y)
        .map(|(&di, &yi)| {
            layer_norm_textbook_bound::<T>(x.len(), mean_abs, var, eps.widen(), di)
                + reference_error(NORM_LAYER_ULPS, yi)
        })
        .collect();
    (y, bound)
}

/// Scale a row by a power of two (exact) until the two-pass algorithm's intermediates are
/// finite in `T` with room to spare: the range where the textbook algorithm is judged.
fn in_textbook_range<T: Real>(mut x: Vec<T>) -> Vec<T> {
    let limit = T::max_value().widen() / 64.0;
    loop {
        let (mean_abs, var, _) = moments(&x);
        let n = x.len() as f64;
        if mean_abs * n <= limit && var * n <= limit {
            return x;
        }
        x.iter_mut().for_each(|v| *v *= T::narrow(0.25));
    }
}

entry_points!("LayerNorm", Fn(&[T], T) -> Vec<T>);

fn law_set<T: FloatStrategies>(f: NormFn<T>, cfg: &Config) -> HarnessReport {
    let eps = T::narrow(1e-5);
    let g = f.clone();
    let mean_zero = move |x: &Vec<T>| {
        if !non_constant(x) {
            return Ok(());
        }
        let y = g(x, eps);
        let s: f64 = y.iter().map(|v| v.widen()).sum();
        let (_, bound) = exact(x, eps);
        let allowed: f64 = bound.iter().sum();
        value_within(&y, s, ("Σ", 0.0), allowed, "Σ LN(x)")
    };
    let g = f.clone();
    let mean_invariance = move |x: &Vec<T>| {
        let xc = shift_by(x, 1000.0);
        let (_, b0) = exact(x, eps);
        let (_, b1) = exact(&xc, eps);
        let y = g(x, eps);
        agree_within_both("LN(x + 1000·1) against LN(x)", &g(&xc, eps), &y, (&b0, &b1))
    };
    let scale_invariance = super::scale_invariance("LN", f.clone(), exact::<T>);
    let g = f.clone();
    let output_norm = move |x: &Vec<T>| {
        if !non_constant(x) {
            return Ok(());
        }
        // Rows scaled down so that σ² is comparable to ε: the deviation from scale invariance.
        let xs: Vec<T> = x.iter().map(|&v| v * T::narrow(1.0 / 512.0)).collect();
        let got = g(&xs, eps);
        let (y, bound) = exact(&xs, eps);
        let want: f64 = y.iter().map(|v| v * v).sum();
        let what = format!("|LN(x/512)|² for x/512 = {}, ε = 1e-5", show(&xs));
        squared_norm_within(&got, (&y, &bound), ("d·σ²/(σ² + ε)", want), 0.0, &what)
    };
    let g = f.clone();
    let agrees = move |x: &Vec<T>| {
        let (y, bound) = exact(x, eps);
        within_bounds("layer_norm", &g(x, eps), &y, &bound)
    };
    let big = T::max_value().widen().sqrt();
    // Integer rows of 2 to 16 entries: a spread to normalise.
    let ints = || int_rows(2..=16, -40..=40);
    let mut laws: Vec<Law<Vec<T>>> = vec![
        Law::new(
            "mean zero",
            "LN(x) sums to 0 (ε = 1e-5) within the sum of the componentwise bounds",
            vec![],
            ints(),
            mean_zero,
        ),
        Law::new(
            "mean invariance",
            "LN(x + c·1) = LN(x) (c = 1000, ε = 1e-5) within both bounds",
            vec![],
            ints(),
            mean_invariance,
        ),
        Law::new(
            "scale invariance",
            "LN(α·x) = LN(x) for α = 64, ε = 0, within both bounds",
            vec![],
            ints().prop_filter("σ > 0", |x| non_constant(x)).boxed(),
            scale_invariance,
        ),
        Law::new(
            "output norm",
            "|LN(x/512)|² = d·σ²/(σ² + ε) at ε = 1e-5 (σ² of x/512 comparable to ε): the bounded deviation from scale invariance for ε > 0",
            vec![],
            int_rows(2..=16, -8..=8),
            output_norm,
        ),
        Law::new(
            "agrees with the exact result",
            "within the error bound of the two-pass LayerNorm in this type (tolerance::layer_norm_textbook_bound), ε = 1e-5, where its intermediates are finite",
            rows(&[&[1.0, 2.0, 3.0, 4.0], &[-0.5, 1e-3, 3.25]]),
            logits::<T>(2..=16).prop_map(in_textbook_range).boxed(),
            agrees.clone(),
        ),
        Law::new(
            "large mean",
            "a large mean and a small spread do not cancel: LN([40000, 40001, 40002, 40003]) = ±1.3416355, ±0.4472118 (ε = 1e-5)",
            rows(&[&[40000.0, 40001.0, 40002.0, 40003.0], &[1e6, 1e6 + 1.0]]),
            int_rows(2..=8, 0..=8)
                .prop_map(|x: Vec<T>| x.into_iter().map(|v| v + T::narrow(65536.0)).collect())
                .boxed(),
            agrees.clone(),
        ),
        Law::new(
            "no overflow",
            "entries whose squares overflow but whose deviations do not: LN([1.6, 2.2]·√max) = [−1, 1] (ε = 1e-5)",
            rows(&[&[1.6 * big, 2.2 * big], &[2.0 * big, 2.0 * big, 2.5 * big]]),
            int_rows(2..=8, 0..=4)
                .prop_map(move |x: Vec<T>| {
                    x.into_iter()
                        .map(|v| v * T::narrow(big / 16.0) + T::narrow(2.0 * big))
                        .collect()
                })
                .boxed(),
            agrees,
        ),
    ];
    let g = f.clone();
    laws.extend(as_accurate_as_this_crate(
        cfg,
        "layer_norm",
        "within `ulps` of this crate's layer_norm (ε = 1e-5), componentwise, on every finite input (opt-in)",
        vec![
            row(&[4.0 * big, -4.0 * big]),
            row(&[40000.0, 40001.0, 40002.0, 40003.0]),
        ],
        logits::<T>(2..=16).boxed(),
        move |x: &Vec<T>| g(x, eps),
        move |x: &Vec<T>| crate::kernels::norms::layer_norm(x, eps, None, None),
    ));
    let policies = norm_policies(("constant row, ε = 0", [7.0, 7.0]), [f64::NAN; 2]);
    run(
        "layer_norm",
        laws,
        policies,
        &move |x: &Vec<T>| f(x, T::zero()),
        cfg,
    )
}
