//! The bounds are not only valid but sharp: each piece is attained (to first order) by a
//! perturbation built to attain it. A bound that is valid but loose by an unknown factor could
//! hide a wrong term; these pin each term to the worst case it describes.

use super::Linear;
use super::bound::{linear_bound, mix_bound, mlp_forward, op_norm, rope_bound, score_bound};
use super::layers::{gelu, gelu_tanh, linear, norm2, project, silu};
use super::*;
use crate::kernels::tolerance::unit_roundoff;
use nalgebra::DMatrix;
use proptest::prelude::*;

/// `‖a − b‖₂` in f64.
fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// `(1 − below)·bound ≤ observed ≤ (1 + ABOVE)·bound`. Below: the perturbation does not
/// quite reach the worst case (second-order terms), by a margin each test states. Above:
/// the test's own arithmetic (perturbed weights and inputs rounded in f64) adds a few u·|y|
/// that the bound of the unperturbed computation need not cover; every bound here is
/// ≥ 10⁻⁷·|y|, so that is below [`ABOVE`] — while a wrong term moves the ratio by far more.
fn attained(observed: f64, bound: f64, below: f64) -> Result<(), TestCaseError> {
    prop_assert!(
        observed <= (1.0 + ABOVE) * bound && observed >= (1.0 - below) * bound,
        "observed {observed:e} against the bound {bound:e} (ratio {})",
        observed / bound
    );
    Ok(())
}

/// See [`attained`]: 2⁻²⁶ ≈ 1.5·10⁻⁸.
const ABOVE: f64 = 1.0 / (1u64 << 26) as f64;

fn sign(x: f64) -> f64 {
    if x < 0.0 { -1.0 } else { 1.0 }
}

/// A one-unit MLP `x ↦ w_out·act(x)`, without biases.
fn unit_mlp(w_out: f64, act: Activation) -> Mlp<f64> {
    Mlp {
        w_in: DMatrix::from_element(1, 1, 1.0),
        b_in: None,
        w_gate: None,
        b_gate: None,
        w_out: DMatrix::from_element(1, 1, w_out),
        b_out: None,
        act,
    }
}

/// Nonzero entries of either sign, away from zero.
fn entry() -> impl Strategy<Value = f64> {
    (0.1f64..2.0, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m })
}

fn linear_case() -> impl Strategy<Value = (Vec<f64>, DMatrix<f64>, Vec<f64>)> {
    (1usize..6, 1usize..6).prop_flat_map(|(k, m)| {
        (
            proptest::collection::vec(entry(), k),
            proptest::collection::vec(entry(), k * m).prop_map(move |w| DMatrix::from_vec(k, m, w)),
            proptest::collection::vec(entry(), m),
        )
    })
}

/// A row with a spread (so that a norm's scale is well away from ε).
fn norm_row() -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(-2.0f64..2.0, 3..8).prop_filter("spread", |x| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() > 0.5
    })
}

/// The component of `r` orthogonal to every vector of `basis` (orthogonal to each other).
fn orthogonal(mut r: Vec<f64>, basis: &[Vec<f64>]) -> Vec<f64> {
    for b in basis {
        let c =
            r.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / b.iter().map(|y| y * y).sum::<f64>();
        for (x, y) in r.iter_mut().zip(b) {
            *x -= c * y;
        }
    }
    r
}

