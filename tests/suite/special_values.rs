//! The special-value policy of every public function, compared bit for bit (sign of zero
//! included; any NaN matches any NaN), in f32 and f64. Each row is one line of the tables in
//! the functions' docs and in the README.

use nalgebra::DMatrix;
use transformer_laws::strategies::FloatStrategies;
use transformer_laws::{Real, geometry, loss, norms, softmax, unembed};

/// Compare bit for bit; NaN matches NaN (payloads are not part of the policy).
fn same<T: Real>(got: T, want: T) -> bool {
    (got.is_nan() && want.is_nan()) || got.to_bits_u64() == want.to_bits_u64()
}

fn check<T: Real>(what: &str, input: &str, got: &[T], want: &[T]) {
    let ok = got.len() == want.len() && got.iter().zip(want).all(|(&g, &w)| same(g, w));
    let bits = |v: &[T]| {
        v.iter()
            .map(|x| format!("{:#x}", x.to_bits_u64()))
            .collect::<Vec<_>>()
    };
    assert!(
        ok,
        "{what}({input}) in {}:\n expected {want:?} {:?}\n actual   {got:?} {:?}",
        T::NAME,
        bits(want),
        bits(got)
    );
}

fn v<T: Real>(x: &[f64]) -> Vec<T> {
    x.iter().map(|&a| T::narrow(a)).collect()
}

/// (input, softmax, log_softmax, logsumexp, entropy)
type SoftmaxRow = (Vec<f64>, Vec<f64>, Vec<f64>, f64, f64);
/// (x, eps, layer_norm, rms_norm, center)
type NormRow = (Vec<f64>, f64, Vec<f64>, Vec<f64>, Vec<f64>);
/// (a, b, dot, squared_distance, euclidean_distance)
type GeometryRow = (Vec<f64>, Vec<f64>, f64, f64, f64);

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// `T`'s largest finite value and one of its subnormals (an eighth of the smallest normal
/// value), in `f64`.
fn extremes<T: Real>() -> (f64, f64) {
    (
        T::max_value().widen(),
        T::min_positive_value().widen() / 8.0,
    )
}

fn softmax_family<T: Real>() {
    let max = T::max_value().widen();
    let tiny = T::min_positive_value().widen() / 4.0; // a subnormal of T
    let ln2 = std::f64::consts::LN_2;
    // (input, softmax, log_softmax, logsumexp, entropy)
    let rows: Vec<SoftmaxRow> = vec![
        (vec![], vec![], vec![], -INF, NAN),
        (vec![NAN, 1.0], vec![NAN, NAN], vec![NAN, NAN], NAN, NAN),
        (vec![1.0, NAN], vec![NAN, NAN], vec![NAN, NAN], NAN, NAN),
        (vec![INF, 0.0], vec![1.0, 0.0], vec![0.0, -INF], INF, 0.0),
        (
            vec![INF, 0.0, INF],
            vec![0.5, 0.0, 0.5],
            vec![-ln2, -INF, -ln2],
            INF,
            ln2,
        ),
        (vec![INF, NAN], vec![NAN, NAN], vec![NAN, NAN], NAN, NAN),
        (vec![-INF, -INF], vec![NAN, NAN], vec![NAN, NAN], -INF, NAN),
        (vec![0.0, -INF], vec![1.0, 0.0], vec![0.0, -INF], 0.0, 0.0),
        (vec![5.0], vec![1.0], vec![0.0], 5.0, 0.0),
        (vec![max, max], vec![0.5, 0.5], vec![-ln2, -ln2], max, ln2),
        (vec![-max, max], vec![0.0, 1.0], vec![-INF, 0.0], max, 0.0),
        (vec![tiny, 0.0], vec![0.5, 0.5], vec![-ln2, -ln2], ln2, ln2),
    ];
    for (z, p, lp, lse, h) in rows {
        let zt: Vec<T> = v(&z);
        let input = format!("{zt:?}");
        check("softmax", &input, &softmax::softmax(&zt), &v(&p));
        check("log_softmax", &input, &softmax::log_softmax(&zt), &v(&lp));
        check("logsumexp", &input, &[softmax::logsumexp(&zt)], &v(&[lse]));
        check("entropy", &input, &[softmax::entropy(&zt)], &v(&[h]));
        if !zt.is_empty() {
            let t = T::narrow(2.0);
            let want: Vec<T> = softmax::softmax(&zt.iter().map(|&x| x / t).collect::<Vec<T>>());
            check(
                "softmax_with_temperature(·, 2)",
                &input,
                &softmax::softmax_with_temperature(&zt, t),
                &want,
            );
        }
    }
}

