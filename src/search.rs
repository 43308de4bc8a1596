//! Counterexample search: a fresh, seeded proptest [`TestRunner`] per judgement (a reused
//! runner stops reporting failures; no failure persistence), integer-lattice strategies, then a
//! simplification pass of our own, then the test's own re-verification of the final case.

use crate::claims::{Case, Check, Evidence, Expect, Judgement, Outcome, Quantifier};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::Serialize;
use std::cell::RefCell;

/// How hard to search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchConfig {
    /// Random cases per judgement.
    pub cases: u32,
    /// Seed of the random cases (the output is reproducible for a given seed).
    pub seed: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            cases: 512,
            seed: 0x7472_616e_7366_6f72,
        }
    }
}

/// A found case, simplified, with the steps that simplified it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Found {
    /// The case.
    pub case: Case,
    /// Both sides of the statement at the case, and how they were confirmed.
    pub evidence: Evidence,
    /// The first case the random search found, before any shrinking.
    pub first_found: Option<Case>,
    /// The case proptest's shrinking ended with, before our own simplification.
    pub shrunk_from: Option<Case>,
    /// The simplification steps, each strictly simpler and still a counterexample/witness.
    pub steps: Vec<String>,
    /// Enumerated cases (in increasing size) that were checked before this one and did not
    /// qualify: nothing smaller than the found case exists among them.
    pub smaller_checked: usize,
}

/// The computed verdict of one judgement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Verdict {
    /// ∀: no counterexample in `cases` cases; the worst observed error against its bound.
    Holds {
        /// Cases tested (enumerated + random, skipped ones excluded).
        cases: u32,
        /// Largest observed deviation.
        worst_error: f64,
        /// The bound it was compared with at that case.
        bound: f64,
    },
    /// ∀: a counterexample.
    Refuted(Found),
    /// ∃: a witness.
    Witnessed(Found),
    /// ∃: none found in `cases` cases.
    NoWitness {
        /// Cases tested.
        cases: u32,
    },
}

impl Verdict {
    /// Whether this verdict says the statement is true.
    pub fn says_holds(&self) -> bool {
        matches!(self, Verdict::Holds { .. } | Verdict::Witnessed(_))
    }
    /// Whether it agrees with what the proof states.
    pub fn agrees_with(&self, expect: Expect) -> bool {
        self.says_holds() == (expect == Expect::Holds)
    }
    /// The found case, if any.
    pub fn found(&self) -> Option<&Found> {
        match self {
            Verdict::Refuted(f) | Verdict::Witnessed(f) => Some(f),
            _ => None,
        }
    }
    /// One word: holds, refuted, witnessed, no witness.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Holds { .. } => "holds",
            Verdict::Refuted(_) => "refuted",
            Verdict::Witnessed(_) => "holds (witness)",
            Verdict::NoWitness { .. } => "no witness found",
        }
    }
}

fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (seed.rotate_left(8 * (i as u32 % 8)) >> (i / 8)) as u8 ^ (i as u8).wrapping_mul(151);
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Simplify a found case: repeatedly take the first strictly simpler neighbour
/// ([`Case::simpler`]) that is still found by the test.
pub fn simplify(test: fn(&Case) -> Outcome, case: Case) -> (Case, Evidence, Vec<String>) {
    let mut cur = case;
    let mut evidence = match test(&cur) {
        Outcome::Found(e) => e,
        other => panic!("simplify: the starting case is not found by the test ({other:?}): {cur}"),
    };
    let mut steps = Vec::new();
    'outer: loop {
        for (what, cand) in cur.simpler() {
            if cand.complexity() >= cur.complexity() {
                continue;
            }
            if let Outcome::Found(e) = test(&cand) {
                steps.push(format!("{what}: {cand}"));
                cur = cand;
                evidence = e;
                continue 'outer;
            }
        }
        break;
    }
    (cur, evidence, steps)
}

