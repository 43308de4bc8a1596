"""Time PyTorch (CPU, one thread) on the inputs of `benches/kernels.rs` and print a Markdown
table beside this crate's criterion results.

Not run by CI (it needs torch). Usage, after `cargo bench -p transformer-laws-benches --bench kernels`:

    python benches/torch_compare.py [--criterion target/criterion]

Inputs are the benches' own: `data(n, seed)` is the same linear congruential generator, so both
sides see identical f32 values. Each PyTorch time is the median over repeated calls (after a
warm-up); the crate's time is criterion's median from the last `cargo bench` run (the median
over its samples), the same statistic.

When the Python package (`pip install ./python`) is importable beside torch, a second table
times both in this one process, interleaved: each round calls the crate (through its Python
binding, which adds the call and the result array to the kernel) and PyTorch once each, in
alternating order, so that the machine's drift (20-30 % between runs) falls on both alike. It
prints both medians, their ratio, and in how many rounds the crate's call was the faster.
"""

import argparse
import json
import os
import pathlib
import statistics
import time

# One thread for numpy's BLAS too: its idle worker threads spin for a while after numpy loads,
# on a core the timed thread could otherwise have.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)


def data(n, seed):
    """Deterministic values in [-8, 8): the benches' LCG, bit for bit."""
    mask = (1 << 64) - 1
    s = seed
    out = np.empty(n, dtype=np.float32)
    a, c = 6364136223846793005, 1442695040888963407
    # Vectorize the LCG by jumping: x_{k+1} = a x_k + c (mod 2^64), in numpy uint64 blocks.
    block = 1 << 12
    # Powers a^i and partial sums for i in 0..block, modulo 2^64.
    ai = np.empty(block, dtype=np.uint64)
    ci = np.empty(block, dtype=np.uint64)
    pa, pc = 1, 0
    for i in range(block):
        pa = (pa * a) & mask
        pc = (pc * a + c) & mask
        ai[i], ci[i] = pa, pc
    with np.errstate(over="ignore"):
        for start in range(0, n, block):
            m = min(block, n - start)
            vals = ai[:m] * np.uint64(s) + ci[:m]
            out[start : start + m] = (
                (vals >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
            ) * np.float32(16.0) - np.float32(8.0)
            s = int(vals[m - 1])
    return out


def median_ns(f, min_time=0.5, warmup=0.2):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        f()
    times = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < min_time or len(times) < 10:
        a = time.perf_counter_ns()
        f()
        times.append(time.perf_counter_ns() - a)
    return statistics.median(times)


def paired_ns(f, g, min_time=1.0, warmup=0.2):
    """Medians of `f` and `g` timed alternately (one call of each per round, the order swapped
    every round), and the share of rounds in which `f` was the faster."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        f()
        g()
    tf, tg = [], []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < min_time or len(tf) < 20:
        for h, ts in ((f, tf), (g, tg)) if len(tf) % 2 == 0 else ((g, tg), (f, tf)):
            a = time.perf_counter_ns()
            h()
            ts.append(time.perf_counter_ns() - a)
    wins = sum(a < b for a, b in zip(tf, tg)) / len(tf)
    return statistics.median(tf), statistics.median(tg), wins


def interleaved():
    """The crate (through its Python binding) and PyTorch on the same inputs, interleaved."""
    try:
        import transformer_laws as tl
    except ImportError:
        print("\n(the Python package is not installed: no interleaved table)")
        return
    n = 50_257
    z = data(n, n)
    zt = torch.from_numpy(z)
    zg = torch.from_numpy(z.copy()).requires_grad_(True)

    def ce_grad():
        loss = F.cross_entropy(zg, torch.tensor(7))
        (g,) = torch.autograd.grad(loss, zg)
        return loss, g

    pairs = [
        ("softmax/50257", lambda: tl.softmax(z), lambda: torch.softmax(zt, -1)),
        ("log_softmax/50257", lambda: tl.log_softmax(z), lambda: torch.log_softmax(zt, -1)),
        ("logsumexp/50257", lambda: tl.logsumexp(z), lambda: torch.logsumexp(zt, -1)),
        ("cross_entropy_grad/50257", lambda: tl.cross_entropy(z, 7), ce_grad),
    ]
    for d in (768, 4096):
        x = np.stack([data(d, d * 31 + r) for r in range(32)])
        g, b = data(d, 1000 + d), data(d, 2000 + d)
        xt, gt, bt = torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(b)
        pairs.append(
            (
                f"layer_norm/32x{d}",
                lambda x=x, g=g, b=b: tl.layer_norm(x, 1e-5, g, b),
                lambda xt=xt, gt=gt, bt=bt, d=d: F.layer_norm(xt, (d,), gt, bt, 1e-5),
            )
        )
        pairs.append(
            (
                f"rms_norm/32x{d}",
                lambda x=x, g=g: tl.rms_norm(x, 1e-5, g),
                lambda xt=xt, gt=gt, d=d: F.rms_norm(xt, (d,), gt, 1e-5),
            )
        )
    print("\nSame process, interleaved (the crate through its Python binding):\n")
    print("| kernel | this crate | PyTorch | ratio | crate faster in |")
    print("|---|---|---|---|---|")
    with torch.no_grad():
        for name, mine, theirs in pairs:
            if name.startswith("cross_entropy"):
                with torch.enable_grad():
                    c, t, wins = paired_ns(mine, theirs)
            else:
                c, t, wins = paired_ns(mine, theirs)
            print(f"| {name} | {fmt(c)} | {fmt(t)} | {c / t:.2f}× | {wins:.0%} of rounds |")


def crate_ns(crit, group, bench="reference"):
    p = crit / group.replace("/", "_") / bench / "new" / "estimates.json"
    try:
        return json.loads(p.read_text())["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt(ns):
    if ns is None:
        return "—"
    return f"{ns / 1e6:.2f} ms" if ns > 1e6 else f"{ns / 1e3:.1f} µs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criterion", default="target/criterion", type=pathlib.Path)
    ap.add_argument("--skip-matrix", action="store_true", help="skip the 50,257 × 768 rows")
    args = ap.parse_args()
    rows = []
    with torch.no_grad():
        n = 50_257
        z = torch.from_numpy(data(n, n))
        rows.append(("softmax/50257", median_ns(lambda: torch.softmax(z, -1))))
        rows.append(("log_softmax/50257", median_ns(lambda: torch.log_softmax(z, -1))))
        rows.append(("logsumexp/50257", median_ns(lambda: torch.logsumexp(z, -1))))
        y = torch.tensor(7)
        rows.append(("cross_entropy/50257", median_ns(lambda: F.cross_entropy(z, y))))
    zg = torch.from_numpy(data(n, n)).requires_grad_(True)

    def ce_grad():
        loss = F.cross_entropy(zg, torch.tensor(7))
        (g,) = torch.autograd.grad(loss, zg)
        return loss, g

    rows.append(("cross_entropy_grad/50257", median_ns(ce_grad)))
    with torch.no_grad():
        for d in (768, 4096):
            x = torch.from_numpy(
                np.stack([data(d, d * 31 + r) for r in range(32)])
            )
            g = torch.from_numpy(data(d, 1000 + d))
            b = torch.from_numpy(data(d, 2000 + d))
            rows.append(
                (f"layer_norm/32x{d}", median_ns(lambda: F.layer_norm(x, (d,), g, b, 1e-5)))
            )
            rows.append((f"rms_norm/32x{d}", median_ns(lambda: F.rms_norm(x, (d,), g, 1e-5))))
        if not args.skip_matrix:
            v, d = 50_257, 768
            # The crate's W is d × V column-major: token j is data[j*d:(j+1)*d], i.e. a V × d
            # row-major matrix here.
            w = torch.from_numpy(data(v * d, 5).reshape(v, d))
            xq = torch.from_numpy(data(d, 6))
            rows.append(
                (f"argmax_dot/{v}x{d}", median_ns(lambda: torch.argmax(w @ xq), 2.0))
            )
            rows.append(
                (
                    f"nearest_euclidean/{v}x{d}",
                    median_ns(lambda: torch.argmin(((w - xq) ** 2).sum(-1)), 2.0),
                )
            )
            rows.append(
                (
                    f"nearest_cosine/{v}x{d}",
                    # The product over the token norms (|x| is common to all): the fast form;
                    # F.cosine_similarity broadcast over the tokens takes some 20 times longer.
                    median_ns(
                        lambda: torch.argmax((w @ xq) / torch.linalg.vector_norm(w, dim=1)), 2.0
                    ),
                )
            )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread")
    print("| kernel | this crate | PyTorch | ratio |")
    print("|---|---|---|---|")
    for name, t in rows:
        c = crate_ns(args.criterion, name)
        ratio = f"{c / t:.2f}×" if c is not None else "—"
        print(f"| {name} | {fmt(c)} | {fmt(t)} | {ratio} |")
    interleaved()


if __name__ == "__main__":
    main()
