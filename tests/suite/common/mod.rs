//! Shared test helpers: the high-precision oracle (astro-float, 256 bits), ULP reporting and a
//! seeded source of random values.
//!
//! The oracle evaluates each function straight from its defining formula — no log1p split, no
//! compensation, no scaling tricks — at 256 bits, so it is independent of the algorithms under
//! test. Its results are then rounded to the type under test (decimal text → `str::parse`,
//! which rounds correctly).

#![allow(dead_code)]

pub use astro_float::BigFloat;
use astro_float::{Consts, Radix, RoundingMode};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::Mutex;
use transformer_laws::Real;
use transformer_laws::tolerance::{ulp, ulp_distance};

/// Least working precision of the oracle in bits.
pub const P_MIN: usize = 256;
const RM: RoundingMode = RoundingMode::ToEven;

thread_local! {
    static CC: RefCell<Consts> = RefCell::new(Consts::new().expect("astro-float constants"));
    static PREC: Cell<usize> = const { Cell::new(P_MIN) };
}

/// Precision in force for the current oracle call.
fn p() -> usize {
    PREC.with(|c| c.get())
}

/// Set the precision so that sums of the given magnitudes are exact: the span of their binary
/// exponents plus 192 guard bits (at least [`P_MIN`]). A sum of `1` and `1e-200` needs ~665
/// bits to be represented; with fewer the oracle itself would round the small term away.
fn set_precision(exponents: impl Iterator<Item = i32>) {
    let (lo, hi) = exponents.fold((i32::MAX, i32::MIN), |(l, h), e| (l.min(e), h.max(e)));
    let span = if lo > hi { 0 } else { (hi - lo) as usize };
    PREC.with(|c| c.set((span + 192).max(P_MIN)));
}

fn exponents(x: &[f64]) -> impl Iterator<Item = i32> + '_ {
    x.iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| v.abs().log2().floor() as i32)
}

fn big(x: f64) -> BigFloat {
    if x != 0.0 && x.abs() < f64::MIN_POSITIVE {
        // astro-float 0.9.6 converts f64 subnormals to half their value; go through a normal
        // number and an exact power-of-two scaling instead.
        let two64 = BigFloat::from_f64(2f64.powi(64), p());
        return BigFloat::from_f64(x * 2f64.powi(64), p()).div(&two64, p(), RM);
    }
    BigFloat::from_f64(x, p())
}
fn add(a: &BigFloat, b: &BigFloat) -> BigFloat {
    a.add(b, p(), RM)
}
fn sub(a: &BigFloat, b: &BigFloat) -> BigFloat {
    a.sub(b, p(), RM)
}
fn mul(a: &BigFloat, b: &BigFloat) -> BigFloat {
    a.mul(b, p(), RM)
}
fn div(a: &BigFloat, b: &BigFloat) -> BigFloat {
    a.div(b, p(), RM)
}
fn exp(a: &BigFloat) -> BigFloat {
    // e^x for x < −760 is below 2^−1096, under half the smallest f64 subnormal: beside the
    // term e^0 = 1 of a shifted sum it cannot change any f64 result, so it is taken as 0.
    if a.cmp(&big(-760.0)).is_some_and(|c| c < 0) {
        return big(0.0);
    }
    CC.with(|cc| a.exp(p(), RM, &mut cc.borrow_mut()))
}
fn ln(a: &BigFloat) -> BigFloat {
    CC.with(|cc| a.ln(p(), RM, &mut cc.borrow_mut()))
}
fn sqrt(a: &BigFloat) -> BigFloat {
    a.sqrt(p(), RM)
}
fn sum(v: &[BigFloat]) -> BigFloat {
    v.iter().fold(big(0.0), |s, x| add(&s, x))
}
fn max(z: &[f64]) -> f64 {
    z.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
}

/// Round an oracle value to `T` (correctly, through decimal text with 77 digits).
pub fn round<T: Real>(b: &BigFloat) -> T {
    let s = CC.with(|cc| {
        b.format(Radix::Dec, RM, &mut cc.borrow_mut())
            .expect("format")
    });
    s.parse::<T>()
        .unwrap_or_else(|_| panic!("oracle produced unparsable text {s}"))
}

pub fn round_all<T: Real>(v: &[BigFloat]) -> Vec<T> {
    v.iter().map(round::<T>).collect()
}

/// Shifted exponentials `e^{zⱼ − max z}` (the shift is exact at 256 bits for f64 inputs).
fn shifted_exps(z: &[f64]) -> (BigFloat, Vec<BigFloat>) {
    let m = big(max(z));
    let e: Vec<BigFloat> = z.iter().map(|&v| exp(&sub(&big(v), &m))).collect();
    (m, e)
}

