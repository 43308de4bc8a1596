"""Checks of the harness's and the claims' keyword arguments, so that a bad value raises
``TypeError`` or ``ValueError`` naming it instead of an ``OverflowError`` from the conversion to
the native integer types."""

from __future__ import annotations

import operator
from typing import Any, Optional

import numpy as np


def unsigned(name: str, value: Optional[Any], bits: int) -> Optional[int]:
    """``value`` as an int in ``[0, 2**bits)``, or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got a bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if not 0 <= v < 1 << bits:
        raise ValueError(f"{name} must be an integer in [0, 2**{bits}), got {v}")
    return v


def dtype_name(dtype: Any) -> str:
    """``"float32"`` or ``"float64"`` from a name or anything numpy reads as a dtype."""
    if isinstance(dtype, str) and dtype in ("f32", "f64"):
        return "float32" if dtype == "f32" else "float64"
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name
