//! Rendering computed verdicts as text, Markdown, JSON or LaTeX. Nothing here computes a
//! verdict; everything rendered comes from [`crate::search::evaluate`].

use crate::engine::claims::{
    Case, Domain, Expect, Param, Quantifier, Values, Verification, show_vec,
};
use crate::engine::search::{
    ClaimResult, Found, JudgementResult, Minimality, ReadingResult, SearchConfig, Verdict,
};
use serde::Serialize;
use std::fmt::Write;

/// Output formats of `show`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ShowFormat {
    /// Plain text.
    Text,
    /// Markdown, pasteable into a forum comment.
    Markdown,
    /// JSON following `schema/verdict.schema.json`.
    Json,
    /// LaTeX.
    Latex,
}

/// A one-line summary of a verdict.
pub fn verdict_line(j: &JudgementResult) -> String {
    match &j.verdict {
        Verdict::Holds {
            cases,
            worst_error,
            bound,
            exact,
        } => {
            if *exact {
                format!(
                    "holds in {} ({cases} cases, each decided exactly in rationals)",
                    j.domain
                )
            } else if *bound == 0.0 && *worst_error == 0.0 {
                format!(
                    "holds in {} ({cases} cases; no deviation allowed, none seen)",
                    j.domain
                )
            } else {
                format!(
                    "holds in {} ({cases} cases; worst error {worst_error:.3e} ≤ bound {bound:.3e}, {:.2} of it)",
                    j.domain,
                    worst_error / bound
                )
            }
        }
        Verdict::Refuted(_) => format!("refuted in {}", j.domain),
        Verdict::Witnessed(_) => format!("holds in {} (witness found)", j.domain),
        Verdict::NoWitness { cases } => format!("no witness in {} ({cases} cases)", j.domain),
        Verdict::Inconclusive { reason, .. } => {
            format!("INCONCLUSIVE in {}: {reason}", j.domain)
        }
    }
}

/// Words that are not a quote from the thread start with a parenthesis (a description of
/// where the claim comes from): shown as the source, not in quotation marks.
fn source(words: &str) -> Option<&str> {
    words.starts_with('(').then_some(words)
}

