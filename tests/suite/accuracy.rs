//! Accuracy of the reference kernels against a 256-bit oracle (astro-float), in ULPs.
//!
//! # Budgets
//!
//! Componentwise: the ULP distance of each output entry from the correctly rounded exact
//! value. Normwise: `max |ŷᵢ − yᵢ| / ulp(max |yᵢ|)`. Goal for every function: ≤ 8 ULP
//! componentwise and ≤ 2 ULP normwise on all finite inputs, f32 and f64. The budgets below
//! (the `*_ULPS` constants of `transformer_laws::tolerance`) are each function's own bound,
//! derived in its `# Formula` doc — tighter than the goal.
//!
//! | function | f32 | f64 | why |
//! |---|---|---|---|
//! | softmax | 3 | 1 | exact `z − m`; `exp` < 1 ulp (f64: double-word); compensated sum; one division |
//! | log_softmax | 2 | 1 | two non-positive terms, exact difference, `log1p` < 1 ulp (f64: double-word) |
//! | logsumexp | 2 (see exception) | 1 | `m + log1p(S)`, both ≥ … when `m ≥ 0` |
//! | entropy | 4 | 1 | non-negative terms of ≤ 3 ulp each (f64: double-word), compensated sum |
//! | cross_entropy loss | 2 | 1 | as log_softmax |
//! | cross_entropy grad | 3 | 1 | as softmax; target entry summed from the others |
//! | layer_norm, rms_norm | 3 | 1 | exact deviations (f64: pairs), compensated sum of squares, corrected `sqrt`, one division |
//! | norm | 2 | 2 | compensated sum of squares with a Newton-corrected `sqrt` |
//! | cosine | 4 | 4 | compensated dot, two norms, one division |
//! | dot | the bound [`compensated_dot_bound`] | same | a dot product is not componentwise accurate under cancellation |
//!
//! The `f64` column is [`F64_ULPS`]: those kernels round once from a double-word value within
//! [`f64_double_word_rel_err`] of the exact one, so beside the ulp distance the test checks
//! the real error of each `f64` result against the oracle, within [`f64_rounded_once_ulps`]
//! (half an ulp plus about 2⁻⁴⁰; 1 ulp for a subnormal result, rounded twice).
//!
//! **Exception (entropy).** An entropy below 1024 × the smallest normal number (only when one
//! logit beats all others by more than ~700 nats in f64) is a sum of products `pⱼ·(m − zⱼ)`
//! of subnormal probabilities, each carrying the absolute error of a subnormal `exp`
//! multiplied by `m − zⱼ ≤ 745`: it is compared to within 1024 subnormal ulps, absolutely.
//!
//! In f32 every kernel runs in f64 and rounds once, so in practice f32 results are within
//! 1 ULP (double rounding).
//!
//! **Exception (logsumexp).** When `m = max z < 0` and `log1p(S) ≈ −m`, the result is a
//! difference of two nearly equal numbers: its error is bounded by 2 ulp of `|m|`, absolutely,
//! not relative to the (small) result. This is the conditioning of `logsumexp` itself at such
//! inputs (condition number `|m|/|result|`), not an algorithmic loss.

use crate::common;

use common::{max_ulps, normwise_ulps, report, round, round_all};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use transformer_laws::kernels::simd::CANCELLING_ROWS;
use transformer_laws::strategies::{FloatStrategies, logits, moderate, vector_pair};
use transformer_laws::tolerance::*;
use transformer_laws::{Real, geometry, loss, norms, softmax};

/// Entropies below `1024 ×` the smallest normal number are compared absolutely, to within
/// 1024 subnormal ulps (see the exception in the module docs).
const ENTROPY_TINY_FACTOR: f64 = 1024.0;

