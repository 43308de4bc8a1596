//! Counterexample search: the one seeded runner ([`crate::runner`]) per judgement, lattice
//! and float strategies, then a simplification pass of our own, an enumeration of every smaller
//! case within the found case's bounds (the minimality check), and the test's own
//! re-verification of the final case.

use crate::engine::claims::{
    Case, CaseOutcome, Check, Evidence, Expect, Judgement, Param, Quantifier,
};
use crate::engine::runner::{self, CaseResult, RunEnd};
use std::cell::Cell;

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

/// The most cases the minimality check enumerates for one found case.
pub const MINIMALITY_BUDGET: u64 = 40_000;

/// Whether a found case was shown to be minimal, and within which bounds.
#[derive(Clone, Debug, PartialEq)]
pub enum Minimality {
    /// Every case smaller in the complexity order ([`crate::claims::Complexity`]) with at most
    /// `max_dim` coordinates, `max_tokens` tokens, integer entries in `[−max_entry,
    /// max_entry]` and each parameter no larger than the found one's was tested; none
    /// qualifies.
    Checked {
        /// Smaller cases tested (those outside the conditions not counted).
        smaller: u64,
        /// Most coordinates enumerated.
        max_dim: usize,
        /// Most tokens enumerated.
        max_tokens: usize,
        /// Largest |entry| enumerated.
        max_entry: i64,
    },
    /// Not checked, and why (a float case, or more smaller cases than the budget).
    NotChecked(String),
}

/// A found case, simplified, with the steps that simplified it.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The case.
    pub case: Case,
    /// Both sides of the statement at the case, and how they were confirmed.
    pub evidence: Evidence,
    /// The first case the search found, before any shrinking.
    pub first_found: Option<Case>,
    /// The case proptest's shrinking ended with, before our own simplification.
    pub shrunk_from: Option<Case>,
    /// The simplification steps, each strictly simpler and still a counterexample/witness.
    pub steps: Vec<String>,
    /// Whether nothing smaller qualifies.
    pub minimality: Minimality,
}

/// The computed verdict of one judgement.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// ∀: no counterexample in `cases` judged cases; the worst observed error against its
    /// bound.
    Holds {
        /// Cases judged (fixed + random; those outside the conditions not counted). Never 0.
        cases: u32,
        /// Largest observed deviation.
        worst_error: f64,
        /// The bound it was compared with at that case.
        bound: f64,
        /// Every case was decided exactly in rationals.
        exact: bool,
    },
    /// ∀: a counterexample.
    Refuted(Found),
    /// ∃: a witness.
    Witnessed(Found),
    /// ∃: none found in `cases` judged cases.
    NoWitness {
        /// Cases judged.
        cases: u32,
    },
    /// Nothing was judged, or the search was aborted: no verdict at all.
    Inconclusive {
        /// Cases judged before it ended.
        judged: u32,
        /// Cases rejected as outside the conditions.
        rejected: u32,
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// Whether this verdict says the statement is true.
    pub fn says_holds(&self) -> bool {
        matches!(self, Verdict::Holds { .. } | Verdict::Witnessed(_))
    }
    /// Whether it agrees with what the proof states (an inconclusive verdict never does).
    pub fn agrees_with(&self, expect: Expect) -> bool {
        match self {
            Verdict::Inconclusive { .. } => false,
            v => v.says_holds() == (expect == Expect::Holds),
        }
    }
    /// The found case, if any.
    pub fn found(&self) -> Option<&Found> {
        match self {
            Verdict::Refuted(f) | Verdict::Witnessed(f) => Some(f),
            _ => None,
        }
    }
    /// One word: holds, refuted, witnessed, no witness, inconclusive.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Holds { .. } => "holds",
            Verdict::Refuted(_) => "refuted",
            Verdict::Witnessed(_) => "holds (witness)",
            Verdict::NoWitness { .. } => "no witness found",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }
}

/// The most test evaluations one simplification spends (long float rows have thousands of
/// neighbours per step).
pub const SIMPLIFY_BUDGET: usize = 20_000;

