//! What both benchmarks share: criterion's settings, and the median times criterion saved, read
//! back for the table of ratios each prints after its measurements.

use criterion::Criterion;
use std::path::PathBuf;
use std::time::Duration;

/// Samples per benchmark unless a group sets fewer.
pub const SAMPLES: usize = 20;

/// Criterion warming up for `warm_up` and measuring for `measure` per benchmark, [`SAMPLES`]
/// samples, then the command line's options.
pub fn criterion(warm_up: Duration, measure: Duration) -> Criterion {
    Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(measure)
        .sample_size(SAMPLES)
        .configure_from_args()
}

/// Median time of the benchmark `id` of `group` from criterion's saved estimates (the median
/// over its samples of the time per iteration), in nanoseconds; `None` when it was not run.
/// The median rather than the mean: one interrupted sample moves a mean of twenty by several
/// per cent, and `torch_compare.py` reports PyTorch's median, so the ratios compare like with
/// like. Criterion saves the estimates in the workspace's target folder (cargo runs a bench in
/// its package's folder, `benches/`, one below the workspace root).
pub fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
        .join("criterion")
        .join(group.replace('/', "_"))
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// `a / b` with `decimals` digits and a `×`, or `—` when either time is missing.
pub fn ratio(a: Option<f64>, b: Option<f64>, decimals: usize) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:.*}×", decimals, a / b),
        _ => "—".into(),
    }
}
