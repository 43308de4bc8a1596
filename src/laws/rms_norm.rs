//! Laws of an RMSNorm without a gain, `Fn(&[T], eps: T) -> Vec<T>`.

use super::*;
use crate::strategies::{FloatStrategies, logits};
use crate::tolerance::relative;
use proptest::strategy::Just;
use std::rc::Rc;

/// Check `f` against every RMSNorm law with the default [`Config`].
pub fn check<T: FloatStrategies, F: Fn(&[T], T) -> Vec<T> + 'static>(f: F) -> Report {
    check_with(f, &Config::default())
}

/// Check `f` with a configuration.
pub fn check_with<T: FloatStrategies, F: Fn(&[T], T) -> Vec<T> + 'static>(
    f: F,
    cfg: &Config,
) -> Report {
    let f: super::NormFn<T> = Rc::new(f);
    let tol = relative::<T>(cfg.ulps);
    let ulps = cfg.ulps;
    let scale = super::scale_invariance(f.clone(), "RMSNorm(64·x) vs RMSNorm(x), ε = 0", tol);
    let g = f.clone();
    let norm = move |x: &Vec<T>| {
        if x.iter().all(|&v| v == T::zero()) {
            return Ok(());
        }
        let n2: f64 = g(x, T::zero()).iter().map(|v| v.widen().powi(2)).sum();
        let d = x.len() as f64;
        if (n2 - d).abs() <= 4.0 * tol * d {
            Ok(())
        } else {
            Err(format!("|RMSNorm(x)|² = {n2:e}, expected d = {d}"))
        }
    };
    let g = f.clone();
    let reference = move |x: &Vec<T>| {
        within_ulps(
            "rms_norm",
            &g(x, T::epsilon()),
            &crate::norms::rms_norm(x, T::epsilon(), None),
            ulps,
        )
    };
    let g = f.clone();
    let special = move |x: &Vec<T>| {
        within_ulps(
            "special value",
            &g(x, T::zero()),
            &crate::norms::rms_norm(x, T::zero(), None),
            0,
        )
    };
    let big = T::max_value().widen().sqrt() * 4.0;
    let laws: Vec<Law<Vec<T>>> = vec![
        Law {
            name: "scale invariance",
            statement: "RMSNorm(α·x) = RMSNorm(x) for α > 0, ε = 0",
            traps: vec![],
            inputs: int_rows(1..=16, -40..=40)
                .prop_filter("x ≠ 0", |x| x.iter().any(|&v| v != T::zero()))
                .boxed(),
            holds: scale,
        },
        Law {
            name: "norm √d",
            statement: "|RMSNorm(x)| = √d for ε = 0",
            traps: vec![],
            inputs: int_rows(1..=16, -40..=40),
            holds: Box::new(norm),
        },
        Law {
            name: "agrees with the reference",
            statement: "within `ulps` of this crate's rms_norm (ε = machine epsilon)",
            traps: vec![],
            inputs: logits::<T>(1..=16).boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "huge values",
            statement: "no overflow in Σx²: RMSNorm([3, 4]·big) = RMSNorm([3, 4])",
            traps: vec![row(&[3.0 * big / 4.0, big]), row(&[big, big])],
            inputs: int_rows(1..=6, 1..=9)
                .prop_map(move |x: Vec<T>| {
                    x.into_iter().map(|v| v * T::narrow(big / 8.0)).collect()
                })
                .boxed(),
            holds: Box::new(reference),
        },
        Law {
            name: "special values",
            statement: "the crate's policy (ε = 0): [] → [], zero row → zeros, NaN or ±∞ → all NaN",
            traps: vec![
                vec![],
                row(&[0.0, 0.0]),
                row(&[f64::NAN, 1.0]),
                row(&[f64::INFINITY, 1.0]),
            ],
            inputs: Just(row(&[1.0])).boxed(),
            holds: Box::new(special),
        },
    ];
    run("rms_norm", T::NAME, laws, cfg)
}
