//! `cosine-sign-slip` (`proofs/cosine-sign-slip.md`): "The smaller their cosine similarity, the
//! bigger the logits": the sign slip and the intended reading.

use super::*;

/// Which of two tokens of equal norm a reading says has the bigger logit.
#[derive(Clone, Copy, PartialEq)]
enum Bigger {
    /// The one with the smaller cosine (the thread as written).
    SmallerCosine,
    /// The one with the larger cosine (what it means).
    LargerCosine,
}

/// Two tokens of equal norm with different cosines: the token `bigger` names has the bigger
/// logit.
fn slip(c: &Case, bigger: Bigger) -> CaseOutcome {
    let x = q(c.v("x"));
    let ts = tokens_q(c);
    if !equal_norms(&ts) {
        return CaseOutcome::Skip;
    }
    let (Some(k0), Some(k1)) = (cos_key(&x, &ts[0]), cos_key(&x, &ts[1])) else {
        return CaseOutcome::Skip;
    };
    if k0 == k1 {
        return CaseOutcome::Skip; // equal cosines: the premise says nothing
    }
    let (lo, hi) = if lt(&k0, &k1) { (0, 1) } else { (1, 0) };
    let l = scores(&x, &ts);
    // The statement's token: the smaller cosine as written, the larger as intended.
    let (mine, other, which) = if bigger == Bigger::SmallerCosine {
        (lo, hi, "smaller")
    } else {
        (hi, lo, "larger")
    };
    if lt(&l[mine], &l[other]) {
        CaseOutcome::Found(Evidence::exact(
            format!(
                "x·{} (cos(x, {}) = {}, the {which} cosine)",
                w(mine),
                w(mine),
                show_cos(&x, &ts[mine])
            ),
            &l[mine],
            format!(
                "x·{} (cos(x, {}) = {})",
                w(other),
                w(other),
                show_cos(&x, &ts[other])
            ),
            &l[other],
        ))
    } else {
        CaseOutcome::Exact
    }
}

/// The claim `cosine-sign-slip` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "cosine-sign-slip",
        words: "The more aligned the directions … (i.e. the smaller their cosine similarity), the bigger the logits.",
        readings: vec![
            Reading::new(
                "a",
                "As written: for tokens of equal norm, smaller cos(x, w) ⇒ bigger logit x·w.",
                "|w0| = |w1|, x ≠ 0, cos(x, w0) ≠ cos(x, w1) (with equal cosines the premise says nothing)",
                Some(
                    "For tokens of equal norm, larger cosine ⇒ larger logit (reading (b)): x·w = |x||w| cos θ.",
                ),
                [in_reals(
                    Fails,
                    ForAll,
                    || equal_norm_pair(1..=4),
                    |c| slip(c, Bigger::SmallerCosine),
                )],
            ),
            Reading::new(
                "b",
                "Intended: for tokens of equal norm, larger cos(x, w) ⇒ bigger logit x·w.",
                "|w0| = |w1|, x ≠ 0, cos(x, w0) ≠ cos(x, w1) (with equal cosines the premise says nothing)",
                None,
                [in_reals(
                    Holds,
                    ForAll,
                    || equal_norm_pair(1..=5),
                    |c| slip(c, Bigger::LargerCosine),
                )],
            ),
        ],
        tests: &[
            "claims_geometry::cosine_slip_search_finds_and_verifies",
            "claims_geometry::larger_cosine_bigger_logit_exact",
        ],
    }
}
