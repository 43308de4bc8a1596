//! The law harness catching LayerNorm with the one-pass variance E[x²] − E[x]²: for a large
//! mean and a small spread the two terms cancel (in f32, [40000, 40001, 40002, 40003] has
//! E[x²] ≈ 1.6e9, whose ulp is 128, against a variance of 1.25).
//!
//! Run: `cargo run --example naive_layer_norm`

use transformer_laws::laws;

/// (x − μ)/√(E[x²] − μ² + ε), accumulated in f32.
pub fn naive_layer_norm(x: &[f32], eps: f32) -> Vec<f32> {
    let n = x.len() as f32;
    let mu = x.iter().sum::<f32>() / n;
    let ex2 = x.iter().map(|v| v * v).sum::<f32>() / n;
    let var = ex2 - mu * mu;
    x.iter().map(|v| (v - mu) / (var + eps).sqrt()).collect()
}

/// Prints the report; fails (a panic, exit code 101) unless "large mean" caught the bug.
#[allow(dead_code)]
fn main() {
    laws::layer_norm::check(naive_layer_norm).print_caught("large mean", "E[x²] − E[x]²");
}