proptest! {
    /// Every weight and bias moved by ρ so that its term grows by ρ·|term|: each output moves
    /// by exactly ρ·Σ|terms|, which is the ρ part of `linear_bound`.
    #[test]
    fn linear_bound_rho_is_attained((x, w, b) in linear_case()) {
        let rho = 1e-3;
        let bound = linear_bound(&x, 0.0, &w, op_norm(&w), Some(&b), rho, Linear::Compensated);
        let w2 = DMatrix::from_fn(w.nrows(), w.ncols(), |i, j| {
            w[(i, j)] * (1.0 + rho * sign(x[i] * w[(i, j)]))
        });
        let b2: Vec<f64> = b.iter().map(|&v| v * (1.0 + rho * sign(v))).collect();
        let observed = dist(&linear(&x, &w2, Some(&b2)), &linear(&x, &w, Some(&b)));
        attained(observed, bound, 1e-9)?;
    }

    /// One input, one output: an input error `e` and a relative `ρ` on the weight and the
    /// bias, all pushing the same way, attain `e·|w|·(1 + ρ) + ρ·(|xw| + |b|)`.
    #[test]
    fn linear_bound_input_error_is_attained(x in entry(), w in entry(), b in entry()) {
        let (e, rho) = (1e-4, 1e-3);
        let wm = DMatrix::from_element(1, 1, w);
        let bound = linear_bound(&[x], e, &wm, op_norm(&wm), Some(&[b]), rho, Linear::Compensated);
        let t = sign(x * w);
        let moved = DMatrix::from_element(1, 1, w * (1.0 + rho));
        let y2 = linear(&[x + e * t * sign(w)], &moved, Some(&[b * (1.0 + rho * t * sign(b))]));
        let observed = dist(&y2, &linear(&[x], &wm, Some(&[b])));
        attained(observed, bound, 1e-9)?;
    }

    /// `op_norm` is an upper bound on the spectral norm, and exact on a diagonal matrix.
    #[test]
    fn op_norm_bounds_the_spectral_norm((_, w, _) in linear_case(), diag in proptest::collection::vec(entry(), 1..6)) {
        let spectral = w.clone().svd(false, false).singular_values.max();
        prop_assert!(op_norm(&w) >= spectral * (1.0 - 1e-12), "{} < {spectral}", op_norm(&w));
        let dm = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(diag.clone()));
        let largest = diag.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        prop_assert!((op_norm(&dm) - largest).abs() <= 1e-15 * largest);
    }

    /// An input error orthogonal to 1 and to the normalized row moves the output of a norm
    /// with a constant γ by |γ|·e/s to first order: the propagated part of `Norm::bound`.
    #[test]
    fn norm_propagation_is_attained(
        x in norm_row(),
        r in proptest::collection::vec(-1.0f64..1.0, 8),
        g in entry(),
        rms in any::<bool>(),
    ) {
        let d = x.len();
        let norm = Norm {
            kind: if rms { NormKind::RmsNorm } else { NormKind::LayerNorm },
            eps: 1e-5,
            gamma: Some(vec![g; d]),
            beta: None,
        };
        let s = norm.scale(&x);
        let mean = if rms { 0.0 } else { x.iter().sum::<f64>() / d as f64 };
        let n: Vec<f64> = x.iter().map(|v| (v - mean) / s).collect();
        let mut basis = vec![n];
        if !rms {
            basis.push(vec![1.0; d]);
        }
        let dir = orthogonal(r[..d].to_vec(), &basis);
        let len = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assume!(len > 1e-3);
        let e = 1e-3 * s;
        let moved: Vec<f64> = x.iter().zip(&dir).map(|(v, q)| v + e * q / len).collect();
        let y = norm.apply(&x);
        let bound = norm.bound(&x, &y, e, 0.0);
        // Second-order: the output moves by (e/s)(1 − O(e²/s²)), the bound allows e/s/(1 − 2e/s).
        attained(dist(&norm.apply(&moved), &y), bound, 3e-3)?;
    }

    /// γ and β moved by ρ so that every term grows by ρ·|term| move each output by
    /// ρ·(|γᵢnᵢ| + |βᵢ|); with βᵢ opposing γᵢnᵢ (and smaller), that is ρ·(|yᵢ| + 2|βᵢ|),
    /// the ρ part of `Norm::bound`.
    #[test]
    fn norm_rho_is_attained(
        x in norm_row(),
        gamma in proptest::collection::vec(entry(), 8),
        frac in proptest::collection::vec(0.0f64..0.9, 8),
        rms in any::<bool>(),
    ) {
        let d = x.len();
        let rho = 1e-3;
        let mut norm = Norm {
            kind: if rms { NormKind::RmsNorm } else { NormKind::LayerNorm },
            eps: 1e-5,
            gamma: Some(gamma[..d].to_vec()),
            beta: None,
        };
        let n = Norm { gamma: None, ..norm.clone() }.apply(&x);
        if !rms {
            norm.beta = Some((0..d).map(|i| -frac[i] * gamma[i] * n[i]).collect());
        }
        let y = norm.apply(&x);
        let bound = norm.bound(&x, &y, 0.0, rho);
        let mut moved = norm.clone();
        moved.gamma = Some((0..d).map(|i| gamma[i] * (1.0 + rho * sign(gamma[i] * n[i]))).collect());
        // Every term moves up: γᵢnᵢ by ρ|γᵢnᵢ|, βᵢ by ρ|βᵢ|.
        moved.beta = norm.beta.as_ref().map(|b| b.iter().map(|&v| v * (1.0 + rho * sign(v))).collect());
        // The kernel's own rounding (7u of the same magnitude) is in the bound too.
        attained(dist(&moved.apply(&x), &y), bound, 1e-11)?;
    }

    /// At x = √2, where GELU's slope peaks (Φ(√2) + √2·φ(√2) = 1.1289…), an input error
    /// through a one-unit MLP comes out multiplied by that slope: the 1.13 of the bound.
    #[test]
    fn gelu_slope_is_attained(w_out in entry(), up in any::<bool>()) {
        let e = 1e-6;
        let mlp = unit_mlp(w_out, Activation::Gelu);
        let x = std::f64::consts::SQRT_2;
        let h = DMatrix::from_element(1, 1, x);
        let (y, eo) = mlp_forward(&mlp, &h, &[e], 0.0, Linear::Compensated);
        let moved = DMatrix::from_element(1, 1, if up { x + e } else { x - e });
        let (y2, _) = mlp_forward(&mlp, &moved, &[0.0], 0.0, Linear::Compensated);
        attained((y2[(0, 0)] - y[(0, 0)]).abs(), eo[0], 2e-3)?;
    }

    /// ReLU passes an input error through unchanged where it is active, and kills it where
    /// it is not (for an error smaller than the input).
    #[test]
    fn relu_passes_the_error_through(x in entry(), w_out in entry()) {
        let e = 1e-6;
        let mlp = unit_mlp(w_out, Activation::Relu);
        let h = DMatrix::from_element(1, 1, x);
        let (y, eo) = mlp_forward(&mlp, &h, &[e], 0.0, Linear::Compensated);
        let (y2, _) = mlp_forward(&mlp, &DMatrix::from_element(1, 1, x + e), &[0.0], 0.0, Linear::Compensated);
        let observed = (y2[(0, 0)] - y[(0, 0)]).abs();
        if x > 0.0 {
            attained(observed, eo[0], 1e-7)?;
        } else {
            prop_assert_eq!(observed, 0.0);
            prop_assert!(eo[0] >= e * w_out.abs());
        }
    }
}

