//! Criterion benchmarks of the forward pass: the plain one (`forward`, no bound), the cached run
//! with the worst-case first-order bound (`run`, the baseline every forward pass used to pay),
//! and the run with the proven shadow bound (`run_with_bound`: `forward` plus a 128-bit interval
//! evaluation), on the same model and tokens in the same run. After the measurements a table of
//! ratios to `forward` is printed.
//!
//! Run: `cargo bench -p transformer-laws-benches --bench forward` (about a minute on 2 cores).

mod common;

use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;
use transformer_laws::strategies::{model, sample};
use transformer_laws::transformer::{Model, ModelConfig};

/// A GPT-2-shaped model scaled down: 2 blocks, d = 64, 4 heads of 16, d_mlp = 256, 512 tokens
/// out, 16 positions.
fn cfg() -> ModelConfig {
    ModelConfig {
        d_model: 64,
        layers: 2,
        heads: 4,
        d_head: 16,
        d_mlp: 256,
        vocab_in: 512,
        vocab_out: 512,
        n_ctx: 16,
        ..ModelConfig::default()
    }
}

fn bench<T: transformer_laws::strategies::FloatStrategies>(c: &mut Criterion, name: &str) {
    let m: Model<T> = sample(model::<T>(cfg()));
    let tokens: Vec<usize> = (0..16).map(|i| (i * 37) % 512).collect();
    let mut g = c.benchmark_group(format!("forward_{name}"));
    g.bench_function("forward", |b| {
        b.iter(|| black_box(m.forward(black_box(&tokens))))
    });
    g.bench_function("run", |b| {
        b.iter(|| black_box(m.run(black_box(&tokens), 0.0)))
    });
    g.sample_size(10);
    g.bench_function("run_with_bound", |b| {
        b.iter(|| black_box(m.run_with_bound(black_box(&tokens))))
    });
    g.finish();
}

fn main() {
    let mut c = common::criterion(Duration::from_millis(500), Duration::from_secs(3));
    bench::<f32>(&mut c, "f32");
    bench::<f64>(&mut c, "f64");
    c.final_summary();
    println!(
        "\n| model | forward | run (worst-case bound) | run_with_bound | run / forward | run_with_bound / forward |"
    );
    println!("|---|---|---|---|---|---|");
    for name in ["f32", "f64"] {
        let g = format!("forward_{name}");
        let t: Vec<Option<f64>> = ["forward", "run", "run_with_bound"]
            .iter()
            .map(|id| common::median_ns(&g, id))
            .collect();
        let fmt = |t: Option<f64>| t.map_or("—".into(), |t| format!("{:.3} ms", t / 1e6));
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            fmt(t[0]),
            fmt(t[1]),
            fmt(t[2]),
            common::ratio(t[1], t[0], 1),
            common::ratio(t[2], t[0], 1)
        );
    }
}
