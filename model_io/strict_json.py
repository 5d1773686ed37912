"""Strict JSON for the files users hand to NetCost: one decoder that refuses what Python's `json` lets through.

Python's decoder silently keeps the last of duplicate keys (`{"a": 1, "a": 2}`: which one did the author mean?) and
accepts the non-standard literals `NaN`, `Infinity` and `-Infinity`, which no other JSON reader agrees on. Both are
refused here with the JSON path of the offending object, as a `FormatError` like every other file mistake.
"""

from __future__ import annotations

import json
from typing import Any

from costing import FormatError


class _Refused(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {key!r} in one object (JSON keeps only one of them)")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (give a finite number)")


def loads(text: str) -> Any:
    """Decode `text`; raise FormatError (one line) for invalid JSON, duplicate keys, NaN/Infinity, deep nesting or
    numbers too long for Python."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _Refused as e:
        raise FormatError("", f"not valid JSON ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise FormatError("", f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise FormatError("", "not valid JSON (nested too deeply)") from None
    except ValueError as e:  # e.g. an integer literal longer than Python's 4,300-digit limit
        raise FormatError("", f"not valid JSON ({e})") from None