proptest! {
    /// q ∥ k with both errors along them: the score moves by exactly the inputs' part of
    /// `score_bound`.
    #[test]
    fn score_bound_is_attained(
        k in proptest::collection::vec(entry(), 1..6),
        c in 0.1f64..3.0,
        rel in (1e-3f64..1e-1, 1e-3f64..1e-1),
    ) {
        let q: Vec<f64> = k.iter().map(|v| c * v).collect();
        let (nq, nk) = (norm2(&q), norm2(&k));
        let (eq, ek) = (rel.0 * nq, rel.1 * nk);
        let q2: Vec<f64> = q.iter().zip(&k).map(|(a, b)| a + eq * b / nk).collect();
        let k2: Vec<f64> = k.iter().zip(&q).map(|(b, a)| b + ek * a / nq).collect();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let scale = 1.0 / (k.len() as f64).sqrt();
        let observed = (dot(&q2, &k2) - dot(&q, &k)).abs() * scale;
        attained(observed, score_bound::<f64>(&q, &k, eq, ek), 1e-9)?;
    }

    /// Two groups of keys with equal values, one group's scores pushed up by Δ and the
    /// other's down: the output moves by the scores' part of `mix_bound` (to first order in Δ).
    #[test]
    fn mix_bound_scores_are_attained(
        scores in proptest::collection::vec(-2.0f64..2.0, 2..7),
        a in proptest::collection::vec(-2.0f64..2.0, 3),
        b in proptest::collection::vec(-2.0f64..2.0, 3),
    ) {
        prop_assume!(dist(&a, &b) > 0.1);
        let delta = 1e-5;
        let up = |j: usize| j.is_multiple_of(2);
        let v: Vec<Vec<f64>> = (0..scores.len()).map(|j| if up(j) { a.clone() } else { b.clone() }).collect();
        let mix = |p: &[f64]| (0..3).map(|c| p.iter().zip(&v).map(|(pj, vj)| pj * vj[c]).sum()).collect::<Vec<f64>>();
        let p = crate::kernels::softmax::softmax(&scores);
        let moved: Vec<f64> = scores.iter().enumerate().map(|(j, s)| if up(j) { s + delta } else { s - delta }).collect();
        let z = mix(&p);
        let observed = dist(&mix(&crate::kernels::softmax::softmax(&moved)), &z);
        let bound = mix_bound::<f64>(&p, &v, &z, &vec![0.0; v.len()], delta);
        attained(observed, bound, 1e-4)?;
    }

    /// Every value moved by the same vector of length `e`: the output moves by `e`, the
    /// values' part of `mix_bound`; values moved by different lengths (along one direction)
    /// move it by their weighted mean, at most the largest.
    #[test]
    fn mix_bound_values_are_attained(
        scores in proptest::collection::vec(-2.0f64..2.0, 1..7),
        vals in proptest::collection::vec(-2.0f64..2.0, 7),
        lens in proptest::collection::vec(1e-4f64..1e-3, 7),
    ) {
        let m = scores.len();
        let v: Vec<Vec<f64>> = (0..m).map(|j| vec![vals[j]]).collect();
        let p = crate::kernels::softmax::softmax(&scores);
        let z = vec![p.iter().zip(&vals).map(|(pj, vj)| pj * vj).sum::<f64>()];
        let e = lens[0];
        attained(e, mix_bound::<f64>(&p, &v, &z, &vec![e; m], 0.0), 1e-8)?;
        let shifted: f64 = p.iter().zip(&lens).map(|(pj, l)| pj * l).sum();
        let bound = mix_bound::<f64>(&p, &v, &z, &lens[..m], 0.0);
        let largest = lens[..m].iter().fold(0.0f64, |x, &l| x.max(l));
        prop_assert!(shifted <= bound && bound <= largest * (1.0 + 1e-8), "{shifted:e} {bound:e} {largest:e}");
    }
}