/// `n thing` or `n things`.
fn count(n: impl std::fmt::Display + PartialEq<usize>, thing: &str) -> String {
    if n == 1 {
        format!("{n} {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// What the minimality check established, in words.
pub fn minimality(m: &Minimality) -> String {
    match m {
        Minimality::Checked {
            smaller,
            max_dim,
            max_tokens,
            max_entry,
        } => {
            let within = format!(
                "with at most {}, {} and integer entries in [−{max_entry}, {max_entry}]",
                count(*max_dim, "coordinate"),
                count(*max_tokens, "token")
            );
            if *smaller == 0 {
                format!("minimal: no smaller case {within} meets the conditions")
            } else {
                format!(
                    "minimal: every smaller case (fewer dimensions, then tokens, then zeros, then smaller entries, then fewer negatives) {within} was checked ({}); none qualifies",
                    count(*smaller as usize, "case")
                )
            }
        }
        Minimality::NotChecked(why) => format!("minimality not checked: {why}"),
    }
}

/// The corrected statement, shown only where some judgement of the reading fails.
fn corrected(rd: &ReadingResult) -> Option<&'static str> {
    rd.corrected
        .filter(|_| rd.judgements.iter().any(|j| !j.verdict.says_holds()))
}

fn verification(v: &Verification) -> String {
    match v {
        Verification::Exact => "verified exactly in rational arithmetic".into(),
        Verification::Margin { margin, bound } => {
            if *bound > 0.0 {
                format!(
                    "evaluated in f64: margin {margin:.6e}, {:.1e} × the rounding bound {bound:.3e}",
                    margin / bound
                )
            } else {
                format!(
                    "evaluated in f64: margin {margin:.6e} (the comparison involves no rounding)"
                )
            }
        }
        Verification::Arithmetic(d) => {
            format!("computed by this crate in {d} arithmetic (re-evaluated deterministically)")
        }
    }
}

/// One line of a claim's report before any markup: every format shows the same lines, so
/// none can leave out a condition, a minimality statement or a disagreement with the proof.
enum Line<'a> {
    /// A reading: its key and statement.
    Reading { key: &'a str, statement: &'a str },
    /// A reading's conditions (not shown when they are "none").
    Conditions(&'a str),
    /// A judgement's verdict.
    Verdict(String),
    /// The case a judgement found: a counterexample (`refuted`) or a witness.
    Found { refuted: bool, case: String },
    /// One side of the relation at the found case: label and value.
    Side { label: &'a str, value: &'a str },
    /// How the found case was verified, or whether it is minimal.
    Note(String),
    /// A verdict that disagrees with the proof, which states the reading holds or fails.
    Disagrees(&'static str),
    /// The corrected statement of a reading that fails somewhere.
    Corrected(&'static str),
}

/// The lines of `r`'s readings, in order.
fn lines(r: &ClaimResult) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for rd in &r.readings {
        out.push(Line::Reading {
            key: rd.key,
            statement: rd.statement,
        });
        if rd.conditions != "none" {
            out.push(Line::Conditions(rd.conditions));
        }
        for j in &rd.judgements {
            out.push(Line::Verdict(verdict_line(j)));
            if let Some(f) = j.verdict.found() {
                out.push(Line::Found {
                    refuted: matches!(j.verdict, Verdict::Refuted(_)),
                    case: f.case.to_string(),
                });
                for (label, value) in [
                    (&f.evidence.lhs_label, &f.evidence.lhs),
                    (&f.evidence.rhs_label, &f.evidence.rhs),
                ] {
                    out.push(Line::Side { label, value });
                }
                out.push(Line::Note(verification(&f.evidence.verification)));
                out.push(Line::Note(minimality(&f.minimality)));
            }
            if !j.consistent() {
                out.push(Line::Disagrees(states(j.proof_states)));
            }
        }
        if let Some(c) = corrected(rd) {
            out.push(Line::Corrected(c));
        }
    }
    out
}

fn found_kind(refuted: bool) -> &'static str {
    if refuted { "counterexample" } else { "witness" }
}

fn disagreement(states: &str) -> String {
    format!("this disagrees with the proof, which states the reading {states}")
}

/// Plain text.
pub fn text(r: &ClaimResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", r.id);
    match source(r.words) {
        Some(words) => {
            let _ = writeln!(s, "  source: {words}");
        }
        None => {
            let _ = writeln!(s, "  thread: \"{}\"", r.words);
        }
    }
    for line in lines(r) {
        let _ = match line {
            Line::Reading { key, statement } => writeln!(s, "  ({key}) {statement}"),
            Line::Conditions(c) => writeln!(s, "      conditions: {c}"),
            Line::Verdict(v) => writeln!(s, "      {v}"),
            Line::Found { refuted, case } => writeln!(s, "        {}: {case}", found_kind(refuted)),
            Line::Side { label, value } => writeln!(s, "          {label} = {value}"),
            Line::Note(n) => writeln!(s, "          {n}"),
            Line::Disagrees(st) => writeln!(s, "      !! {}", disagreement(st)),
            Line::Corrected(c) => writeln!(s, "      corrected: {c}"),
        };
    }
    let _ = writeln!(s, "  proof: {}", r.proof);
    let _ = writeln!(s, "  tests: {}", r.tests.join(", "));
    s
}

fn states(e: Expect) -> &'static str {
    match e {
        Expect::Holds => "holds",
        Expect::Fails => "fails",
    }
}

/// Markdown, pasteable into a forum comment.
pub fn markdown(r: &ClaimResult) -> String {
    let mut s = String::new();
    match source(r.words) {
        Some(words) => {
            let _ = writeln!(s, "**`{}`** — {words}\n", r.id);
        }
        None => {
            let _ = writeln!(s, "**`{}`** — *\"{}\"*\n", r.id, r.words);
        }
    }
    for line in lines(r) {
        let _ = match line {
            Line::Reading { key, statement } => writeln!(s, "- **({key})** {statement}"),
            Line::Conditions(c) => writeln!(s, "  - conditions: {c}"),
            Line::Verdict(v) => writeln!(s, "  - **{v}**"),
            Line::Found { refuted, case } => {
                writeln!(s, "    - {}: `{case}`", capitalized(found_kind(refuted)))
            }
            Line::Side { label, value } => writeln!(s, "    - `{label}` = `{value}`"),
            Line::Note(n) => writeln!(s, "    - {n}"),
            Line::Disagrees(st) => writeln!(s, "  - **{}**", capitalized(&disagreement(st))),
            Line::Corrected(c) => writeln!(s, "  - corrected: {c}"),
        };
    }
    let _ = writeln!(
        s,
        "\nProof: `{}` · checked by `transformer-laws check {}` and the tests {}",
        r.proof,
        r.id,
        r.tests
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ---- JSON ----------------------------------------------------------------------------------
//
// The JSON documents are built from explicit DTOs below, not from the engine's own types: the
// engine's serde shapes (`{"Pow2": 0}`, `"Fails"`, `{"Refuted": {…}}`) are internal and free to
// change; these follow `schema/verdict.schema.json`.

/// The version of the JSON format, carried by every document as `schema_version` and pinned by
/// `schema/verdict.schema.json`. Semantic versioning: MAJOR when a field is removed, renamed,
/// changes type or meaning, or an enumeration gains a value; MINOR when a field is added;
/// PATCH for changes to the schema's descriptions only.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// `show --format json`: one claim, with the search that judged it.
#[derive(Serialize)]
pub struct ShowDoc<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Random cases per judgement.
    pub cases: u32,
    /// Seed of the random cases.
    pub seed: u64,
    /// The claim.
    #[serde(flatten)]
    pub claim: ClaimDoc<'a>,
}

/// `check --format json`: every claim checked, and how many judgements agree with the proofs.
#[derive(Serialize)]
pub struct CheckDoc<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Random cases per judgement.
    pub cases: u32,
    /// Seed of the random cases.
    pub seed: u64,
    /// The claims, in the order checked.
    pub claims: Vec<ClaimDoc<'a>>,
    /// Judgements whose verdict agrees with the proof.
    pub agree: usize,
    /// Judgements whose verdict disagrees with the proof or is inconclusive.
    pub disagree: usize,
}

/// A claim and its judged readings.
#[derive(Serialize)]
pub struct ClaimDoc<'a> {
    /// The id (`proofs/<id>.md`).
    pub id: &'a str,
    /// The thread's words.
    pub words: &'a str,
    /// The readings.
    pub readings: Vec<ReadingDoc<'a>>,
    /// Path of the proof.
    pub proof: &'a str,
    /// Tests that check the claim.
    pub tests: Vec<&'a str>,
    /// Every judgement agrees with its proof.
    pub agrees_with_proof: bool,
}

