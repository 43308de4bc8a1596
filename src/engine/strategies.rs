//! Public proptest strategies: the inputs this crate's own tests use, for users who test
//! their implementations the same way.
//!
//! proptest does not shrink floats to readable numbers, so the strategies come in two kinds:
//!
//! * **lattices** ([`small_int`], [`dyadic`], [`rational`]) whose values shrink towards 0 on a
//!   grid of small integers or dyadic fractions — counterexamples come out readable;
//! * **magnitudes** ([`FloatStrategies::any_finite`], [`moderate`]) that cover the whole
//!   range of a type, for accuracy and special-value testing.
//!
//! All sizes are named, bounded ranges.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//! use transformer_laws::softmax::softmax;
//! use transformer_laws::strategies::{logits, small_int, vector};
//!
//! // Your property, on the crate's strategies, in f32 and f64:
//! fn sums_to_one<T: transformer_laws::strategies::FloatStrategies>() {
//!     TestRunner::default()
//!         .run(&logits::<T>(1..=8), |z| {
//!             let s: f64 = softmax(&z).iter().map(|p| p.widen()).sum();
//!             prop_assert!((s - 1.0).abs() < 1e-5);
//!             Ok(())
//!         })
//!         .unwrap();
//! }
//! sums_to_one::<f32>();
//! sums_to_one::<f64>();
//! let _ = vector(small_int::<f32>(), 1..=4);
//! ```

use crate::kernels::scalar::Real;
use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::collection::vec;
use proptest::prelude::*;
use std::ops::RangeInclusive;

/// Vector lengths used by default: 1 to 16 coordinates.
pub const DIM: RangeInclusive<usize> = 1..=16;
/// Small integers: −8 to 8.
pub const SMALL_INT: RangeInclusive<i32> = -8..=8;
/// Moderate reals: −100 to 100.
pub const MODERATE: RangeInclusive<f64> = -100.0..=100.0;
/// Lengths of the long rows float searches include (sums of many rounded terms).
pub const LONG_ROW: RangeInclusive<usize> = 64..=512;
/// How far apart (in binary orders of magnitude) the vectors of one case may be scaled.
pub const SCALE_SPREAD: RangeInclusive<i32> = -30..=30;

/// Per-type strategies over the whole finite range.
pub trait FloatStrategies: Real {
    /// `MIN_EXP` of the type (2^(MIN_EXP−1) is its smallest normal value).
    const MIN_EXP: i32;
    /// `MAX_EXP` of the type (its largest finite value is below 2^MAX_EXP).
    const MAX_EXP: i32;
    /// Any finite value: normal, subnormal or zero, either sign, every exponent.
    fn any_finite() -> BoxedStrategy<Self>;
}

impl FloatStrategies for f32 {
    const MIN_EXP: i32 = f32::MIN_EXP;
    const MAX_EXP: i32 = f32::MAX_EXP;
    fn any_finite() -> BoxedStrategy<f32> {
        use proptest::num::f32::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
        (POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO).boxed()
    }
}

impl FloatStrategies for f64 {
    const MIN_EXP: i32 = f64::MIN_EXP;
    const MAX_EXP: i32 = f64::MAX_EXP;
    fn any_finite() -> BoxedStrategy<f64> {
        use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
        (POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO).boxed()
    }
}

/// Values that exercise rounding in `T`: non-integers of moderate size, full-mantissa values
/// scaled anywhere in the type's finite range (near overflow, subnormal), small dyadics and
/// small integers.
pub fn rounding<T: FloatStrategies>() -> BoxedStrategy<T> {
    let lo = <T as FloatStrategies>::MIN_EXP - T::MANTISSA_DIGITS as i32;
    let hi = <T as FloatStrategies>::MAX_EXP - 1;
    prop_oneof![
        3 => moderate::<T>(),
        2 => (lo..=hi, -2.0f64..2.0).prop_map(|(e, m)| T::narrow(m * f64::from(e).exp2())),
        1 => dyadic::<T>(10, 1 << 12),
        1 => small_int::<T>(),
        1 => T::any_finite(),
    ]
    .boxed()
}

