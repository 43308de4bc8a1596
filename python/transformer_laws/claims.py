"""The claims about transformer math this package settles, and their verdicts.

The documents are the command line's JSON (``transformer-laws show ID --format json`` and
``check --format json``), with the same schema (``schema/verdict.schema.json``, field
``schema_version``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from . import _args, _native

__all__ = ["list", "show", "check"]

_list = list


def list() -> List[str]:  # noqa: A001 - the API's name
    """The ids of every claim, in the registry's order."""
    return _native.claims_list()


def show(id: str, cases: Optional[int] = None, seed: Optional[int] = None) -> Dict[str, Any]:
    """One claim: its words, readings, verdicts and evidence (``show ID --format json``).

    Raises ``ValueError`` for an unknown id.
    """
    if not isinstance(id, str):
        raise TypeError(f"id must be a str, got {type(id).__name__}")
    cases = _args.unsigned("cases", cases, 32)
    return json.loads(_native.claims_show(id, cases, _args.unsigned("seed", seed, 64)))


def check(
    ids: Optional[Sequence[str]] = None, cases: Optional[int] = None, seed: Optional[int] = None
) -> Dict[str, Any]:
    """Judge every claim (or the ids given): the ``check --format json`` document.

    ``doc["disagree"] == 0`` when every computed verdict agrees with its proof. Takes some
    seconds for the whole registry.
    """
    if isinstance(ids, str):
        ids = [ids]
    cases = _args.unsigned("cases", cases, 32)
    seed = _args.unsigned("seed", seed, 64)
    return json.loads(_native.claims_check(None if ids is None else _list(ids), cases, seed))
