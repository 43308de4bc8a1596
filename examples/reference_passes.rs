//! This crate's own kernels pass every law of the harness, in f32 and f64 — with its own
//! special-value policy selected and the opt-in law "as accurate as this crate" included.
//!
//! Run: `cargo run --example reference_passes`

use transformer_laws::{laws, loss, norms, softmax};

/// Every kernel through its law set, under this crate's policy with the opt-in law "as accurate
/// as this crate" (`ulps: Some(0)`).
pub fn all<T: transformer_laws::strategies::FloatStrategies>() -> Vec<laws::HarnessReport> {
    let cfg = laws::Config {
        policy: laws::Policy::ThisCrate,
        ulps: Some(0),
        ..laws::Config::default()
    };
    vec![
        laws::softmax::check_with(softmax::softmax::<T>, &cfg),
        laws::log_softmax::check_with(softmax::log_softmax::<T>, &cfg),
        laws::logsumexp::check_with(softmax::logsumexp::<T>, &cfg),
        laws::layer_norm::check_with(|x: &[T], e: T| norms::layer_norm(x, e, None, None), &cfg),
        laws::rms_norm::check_with(|x: &[T], e: T| norms::rms_norm(x, e, None), &cfg),
        laws::cross_entropy::check_with(loss::cross_entropy::<T>, &cfg),
    ]
}

#[allow(dead_code)]
fn main() {
    let mut reports = all::<f32>();
    reports.extend(all::<f64>());
    for r in &reports {
        print!("{r}");
        r.assert_passed();
    }
}
