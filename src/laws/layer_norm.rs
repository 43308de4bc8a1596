//! Laws of a LayerNorm without affine parameters, `Fn(&[T], eps: T) -> Vec<T>`.

use super::*;
use crate::strategies::{FloatStrategies, logits};
use crate::tolerance::relative;
use proptest::strategy::Just;
use std::rc::Rc;

/// Check `f` against every LayerNorm law with the default [`Config`].
pub fn check<T: FloatStrategies, F: Fn(&[T], T) -> Vec<T> + 'static>(f: F) -> Report {
    check_with(f, &Config::default())
}

fn non_constant<T: Real>(x: &[T]) -> bool {
    x.iter().any(|&v| v != x[0])
}

/// σ² of a row, in f64 (two-pass; exact enough for the tolerances here).
fn variance<T: Real>(x: &[T]) -> f64 {
    let n = x.len() as f64;
    let mu = x.iter().map(|v| v.widen()).sum::<f64>() / n;
    x.iter().map(|v| (v.widen() - mu).powi(2)).sum::<f64>() / n
}

/// Check `f` with a configuration.
pub fn check_with<T: FloatStrategies, F: Fn(&[T], T) -> Vec<T> + 'static>(
    f: F,
    cfg: &Config,
) -> Report {
    let f: super::NormFn<T> = Rc::new(f);
    let tol = relative::<T>(cfg.ulps);
    let ulps = cfg.ulps;
    let eps = T::narrow(1e-5);
    let g = f.clone();
    let mean_zero = move |x: &Vec<T>| {
        if !non_constant(x) {
            return Ok(());
        }
        let y = g(x, eps);
        let s: f64 = y.iter().map(|v| v.widen()).sum();
        let allowed = tol * (x.len() as f64).sqrt() * x.len() as f64;
        if s.abs() <= allowed {
            Ok(())
        } else {
            Err(format!(
                "Σ LN(x) = {s:e}, expected 0 (tolerance {allowed:e})"
            ))
        }
    };
    let g = f.clone();
    let mean_invariance = move |x: &Vec<T>| {
        let c = T::narrow(1000.0);
        let xc: Vec<T> = x.iter().map(|&v| v + c).collect();
        within_abs(
            "LN(x + 1000·1) vs LN(x)",
            &g(&xc, eps),
            &g(x, eps),
            4.0 * tol * (x.len() as f64).sqrt(),
        )
    };
    let scale_invariance = super::scale_invariance(f.clone(), "LN(64·x) vs LN(x), ε = 0", tol);
    let g = f.clone();
    let output_norm = move |x: &Vec<T>| {
        if !non_constant(x) {
            return Ok(());
        }
        // Rows scaled down so that σ² is comparable to ε: the deviation from scale invariance.
        let xs: Vec<T> = x.iter().map(|&v| v * T::narrow(1.0 / 512.0)).collect();
        let n2: f64 = g(&xs, eps).iter().map(|v| v.widen().powi(2)).sum();
        let var = variance(&xs);
        let d = x.len() as f64;
        let want = d * var / (var + eps.widen());
        if (n2 - want).abs() <= 4.0 * tol * want + 1e-12 {
            Ok(())
        } else {
            Err(format!(
                "|LN(x)|² = {n2:e}, expected d·σ²/(σ² + ε) = {want:e}"
            ))
        }
    };
    let g = f.clone();
    let reference = move |x: &Vec<T>| {
        within_ulps(
            "layer_norm",
            &g(x, eps),
            &crate::norms::layer_norm(x, eps, None, None),
            ulps,
        )
    };
    let g = f.clone();
    let special = move |x: &Vec<T>| {
        within_ulps(
            "special value",
            &g(x, T::zero()),
            &crate::norms::layer_norm(x, T::zero(), None, None),
            0,
        )
    };
    let laws: Vec<Law<Vec<T>>> = vec![
        Law {
            name: "mean zero",
            statement: "LN(x) sums to 0",
            traps: vec![],
            inputs: int_rows(2..=16, -40..=40),
            holds: Box::new(mean_zero),
        },
        Law {
            name: "mean invariance",
            statement: "LN(x + c·1) = LN(x)",
            traps: vec![],
            inputs: int_rows(2..=16, -40..=40),
            holds: Box::new(mean_invariance),
        },
        Law {
            name: "scale invariance",
            statement: "LN(α·x) = LN(x) for α > 0, ε = 0",
            traps: vec![],
            inputs: int_rows(2..=16, -40..=40)
                .prop_filter("σ > 0", |x| non_constant(x))
                .boxed(),
            holds: scale_invariance,
        },
        Law {
            name: "output norm",
            statement: "|LN(x)| = √d·σ/√(σ² + ε): the bounded deviation from scale invariance for ε > 0",
            traps: vec![],
            inputs: int_rows(2..=16, -8..=8),
            holds: Box::new(output_norm),
        },
        Law {
            name: "agrees with the reference",
            statement: "within `ulps` of this crate's layer_norm (ε = 1e-5)",
            traps: vec![],
            inputs: logits::<T>(2..=16).boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "large mean",
            statement: "a large mean and a small spread do not cancel: LN([40000, 40001, 40002, 40003]) = ±1.3416355, ±0.4472118",
            traps: vec![
                row(&[40000.0, 40001.0, 40002.0, 40003.0]),
                row(&[1e6, 1e6 + 1.0]),
            ],
            inputs: int_rows(2..=8, 0..=8)
                .prop_map(|x: Vec<T>| x.into_iter().map(|v| v + T::narrow(65536.0)).collect())
                .boxed(),
            holds: Box::new(reference),
        },
        Law {
            name: "special values",
            statement: "the crate's policy (ε = 0): [] → [], constant row → exact zeros, NaN or ±∞ → all NaN",
            traps: vec![
                vec![],
                row(&[7.0, 7.0]),
                row(&[f64::NAN, 1.0]),
                row(&[f64::INFINITY, 1.0]),
            ],
            inputs: Just(row(&[0.0, 1.0])).boxed(),
            holds: Box::new(special),
        },
    ];
    run("layer_norm", T::NAME, laws, cfg)
}
