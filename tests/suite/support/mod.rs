//! Shared helpers of the claim tests: run a registry judgement and check what it found.

#![allow(dead_code)]

use transformer_laws::claims::{self, Case, CaseOutcome, Domain, MARGIN_FACTOR, Verification};
use transformer_laws::search::{Found, Minimality, SearchConfig, Verdict, judge};

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

/// What the minimality check of a found case enumerated (none of it qualifying).
#[derive(Debug)]
pub struct Checked {
    /// Smaller cases tested.
    pub smaller: u64,
    /// Most coordinates enumerated.
    pub max_dim: usize,
    /// Largest |entry| enumerated.
    pub max_entry: i64,
}

/// The case `v` found, which must have been checked to be simplest, and what that check
/// enumerated.
pub fn minimal(v: &Verdict) -> (&Found, Checked) {
    let f = v.found().expect("a found case");
    match f.minimality {
        Minimality::Checked {
            smaller,
            max_dim,
            max_entry,
            ..
        } => (
            f,
            Checked {
                smaller,
                max_dim,
                max_entry,
            },
        ),
        ref other => panic!("the minimality of {} was not checked: {other:?}", f.case),
    }
}

/// Settle reading `key` of `id` in ℝ, whose found case must read `want` and have been checked
/// to be simplest: what that check enumerated.
pub fn simplest(id: &str, key: &str, want: &str) -> Checked {
    let v = settle(id, key, Domain::Exact);
    let (f, checked) = minimal(&v);
    assert_eq!(f.case.to_string(), want, "{id} ({key})");
    checked
}

/// The case `v` found, checked to have `dim` coordinates and, where given, `tokens` tokens: the
/// smallest case that shows a reading fails has the size its statement leaves room for.
pub fn of_size(v: &Verdict, dim: usize, tokens: Option<usize>) -> Case {
    let c = case(v);
    assert_eq!(c.dim(), dim, "{c}");
    if let Some(n) = tokens {
        assert_eq!(c.tokens().len(), n, "{c}");
    }
    c
}

/// The found case's vector `name` and parameters, for structural assertions.
pub fn case(v: &Verdict) -> Case {
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