/// One reading.
#[derive(Serialize)]
pub struct ReadingDoc<'a> {
    /// `a`, `b`, `c1`, …
    pub key: &'a str,
    /// The precise statement.
    pub statement: &'a str,
    /// Its conditions (`"none"` when it has none).
    pub conditions: &'a str,
    /// The statement that does hold, where some judgement of the reading fails (as the text
    /// report shows it); otherwise null.
    pub corrected: Option<&'a str>,
    /// One per domain.
    pub judgements: Vec<JudgementDoc>,
}

/// Where a reading is judged.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainDoc {
    /// ℝ.
    Real,
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
}

impl From<Domain> for DomainDoc {
    fn from(d: Domain) -> Self {
        match d {
            Domain::Exact => DomainDoc::Real,
            Domain::F32 => DomainDoc::F32,
            Domain::F64 => DomainDoc::F64,
        }
    }
}

/// ∀ or ∃.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantifierDoc {
    /// A found case is a counterexample.
    ForAll,
    /// A found case is a witness.
    Exists,
}

/// What the proof states.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatesDoc {
    /// The reading is true.
    Holds,
    /// The reading is false.
    Fails,
}

/// One judgement: the domain, what the proof states, the computed verdict and its details.
#[derive(Serialize)]
pub struct JudgementDoc {
    /// ℝ, f32 or f64.
    pub domain: DomainDoc,
    /// ∀ or ∃.
    pub quantifier: QuantifierDoc,
    /// What the proof states.
    pub proof_states: StatesDoc,
    /// The verdict agrees with the proof (and a "holds" saw no error above its bound).
    pub agrees_with_proof: bool,
    /// The one-line verdict of the text report.
    pub summary: String,
    /// The verdict (`"verdict"`) and the fields of that verdict.
    #[serde(flatten)]
    pub verdict: VerdictDoc,
}

