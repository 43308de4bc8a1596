//! The law harness catching log_softmax computed as log(softmax(z)): when one logit dominates,
//! softmax rounds to 1 and its log to 0, losing the −2.06e−9 of log_softmax([0, −20])₀ in f32.
//!
//! Run: `cargo run --example naive_log_softmax`

use transformer_laws::laws;
use transformer_laws::softmax::softmax;

/// log(softmax(z)), through the (accurate) softmax of this crate.
pub fn naive_log_softmax(z: &[f32]) -> Vec<f32> {
    softmax(z).into_iter().map(f32::ln).collect()
}

/// Prints the report; fails (a panic, exit code 101) unless "dominant logit" caught the bug.
#[allow(dead_code)]
fn main() {
    laws::log_softmax::check(naive_log_softmax).print_caught("dominant logit", "log(softmax)");
}
