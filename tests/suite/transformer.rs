//! Whole small random models (1–3 blocks, 1–3 heads, widths 2–8, LayerNorm or RMSNorm, ReLU,
//! GELU (erf or tanh) or SiLU, plain or gated MLPs, multi-head or grouped-query attention, with
//! and without biases, with and without a rotary embedding of either style): every weight-processing
//! transform preserves what its proof says it preserves, in f32 and f64, within the bound
//! [`Model::run`] derives for the two forward passes and the transform (`logit_error`).

mod bound;
mod checkpoint;
mod fast;

use nalgebra::DMatrix;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use proptest::prelude::*;
use transformer_laws::softmax::softmax;
use transformer_laws::strategies::{FloatStrategies, model};
use transformer_laws::tolerance::{SOFTMAX_ULPS, unit_roundoff};
use transformer_laws::transformer::process::{
    ProcessError, center_unembed, center_writing_weights, center_writing_weights_unchecked,
    direct_logit_attribution, fold_into_linear, fold_layernorm, fold_value_biases, logit_lens,
};
use transformer_laws::transformer::{
    Activation, Attention, Block, Head, Mask, Mlp, Model, ModelConfig, Norm, NormKind, Rope,
    RopeStyle, Run, apply_rope, attention, transform_rho,
};
use transformer_laws::{Real, Ring};

/// Widths from 4: a LayerNorm of width 2 only sees the sign of x₁ − x₂, and its conditioning
/// (1/σ) makes any rounding bound blow up near x₁ = x₂. The worst-case bound of [`Model::run`]
/// compounds per layer (products of Jacobian norms), so the tests that need it (weights known
/// to a relative ρ) stop at one block in f32 and three in f64; the shadow bound of
/// [`Model::run_with_bound`] does not, and its tests go to six.
fn config(max_layers: usize) -> impl Strategy<Value = ModelConfig> {
    (
        4usize..=8,
        1usize..=max_layers,
        1usize..=3,
        prop_oneof![Just(2usize), Just(4)],
        1usize..=12,
        2usize..=7,
        prop_oneof![Just(NormKind::LayerNorm), Just(NormKind::RmsNorm)],
        prop_oneof![
            Just(Activation::Relu),
            Just(Activation::Gelu),
            Just(Activation::GeluTanh),
            Just(Activation::Silu)
        ],
        any::<bool>(),
        prop_oneof![
            Just(None),
            Just(Some(Rope::interleaved(10_000.0))),
            Just(Some(Rope::rotate_half(500.0)))
        ],
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                d_model,
                layers,
                heads,
                d_head,
                d_mlp,
                vocab_out,
                norm,
                act,
                biases,
                rope,
                (gated, gqa),
            )| {
                ModelConfig {
                    d_model,
                    layers,
                    heads,
                    d_head,
                    d_mlp,
                    vocab_in: 4,
                    vocab_out,
                    n_ctx: 5,
                    norm,
                    act,
                    biases,
                    rope,
                    gated,
                    // Grouped-query attention: all heads share one key/value head.
                    heads_per_kv: if gqa { heads } else { 1 },
                }
            },
        )
}

/// As [`case`], with LayerNorms that have a β (and biases).
fn case_with_beta<T: FloatStrategies>() -> impl Strategy<Value = (Model<T>, Vec<usize>)> {
    let layers = if T::MANTISSA_DIGITS == 24 { 1 } else { 3 };
    config(layers).prop_flat_map(|cfg| {
        let cfg = ModelConfig {
            norm: NormKind::LayerNorm,
            biases: true,
            ..cfg
        };
        (model::<T>(cfg), proptest::collection::vec(0usize..4, 1..=5))
    })
}

fn case<T: FloatStrategies>() -> impl Strategy<Value = (Model<T>, Vec<usize>)> {
    let layers = if T::MANTISSA_DIGITS == 24 { 1 } else { 3 };
    config(layers)
        .prop_flat_map(|cfg| (model::<T>(cfg), proptest::collection::vec(0usize..4, 1..=5)))
}

/// Cases whose worst-case bound ([`Model::run`], needed where the weights are known only to
/// a relative ρ: a processed model against its original) is not informative are set aside: an
/// ill-conditioned random model (a LayerNorm input with a tiny spread) has a worst-case bound
/// of the order of its logits, which could not catch anything. How often that happens is
/// asserted, not left open: the property tests below allow at most [`MAX_UNINFORMATIVE`] such
/// cases (proptest's `max_global_rejects`) of their 48, so a bound inflated into uselessness
/// fails them. (For these models it is usually below 10⁻³ in f32 with one block, 10⁻⁴ in f64
/// with three.) The rounding alone — weights taken as exact — has the tight shadow bound
/// ([`Model::run_with_bound`], `tests/transformer/bound.rs`), which is never set aside.
fn informative(err: &[f64]) -> Result<(), TestCaseError> {
    prop_assume!(
        err.iter().all(|&e| e.is_finite() && e < 1e-2),
        "ill-conditioned model: bound not informative"
    );
    Ok(())
}

/// The most cases of 48 a property test over the worst-case bound may set aside.
const MAX_UNINFORMATIVE: u32 = 4;

/// `|a − b| ≤ ea + eb` at every position (row), every logit.
fn agree<T: Real>(
    a: &DMatrix<T>,
    ea: &[f64],
    b: &DMatrix<T>,
    eb: &[f64],
) -> Result<(), TestCaseError> {
    informative(ea)?;
    informative(eb)?;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            let diff = (a[(i, j)].widen() - b[(i, j)].widen()).abs();
            prop_assert!(
                diff <= ea[i] + eb[i],
                "position {i}, logit {j}: {} vs {} differ by {diff:e} > {:e}",
                a[(i, j)],
                b[(i, j)],
                ea[i] + eb[i]
            );
        }
    }
    Ok(())
}

/// The processed model against the original: logits within the two bounds.
fn preserved<T: Real>(
    original: &Model<T>,
    processed: &Model<T>,
    tokens: &[usize],
) -> Result<(), TestCaseError> {
    let a = original.run(tokens, 0.0);
    let b = processed.run(tokens, transform_rho::<T>());
    agree(&a.logits, &a.logit_error, &b.logits, &b.logit_error)
}

fn fold_ln_preserves<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let folded = fold_layernorm(&m);
    for (_, n) in folded.norms() {
        prop_assert!(n.gamma.is_none() && n.beta.is_none());
    }
    preserved(&m, &folded, &tokens)
}

fn value_biases_preserve<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let folded = fold_value_biases(&m);
    for b in &folded.blocks {
        prop_assert!(
            b.attn
                .heads
                .iter()
                .all(|h| h.b_v.iter().all(|v| v.is_zero()))
        );
    }
    preserved(&m, &folded, &tokens)
}

fn writing_weights<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let rms = m.norms().iter().any(|(_, n)| n.kind == NormKind::RmsNorm);
    match center_writing_weights(&m) {
        Ok(c) => {
            prop_assert!(!rms);
            if let Err(e) = writes_are_centered(&m, &c) {
                prop_assert!(false, "{}", e);
            }
            preserved(&m, &c, &tokens)
        }
        Err(ProcessError::RmsNormReader(at)) => {
            prop_assert!(rms, "refused a LayerNorm model at {at}");
            Ok(())
        }
    }
}

