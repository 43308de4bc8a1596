//! Laws of a cross-entropy loss `Fn(&[T], target: usize) -> T`.

use super::*;
use crate::strategies::{FloatStrategies, logits};
use crate::tolerance::ulp;
use proptest::strategy::Just;
use std::rc::Rc;

/// Check `f` against every cross-entropy law with the default [`Config`].
pub fn check<T: FloatStrategies, F: Fn(&[T], usize) -> T + 'static>(f: F) -> Report {
    check_with(f, &Config::default())
}

fn with_target<T: Real>(rows: BoxedStrategy<Vec<T>>) -> BoxedStrategy<(Vec<T>, usize)> {
    rows.prop_flat_map(|z| {
        let n = z.len();
        (Just(z), 0..n)
    })
    .boxed()
}

/// Check `f` with a configuration.
pub fn check_with<T: FloatStrategies, F: Fn(&[T], usize) -> T + 'static>(
    f: F,
    cfg: &Config,
) -> Report {
    let f = Rc::new(f);
    let ulps = cfg.ulps;
    let g = f.clone();
    let non_negative = move |(z, y): &(Vec<T>, usize)| {
        let l = g(z, *y);
        if l >= T::zero() {
            Ok(())
        } else {
            Err(format!("L = {l:e} < 0"))
        }
    };
    let g = f.clone();
    let shift = move |(z, y): &(Vec<T>, usize)| {
        let c = T::narrow(17.0);
        let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
        let (a, b) = (g(&zc, *y).widen(), g(z, *y).widen());
        let tol = 4.0 * ulps as f64 * ulp(T::narrow(a.abs().max(b.abs()).max(40.0)));
        if (a - b).abs() <= tol {
            Ok(())
        } else {
            Err(format!("L(z + 17) = {a:e} but L(z) = {b:e}"))
        }
    };
    let g = f.clone();
    let reference = move |(z, y): &(Vec<T>, usize)| {
        within_ulps(
            "cross_entropy",
            &[g(z, *y)],
            &[crate::loss::cross_entropy(z, *y)],
            ulps,
        )
    };
    let laws: Vec<Law<(Vec<T>, usize)>> = vec![
        Law {
            name: "non-negative",
            statement: "L(z, y) ≥ 0",
            traps: vec![],
            inputs: with_target(int_rows(1..=12, -40..=40)),
            holds: Box::new(non_negative),
        },
        Law {
            name: "shift invariance",
            statement: "L(z + c·1, y) = L(z, y) (c = 17)",
            traps: vec![],
            inputs: with_target(int_rows(1..=12, -40..=40)),
            holds: Box::new(shift),
        },
        Law {
            name: "agrees with the reference",
            statement: "within `ulps` of this crate's cross_entropy",
            traps: vec![],
            inputs: with_target(logits::<T>(1..=16).boxed()),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "dominant target",
            statement: "L([40, 0], 0) = 4.25e−18 in f64 (2.06e−9 for L([20, 0], 0)), not 0",
            traps: vec![
                (row(&[40.0, 0.0]), 0),
                (row(&[20.0, 0.0]), 0),
                (row(&[30.0, 1.0, 2.0]), 0),
            ],
            inputs: with_target(int_rows(2..=6, -10..=10))
                .prop_map(|(mut z, y)| {
                    z[y] = T::narrow(60.0);
                    (z, y)
                })
                .boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "no overflow",
            statement: "L([1000, 0], 1) = 1000",
            traps: vec![(row(&[1000.0, 0.0]), 1), (row(&[1000.0, 1000.0]), 0)],
            inputs: with_target(int_rows(1..=8, 700..=1000)),
            holds: Box::new(reference),
        },
    ];
    run("cross_entropy", T::NAME, laws, cfg)
}
