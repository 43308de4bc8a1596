"""The law harness: run your own implementation through the laws every correct one satisfies.

``check(op, fn)`` searches inputs (the known traps first, then seeded random rows that shrink to
small numbers) and returns a :class:`Report`:

* **laws** — sums to one, shift invariance, order, mean and scale invariance, the output norm,
  no overflow on finite inputs, a masked −∞ entry gets probability exactly 0, a dominant logit
  keeps its log-probability, and agreement with the exact result within the error bound of the
  textbook stable algorithm (max-shifted softmax, two-pass LayerNorm, …) at that input — so a
  correct plain float32 implementation passes;
* **policies** — answers for +∞ entries, all −∞ rows, constant rows at ε = 0, NaN and empty
  rows. ``policy=None`` accepts any documented answer (this crate's, PyTorch's, or an exception
  for an empty row); ``"crate"`` or ``"torch"`` accept only that one.

``ulps=k`` adds the opt-in law "as accurate as this crate" (within k ulps of this package's
result). An exception raised by ``fn`` fails the law it was running, with the input.

>>> import numpy as np
>>> from transformer_laws import laws
>>> def softmax(x):
...     e = np.exp(x - x.max())
...     return e / e.sum()
>>> laws.check("softmax", softmax).passed
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _args, _native

__all__ = ["check", "Report", "Failure", "OPS"]

#: The operations and the signature each expects of ``fn``.
OPS = {
    "softmax": "fn(x) -> array",
    "log_softmax": "fn(x) -> array",
    "logsumexp": "fn(x) -> float",
    "layer_norm": "fn(x, eps) -> array",
    "rms_norm": "fn(x, eps) -> array",
    "cross_entropy": "fn(logits, target) -> float (the loss)",
}


@dataclass(frozen=True)
class Failure:
    """One failed law or policy: the input, what a correct implementation returns, what came back."""

    law: str
    kind: str
    """``"law"`` or ``"policy"``."""
    input: Union[np.ndarray, Tuple[np.ndarray, int]]
    """The (shrunk) input: the row, or ``(logits, target)`` for cross-entropy."""
    expected: str
    got: str
    detail: str
    statement: str


class Report:
    """Every law and policy of one operation, judged on one implementation."""

    def __init__(self, doc: Dict[str, Any]):
        self._doc = doc
        self.operation: str = doc["operation"]
        self.dtype: str = doc["dtype"]
        self.policy: str = doc["policy"]
        self.passed: bool = doc["passed"]
        """No law or policy failed and none was inconclusive."""
        self.results: List[Dict[str, Any]] = doc["results"]
        """One entry per law and policy: ``kind``, ``name``, ``statement``, ``outcome``
        (``passed``, ``failed``, ``skipped``, ``inconclusive``) and its details."""
        dt = np.float32 if self.dtype == "float32" else np.float64
        failures = []
        for r in self.results:
            if r["outcome"] != "failed":
                continue
            row = np.array(r["row"], dtype=dt)
            inp = row if r["target"] is None else (row, int(r["target"]))
            failures.append(
                Failure(
                    law=r["name"],
                    kind=r["kind"],
                    input=inp,
                    expected=r["expected"],
                    got=r["got"],
                    detail=r["detail"],
                    statement=r["statement"],
                )
            )
        self.failures: List[Failure] = failures

    @property
    def failed_laws(self) -> List[str]:
        """Names of the failed laws and policies."""
        return [f.law for f in self.failures]

    def assert_passed(self) -> None:
        """Raise ``AssertionError`` with the whole report unless everything passed (for pytest)."""
        if not self.passed:
            raise AssertionError("\n" + str(self))

    def __str__(self) -> str:
        return self._doc["text"]

    def __repr__(self) -> str:
        state = "passed" if self.passed else f"failed: {', '.join(self.failed_laws)}"
        return f"<Report {self.operation} ({self.dtype}) {state}>"


def check(
    op: str,
    fn: Callable[..., Any],
    dtype: Union[str, type, np.dtype] = "float32",
    policy: Optional[str] = None,
    ulps: Optional[int] = None,
    cases: Optional[int] = None,
    seed: Optional[int] = None,
) -> Report:
    """Run ``fn`` through every law and policy of ``op``.

    Parameters
    ----------
    op : one of ``softmax``, ``log_softmax``, ``logsumexp`` (``fn(x)``), ``layer_norm``,
        ``rms_norm`` (``fn(x, eps)``, no affine parameters) or ``cross_entropy``
        (``fn(logits, target) -> loss``).
    fn : called with a 1-D numpy array of ``dtype`` (and ``eps`` as a float, or ``target`` as an
        int); returns an array-like (or a float). Results are converted to ``dtype``.
    dtype : ``"float32"`` (default) or ``"float64"`` (or ``numpy.float32``, ``numpy.float64``).
    policy : ``None`` (any documented answer), ``"crate"`` or ``"torch"``.
    ulps : adds the opt-in law "as accurate as this crate", within this many ulps.
    cases : random inputs per law (default 256).
    seed : seed of the random inputs (the same cases on every machine).

    Returns
    -------
    Report
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if op not in OPS:
        raise ValueError(f"unknown op '{op}' (expected one of {', '.join(OPS)})")
    dtype = _args.dtype_name(dtype)
    ulps = _args.unsigned("ulps", ulps, 64)
    cases = _args.unsigned("cases", cases, 32)
    seed = _args.unsigned("seed", seed, 64)
    return Report(_native.laws_check(op, fn, dtype, policy, ulps, cases, seed))
