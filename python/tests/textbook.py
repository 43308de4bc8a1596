"""Plausible correct numpy implementations shared by the law-harness tests: the textbook
algorithms, computed in the dtype they are given (numpy keeps float32 as float32), as a float32
kernel in PyTorch or JAX would."""

import numpy as np


def eps_like(x, eps):
    return x.dtype.type(eps)


def lse_tail(d):
    """ln(1 + Σ_{j≠k} e^{dⱼ}) for shifted logits d with d[k] = 0: the log1p split."""
    k = int(np.argmax(d))
    return np.log1p(np.exp(np.delete(d, k)).sum())


def softmax_max_shift(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def softmax_reciprocal(x):
    # Multiply by 1/s instead of dividing, as vectorised kernels do.
    e = np.exp(x - x.max())
    return e * (x.dtype.type(1) / e.sum())


def log_softmax_split(x):
    m = x.max()
    if not np.isfinite(m):
        return np.full_like(x, np.nan)
    d = x - m
    return d - lse_tail(d)


def logsumexp_split(x):
    m = x.max()
    if not np.isfinite(m):
        return m if not np.isnan(m) else np.nan
    return m + lse_tail(x - m)


def layer_norm_two_pass(x, eps):
    mu = x.mean()
    d = x - mu
    return d / np.sqrt((d * d).mean() + eps_like(x, eps))


def layer_norm_rsqrt(x, eps):
    d = x - x.mean()
    r = x.dtype.type(1) / np.sqrt(np.mean(d * d) + eps_like(x, eps))
    return d * r


def layer_norm_numpy_var(x, eps):
    return (x - x.mean()) / np.sqrt(x.var() + eps_like(x, eps))


def rms_norm_plain(x, eps):
    return x / np.sqrt((x * x).mean() + eps_like(x, eps))


def rms_norm_rsqrt(x, eps):
    return x * (x.dtype.type(1) / np.sqrt(np.mean(np.square(x)) + eps_like(x, eps)))


def cross_entropy_split(z, y):
    m = z.max()
    if not np.isfinite(m):
        return np.nan
    d = z - m
    return lse_tail(d) - d[y]