/// The rounding part of `linear_bound` (f32: the products are exact in f64, summed in f64,
/// rounded once) against two adversarial sums whose exact value is known.
#[test]
fn linear_bound_covers_adversarial_rounding() {
    let exact_error = |x: &[f32], col: &[f32], b: Option<f32>, exact: f64| {
        let w = DMatrix::from_column_slice(col.len(), 1, col);
        let bias = b.map(|b| vec![b]);
        let y = linear(x, &w, bias.as_deref())[0];
        let bound = linear_bound(
            x,
            0.0,
            &w,
            op_norm(&w),
            bias.as_deref(),
            0.0,
            Linear::Compensated,
        );
        ((f64::from(y) - exact).abs(), bound)
    };
    // x·w + b with b = fl(x·w): the result's own rounding (u·|s|, |s| ≈ 2) is the whole
    // error, 2⁻⁴⁶ here.
    let a = 1.0 + f32::EPSILON;
    let p = f64::from(a) * f64::from(a);
    let (observed, bound) = exact_error(&[a], &[a], Some(p as f32), p + f64::from(p as f32));
    assert!(
        observed > 0.0 && observed <= bound,
        "{observed:e} > {bound:e}"
    );
    // The sum loses the 1, an error of Σ|terms|·γ scale, not u·|s|.
    let (x, col) = lost_one();
    let (observed, bound) = exact_error(&x, &col, None, 1.0);
    assert!(
        observed > 0.0 && observed <= bound,
        "{observed:e} > {bound:e}"
    );
    // The same with a bias of 2⁻³⁰: the lost 1 must still be charged to Σ|terms| (which
    // includes |b|, not a product with it).
    let (observed, bound) = exact_error(&x, &col, Some(2f32.powi(-30)), 1.0 + 2f64.powi(-30));
    assert!(
        observed > 0.5 && observed <= bound,
        "{observed:e} > {bound:e}"
    );
    // One product, a tie: (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds down by 2⁻²⁴ = u·|s| (to
    // even). A weight known to ρ = 2u, moved up, adds ρ·|s| on top: the bound must hold
    // both, added (not one subtracted from the other).
    let a = 1.0 + 2f32.powi(-12);
    let w = DMatrix::from_element(1, 1, a);
    let y = linear(&[a], &w, None)[0];
    let rho = 2.0 * unit_roundoff::<f32>();
    let square = f64::from(a) * f64::from(a);
    for (moved, rho) in [(square, 0.0), (square * (1.0 + rho), rho)] {
        let observed = (f64::from(y) - moved).abs();
        let bound = linear_bound(&[a], 0.0, &w, op_norm(&w), None, rho, Linear::Compensated);
        assert!(
            observed >= 2f64.powi(-24) && observed <= bound,
            "ρ = {rho:e}: {observed:e} > {bound:e}"
        );
    }
}

