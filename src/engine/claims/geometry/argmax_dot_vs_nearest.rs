//! `argmax-dot-vs-nearest` (`proofs/argmax-dot-vs-nearest.md`): The unembedding's argmax-dot
//! against the nearest token and against argmax cosine.

use super::*;

fn dot_vs_nearest(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let (l, d2) = (scores(&x, &ts), sq_dists(&x, &ts));
    let (Some(a), Some(n)) = (unique_argmax(&l), unique_argmin(&d2)) else {
        return CaseOutcome::Exact; // a tie: the reading asks for unique winners
    };
    picks_differ(a != n, by_logits(a, &l), by_distance(n, &d2))
}

/// Every configuration with d = 1, then 2; V = 2, then 3; entries in [−m, m] for m = 1, 2, 3 —
/// in that order (and by complexity within each block), so the first witness is the smallest
/// in the reading's order (dimensions, tokens, then the largest |entry|). Produced lazily,
/// block by block.
fn enumerate_small() -> Box<dyn Iterator<Item = Case>> {
    let blocks = (1..=2usize)
        .flat_map(|d| (2..=3usize).flat_map(move |v| (1..=3i64).map(move |m| (d, v, m))));
    Box::new(blocks.flat_map(|(d, v, m)| {
        let n = d * (v + 1);
        let total = (2 * m + 1).pow(n as u32);
        let mut batch: Vec<Case> = Vec::new();
        for code in 0..total {
            let mut k = code;
            let mut vals = Vec::with_capacity(n);
            for _ in 0..n {
                // digits 0, 1, 2, 3, 4, … ↦ 0, 1, −1, 2, −2, …: positives first among equals
                let digit = k % (2 * m + 1);
                vals.push(if digit % 2 == 1 {
                    (digit + 1) / 2
                } else {
                    -(digit / 2)
                });
                k /= 2 * m + 1;
            }
            if vals.iter().all(|e| e.abs() < m) {
                continue; // already enumerated with a smaller m
            }
            let x = vals[..d].to_vec();
            let toks: Vec<Vec<i64>> = vals[d..].chunks(d).map(|c| c.to_vec()).collect();
            batch.push(Case::with_tokens(vec![("x", x)], toks, 2, vec![]));
        }
        batch.sort_by(|a, b| {
            a.complexity()
                .partial_cmp(&b.complexity())
                .expect("lattice cases have finite sizes")
        });
        batch
    }))
}

fn agree_equal_norms(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    if !equal_norms(&ts) {
        return CaseOutcome::Skip;
    }
    let (l, d2) = (scores(&x, &ts), sq_dists(&x, &ts));
    let (a, n) = (argmax(&l), argmin(&d2));
    // A disagreement counts only when strict: the nearest token's logit is below the top one.
    picks_differ(lt(&l[n], &l[a]), by_logits(a, &l), by_distance(n, &d2))
}

/// Two distinct tokens of different norm: on the line x(s) = w0 + s(w1 − w0) the logits tie
/// where f(s) = x(s)·(w0 − w1) = 0 and the distances tie where f(s) = (|w0|² − |w1|²)/2; the
/// point where f is halfway between gets different answers, both strict.
fn unequal_norms_disagree(c: &Case) -> CaseOutcome {
    let ts = tokens_q(c);
    let (a, b) = (&ts[0], &ts[1]);
    let (na, nb) = (dot(a, a), dot(b, b));
    if a == b || na == nb {
        return CaseOutcome::Skip;
    }
    // f(s) = (a + s(b − a))·(a − b) is linear: f(0) = |a|² − a·b, f(1) = a·b − |b|².
    let (f0, f1) = (na.clone() - dot(a, b), dot(a, b) - nb.clone());
    let target = (na.clone() - nb.clone()) / exact(4.0); // halfway between 0 and (|a|² − |b|²)/2
    let s = (f0.clone() - target) / (f0 - f1);
    let x: Vec<Q> = a
        .iter()
        .zip(b)
        .map(|(p, r)| p + s.clone() * (r - p))
        .collect();
    let (l, d2) = (scores(&x, &ts), sq_dists(&x, &ts));
    match (unique_argmax(&l), unique_argmin(&d2)) {
        (Some(p), Some(r)) if p != r => CaseOutcome::Exact,
        _ => CaseOutcome::Found(Evidence::exact(
            "|w0|²",
            na,
            format!(
                "|w1|² (different, yet x = {} gets the same answer from both rules)",
                show_q(&x)
            ),
            nb,
        )),
    }
}

