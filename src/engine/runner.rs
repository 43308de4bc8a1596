//! The one seeded search runner behind the claims' search ([`crate::search`]) and the law
//! harness ([`crate::laws`]): fixed cases first, then random cases from a fresh proptest
//! [`TestRunner`] seeded from a `u64` (no failure persistence; a reused runner stops reporting
//! failures), then proptest's shrinking of a failure.
//!
//! A case is judged, rejected (the conditions do not admit it) or failed. Only judged cases are
//! counted; a run that judged nothing, or that proptest aborted because too many cases were
//! rejected, ends [`RunEnd::Inconclusive`] — never as a pass.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::Cell;
use std::fmt::Debug;

/// What the test of one case found.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseResult {
    /// The statement was judged on this case and held.
    Judged,
    /// The case is outside the conditions: not judged, not counted.
    Rejected,
    /// The case breaks the statement (∀) or witnesses it (∃).
    Failed,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd<I> {
    /// Every case judged held; `judged > 0`.
    Passed,
    /// A failing case: the first one found and where proptest's shrinking took it. `fixed` is
    /// the index of the fixed case that failed (no shrinking then).
    Failed {
        /// The first failing case found.
        first: I,
        /// After proptest's shrinking (equal to `first` for a fixed case).
        shrunk: I,
        /// Index among the fixed cases, when one of them failed.
        fixed: Option<usize>,
    },
    /// Nothing was judged, or the search was aborted: no verdict.
    Inconclusive(String),
}

/// A run's end and how many cases it judged and rejected.
#[derive(Clone, Debug, PartialEq)]
pub struct Run<I> {
    /// How it ended.
    pub end: RunEnd<I>,
    /// Cases judged (fixed and random; rejected ones not counted).
    pub judged: u32,
    /// Cases rejected as outside the conditions.
    pub rejected: u32,
}

/// The seeded random source of every search (the same cases on every machine).
pub fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&seed.rotate_left(17).to_le_bytes());
    bytes[16..24].copy_from_slice(&(!seed).to_le_bytes());
    bytes[24..].copy_from_slice(&seed.rotate_left(41).to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// A fresh runner for `cases` random cases from `seed`, allowing up to 20 rejections per
/// judged case before aborting.
pub fn runner(cases: u32, seed: u64) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_global_rejects: cases.saturating_mul(20),
        max_local_rejects: cases.saturating_mul(20),
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, rng(seed))
}

/// Run `test` on the `fixed` cases in order, then on `cases` random cases of `strategy`.
pub fn run<I, S>(
    fixed: impl IntoIterator<Item = I>,
    strategy: &S,
    cases: u32,
    seed: u64,
    test: impl Fn(&I) -> CaseResult,
) -> Run<I>
where
    I: Clone + Debug,
    S: Strategy<Value = I>,
{
    let (mut judged, mut rejected) = (0u32, 0u32);
    for (i, case) in fixed.into_iter().enumerate() {
        match test(&case) {
            CaseResult::Judged => judged += 1,
            CaseResult::Rejected => rejected += 1,
            CaseResult::Failed => {
                return Run {
                    end: RunEnd::Failed {
                        first: case.clone(),
                        shrunk: case,
                        fixed: Some(i),
                    },
                    judged,
                    rejected,
                };
            }
        }
    }
    if cases == 0 {
        return finish(judged, rejected, None);
    }
    let first: Cell<Option<I>> = Cell::new(None);
    let counting = Cell::new(true);
    let (j, r) = (Cell::new(judged), Cell::new(rejected));
    let mut proptest = runner(cases, seed);
    let result = proptest.run(strategy, |case| match test(&case) {
        CaseResult::Judged => {
            if counting.get() {
                j.set(j.get() + 1);
            }
            Ok(())
        }
        CaseResult::Rejected => {
            if counting.get() {
                r.set(r.get() + 1);
            }
            Err(TestCaseError::reject("outside the conditions"))
        }
        CaseResult::Failed => {
            // Shrinking calls the test again: only the search phase is counted.
            counting.set(false);
            let prev = first.take();
            first.set(Some(prev.unwrap_or_else(|| case.clone())));
            Err(TestCaseError::fail("found"))
        }
    });
    let (judged, rejected) = (j.get(), r.get());
    match result {
        Ok(()) => finish(judged, rejected, None),
        Err(TestError::Fail(_, shrunk)) => Run {
            end: RunEnd::Failed {
                first: first.take().unwrap_or_else(|| shrunk.clone()),
                shrunk,
                fixed: None,
            },
            judged,
            rejected,
        },
        Err(TestError::Abort(why)) => finish(judged, rejected, Some(why.to_string())),
    }
}

fn finish<I>(judged: u32, rejected: u32, abort: Option<String>) -> Run<I> {
    let end = match abort {
        Some(why) => RunEnd::Inconclusive(format!(
            "the search was aborted after judging {judged} cases and rejecting {rejected}: {why}"
        )),
        None if judged == 0 => RunEnd::Inconclusive(format!(
            "no case met the conditions ({rejected} rejected): nothing was judged"
        )),
        None => RunEnd::Passed,
    };
    Run {
        end,
        judged,
        rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_run_that_judges_nothing_is_inconclusive() {
        let r = run(Vec::<i32>::new(), &(0..10i32), 50, 1, |_| {
            CaseResult::Rejected
        });
        assert!(matches!(r.end, RunEnd::Inconclusive(_)), "{r:?}");
        assert_eq!(r.judged, 0);
    }

    #[test]
    fn rejected_cases_are_not_counted() {
        let r = run(vec![1, 3], &(0..100i32), 64, 7, |&x| {
            if x % 2 == 0 {
                CaseResult::Judged
            } else {
                CaseResult::Rejected
            }
        });
        assert_eq!(r.end, RunEnd::Passed);
        assert_eq!(r.judged, 64);
        assert!(r.rejected >= 2, "{r:?}");
    }

    #[test]
    fn a_failure_is_shrunk_and_a_fixed_failure_is_reported_by_index() {
        let r = run(Vec::<i32>::new(), &(0..1000i32), 256, 3, |&x| {
            if x >= 100 {
                CaseResult::Failed
            } else {
                CaseResult::Judged
            }
        });
        match r.end {
            RunEnd::Failed {
                first,
                shrunk,
                fixed,
            } => {
                assert!(first >= 100);
                assert_eq!(shrunk, 100);
                assert_eq!(fixed, None);
            }
            other => panic!("{other:?}"),
        }
        let r = run(vec![1, 2, 3], &Just(0), 10, 3, |&x| {
            if x == 2 {
                CaseResult::Failed
            } else {
                CaseResult::Judged
            }
        });
        assert_eq!(
            r.end,
            RunEnd::Failed {
                first: 2,
                shrunk: 2,
                fixed: Some(1)
            }
        );
        assert_eq!(r.judged, 1);
    }

    #[test]
    fn the_same_seed_gives_the_same_cases() {
        let collect = |seed| {
            let seen = std::cell::RefCell::new(Vec::new());
            run(Vec::<u64>::new(), &any::<u64>(), 20, seed, |&x| {
                seen.borrow_mut().push(x);
                CaseResult::Judged
            });
            seen.into_inner()
        };
        assert_eq!(collect(5), collect(5));
        assert_ne!(collect(5), collect(6));
    }
}