/// Simplify a found case: repeatedly take the first strictly simpler neighbour
/// ([`Case::simpler`]) that is still found by the test, within [`SIMPLIFY_BUDGET`] evaluations
/// (a last step says so when the budget ran out).
pub fn simplify(test: fn(&Case) -> CaseOutcome, case: Case) -> (Case, Evidence, Vec<String>) {
    let mut cur = case;
    let mut evidence = match test(&cur) {
        CaseOutcome::Found(e) => e,
        other => panic!("simplify: the starting case is not found by the test ({other:?}): {cur}"),
    };
    let mut steps = Vec::new();
    let mut spent = 0usize;
    'outer: loop {
        let here = cur.complexity();
        let mut next = None;
        for (what, cand) in cur.simpler() {
            if cand.complexity().partial_cmp(&here) != Some(std::cmp::Ordering::Less) {
                continue;
            }
            if spent == SIMPLIFY_BUDGET {
                steps.push(format!(
                    "stopped after {SIMPLIFY_BUDGET} evaluations: simpler neighbours may remain"
                ));
                break 'outer;
            }
            spent += 1;
            if let CaseOutcome::Found(e) = test(&cand) {
                next = Some((what, cand, e));
                break;
            }
        }
        match next {
            Some((what, cand, e)) => {
                steps.push(format!("{what}: {cand}"));
                cur = cand;
                evidence = e;
            }
            None => break,
        }
    }
    (cur, evidence, steps)
}

/// Every case of the found case's shape within its bounds (see [`Minimality::Checked`]), or
/// why there are too many or they are not defined.
fn smaller_cases(c: &Case) -> Result<(Vec<Case>, usize, usize, i64), String> {
    let is_int = |x: f64| x == x.trunc() && x.abs() <= 1e6;
    let entries = || c.vectors.iter().flat_map(|(_, v)| v.iter().copied());
    if entries().any(|x| x != x.trunc()) {
        return Err(
            "the case has non-integer values: minimality is checked on lattices only".into(),
        );
    }
    if !entries().all(is_int) {
        return Err("entries above 10⁶ in magnitude: too many smaller cases to enumerate".into());
    }
    if c.params
        .iter()
        .any(|(_, p)| matches!(p, Param::Value(v) if !is_int(*v)))
    {
        return Err("a parameter is not an integer: minimality is checked on lattices only".into());
    }
    let max_entry = c
        .vectors
        .iter()
        .flat_map(|(_, v)| v.iter())
        .fold(0.0f64, |m, x| m.max(x.abs())) as i64;
    let max_entry = max_entry.max(1);
    let fixed = c.tokens_from;
    let max_tokens = c.vectors.len() - fixed;
    // Each parameter from −max(|p|, 1) to max(|p|, 1): a 0 is also tried against ±1 (ε = 0
    // against ε = 1, where a 0/0 convention might otherwise hide a simpler case).
    let prange: Vec<i64> = c.params.iter().map(|(_, p)| p.raw().abs().max(1)).collect();
    let pcount: u64 = prange.iter().map(|r| 2 * *r as u64 + 1).product();
    let side = 2 * max_entry as u64 + 1;
    let mut total = 0u64;
    for d in 1..=c.dim() {
        for t in c.min_tokens..=max_tokens {
            let n = (d * (fixed + t)) as u32;
            total = total.saturating_add(side.saturating_pow(n).saturating_mul(pcount));
        }
    }
    if total > MINIMALITY_BUDGET {
        return Err(format!(
            "{total} cases within the found case's bounds, more than the budget of {MINIMALITY_BUDGET}"
        ));
    }
    let target = c.complexity();
    let mut out = Vec::new();
    for d in 1..=c.dim() {
        for t in c.min_tokens..=max_tokens {
            let n = d * (fixed + t);
            let mut entries = vec![-max_entry; n];
            let mut params: Vec<i64> = prange.iter().map(|r| -r).collect();
            loop {
                let mut cand = c.clone();
                cand.vectors.truncate(fixed + t);
                cand.rename_tokens();
                for (k, (_, v)) in cand.vectors.iter_mut().enumerate() {
                    *v = entries[k * d..(k + 1) * d]
                        .iter()
                        .map(|&x| x as f64)
                        .collect();
                }
                for (k, (_, p)) in cand.params.iter_mut().enumerate() {
                    *p = match p {
                        Param::Int(_) => Param::Int(params[k]),
                        Param::Pow2(_) => Param::Pow2(params[k]),
                        Param::Value(_) => Param::Value(params[k] as f64),
                    };
                }
                if cand.complexity() < target {
                    out.push(cand);
                }
                // Next combination: entries, then parameters, as one odometer.
                let mut carried = true;
                for e in entries.iter_mut() {
                    if *e < max_entry {
                        *e += 1;
                        carried = false;
                        break;
                    }
                    *e = -max_entry;
                }
                if carried {
                    for (k, p) in params.iter_mut().enumerate() {
                        if *p < prange[k] {
                            *p += 1;
                            carried = false;
                            break;
                        }
                        *p = -prange[k];
                    }
                }
                if carried {
                    break;
                }
            }
        }
    }
    Ok((out, c.dim(), max_tokens, max_entry))
}

