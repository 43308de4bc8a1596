//! Criterion benchmarks of the kernels as a user calls them (`reference`: the vector path this
//! CPU gets at run time), beside the scalar reference path (`scalar`, forced with
//! `kernels::with_isa`: the kernels before the vector paths), the naive forms and a baseline
//! for the limit, all measured in the same run. After the measurements a table of ratios is
//! printed. `benches/torch_compare.py` then times PyTorch on the same inputs.
//!
//! Run: `cargo bench -p transformer-laws-benches --bench kernels` (about five minutes on 2 cores).

use criterion::Criterion;
use nalgebra::DMatrix;
use std::hint::black_box;
use std::path::PathBuf;
use transformer_laws::kernels::{Isa, with_isa};
use transformer_laws::{loss, norms, softmax, unembed};

// ---- naive forms: three passes, f32 arithmetic, no compensation ---------------------------

fn naive_softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

fn naive_logsumexp(z: &[f32]) -> f32 {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f32>().ln()
}

fn naive_log_softmax(z: &[f32]) -> Vec<f32> {
    let l = naive_logsumexp(z);
    z.iter().map(|v| v - l).collect()
}

fn naive_cross_entropy(z: &[f32], y: usize) -> f32 {
    naive_logsumexp(z) - z[y]
}

fn naive_cross_entropy_grad(z: &[f32], y: usize) -> (f32, Vec<f32>) {
    let mut g = naive_softmax(z);
    let l = naive_logsumexp(z) - z[y];
    g[y] -= 1.0;
    (l, g)
}

fn naive_layer_norm(x: &[f32], eps: f32, g: &[f32], b: &[f32]) -> Vec<f32> {
    let n = x.len() as f32;
    let mu = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mu) * (v - mu)).sum::<f32>() / n;
    let r = 1.0 / (var + eps).sqrt();
    x.iter()
        .zip(g.iter().zip(b))
        .map(|(v, (g, b))| (v - mu) * r * g + b)
        .collect()
}

fn naive_rms_norm(x: &[f32], eps: f32, g: &[f32]) -> Vec<f32> {
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let r = 1.0 / (ms + eps).sqrt();
    x.iter().zip(g).map(|(v, g)| v * r * g).collect()
}

fn naive_argmax_dot(w: &DMatrix<f32>, x: &[f32]) -> usize {
    let d = w.nrows();
    let mut best = (0, f32::NEG_INFINITY);
    for (i, col) in w.as_slice().chunks_exact(d).enumerate() {
        let s: f32 = col.iter().zip(x).map(|(a, b)| a * b).sum();
        if s > best.1 {
            best = (i, s);
        }
    }
    best.0
}

fn naive_nearest(w: &DMatrix<f32>, x: &[f32]) -> usize {
    let d = w.nrows();
    let mut best = (0, f32::INFINITY);
    for (i, col) in w.as_slice().chunks_exact(d).enumerate() {
        let s: f32 = col.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
        if s < best.1 {
            best = (i, s);
        }
    }
    best.0
}

// ---- baselines: the limit ------------------------------------------------------------------

/// One pass of exp and a plain sum: what any softmax must at least do.
fn exp_sum(z: &[f32]) -> f32 {
    z.iter().map(|v| v.exp()).sum()
}

/// One pass of squares and a plain sum: what any norm must at least do.
fn square_sum(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum()
}

/// A streaming read of the whole matrix (eight independent sums).
fn stream(w: &DMatrix<f32>) -> f32 {
    let mut acc = [0.0f32; 8];
    for c in w.as_slice().chunks_exact(8) {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().sum()
}

/// Deterministic pseudo-random values in [−8, 8).
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 16.0 - 8.0
        })
        .collect()
}