fn cross_entropy<T: Real>() {
    let (max, sub) = extremes::<T>();
    // (logits, target, loss, grad)
    let rows: Vec<(Vec<f64>, usize, f64, Vec<f64>)> = vec![
        (vec![NAN, 0.0], 0, NAN, vec![NAN, NAN]),
        (vec![INF, 0.0], 0, 0.0, vec![0.0, 0.0]),
        (vec![0.0, INF], 0, INF, vec![-1.0, 1.0]),
        (vec![INF, INF], 1, std::f64::consts::LN_2, vec![0.5, -0.5]),
        (vec![-INF, 0.0], 0, INF, vec![-1.0, 1.0]),
        (vec![-INF, -INF], 0, NAN, vec![NAN, NAN]),
        (vec![3.0], 0, 0.0, vec![0.0]),
        (vec![0.0, 0.0], 1, std::f64::consts::LN_2, vec![0.5, -0.5]),
        // ±MAX: the loss of the wrong target is 2·MAX, beyond the range: ∞ (correctly rounded).
        (vec![max, -max], 0, 0.0, vec![0.0, 0.0]),
        (vec![max, -max], 1, INF, vec![1.0, -1.0]),
        (vec![max, max], 1, std::f64::consts::LN_2, vec![0.5, -0.5]),
        // A subnormal logit is a 0 to within far less than an ulp of ln 2.
        (vec![sub, 0.0], 0, std::f64::consts::LN_2, vec![-0.5, 0.5]),
    ];
    for (z, y, l, g) in rows {
        let zt: Vec<T> = v(&z);
        let input = format!("{zt:?}, target {y}");
        // With the gradient, then alone: the same answers.
        let (gl, gg) = loss::cross_entropy_with_grad(&zt, y);
        let (l_alone, g_alone) = (
            loss::cross_entropy(&zt, y),
            loss::cross_entropy_grad(&zt, y),
        );
        check("cross_entropy", &input, &[gl, l_alone], &v(&[l, l]));
        check("cross_entropy_grad", &input, &gg, &v(&g));
        check("cross_entropy_grad (alone)", &input, &g_alone, &v(&g));
    }
}

fn norms_table<T: Real>() {
    let (max, sub) = extremes::<T>();
    // (x, eps, layer_norm, rms_norm, center)
    #[rustfmt::skip]
    let rows: Vec<NormRow> = vec![
        (vec![], 1e-5, vec![], vec![], vec![]),
        (vec![NAN, 1.0], 1e-5, vec![NAN, NAN], vec![NAN, NAN], vec![NAN, NAN]),
        (vec![INF, 1.0], 1e-5, vec![NAN, NAN], vec![NAN, NAN], vec![NAN, NAN]),
        (vec![-INF, 1.0], 0.0, vec![NAN, NAN], vec![NAN, NAN], vec![NAN, NAN]),
        (vec![7.0, 7.0], 0.0, vec![0.0, 0.0], vec![1.0, 1.0], vec![0.0, 0.0]),
        (vec![7.0, 7.0], 1e-5, vec![0.0, 0.0], rms(&[7.0, 7.0], 1e-5), vec![0.0, 0.0]),
        (vec![0.0, 0.0], 0.0, vec![0.0, 0.0], vec![0.0, 0.0], vec![0.0, 0.0]),
        (vec![1.0, 3.0], 0.0, vec![-1.0, 1.0], rms(&[1.0, 3.0], 0.0), vec![-1.0, 1.0]),
        (vec![max, -max], 0.0, vec![1.0, -1.0], vec![1.0, -1.0], vec![max, -max]),
        (vec![max, max], 0.0, vec![0.0, 0.0], vec![1.0, 1.0], vec![0.0, 0.0]),
        (vec![sub, 0.0], 0.0, vec![1.0, -1.0], vec![2f64.sqrt(), 0.0], vec![sub / 2.0, -sub / 2.0]),
        (vec![-0.0, -0.0], 0.0, vec![0.0, 0.0], vec![0.0, 0.0], vec![0.0, 0.0]),
    ];
    for (x, eps, ln, rmsn, c) in rows {
        let xt: Vec<T> = v(&x);
        let e = T::narrow(eps);
        let input = format!("{xt:?}, eps {eps:e}");
        let (layer, root_mean) = (
            norms::layer_norm(&xt, e, None, None),
            norms::rms_norm(&xt, e, None),
        );
        check("layer_norm", &input, &layer, &v(&ln));
        check("rms_norm", &input, &root_mean, &v(&rmsn));
        check("center", &input, &norms::center(&xt), &v(&c));
    }
    // Constant rows give exactly β, also for ε = 0 (PyTorch: NaN for ε = 0).
    let beta: Vec<T> = v(&[0.25, -3.0, 1e-3]);
    let gamma: Vec<T> = v(&[2.0, 2.0, 2.0]);
    for eps in [0.0, 1e-5] {
        let y = norms::layer_norm(
            &v::<T>(&[4.0, 4.0, 4.0]),
            T::narrow(eps),
            Some(&gamma),
            Some(&beta),
        );
        check("layer_norm (constant row)", "[4, 4, 4]", &y, &beta);
    }
}