/// A computed verdict: the tag `verdict` and its fields, beside the judgement's.
#[derive(Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum VerdictDoc {
    /// ∀: no counterexample among the cases judged.
    Holds {
        /// Cases judged (those outside the conditions not counted).
        cases: u32,
        /// The observed error at the case where error / bound was largest (0 when every case
        /// was decided exactly).
        worst_error: f64,
        /// The error bound of that case (0 when every case was decided exactly).
        bound: f64,
        /// Every case was decided exactly in rationals.
        decided_exactly: bool,
    },
    /// ∀: a counterexample.
    Refuted {
        /// The counterexample.
        counterexample: FoundDoc,
    },
    /// ∃: a witness.
    Witnessed {
        /// The witness.
        witness: FoundDoc,
    },
    /// ∃: no witness among the cases judged.
    NoWitness {
        /// Cases judged.
        cases: u32,
    },
    /// No verdict: nothing was judged, or the search was aborted.
    Inconclusive {
        /// Cases judged before it ended.
        judged: u32,
        /// Cases rejected as outside the conditions.
        rejected: u32,
        /// Why.
        reason: String,
    },
}

/// A counterexample or witness: the case, both sides of the statement there, how they were
/// confirmed, and whether a smaller case was ruled out.
#[derive(Serialize)]
pub struct FoundDoc {
    /// The case.
    pub case: CaseDoc,
    /// The left side of the statement at the case.
    pub lhs: SideDoc,
    /// The right side.
    pub rhs: SideDoc,
    /// How the two sides were evaluated.
    pub verification: VerificationDoc,
    /// The minimality check.
    pub minimality: MinimalityDoc,
    /// The search that led to the case.
    pub search: SearchTraceDoc,
}

/// A case: the text the report prints, and each vector and parameter shown and raw.
#[derive(Serialize)]
pub struct CaseDoc {
    /// The case as the text report prints it (`x = [1, 0], w0 = [2, 1], α = 2^3`).
    pub text: String,
    /// What the numbers are: `lattice` (exact reals), `f32` or `f64` values.
    pub numbers: NumbersDoc,
    /// The vectors, in order.
    pub vectors: Vec<VectorDoc>,
    /// The scalar parameters, in order.
    pub params: Vec<ParamDoc>,
}

/// What a case's numbers are.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumbersDoc {
    /// Integers (or short dyadic fractions) taken as exact reals.
    Lattice,
    /// `f32` values.
    F32,
    /// `f64` values.
    F64,
}

impl From<Values> for NumbersDoc {
    fn from(v: Values) -> Self {
        match v {
            Values::Lattice => NumbersDoc::Lattice,
            Values::F32 => NumbersDoc::F32,
            Values::F64 => NumbersDoc::F64,
        }
    }
}

/// A named vector of a case.
#[derive(Serialize)]
pub struct VectorDoc {
    /// Its name in the statement (`x`, `w0`, `k1`, …).
    pub name: String,
    /// As the reader sees it (`[1, -0.5]`; f32 values with f32 shortest digits).
    pub shown: String,
    /// The exact values used, as f64 numbers (an f32 value widened exactly).
    pub values: Vec<f64>,
}

/// A named scalar parameter of a case: the tag `kind` and its number, beside the name.
#[derive(Serialize)]
pub struct ParamDoc {
    /// Its name in the statement (`α`, `ε`, …).
    pub name: String,
    /// As the reader sees it (`3`, `2^6`, `0.1`).
    pub shown: String,
    /// The value used, as an f64 number.
    pub value: f64,
    /// How it was drawn.
    #[serde(flatten)]
    pub kind: ParamKindDoc,
}

