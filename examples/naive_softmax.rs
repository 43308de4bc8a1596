//! The law harness catching a softmax without the max shift: `exp(z)` overflows for large
//! logits, so `softmax([1000, 1000])` is NaN instead of [0.5, 0.5].
//!
//! Run: `cargo run --example naive_softmax`

use transformer_laws::laws;

/// exp(zᵢ) / Σ exp(zⱼ), with no shift by the maximum.
pub fn naive_softmax(z: &[f32]) -> Vec<f32> {
    let s: f32 = z.iter().map(|v| v.exp()).sum();
    z.iter().map(|v| v.exp() / s).collect()
}

/// Prints the report; fails (a panic, exit code 101) unless "no overflow" caught the bug.
#[allow(dead_code)]
fn main() {
    laws::softmax::check(naive_softmax).print_caught("no overflow", "the missing max shift");
}