/// The postcondition of `center_writing_weights`: every vector written to the residual stream —
/// the rows of W_E, W_pos, each head's W_O and W_out, and the biases b_O, b_out — has mean zero
/// over d_model, to within the centering's rounding (≤ 2u of each entry's magnitude, summed:
/// 4u·Σ|original entries| covers the sum's own rounding as well). `original` gives the
/// magnitudes; the two models' layouts must match.
fn writes_are_centered<T: Real>(original: &Model<T>, c: &Model<T>) -> Result<(), String> {
    let check = |what: String, row: Vec<T>, orig: Vec<T>| -> Result<(), String> {
        let s: f64 = row.iter().map(|v| v.widen()).sum();
        let mag: f64 = orig.iter().map(|v| v.widen().abs()).sum();
        if s.abs() <= 4.0 * unit_roundoff::<T>() * mag {
            Ok(())
        } else {
            Err(format!("{what} sums to {s:e} over d_model, not 0"))
        }
    };
    let rows = |what: &str, a: &DMatrix<T>, b: &DMatrix<T>| -> Result<(), String> {
        for i in 0..a.nrows() {
            check(
                format!("{what} row {i}"),
                a.row(i).iter().copied().collect(),
                b.row(i).iter().copied().collect(),
            )?;
        }
        Ok(())
    };
    rows("W_E", &c.w_e, &original.w_e)?;
    if let (Some(p), Some(q)) = (&c.w_pos, &original.w_pos) {
        rows("W_pos", p, q)?;
    }
    for (l, (b, ob)) in c.blocks.iter().zip(&original.blocks).enumerate() {
        for (h, (hd, oh)) in b.attn.heads.iter().zip(&ob.attn.heads).enumerate() {
            rows(&format!("blocks[{l}].heads[{h}].W_O"), &hd.w_o, &oh.w_o)?;
        }
        check(
            format!("blocks[{l}].b_O"),
            b.attn.b_o.clone(),
            ob.attn.b_o.clone(),
        )?;
        rows(&format!("blocks[{l}].W_out"), &b.mlp.w_out, &ob.mlp.w_out)?;
        if let (Some(x), Some(y)) = (&b.mlp.b_out, &ob.mlp.b_out) {
            check(format!("blocks[{l}].b_out"), x.clone(), y.clone())?;
        }
    }
    Ok(())
}

/// The postcondition check catches what preservation cannot: b_O left uncentered (or any other
/// writing weight) leaves the outputs unchanged — LayerNorm removes the mean anyway — so only
/// `writes_are_centered` sees it. Each writer in turn is restored to its uncentered value.
#[test]
fn an_uncentered_writer_is_caught_by_the_postcondition() {
    let m = transformer_laws::strategies::tiny_model::<f64>();
    let c = center_writing_weights(&m).unwrap();
    assert_eq!(writes_are_centered(&m, &c), Ok(()));
    type Plant<'a> = &'a dyn Fn(&mut Model<f64>);
    let planted: [(&str, Plant); 6] = [
        ("W_E", &|x| x.w_e = m.w_e.clone()),
        ("W_pos", &|x| x.w_pos = m.w_pos.clone()),
        ("W_O", &|x| {
            x.blocks[1].attn.heads[1].w_o = m.blocks[1].attn.heads[1].w_o.clone()
        }),
        ("b_O", &|x| {
            x.blocks[0].attn.b_o = m.blocks[0].attn.b_o.clone()
        }),
        ("W_out", &|x| {
            x.blocks[1].mlp.w_out = m.blocks[1].mlp.w_out.clone()
        }),
        ("b_out", &|x| {
            x.blocks[0].mlp.b_out = m.blocks[0].mlp.b_out.clone()
        }),
    ];
    for (what, plant) in planted {
        let mut bad = c.clone();
        plant(&mut bad);
        let err = writes_are_centered(&m, &bad).expect_err(what);
        assert!(err.contains(what), "{what}: {err}");
        // And the outputs do not show it: the bug is invisible to preservation.
        let (a, b) = (c.run(&[0, 1, 2], 0.0), bad.run(&[0, 1, 2], 0.0));
        let bound = a
            .logit_error
            .iter()
            .zip(&b.logit_error)
            .map(|(x, y)| x + y)
            .fold(0.0, f64::max);
        assert!((&a.logits - &b.logits).amax() <= bound, "{what}");
    }
}

/// Logits up to one constant per position, probabilities within the softmax's sensitivity.
fn unembed_centering<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let c = center_unembed(&m);
    let a = m.run(&tokens, 0.0);
    let b = c.run(&tokens, transform_rho::<T>());
    informative(&a.logit_error)?;
    informative(&b.logit_error)?;
    for i in 0..tokens.len() {
        let la: Vec<T> = a.logits.row(i).iter().copied().collect();
        let lb: Vec<T> = b.logits.row(i).iter().copied().collect();
        let shift: Vec<f64> = la
            .iter()
            .zip(&lb)
            .map(|(x, y)| x.widen() - y.widen())
            .collect();
        let spread = shift.iter().cloned().fold(f64::MIN, f64::max)
            - shift.iter().cloned().fold(f64::MAX, f64::min);
        let delta = a.logit_error[i] + b.logit_error[i];
        prop_assert!(
            spread <= 2.0 * delta,
            "logit shifts spread by {spread:e} > {:e}",
            2.0 * delta
        );
        // Logits off by ≤ Δ (after the common shift): each probability within a factor e^{±2Δ},
        // plus each softmax's own rounding.
        let (pa, pb) = (softmax(&la), softmax(&lb));
        for (x, y) in pa.iter().zip(&pb) {
            let (x, y) = (x.widen(), y.widen());
            let tol = x.max(y)
                * ((2.0 * delta).exp_m1() + 4.0 * unit_roundoff::<T>() * SOFTMAX_ULPS as f64);
            prop_assert!((x - y).abs() <= tol, "probabilities {x} vs {y}");
        }
    }
    Ok(())
}

fn dla_adds_up<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let run = m.run(&tokens, 0.0);
    let dla = direct_logit_attribution(&m, &run);
    // One term per component written to the stream: embed, pos, every head, b_O, every MLP.
    let heads: usize = m.blocks.iter().map(|b| b.attn.heads.len()).sum();
    prop_assert_eq!(dla.components.len(), 2 + heads + 2 * m.blocks.len());
    let total = dla.total();
    // The cached components sum to the final residual up to the additions' rounding, which
    // `logit_error` already covers; the attribution's own rounding is `dla.error`.
    let e2: Vec<f64> = run.logit_error.iter().map(|e| 2.0 * e).collect();
    agree(&run.logits, &e2, &total, &dla.error)
}

/// The whole default pipeline of an interpretability library, in order.
fn pipeline<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let folded = fold_layernorm(&m);
    // Centering is refused exactly when an RMSNorm reads the stream; the rest of the pipeline
    // still runs then.
    let (centered, stages) = match center_writing_weights(&folded) {
        Ok(c) => (c, 3.0),
        Err(e) => {
            prop_assert!(
                m.norms().iter().any(|(_, n)| n.kind == NormKind::RmsNorm),
                "{e}"
            );
            (folded, 2.0)
        }
    };
    let p = fold_value_biases(&centered);
    // Each stage rounds once more: rho summed over the transforms applied.
    let a = m.run(&tokens, 0.0);
    let b = p.run(&tokens, stages * transform_rho::<T>());
    agree(&a.logits, &a.logit_error, &b.logits, &b.logit_error)
}

