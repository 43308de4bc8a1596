//! Laws of a LayerNorm without affine parameters, `Fn(&[T], eps: T) -> Vec<T>`.
//!
//! Tolerance: [`layer_norm_textbook_bound`] — the error bound of the two-pass algorithm
//! (mean, then the mean of squared deviations) in `T`, on inputs where its intermediates
//! (`Σ|xᵢ|`, `Σ(xᵢ − μ)²`) are finite.

use super::softmax::reference_error;
use super::*;
use crate::engine::strategies::{FloatStrategies, logits};
use crate::kernels::tolerance::{NORM_LAYER_ULPS, layer_norm_textbook_bound};
use std::rc::Rc;

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

/// Check `f` against every LayerNorm law and policy with the default [`Config`].
pub fn check<T: FloatStrategies, F: Fn(&[T], T) -> Vec<T> + 'static>(f: F) -> HarnessReport {
    check_with(f, &Config::default())
}

/// Check `f` with a configuration.
pub fn check_with<T: FloatStrategies, F: Fn(&[T], T) -> Vec<T> + 'static>(
    f: F,
    cfg: &Config,
) -> HarnessReport {
    let f: super::NormFn<T> = Rc::new(f);
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
        let c = T::narrow(1000.0);
        let xc: Vec<T> = x.iter().map(|&v| v + c).collect();
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
    let mut laws: Vec<Law<Vec<T>>> = vec![
        Law {
            name: "mean zero",
            statement: "LN(x) sums to 0 (ε = 1e-5) within the sum of the componentwise bounds",
            traps: vec![],
            inputs: int_rows(2..=16, -40..=40),
            holds: Box::new(mean_zero),
        },
        Law {
            name: "mean invariance",
            statement: "LN(x + c·1) = LN(x) (c = 1000, ε = 1e-5) within both bounds",
            traps: vec![],
            inputs: int_rows(2..=16, -40..=40),
            holds: Box::new(mean_invariance),
        },
        Law {
            name: "scale invariance",
            statement: "LN(α·x) = LN(x) for α = 64, ε = 0, within both bounds",
            traps: vec![],
            inputs: int_rows(2..=16, -40..=40)
                .prop_filter("σ > 0", |x| non_constant(x))
                .boxed(),
            holds: Box::new(scale_invariance),
        },
        Law {
            name: "output norm",
            statement: "|LN(x/512)|² = d·σ²/(σ² + ε) at ε = 1e-5 (σ² of x/512 comparable to ε): the bounded deviation from scale invariance for ε > 0",
            traps: vec![],
            inputs: int_rows(2..=16, -8..=8),
            holds: Box::new(output_norm),
        },
        Law {
            name: "agrees with the exact result",
            statement: "within the error bound of the two-pass LayerNorm in this type (tolerance::layer_norm_textbook_bound), ε = 1e-5, where its intermediates are finite",
            traps: vec![row(&[1.0, 2.0, 3.0, 4.0]), row(&[-0.5, 1e-3, 3.25])],
            inputs: logits::<T>(2..=16).prop_map(in_textbook_range).boxed(),
            holds: Box::new(agrees.clone()),
        },
        Law {
            name: "large mean",
            statement: "a large mean and a small spread do not cancel: LN([40000, 40001, 40002, 40003]) = ±1.3416355, ±0.4472118 (ε = 1e-5)",
            traps: vec![
                row(&[40000.0, 40001.0, 40002.0, 40003.0]),
                row(&[1e6, 1e6 + 1.0]),
            ],
            inputs: int_rows(2..=8, 0..=8)
                .prop_map(|x: Vec<T>| x.into_iter().map(|v| v + T::narrow(65536.0)).collect())
                .boxed(),
            holds: Box::new(agrees.clone()),
        },
        Law {
            name: "no overflow",
            statement: "entries whose squares overflow but whose deviations do not: LN([1.6, 2.2]·√max) = [−1, 1] (ε = 1e-5)",
            traps: vec![
                row(&[1.6 * big, 2.2 * big]),
                row(&[2.0 * big, 2.0 * big, 2.5 * big]),
            ],
            inputs: int_rows(2..=8, 0..=4)
                .prop_map(move |x: Vec<T>| {
                    x.into_iter()
                        .map(|v| v * T::narrow(big / 16.0) + T::narrow(2.0 * big))
                        .collect()
                })
                .boxed(),
            holds: Box::new(agrees),
        },
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
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let policies = vec![
        PolicyCase::new("empty row", vec![], &[], &[]).or_error(),
        PolicyCase::new(
            "constant row, ε = 0",
            row(&[7.0, 7.0]),
            &[0.0, 0.0],
            &[nan, nan],
        ),
        PolicyCase::new("NaN entry", row(&[nan, 1.0]), &[nan, nan], &[nan, nan]),
        PolicyCase::new("+∞ entry", row(&[inf, 1.0]), &[nan, nan], &[nan, nan]),
        PolicyCase::new("−∞ entry", row(&[-inf, 1.0]), &[nan, nan], &[nan, nan]),
    ];
    let call = move |x: &Vec<T>| f(x, T::zero());
    run("layer_norm", laws, policies, &call, cfg)
}
