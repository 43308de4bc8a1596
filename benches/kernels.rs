//! Criterion benchmarks of the kernels as a user calls them (`reference`: the vector path this
//! CPU gets at run time), beside the scalar reference path (`scalar`, forced with
//! `kernels::with_isa`), on a CPU with AVX-512 the AVX2
//! lanes (`avx2`, forced the same way), the naive forms and a baseline for the limit, all
//! measured in the same run. After the measurements a table of ratios is
//! printed. `benches/torch_compare.py` then times PyTorch on the same inputs.
//!
//! Run: `cargo bench -p transformer-laws-benches --bench kernels` (about ten minutes on 2 cores).

mod common;

use criterion::Criterion;
use nalgebra::DMatrix;
use std::hint::black_box;
use std::time::Duration;
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

fn naive_cosine(w: &DMatrix<f32>, x: &[f32]) -> usize {
    let d = w.nrows();
    let nx = x.iter().map(|v| v * v).sum::<f32>().sqrt();
    let mut best = (0, f32::NEG_INFINITY);
    for (i, col) in w.as_slice().chunks_exact(d).enumerate() {
        let s: f32 = col.iter().zip(x).map(|(a, b)| a * b).sum();
        let nw = col.iter().map(|v| v * v).sum::<f32>().sqrt();
        let c = s / (nx * nw);
        if c > best.1 {
            best = (i, c);
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
    let mut v = Vec::with_capacity(n);
    fill(&mut v, n, seed);
    v
}

/// Push [`data`]'s `n` values onto `v`.
fn fill(v: &mut Vec<f32>, n: usize, seed: u64) {
    let mut s = seed;
    v.extend((0..n).map(|_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 16.0 - 8.0
    }));
}

/// [`data`] in memory the kernel may back with 2 MB pages: the range is marked
/// `MADV_HUGEPAGE` before its first touch, as numpy marks its large arrays and as PyTorch then
/// reads them. On 4 kB pages a pass over a 154 MB matrix pays a page walk every 4 kB, which
/// this machine's streaming read showed as a 1.6–1.8× slower pass; the benchmarks would then
/// time the page size rather than the kernels.
fn data_on_huge_pages(n: usize, seed: u64) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (v.as_mut_ptr() as usize).next_multiple_of(HUGE);
        let end = (v.as_mut_ptr() as usize + n * size_of::<f32>()) / HUGE * HUGE;
        if end > start {
            // SAFETY: [start, end) lies inside the vector's allocation (n values of capacity);
            // the advice changes how the kernel backs it, not its contents or its ownership.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    fill(&mut v, n, seed);
    v
}

/// What the benchmark groups of one family of kernels share: the size in their names, the
/// input, the baseline for the limit, and the samples per benchmark.
struct Family<'a, I: ?Sized, B> {
    size: String,
    input: &'a I,
    baseline: B,
    samples: usize,
}

impl<I: ?Sized, B> Family<'_, I, B> {
    /// The group `{op}/{size}`: the kernel as users call it (`reference`), the same with the
    /// scalar path forced (`scalar`) and, on a CPU that runs AVX-512, with the AVX2 lanes
    /// forced (`avx2`), its `naive` form and the family's `baseline`.
    fn versus<A, N, R>(
        &self,
        c: &mut Criterion,
        op: &str,
        reference: impl Fn(&I) -> A,
        naive: impl Fn(&I) -> N,
    ) where
        B: Fn(&I) -> R,
    {
        let input = self.input;
        let mut g = c.benchmark_group(format!("{op}/{}", self.size));
        g.sample_size(self.samples);
        g.bench_function("reference", |b| b.iter(|| reference(black_box(input))));
        g.bench_function("scalar", |b| {
            with_isa(Isa::Scalar, || b.iter(|| reference(black_box(input))))
        });
        if Isa::detected() == Isa::Avx512 {
            g.bench_function("avx2", |b| {
                with_isa(Isa::Avx2Fma, || b.iter(|| reference(black_box(input))))
            });
        }
        g.bench_function("naive", |b| b.iter(|| naive(black_box(input))));
        g.bench_function("baseline", |b| b.iter(|| (self.baseline)(black_box(input))));
        g.finish();
    }
}