/// The logit lens at the last layer is the model's own output.
fn lens_at_last_layer<T: Real>(m: Model<T>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let run = m.run(&tokens, 0.0);
    let lens = logit_lens(&m, run.resid.last().unwrap());
    prop_assert_eq!(lens, run.logits);
    Ok(())
}

/// The tests can fail: a fold that forgets β is caught far outside the bound.
fn forgetting_beta_is_caught<T: Real>(
    m: Model<T>,
    tokens: Vec<usize>,
) -> Result<(), TestCaseError> {
    prop_assert!(
        m.ln_final.beta.is_some(),
        "the strategy gives every LayerNorm a β"
    );
    let mut wrong = fold_layernorm(&m);
    let g = m.ln_final.gamma.as_deref();
    let (w_u, _) = fold_into_linear(g, None, &m.w_u, m.b_u.as_deref());
    wrong.w_u = w_u;
    wrong.b_u = m.b_u.clone();
    let a = m.run(&tokens, 0.0);
    let b = wrong.run(&tokens, transform_rho::<T>());
    informative(&a.logit_error)?;
    informative(&b.logit_error)?;
    let caught = (0..tokens.len()).any(|i| {
        (0..a.logits.ncols()).any(|j| {
            (a.logits[(i, j)].widen() - b.logits[(i, j)].widen()).abs()
                > a.logit_error[i] + b.logit_error[i]
        })
    });
    prop_assert!(caught, "forgetting β moved no logit beyond the bound");
    Ok(())
}

/// Every weight of a model through `f`, ε through `eps` (kept exact: it is not a weight the
/// bounds perturb).
fn map_weights<T: nalgebra::Scalar + Copy, U: nalgebra::Scalar>(
    m: &Model<T>,
    f: &dyn Fn(T) -> U,
    eps: &dyn Fn(T) -> U,
) -> Model<U> {
    let mat = |w: &DMatrix<T>| w.map(f);
    let vec = |v: &[T]| v.iter().map(|&x| f(x)).collect::<Vec<U>>();
    let norm = |n: &Norm<T>| Norm {
        kind: n.kind,
        eps: eps(n.eps),
        gamma: n.gamma.as_deref().map(vec),
        beta: n.beta.as_deref().map(vec),
    };
    Model {
        w_e: mat(&m.w_e),
        w_pos: m.w_pos.as_ref().map(mat),
        blocks: m
            .blocks
            .iter()
            .map(|b| Block {
                ln1: norm(&b.ln1),
                attn: Attention {
                    heads: b
                        .attn
                        .heads
                        .iter()
                        .map(|h| Head {
                            w_q: mat(&h.w_q),
                            b_q: vec(&h.b_q),
                            w_k: mat(&h.w_k),
                            b_k: vec(&h.b_k),
                            w_v: mat(&h.w_v),
                            b_v: vec(&h.b_v),
                            w_o: mat(&h.w_o),
                        })
                        .collect(),
                    b_o: vec(&b.attn.b_o),
                    rope: b.attn.rope,
                    heads_per_kv: b.attn.heads_per_kv,
                },
                ln2: norm(&b.ln2),
                mlp: Mlp {
                    w_in: mat(&b.mlp.w_in),
                    b_in: b.mlp.b_in.as_deref().map(vec),
                    w_gate: b.mlp.w_gate.as_ref().map(mat),
                    b_gate: b.mlp.b_gate.as_deref().map(vec),
                    w_out: mat(&b.mlp.w_out),
                    b_out: b.mlp.b_out.as_deref().map(vec),
                    act: b.mlp.act,
                },
            })
            .collect(),
        ln_final: norm(&m.ln_final),
        w_u: mat(&m.w_u),
        b_u: m.b_u.as_deref().map(vec),
    }
}

/// The same weights in f64 (exactly: every f32 is an f64).
fn widened(m: &Model<f32>) -> Model<f64> {
    map_weights(m, &f64::from, &f64::from)
}

/// A bound that is first order in the unit roundoff scales with it: the f32 bound of a model is
/// about 2²⁹ times the f64 bound of the same weights. Not exactly: the bounds are evaluated at
/// slightly different intermediate values, and the elementary functions' error constants differ
/// between the types (observed ratios 0.85–0.97 × 2²⁹). A factor of 2 either way tells a first-order
/// bound from one that went quadratic (u²) or inverse (1/u). Positions whose f64 bound is at the
/// underflow level (all-zero weights, reached only by shrinking) have no ratio to check.
///
/// A rotary embedding adds a term that is not proportional to u of the type: its angles are
/// computed in f64 for both types, off by up to `(ln base + 4)·p·u₆₄` at position p — the same
/// size in both bounds, a large share of the f64 one. With it, `lower` is 0.1 instead of 0.5.
fn first_order(e32: &[f64], e64: &[f64], lower: f64) -> Result<(), TestCaseError> {
    let ratio = unit_roundoff::<f32>() / unit_roundoff::<f64>();
    for (i, (&a, &b)) in e32.iter().zip(e64).enumerate() {
        if b < 1e-250 && a < 1e-30 {
            continue;
        }
        prop_assert!(
            (lower..2.0).contains(&(a / b / ratio)),
            "position {i}: f32 bound {a:e}, f64 bound {b:e}: ratio {} is not about 2^29",
            a / b
        );
    }
    Ok(())
}

/// The f32 forward pass against the f64 one of the same weights (whose own error is 2⁻²⁹ times
/// smaller): the f32 logits are within the f32 bound of the exact ones, so within the sum of the
/// two bounds of the f64 logits; and the bound is first order in the unit roundoff.
fn forward_f32_within_bound(m: Model<f32>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let (a, b) = (m.run(&tokens, 0.0), widened(&m).run(&tokens, 0.0));
    informative(&a.logit_error)?;
    let rope = m.blocks.iter().any(|b| b.attn.rope.is_some());
    first_order(&a.logit_error, &b.logit_error, if rope { 0.1 } else { 0.5 })?;
    agree(
        &a.logits.map(f64::from),
        &a.logit_error,
        &b.logits,
        &b.logit_error,
    )
}

/// Weights known only to a relative `rho` (`Model::run`'s second argument): every weight moved
/// by exactly ±rho (signs from `seed`) changes the logits by at most the bound computed with
/// `rho`. With rho = 10⁻⁹ ≫ u the weights' terms dominate the bound, so this checks them and
/// their propagation through every later layer (the rounding alone never comes near them).
fn perturbed_weights_within_bound(
    m: Model<f64>,
    tokens: Vec<usize>,
    seed: u64,
) -> Result<(), TestCaseError> {
    let rho = 1e-9;
    let count = std::cell::Cell::new(seed);
    let mut moved = map_weights(
        &m,
        &|w: f64| {
            // splitmix64: one sign per weight.
            let mut z = count.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            count.set(z);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            let sign = if (z ^ (z >> 31)) & 1 == 1 { 1.0 } else { -1.0 };
            w * (1.0 + sign * rho)
        },
        &|eps| eps,
    );
    // A key/value head shared by a group is one weight: moved once, copied to the group.
    for b in &mut moved.blocks {
        let g = b.attn.heads_per_kv;
        for h in (0..b.attn.heads.len()).filter(|h| h % g != 0) {
            let first = b.attn.heads[h - h % g].clone();
            let head = &mut b.attn.heads[h];
            (head.w_k, head.b_k, head.w_v, head.b_v) = (first.w_k, first.b_k, first.w_v, first.b_v);
        }
    }
    // The moved weights are rounded: rho + u from the original's, covered by 2u more.
    let a = m.run(&tokens, rho + 2.0 * unit_roundoff::<f64>());
    let b = moved.run(&tokens, 0.0);
    agree(&a.logits, &a.logit_error, &b.logits, &b.logit_error)
}

