"""Strict JSON for the files users hand to NetCost: one decoder that refuses what Python's `json` lets through.

Python's decoder silently keeps the last of duplicate keys (`{"a": 1, "a": 2}`: which one did the author mean?) and
accepts the non-standard literals `NaN`, `Infinity` and `-Infinity`, which no other JSON reader agrees on. Both are
refused here with the JSON path of the offending object, as a `FormatError` like every other file mistake.

A value that strict JSON cannot write as a number — a node argument of ±infinity or NaN, as GPT-2's causal mask
fills with `-inf` — is written as the object `{"float": "inf"}`, `{"float": "-inf"}` or `{"float": "nan"}`
(`plain`) and read back as that float (`floats`); no argument NetCost knows is an object, so the tag is unambiguous.
"""

from __future__ import annotations

import json
import math
from typing import Any

from netcost.costing import FormatError

FLOAT_TAG = "float"
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def plain(v: Any) -> Any:
    """`v` as strict JSON holds it: tuples as lists, keys as strings, a non-finite float as {"float": "-inf"}."""
    if isinstance(v, (tuple, list)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, float) and not math.isfinite(v):
        return {FLOAT_TAG: "nan" if math.isnan(v) else "inf" if v > 0 else "-inf"}
    return v


def dumps(v: Any, **kwargs: Any) -> str:
    """`v` as strict JSON text (`plain`, then json.dumps with allow_nan=False): what NetCost prints as JSON must
    parse in any JSON reader, so a -inf argument is {"float": "-inf"}, never `-Infinity`."""
    return json.dumps(plain(v), allow_nan=False, **kwargs)


def floats(v: Any, path: str) -> Any:
    """The inverse of `plain` on decoded JSON: each {"float": "inf" | "-inf" | "nan"} becomes that float (a bad
    name is a FormatError at `path`); lists stay lists."""
    if isinstance(v, list):
        return [floats(x, f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(v, dict):
        if FLOAT_TAG in v and len(v) == 1:
            name = v[FLOAT_TAG]
            if name not in _NON_FINITE:
                raise FormatError(path, f'{{"float": {name!r}}} must name "inf", "-inf" or "nan" '
                                        f"(a finite number is written as a number)")
            return _NON_FINITE[name]
        return {k: floats(x, f"{path}.{k}" if path else k) for k, x in v.items()}
    return v


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


MAX_DEPTH = 100  # far deeper than any NetCost file; every reader below recurses, so deeper is refused here


def too_deep(v: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether decoded JSON nests lists/objects deeper than `limit` (walked without recursion)."""
    stack = [(v, 1)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, (list, dict)):
            if depth > limit:
                return True
            stack.extend((y, depth + 1) for y in (x.values() if isinstance(x, dict) else x))
    return False


def loads(text: str) -> Any:
    """Decode `text`; raise FormatError (one line) for invalid JSON, duplicate keys, NaN/Infinity, deep nesting or
    numbers too long for Python."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _Refused as e:
        raise FormatError("", f"not valid JSON ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise FormatError("", f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise FormatError("", "not valid JSON (nested too deeply)") from None
    except ValueError as e:  # e.g. an integer literal longer than Python's 4,300-digit limit
        raise FormatError("", f"not valid JSON ({e})") from None
    if too_deep(data):
        raise FormatError("", f"not valid JSON for NetCost (nested deeper than {MAX_DEPTH} levels)")
    return data