/// The group `name` of a kernel with no scalar or naive form, on `input`: `reference` against
/// the `baseline`, `samples` per benchmark.
fn versus_baseline<I: ?Sized, A, B>(
    c: &mut Criterion,
    name: String,
    input: &I,
    samples: usize,
    reference: impl Fn(&I) -> A,
    baseline: impl Fn(&I) -> B,
) {
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.bench_function("reference", |b| b.iter(|| reference(black_box(input))));
    g.bench_function("baseline", |b| b.iter(|| baseline(black_box(input))));
    g.finish();
}

/// Samples per benchmark of the unembedding kernels (tens of milliseconds an iteration).
const MATRIX_SAMPLES: usize = 10;

fn softmax_family(c: &mut Criterion) {
    for &n in &[1_000usize, 50_257] {
        let z = data(n, n as u64);
        let family = Family {
            size: n.to_string(),
            input: z.as_slice(),
            baseline: exp_sum,
            samples: common::SAMPLES,
        };
        family.versus(c, "softmax", softmax::softmax, naive_softmax);
        family.versus(c, "log_softmax", softmax::log_softmax, naive_log_softmax);
        family.versus(c, "logsumexp", softmax::logsumexp, naive_logsumexp);
        // Cross-entropy and its gradient at the target 7.
        let ce = |z: &[f32]| loss::cross_entropy(z, 7);
        let naive_ce = |z: &[f32]| naive_cross_entropy(z, 7);
        family.versus(c, "cross_entropy", ce, naive_ce);
        let ce_grad = |z: &[f32]| loss::cross_entropy_with_grad(z, 7);
        let naive_ce_grad = |z: &[f32]| naive_cross_entropy_grad(z, 7);
        family.versus(c, "cross_entropy_grad", ce_grad, naive_ce_grad);
    }
}

fn norm_family(c: &mut Criterion) {
    let rows = 32;
    for &d in &[768usize, 4_096] {
        // The batch row by row, one row of d entries after another (as torch_compare.py).
        let x: Vec<f32> = (0..rows)
            .flat_map(|r| data(d, (d * 31 + r) as u64))
            .collect();
        let family = Family {
            size: format!("{rows}x{d}"),
            input: x.as_slice(),
            baseline: |x: &[f32]| x.chunks(d).map(square_sum).sum::<f32>(),
            samples: common::SAMPLES,
        };
        // γ and β as in torch_compare.py.
        let (gm, bt) = (data(d, 1000 + d as u64), data(d, 2000 + d as u64));
        let (gm, bt) = (gm.as_slice(), bt.as_slice());
        // The batch forms (as PyTorch is called, on the whole batch) against the naive form
        // row by row; then the one-row functions called row by row, against the batch forms.
        let ln = |x: &[f32]| norms::layer_norm_rows(x, d, 1e-5, Some(gm), Some(bt));
        let naive_ln = each_row(d, |r| naive_layer_norm(r, 1e-5, gm, bt));
        family.versus(c, "layer_norm", ln, naive_ln);
        let rms = |x: &[f32]| norms::rms_norm_rows(x, d, 1e-5, Some(gm));
        let naive_rms = each_row(d, |r| naive_rms_norm(r, 1e-5, gm));
        family.versus(c, "rms_norm", rms, naive_rms);
        let ln_by_row = each_row(d, |r| norms::layer_norm(r, 1e-5, Some(gm), Some(bt)));
        let name = format!("layer_norm_by_row/{rows}x{d}");
        versus_baseline(c, name, x.as_slice(), common::SAMPLES, ln_by_row, ln);
        let rms_by_row = each_row(d, |r| norms::rms_norm(r, 1e-5, Some(gm)));
        let name = format!("rms_norm_by_row/{rows}x{d}");
        versus_baseline(c, name, x.as_slice(), common::SAMPLES, rms_by_row, rms);
    }
}

/// `f` applied to each row of `d` entries of a batch.
fn each_row<R>(d: usize, f: impl Fn(&[f32]) -> R) -> impl Fn(&[f32]) -> Vec<R> {
    move |x| x.chunks(d).map(&f).collect()
}

/// The unembedding and one query.
type Query<'a> = (&'a DMatrix<f32>, &'a [f32]);

