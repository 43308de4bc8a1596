"""Reference kernels of the math inside transformers, with numpy in and out.

Every function works along the last axis, over any leading batch dimensions, and keeps the
dtype it is given (float32 or float64; anything else raises ``TypeError``). float32 results are
computed in float64 and rounded once (correctly rounded); float64 results are within a few ulps.
Bad input (a wrong dtype, mismatched shapes, an out-of-range target, a negative ε) raises
``TypeError`` or ``ValueError`` with the crate's message.

Submodules: :mod:`transformer_laws.claims` (the claims and their verdicts) and
:mod:`transformer_laws.laws` (the law harness for your own implementations).

>>> import numpy as np, transformer_laws as tl
>>> tl.log_softmax(np.array([0.0, -20.0], dtype=np.float32))
array([-2.0611537e-09, -2.0000000e+01], dtype=float32)
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np

from . import _native, claims, laws

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "layer_norm",
    "rms_norm",
    "cross_entropy",
    "argmax_dot",
    "nearest_euclidean",
    "nearest_cosine",
    "claims",
    "laws",
]


def _native_order(a: np.ndarray) -> np.ndarray:
    # A big-endian float32/float64 array (read from a file, say) holds the same numbers: convert
    # it rather than reject it for its byte order. (A misaligned one, a view into a byte buffer
    # at an odd offset, the native side copies.)
    if a.dtype.kind == "f" and not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


# numpy's own float32 and float64 dtype objects, the ones most native-order float arrays carry:
# an array whose dtype is one of these needs no conversion, and the test costs a few nanoseconds
# where the general one (asarray, byte order, dtype comparison) costs a few hundred on every
# call. An equal but distinct dtype (with metadata, say) takes the general path.
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _arr(x, name: str = "x") -> np.ndarray:
    if type(x) is np.ndarray and (x.dtype is _F32 or x.dtype is _F64):
        return x
    a = _native_order(np.asarray(x))
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be a float32 or float64 array, got {a.dtype}")
    return a


def _param(p, like: np.ndarray, name: str) -> Optional[np.ndarray]:
    if p is None:
        return None
    if type(p) is np.ndarray and p.dtype is like.dtype:
        return p
    a = _native_order(np.asarray(p))
    if a.dtype != like.dtype:
        raise TypeError(f"{name} is {a.dtype} but x is {like.dtype} (use the same dtype)")
    return a


def _scalar(a: np.ndarray):
    return a[()] if a.ndim == 0 else a


# softmax, log_softmax, layer_norm and rms_norm are the compiled functions themselves (with
# their docstrings): given numpy arrays of one float dtype they run the kernel at once, and
# anything else comes back to these, which convert it or name the problem.


def _softmax(x) -> np.ndarray:
    return _native.softmax_(_arr(x))


def _log_softmax(x) -> np.ndarray:
    return _native.log_softmax_(_arr(x))


softmax = _native.softmax
log_softmax = _native.log_softmax


def logsumexp(x):
    """``log Σ exp(x)`` along the last axis (−∞ for an empty row).

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., n)

    Returns
    -------
    numpy scalar for a 1-D ``x``, else numpy.ndarray of shape ``x.shape[:-1]``; dtype of ``x``.
    """
    return _scalar(_native.logsumexp_(_arr(x)))


def _layer_norm(x, eps=1e-5, gamma=None, beta=None) -> np.ndarray:
    a = _arr(x)
    return _native.layer_norm_(a, float(eps), _param(gamma, a, "gamma"), _param(beta, a, "beta"))


def _rms_norm(x, eps=None, gamma=None) -> np.ndarray:
    a = _arr(x)
    return _native.rms_norm_(a, None if eps is None else float(eps), _param(gamma, a, "gamma"))


layer_norm = _native.layer_norm
rms_norm = _native.rms_norm


def cross_entropy(logits, target) -> Tuple[np.ndarray, np.ndarray]:
    """Cross-entropy loss ``−log_softmax(logits)[target]`` and its gradient ``softmax − onehot``.

    Parameters
    ----------
    logits : array_like of float32 or float64, shape (..., n)
    target : int or array_like of int, shape ``logits.shape[:-1]``, each in ``[0, n)``

    Returns
    -------
    (loss, grad) : loss of shape ``logits.shape[:-1]`` (a numpy scalar for 1-D logits) and
    grad of the shape of ``logits``, both of its dtype.

    Raises
    ------
    ValueError
        A target out of range, or a target shape that does not match the rows.
    """
    z = _arr(logits, "logits")
    t = np.asarray(target)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"target must be an integer array (class indices), got {t.dtype}")
    if z.ndim and t.dtype.kind == "u" and t.size and t.max() > np.iinfo(np.int64).max:
        # Converting to int64 would wrap it to a negative index: name the real value.
        raise ValueError(f"target {t.max()} is out of range for {z.shape[-1]} logits")
    loss, grad = _native.cross_entropy_(z, t.astype(np.int64))
    return _scalar(loss), grad


def _ranking(x, tokens, op: str):
    a = _arr(x)
    w = _native_order(np.asarray(tokens))
    if w.dtype != a.dtype:
        raise TypeError(f"tokens is {w.dtype} but x is {a.dtype} (use the same dtype)")
    idx = _native.ranking_(a, w, op)
    if idx.ndim == 0:
        i = int(idx)
        return None if i < 0 else i
    return idx


def argmax_dot(x, tokens) -> Union[int, None, np.ndarray]:
    """Index of the token with the largest logit ``x·wᵢ``, ranked exactly.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., d)
    tokens : array_like of shape (V, d), same dtype, one token per row

    Returns
    -------
    int, or None when no token can be ranked (a NaN score), for a 1-D ``x``; otherwise an int64
    array of shape ``x.shape[:-1]`` with −1 for None. Ties go to the lowest index.
    """
    return _ranking(x, tokens, "argmax_dot")


def nearest_euclidean(x, tokens) -> Union[int, None, np.ndarray]:
    """Index of the token nearest to ``x`` in Euclidean distance, ranked exactly.

    Same arguments and results as :func:`argmax_dot`.
    """
    return _ranking(x, tokens, "nearest_euclidean")


def nearest_cosine(x, tokens) -> Union[int, None, np.ndarray]:
    """Index of the token with the largest cosine similarity to ``x``.

    Same arguments and results as :func:`argmax_dot`; None (−1) also for a zero query or when no
    token is non-zero.
    """
    return _ranking(x, tokens, "nearest_cosine")