/// Check that no smaller case qualifies; if one does, the smallest such is returned instead
/// (and checked in turn).
fn minimize(
    test: fn(&Case) -> CaseOutcome,
    case: Case,
    evidence: Evidence,
) -> (Case, Evidence, Minimality, Option<String>) {
    let (mut case, mut evidence) = (case, evidence);
    let mut note = None;
    loop {
        let (mut cands, max_dim, max_tokens, max_entry) = match smaller_cases(&case) {
            Ok(v) => v,
            Err(why) => return (case, evidence, Minimality::NotChecked(why), note),
        };
        cands.sort_by(|a, b| a.complexity().partial_cmp(&b.complexity()).expect("finite"));
        let mut smaller = 0u64;
        let mut better = None;
        for cand in cands {
            match test(&cand) {
                CaseOutcome::Found(e) => {
                    better = Some((cand, e));
                    break;
                }
                CaseOutcome::Skip => {}
                _ => smaller += 1,
            }
        }
        match better {
            Some((c, e)) => {
                note = Some(format!(
                    "the minimality enumeration found a smaller case: {c}"
                ));
                case = c;
                evidence = e;
            }
            None => {
                return (
                    case,
                    evidence,
                    Minimality::Checked {
                        smaller,
                        max_dim,
                        max_tokens,
                        max_entry,
                    },
                    note,
                );
            }
        }
    }
}

/// Run one judgement's check and compute its verdict.
pub fn judge(j: &Judgement, cfg: SearchConfig) -> Verdict {
    run_check(&j.check, cfg)
}