/// `n` vectors of dimension `d` (as `f64` values of `T`) that exercise rounding: one common
/// binary scale anywhere in the type's range, each vector moved by up to [`SCALE_SPREAD`]
/// orders of magnitude from it, full-mantissa entries; in one draw of four, the last vector
/// nearly cancels the sum of the others (`−Σ others` rounded to `T`, plus a few ulps).
pub fn rounding_rows<T: FloatStrategies>(d: usize, n: usize) -> BoxedStrategy<Vec<Vec<f64>>> {
    let lo = <T as FloatStrategies>::MIN_EXP - T::MANTISSA_DIGITS as i32;
    let hi = <T as FloatStrategies>::MAX_EXP - 1;
    let rows = (
        lo..=hi,
        vec(SCALE_SPREAD, n),
        vec(vec(-2.0f64..2.0, d), n),
        vec(prop_oneof![3 => -3i32..=3, 1 => Just(0)], d),
        0u8..4,
    )
        .prop_map(move |(e, spread, ms, nudge, pick)| {
            let mut rows: Vec<Vec<f64>> = ms
                .iter()
                .zip(&spread)
                .map(|(m, s)| {
                    let scale = f64::from((e + s).clamp(lo, hi)).exp2();
                    m.iter()
                        .map(|x| T::narrow(x * scale).widen())
                        .map(|x| if x.is_finite() { x } else { 0.0 })
                        .collect()
                })
                .collect();
            if pick == 0 && n >= 2 {
                let (last, others) = rows.split_last_mut().expect("n ≥ 2");
                for (i, v) in last.iter_mut().enumerate() {
                    let s: f64 = others.iter().map(|r| r[i]).sum();
                    let c = T::narrow(-s);
                    let ulp = crate::kernels::tolerance::ulp(c);
                    let x = T::narrow(c.widen() + f64::from(nudge[i]) * ulp).widen();
                    *v = if x.is_finite() { x } else { 0.0 };
                }
            }
            rows
        });
    rows.boxed()
}

/// Integers in [`SMALL_INT`] as `T`; shrink towards 0.
pub fn small_int<T: Real>() -> impl Strategy<Value = T> + Clone {
    SMALL_INT.prop_map(|k| T::narrow(f64::from(k)))
}

/// Dyadic fractions `k / 2^bits` with `|k| ≤ max_k`; shrink towards 0 on the grid.
pub fn dyadic<T: Real>(bits: u32, max_k: i32) -> impl Strategy<Value = T> + Clone {
    let scale = f64::from(bits).exp2();
    (-max_k..=max_k).prop_map(move |k| T::narrow(f64::from(k) / scale))
}

/// Reals uniform in [`MODERATE`].
pub fn moderate<T: Real>() -> impl Strategy<Value = T> + Clone {
    MODERATE.prop_map(T::narrow)
}

/// Rationals `p/q` with `|p| ≤ max_p`, `1 ≤ q ≤ max_q`; shrink towards 0.
pub fn rational(max_p: i64, max_q: i64) -> impl Strategy<Value = BigRational> + Clone {
    (-max_p..=max_p, 1..=max_q)
        .prop_map(|(p, q)| BigRational::new(BigInt::from(p), BigInt::from(q)))
}