/// RMSNorm of a row in f64 (used where the table's answer is a rounded quotient).
fn rms(x: &[f64], eps: f64) -> Vec<f64> {
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
    x.iter().map(|v| v / (ms + eps).sqrt()).collect()
}

fn geometry_table<T: Real>() {
    let (max, sub) = extremes::<T>();
    // (a, b, dot, squared_distance, euclidean)
    let rows: Vec<GeometryRow> = vec![
        (vec![], vec![], 0.0, 0.0, 0.0),
        (vec![NAN], vec![1.0], NAN, NAN, NAN),
        (vec![INF], vec![0.0], NAN, INF, INF),
        (vec![INF], vec![INF], INF, NAN, NAN),
        (vec![max], vec![-max], -INF, INF, INF),
        (vec![sub], vec![0.0], 0.0, 0.0, sub),
        (vec![3.0, 4.0], vec![0.0, 0.0], 0.0, 25.0, 5.0),
    ];
    for (a, b, d, sq, e) in rows {
        let (at, bt): (Vec<T>, Vec<T>) = (v(&a), v(&b));
        let input = format!("{at:?}, {bt:?}");
        let got = [
            geometry::dot(&at, &bt),
            geometry::squared_distance(&at, &bt),
            geometry::euclidean_distance(&at, &bt),
        ];
        let what = "(dot, squared_distance, euclidean_distance)";
        check(what, &input, &got, &v(&[d, sq, e]));
    }
    // norm
    for (x, n) in [
        (vec![], 0.0),
        (vec![INF, NAN], NAN),
        (vec![-INF, 1.0], INF),
        (vec![max, max], INF),
        (vec![max, 0.0], max),
        (vec![sub], sub),
        (vec![-0.0], 0.0),
    ] {
        let xt: Vec<T> = v(&x);
        check("norm", &format!("{xt:?}"), &[geometry::norm(&xt)], &v(&[n]));
    }
    // cosine and angle: None for zero or empty vectors, Some(NaN) for non-finite entries.
    let zero: Vec<T> = v(&[0.0, 0.0]);
    let one: Vec<T> = v(&[1.0, 0.0]);
    assert_eq!(geometry::cosine_similarity(&zero, &one), None);
    assert_eq!(geometry::cosine_similarity::<T>(&[], &[]), None);
    assert_eq!(geometry::angle(&one, &zero), None);
    assert!(geometry::cosine_similarity(&v::<T>(&[NAN, 1.0]), &one).is_some_and(|c| c.is_nan()));
    assert!(geometry::cosine_similarity(&v::<T>(&[INF, 1.0]), &one).is_some_and(|c| c.is_nan()));
    assert!(geometry::angle(&v::<T>(&[INF, 1.0]), &one).is_some_and(|c| c.is_nan()));
    // A vector with itself: cosine 1 and angle 0, at both ends of the range.
    let (big, small): (Vec<T>, Vec<T>) = (v(&[max, max]), v(&[sub, sub]));
    let cos = |x: &[T]| geometry::cosine_similarity(x, x).unwrap();
    check("cosine", "[MAX, MAX]²", &[cos(&big)], &[T::one()]);
    check("cosine", "[sub, sub]²", &[cos(&small)], &[T::one()]);
    let angle = geometry::angle(&small, &small).unwrap();
    check("angle", "[sub, sub]²", &[angle], &[T::zero()]);
}

