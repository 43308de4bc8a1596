//! Special-value policies: what a function returns where correct implementations differ.
//!
//! Each [`PolicyCase`] is one input (`[+∞, 0]`, an all −∞ row, a constant row at ε = 0, an empty
//! row, …) with the documented answers: this crate's, PyTorch's (observed from
//! `torch.nn.functional` 2.15 on CPU, float32 and float64 alike) and, for empty input, an error
//! (a panic in Rust, an exception in Python). [`Policy`] says which are accepted; answers are
//! compared bit for bit (NaN matches NaN, `+0` matches `−0`).

use super::{Config, Kind, LawInput, LawResult, Mismatch, Outcome, failure, guarded, show};
use crate::kernels::scalar::Real;
use std::fmt;

/// Which documented special-value answers are accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// Any documented answer (the default): this crate's, PyTorch's, or an error for empty
    /// input.
    #[default]
    Any,
    /// This crate's answers only (its README's special-value table).
    ThisCrate,
    /// PyTorch's answers only.
    PyTorch,
}

impl Policy {
    /// What this setting accepts, in words.
    pub fn accepting(self) -> &'static str {
        match self {
            Policy::Any => "any documented answer",
            Policy::ThisCrate => "this crate's answers",
            Policy::PyTorch => "PyTorch's answers",
        }
    }
    fn accepts(self, who: Whose) -> bool {
        match self {
            Policy::Any => true,
            Policy::ThisCrate => who == Whose::ThisCrate,
            Policy::PyTorch => who == Whose::PyTorch,
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "any" => Ok(Policy::Any),
            "crate" | "this_crate" | "transformer_laws" => Ok(Policy::ThisCrate),
            "torch" | "pytorch" => Ok(Policy::PyTorch),
            _ => Err(format!(
                "unknown policy '{s}' (expected 'any', 'crate' or 'torch')"
            )),
        }
    }
}

/// Whose documented answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose {
    /// This crate's.
    ThisCrate,
    /// PyTorch's.
    PyTorch,
    /// Raising an error (a panic) — documented for empty input only.
    Error,
}

impl Whose {
    /// The answer's owner in words.
    pub fn answer(self) -> &'static str {
        match self {
            Whose::ThisCrate => "this crate's answer",
            Whose::PyTorch => "PyTorch's answer",
            Whose::Error => "an error",
        }
    }
}

impl fmt::Display for Whose {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Whose::ThisCrate => "this crate",
            Whose::PyTorch => "PyTorch",
            Whose::Error => "error",
        })
    }
}

/// A documented answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// These values, bit for bit (as `f64`, rounded to the type).
    Values(Vec<f64>),
    /// An error (a panic, or a Python exception).
    Error,
}

/// One special input and its documented answers.
pub struct PolicyCase<I, T> {
    /// Short name (`"+∞ entry"`).
    pub name: &'static str,
    /// The input.
    pub input: I,
    /// The documented answers.
    pub answers: Vec<(Whose, Answer)>,
    /// The type of the answers.
    pub _t: std::marker::PhantomData<T>,
}

impl<I, T> PolicyCase<I, T> {
    /// A case with this crate's and PyTorch's answers (and, for an empty input, an error).
    pub fn new(name: &'static str, input: I, this_crate: &[f64], pytorch: &[f64]) -> Self {
        PolicyCase {
            name,
            input,
            answers: vec![
                (Whose::ThisCrate, Answer::Values(this_crate.to_vec())),
                (Whose::PyTorch, Answer::Values(pytorch.to_vec())),
            ],
            _t: std::marker::PhantomData,
        }
    }
    /// Also accept an error (documented for empty input).
    pub fn or_error(mut self) -> Self {
        self.answers.push((Whose::Error, Answer::Error));
        self
    }
}

fn same<T: Real>(got: &[T], want: &[f64]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(&g, &w)| crate::kernels::tolerance::ulp_distance(g, T::narrow(w)) == 0)
}

fn describe<T: Real>(a: &Answer) -> String {
    match a {
        Answer::Values(v) => show(&super::row::<T>(v)),
        Answer::Error => "an error".into(),
    }
}

/// Judge each policy case: the implementation's answer must be one the setting accepts.
pub fn run_policies<I: LawInput, T: Real>(
    cases: Vec<PolicyCase<I, T>>,
    call: &dyn Fn(&I) -> Vec<T>,
    cfg: &Config,
) -> Vec<LawResult> {
    let mut results = Vec::new();
    for case in cases {
        let statement = {
            let parts: Vec<String> = case
                .answers
                .iter()
                .map(|(who, a)| format!("{who}: {}", describe::<T>(a)))
                .collect();
            format!("{:?} → {}", case.input, parts.join("; "))
        };
        let outcome = if cfg.skip.contains(&case.name) {
            Outcome::Skipped
        } else {
            let got = guarded(|| call(&case.input));
            let fits = |a: &Answer| match (a, &got) {
                (Answer::Values(v), Ok(g)) => same(g, v),
                (Answer::Error, Err(_)) => true,
                _ => false,
            };
            // An accepted answer first: several owners may document the same values.
            let matched = case
                .answers
                .iter()
                .find(|(who, a)| cfg.policy.accepts(*who) && fits(a))
                .or_else(|| case.answers.iter().find(|(_, a)| fits(a)));
            let accepted: Vec<String> = case
                .answers
                .iter()
                .filter(|(who, _)| cfg.policy.accepts(*who))
                .map(|(who, a)| format!("{} ({who})", describe::<T>(a)))
                .collect();
            let got_text = match &got {
                Ok(g) => show(g),
                Err(msg) if msg.starts_with("raised ") => msg.clone(),
                Err(msg) => format!("panic: {msg}"),
            };
            match matched {
                Some((who, _)) if cfg.policy.accepts(*who) => Outcome::Accepted(
                    case.answers
                        .iter()
                        .filter(|(w, a)| cfg.policy.accepts(*w) && fits(a))
                        .map(|(w, _)| *w)
                        .collect(),
                ),
                other => failure(
                    &case.input,
                    Mismatch::new(
                        accepted.join(" or "),
                        got_text,
                        match other {
                            Some((who, _)) => format!(
                                "{} — not accepted with {}",
                                who.answer(),
                                cfg.policy.accepting()
                            ),
                            None => "no documented answer".into(),
                        },
                    ),
                ),
            }
        };
        results.push(LawResult {
            kind: Kind::Policy,
            name: case.name,
            statement,
            outcome,
        });
    }
    results
}