/// An independent forward pass in plain f64, written from the formulas of the module docs and
/// sharing nothing with the library but the weights: the transforms are all checked against the
/// library's own forward pass, so a wrong forward pass (a wrong GELU, a mask off by one, a
/// rotation the wrong way) would pass them all. This one would not.
fn naive_logits(m: &Model<f64>, tokens: &[usize]) -> Vec<Vec<f64>> {
    let n = tokens.len();
    let d = m.d_model();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let lin = |v: &[f64], w: &DMatrix<f64>, b: Option<&[f64]>| -> Vec<f64> {
        (0..w.ncols())
            .map(|j| {
                (0..w.nrows()).map(|i| v[i] * w[(i, j)]).sum::<f64>() + b.map_or(0.0, |b| b[j])
            })
            .collect()
    };
    let norm = |nm: &Norm<f64>, v: &[f64]| -> Vec<f64> {
        let len = v.len() as f64;
        let mean = match nm.kind {
            NormKind::LayerNorm => v.iter().sum::<f64>() / len,
            NormKind::RmsNorm => 0.0,
        };
        let c: Vec<f64> = v.iter().map(|a| a - mean).collect();
        let s = (dot(&c, &c) / len + nm.eps).sqrt();
        (0..v.len())
            .map(|i| {
                c[i] / s * nm.gamma.as_ref().map_or(1.0, |g| g[i])
                    + nm.beta.as_ref().map_or(0.0, |b| b[i])
            })
            .collect()
    };
    let rotate = |v: &mut [f64], p: usize, rope: Rope| {
        let w = v.len();
        for i in 0..w / 2 {
            let theta = p as f64 * rope.base.powf(-2.0 * i as f64 / w as f64);
            // Interleaved pairs (2i, 2i+1); Hugging Face's rotate_half pairs (i, i + w/2).
            let (ja, jb) = match rope.style {
                RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                RopeStyle::RotateHalf => (i, i + w / 2),
            };
            let (a, b) = (v[ja], v[jb]);
            v[ja] = a * theta.cos() - b * theta.sin();
            v[jb] = a * theta.sin() + b * theta.cos();
        }
    };
    let mut x: Vec<Vec<f64>> = (0..n)
        .map(|p| {
            (0..d)
                .map(|j| m.w_e[(tokens[p], j)] + m.w_pos.as_ref().map_or(0.0, |w| w[(p, j)]))
                .collect()
        })
        .collect();
    for blk in &m.blocks {
        let h: Vec<Vec<f64>> = x.iter().map(|r| norm(&blk.ln1, r)).collect();
        let mut attn = vec![blk.attn.b_o.clone(); n];
        for head in &blk.attn.heads {
            let proj = |w: &DMatrix<f64>, b: &[f64]| -> Vec<Vec<f64>> {
                h.iter().map(|r| lin(r, w, Some(b))).collect()
            };
            let (mut q, mut k, v) = (
                proj(&head.w_q, &head.b_q),
                proj(&head.w_k, &head.b_k),
                proj(&head.w_v, &head.b_v),
            );
            if let Some(r) = blk.attn.rope {
                for p in 0..n {
                    rotate(&mut q[p], p, r);
                    rotate(&mut k[p], p, r);
                }
            }
            let width = (head.w_q.ncols() as f64).sqrt();
            for i in 0..n {
                // Causal: query i sees keys 0..=i.
                let scores: Vec<f64> = (0..=i).map(|j| dot(&q[i], &k[j]) / width).collect();
                let top = scores.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                let e: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
                let total: f64 = e.iter().sum();
                let z: Vec<f64> = (0..head.w_v.ncols())
                    .map(|c| (0..=i).map(|j| e[j] / total * v[j][c]).sum())
                    .collect();
                for (a, o) in attn[i].iter_mut().zip(lin(&z, &head.w_o, None)) {
                    *a += o;
                }
            }
        }
        for (xi, ai) in x.iter_mut().zip(&attn) {
            for (a, b) in xi.iter_mut().zip(ai) {
                *a += b;
            }
        }
        for xi in &mut x {
            let hn = norm(&blk.ln2, xi);
            let pre = lin(&hn, &blk.mlp.w_in, blk.mlp.b_in.as_deref());
            let act = |a: f64| match blk.mlp.act {
                Activation::Relu => a.max(0.0),
                Activation::Gelu => 0.5 * a * (1.0 + libm::erf(a / std::f64::consts::SQRT_2)),
                Activation::GeluTanh => {
                    let c = (2.0 / std::f64::consts::PI).sqrt();
                    0.5 * a * (1.0 + (c * (a + 0.044715 * a.powi(3))).tanh())
                }
                Activation::Silu => a / (1.0 + (-a).exp()),
            };
            let post: Vec<f64> = match &blk.mlp.w_gate {
                None => pre.iter().map(|&a| act(a)).collect(),
                Some(wg) => lin(&hn, wg, blk.mlp.b_gate.as_deref())
                    .iter()
                    .zip(&pre)
                    .map(|(&g, &a)| act(g) * a)
                    .collect(),
            };
            for (a, o) in xi
                .iter_mut()
                .zip(lin(&post, &blk.mlp.w_out, blk.mlp.b_out.as_deref()))
            {
                *a += o;
            }
        }
    }
    x.iter()
        .map(|r| lin(&norm(&m.ln_final, r), &m.w_u, m.b_u.as_deref()))
        .collect()
}

/// The f32 forward pass of models of 1–6 blocks against the naive f64 one: within the f32
/// bound ([`Model::run_with_bound`]). The reference's own error (plain f64 sums of a few dozen
/// terms, ≈ 2⁻²⁹ of the f32 rounding times the sums' lengths) is far below the 10⁻³ of the
/// bound allowed for it.
fn forward_matches_reference(m: Model<f32>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let run = m.run_with_bound(&tokens);
    let reference = naive_logits(&widened(&m), &tokens);
    for (i, row) in reference.iter().enumerate() {
        for (j, &r) in row.iter().enumerate() {
            let diff = (f64::from(run.logits[(i, j)]) - r).abs();
            prop_assert!(
                diff <= run.bound[i] * (1.0 + 1e-3),
                "position {i}, logit {j}: {} vs the reference {r}: {diff:e} > {:e}",
                run.logits[(i, j)],
                run.bound[i]
            );
        }
    }
    Ok(())
}