/// A ranking of the unembedding: its name, the one-query kernel, its naive form, the
/// multi-threaded form and the batch form.
type Ranking = (
    &'static str,
    fn(&DMatrix<f32>, &[f32]) -> Option<usize>,
    fn(&DMatrix<f32>, &[f32]) -> usize,
    fn(&DMatrix<f32>, &[f32]) -> Option<usize>,
    fn(&DMatrix<f32>, &DMatrix<f32>) -> Vec<Option<usize>>,
);

fn unembedding(c: &mut Criterion) {
    let (v, d, q) = (50_257usize, 768usize, 8);
    let w = DMatrix::from_vec(d, v, data_on_huge_pages(v * d, 5));
    let x = data(d, 6);
    let xs = DMatrix::from_vec(d, q, data(d * q, 7));
    let rankings: [Ranking; 3] = [
        (
            "argmax_dot",
            unembed::argmax_dot,
            naive_argmax_dot,
            unembed::argmax_dot_par,
            unembed::argmax_dot_batch,
        ),
        (
            "nearest_euclidean",
            unembed::nearest_euclidean,
            naive_nearest,
            unembed::nearest_euclidean_par,
            unembed::nearest_euclidean_batch,
        ),
        (
            "nearest_cosine",
            unembed::nearest_cosine,
            naive_cosine,
            unembed::nearest_cosine_par,
            unembed::nearest_cosine_batch,
        ),
    ];
    let family = Family {
        size: format!("{v}x{d}"),
        input: &(&w, x.as_slice()),
        baseline: |&(w, _): &Query| stream(w),
        samples: MATRIX_SAMPLES,
    };
    for (op, one, naive, par, batch) in rankings {
        family.versus(c, op, |&(w, x)| one(w, x), |&(w, x)| naive(w, x));
        // The multi-threaded form (rayon's pool: all cores), the one-thread form as the baseline.
        let name = format!("{op}_par/{v}x{d}");
        versus_baseline(
            c,
            name,
            family.input,
            MATRIX_SAMPLES,
            |&(w, x)| par(w, x),
            |&(w, x)| one(w, x),
        );
        // The batch form against one query at a time.
        let one_by_one = |xs: &DMatrix<f32>| {
            (0..q)
                .map(|k| one(&w, &xs.column(k).iter().copied().collect::<Vec<_>>()))
                .collect::<Vec<_>>()
        };
        let name = format!("{op}_batch/{q}x{v}x{d}");
        versus_baseline(c, name, &xs, MATRIX_SAMPLES, |xs| batch(&w, xs), one_by_one);
    }
}

fn main() {
    let mut c = common::criterion(Duration::from_millis(800), Duration::from_secs(2));
    softmax_family(&mut c);
    norm_family(&mut c);
    unembedding(&mut c);
    c.final_summary();

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
        groups.push(format!("layer_norm_by_row/32x{d}"));
        groups.push(format!("rms_norm_by_row/32x{d}"));
    }
    groups.push("argmax_dot/50257x768".into());
    groups.push("nearest_euclidean/50257x768".into());
    groups.push("nearest_cosine/50257x768".into());
    groups.push("argmax_dot_par/50257x768".into());
    groups.push("nearest_euclidean_par/50257x768".into());
    groups.push("nearest_cosine_par/50257x768".into());
    groups.push("argmax_dot_batch/8x50257x768".into());
    groups.push("nearest_euclidean_batch/8x50257x768".into());
    groups.push("nearest_cosine_batch/8x50257x768".into());
    println!(
        "\n| kernel | reference | avx2 | scalar | naive | baseline | reference / avx2 | reference / scalar | reference / naive | reference / baseline |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for g in groups {
        let (r, a, s, n, b) = (
            common::median_ns(&g, "reference"),
            // Only where the avx2 rows ran: elsewhere a saved one is stale.
            common::median_ns(&g, "avx2").filter(|_| Isa::detected() == Isa::Avx512),
            common::median_ns(&g, "scalar"),
            common::median_ns(&g, "naive"),
            common::median_ns(&g, "baseline"),
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
        println!(
            "| {g} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            fmt(r),
            fmt(a),
            fmt(s),
            fmt(n),
            fmt(b),
            common::ratio(r, a, 2),
            common::ratio(r, s, 2),
            common::ratio(r, n, 2),
            common::ratio(r, b, 2)
        );
    }
}
