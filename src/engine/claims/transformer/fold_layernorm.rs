//! `fold-layernorm`.

use super::*;

fn fold_exact(c: &Case) -> CaseOutcome {
    let w = token_matrix(c, exact);
    let (n, g, be) = (q(c.v("n")), q(c.v("γ")), q(c.v("β")));
    let b = vec![c.p("b").rational(); w.ncols()];
    let (w2, b2) = fold_into_linear(Some(&g), Some(&be), &w, Some(&b));
    let y: Vec<BigRational> = (0..n.len()).map(|i| &g[i] * &n[i] + &be[i]).collect();
    let lhs: Vec<BigRational> = logits(&w, &y)
        .into_iter()
        .zip(&b)
        .map(|(v, b)| v + b)
        .collect();
    let rhs: Vec<BigRational> = logits(&w2, &n)
        .into_iter()
        .zip(&b2)
        .map(|(v, b)| v + b)
        .collect();
    exact_eq(
        "(γ ⊙ n + β)·W + b",
        &lhs,
        "n·(diag(γ)·W) + (β·W + b)",
        &rhs,
        |v| show_q(v),
    )
}

/// `(γ ⊙ n + β)·W + b` against the folded `n·W' + b'`, each column evaluated in `T`.
///
/// Against the exact value `Eⱼ = Σᵢ (γᵢnᵢ + βᵢ)Wᵢⱼ + b`:
/// * the left side rounds `yᵢ = γᵢnᵢ + βᵢ` (a product and a sum: `|ŷᵢ − yᵢ| ≤ u|γᵢnᵢ| +
///   u|ŷᵢ|`) and then the dot product (`compensated_dot_bound` over `k + 1` terms);
/// * the right side rounds `W'ᵢⱼ = γᵢWᵢⱼ` (`≤ u|W'ᵢⱼ|`, one product), `b'ⱼ = β·W₍ⱼ₎ + b`
///   (a dot product) and then its own dot product.
fn fold_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let w = token_matrix(c, |v| T::narrow(v));
    let (n, g, be): (Vec<T>, Vec<T>, Vec<T>) = (ft(c.v("n")), ft(c.v("γ")), ft(c.v("β")));
    let b = vec![T::narrow(c.p("b").value()); w.ncols()];
    let (w2, b2) = fold_into_linear(Some(&g), Some(&be), &w, Some(&b));
    let y: Vec<T> = n
        .iter()
        .zip(&g)
        .zip(&be)
        .map(|((&n, &g), &b)| g * n + b)
        .collect();
    let with_b = |w: &DMatrix<T>, x: &[T], b: &[T]| -> Vec<T> {
        (0..w.ncols())
            .map(|j| {
                let col: Vec<T> = w.column(j).iter().copied().collect();
                T::dot_plus(x, &col, b[j])
            })
            .collect()
    };
    let (lhs, rhs) = (with_b(&w, &y, &b), with_b(&w2, &n, &b2));
    let gn: Vec<T> = n.iter().zip(&g).map(|(&n, &g)| g * n).collect();
    let finite = [&y, &gn, &b2, &lhs, &rhs].iter().all(|v| all_finite(v));
    if !finite || !all_finite(w2.as_slice()) {
        return CaseOutcome::Skip;
    }
    let u = unit_roundoff::<T>();
    let k = n.len();
    let wd = |i: usize, j: usize| w[(i, j)].widen();
    let bound = (0..w.ncols())
        .map(|j| {
            let (mut exact, mut y_err, mut abs_l) = (b[j].widen(), 0.0, b[j].widen().abs());
            let (mut w_err, mut abs_r, mut abs_b, mut bj) = (0.0, b2[j].widen().abs(), 0.0, 0.0);
            for i in 0..k {
                let (yi, gi, ni, bi) = (y[i].widen(), g[i].widen(), n[i].widen(), be[i].widen());
                exact += (gi * ni + bi) * wd(i, j);
                y_err += (u * (gi * ni).abs() + u * yi.abs()) * wd(i, j).abs();
                abs_l += (yi * wd(i, j)).abs();
                w_err += u * w2[(i, j)].widen().abs() * ni.abs();
                abs_r += (ni * w2[(i, j)].widen()).abs();
                abs_b += (bi * wd(i, j)).abs();
                bj += bi * wd(i, j);
            }
            bj += b[j].widen();
            abs_b += b[j].widen().abs();
            let left = y_err + compensated_dot_bound::<T>(k + 1, exact, abs_l + y_err);
            let right = w_err
                + compensated_dot_bound::<T>(k + 1, bj, abs_b)
                + compensated_dot_bound::<T>(k + 1, exact, abs_r + w_err);
            (left + right) * (1.0 + 8.0 * unit_roundoff::<f64>())
        })
        .fold(0.0f64, f64::max);
    compare_arith(
        domain_of::<T>(),
        "(γ ⊙ n + β)·W + b",
        &lhs,
        "n·W' + b'",
        &rhs,
        bound,
    )
}

fn fold_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    float_case::<T>(
        &["n", "γ", "β"],
        1..=4,
        1,
        1..=5,
        -6..=6,
        vec![("b", value::<T>(f64::MIN, f64::MAX))],
    )
}

fn fold_exact_cases() -> BoxedStrategy<Case> {
    with_tokens(
        &["n", "γ", "β"],
        1..=4,
        1,
        1..=5,
        -6..=6,
        vec![("b", int(-6..=6))],
    )
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "fold-layernorm",
        words: "(weight processing as interpretability tools apply it; not from the thread) folding γ and β of a LayerNorm into the next linear map (W·(γ ⊙ n + β) + b = (W·diag γ)·n + (W·β + b)) leaves every output unchanged",
        readings: vec![Reading::new(
            "a",
            "(γ ⊙ n + β)·W + b = n·(diag(γ)·W) + (β·W + b) for every normalized vector n: the folded model computes the same function.",
            "any γ, β, W, b (RMSNorm: β = 0). In f32/f64: every product and sum finite; equal within the rounding of both sides (γᵢnᵢ + βᵢ rounded twice, W' = γ·W once, b' = β·W + b and both outputs as compensated dot products)",
            None,
            [
                in_reals(Holds, ForAll, fold_exact_cases, fold_exact),
                Judgement::new(
                    Domain::F32,
                    Holds,
                    ForAll,
                    fold_cases::<f32>,
                    fold_float::<f32>,
                ),
                Judgement::new(
                    Domain::F64,
                    Holds,
                    ForAll,
                    fold_cases::<f64>,
                    fold_float::<f64>,
                ),
            ],
        )],
        tests: &[
            "claims_transformer::fold_layernorm_settles",
            "claims_transformer::fold_is_an_identity_f32",
            "claims_transformer::fold_is_an_identity_f64",
            "transformer::fold_into_linear_is_exact_on_rationals",
            "transformer::fold_layernorm_preserves_logits_f32",
            "transformer::fold_layernorm_preserves_logits_f64",
            "transformer::a_fold_that_forgets_beta_is_caught_f32",
            "transformer::a_fold_that_forgets_beta_is_caught_f64",
            "claims_transformer::float_bounds_are_nearly_attained",
        ],
    }
}
