//! Laws of a cross-entropy loss `Fn(&[T], target: usize) -> T`.
//!
//! Tolerance: the bound of `−log_softmax(z)_y` computed by the shifted algorithm with the log1p
//! split ([`log_softmax_textbook_bound`](crate::tolerance::log_softmax_textbook_bound)).

use super::softmax::{log_bounds, shifted};
use super::*;
use crate::engine::strategies::{FloatStrategies, logits};

/// Each row with a target index drawn for it.
fn with_target<T: Real>(rows: BoxedStrategy<Vec<T>>) -> BoxedStrategy<(Vec<T>, usize)> {
    <(Vec<T>, usize)>::from_rows(rows)
}

fn exact<T: Real>(z: &[T], y: usize, split: bool) -> Result<(f64, f64), Mismatch> {
    let s = shifted(z).ok_or_else(|| {
        Mismatch::new(
            "logits with a finite maximum",
            show(z),
            "this law needs a finite maximum",
        )
    })?;
    let (per, _) = log_bounds::<T>(&s, split);
    Ok((-s.log_p[y], per[y]))
}

entry_points!("cross-entropy", Fn(&[T], usize) -> T);

fn law_set<T: FloatStrategies>(f: LossFn<T>, cfg: &Config) -> HarnessReport {
    let g = f.clone();
    let non_negative = move |(z, y): &(Vec<T>, usize)| {
        let l = g(z, *y);
        if l >= T::zero() {
            Ok(())
        } else {
            Err(Mismatch::new("L ≥ 0", l.shortest_repr(), "a negative loss"))
        }
    };
    let g = f.clone();
    let shift = move |(z, y): &(Vec<T>, usize)| {
        let zc = shift_by(z, 17.0);
        let (_, b0) = exact(z, *y, false)?;
        let (_, b1) = exact(&zc, *y, false)?;
        within_bounds(
            "L(z + 17, y) against L(z, y)",
            &[g(&zc, *y)],
            &[g(z, *y).widen()],
            &[b0 + b1],
        )
    };
    let g = f.clone();
    let agrees = move |(z, y): &(Vec<T>, usize)| {
        let (l, b) = exact(z, *y, false)?;
        within_bounds("cross_entropy", &[g(z, *y)], &[l], &[b])
    };
    let g = f.clone();
    let dominant = move |(z, y): &(Vec<T>, usize)| {
        let (l, b) = exact(z, *y, true)?;
        within_bounds("cross_entropy (log1p split)", &[g(z, *y)], &[l], &[b])
    };
    let mut laws: Vec<Law<(Vec<T>, usize)>> = vec![
        Law::new(
            "non-negative",
            "L(z, y) ≥ 0",
            vec![],
            with_target(int_rows(1..=12, -40..=40)),
            non_negative,
        ),
        Law::new(
            "shift invariance",
            "L(z + c·1, y) = L(z, y) (c = 17) within both bounds",
            vec![],
            with_target(int_rows(1..=12, -40..=40)),
            shift,
        ),
        Law::new(
            "agrees with the exact result",
            "within the error bound of −log_softmax(z)_y by the shifted algorithm (m − z_y) + ln Σⱼ e^{zⱼ−m} in this type",
            vec![(row(&[-0.5, 1e-3, 3.25]), 1)],
            with_target(logits::<T>(1..=16).boxed()),
            agrees.clone(),
        ),
        Law::new(
            "dominant target",
            "a confident correct prediction keeps its loss to a few ulps, relatively: L([20, 0], 0) = 2.06e−9 (4.25e−18 for L([40, 0], 0)), not 0 (needs the log1p split)",
            rows(&[&[20.0, 0.0], &[40.0, 0.0], &[30.0, 1.0, 2.0]])
                .into_iter()
                .map(|z| (z, 0))
                .collect(),
            with_target(int_rows(2..=6, -10..=10))
                .prop_map(|(mut z, y)| {
                    z[y] = T::narrow(60.0);
                    (z, y)
                })
                .boxed(),
            dominant,
        ),
        no_overflow(
            "L([1000, 0], 1) = 1000, L([0, 1000], 1) = 0",
            vec![
                (row(&[1000.0, 0.0]), 1),
                (row(&[0.0, 1000.0]), 1),
                (row(&[1000.0, 1000.0]), 0),
            ],
            agrees.clone(),
        ),
        masked_entry(
            "a −∞ logit beside a finite one: L = +∞ at it, and it adds nothing elsewhere",
            agrees,
        ),
    ];
    let g = f.clone();
    laws.extend(as_accurate_as_this_crate(
        cfg,
        "cross_entropy",
        "within `ulps` of this crate's cross_entropy (opt-in)",
        vec![(row(&[40.0, 0.0]), 0), (row(&[1000.0, 0.0]), 1)],
        with_target(logits::<T>(1..=16).boxed()),
        move |(z, y): &(Vec<T>, usize)| vec![g(z, *y)],
        |(z, y): &(Vec<T>, usize)| vec![crate::kernels::loss::cross_entropy(z, *y)],
    ));
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let policies = vec![
        PolicyCase::new("+∞ target logit", (row(&[inf, 0.0]), 0), &[0.0], &[nan]),
        PolicyCase::new(
            "two +∞ logits, target among them",
            (row(&[inf, inf, 0.0]), 0),
            &[std::f64::consts::LN_2],
            &[nan],
        ),
        PolicyCase::new("+∞ logit elsewhere", (row(&[0.0, inf]), 0), &[inf], &[nan]),
        PolicyCase::new("all −∞", (row(&[-inf, -inf]), 0), &[nan], &[nan]),
        PolicyCase::new("NaN logit", (row(&[nan, 1.0]), 1), &[nan], &[nan]),
    ];
    let call = move |(z, y): &(Vec<T>, usize)| vec![f(z, *y)];
    run("cross_entropy", laws, policies, &call, cfg)
}