/// How a parameter was drawn.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParamKindDoc {
    /// An integer.
    Int,
    /// The power of two `2^exponent`.
    Pow2 {
        /// The exponent.
        exponent: i64,
    },
    /// A value of the case's float type.
    Value,
}

impl ParamDoc {
    fn new(name: &str, p: Param, values: Values) -> ParamDoc {
        ParamDoc {
            name: name.to_string(),
            shown: p.show(values),
            value: p.value(),
            kind: match p {
                Param::Int(_) => ParamKindDoc::Int,
                Param::Pow2(k) => ParamKindDoc::Pow2 { exponent: k },
                Param::Value(_) => ParamKindDoc::Value,
            },
        }
    }
}

impl From<&Case> for CaseDoc {
    fn from(c: &Case) -> Self {
        CaseDoc {
            text: c.to_string(),
            numbers: c.values.into(),
            vectors: c
                .vectors
                .iter()
                .map(|(name, v)| VectorDoc {
                    name: name.clone(),
                    shown: show_vec(v, c.values),
                    values: v.clone(),
                })
                .collect(),
            params: c
                .params
                .iter()
                .map(|(name, p)| ParamDoc::new(name, *p, c.values))
                .collect(),
        }
    }
}

/// One side of the statement at a found case.
#[derive(Serialize)]
pub struct SideDoc {
    /// What it is (`L(α₂·z)`).
    pub label: String,
    /// Its value as the report prints it.
    pub value: String,
}

/// How the two sides of a found case were evaluated: the tag `method` and its fields.
#[derive(Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum VerificationDoc {
    /// Both sides exactly, in rational arithmetic.
    ExactRational {
        /// The report's sentence.
        summary: String,
    },
    /// In f64, with the sides apart by `margin` against the evaluation's rounding `bound`.
    F64Margin {
        /// |lhs − rhs|, or the amount by which the inequality is violated.
        margin: f64,
        /// The evaluation's error bound (0 when the comparison involves no rounding).
        bound: f64,
        /// The report's sentence.
        summary: String,
    },
    /// The statement is about this floating-point arithmetic: the computed values are the
    /// evidence.
    FloatArithmetic {
        /// The arithmetic.
        arithmetic: DomainDoc,
        /// The report's sentence.
        summary: String,
    },
}

impl From<&Verification> for VerificationDoc {
    fn from(v: &Verification) -> Self {
        let summary = verification(v);
        match v {
            Verification::Exact => VerificationDoc::ExactRational { summary },
            Verification::Margin { margin, bound } => VerificationDoc::F64Margin {
                margin: *margin,
                bound: *bound,
                summary,
            },
            Verification::Arithmetic(d) => VerificationDoc::FloatArithmetic {
                arithmetic: (*d).into(),
                summary,
            },
        }
    }
}

/// Whether a found case was shown minimal: `checked`, with the bounds of the enumeration and
/// the number of smaller cases tested, or not, with the reason.
#[derive(Serialize)]
#[serde(untagged)]
pub enum MinimalityDoc {
    /// Every smaller case within the bounds was tested; none qualifies.
    Checked {
        /// Always true.
        checked: bool,
        /// Smaller cases tested (those outside the conditions not counted).
        smaller_cases: u64,
        /// Most coordinates enumerated.
        max_dim: usize,
        /// Most tokens enumerated.
        max_tokens: usize,
        /// Largest |entry| enumerated.
        max_entry: i64,
        /// The report's sentence.
        summary: String,
    },
    /// Not checked.
    NotChecked {
        /// Always false.
        checked: bool,
        /// Why not.
        reason: String,
        /// The report's sentence.
        summary: String,
    },
}