/// The attribution's own rounding (`Attribution::error`), isolated: the f32 attribution of the
/// f32 run's cached components against the f64 attribution of the same components (widened
/// exactly), which is the exact attribution up to the f64 bound.
fn dla_rounding_within_bound(m: Model<f32>, tokens: Vec<usize>) -> Result<(), TestCaseError> {
    let run = m.run(&tokens, 0.0);
    let dla = direct_logit_attribution(&m, &run);
    let run64 = Run {
        resid: run.resid.iter().map(|r| r.map(f64::from)).collect(),
        components: (run.components.iter())
            .map(|(name, c)| (name.clone(), c.map(f64::from)))
            .collect(),
        patterns: Vec::new(),
        final_scale: run.final_scale.clone(),
        logits: run.logits.map(f64::from),
        logit_error: run.logit_error.clone(),
    };
    let dla64 = direct_logit_attribution(&widened(&m), &run64);
    first_order(&dla.error, &dla64.error, 0.5)?;
    agree(
        &dla.total().map(f64::from),
        &dla.error,
        &dla64.total(),
        &dla64.error,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_global_rejects: MAX_UNINFORMATIVE,
        ..ProptestConfig::default()
    })]
    #[test]
    fn fold_layernorm_preserves_logits_f32((m, t) in case::<f32>()) { fold_ln_preserves(m, t)?; }
    #[test]
    fn fold_layernorm_preserves_logits_f64((m, t) in case::<f64>()) { fold_ln_preserves(m, t)?; }
    #[test]
    fn fold_value_biases_preserves_logits_f32((m, t) in case::<f32>()) { value_biases_preserve(m, t)?; }
    #[test]
    fn fold_value_biases_preserves_logits_f64((m, t) in case::<f64>()) { value_biases_preserve(m, t)?; }
    #[test]
    fn center_writing_weights_preserves_or_refuses_f32((m, t) in case::<f32>()) { writing_weights(m, t)?; }
    #[test]
    fn center_writing_weights_preserves_or_refuses_f64((m, t) in case::<f64>()) { writing_weights(m, t)?; }
    #[test]
    fn center_unembed_preserves_probabilities_f32((m, t) in case::<f32>()) { unembed_centering(m, t)?; }
    #[test]
    fn center_unembed_preserves_probabilities_f64((m, t) in case::<f64>()) { unembed_centering(m, t)?; }
    #[test]
    fn direct_logit_attribution_adds_up_f32((m, t) in case::<f32>()) { dla_adds_up(m, t)?; }
    #[test]
    fn direct_logit_attribution_adds_up_f64((m, t) in case::<f64>()) { dla_adds_up(m, t)?; }
    #[test]
    fn processing_pipeline_preserves_logits_f32((m, t) in case::<f32>()) { pipeline(m, t)?; }
    #[test]
    fn processing_pipeline_preserves_logits_f64((m, t) in case::<f64>()) { pipeline(m, t)?; }
    #[test]
    fn logit_lens_at_last_layer_is_the_output_f32((m, t) in case::<f32>()) { lens_at_last_layer(m, t)?; }
    #[test]
    fn logit_lens_at_last_layer_is_the_output_f64((m, t) in case::<f64>()) { lens_at_last_layer(m, t)?; }
    #[test]
    fn a_fold_that_forgets_beta_is_caught_f32((m, t) in case_with_beta::<f32>()) { forgetting_beta_is_caught(m, t)?; }
    #[test]
    fn a_fold_that_forgets_beta_is_caught_f64((m, t) in case_with_beta::<f64>()) { forgetting_beta_is_caught(m, t)?; }
    #[test]
    fn forward_f32_is_within_its_bound_of_f64((m, t) in case::<f32>()) { forward_f32_within_bound(m, t)?; }
    /// The worst-case bound compounds per block (and with ρ): one or two blocks.
    #[test]
    fn perturbed_weights_are_within_the_rho_bound(
        (m, t) in config(2).prop_flat_map(|cfg| (model::<f64>(cfg), proptest::collection::vec(0usize..4, 1..=5))),
        seed in any::<u64>(),
    ) {
        perturbed_weights_within_bound(m, t, seed)?;
    }
    #[test]
    fn forward_matches_a_naive_reference((m, t) in config(6).prop_flat_map(|cfg| (model::<f32>(cfg), proptest::collection::vec(0usize..4, 1..=5)))) {
        forward_matches_reference(m, t)?;
    }
    #[test]
    fn attribution_rounding_is_within_its_bound((m, t) in case::<f32>()) { dla_rounding_within_bound(m, t)?; }
}

/// Centering the writing weights of an RMSNorm model (forcing it) changes the logits beyond the
/// bound: the refusal guards a real failure.
#[test]
fn forced_centering_under_rmsnorm_changes_logits() {
    let cfg = ModelConfig {
        norm: NormKind::RmsNorm,
        ..ModelConfig::default()
    };
    let m = transformer_laws::strategies::sample(model::<f64>(cfg));
    let forced = center_writing_weights_unchecked(&m);
    let a = m.run(&[0, 1, 2], 0.0);
    let b = forced.run(&[0, 1, 2], transform_rho::<f64>());
    let gap = (&a.logits - &b.logits).amax();
    let bound = a
        .logit_error
        .iter()
        .chain(&b.logit_error)
        .cloned()
        .fold(0.0, f64::max);
    assert!(gap > 1e6 * bound, "gap {gap:e}, bound {bound:e}");
}

/// A fully masked query attends to nothing: a zero pattern row and a zero output.
#[test]
fn fully_masked_row_attends_to_nothing() {
    let q = DMatrix::from_row_slice(2, 2, &[1.0f32, 0.0, 0.0, 1.0]);
    let v = DMatrix::from_row_slice(2, 1, &[5.0f32, 7.0]);
    let mask = Mask::Custom(DMatrix::from_row_slice(2, 2, &[false, false, true, true]));
    let (out, p) = attention(&q, &q, &v, &mask);
    assert_eq!(p.row(0).iter().copied().collect::<Vec<_>>(), vec![0.0, 0.0]);
    assert_eq!(out[(0, 0)], 0.0);
    assert!((p.row(1).sum() - 1.0).abs() <= f32::EPSILON);
    // Without a mask every row sums to 1; under the causal mask row 0 sees only itself.
    let (_, p) = attention(&q, &q, &v, &Mask::Causal);
    assert_eq!(p[(0, 0)], 1.0);
    assert_eq!(p[(0, 1)], 0.0);
}

#[test]
#[should_panic(expected = "blocks[0].attn.heads[0].w_o: expected shape 4×8, got 4×7")]
fn a_misshapen_model_names_the_weight() {
    let mut m = transformer_laws::strategies::tiny_model::<f64>();
    m.blocks[0].attn.heads[0].w_o = DMatrix::zeros(4, 7);
    m.forward(&[0]);
}

#[test]
fn a_misshapen_model_is_reported_by_validate() {
    let mut m = transformer_laws::strategies::tiny_model::<f32>();
    m.b_u = Some(vec![0.0; 2]);
    assert_eq!(
        m.validate(),
        Err("b_u: expected length 6, got 2".to_string())
    );
}

fn r(p: i64, q: i64) -> BigRational {
    BigRational::new(BigInt::from(p), BigInt::from(q))
}

/// On rationals the fold is an identity, not an approximation.
#[test]
fn fold_into_linear_is_exact_on_rationals() {
    let gamma = [r(1, 2), r(3, 1), r(-2, 3)];
    let beta = [r(1, 1), r(0, 1), r(-5, 7)];
    let w = DMatrix::from_row_slice(
        3,
        2,
        &[r(1, 1), r(2, 1), r(-1, 3), r(4, 1), r(0, 1), r(1, 5)],
    );
    let b = [r(7, 2), r(-1, 1)];
    let (w2, b2) = fold_into_linear(Some(&gamma), Some(&beta), &w, Some(&b));
    for n in [[r(1, 1), r(-1, 1), r(0, 1)], [r(2, 3), r(5, 1), r(-7, 11)]] {
        for j in 0..2 {
            let y: Vec<BigRational> = (0..3)
                .map(|i| gamma[i].clone() * n[i].clone() + beta[i].clone())
                .collect();
            let col: Vec<BigRational> = w.column(j).iter().cloned().collect();
            let col2: Vec<BigRational> = w2.column(j).iter().cloned().collect();
            let lhs = BigRational::dot_kernel(&y, &col) + b[j].clone();
            let rhs = BigRational::dot_kernel(&n, &col2) + b2[j].clone();
            assert_eq!(lhs, rhs);
        }
    }
}

