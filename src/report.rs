//! Rendering computed verdicts as text, Markdown, JSON or LaTeX. Nothing here computes a
//! verdict; everything rendered comes from [`crate::search::evaluate`].

use crate::claims::{Expect, Verification};
use crate::search::{ClaimResult, Found, JudgementResult, Minimality, ReadingResult, Verdict};
use std::fmt::Write;

/// Output formats of `show`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text.
    Text,
    /// Markdown, pasteable into a forum comment.
    Markdown,
    /// JSON.
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
                    "holds in {} ({cases} cases; worst error {worst_error:.3e} ≤ bound {bound:.3e})",
                    j.domain
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

/// What the minimality check established, in words.
pub fn minimality(m: &Minimality) -> String {
    match m {
        Minimality::Checked {
            smaller,
            max_dim,
            max_tokens,
            max_entry,
        } if *smaller == 0 => format!(
            "minimal: no smaller case with at most {max_dim} coordinates, {max_tokens} tokens and integer entries in [−{max_entry}, {max_entry}] meets the conditions"
        ),
        Minimality::Checked {
            smaller,
            max_dim,
            max_tokens,
            max_entry,
        } => format!(
            "minimal: all {smaller} smaller cases (fewer dimensions, then tokens, then zeros, then smaller entries, then fewer negatives) with at most {max_dim} coordinates, {max_tokens} tokens and integer entries in [−{max_entry}, {max_entry}] were checked; none qualifies"
        ),
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
            format!("this is {d} arithmetic itself (re-evaluated deterministically)")
        }
    }
}

fn found_lines(f: &Found, kind: &str) -> Vec<String> {
    let mut out = vec![format!("{kind}: {}", f.case)];
    out.push(format!("  {} = {}", f.evidence.lhs_label, f.evidence.lhs));
    out.push(format!("  {} = {}", f.evidence.rhs_label, f.evidence.rhs));
    out.push(format!("  {}", verification(&f.evidence.verification)));
    out.push(format!("  {}", minimality(&f.minimality)));
    out
}

/// Plain text.
pub fn text(r: &ClaimResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", r.id);
    let _ = writeln!(s, "  thread: \"{}\"", r.words);
    for rd in &r.readings {
        let _ = writeln!(s, "  ({}) {}", rd.key, rd.statement);
        if rd.conditions != "none" {
            let _ = writeln!(s, "      conditions: {}", rd.conditions);
        }
        for j in &rd.judgements {
            let _ = writeln!(s, "      {}", verdict_line(j));
            if let Some(f) = j.verdict.found() {
                let kind = if matches!(j.verdict, Verdict::Refuted(_)) {
                    "counterexample"
                } else {
                    "witness"
                };
                for l in found_lines(f, kind) {
                    let _ = writeln!(s, "        {l}");
                }
            }
            if !j.consistent() {
                let _ = writeln!(
                    s,
                    "      !! this disagrees with the proof, which states the reading {}",
                    states(j.proof_states)
                );
            }
        }
        if let Some(c) = corrected(rd) {
            let _ = writeln!(s, "      corrected: {c}");
        }
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
    let _ = writeln!(s, "**`{}`** — *\"{}\"*\n", r.id, r.words);
    for rd in &r.readings {
        let _ = writeln!(s, "- **({})** {}", rd.key, rd.statement);
        if rd.conditions != "none" {
            let _ = writeln!(s, "  - conditions: {}", rd.conditions);
        }
        for j in &rd.judgements {
            let _ = writeln!(s, "  - **{}**", verdict_line(j));
            if let Some(f) = j.verdict.found() {
                let kind = if matches!(j.verdict, Verdict::Refuted(_)) {
                    "Counterexample"
                } else {
                    "Witness"
                };
                let _ = writeln!(s, "    - {kind}: `{}`", f.case);
                let _ = writeln!(s, "    - `{}` = `{}`", f.evidence.lhs_label, f.evidence.lhs);
                let _ = writeln!(s, "    - `{}` = `{}`", f.evidence.rhs_label, f.evidence.rhs);
                let _ = writeln!(s, "    - {}", verification(&f.evidence.verification));
                let _ = writeln!(s, "    - {}", minimality(&f.minimality));
            }
        }
        if let Some(c) = corrected(rd) {
            let _ = writeln!(s, "  - corrected: {c}");
        }
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

/// JSON (every field of the computed result).
pub fn json(r: &ClaimResult) -> String {
    serde_json::to_string_pretty(r).expect("results serialize")
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
    let _ = writeln!(
        s,
        "\\paragraph{{\\texttt{{{}}}}} \\emph{{``{}''}}",
        tex(r.id),
        tex(r.words)
    );
    let _ = writeln!(s, "\\begin{{itemize}}");
    for rd in &r.readings {
        let _ = writeln!(s, "  \\item[({})] {}", tex(rd.key), tex(rd.statement));
        let _ = writeln!(s, "  \\begin{{itemize}}");
        for j in &rd.judgements {
            let _ = writeln!(s, "    \\item \\textbf{{{}}}", tex(&verdict_line(j)));
            if let Some(f) = j.verdict.found() {
                let _ = writeln!(s, "    \\item \\texttt{{{}}}", tex(&f.case.to_string()));
                let _ = writeln!(
                    s,
                    "    \\item \\texttt{{{} = {}}}",
                    tex(&f.evidence.lhs_label),
                    tex(&f.evidence.lhs)
                );
                let _ = writeln!(
                    s,
                    "    \\item \\texttt{{{} = {}}}",
                    tex(&f.evidence.rhs_label),
                    tex(&f.evidence.rhs)
                );
                let _ = writeln!(
                    s,
                    "    \\item {}",
                    tex(&verification(&f.evidence.verification))
                );
            }
        }
        if let Some(c) = corrected(rd) {
            let _ = writeln!(s, "    \\item corrected: {}", tex(c));
        }
        let _ = writeln!(s, "  \\end{{itemize}}");
    }
    let _ = writeln!(s, "\\end{{itemize}}");
    s
}

/// Render in a format.
pub fn render(r: &ClaimResult, format: Format) -> String {
    match format {
        Format::Text => text(r),
        Format::Markdown => markdown(r),
        Format::Json => json(r),
        Format::Latex => latex(r),
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
