"""Edits of a graph by row name, as scripts give them: `--set layer1.0.conv1.out_channels=32`.

The row is everything before the last dot, the argument after it; the value is JSON (`32`, `true`, `[3, 3]`,
`null` for torch's default or the inferred size) or else a plain string (`--set blocks.0.mlp.gelu.approximate=tanh`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from netcost.costing.args import coerce_value
from netcost.costing.errors import SpecError
from netcost.costing.graph import Graph
from netcost.costing.registry import has_kind, kind

from .. import strict_json


class EditError(ValueError):
    """An edit names no row or argument, or gives a value the argument cannot take; one line for the user."""


def parse_set(text: str) -> tuple[str, str, Any]:
    target, eq, raw = text.partition("=")
    row, dot, arg = target.strip().rpartition(".")
    if not eq or not dot or not row or not arg:
        raise EditError(f"--set {text!r}: expected ROW.ARG=VALUE, e.g. --set layer1.0.conv1.out_channels=32")
    deep = EditError(f"--set {target.strip()[:80]!r}: the value is nested too deeply")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise deep from None
    except ValueError:
        return row, arg, raw.strip()
    if strict_json.too_deep(value):
        raise deep
    return row, arg, value


def apply_sets(graph: Graph, edits: Iterable[str]) -> Graph:
    """The graph with every `ROW.ARG=VALUE` applied in order. Raises EditError naming the bad edit."""
    for text in edits:
        row, arg, value = parse_set(text)
        graph = set_arg(graph, row, arg, value, text)
    return graph


def set_arg(graph: Graph, row: str, arg: str, value: Any, text: str = "") -> Graph:
    where = f"--set {text!r}: " if text else ""
    node = graph.by_name(row)
    if node is None:
        names = [n.display_name for n in graph.nodes]
        close = difflib.get_close_matches(row, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise EditError(f"{where}no row named {row!r}{hint}")
    if node.opaque:
        raise EditError(f"{where}{row} ({node.type_label}) has no NetCost formula, only the costs measured when it "
                        f"was traced: its arguments cannot be edited")
    if has_kind(node.op) and not kind(node.op).functional:
        k = kind(node.op)
        schema = {a.name: a for a in k.args}
        if arg not in schema:
            raise EditError(f"{where}{node.op} has no argument {arg!r} (it takes: {', '.join(schema)})")
        if value is not None:
            try:
                coerce_value(schema[arg], value, k.dims)
            except SpecError as e:
                raise EditError(f"{where}{e.reason}") from None
    args = dict(node.args)
    if value is None:
        args.pop(arg, None)
    else:
        args[arg] = value
    return graph.set_args(node.id, args)[0]