/// Two `f32` vectors whose dot product is 2⁵³ + 1 − 2⁵³ = 1, the three products in one `f64`
/// lane of the kernel's sum (terms 0, 8 and 16): the plain sum loses the 1.
fn lost_one() -> (Vec<f32>, Vec<f32>) {
    let (big_x, big_w) = (2f32.powi(27), 2f32.powi(26));
    let mut x = vec![0.0f32; 17];
    let mut w = vec![0.0f32; 17];
    (x[0], w[0]) = (big_x, big_w);
    (x[8], w[8]) = (1.0, 1.0);
    (x[16], w[16]) = (-big_x, big_w);
    (x, w)
}

/// The rounding part of `score_bound` against two f32 scores whose exact value is known,
/// computed as [`attention`] computes them (`fl(fl(q·k)·fl(1/√d_h))`).
#[test]
fn score_bound_covers_adversarial_rounding() {
    let check = |q: &[f32], k: &[f32], exact: f64| {
        let scale = 1.0 / (q.len() as f32).sqrt();
        let computed = <f32 as crate::kernels::scalar::Ring>::dot_kernel(q, k) * scale;
        let observed = (f64::from(computed) - exact * f64::from(scale)).abs();
        let (q64, k64): (Vec<f64>, Vec<f64>) = (
            q.iter().map(|&v| v.into()).collect(),
            k.iter().map(|&v| v.into()).collect(),
        );
        let bound = score_bound::<f32>(&q64, &k64, 0.0, 0.0);
        assert!(
            observed > 0.0 && observed <= bound,
            "{observed:e} > {bound:e}"
        );
        observed / bound
    };
    // 4097² = 2²⁴ + 2¹³ + 1, a tie in f32 (ulp 2 there), rounded to even: off by 1 = u·|s|.
    // With d_h = 4 the scaling by ½ is exact: one rounding of the three the bound allows.
    let four = [4097.0, 0.0, 0.0, 0.0];
    let share = check(&four, &four, 16_785_409.0);
    assert!(share > 0.33, "{share}");
    // The 1 is lost: an error of order Σ|terms|·γ, not u·|s|.
    let (q, k) = lost_one();
    check(&q, &k, 1.0);
}

