//! Laws of a log-softmax `Fn(&[T]) -> Vec<T>`.

use super::*;
use crate::strategies::{FloatStrategies, logits};
use crate::tolerance::relative;
use proptest::strategy::Just;
use std::rc::Rc;

/// Check `f` against every log-softmax law with the default [`Config`].
pub fn check<T: FloatStrategies, F: Fn(&[T]) -> Vec<T> + 'static>(f: F) -> Report {
    check_with(f, &Config::default())
}

/// Check `f` with a configuration.
pub fn check_with<T: FloatStrategies, F: Fn(&[T]) -> Vec<T> + 'static>(
    f: F,
    cfg: &Config,
) -> Report {
    let f = Rc::new(f);
    let tol = relative::<T>(cfg.ulps);
    let ulps = cfg.ulps;
    let g = f.clone();
    let exp_sums = move |z: &Vec<T>| {
        let s: f64 = g(z).iter().map(|v| v.widen().exp()).sum();
        let allowed = tol * 8.0 + relative::<f64>(z.len() as u64);
        if (s - 1.0).abs() <= allowed {
            Ok(())
        } else {
            Err(format!("Σ exp(log_softmax(z)) = {s:e}, expected 1"))
        }
    };
    let g = f.clone();
    let shift = move |z: &Vec<T>| {
        let c = T::narrow(17.0);
        let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
        let scale = z.iter().fold(1.0f64, |m, v| m.max(v.widen().abs()));
        within_abs(
            "log_softmax(z + 17) vs log_softmax(z)",
            &g(&zc),
            &g(z),
            4.0 * tol * scale,
        )
    };
    let g = f.clone();
    let reference =
        move |z: &Vec<T>| within_ulps("log_softmax", &g(z), &crate::softmax::log_softmax(z), ulps);
    let g = f.clone();
    let special =
        move |z: &Vec<T>| within_ulps("special value", &g(z), &crate::softmax::log_softmax(z), 0);
    let laws: Vec<Law<Vec<T>>> = vec![
        Law {
            name: "exp sums to one",
            statement: "Σᵢ exp(log_softmax(z)ᵢ) = 1",
            traps: vec![],
            inputs: int_rows(1..=16, -40..=40),
            holds: Box::new(exp_sums),
        },
        Law {
            name: "shift invariance",
            statement: "log_softmax(z + c·1) = log_softmax(z) (c = 17)",
            traps: vec![],
            inputs: int_rows(1..=10, -40..=40),
            holds: Box::new(shift),
        },
        Law {
            name: "agrees with the reference",
            statement: "within `ulps` of this crate's log_softmax",
            traps: vec![],
            inputs: logits::<T>(1..=16).boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "dominant logit",
            statement: "log_softmax([0, −20])₀ = −2.06e−9, not 0 (log(softmax) loses it)",
            traps: vec![
                row(&[0.0, -20.0]),
                row(&[0.0, -40.0]),
                row(&[10.0, -30.0, -35.0]),
            ],
            inputs: int_rows(2..=6, -60..=-18)
                .prop_map(|mut z: Vec<T>| {
                    z[0] = T::zero();
                    z
                })
                .boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "no overflow",
            statement: "log_softmax([1000, 1000]) = [−ln 2, −ln 2]",
            traps: vec![row(&[1000.0, 1000.0]), row(&[-1000.0, 0.0])],
            inputs: int_rows(1..=8, 700..=1000),
            holds: Box::new(reference),
        },
        Law {
            name: "special values",
            statement: "the crate's policy: [] → [], NaN → all NaN, all −∞ → all NaN, −∞ beside a finite max → −∞",
            traps: vec![
                vec![],
                row(&[f64::NAN, 1.0]),
                row(&[f64::NEG_INFINITY; 2]),
                row(&[0.0, f64::NEG_INFINITY]),
            ],
            inputs: Just(row(&[0.0])).boxed(),
            holds: Box::new(special),
        },
    ];
    run("log_softmax", T::NAME, laws, cfg)
}
