//! `attention-key-bias`.

use super::*;

fn scores_exact(q_: &[BigRational], keys: &[Vec<BigRational>]) -> Vec<BigRational> {
    keys.iter().map(|k| dot(q_, k)).collect()
}

fn key_bias(c: &Case, on_query: bool) -> CaseOutcome {
    let (qv, b) = (q(c.v("q")), q(c.v("b")));
    let keys: Vec<Vec<BigRational>> = c.tokens().iter().map(|t| q(t)).collect();
    let s = scores_exact(&qv, &keys);
    let s2 = if on_query {
        let qb: Vec<BigRational> = qv.iter().zip(&b).map(|(a, b)| a + b).collect();
        scores_exact(&qb, &keys)
    } else {
        let kb: Vec<Vec<BigRational>> = keys
            .iter()
            .map(|k| k.iter().zip(&b).map(|(a, b)| a + b).collect())
            .collect();
        scores_exact(&qv, &kb)
    };
    // softmax(s') = softmax(s) ⇔ s' − s is constant (proofs/softmax-shift-invariance.md).
    let shifts: Vec<BigRational> = s2.iter().zip(&s).map(|(a, b)| a - b).collect();
    if shifts.iter().all(|v| v == &shifts[0]) {
        CaseOutcome::EXACT
    } else {
        let what = if on_query {
            "(q + b)·kⱼ"
        } else {
            "q·(kⱼ + b)"
        };
        CaseOutcome::Found(Evidence::exact(
            format!("scores {what}"),
            show_q(&s2),
            "scores q·kⱼ",
            format!(
                "{} (the differences {} are not one constant, so the softmax differs)",
                show_q(&s),
                show_q(&shifts)
            ),
        ))
    }
}
fn key_bias_keys(c: &Case) -> CaseOutcome {
    key_bias(c, false)
}
fn key_bias_query(c: &Case) -> CaseOutcome {
    key_bias(c, true)
}

/// The two float patterns `softmax(fl(q·fl(kⱼ + b)))` and `softmax(fl(q·kⱼ))` and the bound on
/// their difference ([`key_bias_bound`]); `None` when a sum or score is not finite.
pub fn key_bias_patterns<T: crate::kernels::scalar::Real>(
    q_: &[T],
    b: &[T],
    keys: &[Vec<T>],
) -> Option<(Vec<T>, Vec<T>, f64)> {
    let kb: Vec<Vec<T>> = keys
        .iter()
        .map(|k| k.iter().zip(b).map(|(&a, &b)| a + b).collect())
        .collect();
    let s: Vec<T> = keys.iter().map(|k| dot(q_, k)).collect();
    let s2: Vec<T> = kb.iter().map(|k| dot(q_, k)).collect();
    if !(kb.iter().all(|k| all_finite(k)) && all_finite(&s) && all_finite(&s2)) {
        return None;
    }
    let bound = key_bias_bound::<T>(q_, keys, &kb, &s, &s2);
    Some((softmax(&s2), softmax(&s), bound))
}

/// The bound on `|softmax(ŝ')ⱼ − softmax(ŝ)ⱼ|` for the computed scores `ŝ'ⱼ = fl(q·fl(kⱼ + b))`
/// and `ŝⱼ = fl(q·kⱼ)`. The exact scores differ by the constant `q·b`, which the softmax
/// ignores; what is left is
///
/// ```text
/// δⱼ = |ŝ'ⱼ − ŝⱼ − q·b| ≤ Σᵢ |qᵢ|·u|fl(kⱼ + b)ᵢ|            (each kⱼᵢ + bᵢ rounded once)
///                      + dot(q, fl(kⱼ + b)) and dot(q, kⱼ) rounding (compensated_dot_bound)
/// ```
///
/// and logits moved by at most `Δ = maxⱼ δⱼ` move every probability by at most
/// `¼(e^{2Δ} − 1)` ([`prob_bound`]), plus each softmax's own rounding. First order in `u`, and proportional to `|q|·|kⱼ + b|`: a large shared key bias
/// costs accuracy.
pub fn key_bias_bound<T: crate::kernels::scalar::Real>(
    q_: &[T],
    keys: &[Vec<T>],
    kb: &[Vec<T>],
    s: &[T],
    s2: &[T],
) -> f64 {
    let u = unit_roundoff::<T>();
    let n = q_.len();
    let abs = |a: &[T], b: &[T]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x.widen() * y.widen()).abs())
            .sum()
    };
    let delta = (0..keys.len())
        .map(|j| {
            let sum_rounding = u * abs(q_, &kb[j]);
            let d2 = compensated_dot_bound::<T>(n, s2[j].widen(), abs(q_, &kb[j]));
            let d1 = compensated_dot_bound::<T>(n, s[j].widen(), abs(q_, &keys[j]));
            (sum_rounding + d1 + d2) * (1.0 + 8.0 * unit_roundoff::<f64>())
        })
        .fold(0.0f64, f64::max);
    prob_bound::<T>(delta)
}