/// The propagated part is infinite once the error can reach half the scale (the
/// linearisation is no longer valid), and zero for an exact input.
#[test]
fn norm_bound_limits() {
    let norm = Norm {
        kind: NormKind::LayerNorm,
        eps: 0.0,
        gamma: None,
        beta: None,
    };
    let x = [1.0, -1.0];
    let y = norm.apply(&x);
    assert_eq!(norm.scale(&x), 1.0);
    assert_eq!(norm.bound(&x, &y, 0.5, 0.0), f64::INFINITY);
    assert!(norm.bound(&x, &y, 0.49, 0.0).is_finite());
    let own = norm.bound(&x, &y, 0.0, 0.0);
    assert!(own > 0.0 && own < 1e-14, "{own:e}");
}
/// The Lipschitz constants of `Activation::lipschitz` bound every slope: difference
/// quotients on a grid of step 10⁻³ over [−12, 12] (outside it the slopes are within 10⁻⁶
/// of 0 or 1), and the peaks they name are nearly attained (so the constants are not loose
/// by a factor that could hide a wrong one).
#[test]
fn activation_slopes_are_within_their_lipschitz_constants() {
    for act in [
        Activation::Relu,
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::Silu,
    ] {
        let f = |x: f64| act.apply(x);
        let l = act.lipschitz();
        let mut peak = 0.0f64;
        for k in -12_000..12_000 {
            let (a, b) = (k as f64 * 1e-3, (k + 1) as f64 * 1e-3);
            let slope = ((f(b) - f(a)) / (b - a)).abs();
            assert!(slope <= l, "{act:?}: slope {slope} on [{a}, {b}] > {l}");
            peak = peak.max(slope);
        }
        assert!(peak > 0.99 * l - 0.01, "{act:?}: peak {peak} far below {l}");
    }
    // The tanh form matches gelu_new's formula at a few points (values from PyTorch's
    // `gelu(x, approximate="tanh")` in float64).
    for (x, want) in [
        (1.0, 0.841_191_990_608_276_8),
        (-2.0, -0.045_402_305_912_224_94),
    ] {
        let got = gelu_tanh(x);
        assert!(
            (got - want).abs() <= 4.0 * f64::EPSILON,
            "{x}: {got} vs {want}"
        );
    }
    assert!((silu(2.0) - 2.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-16);
}

/// GELU against Φ from the tables: x·Φ(x) at 0, ±1, 2 (Φ(1) = 0.8413447460685429…,
/// Φ(2) = 0.9772498680518208…), and its slope peak at √2 (Φ(√2) + √2·φ(√2)).
#[test]
fn gelu_is_x_times_the_normal_cdf() {
    let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1e-300);
    assert_eq!(gelu(0.0), 0.0);
    assert!(close(gelu(1.0), 0.841_344_746_068_542_9), "{}", gelu(1.0));
    assert!(
        close(gelu(-1.0), -0.158_655_253_931_457_05),
        "{}",
        gelu(-1.0)
    );
    assert!(
        close(gelu(2.0), 2.0 * 0.977_249_868_051_820_8),
        "{}",
        gelu(2.0)
    );
    let h = 1e-6;
    let r2 = std::f64::consts::SQRT_2;
    let slope = (gelu(r2 + h) - gelu(r2 - h)) / (2.0 * h);
    assert!((slope - 1.128_904_145_185).abs() < 1e-8, "{slope}");
    assert!(slope < 1.13);
}
proptest! {
    /// The charge for the rotation's rounding covers it: f32 rows rotated in f32 against
    /// the same rows rotated in f64.
    #[test]
    fn rope_bound_covers_the_rotation(
        rows in proptest::collection::vec(proptest::collection::vec(-4.0f32..4.0, 4), 1..6),
    ) {
        let n = rows.len();
        let x = DMatrix::from_fn(n, 4, |i, j| rows[i][j]);
        let rope = Rope::interleaved(10_000.0);
        let got = apply_rope(&x, rope);
        let exact = apply_rope(&x.map(f64::from), rope);
        let bound = rope_bound(&x, &vec![0.0; n], rope);
        for i in 0..n {
            let err = (0..4)
                .map(|j| (f64::from(got[(i, j)]) - exact[(i, j)]).powi(2))
                .sum::<f64>()
                .sqrt();
            prop_assert!(err <= bound[i], "row {i}: {err:e} > {:e}", bound[i]);
        }
    }
}