impl From<&Minimality> for MinimalityDoc {
    fn from(m: &Minimality) -> Self {
        let summary = minimality(m);
        match m {
            Minimality::Checked {
                smaller,
                max_dim,
                max_tokens,
                max_entry,
            } => MinimalityDoc::Checked {
                checked: true,
                smaller_cases: *smaller,
                max_dim: *max_dim,
                max_tokens: *max_tokens,
                max_entry: *max_entry,
                summary,
            },
            Minimality::NotChecked(why) => MinimalityDoc::NotChecked {
                checked: false,
                reason: why.clone(),
                summary,
            },
        }
    }
}

/// The search behind a found case, as `find` prints it.
#[derive(Serialize)]
pub struct SearchTraceDoc {
    /// The first case the random search found (null when an enumerated case was found).
    pub first_found: Option<String>,
    /// Where proptest's shrinking ended.
    pub shrunk_from: Option<String>,
    /// Our simplification steps, each strictly simpler and still found.
    pub steps: Vec<String>,
}

impl From<&Found> for FoundDoc {
    fn from(f: &Found) -> Self {
        let e = &f.evidence;
        FoundDoc {
            case: (&f.case).into(),
            lhs: SideDoc {
                label: e.lhs_label.clone(),
                value: e.lhs.clone(),
            },
            rhs: SideDoc {
                label: e.rhs_label.clone(),
                value: e.rhs.clone(),
            },
            verification: (&e.verification).into(),
            minimality: (&f.minimality).into(),
            search: SearchTraceDoc {
                first_found: f.first_found.as_ref().map(Case::to_string),
                shrunk_from: f.shrunk_from.as_ref().map(Case::to_string),
                steps: f.steps.clone(),
            },
        }
    }
}

impl From<&Verdict> for VerdictDoc {
    fn from(v: &Verdict) -> Self {
        match v {
            Verdict::Holds {
                cases,
                worst_error,
                bound,
                exact,
            } => VerdictDoc::Holds {
                cases: *cases,
                worst_error: *worst_error,
                bound: *bound,
                decided_exactly: *exact,
            },
            Verdict::Refuted(f) => VerdictDoc::Refuted {
                counterexample: f.into(),
            },
            Verdict::Witnessed(f) => VerdictDoc::Witnessed { witness: f.into() },
            Verdict::NoWitness { cases } => VerdictDoc::NoWitness { cases: *cases },
            Verdict::Inconclusive {
                judged,
                rejected,
                reason,
            } => VerdictDoc::Inconclusive {
                judged: *judged,
                rejected: *rejected,
                reason: reason.clone(),
            },
        }
    }
}

impl From<&JudgementResult> for JudgementDoc {
    fn from(j: &JudgementResult) -> Self {
        JudgementDoc {
            domain: j.domain.into(),
            quantifier: match j.quantifier {
                Quantifier::ForAll => QuantifierDoc::ForAll,
                Quantifier::Exists => QuantifierDoc::Exists,
            },
            proof_states: match j.proof_states {
                Expect::Holds => StatesDoc::Holds,
                Expect::Fails => StatesDoc::Fails,
            },
            agrees_with_proof: j.consistent(),
            summary: verdict_line(j),
            verdict: (&j.verdict).into(),
        }
    }
}

impl<'a> From<&'a ClaimResult> for ClaimDoc<'a> {
    fn from(r: &'a ClaimResult) -> Self {
        ClaimDoc {
            id: r.id,
            words: r.words,
            readings: r
                .readings
                .iter()
                .map(|rd| ReadingDoc {
                    key: rd.key,
                    statement: rd.statement,
                    conditions: rd.conditions,
                    corrected: corrected(rd),
                    judgements: rd.judgements.iter().map(JudgementDoc::from).collect(),
                })
                .collect(),
            proof: &r.proof,
            tests: r.tests.clone(),
            agrees_with_proof: r.consistent(),
        }
    }
}

/// `show --format json`: the document of one claim ([`ShowDoc`]).
pub fn json(r: &ClaimResult, cfg: SearchConfig) -> String {
    let doc = ShowDoc {
        schema_version: SCHEMA_VERSION,
        cases: cfg.cases,
        seed: cfg.seed,
        claim: r.into(),
    };
    serde_json::to_string_pretty(&doc).expect("the JSON documents serialize")
}

