"""The optional top-level keys NetCost itself writes into a layer-list file, checked on load.

Unknown keys are kept as they are (the format's promise), but a key NetCost defines must have the shape NetCost
writes: a project whose `view` is a list would open and then fail at every save.

    view      {"convention": one of costing.CONVENTIONS, ...}   view settings (gui/document/cost_document.py)
    recovery  {"path": str | null, "pid": int, "session": str, "time": number}   autosave (gui/document/autosave.py)
    training  {"freeze": [scope, ...], "checkpoint": [scope, ...]}   the window's training what-ifs
              (gui/document/training_state.py)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netcost.costing import CONVENTIONS, FormatError


def _object(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(key, f"must be a JSON object, not {type(value).__name__}")
    return value


def _check_view(value: Any) -> None:
    view = _object("view", value)
    if "convention" in view:
        c = view["convention"]
        if not isinstance(c, str) or c not in CONVENTIONS:
            names = ", ".join(CONVENTIONS)
            raise FormatError("view.convention", f"{c!r} is not a counting convention (one of {names})")


def _check_recovery(value: Any) -> None:
    info = _object("recovery", value)
    path = info.get("path")
    if path is not None and not isinstance(path, str):
        raise FormatError("recovery.path", "must be a string or null")


def _check_training(value: Any) -> None:
    training = _object("training", value)
    for kind in ("freeze", "checkpoint"):
        scopes = training.get(kind, [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise FormatError(f"training.{kind}", "must be a list of module scopes (strings)")


CHECKS: dict[str, Callable[[Any], None]] = {"view": _check_view, "recovery": _check_recovery,
                                            "training": _check_training}


def check(extra: dict[str, Any]) -> None:
    """Raise FormatError naming the first key NetCost defines whose value it could not use."""
    for key, fn in CHECKS.items():
        if key in extra:
            fn(extra[key])