fn unembed_table<T: Real>() {
    let w = |cols: &[&[f64]]| {
        let d = cols.first().map_or(0, |c| c.len());
        let flat: Vec<T> = cols.iter().flat_map(|c| v::<T>(c)).collect();
        DMatrix::from_vec(d, cols.len(), flat)
    };
    // The three rankings (dot product, distance, cosine) agree on these.
    // The forms on a slice of tokens give the matrix forms' answers (d > 0).
    let ranks = |w: &DMatrix<T>, x: &[T]| {
        let r = [
            unembed::argmax_dot(w, x),
            unembed::nearest_euclidean(w, x),
            unembed::nearest_cosine(w, x),
        ];
        if w.nrows() > 0 {
            let (t, d) = (w.as_slice(), w.nrows());
            let tokens = [
                unembed::argmax_dot_tokens(t, d, x),
                unembed::nearest_euclidean_tokens(t, d, x),
                unembed::nearest_cosine_tokens(t, d, x),
            ];
            assert_eq!(tokens, r, "tokens in a slice");
        }
        r
    };
    let none = w(&[]);
    let empty_x: Vec<T> = vec![];
    assert_eq!(ranks(&none, &empty_x), [None; 3], "no tokens");
    let two = w(&[&[1.0, 0.0], &[1.0, 0.0]]);
    let x: Vec<T> = v(&[1.0, 1.0]);
    assert_eq!(ranks(&two, &x), [Some(0); 3], "tie → lowest index");
    let nan_x: Vec<T> = v(&[NAN, 1.0]);
    assert_eq!(ranks(&two, &nan_x), [None; 3], "a NaN entry");
    let with_zero = w(&[&[0.0, 0.0], &[0.0, 1.0]]);
    let zero_x: Vec<T> = v(&[0.0, 0.0]);
    for (q, want, why) in [
        (&x, Some(1), "zero token skipped"),
        (&zero_x, None, "zero query"),
    ] {
        assert_eq!(unembed::nearest_cosine(&with_zero, q), want, "{why}");
        let tokens = unembed::nearest_cosine_tokens(with_zero.as_slice(), 2, q);
        assert_eq!(tokens, want, "{why}, tokens in a slice");
    }
    // d = 0: every logit is the empty sum 0, so the first token wins.
    let flat = DMatrix::<T>::zeros(0, 3);
    assert_eq!(unembed::logits(&flat, &empty_x), vec![T::zero(); 3]);
    assert_eq!(unembed::argmax_dot(&flat, &empty_x), Some(0));
    // MIPS: a NaN token norm gives a NaN extra coordinate.
    let bad = w(&[&[NAN]]);
    assert!(unembed::mips_augment(&bad, None)[(1, 0)].is_nan());
}

