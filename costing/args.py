"""Argument schemas: torch's constructor arguments, their defaults, and coercion of user values.

One `Arg` describes one constructor argument under torch's own name. `coerce_args` turns the raw values of a layer
spec (from JSON, the GUI or code) into checked Python values, or raises `SpecError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import isfinite
from typing import Any

from .errors import SpecError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

# torch stores every size as int64: a larger one cannot be built, so it is refused with that reason
MAX_SIZE = 2**63 - 1

# Argument kinds. `ints` with `dims=n` accepts an int or a list of n ints and yields a tuple of n ints.
KINDS = ("int", "bool", "opt_bool", "float", "opt_float", "ints", "padding", "choice", "opt_int", "opt_ints", "shape",
         "size", "opt_sizes", "opt_scales", "str", "any")


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str
    default: Any = REQUIRED
    minimum: int | float | None = None
    choices: tuple[Any, ...] = ()
    inferred: bool = False  # an input-size argument: may be omitted, then taken from the incoming shape
    unsupported: tuple[Any, ...] = ()  # accepted by torch but not modelled here (e.g. return_indices=True)
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.inferred


def check_output_shape(shape: tuple[int, ...]) -> None:
    """A layer whose output torch could not allocate (Upsample by 1e300, ...) is an error, not a 1e300-row table."""
    for d in shape:
        if d > MAX_SIZE:
            raise SpecError(f"the output size {d:.3g} is larger than torch can build (sizes are int64, at most "
                            "2**63 - 1)")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    """A finite int or float that a float can hold (a 401-digit integer overflows float())."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return isfinite(v)
    except OverflowError:
        return False


