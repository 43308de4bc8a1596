//! The JSON Lines front end of `transformer-laws compute`: any bytes, any op, either dtype.
//! Must never panic; must answer exactly one line per input line, each either a JSON object
//! with the op's field or `{"error": "line N: …"}`; the failure count must match.
#![no_main]

use libfuzzer_sys::fuzz_target;
use transformer_laws::compute::{Dtype, Op, run};

const OPS: [Op; 9] = [
    Op::Softmax,
    Op::LogSoftmax,
    Op::Logsumexp,
    Op::LayerNorm,
    Op::RmsNorm,
    Op::CrossEntropy,
    Op::ArgmaxDot,
    Op::NearestEuclidean,
    Op::NearestCosine,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
    let op = OPS[usize::from(sel & 0x0f) % OPS.len()];
    let dtype = if sel & 0x10 == 0 { Dtype::F64 } else { Dtype::F32 };
    let mut out = Vec::new();
    let summary = run(op, dtype, input, &mut out).expect("writing to a Vec cannot fail");
    let text = String::from_utf8(out).expect("the answers are UTF-8");
    let answers: Vec<&str> = text.lines().collect();
    assert_eq!(answers.len(), summary.lines, "one answer per line");
    let errors = answers.iter().filter(|a| a.starts_with("{\"error\":")).count();
    assert_eq!(errors, summary.failed, "failures counted");
    for (i, a) in answers.iter().enumerate() {
        assert!(a.starts_with('{') && a.ends_with('}'), "line {}: {a}", i + 1);
        if a.starts_with("{\"error\":") {
            assert!(a.contains(&format!("line {}", i + 1)), "error names its line: {a}");
        }
    }
});