/// The transformer module: empty sequences, NaN and ±MAX in weights, fully masked rows, odd
/// rotary widths, centering overflow.
fn transformer_table<T: FloatStrategies>() {
    use transformer_laws::strategies::tiny_model;
    use transformer_laws::transformer::process::{
        center_unembed, center_writing_weights, fold_layernorm, fold_value_biases,
    };
    use transformer_laws::transformer::{Mask, Rope, apply_rope, attention};
    let m = tiny_model::<T>();
    // An empty sequence: no positions, no logits, no panic.
    let l = m.forward(&[]);
    assert_eq!((l.nrows(), l.ncols()), (0, m.vocab()));
    // NaN in one embedding row reaches its own position and every later one (through
    // attention), never an earlier one.
    let mut bad = m.clone();
    bad.w_e[(1, 0)] = T::nan();
    let l = bad.forward(&[0, 1, 2]);
    assert!(l.row(0).iter().all(|v| v.is_finite()));
    assert!(l.row(1).iter().chain(l.row(2).iter()).all(|v| v.is_nan()));
    // NaN in one token of the unembedding: that logit only.
    let mut bad = m.clone();
    bad.w_u[(0, 3)] = T::nan();
    let l = bad.forward(&[0, 1]);
    for i in 0..2 {
        for j in 0..m.vocab() {
            assert_eq!(l[(i, j)].is_nan(), j == 3, "({i}, {j})");
        }
    }
    // ±MAX in the embedding: LayerNorm scales, so the logits stay finite.
    let mut big = m.clone();
    big.w_e[(2, 0)] = T::max_value();
    big.w_e[(2, 1)] = -T::max_value();
    assert!(big.forward(&[2, 2]).iter().all(|v| v.is_finite()));
    // Transforms of a model with NaN weights keep the NaN where it was (no panic).
    let mut bad = m.clone();
    bad.blocks[0].attn.heads[0].b_v[0] = T::nan();
    assert!(
        fold_value_biases(&bad).blocks[0]
            .attn
            .b_o
            .iter()
            .any(|v| v.is_nan())
    );
    assert!(fold_layernorm(&bad).blocks[0].attn.heads[0].b_v[0].is_nan());
    assert!(center_writing_weights(&bad).is_ok());
    assert!(center_unembed(&bad).w_u.iter().all(|v| v.is_finite()));
    // attention: zero queries, a fully masked row, NaN in a key.
    let q = DMatrix::<T>::zeros(0, 2);
    let (o, p) = attention(
        &q,
        &DMatrix::zeros(0, 2),
        &DMatrix::zeros(0, 3),
        &Mask::Causal,
    );
    assert_eq!((o.nrows(), o.ncols(), p.nrows(), p.ncols()), (0, 3, 0, 0));
    let x = DMatrix::from_row_slice(2, 1, &[T::one(), T::nan()]);
    let (o, _) = attention(&x, &x, &x, &Mask::Causal);
    assert!(o[(0, 0)] == T::one() && o[(1, 0)].is_nan());
    let none = Mask::Custom(DMatrix::from_element(2, 2, false));
    let (o, p) = attention(&x, &x, &x, &none);
    assert!(o.iter().chain(p.iter()).all(|v| *v == T::zero()));
    // RoPE: an odd width leaves the last coordinate alone; position 0 is the identity.
    let r = DMatrix::from_row_slice(
        2,
        3,
        &[v::<T>(&[1.0, 2.0, 3.0]), v::<T>(&[1.0, 2.0, 3.0])].concat(),
    );
    let y = apply_rope(&r, Rope::interleaved(10_000.0));
    assert_eq!(y.row(0), r.row(0));
    assert_eq!(y[(1, 2)], r[(1, 2)]);
    // center overflows exactly where xᵢ − μ is beyond MAX (correctly rounded: ±∞).
    let max = T::max_value();
    let c = norms::center(&[max, -max, -max]);
    assert!(
        c[0] == T::infinity() && c[1].is_finite() && c[2].is_finite(),
        "{c:?}"
    );
}

both!(softmax_special_values, softmax_family);
both!(cross_entropy_special_values, cross_entropy);
both!(norms_special_values, norms_table);
both!(geometry_special_values, geometry_table);
both!(unembed_special_values, unembed_table);
both!(transformer_special_values, transformer_table);

#[test]
#[should_panic(expected = "dot: length mismatch: left has 2 entries, right has 1")]
fn dot_names_both_lengths() {
    geometry::dot(&[1.0f64, 2.0], &[1.0]);
}

#[test]
#[should_panic(expected = "target 2 is out of range for 2 logits")]
fn cross_entropy_target_out_of_range() {
    loss::cross_entropy(&[1.0f32, 2.0], 2);
}

#[test]
#[should_panic(
    expected = "layer_norm (x vs gamma): length mismatch: left has 2 entries, right has 3"
)]
fn layer_norm_gamma_length() {
    norms::layer_norm(&[1.0f64, 2.0], 1e-5, Some(&[1.0, 1.0, 1.0]), None);
}