fn softmax_family(c: &mut Criterion) {
    for &n in &[1_000usize, 50_257] {
        let z = data(n, n as u64);
        let mut g = c.benchmark_group(format!("softmax/{n}"));
        g.bench_function("reference", |b| b.iter(|| softmax::softmax(black_box(&z))));
        g.bench_function("scalar", |b| {
            with_isa(Isa::Scalar, || b.iter(|| softmax::softmax(black_box(&z))))
        });
        g.bench_function("naive", |b| b.iter(|| naive_softmax(black_box(&z))));
        g.bench_function("baseline", |b| b.iter(|| exp_sum(black_box(&z))));
        g.finish();
        let mut g = c.benchmark_group(format!("log_softmax/{n}"));
        g.bench_function("reference", |b| {
            b.iter(|| softmax::log_softmax(black_box(&z)))
        });
        g.bench_function("scalar", |b| {
            with_isa(Isa::Scalar, || {
                b.iter(|| softmax::log_softmax(black_box(&z)))
            })
        });
        g.bench_function("naive", |b| b.iter(|| naive_log_softmax(black_box(&z))));
        g.bench_function("baseline", |b| b.iter(|| exp_sum(black_box(&z))));
        g.finish();
        let mut g = c.benchmark_group(format!("logsumexp/{n}"));
        g.bench_function("reference", |b| {
            b.iter(|| softmax::logsumexp(black_box(&z)))
        });
        g.bench_function("scalar", |b| {
            with_isa(Isa::Scalar, || b.iter(|| softmax::logsumexp(black_box(&z))))
        });
        g.bench_function("naive", |b| b.iter(|| naive_logsumexp(black_box(&z))));
        g.bench_function("baseline", |b| b.iter(|| exp_sum(black_box(&z))));
        g.finish();
        let mut g = c.benchmark_group(format!("cross_entropy/{n}"));
        g.bench_function("reference", |b| {
            b.iter(|| loss::cross_entropy(black_box(&z), 7))
        });
        g.bench_function("scalar", |b| {
            with_isa(Isa::Scalar, || {
                b.iter(|| loss::cross_entropy(black_box(&z), 7))
            })
        });
        g.bench_function("naive", |b| {
            b.iter(|| naive_cross_entropy(black_box(&z), 7))
        });
        g.bench_function("baseline", |b| b.iter(|| exp_sum(black_box(&z))));
        g.finish();
        let mut g = c.benchmark_group(format!("cross_entropy_grad/{n}"));
        g.bench_function("reference", |b| {
            b.iter(|| loss::cross_entropy_with_grad(black_box(&z), 7))
        });
        g.bench_function("scalar", |b| {
            with_isa(Isa::Scalar, || {
                b.iter(|| loss::cross_entropy_with_grad(black_box(&z), 7))
            })
        });
        g.bench_function("naive", |b| {
            b.iter(|| naive_cross_entropy_grad(black_box(&z), 7))
        });
        g.bench_function("baseline", |b| b.iter(|| exp_sum(black_box(&z))));
        g.finish();
    }
}

fn norm_family(c: &mut Criterion) {
    let rows = 32;
    for &d in &[768usize, 4_096] {
        let x: Vec<Vec<f32>> = (0..rows).map(|r| data(d, (d * 31 + r) as u64)).collect();
        // γ and β as in torch_compare.py.
        let (gm, bt) = (data(d, 1000 + d as u64), data(d, 2000 + d as u64));
        let ln = || {
            x.iter()
                .map(|r| norms::layer_norm(black_box(r), 1e-5, Some(&gm), Some(&bt)))
                .collect::<Vec<_>>()
        };
        let mut g = c.benchmark_group(format!("layer_norm/{rows}x{d}"));
        g.bench_function("reference", |b| b.iter(ln));
        g.bench_function("scalar", |b| with_isa(Isa::Scalar, || b.iter(ln)));
        g.bench_function("naive", |b| {
            b.iter(|| {
                x.iter()
                    .map(|r| naive_layer_norm(black_box(r), 1e-5, &gm, &bt))
                    .collect::<Vec<_>>()
            })
        });
        g.bench_function("baseline", |b| {
            b.iter(|| x.iter().map(|r| square_sum(black_box(r))).sum::<f32>())
        });
        g.finish();
        let rms = || {
            x.iter()
                .map(|r| norms::rms_norm(black_box(r), 1e-5, Some(&gm)))
                .collect::<Vec<_>>()
        };
        let mut g = c.benchmark_group(format!("rms_norm/{rows}x{d}"));
        g.bench_function("reference", |b| b.iter(rms));
        g.bench_function("scalar", |b| with_isa(Isa::Scalar, || b.iter(rms)));
        g.bench_function("naive", |b| {
            b.iter(|| {
                x.iter()
                    .map(|r| naive_rms_norm(black_box(r), 1e-5, &gm))
                    .collect::<Vec<_>>()
            })
        });
        g.bench_function("baseline", |b| {
            b.iter(|| x.iter().map(|r| square_sum(black_box(r))).sum::<f32>())
        });
        g.finish();
    }
}