/// Precision for the softmax family: exact shifts, plus enough bits that `1 + e^{zⱼ − m}` keeps
/// 192 bits of the smallest term that matters (down to e^−760).
fn set_softmax_precision(z: &[f64]) {
    let m = max(z);
    let gap = z
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| (m - v).min(760.0))
        .fold(0.0f64, f64::max);
    let extra = (gap * std::f64::consts::LOG2_E).ceil() as i32;
    set_precision(exponents(z).chain([0, -extra]));
}

pub fn softmax(z: &[f64]) -> Vec<BigFloat> {
    set_softmax_precision(z);
    let (_, e) = shifted_exps(z);
    let s = sum(&e);
    e.iter().map(|v| div(v, &s)).collect()
}

pub fn logsumexp(z: &[f64]) -> BigFloat {
    set_softmax_precision(z);
    let (m, e) = shifted_exps(z);
    add(&m, &ln(&sum(&e)))
}

pub fn log_softmax(z: &[f64]) -> Vec<BigFloat> {
    let l = logsumexp(z);
    z.iter().map(|&v| sub(&big(v), &l)).collect()
}

pub fn entropy(z: &[f64]) -> BigFloat {
    let p = softmax(z);
    let lp = log_softmax(z);
    let terms: Vec<BigFloat> = p.iter().zip(&lp).map(|(a, b)| mul(a, b)).collect();
    sum(&terms).neg()
}

pub fn cross_entropy(z: &[f64], y: usize) -> (BigFloat, Vec<BigFloat>) {
    let loss = log_softmax(z)[y].neg();
    let mut g = softmax(z);
    g[y] = sub(&g[y], &big(1.0));
    (loss, g)
}

pub fn dot(a: &[f64], b: &[f64]) -> BigFloat {
    set_precision(
        exponents(a)
            .chain(exponents(b))
            .flat_map(|e| [2 * e, 2 * e]),
    );
    let t: Vec<BigFloat> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| mul(&big(x), &big(y)))
        .collect();
    sum(&t)
}

pub fn norm(a: &[f64]) -> BigFloat {
    sqrt(&dot(a, a))
}

pub fn cosine(a: &[f64], b: &[f64]) -> BigFloat {
    div(&dot(a, b), &mul(&norm(a), &norm(b)))
}

fn center(x: &[f64]) -> Vec<BigFloat> {
    let n = big(x.len() as f64);
    let xs: Vec<BigFloat> = x.iter().map(|&v| big(v)).collect();
    let mu = div(&sum(&xs), &n);
    xs.iter().map(|v| sub(v, &mu)).collect()
}

fn rms_scale(d: &[BigFloat], eps: f64) -> Vec<BigFloat> {
    let n = big(d.len() as f64);
    let sq: Vec<BigFloat> = d.iter().map(|v| mul(v, v)).collect();
    let den = sqrt(&add(&div(&sum(&sq), &n), &big(eps)));
    d.iter().map(|v| div(v, &den)).collect()
}

pub fn layer_norm(x: &[f64], eps: f64) -> Vec<BigFloat> {
    set_precision(exponents(x).flat_map(|e| [2 * e]).chain(exponents(&[eps])));
    rms_scale(&center(x), eps)
}

pub fn rms_norm(x: &[f64], eps: f64) -> Vec<BigFloat> {
    set_precision(exponents(x).flat_map(|e| [2 * e]).chain(exponents(&[eps])));
    let xs: Vec<BigFloat> = x.iter().map(|&v| big(v)).collect();
    rms_scale(&xs, eps)
}

/// Componentwise error of `got` against the correctly rounded `want`, in ULPs of `T`.
pub fn max_ulps<T: Real>(got: &[T], want: &[T]) -> u64 {
    got.iter()
        .zip(want)
        .map(|(&g, &w)| ulp_distance(g, w))
        .max()
        .unwrap_or(0)
}

/// Normwise error `max |gotᵢ − wantᵢ| / ulp(max |wantᵢ|)`.
pub fn normwise_ulps<T: Real>(got: &[T], want: &[T]) -> f64 {
    let scale = want
        .iter()
        .fold(T::zero(), |m, &w| if w.abs() > m { w.abs() } else { m });
    let err = got
        .iter()
        .zip(want)
        .map(|(&g, &w)| (g.widen() - w.widen()).abs())
        .fold(0.0f64, f64::max);
    err / ulp(scale)
}

/// A failure message in the style of libm's test suite: input, expected, actual, as values
/// and bits, and the distance.
pub fn report<T: Real>(what: &str, input: &str, want: &[T], got: &[T]) -> String {
    let bits = |v: &[T]| {
        v.iter()
            .map(|x| format!("{:#x}", x.to_bits_u64()))
            .collect::<Vec<_>>()
    };
    format!(
        "{what} in {}\n input:    {input}\n expected: {want:?}\n           {:?}\n actual:   {got:?}\n           {:?}\n componentwise ulps: {}, normwise ulps: {}",
        T::NAME,
        bits(want),
        bits(got),
        max_ulps(got, want),
        normwise_ulps(got, want)
    )
}