/// Keep the case whose error is the largest fraction of its bound.
fn note(error: f64, bound: f64, worst: &mut (f64, f64)) {
    let ratio = |e: f64, b: f64| {
        if b > 0.0 {
            e / b
        } else if e > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    if ratio(error, bound) > ratio(worst.0, worst.1) || (worst.0 == 0.0 && bound > worst.1) {
        *worst = (error, bound);
    }
}

/// Run one judgement's check and compute its verdict.
pub fn judge(j: &Judgement, cfg: SearchConfig) -> Verdict {
    run_check(&j.check, cfg)
}

/// Run a check: enumerated cases first (in order), then random lattice cases.
pub fn run_check(check: &Check, cfg: SearchConfig) -> Verdict {
    let mut tested = 0u32;
    let mut worst = (0.0f64, 0.0f64);
    let wrap = |found: Found| match check.quantifier {
        Quantifier::ForAll => Verdict::Refuted(found),
        Quantifier::Exists => Verdict::Witnessed(found),
    };
    for (i, case) in (check.enumerate)().enumerate() {
        match (check.test)(&case) {
            Outcome::Found(_) => {
                let (case, evidence, steps) = simplify(check.test, case);
                return wrap(Found {
                    case,
                    evidence,
                    first_found: None,
                    shrunk_from: None,
                    steps,
                    smaller_checked: i,
                });
            }
            Outcome::Pass { error, bound } => {
                tested += 1;
                note(error, bound, &mut worst);
            }
            Outcome::Skip => {}
        }
    }
    let config = Config {
        cases: cfg.cases,
        failure_persistence: None,
        max_global_rejects: cfg.cases.saturating_mul(20),
        max_local_rejects: cfg.cases.saturating_mul(20),
        max_shrink_iters: 1_000_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng(cfg.seed));
    let worst_cell = RefCell::new(worst);
    let tested_cell = RefCell::new(tested);
    let first: RefCell<Option<Case>> = RefCell::new(None);
    let result = runner.run(&(check.strategy)(), |case| match (check.test)(&case) {
        Outcome::Found(_) => {
            first.borrow_mut().get_or_insert_with(|| case.clone());
            Err(TestCaseError::fail("found"))
        }
        Outcome::Pass { error, bound } => {
            *tested_cell.borrow_mut() += 1;
            note(error, bound, &mut worst_cell.borrow_mut());
            Ok(())
        }
        Outcome::Skip => Err(TestCaseError::reject("conditions not met")),
    });
    let (worst, tested) = (worst_cell.into_inner(), tested_cell.into_inner());
    match result {
        Err(TestError::Fail(_, case)) => {
            let start = case.clone();
            let (case, evidence, steps) = simplify(check.test, case);
            wrap(Found {
                case,
                evidence,
                first_found: first.into_inner(),
                shrunk_from: Some(start),
                steps,
                smaller_checked: 0,
            })
        }
        _ => match check.quantifier {
            Quantifier::ForAll => Verdict::Holds {
                cases: tested,
                worst_error: worst.0,
                bound: worst.1,
            },
            Quantifier::Exists => Verdict::NoWitness { cases: tested },
        },
    }
}

/// One judgement's computed verdict beside what the proof states.
#[derive(Clone, Debug, Serialize)]
pub struct JudgementResult {
    /// ℝ, f32 or f64.
    pub domain: crate::claims::Domain,
    /// ∀ or ∃.
    pub quantifier: Quantifier,
    /// What the proof states.
    pub proof_states: Expect,
    /// What the search computed.
    pub verdict: Verdict,
}

impl JudgementResult {
    /// The verdict agrees with the proof, and a `Holds` never saw an error above its bound.
    pub fn consistent(&self) -> bool {
        let within = match &self.verdict {
            Verdict::Holds {
                worst_error, bound, ..
            } => worst_error <= bound,
            _ => true,
        };
        self.verdict.agrees_with(self.proof_states) && within
    }
}

/// One reading with its judgements' results.
#[derive(Clone, Debug, Serialize)]
pub struct ReadingResult {
    /// `a`, `b`, …
    pub key: &'static str,
    /// The precise statement.
    pub statement: &'static str,
    /// Its conditions.
    pub conditions: &'static str,
    /// The corrected statement, for a reading that fails somewhere.
    pub corrected: Option<&'static str>,
    /// Per domain.
    pub judgements: Vec<JudgementResult>,
}

/// A claim with every reading judged.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimResult {
    /// The id.
    pub id: &'static str,
    /// The thread's words.
    pub words: &'static str,
    /// The readings.
    pub readings: Vec<ReadingResult>,
    /// Path of the proof.
    pub proof: String,
    /// Tests that check it.
    pub tests: Vec<&'static str>,
}

impl ClaimResult {
    /// Every judgement consistent with its proof.
    pub fn consistent(&self) -> bool {
        self.readings
            .iter()
            .all(|r| r.judgements.iter().all(JudgementResult::consistent))
    }
}

/// Judge every reading of a claim.
pub fn evaluate(claim: &crate::claims::Claim, cfg: SearchConfig) -> ClaimResult {
    ClaimResult {
        id: claim.id,
        words: claim.words,
        readings: claim
            .readings
            .iter()
            .map(|r| ReadingResult {
                key: r.key,
                statement: r.statement,
                conditions: r.conditions,
                corrected: r.corrected,
                judgements: r
                    .judgements
                    .iter()
                    .map(|j| JudgementResult {
                        domain: j.domain,
                        quantifier: j.check.quantifier,
                        proof_states: j.expect,
                        verdict: judge(j, cfg),
                    })
                    .collect(),
            })
            .collect(),
        proof: claim.proof_path(),
        tests: claim.tests.to_vec(),
    }
}
