//! The `transformer-laws` binary, driven as a user drives it: stdin in, stdout and the exit
//! status out.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use transformer_laws::report;
use transformer_laws::search::SearchConfig;

/// The binary started on `args`, with `stdin` written to it from a thread of its own (so a
/// child that stops reading cannot block the test).
fn spawn(args: &[&str], stdin: &[u8]) -> (std::process::Child, std::thread::JoinHandle<()>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_transformer-laws"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    (child, writer)
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let (child, writer) = spawn(args, stdin);
    let out = child.wait_with_output().expect("the binary finishes");
    writer.join().unwrap();
    out
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn softmax_good_input() {
    let out = run(
        &["compute", "softmax"],
        b"{\"x\": [0, 0]}\n{\"x\": [1000, 1000, \"-Infinity\"]}\n",
    );
    assert_eq!(
        lines(&out),
        [r#"{"y":[0.5,0.5]}"#, r#"{"y":[0.5,0.5,0.0]}"#]
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The one output line of `compute args` on the one input `line`.
fn compute_line(args: &[&str], line: &str) -> String {
    let out = run(
        &[&["compute"], args].concat(),
        format!("{line}\n").as_bytes(),
    );
    let l = lines(&out);
    assert_eq!(l.len(), 1, "compute {args:?} on {line}: {l:?}");
    l[0].clone()
}

#[test]
fn accuracy_traps_through_the_cli() {
    for (args, input, want) in [
        (
            &["log_softmax", "--dtype", "f32"][..],
            r#"{"x":[0,-20]}"#,
            r#"{"y":[-2.0611537e-9,-20.0]}"#,
        ),
        (
            &["cross_entropy"],
            r#"{"logits":[40,0],"target":0}"#,
            r#"{"loss":4.248354255291589e-18,"grad":[-4.248354255291589e-18,4.248354255291589e-18]}"#,
        ),
        (
            &["rms_norm", "--dtype", "f32"],
            r#"{"x":[3e19,4e19],"eps":1e-5}"#,
            r#"{"y":[0.84852815,1.1313708]}"#,
        ),
        (
            &["layer_norm"],
            r#"{"x":[7,7],"eps":0,"beta":[1,2]}"#,
            r#"{"y":[1.0,2.0]}"#,
        ),
    ] {
        assert_eq!(
            compute_line(args, input),
            want,
            "compute {args:?} on {input}"
        );
    }
}

/// What one output line of `compute` must be.
#[derive(Debug)]
enum Answer<'a> {
    /// Exactly this.
    Is(&'a str),
    /// This, then details (the JSON parser's).
    StartsWith(&'a str),
    /// A line that contains this.
    Has(&'a str),
}
use Answer::*;

/// `compute args` on the lines `input`: one output line per input line, each as `want` says;
/// the run's output, for its status and stderr.
fn answers(args: &[&str], input: &[u8], want: &[Answer]) -> Output {
    let out = run(&[&["compute"], args].concat(), input);
    let l = lines(&out);
    assert_eq!(l.len(), want.len(), "one output line per input line: {l:?}");
    for (i, (got, w)) in l.iter().zip(want).enumerate() {
        let ok = match w {
            Is(s) => got == s,
            StartsWith(s) => got.starts_with(s),
            Has(s) => got.contains(s),
        };
        assert!(ok, "compute {args:?}, line {}: {got} is not {w:?}", i + 1);
    }
    out
}

#[test]
fn bad_lines_answer_errors_and_the_rest_go_on() {
    let input = b"{\"x\":[1,2]}\n{\"x\":[1,\n\n{\"x\":[1,2],\"gamma\":[1]}\n{\"x\":[1,2],\"epsilon\":1}\n{\"x\":[3,4]}\n";
    let out = answers(
        &["layer_norm"],
        input,
        &[
            StartsWith(r#"{"y":"#),
            StartsWith(r#"{"error":"line 2: malformed JSON"#),
            Is(r#"{"error":"line 3: empty line (expected a JSON object)"}"#),
            Is(r#"{"error":"line 4: gamma has 1 entries but x has 2"}"#),
            StartsWith(r#"{"error":"line 5: unknown field `epsilon`"#),
            StartsWith(r#"{"y":"#),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("4 of 6 lines failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wrong_lengths_and_targets() {
    let out = answers(
        &["argmax_dot"],
        b"{\"x\":[1,2],\"tokens\":[[1,2,3]]}\n{\"x\":[1],\"tokens\":[[1],[2,3]]}\n{\"x\":[1],\"tokens\":[]}\n",
        &[
            Is(r#"{"error":"line 1: x has 2 entries but each token has 3"}"#),
            StartsWith(r#"{"error":"line 2: tokens[1] has 2 entries but tokens[0] has 1"#),
            Is(r#"{"error":"line 3: tokens is empty: there is no token to pick"}"#),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = answers(
        &["cross_entropy"],
        b"{\"logits\":[1,2],\"target\":2}\n{\"logits\":[1,2],\"target\":-1}\n",
        &[
            Is(r#"{"error":"line 1: target 2 is out of range for 2 logits"}"#),
            StartsWith(r#"{"error":"line 2: invalid value: integer `-1`"#),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn nan_and_infinity_strings() {
    answers(
        &["softmax"],
        b"{\"x\":[\"NaN\",1]}\n{\"x\":[\"Infinity\",1]}\n{\"x\":[\"nan\"]}\n",
        &[
            Is(r#"{"y":["NaN","NaN"]}"#),
            Is(r#"{"y":[1.0,0.0]}"#),
            Has(r#"the string \"nan\" is not a number"#),
        ],
    );
    let out = run(&["compute", "logsumexp"], b"{\"x\":[\"-Infinity\"]}\n");
    assert_eq!(lines(&out), [r#"{"y":"-Infinity"}"#]);
}

#[test]
fn numbers_that_do_not_fit_the_dtype() {
    answers(
        &["softmax", "--dtype", "f32"],
        b"{\"x\":[1e39]}\n{\"x\":[1e38]}\n",
        &[Has("out of range for f32"), Is(r#"{"y":[1.0]}"#)],
    );
}

#[test]
fn index_ops_and_ties() {
    let tokens = r#"{"x":[1],"tokens":[[1],[2]]}"#;
    let zero = r#"{"x":[0],"tokens":[[1],[2]]}"#;
    for (op, input, want) in [
        ("argmax_dot", tokens, r#"{"index":1}"#),
        ("nearest_euclidean", tokens, r#"{"index":0}"#),
        ("nearest_cosine", tokens, r#"{"index":0}"#),
        ("nearest_cosine", zero, r#"{"index":null}"#),
    ] {
        assert_eq!(compute_line(&[op], input), want, "{op} on {input}");
    }
}

#[test]
fn unknown_op_is_a_usage_error() {
    let out = run(&["compute", "softmaxx"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid value 'softmaxx'"), "{err}");
    assert!(err.contains("softmax"), "lists the possible values: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn non_utf8_line() {
    answers(
        &["softmax"],
        b"{\"x\":[1]}\n\xff\xfe\n{\"x\":[2]}\n",
        &[
            Is(r#"{"y":[1.0]}"#),
            Is(r#"{"error":"line 2: not valid UTF-8 (invalid byte at offset 0)"}"#),
            Is(r#"{"y":[1.0]}"#),
        ],
    );
}

#[test]
fn empty_stdin_is_no_work() {
    let out = run(&["compute", "softmax"], b"");
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_vocabulary_sized_row() {
    let n = 50_257;
    let row: Vec<String> = (0..n)
        .map(|i| format!("{}", (i % 97) as f64 * 0.25 - 12.0))
        .collect();
    let input = format!("{{\"x\":[{}]}}\n", row.join(","));
    let out = run(&["compute", "softmax", "--dtype", "f32"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let y = v["y"].as_array().unwrap();
    assert_eq!(y.len(), n);
    let s: f64 = y.iter().map(|p| p.as_f64().unwrap()).sum();
    assert!((s - 1.0).abs() < 1e-4, "Σ = {s}");
}

/// The full GPT-2 unembedding, 50,257 tokens × 768, as one JSON line (~250 MB).
#[test]
#[ignore = "slow in debug builds (a 250 MB JSON line); run: cargo test --release --test cli -- --ignored"]
fn a_gpt2_sized_token_matrix() {
    let (v, d) = (50_257usize, 768usize);
    let mut s = String::with_capacity(v * d * 6 + 64);
    s.push_str("{\"x\":[");
    for j in 0..d {
        s.push_str(if j == 0 { "1" } else { ",0" });
    }
    s.push_str("],\"tokens\":[");
    for i in 0..v {
        if i > 0 {
            s.push(',');
        }
        s.push('[');
        for j in 0..d {
            if j > 0 {
                s.push(',');
            }
            // token 31337 has the largest first coordinate
            let val = if j == 0 {
                if i == 31_337 { 9.5 } else { (i % 7) as f64 }
            } else {
                0.5
            };
            s.push_str(&val.to_string());
        }
        s.push(']');
    }
    s.push_str("]}\n");
    let out = run(&["compute", "argmax_dot", "--dtype", "f32"], s.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(lines(&out), [r#"{"index":31337}"#]);
}

/// `check` settles every claim. Its text is rendered from the suite's one evaluation of the
/// whole registry (the binary prints exactly what `report::check_text` renders: it is compared
/// byte for byte below on the claims it is given); the binary's own run on the whole registry
/// is `json_schema::check_and_every_claims_show_follow_the_schema`'s.
#[test]
fn check_settles_every_claim() {
    let cfg = SearchConfig::default();
    let results = crate::support::default_results();
    let all = report::check_text(results, cfg);
    assert!(all.disagreements.is_empty(), "{:?}", all.disagreements);
    let (claims, judgements) = registry_size();
    assert!(
        all.text.contains(&format!(
            "{judgements} judgements of {claims} claims: {judgements} agree with the proofs, 0 do not"
        )),
        "{}",
        all.text
    );
    let ids = [
        "softmax-temperature",
        "cosine-sign-slip",
        "logit-lens-scale",
    ];
    let out = run(&[&["check"][..], &ids[..]].concat(), b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let given: Vec<_> = ids
        .iter()
        .map(|id| results.iter().find(|r| r.id == *id).unwrap().clone())
        .collect();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        report::check_text(&given, cfg).text
    );
    let out = run(
        &["check", "cosine-sign-slip", "--cases", "50", "--seed", "7"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn show_prints_an_exact_integer_counterexample_in_markdown() {
    let out = run(
        &["show", "argmax-dot-vs-nearest", "--format", "markdown"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("Witness: `x = [1], w0 = [2], w1 = [1]`"),
        "{md}"
    );
    assert!(
        md.contains("verified exactly in rational arithmetic"),
        "{md}"
    );
    assert!(
        md.contains("You 100% should not think about the unembed"),
        "{md}"
    );
    for id in [
        "layernorm-output-norm",
        "cosine-sign-slip",
        "layernorm-hides-magnitude",
    ] {
        let out = run(&["show", id], b"");
        let t = String::from_utf8(out.stdout).unwrap();
        assert!(
            t.contains("thread: \"") && t.contains("refuted") && t.contains("counterexample:"),
            "{t}"
        );
        assert!(t.contains(&format!("proofs/{id}.md")), "{t}");
    }
    for format in ["json", "latex"] {
        let out = run(&["show", "cosine-sign-slip", "--format", format], b"");
        assert_eq!(out.status.code(), Some(0));
        assert!(!out.stdout.is_empty());
    }
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["show", "cosine-sign-slip", "--format", "json"], b"").stdout)
            .unwrap();
    assert_eq!(json["id"], "cosine-sign-slip");
}

#[test]
fn unknown_claim_id_suggests_the_nearest() {
    let out = run(&["show", "cosine-sign-slp"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("unknown claim id 'cosine-sign-slp' (did you mean 'cosine-sign-slip'?"),
        "{err}"
    );
    assert_eq!(run(&["check", "nope"], b"").status.code(), Some(2));
    assert_eq!(run(&["find", "nope"], b"").status.code(), Some(2));
}

#[test]
fn find_shows_the_search_and_its_simplification() {
    let out = run(&["find", "layernorm-output-norm"], b"");
    assert_eq!(out.status.code(), Some(0));
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("first case found by the random search"), "{t}");
    assert!(
        t.contains("final: x = [0, -1]")
            || t.contains("final: x = [0, 1]")
            || t.contains("final: x = [1, 0]")
            || t.contains("final: x = [-1, 0]"),
        "{t}"
    );
}

#[test]
fn list_prints_every_reading() {
    // The shape of the listing, not its verdicts: a short search (`check_settles_every_claim`
    // runs the default one).
    let out = run(&["list", "--cases", "16"], b"");
    let t = String::from_utf8(out.stdout).unwrap();
    let (claims, judgements) = registry_size();
    assert_eq!(
        t.lines().filter(|l| !l.starts_with(' ')).count(),
        claims,
        "{t}"
    );
    assert_eq!(
        t.lines().filter(|l| l.starts_with(' ')).count(),
        judgements,
        "{t}"
    );
}

/// Claims and judgements in the registry (29 and 88 as of the transformer claims).
fn registry_size() -> (usize, usize) {
    let all = transformer_laws::claims::registry();
    let judgements = all
        .iter()
        .flat_map(|c| &c.readings)
        .map(|r| r.judgements.len())
        .sum();
    assert!(all.len() >= 29 && judgements >= 88);
    (all.len(), judgements)
}

/// Start the binary, read the first line of its output, then close the pipe: every subcommand
/// must stop quietly (no panic, no backtrace) with its normal exit status.
fn first_line_then_close(args: &[&str], stdin: &[u8]) -> (String, Output) {
    use std::io::{BufRead, BufReader};
    let (mut child, writer) = spawn(args, stdin);
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let out = child.wait_with_output().expect("the binary finishes");
    writer.join().unwrap();
    (first, out)
}

#[test]
fn a_closed_stdout_stops_every_subcommand_quietly() {
    let many: Vec<u8> = b"{\"x\":[1,2,3]}\n".repeat(200_000);
    for (args, input) in [
        (vec!["list", "--cases", "16"], &b""[..]),
        (vec!["list", "--markdown", "--cases", "16"], b""),
        (
            vec!["check", "cosine-sign-slip", "softmax-temperature"],
            b"",
        ),
        (vec!["check", "cosine-sign-slip", "--format", "json"], b""),
        (vec!["show", "argmax-dot-vs-nearest"], b""),
        (
            vec!["show", "center-writing-weights", "--format", "json"],
            b"",
        ),
        (vec!["show", "logit-lens-scale", "--format", "latex"], b""),
        (vec!["find", "attention-key-bias"], b""),
        (vec!["compute", "softmax"], &many[..]),
    ] {
        let (first, out) = first_line_then_close(&args, input);
        assert!(!first.is_empty(), "{args:?} printed nothing");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn a_hundred_megabyte_line_is_one_error_and_the_rest_go_on() {
    let mut input = b"{\"x\":[0]}\n{\"x\":[".to_vec();
    input.extend(std::iter::repeat_n(b'1', 100 << 20));
    input.extend(b"]}garbage\n{\"x\":[0,0]}\n");
    let out = run(&["compute", "softmax"], &input);
    let l = lines(&out);
    assert_eq!(l.len(), 3, "{}", stderr(&out));
    assert_eq!(l[0], r#"{"y":[1.0]}"#);
    assert!(
        l[1].starts_with(r#"{"error":"line 2: "#),
        "{}",
        &l[1][..l[1].len().min(200)]
    );
    assert!(l[1].len() < 300, "the error is one short line");
    assert_eq!(l[2], r#"{"y":[0.5,0.5]}"#);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim(), "transformer-laws compute: 1 of 3 lines failed");
}

#[test]
fn malformed_json_for_every_op() {
    use clap::ValueEnum;
    use transformer_laws::compute::Op;
    for op in Op::value_variants() {
        let name = op.to_possible_value().expect("every op is named");
        let op = name.get_name();
        let out = run(&["compute", op], b"{\"x\":[1,}\n[]\n\"x\"\n{}\n");
        let l = lines(&out);
        assert_eq!(l.len(), 4, "{op}");
        for (i, a) in l.iter().enumerate() {
            assert!(
                a.starts_with(&format!("{{\"error\":\"line {}: ", i + 1)),
                "{op}: {a}"
            );
        }
        assert_eq!(out.status.code(), Some(1), "{op}");
        assert!(!stderr(&out).contains("panicked"), "{op}");
    }
}

#[test]
fn bad_arguments_are_usage_errors_without_backtraces() {
    for args in [
        vec!["check", "--cases", "many"],
        vec!["show", "softmax-temperature", "--format", "pdf"],
        vec!["compute", "softmax", "--dtype", "f16"],
        vec!["plot"],
        vec!["frobnicate"],
        vec!["show", "nope"],
        vec!["plot", "nope"],
        vec!["find", "softmax-temprature"],
    ] {
        let out = run(&args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            !err.is_empty() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn plot_reports_what_it_cannot_do() {
    // A claim without a figure: the ids that have one are listed.
    let out = run(&["plot", "center-unembed", "-o", "/tmp/tl-never.svg"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("figures exist for"),
        "{}",
        stderr(&out)
    );
    // An output path inside a file: the folder cannot be created.
    let file = std::env::temp_dir().join("tl-plot-not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let target = file.join("fig.svg");
    let out = run(
        &[
            "plot",
            "softmax-temperature",
            "-o",
            target.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cannot create the folder") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_non_utf8_argument_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = Command::new(env!("CARGO_BIN_EXE_transformer-laws"))
        .arg("show")
        .arg(std::ffi::OsStr::from_bytes(b"soft\xffmax"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && err.contains("invalid UTF-8"),
        "{err}"
    );
}

/// `model logits` on the committed fixtures: one JSON line per position, the tokens echoed,
/// one logit per vocabulary entry, and the f64 logits exactly those of the library's forward
/// pass with the linear maps asked for — the compensated reference by default in f64.
#[test]
fn model_logits_prints_one_line_per_position() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/llama-tiny");
    let model =
        transformer_laws::transformer::checkpoint::load::<f64>(std::path::Path::new(dir), None)
            .unwrap();
    for linear in [None, Some("gemm"), Some("compensated")] {
        let mut args = vec!["model", "logits", dir, "--tokens", "5, 17,3"];
        if let Some(l) = linear {
            args.extend(["--linear", l]);
        }
        let out = run(&args, b"");
        assert!(out.status.success(), "{}", stderr(&out));
        let want = if linear == Some("gemm") {
            model.forward_fast(&[5, 17, 3])
        } else {
            model.forward(&[5, 17, 3])
        };
        logit_lines_are(&lines(&out), &want);
    }
    // f32, and a weights file with an explicit config.
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gpt2-tiny/model.safetensors"
    );
    let cfg = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gpt2-tiny/config.json"
    );
    let out = run(
        &[
            "model", "logits", file, "--config", cfg, "--tokens", "1", "--dtype", "f32",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&lines(&out)[0]).unwrap();
    assert_eq!(v["logits"].as_array().unwrap().len(), 50);
}

/// One JSON line per position with the tokens 5, 17, 3 echoed and exactly the logits `want`.
fn logit_lines_are(rows: &[String], want: &nalgebra::DMatrix<f64>) {
    assert_eq!(rows.len(), 3);
    for (p, (row, t)) in rows.iter().zip([5, 17, 3]).enumerate() {
        let v: serde_json::Value = serde_json::from_str(row).unwrap();
        assert_eq!(
            (v["position"].as_u64(), v["token"].as_u64()),
            (Some(p as u64), Some(t))
        );
        let logits = v["logits"].as_array().unwrap();
        assert_eq!(logits.len(), 60);
        for (j, x) in logits.iter().enumerate() {
            // Printed with the shortest round-trip representation: read back exactly.
            assert_eq!(x.as_f64().unwrap(), want[(p, j)], "position {p}, logit {j}");
        }
    }
}

/// `model logits --bound`: every line gains `"bound"`, the logits are unchanged, and the bound
/// holds: the printed logits are no farther from the exact logits of the loaded weights (a
/// 256-bit shadow evaluation by the library) than the printed bound, which is far below the
/// logits. (The f32 and f64 loads are not compared with each other: their LayerNorm ε, 10⁻⁵
/// rounded to each type, differ.)
#[test]
fn model_logits_with_a_bound() {
    use transformer_laws::transformer::checkpoint::load;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gpt2-tiny");
    let tokens = [5, 17, 3];
    let read = |dtype: &str, bound: bool| -> Vec<(Vec<f64>, Option<f64>)> {
        let mut args = vec![
            "model", "logits", dir, "--tokens", "5,17,3", "--dtype", dtype,
        ];
        if bound {
            args.push("--bound");
        }
        let out = run(&args, b"");
        assert!(out.status.success(), "{}", stderr(&out));
        lines(&out)
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                // f32 logits are printed as the shortest f32 text: read back through f32.
                let row = (v["logits"].as_array().unwrap().iter())
                    .map(|x| x.as_f64().unwrap())
                    .map(|x| {
                        if dtype == "f32" {
                            f64::from(x as f32)
                        } else {
                            x
                        }
                    })
                    .collect();
                (row, v.get("bound").map(|b| b.as_f64().unwrap()))
            })
            .collect()
    };
    let path = std::path::Path::new(dir);
    let exact32 = load::<f32>(path, None)
        .unwrap()
        .logit_enclosure(&tokens, 256);
    let exact64 = load::<f64>(path, None)
        .unwrap()
        .logit_enclosure(&tokens, 256);
    for (dtype, exact, most) in [("f32", &exact32, 1e-5), ("f64", &exact64, 1e-13)] {
        let (plain, bounded) = (read(dtype, false), read(dtype, true));
        for p in 0..tokens.len() {
            assert_eq!(
                plain[p].0, bounded[p].0,
                "{dtype} {p}: --bound changed the logits"
            );
            assert_eq!(plain[p].1, None);
            let b = bounded[p].1.unwrap();
            let attained = exact.error_lower_bound(p, &bounded[p].0);
            let scale = bounded[p].0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(
                attained <= b && b < most * scale && b <= 1e3 * attained,
                "{dtype} position {p}: bound {b:e}, attained {attained:e}"
            );
        }
    }
}

/// Bad input to `model logits`: one line on stderr naming the problem, exit status 2, nothing
/// on stdout.
#[test]
fn model_logits_bad_input() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gpt2-tiny");
    let cases: [(&[&str], &str); 6] = [
        (&["--tokens", "5,x"], "item 2 is \"x\""),
        (&["--tokens", ""], "no tokens given"),
        (
            &["--tokens", "5,50"],
            "token 50 at position 1 is out of range",
        ),
        (
            &["--tokens", "1,1,1,1,1,1,1,1,1,1,1,1,1"],
            "13 tokens is longer than the model's 12 positions",
        ),
        (
            &["--tokens", "1", "--config", "/nonexistent/config.json"],
            "/nonexistent/config.json",
        ),
        (&["--tokens", "-1"], "item 1 is \"-1\""),
    ];
    for (args, want) in cases {
        let mut all = vec!["model", "logits", dir];
        all.extend_from_slice(args);
        let out = run(&all, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A checkpoint that does not load: the tensor is named.
    let tmp = std::env::temp_dir().join(format!("tl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::copy(format!("{dir}/config.json"), tmp.join("config.json")).unwrap();
    let bytes = std::fs::read(format!("{dir}/model.safetensors")).unwrap();
    std::fs::write(tmp.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let out = run(
        &["model", "logits", tmp.to_str().unwrap(), "--tokens", "1"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a valid safetensors file"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `model report` on a committed checkpoint, in JSON: the three sections are there, every
/// applied transform stays within its bound, and the picks agree with the logits of
/// `model logits` (an independent path through the loader and the forward pass).
#[test]
fn model_report_on_a_checkpoint() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gpt2-tiny");
    let out = run(
        &[
            "model", "report", dir, "--tokens", "5,17,3", "--format", "json", "--linear", "gemm",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The fast path asked for, named with its bound (the logits below are its logits).
    assert_eq!(r["forward"]["linear"], "gemm", "{}", r["forward"]);
    assert!(
        r["forward"]["entry_bound"]
            .as_str()
            .unwrap()
            .contains("γ_n")
    );
    let processing = r["processing"].as_array().unwrap();
    assert!(!processing.is_empty());
    for t in processing {
        assert_eq!(t["within_bound"], true, "{t}");
    }
    let logits = run(
        &[
            "model", "logits", dir, "--tokens", "5,17,3", "--linear", "gemm",
        ],
        b"",
    );
    for (p, line) in lines(&logits).iter().enumerate() {
        let l: serde_json::Value = serde_json::from_str(line).unwrap();
        let row: Vec<f64> = l["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let best = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let pick = r["positions"][p]["picks"][0]["token"].as_u64().unwrap() as usize;
        assert_eq!(row[pick], best, "position {p}");
        // The largest logit, and a bound on every logit's error beside it.
        assert_eq!(r["positions"][p]["top_logit"].as_f64(), Some(best));
        let bound = r["positions"][p]["logit_bound"].as_f64().unwrap();
        assert!(
            bound > 0.0 && bound < 1e-12 * best.abs().max(1.0),
            "{bound:e}"
        );
    }
    let u = &r["unargmaxable"];
    assert!(u.is_object(), "{r}");
    // A text report and a bad token: exit 2 with one line naming the token.
    let text = run(&["model", "report", dir, "--tokens", "5,17"], b"");
    assert!(String::from_utf8_lossy(&text.stdout).contains("logit error ≤"));
    let skipped = run(
        &[
            "model",
            "report",
            dir,
            "--tokens",
            "5",
            "--format",
            "json",
            "--no-bound",
        ],
        b"",
    );
    let r: serde_json::Value = serde_json::from_slice(&skipped.stdout).unwrap();
    assert!(r["positions"][0]["logit_bound"].is_null(), "{r}");
    let bad = run(&["model", "report", dir, "--tokens", "5,999"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("token 999"), "{}", stderr(&bad));
}

/// `model process` writes a checkpoint whose tensors carry TransformerLens' names, and says
/// which transforms were refused (centering, for Llama's RMSNorm readers).
#[test]
fn model_process_writes_the_processed_checkpoint() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/llama-tiny");
    let tmp = std::env::temp_dir().join(format!("tl-cli-process-{}", std::process::id()));
    let out = run(&["model", "process", dir, "-o", tmp.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("refused  center_writing_weights"), "{said}");
    assert!(said.contains("applied  fold_ln"), "{said}");
    let bytes = std::fs::read(tmp.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let names: Vec<String> = st.names().into_iter().map(String::from).collect();
    for want in [
        "embed.W_E",
        "blocks.0.attn.W_Q",
        "blocks.1.mlp.W_gate",
        "unembed.W_U",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.contains("ln")), "{names:?}");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["transformer_lens"]["rotary_adjacent_pairs"], false);
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn norm_inputs_are_checked_alike_and_rms_norm_refuses_beta() {
    answers(
        &["rms_norm"],
        b"{\"x\":[1,2],\"beta\":[0,0]}\n{\"x\":[1,2],\"gamma\":[1]}\n",
        &[
            Is(r#"{"error":"line 1: rms_norm takes no beta (RMSNorm adds no bias)"}"#),
            Is(r#"{"error":"line 2: gamma has 1 entries but x has 2"}"#),
        ],
    );
    answers(
        &["layer_norm"],
        b"{\"x\":[1,2],\"beta\":[1,2,3]}\n{\"x\":[1,2],\"eps\":-1}\n",
        &[
            Is(r#"{"error":"line 1: beta has 3 entries but x has 2"}"#),
            Is(r#"{"error":"line 2: eps must be a number >= 0, got -1.0"}"#),
        ],
    );
}