/// On rationals, centering the unembedding shifts every logit of a position by the same
/// amount, exactly.
#[test]
fn center_unembed_is_a_common_shift_on_rationals() {
    let mut m: Model<BigRational> = Model {
        w_e: DMatrix::from_element(1, 2, r(0, 1)),
        w_pos: None,
        blocks: vec![],
        ln_final: transformer_laws::transformer::Norm {
            kind: NormKind::LayerNorm,
            eps: r(0, 1),
            gamma: None,
            beta: None,
        },
        w_u: DMatrix::from_row_slice(
            2,
            3,
            &[r(1, 1), r(2, 1), r(-4, 1), r(1, 3), r(0, 1), r(5, 2)],
        ),
        b_u: Some(vec![r(1, 1), r(-1, 2), r(0, 1)]),
    };
    let c = center_unembed(&m);
    for x in [[r(1, 1), r(0, 1)], [r(-3, 2), r(7, 5)]] {
        let logits = |m: &Model<BigRational>| -> Vec<BigRational> {
            (0..3)
                .map(|j| {
                    let col: Vec<BigRational> = m.w_u.column(j).iter().cloned().collect();
                    BigRational::dot_kernel(&x, &col) + m.b_u.as_ref().unwrap()[j].clone()
                })
                .collect()
        };
        let (a, b) = (logits(&m), logits(&c));
        let shift = a[0].clone() - b[0].clone();
        assert!(
            a.iter()
                .zip(&b)
                .all(|(p, q)| p.clone() - q.clone() == shift)
        );
        // And the centered logits sum to zero: the shift is the mean logit.
        let sum = b.iter().cloned().fold(r(0, 1), |s, v| s + v);
        assert_eq!(sum, r(0, 1));
    }
    m.b_u = None;
    assert!(center_unembed(&m).b_u.is_none());
}

/// The bound of a typical model is far below its logits, in both types, for every kind of
/// block (the property tests set uninformative cases aside, so a bound inflated into
/// uselessness would only show up here).
#[test]
fn the_bound_is_informative_for_a_typical_model() {
    let kinds = [
        ModelConfig::default(),
        ModelConfig {
            rope: Some(Rope::interleaved(10_000.0)),
            ..ModelConfig::default()
        },
        ModelConfig {
            norm: NormKind::RmsNorm,
            act: Activation::Relu,
            biases: false,
            ..ModelConfig::default()
        },
    ];
    for cfg in kinds {
        let m32 =
            transformer_laws::strategies::sample(model::<f32>(ModelConfig { layers: 1, ..cfg }));
        let m64 = transformer_laws::strategies::sample(model::<f64>(cfg));
        let e32 = m32.run(&[0, 1, 2, 3], 0.0).logit_error;
        let e64 = m64.run(&[0, 1, 2, 3], 0.0).logit_error;
        assert!(e32.iter().all(|&e| e > 0.0 && e < 1e-2), "{cfg:?}: {e32:?}");
        assert!(e64.iter().all(|&e| e > 0.0 && e < 1e-8), "{cfg:?}: {e64:?}");
    }
}

/// A LayerNorm with β folded into a map that had no bias: the fold must create the bias
/// (random models always pair β with biases, so only this test reaches that branch).
#[test]
fn folding_beta_into_a_map_without_bias_creates_the_bias() {
    let mut m = transformer_laws::strategies::tiny_model::<f64>();
    for b in &mut m.blocks {
        b.mlp.b_in = None;
    }
    m.b_u = None;
    let folded = fold_layernorm(&m);
    assert!(folded.b_u.is_some() && folded.blocks.iter().all(|b| b.mlp.b_in.is_some()));
    let tokens = [0, 1, 2, 3];
    let (a, b) = (
        m.run(&tokens, 0.0),
        folded.run(&tokens, transform_rho::<f64>()),
    );
    for i in 0..tokens.len() {
        let gap = (0..m.vocab())
            .map(|j| (a.logits[(i, j)] - b.logits[(i, j)]).abs())
            .fold(0.0, f64::max);
        assert!(
            gap <= a.logit_error[i] + b.logit_error[i],
            "position {i}: {gap:e}"
        );
    }
}

#[test]
fn the_refusal_names_the_rmsnorm() {
    let mut m = transformer_laws::strategies::tiny_model::<f32>();
    m.blocks[1].ln2.kind = NormKind::RmsNorm;
    m.blocks[1].ln2.beta = None;
    let e = center_writing_weights(&m).unwrap_err();
    assert_eq!(e, ProcessError::RmsNormReader("blocks[1].ln2".into()));
    assert!(
        e.to_string()
            .starts_with("center_writing_weights: blocks[1].ln2 is an RMSNorm"),
        "{e}"
    );
}

/// Every weight of the model, misshapen in turn: `validate` names it (and the shapes), and a
/// well-shaped model passes.
#[test]
fn validate_names_every_misshapen_weight() {
    type Break = fn(&mut Model<f64>);
    let cases: Vec<(Break, &str)> = vec![
        (
            |m| m.w_pos = Some(DMatrix::zeros(6, 3)),
            "w_pos: expected shape 6×8, got 6×3",
        ),
        (
            |m| m.blocks[0].ln1.gamma = Some(vec![1.0; 3]),
            "blocks[0].ln1.gamma: expected length 8, got 3",
        ),
        (
            |m| m.blocks[1].ln2.beta = Some(vec![0.0; 3]),
            "blocks[1].ln2.beta: expected length 8, got 3",
        ),
        (
            |m| m.blocks[1].ln2.kind = NormKind::RmsNorm,
            "blocks[1].ln2: RMSNorm has no beta",
        ),
        (
            |m| m.blocks[0].attn.b_o = vec![0.0; 2],
            "blocks[0].attn.b_o: expected length 8, got 2",
        ),
        (
            |m| m.blocks[0].attn.heads[1].w_q = DMatrix::zeros(3, 4),
            "blocks[0].attn.heads[1].w_q: expected shape 8×4, got 3×4",
        ),
        (
            |m| m.blocks[0].attn.heads[0].w_k = DMatrix::zeros(8, 3),
            "blocks[0].attn.heads[0].w_k: expected shape 8×4, got 8×3",
        ),
        (
            |m| m.blocks[0].attn.heads[0].w_v = DMatrix::zeros(7, 4),
            "blocks[0].attn.heads[0].w_v: expected shape 8×4, got 7×4",
        ),
        (
            |m| m.blocks[0].attn.heads[0].w_o = DMatrix::zeros(4, 7),
            "blocks[0].attn.heads[0].w_o: expected shape 4×8, got 4×7",
        ),
        (
            |m| m.blocks[0].attn.heads[0].b_q = vec![0.0; 1],
            "blocks[0].attn.heads[0].b_q: expected length 4, got 1",
        ),
        (
            |m| m.blocks[0].attn.heads[0].b_k = vec![0.0; 1],
            "blocks[0].attn.heads[0].b_k: expected length 4, got 1",
        ),
        (
            |m| m.blocks[0].attn.heads[0].b_v = vec![0.0; 1],
            "blocks[0].attn.heads[0].b_v: expected length 4, got 1",
        ),
        (
            |m| {
                let h = &mut m.blocks[0].attn.heads[0];
                h.w_q = DMatrix::zeros(8, 3);
                h.w_k = DMatrix::zeros(8, 3);
                h.b_q = vec![0.0; 3];
                h.b_k = vec![0.0; 3];
                m.blocks[0].attn.rope = Some(Rope::interleaved(10_000.0));
            },
            "blocks[0].attn.heads[0]: rotary embedding needs an even d_head, got 3",
        ),
        (
            |m| m.blocks[1].mlp.w_in = DMatrix::zeros(7, 16),
            "blocks[1].mlp.w_in: expected shape 8×16, got 7×16",
        ),
        (
            |m| m.blocks[1].mlp.w_out = DMatrix::zeros(16, 7),
            "blocks[1].mlp.w_out: expected shape 16×8, got 16×7",
        ),
        (
            |m| m.blocks[1].mlp.b_in = Some(vec![0.0; 2]),
            "blocks[1].mlp.b_in: expected length 16, got 2",
        ),
        (
            |m| m.blocks[1].mlp.b_out = Some(vec![0.0; 2]),
            "blocks[1].mlp.b_out: expected length 8, got 2",
        ),
        (
            |m| m.ln_final.gamma = Some(vec![1.0; 2]),
            "ln_final.gamma: expected length 8, got 2",
        ),
        (
            |m| m.w_u = DMatrix::zeros(7, 6),
            "w_u: expected shape 8×6, got 7×6",
        ),
        (
            |m| m.b_u = Some(vec![0.0; 2]),
            "b_u: expected length 6, got 2",
        ),
    ];
    let good = transformer_laws::strategies::tiny_model::<f64>();
    assert_eq!(good.validate(), Ok(()));
    for (breaks, message) in cases {
        let mut m = good.clone();
        breaks(&mut m);
        assert_eq!(m.validate(), Err(message.to_string()));
    }
}