def _shown(v: Any) -> str:
    """A value for a message: short, and a huge integer by its length (repr of 4,300+ digits raises)."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10 ** 40:
        return f"<a {len(str(abs(v))) if abs(v) < 10 ** 4000 else 'thousands-of'}-digit integer>"
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_min(arg: Arg, v: int | float, shown: Any) -> None:
    if isinstance(v, int) and not -MAX_SIZE - 1 <= v <= MAX_SIZE:
        raise SpecError(f"{arg.name}={v} is larger than torch can build (sizes are int64, at most 2**63 - 1)",
                        arg.name)
    if arg.minimum is not None and v < arg.minimum:
        bound = "positive" if arg.minimum == 1 else f">= {arg.minimum}"
        if arg.minimum == 0:
            bound = "non-negative"
        raise SpecError(f"{arg.name}={shown!r} must be {bound}", arg.name)


def _ints(arg: Arg, value: Any, dims: int) -> tuple[int, ...]:
    if _is_int(value):
        _check_min(arg, value, value)
        return (value,) * dims
    if isinstance(value, (list, tuple)):
        if len(value) != dims or not all(_is_int(v) for v in value):
            raise SpecError(f"{arg.name}={list(value)!r} must be an int or a list of {dims} ints", arg.name)
        for v in value:
            _check_min(arg, v, list(value))
        return tuple(value)
    raise SpecError(f"{arg.name}={value!r} must be an int or a list of {dims} ints", arg.name)


def coerce_value(arg: Arg, value: Any, dims: int = 1) -> Any:
    """Check one value against its argument kind and return it normalised."""
    k = arg.kind
    if value is None and k in ("opt_int", "opt_ints", "opt_float", "opt_bool", "opt_sizes", "opt_scales", "any"):
        return None
    if k == "any":  # validated by the cost function, which knows the input rank
        return value
    if k == "int":
        if not _is_int(value):
            raise SpecError(f"{arg.name}={value!r} must be an integer", arg.name)
        _check_min(arg, value, value)
        return value
    if k == "opt_int":
        if not _is_int(value):
            raise SpecError(f"{arg.name}={value!r} must be an integer or null", arg.name)
        _check_min(arg, value, value)
        return value
    if k in ("bool", "opt_bool"):
        if not isinstance(value, bool):
            raise SpecError(f"{arg.name}={value!r} must be true or false", arg.name)
        return value
    if k in ("float", "opt_float"):
        if not _is_number(value):
            raise SpecError(f"{arg.name}={_shown(value)} must be a finite number", arg.name)
        _check_min(arg, value, value)
        return float(value)
    if k in ("ints", "opt_ints"):
        return _ints(arg, value, dims)
    if k == "padding":
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise SpecError(f"padding={value!r} must be an int, a list of ints, 'same' or 'valid'", arg.name)
            return value
        return _ints(arg, value, dims)
    if k in ("choice", "str"):
        if arg.choices and value not in arg.choices:
            opts = ", ".join(repr(c) for c in arg.choices)
            raise SpecError(f"{arg.name}={value!r} must be one of {opts}", arg.name)
        if k == "str" and not isinstance(value, str):
            raise SpecError(f"{arg.name}={value!r} must be a string", arg.name)
        return value
    if k == "shape":  # an int or a non-empty list of positive ints (normalized_shape)
        if _is_int(value):
            _check_min(arg, value, value)
            return (value,)
        if isinstance(value, (list, tuple)) and value and all(_is_int(v) for v in value):
            for v in value:
                _check_min(arg, v, list(value))
            return tuple(value)
        raise SpecError(f"{arg.name}={value!r} must be an int or a list of ints", arg.name)
    if k == "size":  # output_size / size: an int, or a list of `dims` entries each an int or null
        if _is_int(value):
            _check_min(arg, value, value)
            return (value,) * dims
        if isinstance(value, (list, tuple)) and len(value) == dims and all(v is None or _is_int(v) for v in value):
            for v in value:
                if v is not None:
                    _check_min(arg, v, list(value))
            return tuple(value)
        raise SpecError(f"{arg.name}={value!r} must be an int or a list of {dims} ints (or nulls)", arg.name)
    if k == "opt_sizes":  # Upsample's size: an int or a list of ints (its length is checked against the input)
        if _is_int(value):
            _check_min(arg, value, value)
            return value
        if isinstance(value, (list, tuple)) and value and all(_is_int(v) for v in value):
            for v in value:
                _check_min(arg, v, list(value))
            return tuple(value)
        raise SpecError(f"{arg.name}={value!r} must be an int or a non-empty list of ints", arg.name)
    if k == "opt_scales":  # Upsample's scale_factor: a number or a list of numbers, each > 0
        if _is_number(value):
            if value <= 0:
                raise SpecError(f"{arg.name}={value!r} must be positive", arg.name)
            return float(value)
        if isinstance(value, (list, tuple)) and value and all(_is_number(v) for v in value):
            if any(v <= 0 for v in value):
                raise SpecError(f"{arg.name}={list(value)!r} must be positive", arg.name)
            return tuple(float(v) for v in value)
        raise SpecError(f"{arg.name}={value!r} must be a number or a non-empty list of numbers", arg.name)
    raise AssertionError(f"unknown argument kind {k}")  # a bug in a registration, not a user error


def with_arg(args: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """`args` with `key` set to `value`; None removes it (torch's default, or the size inferred from the input)."""
    out = dict(args)
    if value is None:
        out.pop(key, None)
    else:
        out[key] = value
    return out


def remembered_check(holder: Any, raw: Mapping[str, Any], check: Any) -> dict[str, Any]:
    """`check(raw)`, remembered on the immutable `holder` (a layer spec, a graph node): re-evaluating at another
    input shape skips argument checking, about a third of a row's cost. Errors are not remembered."""
    cached = holder.__dict__.get("_checked")
    if cached is None:
        cached = check(raw)
        object.__setattr__(holder, "_checked", cached)
    return cached


def coerce_args(schema: tuple[Arg, ...], raw: Mapping[str, Any], dims: int = 1) -> dict[str, Any]:
    """Return every schema argument with its value (user's, else torch's default); inferred ones may be None."""
    known = {a.name for a in schema}
    for key in raw:
        if key not in known:
            names = ", ".join(sorted(known)) or "none"
            raise SpecError(f"unknown argument {key!r} (this layer takes: {names})", key)
    out: dict[str, Any] = {}
    for arg in schema:
        if arg.name in raw:
            value = coerce_value(arg, raw[arg.name], dims)
            if arg.unsupported and value in arg.unsupported:
                raise SpecError(f"{arg.name}={raw[arg.name]!r} is not supported by NetCost", arg.name)
            out[arg.name] = value
        elif arg.inferred:
            out[arg.name] = None
        elif arg.default is REQUIRED:
            raise SpecError(f"missing required argument {arg.name!r}", arg.name)
        else:
            out[arg.name] = coerce_value(arg, arg.default, dims) if arg.default is not None else None
    return out
