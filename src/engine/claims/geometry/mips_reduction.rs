//! `mips-reduction` (`proofs/mips-reduction.md`): The reduction from maximum inner product search
//! to nearest-neighbour search.

use super::*;

fn mips(c: &Case) -> CaseOutcome {
    let (x, ts) = (q(c.v("x")), tokens_q(c));
    let extra = c.p("M² − max|wᵢ|²").rational();
    if extra.is_negative() {
        return CaseOutcome::Skip; // M² ≥ max |wᵢ|² is a condition of the reading
    }
    let m2 = ts.iter().map(|v| dot(v, v)).max().unwrap() + extra;
    // |x' − w'ᵢ|² = |x − wᵢ|² + (0 − √(M² − |wᵢ|²))² = |x − wᵢ|² + M² − |wᵢ|², exactly.
    let d2: Vec<Q> = ts
        .iter()
        .map(|v| squared_distance(&x, v) + m2.clone() - dot(v, v))
        .collect();
    let l = scores(&x, &ts);
    let (n, a) = (argmin(&d2), argmax(&l));
    picks_differ(
        n != a,
        ("argmin_i |x' − w'ᵢ|", n, "squared distances", &d2),
        by_logits(a, &l),
    )
}

fn mips_cases() -> BoxedStrategy<Case> {
    xs_tokens(
        &["x"],
        1..=6,
        1,
        1..=5,
        vec![("M² − max|wᵢ|²", int(0..=10))],
    )
}

/// The claim `mips-reduction` with its readings.
pub fn claim() -> Claim {
    Claim {
        id: "mips-reduction",
        words: "(the standard reduction from maximum inner product search to nearest-neighbour search)",
        readings: vec![Reading::new(
            "a",
            "With M ≥ max_i |wᵢ|, w'ᵢ = (wᵢ, √(M² − |wᵢ|²)) and x' = (x, 0): argmin_i |x' − w'ᵢ| = argmax_i x·wᵢ for every x.",
            "M² ≥ max |wᵢ|²",
            None,
            [in_reals(Holds, ForAll, mips_cases, mips)],
        )],
        tests: &[
            "claims_geometry::mips_exact",
            "unembed::mips_finds_argmax_f32",
            "unembed::mips_finds_argmax_f64",
        ],
    }
}
