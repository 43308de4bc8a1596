//! `alignment-beats-size` (`proofs/alignment-beats-size.md`): Whether the better-aligned token
//! always has the bigger logit when norms differ.

use super::*;

/// cos(x, w1) > cos(x, w2) ⇒ x·w1 > x·w2, for tokens of different norms.
fn alignment(c: &Case) -> CaseOutcome {
    let (x, w1, w2) = (q(c.v("x")), q(c.v("w1")), q(c.v("w2")));
    let (Some(k1), Some(k2)) = (cos_key(&x, &w1), cos_key(&x, &w2)) else {
        return CaseOutcome::Skip;
    };
    if dot(&w1, &w1) == dot(&w2, &w2) || !lt(&k2, &k1) {
        return CaseOutcome::Skip;
    }
    let (l1, l2) = (dot(&x, &w1), dot(&x, &w2));
    if lt(&l1, &l2) {
        CaseOutcome::Found(Evidence::exact(
            format!(
                "x·w1 (cos(x, w1) = {}, the larger cosine)",
                show_cos(&x, &w1)
            ),
            l1,
            format!("x·w2 (cos(x, w2) = {})", show_cos(&x, &w2)),
            l2,
        ))
    } else {
        CaseOutcome::Exact
    }
}

fn alignment_cases() -> BoxedStrategy<Case> {
    vectors(&["x", "w1", "w2"], 1..=4, -4..=4, vec![])
}

/// The claim `alignment-beats-size` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "alignment-beats-size",
        words: "The more aligned the directions of the correct class with the corresponding unembedding weights are …, the bigger the logits",
        readings: vec![Reading::new(
            "a",
            "For a fixed x and tokens of different norms: cos(x, w1) > cos(x, w2) ⇒ x·w1 > x·w2.",
            "x, w1, w2 ≠ 0, |w1| ≠ |w2|; cases with cos(x, w1) ≤ cos(x, w2) meet the implication vacuously and are not counted; a counterexample must reverse the logits strictly (x·w1 < x·w2), so none rests on a tie x·w1 = x·w2",
            Some(
                "x·w = |x||w| cos θ: alignment wins only between tokens of equal norm; in general the token with the larger |w| cos θ wins.",
            ),
            [in_reals(Fails, ForAll, alignment_cases, alignment)],
        )],
        tests: &[
            "claims_geometry::alignment_search_finds_and_verifies",
            "proofs::no_displayed_evidence_rests_on_a_tie",
        ],
    }
}