/// Cases per property: 384, or `ACCURACY_CASES` for a deep run
/// (`ACCURACY_CASES=20000 cargo test --release --test suite accuracy::`).
fn runner() -> TestRunner {
    let cases = std::env::var("ACCURACY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(384);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn widen<T: Real>(x: &[T]) -> Vec<f64> {
    x.iter().map(|v| v.widen()).collect()
}

/// The componentwise budget of a function in `T`: its own (`f32`) or [`F64_ULPS`] (`f64`,
/// whose kernels round once from a double-word value).
fn budget<T: Real>(f32_budget: u64) -> u64 {
    if T::MANTISSA_DIGITS == 53 {
        F64_ULPS
    } else {
        f32_budget
    }
}

/// In `f64`, the real error of each result against the oracle: within
/// [`f64_rounded_once_ulps`] (`n` inputs) for a normal result, 1 ulp for a subnormal one.
fn check_real<T: Real>(what: &str, input: &str, got: T, exact: &common::BigFloat, n: usize) {
    if T::MANTISSA_DIGITS != 53 {
        return;
    }
    let e = common::ulp_error(got, exact);
    let want: T = round(exact);
    common::record_real::<T>(what, e);
    let bound = if want.abs() < T::min_positive_value() {
        1.0
    } else {
        f64_rounded_once_ulps(n)
    };
    assert!(
        e <= bound,
        "{what}: real error {e} ulp > {bound} ulp\n{}",
        report(what, input, &[want], &[got])
    );
}

fn check_vec<T: Real>(
    what: &str,
    input: &str,
    got: &[T],
    exact: &[common::BigFloat],
    f32_budget: u64,
) {
    let want = round_all::<T>(exact);
    let budget = budget::<T>(f32_budget);
    common::record::<T>(what, max_ulps(got, &want));
    assert!(
        max_ulps(got, &want) <= budget
            && normwise_ulps(got, &want) <= NORMWISE_ULPS.max(budget as f64),
        "{}",
        report(what, input, &want, got)
    );
    for (g, e) in got.iter().zip(exact) {
        check_real(what, input, *g, e, got.len());
    }
}

/// A scalar result within its componentwise budget (and, in `f64`, its real error; `n` inputs).
fn check_scalar<T: Real>(
    what: &str,
    input: &str,
    got: T,
    exact: &common::BigFloat,
    f32_budget: u64,
    n: usize,
) {
    let want: T = round(exact);
    common::record::<T>(what, ulp_distance(got, want));
    assert!(
        ulp_distance(got, want) <= budget::<T>(f32_budget),
        "{}",
        report(what, input, &[want], &[got])
    );
    check_real(what, input, got, exact, n);
}

/// Trap rows every function must get right, beside the random ones.
fn trap_rows<T: Real>() -> Vec<Vec<T>> {
    let t = |v: &[f64]| v.iter().map(|&x| T::narrow(x)).collect::<Vec<T>>();
    let mut long = vec![T::narrow(-17.0); 1 << 12];
    long.push(T::zero());
    let mut rows = vec![
        t(&[0.0, -20.0]),
        t(&[40.0, 0.0]),
        t(&[0.0, -100.0, -100.0]),
        t(&[40000.0, 40001.0, 40002.0, 40003.0]),
        t(&[1e30, -1e30, 0.0]),
        t(&[3e19, 4e19]),
        t(&[-std::f64::consts::LN_2, -std::f64::consts::LN_2]),
        t(&[1.0, 1.0, 1.0 + 1e-7]),
        t(&[1e-40, 2e-40, -3e-40]),
        long,
    ];
    // rows whose plain sums lose the mean (a plain sum of the differences to x₀ too)
    rows.extend(CANCELLING_ROWS.iter().map(|&r| t(r)));
    if T::MANTISSA_DIGITS == 53 {
        // a tiny entry beside a huge one: scaled by the huge one it underflows to 0, yet its
        // RMSNorm output is the smallest subnormal (found by a deep run)
        rows.push(t(&[1.2146127729535468e-102, 0.0, 9.422281274971523e221]));
    }
    rows
}

/// `check` on the `fixed` cases, then on random cases of `strategy`; then print the worst errors
/// seen in `T`.
fn sweep<T: Real, S: Strategy>(fixed: Vec<S::Value>, strategy: S, check: impl Fn(&S::Value)) {
    fixed.iter().for_each(&check);
    runner()
        .run(&strategy, |v| {
            check(&v);
            Ok(())
        })
        .unwrap();
    common::print_worst::<T>();
    common::print_worst_real::<T>();
}

fn softmax_family<T: FloatStrategies>() {
    let check = |z: &Vec<T>| {
        let input = format!("{z:?}");
        let zw = widen(z);
        let p = softmax::softmax(z);
        check_vec("softmax", &input, &p, &common::softmax(&zw), SOFTMAX_ULPS);
        let lp = softmax::log_softmax(z);
        let want_lp = common::log_softmax(&zw);
        check_vec("log_softmax", &input, &lp, &want_lp, LOG_SOFTMAX_ULPS);
        let n = z.len();

        let l = softmax::logsumexp(z);
        let exact_l = common::logsumexp(&zw);
        let want: T = round(&exact_l);
        let m = zw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let cancelling = m < 0.0 && want.widen().abs() < m.abs() / 2.0;
        if cancelling {
            let err = (l.widen() - want.widen()).abs();
            assert!(
                err <= 2.0 * ulp(T::narrow(m)),
                "logsumexp (cancelling) {input}: {l:e} vs {want:e}"
            );
        } else {
            check_scalar("logsumexp", &input, l, &exact_l, LOGSUMEXP_ULPS, n);
        }

        let h = softmax::entropy(z);
        let exact_h = common::entropy(&zw);
        let want_h: T = round(&exact_h);
        if want_h.abs() < T::min_positive_value() * T::narrow(ENTROPY_TINY_FACTOR) {
            let err = (h.widen() - want_h.widen()).abs();
            assert!(
                err <= ENTROPY_TINY_FACTOR * ulp(T::zero()),
                "entropy (tiny) {input}: {h:e} vs {want_h:e}"
            );
        } else {
            check_scalar("entropy", &input, h, &exact_h, ENTROPY_ULPS, n);
        }

        for y in [0, z.len() - 1] {
            let (l, g) = loss::cross_entropy_with_grad(z, y);
            let (exact_l, wg) = common::cross_entropy(&zw, y);
            check_scalar("cross_entropy", &input, l, &exact_l, CE_LOSS_ULPS, n);
            check_vec("cross_entropy_grad", &input, &g, &wg, CE_GRAD_ULPS);
        }
    };
    sweep::<T, _>(trap_rows::<T>(), logits::<T>(1..=24), check);
}

both!(softmax_family, softmax_family);

fn norm_layers<T: FloatStrategies>() {
    let check = |(x, eps): &(Vec<T>, T)| {
        let eps = *eps;
        let input = format!("{x:?}, eps = {eps:e}");
        let xw = widen(x);
        let constant = x.iter().all(|&v| v == x[0]);
        if !(constant && eps == T::zero()) {
            let y = norms::layer_norm(x, eps, None, None);
            let want = if constant {
                vec![common::BigFloat::from_f64(0.0, common::P_MIN); x.len()]
            } else {
                common::layer_norm(&xw, eps.widen())
            };
            check_vec("layer_norm", &input, &y, &want, NORM_LAYER_ULPS);
        }
        if x.iter().any(|&v| v != T::zero()) {
            let y = norms::rms_norm(x, eps, None);
            let want = common::rms_norm(&xw, eps.widen());
            check_vec("rms_norm", &input, &y, &want, NORM_LAYER_ULPS);
        }
    };
    let traps = trap_rows::<T>()
        .into_iter()
        .flat_map(|x| [0.0, 1e-5, 1.0].map(|eps| (x.clone(), T::narrow(eps))))
        .collect();
    let eps = prop_oneof![
        Just(T::zero()),
        Just(T::narrow(1e-5)),
        moderate::<T>().prop_map(|e| e.abs())
    ];
    sweep::<T, _>(traps, (logits::<T>(1..=24), eps), check);
}

both!(norm_layers, norm_layers);

fn geometry_accuracy<T: FloatStrategies>() {
    let elem = prop_oneof![3 => moderate::<T>(), 1 => T::any_finite()];
    runner()
        .run(&vector_pair(elem, 1..=24), |(a, b)| {
            let input = format!("{a:?}, {b:?}");
            let (aw, bw) = (widen(&a), widen(&b));
            let n: T = geometry::norm(&a);
            let want_n: T = round(&common::norm(&aw));
            common::record::<T>("norm", ulp_distance(n, want_n));
            prop_assert!(
                ulp_distance(n, want_n) <= NORM_ULPS,
                "{}",
                report("norm", &input, &[want_n], &[n])
            );

            let d = geometry::dot(&a, &b);
            let exact = common::dot(&aw, &bw);
            let want_d: T = round(&exact);
            let abs: Vec<f64> = aw.iter().map(|v| v.abs()).collect();
            let babs: Vec<f64> = bw.iter().map(|v| v.abs()).collect();
            let abs_sum: f64 = round(&common::dot(&abs, &babs));
            let bound = compensated_dot_bound::<T>(a.len(), want_d.widen(), abs_sum);
            if want_d.is_finite() {
                let err = (d.widen() - want_d.widen()).abs();
                // want_d is itself within half an ulp of the exact value.
                prop_assert!(
                    err <= bound + ulp(want_d) / 2.0,
                    "dot {input}: {d:e} vs {want_d:e}, err {err:e} > bound {bound:e}"
                );
            }

            if let Some(c) = geometry::cosine_similarity(&a, &b) {
                let want_c: T = round(&common::cosine(&aw, &bw));
                common::record::<T>("cosine_similarity", ulp_distance(c, want_c));
                prop_assert!(
                    ulp_distance(c, want_c) <= COSINE_ULPS,
                    "{}",
                    report("cosine", &input, &[want_c], &[c])
                );
            }
            Ok(())
        })
        .unwrap();
    common::print_worst::<T>();
}

both!(geometry_accuracy, geometry_accuracy);

/// The norm's Newton correction makes it correctly rounded but for rare near-halfway cases: over
/// 2,000 seeded random f64 vectors, at most 1 % may be 1 ulp off (none further). The plain
/// `√(Σxᵢ²)` of the scaled sum, without the correction, is 1 ulp off in about a fifth of them.
#[test]
fn norm_is_nearly_always_correctly_rounded_f64() {
    let mut rng = common::Seeded::new(7);
    let strategy = proptest::collection::vec(moderate::<f64>(), 2..=16);
    let (mut off, n) = (0, 2000);
    for _ in 0..n {
        let x = rng.draw(&strategy);
        let want: f64 = round(&common::norm(&x));
        let d = ulp_distance(geometry::norm(&x), want);
        assert!(d <= 1, "{x:?}: {d} ulp");
        off += usize::from(d == 1);
    }
    assert!(off * 100 <= n, "{off} of {n} norms are 1 ulp off");
    // Near-halfway cases where the low part of Σxᵢ² decides the rounding (found by an exact
    // search): correctly rounded only if the correction carries it.
    for x in [
        [1.4134000426897786, 1.745663978513725e-08],
        [1.9655635178509998, 2.393042094708463e-08],
        [1.4065989261358487, 1.8154851813982014e-08],
    ] {
        let want: f64 = round(&common::norm(&x));
        assert_eq!(geometry::norm(&x), want, "{x:?}");
    }
}

/// The softmax family rounds once from double-word values (the low parts of `z − m`, the
/// double-word `exp` and `ln(1 + S)`, the pair `1 + S`, the corrected quotient), within about
/// 2⁻⁹⁰ of the exact value: an output is then not the correctly rounded one only if the exact
/// value lies within that distance of a midpoint between two `f64` (odds about 2⁻³⁷ each). Over
/// 2,000 seeded rows of logits close together (so that `S` is large and every low part matters;
/// `m ≥ 0`, so logsumexp does not cancel) every output is correctly rounded. Dropping a low part
/// (of `exp`, of `1 + S`, of the quotient) makes a share of them 1 ulp off.
#[test]
fn softmax_family_is_nearly_correctly_rounded_f64() {
    let mut rng = common::Seeded::new(11);
    let strategy = proptest::collection::vec(0.0f64..8.0, 2..=24);
    let (mut off, mut total, mut worst) = ([0usize; 3], 0usize, 0u64);
    for _ in 0..2000 {
        let z = rng.draw(&strategy);
        let p: Vec<f64> = common::round_all(&common::softmax(&z));
        let lp: Vec<f64> = common::round_all(&common::log_softmax(&z));
        let l: f64 = round(&common::logsumexp(&z));
        let (gp, glp) = (softmax::softmax(&z), softmax::log_softmax(&z));
        for j in 0..z.len() {
            let (a, b) = (ulp_distance(gp[j], p[j]), ulp_distance(glp[j], lp[j]));
            worst = worst.max(a).max(b);
            off[0] += usize::from(a > 0);
            off[1] += usize::from(b > 0);
        }
        let c = ulp_distance(softmax::logsumexp(&z), l);
        worst = worst.max(c);
        off[2] += usize::from(c > 0);
        total += z.len();
    }
    assert_eq!(
        (worst, off),
        (0, [0; 3]),
        "worst ulps; softmax, log_softmax of {total}, logsumexp of 2000 not correctly rounded"
    );
}

/// Share of LayerNorm / RMSNorm outputs (f64) that are not correctly rounded, over 1,000
/// seeded rows drawn by `row` with ε from `eps`; every output within `max_ulps`.
fn norms_rounding(
    seed: u8,
    row: impl Strategy<Value = Vec<f64>>,
    eps: impl Strategy<Value = f64>,
    max_ulps: u64,
) -> [f64; 2] {
    let mut rng = common::Seeded::new(seed);
    let (mut off, mut total) = ([0usize; 2], 0usize);
    let strategy = (row, eps);
    for _ in 0..1000 {
        let (x, e) = rng.draw(&strategy);
        let ln: Vec<f64> = common::round_all(&common::layer_norm(&x, e));
        let rms: Vec<f64> = common::round_all(&common::rms_norm(&x, e));
        let (gln, grms) = (
            norms::layer_norm(&x, e, None, None),
            norms::rms_norm(&x, e, None),
        );
        for j in 0..x.len() {
            let (a, b) = (ulp_distance(gln[j], ln[j]), ulp_distance(grms[j], rms[j]));
            assert!(
                a <= max_ulps && b <= max_ulps,
                "{x:?}, ε {e:e}: LN {} vs {}, RMS {} vs {}",
                gln[j],
                ln[j],
                grms[j],
                rms[j]
            );
            off[0] += usize::from(a > 0);
            off[1] += usize::from(b > 0);
        }
        total += x.len();
    }
    [off[0] as f64 / total as f64, off[1] as f64 / total as f64]
}

/// The norms' corrections (the deviations as pairs, the low part of the mean square, of `q + ε`,
/// the Newton step of the root and of its inverse) make every output the correctly rounded one
/// with these seeds (as for the softmax family, a miss needs an exact value within about 2⁻⁹⁰ of
/// a midpoint); dropping or flipping a correction makes a share of them 1 ulp off.
#[test]
fn norms_are_nearly_correctly_rounded_f64() {
    let moderate = proptest::collection::vec(-100.0f64..100.0, 2..=24);
    let eps = prop_oneof![Just(0.0), Just(1e-5), 1e-8f64..1.0];
    let [ln, rms] = norms_rounding(3, moderate, eps, 1);
    assert!(
        ln == 0.0 && rms == 0.0,
        "moderate rows not correctly rounded: LN {ln:.4}, RMS {rms:.4}"
    );
    // Tiny rows (2^-600) with an ε that dominates (2^-200): ε·2^{2K} lands in (2^1000, 2^1024),
    // the path that takes the root of s/4.
    let tiny = proptest::collection::vec(
        (-1000i64..1000).prop_map(|k| k as f64 * 2f64.powi(-600)),
        2..=8,
    )
    .prop_filter("not constant", |x| x.iter().any(|&v| v != x[0]));
    let tiny_eps = (1i64..1000).prop_map(|k| k as f64 * 2f64.powi(-200));
    let [tln, trms] = norms_rounding(5, tiny, tiny_eps, 1);
    assert!(
        tln == 0.0 && trms == 0.0,
        "tiny rows not correctly rounded: LN {tln:.4}, RMS {trms:.4}"
    );
}

/// The arguments at and within two ulps of the edges `−(k + ½)·step`, k < `count`, of an `exp`
/// argument reduction by `step` (where the rounding of x/step changes).
fn reduction_edges(count: u32, step: f64) -> impl Iterator<Item = f64> {
    (0..count).flat_map(move |k| {
        let edge = -(f64::from(k) + 0.5) * step;
        [-2.0, -1.0, 0.0, 1.0, 2.0].map(|d| edge + d * edge.abs() * f64::EPSILON)
    })
}

/// The worst relative error over `xs` of the function `what`, each within `bound`: `error(x)`
/// gives the function's result at x (for the message) and its relative error.
fn worst_error<X: Copy + std::fmt::Debug, Y: std::fmt::Debug>(
    what: &str,
    xs: &[X],
    bound: f64,
    error: impl Fn(X) -> (Y, f64),
) -> f64 {
    xs.iter().fold(0.0f64, |worst, &x| {
        let (y, rel) = error(x);
        assert!(
            rel <= bound,
            "{what}({x:?}) = {y:?}: relative error {rel:e} > {bound:e}"
        );
        worst.max(rel)
    })
}

/// A table `exp` of the vector kernels within its derived bound (`tolerance::exp_poly_rel_err`,
/// 3·2⁻⁵³) of the oracle: random arguments over the whole range it serves (−708, 0], the
/// edges of its reduction intervals (`x·N/ln 2` at half-integers, `N` its table's entries per
/// unit of `log₂`: every table entry, every scale), and tiny arguments. Each one's derivation
/// bounds its error by about 2.2·2⁻⁵³; the test also asserts the bound is not slack by more
/// than a factor 4.
fn table_exp_within_its_bound(what: &str, exp: fn(f64) -> f64, entries: u32, seed: u8) {
    let step = std::f64::consts::LN_2 / f64::from(entries);
    let mut rng = common::Seeded::new(seed);
    let strategy = prop_oneof![-708.0f64..0.0, -2.0f64..0.0, -1e-6f64..0.0];
    let mut xs: Vec<f64> = (0..3000).map(|_| rng.draw(&strategy)).collect();
    let edges = (708.0 / step).ceil() as u32;
    xs.extend(reduction_edges(edges, step).filter(|&x| x >= -708.0));
    xs.extend([-0.0, -5e-324, -1e-300, -708.0]);
    let bound = exp_poly_rel_err();
    let worst = worst_error(what, &xs, bound, |x| {
        let y = exp(x);
        (y, common::exp_rel_err(x, y))
    });
    println!(
        "{what}: worst {:.3} u over {} arguments",
        worst / 2f64.powi(-53),
        xs.len()
    );
    assert!(
        worst > bound / 4.0,
        "{what}: the bound is slack: worst {worst:e}"
    );
}

/// The AVX2 lanes' `exp` (`kernels::exp_poly`, bit for bit the lanes'; eight table entries,
/// degree 6, derived bound 2.24·2⁻⁵³) within its bound of the oracle.
#[test]
fn exp_poly_within_its_bound() {
    table_exp_within_its_bound("exp_poly", transformer_laws::kernels::exp_poly, 8, 13);
}

/// The AVX-512 lanes' `exp` (`kernels::exp::exp_poly16`, bit for bit the lanes'; sixteen table
/// entries, degree 5, derived bound 2.23·2⁻⁵³) within its bound of the oracle.
#[test]
fn exp_poly16_within_its_bound() {
    table_exp_within_its_bound(
        "exp_poly16",
        transformer_laws::kernels::exp::exp_poly16,
        16,
        19,
    );
}

/// The double-word `exp` of the `f64` kernels (`kernels::dd::exp_dd`) within its derived bound
/// (`kernels::dd::EXP_DD_REL_ERR`, 2⁻⁹⁶) of the oracle: random pairs `(xₕ, xₗ)` over the range
/// the softmax uses (−746, 0], positive arguments up to 40 (for `expm1` in the Newton step of
/// `ln(1 + s)`), the edges of the reduction intervals, and tiny arguments. The derivation
/// predicts a worst case a few times below the bound; the test also asserts it is not slack by
/// more than a factor 2⁸.
#[test]
fn exp_dd_within_its_bound() {
    use transformer_laws::kernels::dd::{EXP_DD_REL_ERR, exp_dd, ln1p_dd};
    let mut rng = common::Seeded::new(17);
    let strategy = prop_oneof![-746.0f64..0.0, -2.0f64..0.0, 0.0f64..40.0, -1e-6f64..1e-6];
    let low = -1.0f64..1.0;
    let mut xs: Vec<(f64, f64)> = (0..3000)
        .map(|_| {
            let h = rng.draw(&strategy);
            let l = rng.draw(&low) * ulp(h) / 2.0;
            (h, l)
        })
        .collect();
    xs.extend(reduction_edges(1075, std::f64::consts::LN_2).map(|x| (x, 0.0)));
    xs.extend([(-0.0, 0.0), (-5e-324, 0.0), (-1e-300, 0.0), (-745.0, 0.0)]);
    let worst = worst_error("exp_dd", &xs, EXP_DD_REL_ERR, |x| {
        let y = exp_dd(x.0, x.1);
        (y, common::exp_dd_rel_err(x, y))
    });
    println!(
        "exp_dd: worst 2^{:.2} over {} arguments",
        worst.log2(),
        xs.len()
    );
    assert!(
        worst > EXP_DD_REL_ERR / 256.0,
        "the bound is slack: {worst:e}"
    );

    // ln(1 + s) by one Newton step from libm's ln_1p: within 2·EXP_DD_REL_ERR.
    let s_strategy = prop_oneof![1e-20f64..1e-10, 1e-10f64..1.0, 1.0f64..1e6];
    let ss: Vec<(f64, f64)> = (0..2000)
        .map(|_| {
            let sh = rng.draw(&s_strategy);
            (sh, rng.draw(&low) * ulp(sh) / 2.0)
        })
        .collect();
    let worst = worst_error("ln1p_dd", &ss, 2.0 * EXP_DD_REL_ERR, |s| {
        let y = ln1p_dd(s.0, s.1);
        (y, common::ln1p_dd_rel_err(s, y))
    });
    println!("ln1p_dd: worst 2^{:.2}", worst.log2());
}
