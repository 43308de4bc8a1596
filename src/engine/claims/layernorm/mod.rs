//! Claims about LayerNorm and RMSNorm (section "LayerNorm and RMSNorm").

mod final_layernorm_fixes_temperature;
mod layernorm_hides_magnitude;
mod layernorm_output_norm;
mod layernorm_sees_direction;
mod no_layernorm_magnitude;
mod rmsnorm_invariances;

use super::*;
use crate::kernels::geometry::{dot, norm};
use crate::kernels::norms::{layer_norm, rms_norm};
use crate::kernels::softmax::{softmax, softmax_with_temperature};
use crate::kernels::tolerance::{NORM_LAYER_ULPS, NORM_ULPS, SOFTMAX_ULPS, relative, ulp};
use crate::kernels::unembed::logits;
use nalgebra::DMatrix;

/// Two evaluations of LN outputs (each entry within NORM_LAYER_ULPS ulp, |entries| ≤ √d).
fn ln_bound(d: usize) -> f64 {
    2.0 * (d as f64).sqrt() * relative::<f64>(NORM_LAYER_ULPS) + 2.0 * ulp(0.0f64)
}

fn non_constant(v: &[f64]) -> bool {
    v.iter().any(|&e| e != v[0])
}

/// The case's tokens as the columns of an f64 matrix (an unembedding or a layer's weights).
fn token_matrix(c: &Case) -> DMatrix<f64> {
    let t = c.tokens();
    DMatrix::from_fn(c.dim(), t.len(), |r, k| t[k][r])
}

fn ln(v: &[f64], eps: f64) -> Vec<f64> {
    layer_norm(v, eps, None, None)
}

/// Every lattice case with the vectors `names` of a dimension in `dims`, entries in `range`
/// and each parameter from its list, in increasing complexity: a refuted reading that tries
/// them first finds the smallest case of that box (the minimality check then covers it).
fn lattice_cases(
    names: &'static [&'static str],
    dims: std::ops::RangeInclusive<usize>,
    range: std::ops::RangeInclusive<i64>,
    params: Vec<(&'static str, Vec<Param>)>,
    values: Values,
) -> Box<dyn Iterator<Item = Case>> {
    let entries: Vec<i64> = range.collect();
    let mut all = Vec::new();
    for d in dims {
        let n = d * names.len();
        let mut combos: Vec<Vec<Param>> = vec![vec![]];
        for (_, ps) in &params {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    ps.iter().map(move |p| {
                        let mut c = c.clone();
                        c.push(*p);
                        c
                    })
                })
                .collect();
        }
        let mut idx = vec![0usize; n];
        loop {
            for ps in &combos {
                let vals: Vec<i64> = idx.iter().map(|&i| entries[i]).collect();
                let mut c = Case::new(
                    names
                        .iter()
                        .zip(vals.chunks(d))
                        .map(|(k, v)| (*k, v.to_vec()))
                        .collect(),
                    params
                        .iter()
                        .map(|(k, _)| *k)
                        .zip(ps.iter().copied())
                        .collect(),
                );
                c.values = values;
                all.push(c);
            }
            // next entry combination (an odometer, the last entry fastest: among equally
            // simple cases, the sort keeps [0, 5] before [5, 0])
            let mut k = n;
            while k > 0 && idx[k - 1] + 1 == entries.len() {
                idx[k - 1] = 0;
                k -= 1;
            }
            if k == 0 {
                break;
            }
            idx[k - 1] += 1;
        }
    }
    all.sort_by(|a, b| {
        a.complexity()
            .partial_cmp(&b.complexity())
            .expect("lattice cases have finite sizes")
    });
    Box::new(all.into_iter())
}

/// An invariance of a norm: `norm(g(x)) = norm(x)` for the case's row x and the entrywise map
/// `g`, compared in f64 within two evaluations' error ([`ln_bound`]); `sides` names the two
/// sides. Skipped where `defined` rejects either input (the norm is 0/0 there).
fn norm_invariance(
    c: &Case,
    sides: (&str, &str),
    norm: impl Fn(&[f64]) -> Vec<f64>,
    defined: impl Fn(&[f64]) -> bool,
    g: impl Fn(f64) -> f64,
) -> CaseOutcome {
    let x = f(c.v("x"));
    let gx: Vec<f64> = x.iter().map(|&v| g(v)).collect(); // exact: small integers, powers of two
    if !defined(&x) || !defined(&gx) {
        return CaseOutcome::Skip;
    }
    compare_real(sides.0, &norm(&gx), sides.1, &norm(&x), ln_bound(x.len()))
}

/// Whether LN with this ε is defined at a row: σ > 0 or ε > 0 (else 0/0).
fn ln_defined(eps: f64) -> impl Fn(&[f64]) -> bool {
    move |v| non_constant(v) || eps != 0.0
}

// ---- layernorm-sees-direction, layernorm-hides-magnitude ---------------------------------

/// LN(α·x) = LN(x) for α of the sign the reading states (α is the signed value applied).
fn scale(c: &Case, negative: bool) -> CaseOutcome {
    let a = c.p("α").value();
    if (a < 0.0) != negative || a == 0.0 {
        return CaseOutcome::Skip; // α of the other sign: outside the reading
    }
    let eps = eps(c).value();
    norm_invariance(
        c,
        ("LN(α·x)", "LN(x)"),
        |v| ln(v, eps),
        ln_defined(eps),
        |v| v * a,
    )
}

/// The reading that LN ignores a positive scale at ε = 0, judged in ℝ on `cases`: both
/// layernorm-sees-direction and layernorm-hides-magnitude state it, each in its own words.
fn scale_positive_reading(
    key: &'static str,
    statement: &'static str,
    cases: fn() -> BoxedStrategy<Case>,
) -> Reading {
    Reading::new(
        key,
        statement,
        "α > 0, ε = 0, σ(x) > 0",
        None,
        [in_reals(Holds, ForAll, cases, |c| scale(c, false))],
    )
}

/// The LayerNorm and RMSNorm claims, in the order of the thread.
pub fn claims() -> Vec<Claim> {
    vec![
        layernorm_output_norm::claim(),
        layernorm_sees_direction::claim(),
        layernorm_hides_magnitude::claim(),
        no_layernorm_magnitude::claim(),
        rmsnorm_invariances::claim(),
        final_layernorm_fixes_temperature::claim(),
    ]
}
