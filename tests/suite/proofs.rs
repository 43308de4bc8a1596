//! Consistency of the registry, the proofs and the README: a registry id without a proof, a
//! proof or registry entry naming a test that does not exist, or a README claim table that
//! differs from the computed verdicts fails here.

use std::fs;
use std::path::Path;
use transformer_laws::claims::registry;
use transformer_laws::report::table;
use transformer_laws::search::SearchConfig;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `tests/suite/<module>.rs` defines a test function `name` (for `module::name`).
fn test_exists(qualified: &str) -> bool {
    let Some((file, name)) = qualified.split_once("::") else {
        return false;
    };
    let Ok(src) = fs::read_to_string(root().join("tests/suite").join(format!("{file}.rs"))) else {
        return false;
    };
    src.contains(&format!("fn {name}("))
}

#[test]
fn every_claim_has_a_proof_indexed_in_the_proofs_readme() {
    let index = fs::read_to_string(root().join("proofs/README.md")).unwrap();
    for c in registry() {
        let path = root().join(c.proof_path());
        let proof = fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} has no proof at {}", c.id, path.display()));
        for section in [
            "## Statement",
            "## Conditions",
            "## Proof",
            "## Floating point",
            "## References",
            "## Tests",
        ] {
            assert!(
                proof.contains(section),
                "{} lacks the section {section}",
                c.proof_path()
            );
        }
        for r in &c.readings {
            assert!(
                proof.contains(&format!("({})", r.key)) || c.readings.len() == 1,
                "{} does not discuss reading ({})",
                c.proof_path(),
                r.key
            );
        }
        assert!(
            index.contains(&format!("]({}.md)", c.id)),
            "proofs/README.md does not index {}",
            c.id
        );
    }
}

#[test]
fn every_named_test_exists() {
    for c in registry() {
        assert!(!c.tests.is_empty(), "{} names no test", c.id);
        for t in c.tests {
            assert!(
                test_exists(t),
                "registry entry {} names the test {t}, which does not exist",
                c.id
            );
        }
        let proof = fs::read_to_string(root().join(c.proof_path())).unwrap();
        let tests = proof.split("## Tests").nth(1).unwrap_or("");
        for line in tests.lines().filter_map(|l| l.strip_prefix("- `")) {
            let name = line.trim_end_matches('`');
            assert!(
                test_exists(name),
                "{} names the test {name}, which does not exist",
                c.proof_path()
            );
        }
    }
}

#[test]
fn the_readme_claim_table_is_the_computed_one() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- claims-table -->")
        .expect("README has a claims table marker")
        + "<!-- claims-table -->".len();
    let end = readme
        .find("<!-- /claims-table -->")
        .expect("README has an end marker");
    let want = table(crate::support::default_results());
    assert_eq!(
        readme[start..end].trim(),
        want.trim(),
        "README's claim table is stale: regenerate it with `cargo run --release -- list --markdown`"
    );
}

#[test]
fn every_computed_verdict_agrees_with_its_proof() {
    for r in crate::support::default_results() {
        assert!(
            r.consistent(),
            "{}: {}",
            r.id,
            transformer_laws::report::text(r)
        );
    }
}

/// Every refutation and witness `check` and `show` display (the default search) is found again
/// with every tie broken the other way: no displayed evidence rests on a tie broken by index.
#[test]
fn no_displayed_evidence_rests_on_a_tie() {
    use transformer_laws::claims::{CaseOutcome, with_ties_reversed};
    let mut rejudged = 0;
    for (c, computed) in registry().iter().zip(crate::support::default_results()) {
        for (r, rr) in c.readings.iter().zip(&computed.readings) {
            for (j, jr) in r.judgements.iter().zip(&rr.judgements) {
                let Some(f) = jr.verdict.found() else {
                    continue;
                };
                let again = with_ties_reversed(|| (j.check.test)(&f.case));
                assert!(
                    matches!(again, CaseOutcome::Found(_)),
                    "{} ({}) in {}: {} is not found with ties reversed: {again:?}",
                    c.id,
                    r.key,
                    j.domain,
                    f.case
                );
                rejudged += 1;
            }
        }
    }
    assert!(rejudged >= 35, "only {rejudged} found cases");
}

/// A reading whose conditions no case meets is inconclusive: it agrees with no proof, in
/// either direction, and so fails `check`.
#[test]
fn a_reading_whose_conditions_are_never_met_is_inconclusive() {
    use transformer_laws::claims::{CaseOutcome, Domain, Expect, Judgement, Quantifier, vectors};
    use transformer_laws::search::{Verdict, judge};
    fn never(_: &transformer_laws::claims::Case) -> CaseOutcome {
        CaseOutcome::Skip
    }
    for q in [Quantifier::ForAll, Quantifier::Exists] {
        let j = Judgement::new(
            Domain::Exact,
            Expect::Holds,
            q,
            || vectors(&["x"], 1..=3, -4..=4, vec![]),
            never,
        );
        let v = judge(&j, SearchConfig::default());
        assert!(
            matches!(v, Verdict::Inconclusive { judged: 0, .. }),
            "{v:?}"
        );
        assert!(!v.agrees_with(Expect::Holds) && !v.agrees_with(Expect::Fails));
        assert_eq!(v.word(), "inconclusive");
    }
}

/// Text, Markdown and LaTeX show the same lines for every claim: conditions, verdicts, found
/// cases with both sides, how they were verified, minimality, and corrected statements. A
/// format that dropped one (LaTeX once showed no conditions) would mislead whoever pastes it.
#[test]
fn every_format_shows_the_same_evidence() {
    use transformer_laws::report::{latex, markdown, text};
    let count = |doc: &str, what: &str| doc.lines().filter(|l| l.contains(what)).count();
    let mut shown = 0;
    for r in crate::support::default_results() {
        let docs = [text(r), markdown(r), latex(r)];
        for what in [
            "conditions: ",
            "minimal",
            "corrected: ",
            "ounterexample: ",
            "itness: ",
            "verified exactly",
            "evaluated in f64",
        ] {
            let n: Vec<usize> = docs.iter().map(|d| count(d, what)).collect();
            assert!(
                n.iter().all(|&k| k == n[0]),
                "{}: \"{what}\" appears {n:?} times in text, Markdown, LaTeX",
                r.id
            );
            shown += n[0];
        }
    }
    assert!(
        shown > 100,
        "only {shown} evidence lines in the registry's reports"
    );
}