/// Embeddings known to a relative ρ move the residual stream by up to ρ·‖x‖₂, not ρ·max|xⱼ|.
/// Entries 1000 ± 1 in 64 dimensions (a LayerNorm scale of 1 under a mean of 1000), each moved
/// by ρ along a ±1 pattern orthogonal to 1 and to the deviations (so that the final LayerNorm
/// passes the move on whole): the logits move by ≈ 8000ρ, which a bound built on max|xⱼ|
/// (1000ρ) missed. The same again with the 1000 split between the token and the positional
/// embedding (both moved): their errors add.
#[test]
fn the_embeddings_rho_is_a_2_norm() {
    let d = 64;
    let rho = 1e-6;
    let sigma: Vec<f64> = (0..d).map(|j| if j % 4 < 2 { 1.0 } else { -1.0 }).collect();
    let pattern = |mean: f64, dev: f64| -> Vec<f64> {
        (0..d)
            .map(|j| if j % 2 == 0 { mean + dev } else { mean - dev })
            .collect()
    };
    let moved = |x: &[f64]| -> Vec<f64> { (0..d).map(|j| x[j] * (1.0 + rho * sigma[j])).collect() };
    let model = |w_e: &[f64], w_pos: Option<&[f64]>| Model {
        w_e: DMatrix::from_row_slice(1, d, w_e),
        w_pos: w_pos.map(|p| DMatrix::from_row_slice(1, d, p)),
        blocks: vec![],
        ln_final: Norm {
            kind: NormKind::LayerNorm,
            eps: 0.0,
            gamma: None,
            beta: None,
        },
        w_u: DMatrix::identity(d, d),
        b_u: None,
    };
    let (whole, token, position) = (
        pattern(1000.0, 1.0),
        pattern(500.0, 1.0),
        pattern(500.0, 0.0),
    );
    let cases = [
        (model(&whole, None), model(&moved(&whole), None)),
        (
            model(&token, Some(&position)),
            model(&moved(&token), Some(&moved(&position))),
        ),
    ];
    for (original, perturbed) in cases {
        let a = original.run(&[0], rho);
        let b = perturbed.run(&[0], 0.0);
        let gap = logit_gap(&a, &b);
        assert!(gap > 7900.0 * rho, "{gap:e}");
        assert!(
            gap <= a.logit_error[0] + b.logit_error[0],
            "the logits moved by {gap:e}, beyond the bound {:e}",
            a.logit_error[0] + b.logit_error[0]
        );
    }
}

/// Every weight of a model, in a fixed order (absent biases and norm parameters skipped).
fn all_weights<T: nalgebra::Scalar + Clone>(m: &Model<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut mat = |w: &DMatrix<T>| out.extend(w.iter().cloned());
    mat(&m.w_e);
    if let Some(p) = &m.w_pos {
        mat(p);
    }
    for b in &m.blocks {
        for h in &b.attn.heads {
            for w in [&h.w_q, &h.w_k, &h.w_v, &h.w_o] {
                mat(w);
            }
        }
        mat(&b.mlp.w_in);
        mat(&b.mlp.w_out);
    }
    mat(&m.w_u);
    let mut vecs: Vec<&[T]> = Vec::new();
    for b in &m.blocks {
        for n in [&b.ln1, &b.ln2] {
            vecs.extend(n.gamma.as_deref());
            vecs.extend(n.beta.as_deref());
        }
        for h in &b.attn.heads {
            vecs.extend([&h.b_q[..], &h.b_k[..], &h.b_v[..]]);
        }
        vecs.push(&b.attn.b_o);
        vecs.extend(b.mlp.b_in.as_deref());
        vecs.extend(b.mlp.b_out.as_deref());
    }
    vecs.extend(m.ln_final.gamma.as_deref());
    vecs.extend(m.ln_final.beta.as_deref());
    vecs.extend(m.b_u.as_deref());
    for v in vecs {
        out.extend(v.iter().cloned());
    }
    out
}

/// `transform_rho` is what the transforms deliver: every weight an f32 transform produces is
/// within 2u (relative) of the exact transform of the same weights, computed in rationals —
/// and the bound is not vacuous: some weight is off by more than u/8.
fn transforms_within_rho(m: Model<f32>) -> Result<(), TestCaseError> {
    let to_rational = |w: f32| BigRational::from_float(w).expect("finite weights");
    let exact_model = map_weights(&m, &to_rational, &to_rational);
    let rho = BigRational::from_float(transform_rho::<f32>()).expect("finite");
    let mut worst = 0.0f64;
    type Transform<T> = fn(&Model<T>) -> Model<T>;
    let pairs: [(Transform<f32>, Transform<BigRational>); 3] = [
        (fold_layernorm, fold_layernorm),
        (center_unembed, center_unembed),
        (fold_value_biases, fold_value_biases),
    ];
    for (f32_transform, exact_transform) in pairs {
        let got = all_weights(&map_weights(&f32_transform(&m), &to_rational, &to_rational));
        let exact = all_weights(&exact_transform(&exact_model));
        prop_assert_eq!(got.len(), exact.len());
        for (g, e) in got.iter().zip(&exact) {
            let err = (g - e).abs();
            prop_assert!(err <= &rho * e.abs(), "{g} vs the exact {e}");
            if !e.is_zero() {
                worst = worst.max((err / e.abs()).to_f64().unwrap_or(0.0));
            }
        }
    }
    prop_assert!(
        worst > unit_roundoff::<f32>() / 8.0,
        "worst relative error {worst:e}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn transforms_are_within_transform_rho(m in config(2).prop_flat_map(model::<f32>)) {
        transforms_within_rho(m)?;
    }
}

