//! Laws of a softmax `Fn(&[T]) -> Vec<T>`.

use super::*;
use crate::strategies::{FloatStrategies, logits};
use crate::tolerance::relative;
use std::rc::Rc;

/// Check `f` against every softmax law with the default [`Config`].
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
    let sums = move |z: &Vec<T>| {
        let p = g(z);
        let s: f64 = p.iter().map(|v| v.widen()).sum();
        let allowed = tol + relative::<f64>(z.len() as u64);
        if (s - 1.0).abs() <= allowed {
            Ok(())
        } else {
            Err(format!(
                "Σ softmax(z) = {s:e}, expected 1 (tolerance {allowed:e})"
            ))
        }
    };
    let g = f.clone();
    let order = move |z: &Vec<T>| {
        let p = g(z);
        for i in 0..z.len() {
            if p[i].is_nan() || p[i] < T::zero() {
                return Err(format!("p[{i}] = {:e} is negative or NaN", p[i]));
            }
            for j in 0..z.len() {
                if z[i] > z[j] && p[i] < p[j] {
                    return Err(format!(
                        "z[{i}] > z[{j}] but p[{i}] = {:e} < p[{j}] = {:e}",
                        p[i], p[j]
                    ));
                }
            }
        }
        Ok(())
    };
    let g = f.clone();
    let shift = move |z: &Vec<T>| {
        let c = T::narrow(17.0);
        let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
        within_abs("softmax(z + 17) vs softmax(z)", &g(&zc), &g(z), 2.0 * tol)
    };
    let g = f.clone();
    let reference =
        move |z: &Vec<T>| within_ulps("softmax", &g(z), &crate::softmax::softmax(z), ulps);
    let g = f.clone();
    let special =
        move |z: &Vec<T>| within_ulps("special value", &g(z), &crate::softmax::softmax(z), 0);
    let laws: Vec<Law<Vec<T>>> = vec![
        Law {
            name: "sums to one",
            statement: "Σᵢ softmax(z)ᵢ = 1 within the tolerance",
            traps: vec![row(&[0.0; 7]), row(&[-30.0, 0.0, 30.0])],
            inputs: int_rows(1..=16, -40..=40),
            holds: Box::new(sums),
        },
        Law {
            name: "order",
            statement: "pᵢ ≥ 0, and zᵢ > zⱼ ⇒ pᵢ ≥ pⱼ",
            traps: vec![],
            inputs: int_rows(1..=10, -80..=80),
            holds: Box::new(order),
        },
        Law {
            name: "shift invariance",
            statement: "softmax(z + c·1) = softmax(z) (c = 17, exact on the integer lattice)",
            traps: vec![],
            inputs: int_rows(1..=10, -40..=40),
            holds: Box::new(shift),
        },
        Law {
            name: "agrees with the reference",
            statement: "within `ulps` of this crate's softmax on every finite input",
            traps: vec![],
            inputs: logits::<T>(1..=16).boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "no overflow",
            statement: "huge logits: softmax([1000, 1000]) = [0.5, 0.5], softmax([−1000, 0]) = [0, 1]",
            traps: vec![
                row(&[1000.0, 1000.0]),
                row(&[-1000.0, 0.0]),
                row(&[88.0, 89.0, 90.0]),
            ],
            inputs: int_rows(1..=8, 700..=1000),
            holds: Box::new(reference),
        },
        Law {
            name: "special values",
            statement: "the crate's policy: [] → [], NaN → all NaN, all −∞ → all NaN, −∞ beside a finite max → 0, c entries +∞ → 1/c",
            traps: vec![
                vec![],
                row(&[f64::NAN, 1.0]),
                row(&[f64::NEG_INFINITY; 2]),
                row(&[0.0, f64::NEG_INFINITY]),
                row(&[f64::INFINITY, 0.0]),
            ],
            inputs: Just(row(&[0.0])).boxed(),
            holds: Box::new(special),
        },
    ];
    run("softmax", T::NAME, laws, cfg)
}

use proptest::strategy::Just;