/// `check --format json`: the document of every claim checked ([`CheckDoc`]).
pub fn check_json(results: &[ClaimResult], cfg: SearchConfig) -> String {
    let claims: Vec<ClaimDoc> = results.iter().map(ClaimDoc::from).collect();
    let judgements = || {
        results
            .iter()
            .flat_map(|r| &r.readings)
            .flat_map(|rd| &rd.judgements)
    };
    let agree = judgements().filter(|j| j.consistent()).count();
    let doc = CheckDoc {
        schema_version: SCHEMA_VERSION,
        cases: cfg.cases,
        seed: cfg.seed,
        claims,
        agree,
        disagree: judgements().count() - agree,
    };
    serde_json::to_string_pretty(&doc).expect("the JSON documents serialize")
}

fn tex(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\^{}"),
            _ => out.push(ch),
        }
    }
    out
}

/// LaTeX (an `itemize` per claim; Unicode math symbols are kept, so compile with a Unicode
/// engine such as LuaLaTeX or XeLaTeX).
pub fn latex(r: &ClaimResult) -> String {
    let mut s = String::new();
    let words = match source(r.words) {
        Some(words) => tex(words),
        None => format!("\\emph{{``{}''}}", tex(r.words)),
    };
    let _ = writeln!(s, "\\paragraph{{\\texttt{{{}}}}} {words}", tex(r.id));
    let _ = writeln!(s, "\\begin{{itemize}}");
    let mut inner = false;
    for line in lines(r) {
        let item = match line {
            Line::Reading { key, statement } => {
                if inner {
                    let _ = writeln!(s, "  \\end{{itemize}}");
                }
                let _ = writeln!(s, "  \\item[({})] {}", tex(key), tex(statement));
                let _ = writeln!(s, "  \\begin{{itemize}}");
                inner = true;
                continue;
            }
            Line::Conditions(c) => format!("conditions: {}", tex(c)),
            Line::Verdict(v) => format!("\\textbf{{{}}}", tex(&v)),
            Line::Found { refuted, case } => format!(
                "{}: \\texttt{{{}}}",
                capitalized(found_kind(refuted)),
                tex(&case)
            ),
            Line::Side { label, value } => format!("\\texttt{{{} = {}}}", tex(label), tex(value)),
            Line::Note(n) => tex(&n),
            Line::Disagrees(st) => format!("\\textbf{{{}}}", tex(&capitalized(&disagreement(st)))),
            Line::Corrected(c) => format!("corrected: {}", tex(c)),
        };
        let _ = writeln!(s, "    \\item {item}");
    }
    if inner {
        let _ = writeln!(s, "  \\end{{itemize}}");
    }
    let _ = writeln!(s, "\\end{{itemize}}");
    let _ = writeln!(
        s,
        "Proof: \\texttt{{{}}}; checked by \\texttt{{transformer-laws check {}}}.",
        tex(&r.proof),
        tex(r.id)
    );
    s
}

/// Render in a format (`cfg` is the search that computed `r`; the JSON document records it).
pub fn render(r: &ClaimResult, format: ShowFormat, cfg: SearchConfig) -> String {
    match format {
        ShowFormat::Text => text(r),
        ShowFormat::Markdown => markdown(r),
        ShowFormat::Json => json(r, cfg),
        ShowFormat::Latex => latex(r),
    }
}

/// The README's claim table: one row per judgement.
pub fn table(results: &[ClaimResult]) -> String {
    let mut s = String::from("| claim | reading | domain | verdict |\n|---|---|---|---|\n");
    for r in results {
        for rd in &r.readings {
            for j in &rd.judgements {
                let _ = writeln!(
                    s,
                    "| [`{}`](proofs/{}.md) | ({}) {} | {} | {} |",
                    r.id,
                    r.id,
                    rd.key,
                    rd.statement.replace('|', "\\|"),
                    j.domain,
                    j.verdict.word()
                );
            }
        }
    }
    s
}

