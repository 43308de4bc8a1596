//! The JSON of `show --format json` and `check --format json` follows the committed schema
//! `schema/verdict.schema.json`: every claim's document, the `check` document (from the real
//! binary, agreeing and failing), a document with every verdict, verification, minimality and
//! parameter shape, and the schema rejects serde's internal enum shapes.

use serde_json::{Value, json};
use std::process::Command;
use transformer_laws::claims::{
    self, Case, Domain, Evidence, Expect, Param, Quantifier, Values, Verification,
};
use transformer_laws::report::{self, SCHEMA_VERSION};
use transformer_laws::search::{
    ClaimResult, Found, JudgementResult, Minimality, ReadingResult, SearchConfig, Verdict,
};

fn schema() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/verdict.schema.json"
    ))
    .expect("the schema is committed");
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    let s = schema();
    jsonschema::meta::validate(&s).expect("the schema is a valid draft 2020-12 schema");
    jsonschema::draft202012::new(&s).expect("the schema compiles")
}

/// Every schema error of `doc`, one per line (empty when it is valid).
fn errors(v: &jsonschema::Validator, doc: &Value) -> String {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let e = errors(v, doc);
    assert!(e.is_empty(), "{what} does not follow the schema:\n{e}");
    assert_eq!(doc["schema_version"], SCHEMA_VERSION, "{what}");
}

fn binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_transformer-laws"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The one JSON document `out` printed, which follows the schema, after checking the exit
/// status.
fn document(v: &jsonschema::Validator, out: &std::process::Output, code: i32, what: &str) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what} prints one JSON document: {e}"));
    assert_valid(v, &doc, what);
    doc
}

/// The one JSON document the binary prints for `command` (its arguments, separated by spaces),
/// which exits with `code` and follows the schema.
fn command_document(command: &str, code: i32) -> Value {
    let args: Vec<&str> = command.split(' ').collect();
    document(&validator(), &binary(&args), code, command)
}