/// Vectors of `len` entries drawn from `elem`.
pub fn vector<S: Strategy>(
    elem: S,
    len: RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<S::Value>> {
    vec(elem, len)
}

/// Pairs of vectors of one common length.
pub fn vector_pair<S: Strategy + Clone>(
    elem: S,
    len: RangeInclusive<usize>,
) -> impl Strategy<Value = (Vec<S::Value>, Vec<S::Value>)> {
    len.prop_flat_map(move |n| (vec(elem.clone(), n), vec(elem.clone(), n)))
}

/// Logits for accuracy tests: a mixture of moderate values, small integers and any finite
/// value of the type, so that both ordinary rows and extreme ones (one dominant logit, huge
/// spreads) appear.
pub fn logits<T: FloatStrategies>(len: RangeInclusive<usize>) -> impl Strategy<Value = Vec<T>> {
    let elem = prop_oneof![
        3 => moderate::<T>(),
        2 => small_int::<T>(),
        1 => T::any_finite(),
    ];
    vec(elem, len)
}

/// A small model with the [default](crate::transformer::ModelConfig::default) shape and fixed
/// pseudo-random weights (the same on every machine): for examples and doc tests.
pub fn tiny_model<T: FloatStrategies>() -> crate::transformer::Model<T> {
    sample(model::<T>(crate::transformer::ModelConfig::default()))
}

/// Random weights (uniform in `±1/√fan_in`; embeddings and biases in `[−1, 1]`; LayerNorm γ in `[0.5, 1.5]`, ε = 10⁻⁵) for a model of the
/// given shape: for property tests of the [`crate::transformer`] module and its transforms.
pub fn model<T: Real>(
    cfg: crate::transformer::ModelConfig,
) -> BoxedStrategy<crate::transformer::Model<T>> {
    use crate::transformer::{Attention, Block, Head, Mlp, Model, Norm, NormKind};
    use nalgebra::DMatrix;
    // Entries uniform in ±1/√fan_in (the usual initialisation scale), so that activations stay
    // of order 1 through the layers; embeddings in ±1.
    let mat = move |r: usize, c: usize| {
        let a = 1.0 / (r as f64).sqrt();
        vec((-a..=a).prop_map(T::narrow), r * c)
            .prop_map(move |v| DMatrix::from_row_slice(r, c, &v))
    };
    let bias = move |n: usize, on: bool| {
        vec((-1.0f64..=1.0).prop_map(T::narrow), if on { n } else { 0 })
            .prop_map(move |v| if on { v } else { vec![T::zero(); n] })
    };
    let d = cfg.d_model;
    let norm = move || {
        (
            vec((0.5f64..=1.5).prop_map(T::narrow), d),
            vec((-1.0f64..=1.0).prop_map(T::narrow), d),
        )
            .prop_map(move |(g, b)| Norm {
                kind: cfg.norm,
                eps: T::narrow(1e-5),
                gamma: Some(g),
                beta: (cfg.norm == NormKind::LayerNorm && cfg.biases).then_some(b),
            })
    };
    let head = move || {
        (
            (mat(d, cfg.d_head), bias(cfg.d_head, cfg.biases)),
            (mat(d, cfg.d_head), bias(cfg.d_head, cfg.biases)),
            (mat(d, cfg.d_head), bias(cfg.d_head, cfg.biases)),
            mat(cfg.d_head, d),
        )
            .prop_map(|((w_q, b_q), (w_k, b_k), (w_v, b_v), w_o)| Head {
                w_q,
                b_q,
                w_k,
                b_k,
                w_v,
                b_v,
                w_o,
            })
    };
    let block = move || {
        (
            norm(),
            vec(head(), cfg.heads),
            bias(d, cfg.biases),
            norm(),
            (
                mat(d, cfg.d_mlp),
                bias(cfg.d_mlp, cfg.biases),
                mat(cfg.d_mlp, d),
                bias(d, cfg.biases),
            ),
            // Drawn only for a gated MLP, so that the other shapes' samples stay as they were.
            if cfg.gated {
                (mat(d, cfg.d_mlp), bias(cfg.d_mlp, cfg.biases))
                    .prop_map(|(w, b)| (Some(w), Some(b)))
                    .boxed()
            } else {
                Just((None, None)).boxed()
            },
        )
            .prop_map(
                move |(ln1, mut heads, b_o, ln2, (w_in, b_in, w_out, b_out), (w_gate, b_gate))| {
                    // Grouped-query attention: each group's heads share its first head's K and V.
                    let g = cfg.heads_per_kv.max(1);
                    for h in 0..heads.len() {
                        if h % g != 0 {
                            let first: Head<T> = heads[h - h % g].clone();
                            let head = &mut heads[h];
                            (head.w_k, head.b_k) = (first.w_k, first.b_k);
                            (head.w_v, head.b_v) = (first.w_v, first.b_v);
                        }
                    }
                    Block {
                        ln1,
                        attn: Attention {
                            heads,
                            b_o,
                            rope: cfg.rope,
                            heads_per_kv: g,
                        },
                        ln2,
                        mlp: Mlp {
                            w_in,
                            b_in: cfg.biases.then_some(b_in),
                            w_gate,
                            b_gate: b_gate.filter(|_| cfg.biases),
                            w_out,
                            b_out: cfg.biases.then_some(b_out),
                            act: cfg.act,
                        },
                    }
                },
            )
    };
    let emb = move |r: usize, c: usize| {
        vec((-1.0f64..=1.0).prop_map(T::narrow), r * c)
            .prop_map(move |v| DMatrix::from_row_slice(r, c, &v))
    };
    (
        emb(cfg.vocab_in, d),
        emb(cfg.n_ctx, d),
        vec(block(), cfg.layers),
        norm(),
        mat(d, cfg.vocab_out),
        bias(cfg.vocab_out, cfg.biases),
    )
        .prop_map(move |(w_e, w_pos, blocks, ln_final, w_u, b_u)| Model {
            w_e,
            w_pos: (cfg.n_ctx > 0).then_some(w_pos),
            blocks,
            ln_final,
            w_u,
            b_u: cfg.biases.then_some(b_u),
        })
        .boxed()
}

/// One value of a strategy from a fixed seed: the seeded runner of every search, so the same
/// value on every machine.
pub fn sample<S: Strategy>(s: S) -> S::Value {
    use proptest::strategy::ValueTree;
    let mut runner = crate::engine::runner::runner(1, 0);
    s.new_tree(&mut runner)
        .expect("a strategy without filters always yields a value")
        .current()
}