/// The worst error seen per (function, type), for the report printed by
/// `cargo test --release --test suite accuracy:: -- --nocapture`.
struct Worst<V>(Mutex<BTreeMap<(String, &'static str), V>>);

impl<V: Copy + PartialOrd + std::fmt::Display> Worst<V> {
    const fn new() -> Self {
        Self(Mutex::new(BTreeMap::new()))
    }

    fn record<T: Real>(&self, what: &str, ulps: V) {
        let mut w = self.0.lock().unwrap();
        let e = w.entry((what.to_string(), T::NAME)).or_insert(ulps);
        if ulps > *e {
            *e = ulps;
        }
    }

    /// Print the worst errors recorded for `T` (visible with `--nocapture`), after `label`.
    fn print<T: Real>(&self, label: &str) {
        let w = self.0.lock().unwrap();
        for ((what, ty), ulps) in w.iter().filter(|((_, ty), _)| *ty == T::NAME) {
            println!("{label:<27}{what:<20} {ty}: {ulps:.6} ulp");
        }
    }
}

/// Componentwise errors, in ulps.
static WORST: Worst<u64> = Worst::new();
/// Real errors, in ulps.
static WORST_REAL: Worst<f64> = Worst::new();

pub fn record<T: Real>(what: &str, ulps: u64) {
    WORST.record::<T>(what, ulps);
}

pub fn print_worst<T: Real>() {
    WORST.print::<T>("worst componentwise error:");
}

pub fn record_real<T: Real>(what: &str, ulps: f64) {
    WORST_REAL.record::<T>(what, ulps);
}

pub fn print_worst_real<T: Real>() {
    WORST_REAL.print::<T>("worst real error:");
}

/// `|y − eˣ| / eˣ` at the oracle's least precision, rounded to `f64`: the relative error of an
/// `exp` result `y`.
pub fn exp_rel_err(x: f64, y: f64) -> f64 {
    set_precision(std::iter::empty());
    let e = exp(&big(x));
    let err = sub(&big(y), &e);
    let rel = div(&err, &e);
    let v: f64 = round(&rel);
    v.abs()
}

/// The real error of `got` against the oracle's `exact`, in ulps of `T` at the correctly
/// rounded value: `|got − exact| / ulp(round(exact))` (0 for two NaNs, ∞ for one).
pub fn ulp_error<T: Real>(got: T, exact: &BigFloat) -> f64 {
    let want: T = round(exact);
    if got.is_nan() || want.is_nan() {
        return if got.is_nan() && want.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if got.is_infinite() || want.is_infinite() {
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    // In BigFloat up to the division: a difference near the subnormals would round to a
    // multiple of the smallest subnormal.
    let diff = sub(&big(got.widen()), exact);
    let d: f64 = round(&div(&diff, &big(ulp(want))));
    d.abs()
}

/// `|(h + l)·2^k − e^{xₕ + xₗ}| / e^{xₕ + xₗ}` rounded to `f64`: the relative error of a
/// double-word `exp` result.
pub fn exp_dd_rel_err(x: (f64, f64), y: (f64, f64, i32)) -> f64 {
    set_precision(exponents(&[x.0, x.1]).chain([0, -1200]));
    let e = exp(&add(&big(x.0), &big(x.1)));
    let pow = big(2.0).powi(y.2.unsigned_abs() as usize, p(), RM);
    let two_k = if y.2 < 0 {
        pow.reciprocal(p(), RM)
    } else {
        pow
    };
    let got = mul(&add(&big(y.0), &big(y.1)), &two_k);
    let rel = div(&sub(&got, &e), &e);
    let v: f64 = round(&rel);
    v.abs()
}

/// `|(yₕ + yₗ) − ln(1 + sₕ + sₗ)| / ln(1 + sₕ + sₗ)` rounded to `f64`.
pub fn ln1p_dd_rel_err(s: (f64, f64), y: (f64, f64)) -> f64 {
    set_precision(exponents(&[s.0, s.1]).chain([0]));
    let l = ln(&add(&big(1.0), &add(&big(s.0), &big(s.1))));
    let got = add(&big(y.0), &big(y.1));
    let rel = div(&sub(&got, &l), &l);
    let v: f64 = round(&rel);
    v.abs()
}

/// Values drawn from a fixed seed (ChaCha, `[seed; 32]`): the same on every machine, for tests
/// that count how often something happens over many draws rather than searching for a failure.
pub struct Seeded(TestRunner);

impl Seeded {
    pub fn new(seed: u8) -> Self {
        Self(TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
        ))
    }

    /// The next value of `strategy`.
    pub fn draw<S: Strategy>(&mut self, strategy: &S) -> S::Value {
        strategy
            .new_tree(&mut self.0)
            .expect("the strategy yields a value")
            .current()
    }
}