/// The fast path's bound of one output entry ([`Linear::Gemm`]) is nearly attained.
///
/// * f32: one product `(1 + 2⁻¹²)²` exact in f64, then rounded to f32 at a tie (to even):
///   the whole error is the bound's `u·|s|` term; ratio ≥ 0.999.
/// * f64: `(1 + 2⁻²⁶)(1 + 2⁻²⁷) + (1 + 2⁻⁵²)`: the product rounds a tie down by `u`, the
///   addition of the bias another tie down by `2u`: `3u` of the bound `γ₂·Σ|terms| ≈ 4u`;
///   ratio ≥ 0.74. (No construction reaches the full `γ₂`: the product's `u` is relative to a
///   term near 1, the sum's to a result near 2.) Longer sums cannot be made to round every
///   addition the same way through a blocked kernel whose order of additions is its own.
#[test]
fn gemm_bound_is_nearly_attained() {
    let a = 1.0 + 2f32.powi(-12);
    let w = DMatrix::from_element(1, 1, a);
    let y = project(&DMatrix::from_element(1, 1, a), &w, &[0.0], Linear::Gemm)[(0, 0)];
    let observed = (f64::from(y) - f64::from(a) * f64::from(a)).abs();
    let bound = linear_bound(&[a], 0.0, &w, op_norm(&w), Some(&[0.0]), 0.0, Linear::Gemm);
    assert!(
        observed <= bound && observed >= 0.999 * bound,
        "f32: {observed:e} of {bound:e}"
    );

    let (x, v, c) = (
        1.0 + 2f64.powi(-26),
        1.0 + 2f64.powi(-27),
        1.0 + 2f64.powi(-52),
    );
    let w = DMatrix::from_element(1, 1, v);
    let y = project(&DMatrix::from_element(1, 1, x), &w, &[c], Linear::Gemm)[(0, 0)];
    // x·v + c exactly: 2 + 2⁻²⁶ + 2⁻²⁷ + 3·2⁻⁵³; computed 2 + 2⁻²⁶ + 2⁻²⁷.
    let exact_minus_two = 2f64.powi(-26) + 2f64.powi(-27) + 3.0 * 2f64.powi(-53);
    let observed = ((y - 2.0) - exact_minus_two).abs();
    assert_eq!(observed, 3.0 * 2f64.powi(-53), "f64: computed {y:e}");
    let bound = linear_bound(&[x], 0.0, &w, op_norm(&w), Some(&[c]), 0.0, Linear::Gemm);
    assert!(
        observed <= bound && observed >= 0.74 * bound,
        "f64: {observed:e} of {bound:e}"
    );
    // The reference kernel on the same input is correctly rounded: within u·|s|.
    let r = project(
        &DMatrix::from_element(1, 1, x),
        &w,
        &[c],
        Linear::Compensated,
    )[(0, 0)];
    assert!(((r - 2.0) - exact_minus_two).abs() <= 2f64.powi(-52));
}