fn nearest_is_biased_argmax(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let half = Q::new(1.into(), 2.into());
    let biased: Vec<Q> = ts
        .iter()
        .map(|t| dot(&x, t) - half.clone() * dot(t, t))
        .collect();
    let d2 = sq_dists(&x, &ts);
    let (n, b) = (argmin(&d2), argmax(&biased));
    picks_differ(
        n != b,
        by_distance(n, &d2),
        ("argmax_i (x·wᵢ − |wᵢ|²/2)", b, "scores", &biased),
    )
}

/// argmax cosine against argmax dot: found when the top-cosine token is strictly beaten in
/// logit by the top-logit token, which has a strictly smaller cosine.
fn cos_vs_dot(c: &Case, need_equal: bool) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    if need_equal && !equal_norms(&ts) {
        return CaseOutcome::Skip;
    }
    let Some(keys) = ts
        .iter()
        .map(|t| cos_key(&x, t))
        .collect::<Option<Vec<Q>>>()
    else {
        return CaseOutcome::Skip;
    };
    let l = scores(&x, &ts);
    let (a, b) = (argmax(&keys), argmax(&l));
    if lt(&keys[b], &keys[a]) && lt(&l[a], &l[b]) {
        CaseOutcome::Found(Evidence::exact(
            "argmax_i cos(x, wᵢ)",
            format!("{} (cosines {})", w(a), show_cosines(&x, &ts)),
            "argmax_i x·wᵢ",
            winner(b, "logits", &l),
        ))
    } else {
        CaseOutcome::Exact
    }
}

/// The claim `argmax-dot-vs-nearest` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "argmax-dot-vs-nearest",
        words: "You 100% should not think about the unembed as looking for \"the closest token\", as opposed to looking for the token with the largest dot product (= high cosine similarity + large size).",
        readings: vec![
            Reading::new(
                "a",
                "There are x and tokens where argmax_i x·wᵢ ≠ argmin_i |x − wᵢ| (both unique). The smallest: fewest dimensions, then fewest tokens, then smallest integers.",
                "unique winners (no tie-breaking)",
                None,
                [in_reals(
                    Holds,
                    Exists,
                    || xs_tokens(&["x"], 2..=5, 2, 1..=4, vec![]),
                    dot_vs_nearest,
                )
                .enumerating(enumerate_small)],
            ),
            Reading::new(
                "b1",
                "If all tokens have equal norm, argmax-dot and nearest agree for every x.",
                "|wᵢ| all equal",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || equal_norm_pair(1..=5),
                    agree_equal_norms,
                )],
            ),
            Reading::new(
                "b2",
                "If two distinct tokens have different norms, some x gets different answers.",
                "w0 ≠ w1, |w0| ≠ |w1|",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || xs_tokens(&[], 2..=2, 2, 1..=4, vec![]),
                    unequal_norms_disagree,
                )],
            ),
            Reading::new(
                "c",
                "argmin_i |x − wᵢ| = argmax_i (x·wᵢ − |wᵢ|²/2).",
                "ties to the lowest index on both sides",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || xs_tokens(&["x"], 1..=6, 1, 1..=5, vec![]),
                    nearest_is_biased_argmax,
                )],
            ),
            Reading::new(
                "d1",
                "argmax cosine = argmax dot when the norms are equal.",
                "|wᵢ| all equal, x ≠ 0",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || equal_norm_pair(1..=5),
                    |c| cos_vs_dot(c, true),
                )],
            ),
            Reading::new(
                "d2",
                "argmax cosine = argmax dot in general.",
                "x, wᵢ ≠ 0",
                Some(
                    "Only for tokens of equal norm (d1); otherwise the dot product also rewards size.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || xs_tokens(&["x"], 2..=4, 2, 1..=4, vec![]),
                    |c| cos_vs_dot(c, false),
                )],
            ),
        ],
        tests: &[
            "claims_geometry::smallest_dot_vs_nearest_exact",
            "claims_geometry::equal_norms_agree_exact",
            "claims_geometry::nearest_is_biased_argmax_exact",
            "claims_geometry::unequal_norms_disagree_exact",
            "claims_geometry::argmax_cosine_vs_dot_found_without_a_tie",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
