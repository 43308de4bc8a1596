"""Type stubs of the compiled extension (softmax, log_softmax, layer_norm and rms_norm are the
public functions themselves; the rest of the public API is in transformer_laws/*.py)."""

from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

__all__ = [
    "softmax",
    "log_softmax",
    "layer_norm",
    "rms_norm",
    "softmax_",
    "log_softmax_",
    "logsumexp_",
    "layer_norm_",
    "rms_norm_",
    "cross_entropy_",
    "ranking_",
    "claims_list",
    "claims_show",
    "claims_check",
    "laws_check",
]

def softmax(x: Any) -> np.ndarray: ...
def log_softmax(x: Any) -> np.ndarray: ...
def layer_norm(
    x: Any, eps: float = 1e-05, gamma: Optional[Any] = None, beta: Optional[Any] = None
) -> np.ndarray: ...
def rms_norm(x: Any, eps: Optional[float] = None, gamma: Optional[Any] = None) -> np.ndarray: ...
def softmax_(x: np.ndarray) -> np.ndarray: ...
def log_softmax_(x: np.ndarray) -> np.ndarray: ...
def logsumexp_(x: np.ndarray) -> np.ndarray: ...
def layer_norm_(
    x: np.ndarray, eps: float, gamma: Optional[np.ndarray] = None, beta: Optional[np.ndarray] = None
) -> np.ndarray: ...
def rms_norm_(
    x: np.ndarray, eps: Optional[float] = None, gamma: Optional[np.ndarray] = None
) -> np.ndarray: ...
def cross_entropy_(logits: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, np.ndarray]: ...
def ranking_(x: np.ndarray, tokens: np.ndarray, op: str) -> np.ndarray: ...
def claims_list() -> List[str]: ...
def claims_show(id: str, cases: Optional[int] = None, seed: Optional[int] = None) -> str: ...
def claims_check(
    ids: Optional[List[str]] = None, cases: Optional[int] = None, seed: Optional[int] = None
) -> str: ...
def laws_check(
    op: str,
    f: Callable[..., Any],
    dtype: str = "float32",
    policy: Optional[str] = None,
    ulps: Optional[int] = None,
    cases: Optional[int] = None,
    seed: Optional[int] = None,
) -> Dict[str, Any]: ...
