//! Shared helpers of the claim tests: run a registry judgement and check what it found.

#![allow(dead_code)]

use transformer_laws::claims::{self, CaseOutcome, Domain, MARGIN_FACTOR, Verification};
use transformer_laws::search::{SearchConfig, Verdict, judge};

/// Cases for the claim tests (the `check` default is larger; these keep `cargo test` fast).
pub const CASES: u32 = 256;
/// A seed different from the CLI's default, so the tests exercise other cases.
pub const SEED: u64 = 0x5eed_7e57;

/// Run the judgement of `id` reading `key` in `domain`; assert that the computed verdict
/// agrees with what the proof states; for a found case, re-verify it and return it.
pub fn settle(id: &str, key: &str, domain: Domain) -> Verdict {
    let claim = claims::find(id).unwrap_or_else(|| panic!("no claim {id}"));
    let reading = claim
        .readings
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("{id} has no reading {key}"));
    let j = reading
        .judgements
        .iter()
        .find(|j| j.domain == domain)
        .unwrap_or_else(|| panic!("{id} ({key}) is not judged in {domain}"));
    let v = judge(
        j,
        SearchConfig {
            cases: CASES,
            seed: SEED,
        },
    );
    assert!(
        v.agrees_with(j.proof_states),
        "{id} ({key}) in {domain}: computed {v:?}, the proof states {:?}",
        j.proof_states
    );
    if let Verdict::Holds {
        worst_error, bound, ..
    } = &v
    {
        assert!(
            worst_error <= bound,
            "{id} ({key}): error {worst_error} above its bound {bound}"
        );
    }
    if let Some(f) = v.found() {
        // Re-verify: the final case is found again by an independent call of the test, and a
        // margin-verified case beats the rounding bound by the required factor.
        match (j.check.test)(&f.case) {
            CaseOutcome::Found(e) => {
                assert_eq!(e, f.evidence, "re-evaluation changed the evidence")
            }
            other => panic!(
                "{id} ({key}): the reported case {} does not verify: {other:?}",
                f.case
            ),
        }
        if let Verification::Margin { margin, bound } = f.evidence.verification {
            assert!(
                bound == 0.0 || margin > MARGIN_FACTOR * bound,
                "margin {margin} not far above {bound}"
            );
        }
        // Simplified: no strictly simpler neighbour is still found (unless the simplification
        // budget ran out first, which the steps say).
        let stopped = f
            .steps
            .last()
            .is_some_and(|s| s.starts_with("stopped after"));
        for (what, cand) in f.case.simpler().filter(|_| !stopped) {
            if cand.complexity() < f.case.complexity() {
                assert!(
                    !matches!((j.check.test)(&cand), CaseOutcome::Found(_)),
                    "{id} ({key}): '{what}' gives a simpler case {cand}"
                );
            }
        }
    }
    v
}

/// The found case of a refuted/witnessed judgement, as text.
pub fn found(v: &Verdict) -> String {
    v.found().map(|f| f.case.to_string()).unwrap_or_default()
}

/// The found case's vector `name` and parameters, for structural assertions.
pub fn case(v: &Verdict) -> transformer_laws::claims::Case {
    v.found().expect("a found case").case.clone()
}

/// The absolute values of a vector's entries, sorted.
pub fn abs_sorted(v: &[f64]) -> Vec<i64> {
    let mut a: Vec<i64> = transformer_laws::claims::ints(v)
        .iter()
        .map(|x| x.abs())
        .collect();
    a.sort();
    a
}

/// Every claim judged with `check`'s default search, computed once per test run: the tests
/// that read the whole registry's verdicts (the README table, the proofs, the tie check, the
/// JSON documents) share it instead of running every search again.
pub fn default_results() -> &'static [transformer_laws::search::ClaimResult] {
    static RESULTS: std::sync::OnceLock<Vec<transformer_laws::search::ClaimResult>> =
        std::sync::OnceLock::new();
    RESULTS.get_or_init(|| {
        transformer_laws::search::evaluate_all(&claims::registry(), SearchConfig::default())
    })
}