fn unembedding(c: &mut Criterion) {
    let (v, d) = (50_257usize, 768usize);
    let w = DMatrix::from_vec(d, v, data(v * d, 5));
    let x = data(d, 6);
    let mut g = c.benchmark_group(format!("argmax_dot/{v}x{d}"));
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| unembed::argmax_dot(black_box(&w), black_box(&x)))
    });
    g.bench_function("scalar", |b| {
        with_isa(Isa::Scalar, || {
            b.iter(|| unembed::argmax_dot(black_box(&w), black_box(&x)))
        })
    });
    g.bench_function("naive", |b| {
        b.iter(|| naive_argmax_dot(black_box(&w), black_box(&x)))
    });
    g.bench_function("baseline", |b| b.iter(|| stream(black_box(&w))));
    g.finish();
    let mut g = c.benchmark_group(format!("nearest_euclidean/{v}x{d}"));
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| unembed::nearest_euclidean(black_box(&w), black_box(&x)))
    });
    g.bench_function("scalar", |b| {
        with_isa(Isa::Scalar, || {
            b.iter(|| unembed::nearest_euclidean(black_box(&w), black_box(&x)))
        })
    });
    g.bench_function("naive", |b| {
        b.iter(|| naive_nearest(black_box(&w), black_box(&x)))
    });
    g.bench_function("baseline", |b| b.iter(|| stream(black_box(&w))));
    g.finish();
    // The multi-threaded forms (rayon's pool: all cores), the one-thread form as the baseline.
    let mut g = c.benchmark_group(format!("argmax_dot_par/{v}x{d}"));
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| unembed::argmax_dot_par(black_box(&w), black_box(&x)))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| unembed::argmax_dot(black_box(&w), black_box(&x)))
    });
    g.finish();
    let mut g = c.benchmark_group(format!("nearest_euclidean_par/{v}x{d}"));
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| unembed::nearest_euclidean_par(black_box(&w), black_box(&x)))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| unembed::nearest_euclidean(black_box(&w), black_box(&x)))
    });
    g.finish();
    let q = 8;
    let xs = DMatrix::from_vec(d, q, data(d * q, 7));
    let one_by_one = |dot: bool| {
        (0..q)
            .map(|k| {
                let x: Vec<f32> = xs.column(k).iter().copied().collect();
                if dot {
                    unembed::argmax_dot(&w, &x)
                } else {
                    unembed::nearest_euclidean(&w, &x)
                }
            })
            .collect::<Vec<_>>()
    };
    let mut g = c.benchmark_group(format!("argmax_dot_batch/{q}x{v}x{d}"));
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| unembed::argmax_dot_batch(black_box(&w), black_box(&xs)))
    });
    g.bench_function("baseline", |b| b.iter(|| one_by_one(black_box(true))));
    g.finish();
    let mut g = c.benchmark_group(format!("nearest_euclidean_batch/{q}x{v}x{d}"));
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| unembed::nearest_euclidean_batch(black_box(&w), black_box(&xs)))
    });
    g.bench_function("baseline", |b| b.iter(|| one_by_one(black_box(false))));
    g.finish();
}

/// Mean time of one benchmark from criterion's saved estimates, in nanoseconds.
fn mean_ns(dir: &std::path::Path, group: &str, id: &str) -> Option<f64> {
    let path = dir
        .join(group.replace('/', "_"))
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(800))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    softmax_family(&mut c);
    norm_family(&mut c);
    unembedding(&mut c);
    c.final_summary();

    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion");
    let mut groups = Vec::new();
    for n in [1_000, 50_257] {
        for op in [
            "softmax",
            "log_softmax",
            "logsumexp",
            "cross_entropy",
            "cross_entropy_grad",
        ] {
            groups.push(format!("{op}/{n}"));
        }
    }
    for d in [768, 4_096] {
        groups.push(format!("layer_norm/32x{d}"));
        groups.push(format!("rms_norm/32x{d}"));
    }
    groups.push("argmax_dot/50257x768".into());
    groups.push("nearest_euclidean/50257x768".into());
    groups.push("argmax_dot_par/50257x768".into());
    groups.push("nearest_euclidean_par/50257x768".into());
    groups.push("argmax_dot_batch/8x50257x768".into());
    groups.push("nearest_euclidean_batch/8x50257x768".into());
    println!(
        "\n| kernel | reference | scalar | naive | baseline | reference / scalar | reference / naive | reference / baseline |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for g in groups {
        let (r, s, n, b) = (
            mean_ns(&dir, &g, "reference"),
            mean_ns(&dir, &g, "scalar"),
            mean_ns(&dir, &g, "naive"),
            mean_ns(&dir, &g, "baseline"),
        );
        let fmt = |t: Option<f64>| {
            t.map_or("—".to_string(), |t| {
                if t > 1e6 {
                    format!("{:.2} ms", t / 1e6)
                } else {
                    format!("{:.1} µs", t / 1e3)
                }
            })
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}×", a / b),
            _ => "—".into(),
        };
        println!(
            "| {g} | {} | {} | {} | {} | {} | {} | {} |",
            fmt(r),
            fmt(s),
            fmt(n),
            fmt(b),
            ratio(r, s),
            ratio(r, n),
            ratio(r, b)
        );
    }
}