#[test]
#[should_panic(expected = "eps must be a number >= 0 (and not NaN), got -1")]
fn negative_eps() {
    norms::rms_norm(&[1.0f32, 2.0], -1.0, None);
}

#[test]
#[should_panic(expected = "logits (W rows vs x): length mismatch: left has 2 entries, right has 3")]
fn logits_shape() {
    unembed::logits(&DMatrix::<f64>::zeros(2, 4), &[1.0, 2.0, 3.0]);
}

#[test]
#[should_panic(expected = "M = 1 is smaller than the largest token norm 2")]
fn mips_m_too_small() {
    unembed::mips_augment(&DMatrix::from_vec(1, 1, vec![2.0f64]), Some(1.0));
}

/// Found by the `kernels` fuzz target: a subnormal row with a subnormal ε puts ε·2^{2K} just
/// below MAX, where the Newton residual of the root overflowed and RMSNorm returned ∞.
#[test]
fn subnormal_row_with_subnormal_eps() {
    let (x, eps) = (1.086461844974e-311f64, 2.1219957905e-314f64);
    // x/√(x² + ε), with x² negligible: x/√ε, correctly rounded.
    assert_eq!(
        norms::rms_norm(&[x], eps, None),
        vec![7.458340732068472e-155]
    );
    let y = norms::layer_norm(&[x, 2.0 * x], eps, None, None);
    assert!(y.iter().all(|v| v.is_finite() && v.abs() < 1e-150), "{y:?}");
    assert_eq!(y[0], -y[1]);
}

#[test]
#[should_panic(expected = "attention: keys are 2×3 but values are 1×3")]
fn attention_names_both_shapes() {
    let k = DMatrix::<f32>::zeros(2, 3);
    transformer_laws::transformer::attention(
        &k,
        &k,
        &DMatrix::zeros(1, 3),
        &transformer_laws::transformer::Mask::None,
    );
}

#[test]
#[should_panic(expected = "fold_into_linear: gamma has length 2 but the weight is 3×1")]
fn fold_names_both_shapes() {
    transformer_laws::transformer::process::fold_into_linear(
        Some(&[1.0f64, 1.0][..]),
        None,
        &DMatrix::zeros(3, 1),
        None,
    );
}

#[test]
#[should_panic(expected = "token 9 is outside the embedding's 5 rows")]
fn token_out_of_range() {
    transformer_laws::strategies::tiny_model::<f64>().forward(&[0, 9]);
}

#[test]
#[should_panic(expected = "sequence of 7 tokens is longer than w_pos (6 positions)")]
fn sequence_longer_than_positions() {
    transformer_laws::strategies::tiny_model::<f32>().forward(&[0; 7]);
}

/// ±MAX tokens: the scores overflow, the ranking must not (a tie at ∞ broken by index would be a
/// silent wrong answer).
fn unembed_at_max<T: Real>() {
    let max = T::max_value();
    let w = DMatrix::from_vec(1, 2, vec![max, -max]);
    let (up, down) = (vec![T::one()], vec![-T::one()]);
    assert_eq!(unembed::argmax_dot(&w, &up), Some(0));
    assert_eq!(unembed::argmax_dot(&w, &down), Some(1));
    assert_eq!(unembed::nearest_euclidean(&w, &up), Some(0));
    assert_eq!(unembed::nearest_euclidean(&w, &down), Some(1));
    // Two huge tokens that differ by one ulp in one coordinate; the query beyond the larger.
    let a = max / T::narrow(4.0);
    let b = a - a * T::epsilon();
    let w = DMatrix::from_vec(2, 2, vec![b, a, a, a]);
    let x = vec![a, a];
    assert_eq!(unembed::argmax_dot(&w, &x), Some(1));
    assert_eq!(unembed::nearest_euclidean(&w, &x), Some(1));
    // f32 scores that round to the same f32 still rank by their exact values.
    let w = DMatrix::from_vec(1, 2, vec![T::one(), T::one() + T::epsilon()]);
    let big = vec![T::narrow(3.0)];
    assert_eq!(unembed::argmax_dot(&w, &big), Some(1));
}

both!(unembed_at_max_special_values, unembed_at_max);