#[test]
fn the_schema_pins_the_version_of_report_rs() {
    assert_eq!(
        schema()["$defs"]["schema_version"]["const"],
        SCHEMA_VERSION,
        "bump SCHEMA_VERSION in src/engine/report.rs and the schema together"
    );
    assert_eq!(
        schema()["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

/// The `check` document from the binary follows the schema, its claims are exactly the `show`
/// documents of those claims (without the search fields), and its counts match.
#[test]
fn check_and_every_claims_show_follow_the_schema() {
    let v = validator();
    // The binary's check runs beside the in-process show documents below (two cores).
    let check_run = std::thread::spawn(|| binary(&["check", "--format", "json"]));
    let cfg = SearchConfig::default();
    let shows: Vec<Value> = crate::support::default_results()
        .iter()
        .map(|r| {
            let doc = report::json(r, cfg);
            serde_json::from_str(&doc).expect("show prints one JSON document")
        })
        .collect();
    let out = check_run.join().expect("the check run");
    let check = document(&v, &out, 0, "check --format json");
    assert_eq!(check["cases"], cfg.cases);
    assert_eq!(check["seed"], cfg.seed);

    let registry = claims::registry();
    let listed = check["claims"].as_array().expect("claims");
    assert_eq!(listed.len(), registry.len());
    let mut judgements = 0;
    for ((claim, in_check), mut show) in registry.iter().zip(listed).zip(shows) {
        assert_valid(&v, &show, claim.id);
        for k in ["schema_version", "cases", "seed"] {
            show.as_object_mut().unwrap().remove(k);
        }
        assert_eq!(&show, in_check, "check and show disagree on {}", claim.id);
        judgements += claim
            .readings
            .iter()
            .map(|r| r.judgements.len())
            .sum::<usize>();
    }
    assert_eq!(check["agree"], judgements);
    assert_eq!(check["disagree"], 0);
}

/// With no random cases nothing is judged: every verdict is inconclusive, `check` exits 1, and
/// its document still follows the schema and counts the disagreements.
#[test]
fn an_inconclusive_check_is_a_valid_document_and_exits_1() {
    let doc = command_document("check cosine-sign-slip --cases 0 --format json", 1);
    let js = doc["claims"][0]["readings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["judgements"].as_array().unwrap().clone())
        .collect::<Vec<_>>();
    assert!(!js.is_empty());
    for j in &js {
        assert_eq!(j["verdict"], "inconclusive", "{j}");
        assert_eq!(j["agrees_with_proof"], false, "{j}");
        assert_eq!(j["judged"], 0, "{j}");
    }
    assert_eq!(doc["agree"], 0);
    assert_eq!(doc["disagree"], js.len());
    assert_eq!(doc["claims"][0]["agrees_with_proof"], false);
}

#[test]
fn show_json_through_the_binary_records_the_search() {
    let doc = command_document("show cosine-sign-slip --format json --cases 40 --seed 7", 0);
    assert_eq!(doc["id"], "cosine-sign-slip");
    assert_eq!(doc["cases"], 40);
    assert_eq!(doc["seed"], 7);
}

fn found(case: Case, verification: Verification, minimality: Minimality) -> Found {
    Found {
        case: case.clone(),
        evidence: Evidence {
            lhs_label: "L(α₂·z)".into(),
            lhs: "0.0".into(),
            rhs_label: "L(α₁·z)".into(),
            rhs: "0.0".into(),
            verification,
        },
        first_found: None,
        shrunk_from: Some(case),
        steps: vec!["drop token w2: …".into()],
        minimality,
    }
}

fn judgement(
    domain: Domain,
    quantifier: Quantifier,
    expect: Expect,
    v: Verdict,
) -> JudgementResult {
    JudgementResult {
        domain,
        quantifier,
        proof_states: expect,
        verdict: v,
    }
}

/// A claim with every shape the format has: each verdict, verification, minimality, parameter
/// kind and kind of numbers.
fn every_shape() -> ClaimResult {
    let lattice = Case::with_tokens(
        vec![("x", vec![1, 0])],
        vec![vec![2, 1], vec![0, -3]],
        2,
        vec![("α", Param::Pow2(6)), ("n", Param::Int(-2))],
    );
    let f32_case = Case::of_values(
        vec![("q", vec![f64::from(1.1f32)])],
        vec![("ε", Param::Value(f64::from(0.1f32)))],
        Values::F32,
    );
    let checked = Minimality::Checked {
        smaller: 72,
        max_dim: 2,
        max_tokens: 2,
        max_entry: 3,
    };
    let not_checked = Minimality::NotChecked("the case has non-integer values".into());
    use Domain::*;
    use Expect::*;
    use Quantifier::*;
    let judgements = vec![
        judgement(
            Exact,
            ForAll,
            Holds,
            Verdict::Holds {
                cases: 512,
                worst_error: 0.0,
                bound: 0.0,
                exact: true,
            },
        ),
        judgement(
            F32,
            ForAll,
            Holds,
            Verdict::Holds {
                cases: 300,
                worst_error: 1.5e-7,
                bound: 7.2e-7,
                exact: false,
            },
        ),
        judgement(
            Exact,
            ForAll,
            Fails,
            Verdict::Refuted(found(lattice.clone(), Verification::Exact, checked)),
        ),
        judgement(
            F32,
            ForAll,
            Fails,
            Verdict::Refuted(found(
                f32_case,
                Verification::Arithmetic(F32),
                not_checked.clone(),
            )),
        ),
        judgement(
            Exact,
            Exists,
            Holds,
            Verdict::Witnessed(found(
                lattice,
                Verification::Margin {
                    margin: 0.25,
                    bound: 1e-15,
                },
                not_checked,
            )),
        ),
        judgement(F64, Exists, Fails, Verdict::NoWitness { cases: 512 }),
        judgement(
            F64,
            ForAll,
            Holds,
            Verdict::Inconclusive {
                judged: 3,
                rejected: 1021,
                reason: "too many cases rejected".into(),
            },
        ),
    ];
    ClaimResult {
        id: "every-shape",
        words: "a synthetic claim",
        readings: vec![ReadingResult {
            key: "a",
            statement: "a statement",
            conditions: "none",
            corrected: Some("a corrected statement"),
            judgements,
        }],
        proof: "proofs/every-shape.md".into(),
        tests: vec!["json_schema::every_shape"],
    }
}

#[test]
fn every_verdict_shape_follows_the_schema_with_plain_fields() {
    let v = validator();
    let cfg = SearchConfig::default();
    let doc: Value = serde_json::from_str(&report::json(&every_shape(), cfg)).unwrap();
    assert_valid(&v, &doc, "every shape");
    let js = &doc["readings"][0]["judgements"];
    let verdicts: Vec<&str> = js
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        [
            "holds",
            "holds",
            "refuted",
            "refuted",
            "witnessed",
            "no_witness",
            "inconclusive"
        ]
    );
    assert_eq!(js[0]["domain"], "real");
    assert_eq!(js[0]["decided_exactly"], true);
    assert_eq!(js[1]["domain"], "f32");
    assert_eq!(js[1]["bound"], 7.2e-7);
    assert_eq!(js[2]["proof_states"], "fails");
    assert_eq!(js[2]["quantifier"], "for_all");
    assert_eq!(js[6]["agrees_with_proof"], false);
    assert_eq!(js[6]["reason"], "too many cases rejected");

    let ce = &js[2]["counterexample"];
    assert_eq!(
        ce["case"]["text"],
        "x = [1, 0], w0 = [2, 1], w1 = [0, -3], α = 2^6, n = -2"
    );
    assert_eq!(ce["case"]["numbers"], "lattice");
    assert_eq!(
        ce["case"]["vectors"][2],
        json!({"name": "w1", "shown": "[0, -3]", "values": [0.0, -3.0]})
    );
    assert_eq!(
        ce["case"]["params"][0],
        json!({"name": "α", "shown": "2^6", "value": 64.0, "kind": "pow2", "exponent": 6})
    );
    assert_eq!(
        ce["case"]["params"][1],
        json!({"name": "n", "shown": "-2", "value": -2.0, "kind": "int"})
    );
    assert_eq!(ce["lhs"], json!({"label": "L(α₂·z)", "value": "0.0"}));
    assert_eq!(ce["verification"]["method"], "exact_rational");
    assert_eq!(ce["minimality"]["checked"], true);
    assert_eq!(ce["minimality"]["smaller_cases"], 72);
    assert_eq!(ce["minimality"]["max_entry"], 3);

    // f32 values: shown with f32 shortest digits, raw as the exact widened value.
    let f = &js[3]["counterexample"];
    assert_eq!(f["case"]["numbers"], "f32");
    assert_eq!(f["case"]["vectors"][0]["shown"], "[1.1]");
    assert_eq!(f["case"]["vectors"][0]["values"][0], f64::from(1.1f32));
    assert_eq!(
        f["case"]["params"][0],
        json!({"name": "ε", "shown": "0.1", "value": f64::from(0.1f32), "kind": "value"})
    );
    assert_eq!(
        f["verification"],
        json!({
            "method": "float_arithmetic",
            "arithmetic": "f32",
            "summary": "computed by this crate in f32 arithmetic (re-evaluated deterministically)"
        })
    );
    assert_eq!(f["minimality"]["checked"], false);
    assert_eq!(f["minimality"]["reason"], "the case has non-integer values");

    let w = &js[4]["witness"]["verification"];
    assert_eq!(w["method"], "f64_margin");
    assert_eq!(w["margin"], 0.25);
    assert_eq!(w["bound"], 1e-15);
}

/// A change to a valid document.
type Mutation = fn(&mut Value);

/// The schema is not vacuous: each of these breaks it (serde's internal shapes among them).
#[test]
fn the_schema_rejects_internal_shapes_and_wrong_versions() {
    let v = validator();
    let cfg = SearchConfig::default();
    let good: Value = serde_json::from_str(&report::json(&every_shape(), cfg)).unwrap();
    let mutations: Vec<(&str, Mutation)> = vec![
        ("another schema_version", |d| {
            d["schema_version"] = json!("0.9.0")
        }),
        ("proof_states \"Fails\"", |d| {
            d["readings"][0]["judgements"][2]["proof_states"] = json!("Fails")
        }),
        ("domain \"ℝ\"", |d| {
            d["readings"][0]["judgements"][0]["domain"] = json!("ℝ")
        }),
        ("a parameter {\"Pow2\": 6}", |d| {
            d["readings"][0]["judgements"][2]["counterexample"]["case"]["params"][0] =
                json!({"Pow2": 6})
        }),
        ("a verdict {\"Refuted\": {…}}", |d| {
            let j = &mut d["readings"][0]["judgements"][2];
            let found = j["counterexample"].take();
            *j = json!({
                "domain": "real", "quantifier": "for_all", "proof_states": "fails",
                "agrees_with_proof": true, "summary": "refuted in ℝ",
                "verdict": {"Refuted": found}
            });
        }),
        ("a refutation without its counterexample", |d| {
            d["readings"][0]["judgements"][2]
                .as_object_mut()
                .unwrap()
                .remove("counterexample");
        }),
        ("a holds verdict with 0 cases", |d| {
            d["readings"][0]["judgements"][1]["cases"] = json!(0)
        }),
        ("an inconclusive verdict that agrees", |d| {
            d["readings"][0]["judgements"][6]["agrees_with_proof"] = json!(true)
        }),
        ("minimality checked without its bounds", |d| {
            d["readings"][0]["judgements"][2]["counterexample"]["minimality"] =
                json!({"checked": true, "summary": "minimal"})
        }),
        ("an unknown field", |d| d["extra"] = json!(1)),
    ];
    for (what, mutate) in mutations {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(
            !errors(&v, &doc).is_empty(),
            "the schema accepts a document with {what}"
        );
    }
}
