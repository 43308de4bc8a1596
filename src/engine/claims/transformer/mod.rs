//! Claims about transformer weight processing and attention (section "Transformer weight
//! processing", and the invariances interpretability tools rely on).
//!
//! The polynomial parts are checked exactly on rationals with the library's own transforms
//! ([`crate::transformer::process`]); a norm's output is compared exactly through its squares
//! and signs (`yᵢ² = (xᵢ − μ)²/(σ² + ε)` is rational). What needs `exp`, `sqrt` or `cos` is
//! judged in f64 with a margin far above the rounding bound.

mod attention_key_bias;
mod center_unembed;
mod center_writing_weights;
mod direct_logit_attribution;
mod fold_layernorm;
mod fold_value_biases;
mod logit_lens_scale;
mod qk_refactor_under_rope;

pub use attention_key_bias::{key_bias_bound, key_bias_patterns};
pub use center_writing_weights::writing_perturbation_bound;

use super::*;
use crate::engine::strategies::FloatStrategies;
use crate::kernels::geometry::dot;
use crate::kernels::norms::layer_norm;
use crate::kernels::softmax::softmax;
use crate::kernels::tolerance::{
    NORM_LAYER_ULPS, SOFTMAX_ULPS, compensated_dot_bound, relative, ulp, unit_roundoff,
};
use crate::kernels::unembed::logits;
use crate::transformer::process::{center_unembed, fold_into_linear};
use crate::transformer::{Model, Norm, NormKind, Rope, apply_rope};
use nalgebra::DMatrix;
use num_traits::{Signed, Zero};

/// The unembedding `d × V` whose columns are the case's tokens.
fn token_matrix<T: nalgebra::Scalar>(c: &Case, conv: impl Fn(f64) -> T) -> DMatrix<T> {
    let toks = c.tokens();
    DMatrix::from_fn(c.dim(), toks.len(), |i, j| conv(toks[j][i]))
}

/// A LayerNorm (`center = true`) or RMSNorm output, exactly: each entry as its sign and square
/// (`yᵢ² = vᵢ²/(mean(v²) + ε)`, `v` the centered or raw input). `None` when the denominator is
/// 0 (a constant row with ε = 0: 0/0, which the crate's policy maps to 0 and no check relies on).
fn norm_exact(
    x: &[BigRational],
    eps: &BigRational,
    center: bool,
) -> Option<Vec<(i8, BigRational)>> {
    let d = BigRational::from_integer(BigInt::from(x.len()));
    let v: Vec<BigRational> = if center {
        let mu = x.iter().cloned().fold(BigRational::zero(), |a, b| a + b) / d.clone();
        x.iter().map(|e| e - &mu).collect()
    } else {
        x.to_vec()
    };
    let m2 = v
        .iter()
        .map(|e| e * e)
        .fold(BigRational::zero(), |a, b| a + b)
        / d;
    let den = m2 + eps;
    if den.is_zero() {
        return None;
    }
    Some(v.iter().map(|e| (sign(e), e * e / &den)).collect())
}

fn show_exact(v: &[(i8, BigRational)]) -> String {
    let root = |q: &BigRational| -> String {
        let (n, d) = (q.numer().sqrt(), q.denom().sqrt());
        if &(&n * &n) == q.numer() && &(&d * &d) == q.denom() {
            BigRational::new(n, d).to_string()
        } else {
            format!("√({q})")
        }
    };
    let parts: Vec<String> = v
        .iter()
        .map(|(s, q)| match s {
            0 => "0".to_string(),
            1 => root(q),
            _ => format!("−{}", root(q)),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn sum_rows(toks: &[&[f64]], d: usize) -> Vec<f64> {
    (0..d).map(|i| toks.iter().map(|t| t[i]).sum()).collect()
}

/// Lattice cases: the fixed vectors `names` and between `tokens` tokens named `{prefix}0,
/// {prefix}1, …` (never fewer than `tokens.start()`), all of one dimension in `dims`, with
/// entries in `range`.
fn lattice_tokens(
    prefix: &'static str,
    names: &'static [&'static str],
    tokens: std::ops::RangeInclusive<usize>,
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
) -> BoxedStrategy<Case> {
    let min_tokens = *tokens.start();
    tokens_named(
        prefix,
        with_tokens(names, tokens, min_tokens, dims, range, vec![]),
    )
}

/// Every value finite (the float readings' conditions exclude overflow).
fn all_finite<T: crate::kernels::scalar::Real>(v: &[T]) -> bool {
    v.iter().all(|x| x.widen().is_finite())
}

/// Each probability of two softmaxes of logits that agree up to a constant within `delta`:
/// `|p'ⱼ − pⱼ| ≤ (e^{2Δ} − 1)·pⱼ(1 − pⱼ) ≤ ¼(e^{2Δ} − 1)` — `transformer::mix_bound`'s
/// centring argument with the values `vₖ = [k = j]`, whose mix is `pⱼ` (attained to first
/// order by two keys at `p = ½`, one pushed up by Δ and one down) — plus each softmax's own
/// rounding.
pub fn prob_bound<T: crate::kernels::scalar::Real>(delta: f64) -> f64 {
    0.25 * (2.0 * delta).exp_m1() + 2.0 * relative::<T>(SOFTMAX_ULPS)
}

/// The sign of a rational: 1, −1 or 0.
fn sign(e: &BigRational) -> i8 {
    if e.is_positive() {
        1
    } else if e.is_negative() {
        -1
    } else {
        0
    }
}

/// The weight-processing and attention claims.
pub fn claims() -> Vec<Claim> {
    vec![
        center_unembed::claim(),
        fold_layernorm::claim(),
        center_writing_weights::claim(),
        attention_key_bias::claim(),
        direct_logit_attribution::claim(),
        fold_value_biases::claim(),
        logit_lens_scale::claim(),
        qk_refactor_under_rope::claim(),
    ]
}
