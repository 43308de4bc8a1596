//! This crate's own kernels pass every law of the harness, in f32 and f64.
//!
//! Run: `cargo run --example reference_passes`

use transformer_laws::{laws, loss, norms, softmax};

fn all<T: transformer_laws::strategies::FloatStrategies>() -> Vec<laws::Report> {
    vec![
        laws::softmax::check(softmax::softmax::<T>),
        laws::log_softmax::check(softmax::log_softmax::<T>),
        laws::logsumexp::check(softmax::logsumexp::<T>),
        laws::layer_norm::check(|x: &[T], e: T| norms::layer_norm(x, e, None, None)),
        laws::rms_norm::check(|x: &[T], e: T| norms::rms_norm(x, e, None)),
        laws::cross_entropy::check(loss::cross_entropy::<T>),
    ]
}

fn main() {
    let mut reports = all::<f32>();
    reports.extend(all::<f64>());
    for r in &reports {
        print!("{r}");
        r.assert_passed();
    }
}