/// Run a check: enumerated cases first (in order), then random cases; simplify and minimize
/// a found case.
pub fn run_check(check: &Check, cfg: SearchConfig) -> Verdict {
    let worst = Cell::new((0.0f64, 0.0f64));
    let exact = Cell::new(true);
    let ratio = |e: f64, b: f64| {
        if b > 0.0 {
            e / b
        } else if e > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    let run = runner::run(
        (check.enumerate)(),
        &(check.strategy)(),
        cfg.cases,
        cfg.seed,
        |case| match (check.test)(case) {
            CaseOutcome::Found(_) => CaseResult::Failed,
            CaseOutcome::Skip => CaseResult::Rejected,
            CaseOutcome::Exact => CaseResult::Judged,
            CaseOutcome::Pass { error, bound } => {
                exact.set(false);
                let w = worst.get();
                if ratio(error, bound) > ratio(w.0, w.1) || (w.0 == 0.0 && bound > w.1) {
                    worst.set((error, bound));
                }
                CaseResult::Judged
            }
        },
    );
    let wrap = |found: Found| match check.quantifier {
        Quantifier::ForAll => Verdict::Refuted(found),
        Quantifier::Exists => Verdict::Witnessed(found),
    };
    match run.end {
        RunEnd::Failed {
            first,
            shrunk,
            fixed,
        } => {
            let (case, evidence, mut steps) = simplify(check.test, shrunk.clone());
            let (case, evidence, minimality, note) = minimize(check.test, case, evidence);
            steps.extend(note);
            wrap(Found {
                case,
                evidence,
                first_found: fixed.is_none().then_some(first),
                shrunk_from: Some(shrunk),
                steps,
                minimality,
            })
        }
        RunEnd::Inconclusive(reason) => Verdict::Inconclusive {
            judged: run.judged,
            rejected: run.rejected,
            reason,
        },
        RunEnd::Passed => match check.quantifier {
            Quantifier::ForAll => {
                let (worst_error, bound) = worst.get();
                Verdict::Holds {
                    cases: run.judged,
                    worst_error,
                    bound,
                    exact: exact.get(),
                }
            }
            Quantifier::Exists => Verdict::NoWitness { cases: run.judged },
        },
    }
}

/// One judgement's computed verdict beside what the proof states.
#[derive(Clone, Debug)]
pub struct JudgementResult {
    /// ℝ, f32 or f64.
    pub domain: crate::engine::claims::Domain,
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
#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
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

/// Judge every claim of `claims`, in parallel (each search is seeded on its own, so the
/// results are those of [`evaluate`] one by one), in order.
pub fn evaluate_all(
    claims: &[crate::engine::claims::Claim],
    cfg: SearchConfig,
) -> Vec<ClaimResult> {
    use rayon::prelude::*;
    claims.par_iter().map(|c| evaluate(c, cfg)).collect()
}

/// Judge every reading of a claim.
pub fn evaluate(claim: &crate::engine::claims::Claim, cfg: SearchConfig) -> ClaimResult {
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
                        proof_states: j.proof_states,
                        verdict: judge(j, cfg),
                    })
                    .collect(),
            })
            .collect(),
        proof: claim.proof_path(),
        tests: claim.tests.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::claims::{no_cases, vectors};

    /// Found when the entries sum to 4 (two or more coordinates).
    fn sums_to_four(c: &Case) -> CaseOutcome {
        let x = c.v("x");
        if x.len() >= 2 && x.iter().sum::<f64>() == 4.0 {
            CaseOutcome::Found(Evidence::exact("Σx", 4, "not", 4))
        } else {
            CaseOutcome::Exact
        }
    }

    #[test]
    fn the_enumeration_finds_what_single_steps_cannot_and_says_minimal() {
        // From [3, 1] no single simplification step keeps the sum at 4; [2, 2] is smaller
        // (max 2 < 3) and only the enumeration reaches it.
        let start = Case::new(vec![("x", vec![3, 1])], vec![]);
        let (case, evidence, steps) = simplify(sums_to_four, start);
        assert_eq!(case.v("x"), [3.0, 1.0], "{steps:?}");
        let (case, _, minimality, note) = minimize(sums_to_four, case, evidence);
        assert_eq!(case.v("x"), [2.0, 2.0]);
        assert!(note.is_some());
        match minimality {
            Minimality::Checked {
                smaller,
                max_dim,
                max_entry,
                ..
            } => {
                assert_eq!((max_dim, max_entry), (2, 2));
                assert!(smaller > 0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn minimality_is_not_claimed_for_float_values_or_beyond_the_budget() {
        let float = Case::new(vec![("x", vec![3, 1])], vec![]);
        let mut float = float;
        float.vectors[0].1[0] = 2.5;
        assert!(smaller_cases(&float).is_err());
        let big = Case::new(vec![("x", vec![1000; 4])], vec![]);
        assert!(smaller_cases(&big).unwrap_err().contains("budget"));
    }

    #[test]
    fn a_search_that_judges_nothing_is_inconclusive() {
        let check = Check {
            quantifier: Quantifier::ForAll,
            strategy: || vectors(&["x"], 1..=2, -3..=3, vec![]),
            enumerate: no_cases,
            test: |_| CaseOutcome::Skip,
        };
        let v = run_check(&check, SearchConfig::default());
        assert!(
            matches!(v, Verdict::Inconclusive { judged: 0, .. }),
            "{v:?}"
        );
    }
}