/// The `compute` ops (the JSON face of the same functions): the special-value answers and the
/// errors, in both dtypes.
fn compute_ops<T: Real>() {
    use transformer_laws::compute::{Op, answer};
    let ok = |op, line: &str, want: &str| {
        assert_eq!(
            answer::<T>(op, line).as_deref(),
            Ok(want),
            "{op:?} {line} in {}",
            T::NAME
        );
    };
    let err = |op, line: &str, want: &str| {
        let e = answer::<T>(op, line).unwrap_err();
        assert!(e.contains(want), "{op:?} {line} in {}: {e}", T::NAME);
    };
    use Op::*;
    #[rustfmt::skip]
    let answers = [
        (Softmax, r#"{"x":["NaN",1]}"#, r#"{"y":["NaN","NaN"]}"#),
        (LogSoftmax, r#"{"x":[]}"#, r#"{"y":[]}"#),
        (Logsumexp, r#"{"x":[]}"#, r#"{"y":"-Infinity"}"#),
        (Logsumexp, r#"{"x":["-Infinity","-Infinity"]}"#, r#"{"y":"-Infinity"}"#),
        (Softmax, r#"{"x":["Infinity",0]}"#, r#"{"y":[1.0,0.0]}"#),
        (LayerNorm, r#"{"x":[7,7],"eps":0}"#, r#"{"y":[0.0,0.0]}"#),
        (RmsNorm, r#"{"x":[0,0],"eps":0}"#, r#"{"y":[0.0,0.0]}"#),
        (CrossEntropy, r#"{"logits":["-Infinity","-Infinity"],"target":0}"#, r#"{"loss":"NaN","grad":["NaN","NaN"]}"#),
        (ArgmaxDot, r#"{"x":["NaN"],"tokens":[[1]]}"#, r#"{"index":null}"#),
        (NearestCosine, r#"{"x":[0],"tokens":[[1]]}"#, r#"{"index":null}"#),
    ];
    for (op, line, want) in answers {
        ok(op, line, want);
    }
    #[rustfmt::skip]
    let errors = [
        (LayerNorm, r#"{"x":[1,2],"gamma":[1]}"#, "gamma has 1 entries but x has 2"),
        (LayerNorm, r#"{"x":[1,2],"eps":-1}"#, "eps must be a number >= 0"),
        (CrossEntropy, r#"{"logits":[1],"target":1}"#, "target 1 is out of range for 1 logits"),
        (ArgmaxDot, r#"{"x":[1,2],"tokens":[[1]]}"#, "x has 2 entries but each token has 1"),
        (NearestEuclidean, r#"{"x":[1],"tokens":[]}"#, "tokens is empty"),
    ];
    for (op, line, want) in errors {
        err(op, line, want);
    }
    // ±MAX tokens rank exactly.
    let max = T::max_value().shortest_repr();
    let toks = format!(r#""tokens":[[{max}],[-{max}]]"#);
    ok(
        ArgmaxDot,
        &format!(r#"{{"x":[1],{toks}}}"#),
        r#"{"index":0}"#,
    );
    ok(
        NearestEuclidean,
        &format!(r#"{{"x":[-1],{toks}}}"#),
        r#"{"index":1}"#,
    );
}

both!(compute_special_values, compute_ops);

/// Rows far below √ε (ε·2^{2K} beyond the range: the kernel's last branch): the output is
/// x/√ε to within an ulp, i.e. x itself for ε = 1.
#[test]
fn tiny_rows_with_a_large_eps() {
    let x = [1e-300f64, 2e-300];
    assert_eq!(norms::rms_norm(&x, 1.0, None), vec![1e-300, 2e-300]);
    assert_eq!(
        norms::layer_norm(&x, 1.0, None, None),
        vec![-5e-301, 5e-301]
    );
    assert_eq!(norms::rms_norm(&x, 4.0, None), vec![5e-301, 1e-300]);
    let sub = [f64::from_bits(3), -f64::from_bits(5)];
    assert_eq!(norms::rms_norm(&sub, 1.0, None), sub.to_vec());
    let x32 = [1e-40f32, 2e-40];
    assert_eq!(norms::rms_norm(&x32, 1.0, None), vec![1e-40, 2e-40]);
}