/// Key bias in `T`: within [`key_bias_bound`] (conditions: every sum and score finite, and
/// the bound below 1 — two probabilities always differ by less than 1, so a case whose bound
/// reaches 1 would be counted as a pass it did not earn).
fn key_bias_float<T: crate::kernels::scalar::Real>(c: &Case) -> CaseOutcome {
    let (qv, b): (Vec<T>, Vec<T>) = (ft(c.v("q")), ft(c.v("b")));
    let keys: Vec<Vec<T>> = c.tokens().iter().map(|t| ft(t)).collect();
    let Some((p2, p, bound)) = key_bias_patterns(&qv, &b, &keys) else {
        return CaseOutcome::Skip;
    };
    if bound >= 1.0 {
        return CaseOutcome::Skip;
    }
    compare_arith(
        domain_of::<T>(),
        "softmax(q·(kⱼ + b))",
        &p2,
        "softmax(q·kⱼ)",
        &p,
        bound,
    )
}

/// Float cases of attention-key-bias: a query, a key bias and 1–6 keys — from
/// [`float_case`], and (one draw in four) small-integer keys under a bias 2¹⁰ to 2^(p+8)
/// times larger (p the type's precision), where rounding kⱼ + b moves the pattern the most.
fn key_cases<T: FloatStrategies>() -> BoxedStrategy<Case> {
    let general = float_case::<T>(&["q", "b"], 1..=6, 1, 1..=5, -6..=6, vec![]);
    let top = T::MANTISSA_DIGITS as i32 + 8;
    let large_bias = (1usize..=2, 2usize..=3).prop_flat_map(move |(d, n)| {
        (
            proptest::collection::vec(crate::engine::strategies::moderate::<T>(), d),
            proptest::collection::vec((10..=top, -2.0f64..2.0), d),
            proptest::collection::vec(proptest::collection::vec(-4i64..=4, d), n),
        )
            .prop_map(|(q_, b, keys)| {
                let q_: Vec<f64> = q_.iter().map(|x| x.widen()).collect();
                let b: Vec<f64> = b
                    .iter()
                    .map(|&(e, m)| T::narrow(m * f64::from(e).exp2()).widen())
                    .collect();
                let mut c = Case::of_values(vec![("q", q_), ("b", b)], vec![], Values::of::<T>());
                c.add_tokens(
                    keys.into_iter()
                        .map(|k| k.into_iter().map(|x| x as f64).collect())
                        .collect(),
                    1,
                );
                c
            })
    });
    prop_oneof![3 => general, 1 => large_bias]
        .prop_map(|c| c.named("k"))
        .boxed()
}

/// The claim, its readings and judgements.
pub fn claim() -> Claim {
    Claim {
        id: "attention-key-bias",
        words: "(weight processing as interpretability tools apply it; not from the thread) adding one vector to every key leaves each query's attention pattern unchanged; adding one vector to every query does not",
        readings: vec![
            Reading::new(
                "a",
                "softmax over j of q·(kⱼ + b) = softmax over j of q·kⱼ: a bias shared by all keys (e.g. b_K) does not change any attention pattern.",
                "any q, kⱼ, b; any mask (the shift q·b is the same for every visible key). In f32/f64: every kⱼ + b and score finite, and the bound below 1 (a bound of 1 or more says nothing about probabilities: such cases are not counted); equal within ¼(e^{2Δ} − 1) + 2·SOFTMAX_ULPS ulp, Δ = maxⱼ (Σᵢ|qᵢ|·u·|kⱼᵢ + bᵢ| + both scores' rounding) — first order in u but proportional to |q|·|kⱼ + b|, so a large shared bias costs accuracy (f32: q = [1.1], b = [10⁴], keys [0], [1] moves the pattern by 1.1·10⁻⁴)",
                None,
                [
                    in_reals(
                        Holds,
                        ForAll,
                        || lattice_tokens("k", &["q", "b"], 1..=6, 1..=5, -6..=6),
                        key_bias_keys,
                    ),
                    Judgement::new(
                        Domain::F32,
                        Holds,
                        ForAll,
                        key_cases::<f32>,
                        key_bias_float::<f32>,
                    ),
                    Judgement::new(
                        Domain::F64,
                        Holds,
                        ForAll,
                        key_cases::<f64>,
                        key_bias_float::<f64>,
                    ),
                ],
            ),
            Reading::new(
                "b",
                "softmax over j of (q + b)·kⱼ = softmax over j of q·kⱼ: a bias shared by all queries (e.g. b_Q) does not change the pattern either.",
                "any q, kⱼ, b",
                Some(
                    "Adding b to the query adds b·kⱼ to the score of key j, which depends on j: the pattern is unchanged only when b·kⱼ is the same for every visible key (b orthogonal to all key differences).",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || lattice_tokens("k", &["q", "b"], 2..=4, 1..=3, -3..=3),
                    key_bias_query,
                )],
            ),
        ],
        tests: &[
            "claims_transformer::key_bias_moves_the_pattern_within_its_bound_f32",
            "claims_transformer::key_bias_moves_the_pattern_within_its_bound_f64",
            "claims_transformer::a_large_key_bias_moves_the_f32_pattern_close_to_the_bound",
            "claims_transformer::float_bounds_are_nearly_attained",
            "claims_transformer::query_bias_search_finds_and_verifies",
        ],
    }
}