/// The rotary embedding against its formula: pair i of the row at position p turns by
/// p·base^(−2i/w) — at p = 0 nothing moves, at p = 1 the first pair turns by 1 radian.
#[test]
fn rope_turns_each_pair_by_its_angle() {
    let base: f64 = 10_000.0;
    let x = DMatrix::from_fn(3, 4, |p, j| (p * 4 + j + 1) as f64);
    let out = apply_rope(&x, Rope::interleaved(base));
    for p in 0..3 {
        for i in 0..2 {
            let theta = p as f64 * base.powf(-(2.0 * i as f64) / 4.0);
            let (a, b) = (x[(p, 2 * i)], x[(p, 2 * i + 1)]);
            let want = [
                a * theta.cos() - b * theta.sin(),
                a * theta.sin() + b * theta.cos(),
            ];
            for (k, w) in want.iter().enumerate() {
                let got = out[(p, 2 * i + k)];
                assert!(
                    (got - w).abs() <= 4.0 * f64::EPSILON * w.abs().max(1.0),
                    "p {p}, pair {i}: {got} vs {w}"
                );
            }
        }
    }
    assert_eq!(out.row(0), x.row(0));
    // 1 radian at p = 1 for the first pair: (5, 6) → (5cos1 − 6sin1, 5sin1 + 6cos1).
    assert!((out[(1, 0)] - (5.0 * 1f64.cos() - 6.0 * 1f64.sin())).abs() < 1e-14);
}

/// A one-block model of width `d`, one position, every weight zero but the embedding and what
/// `set` writes; LayerNorms without γ, β or ε; `W_U = I`. Each test below makes one term of the
/// bound dominate and then attains it.
fn bare<T: Real>(d: usize, embed: &[T], set: impl Fn(&mut Model<T>)) -> Model<T> {
    let z = |r, c| DMatrix::from_element(r, c, T::zero());
    let ln = || Norm {
        kind: NormKind::LayerNorm,
        eps: T::zero(),
        gamma: None,
        beta: None,
    };
    let mut m = Model {
        w_e: DMatrix::from_row_slice(1, d, embed),
        w_pos: None,
        blocks: vec![Block {
            ln1: ln(),
            attn: Attention {
                heads: vec![Head {
                    w_q: z(d, 1),
                    b_q: vec![T::zero()],
                    w_k: z(d, 1),
                    b_k: vec![T::zero()],
                    w_v: z(d, 1),
                    b_v: vec![T::zero()],
                    w_o: z(1, d),
                }],
                b_o: vec![T::zero(); d],
                rope: None,
                heads_per_kv: 1,
            },
            ln2: ln(),
            mlp: Mlp {
                w_in: z(d, 1),
                b_in: None,
                w_gate: None,
                b_gate: None,
                w_out: z(1, d),
                b_out: None,
                act: Activation::Relu,
            },
        }],
        ln_final: ln(),
        w_u: DMatrix::identity(d, d),
        b_u: None,
    };
    set(&mut m);
    m
}

/// `‖logits(a) − logits(b)‖₂` at the one position.
fn logit_gap<A: Real, B: Real>(a: &Run<A>, b: &Run<B>) -> f64 {
    (0..a.logits.ncols())
        .map(|j| (a.logits[(0, j)].widen() - b.logits[(0, j)].widen()).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Each branch of a block, in turn, writes 1000·1 (which the final LayerNorm removes) on top
/// of a ±1 stream; the weight that writes it is moved by ρ along a ±1 pattern σ orthogonal to
/// 1 and to the stream, which the final LayerNorm passes on whole: the logits move by
/// ρ·‖1000·1‖ = 8000ρ. The bound must cover that, and not by much: that pins how the block adds
/// up the branches' errors (b_O's ρ term, each head's bound, the MLP's bound).
#[test]
fn each_branch_error_reaches_the_logits() {
    let d = 64;
    let rho = 1e-6;
    let stream: Vec<f64> = (0..d)
        .map(|j| if j % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let sigma: Vec<f64> = (0..d).map(|j| if j % 4 < 2 { 1.0 } else { -1.0 }).collect();
    let big = vec![1000.0; d];
    let moved: Vec<f64> = (0..d).map(|j| 1000.0 * (1.0 + rho * sigma[j])).collect();
    type Set = Box<dyn Fn(&mut Model<f64>, &[f64])>;
    let branches: [(&str, Set, f64); 3] = [
        (
            "b_O",
            Box::new(|m, w| m.blocks[0].attn.b_o = w.to_vec()),
            0.95,
        ),
        (
            "the head",
            Box::new(|m, w| {
                let h = &mut m.blocks[0].attn.heads[0];
                h.b_v = vec![1.0];
                h.w_o = DMatrix::from_row_slice(1, w.len(), w);
            }),
            // The value bias's own ρ moves the output along 1 (removed): half the bound.
            0.45,
        ),
        (
            "the MLP",
            Box::new(|m, w| m.blocks[0].mlp.b_out = Some(w.to_vec())),
            0.95,
        ),
    ];
    for (name, set, share) in branches {
        let a = bare(d, &stream, |m| set(m, &big)).run(&[0], rho);
        let b = bare(d, &stream, |m| set(m, &moved)).run(&[0], 0.0);
        let gap = logit_gap(&a, &b);
        let bound = a.logit_error[0] + b.logit_error[0];
        assert!(gap > 7900.0 * rho, "{name}: {gap:e}");
        assert!(
            gap <= bound,
            "{name}: the logits moved by {gap:e}, beyond {bound:e}"
        );
        assert!(
            gap >= share * bound,
            "{name}: {gap:e} is under {share} of {bound:e}"
        );
    }
}

/// One block in d = 8 whose stream 2²³ + (0, 101, 303, 404, …) meets 0.5 from b_O: a tie at
/// every entry of the residual addition, rounded to even.
fn tie_rounding_model() -> Model<f32> {
    let d = 8;
    let offsets = [0.0, 101.0, 303.0, 404.0, 0.0, 101.0, 303.0, 404.0];
    let stream: Vec<f32> = offsets.iter().map(|a| 8_388_608.0 + a).collect();
    bare(d, &stream, |m| m.blocks[0].attn.b_o = vec![0.5; d])
}

/// The rounding of the residual additions, attained in f32: a stream 2²³ + (0, 101, 303, 404, …)
/// plus 0.5 from b_O is a tie at every entry, rounded to even — down where the entry is even, up
/// where it is odd: an error of exactly u·|xⱼ| = ½ each, in a pattern orthogonal to 1 and to the
/// stream's deviations, which the final LayerNorm passes on whole. The bound charges u‖x‖ at
/// both additions (the MLP's adds 0, exactly): the error reaches half of it (less the bound's
/// second-order allowance 1/(1 − 2e/s) ≈ 1.04).
#[test]
fn residual_rounding_reaches_the_logits() {
    let m = tie_rounding_model();
    let a = m.run(&[0], 0.0);
    let b = widened(&m).run(&[0], 0.0);
    let gap = logit_gap(&a, &b);
    // ‖½·(−1, 1, 1, −1, …)‖ = √2 over the stream's scale ≈ √25502 (to first order).
    assert!(
        (gap / (2.0f64 / 25_502.0).sqrt() - 1.0).abs() < 1e-3,
        "{gap}"
    );
    let bound = a.logit_error[0] + b.logit_error[0];
    assert!(
        gap <= bound && gap >= 0.45 * bound,
        "{gap:e} against {bound:e}"
    );
}