/// The simplification steps of a found case, for `find`.
pub fn steps(f: &Found) -> String {
    let mut s = String::new();
    if let Some(first) = &f.first_found {
        let _ = writeln!(s, "first case found by the random search: {first}");
    }
    if let Some(start) = &f.shrunk_from {
        let _ = writeln!(s, "after proptest's shrinking:            {start}");
    }
    for (i, st) in f.steps.iter().enumerate() {
        let _ = writeln!(s, "simplification {}: {st}", i + 1);
    }
    if f.steps.is_empty() {
        let _ = writeln!(
            s,
            "no strictly simpler neighbour is still found by the test"
        );
    }
    let _ = writeln!(s, "final: {}", f.case);
    s
}

/// `list`: each claim id, then one line per judgement: `(key) [domain] verdict statement`.
pub fn list_text(results: &[ClaimResult]) -> String {
    let mut s = String::new();
    for r in results {
        let _ = writeln!(s, "{}", r.id);
        for rd in &r.readings {
            for j in &rd.judgements {
                let _ = writeln!(
                    s,
                    "  ({}) [{}] {:<16} {}",
                    rd.key,
                    j.domain,
                    j.verdict.word(),
                    rd.statement
                );
            }
        }
    }
    s
}

/// What `check` prints: one line per judgement, whether its computed verdict agrees with
/// what the claim's proof states, and a summary.
pub struct CheckText {
    /// The judgement lines and the summary line (stdout).
    pub text: String,
    /// One message per judgement that disagrees with its proof (stderr).
    pub disagreements: Vec<String>,
}

/// `check` as text: `ok`/`FAIL`, the claim, the reading and the verdict line per judgement,
/// then `N judgements of M claims: … agree with the proofs, … do not (cases, seed)`.
pub fn check_text(results: &[ClaimResult], cfg: SearchConfig) -> CheckText {
    let mut text = String::new();
    let mut disagreements = Vec::new();
    let mut n = 0;
    for r in results {
        for rd in &r.readings {
            for j in &rd.judgements {
                n += 1;
                let ok = j.consistent();
                let _ = writeln!(
                    text,
                    "{} {:<36} ({}) {}",
                    if ok { "ok  " } else { "FAIL" },
                    r.id,
                    rd.key,
                    verdict_line(j)
                );
                if !ok {
                    disagreements.push(format!(
                        "{} ({}) in {}: computed '{}' but {} states the reading {}",
                        r.id,
                        rd.key,
                        j.domain,
                        j.verdict.word(),
                        r.proof,
                        if j.proof_states == Expect::Holds {
                            "holds"
                        } else {
                            "fails"
                        }
                    ));
                }
            }
        }
    }
    let _ = writeln!(
        text,
        "{} judgements of {} claims: {} agree with the proofs, {} do not (cases {}, seed {})",
        n,
        results.len(),
        n - disagreements.len(),
        disagreements.len(),
        cfg.cases,
        cfg.seed
    );
    CheckText {
        text,
        disagreements,
    }
}

/// `find`: for each judgement, the reading, and the search's case with its simplification
/// steps and the two sides compared (or that the search found none).
pub fn find_text(readings: &[(&str, &str, Domain, Verdict)]) -> String {
    let mut s = String::new();
    for (key, statement, domain, v) in readings {
        let _ = writeln!(s, "({key}) [{domain}] {statement}");
        match v {
            Verdict::Refuted(f) | Verdict::Witnessed(f) => {
                let _ = writeln!(s, "  {} — search and simplification:", v.word());
                for line in steps(f).lines() {
                    let _ = writeln!(s, "    {line}");
                }
                let _ = writeln!(s, "    {} = {}", f.evidence.lhs_label, f.evidence.lhs);
                let _ = writeln!(s, "    {} = {}", f.evidence.rhs_label, f.evidence.rhs);
            }
            Verdict::Holds { cases, .. } => {
                let _ = writeln!(s, "  holds: no counterexample in {cases} cases");
            }
            Verdict::NoWitness { cases } => {
                let _ = writeln!(s, "  no witness in {cases} cases");
            }
            Verdict::Inconclusive { reason, .. } => {
                let _ = writeln!(s, "  inconclusive: {reason}");
            }
        }
    }
    s
}
