//! Laws of a logsumexp `Fn(&[T]) -> T`.

use super::*;
use crate::strategies::{FloatStrategies, logits};
use crate::tolerance::ulp;
use proptest::strategy::Just;
use std::rc::Rc;

/// Check `f` against every logsumexp law with the default [`Config`].
pub fn check<T: FloatStrategies, F: Fn(&[T]) -> T + 'static>(f: F) -> Report {
    check_with(f, &Config::default())
}

/// Check `f` with a configuration.
pub fn check_with<T: FloatStrategies, F: Fn(&[T]) -> T + 'static>(f: F, cfg: &Config) -> Report {
    let f = Rc::new(f);
    let ulps = cfg.ulps;
    let g = f.clone();
    let bounds = move |z: &Vec<T>| {
        let l = g(z).widen();
        let m = z.iter().fold(f64::NEG_INFINITY, |a, v| a.max(v.widen()));
        let hi = m + (z.len() as f64).ln();
        let slack = ulps as f64 * ulp(T::narrow(hi.abs().max(m.abs())));
        if l >= m - slack && l <= hi + slack {
            Ok(())
        } else {
            Err(format!(
                "logsumexp = {l:e}, expected within [max z, max z + ln n] = [{m:e}, {hi:e}]"
            ))
        }
    };
    let g = f.clone();
    let shift = move |z: &Vec<T>| {
        let c = T::narrow(17.0);
        let zc: Vec<T> = z.iter().map(|&v| v + c).collect();
        let (lz, lzc) = (g(z), g(&zc));
        let (a, b) = (lzc.widen(), lz.widen() + 17.0);
        // Each logsumexp within `ulps` of its own value: the shifted one may be much smaller
        // than logsumexp(z) (z = [−17, −19]: 0.127 against −16.87), so both ulps count.
        let tol = 2.0 * ulps as f64 * (ulp(lzc) + ulp(lz));
        if (a - b).abs() <= tol {
            Ok(())
        } else {
            Err(format!(
                "logsumexp(z + 17) = {a:e}, logsumexp(z) + 17 = {b:e}"
            ))
        }
    };
    let g = f.clone();
    let reference =
        move |z: &Vec<T>| within_ulps("logsumexp", &[g(z)], &[crate::softmax::logsumexp(z)], ulps);
    let g = f.clone();
    let special =
        move |z: &Vec<T>| within_ulps("special value", &[g(z)], &[crate::softmax::logsumexp(z)], 0);
    let laws: Vec<Law<Vec<T>>> = vec![
        Law {
            name: "bounds",
            statement: "max z ≤ logsumexp(z) ≤ max z + ln n",
            traps: vec![],
            inputs: int_rows(1..=16, -40..=40),
            holds: Box::new(bounds),
        },
        Law {
            name: "shift equivariance",
            statement: "logsumexp(z + c·1) = logsumexp(z) + c (c = 17)",
            traps: vec![],
            inputs: int_rows(1..=10, -40..=40),
            holds: Box::new(shift),
        },
        Law {
            name: "agrees with the reference",
            statement: "within `ulps` of this crate's logsumexp",
            traps: vec![row(&[0.0, -40.0])],
            inputs: logits::<T>(1..=16).boxed(),
            holds: Box::new(reference.clone()),
        },
        Law {
            name: "no overflow",
            statement: "logsumexp([1000, 1000]) = 1000 + ln 2",
            traps: vec![row(&[1000.0, 1000.0])],
            inputs: int_rows(1..=8, 700..=1000),
            holds: Box::new(reference),
        },
        Law {
            name: "special values",
            statement: "the crate's policy: [] → −∞, NaN → NaN, all −∞ → −∞, any +∞ → +∞",
            traps: vec![
                vec![],
                row(&[f64::NAN, 1.0]),
                row(&[f64::NEG_INFINITY; 2]),
                row(&[f64::INFINITY, 0.0]),
            ],
            inputs: Just(row(&[0.0])).boxed(),
            holds: Box::new(special),
        },
    ];
    run("logsumexp", T::NAME, laws, cfg)
}
