"""Graph files (`netcost.graph/1`): hand-made networks with branches, and saved (edited) models; v1 layer lists
load as chains. Strict loading with the JSON path of any bad field; the same dict form crosses the worker pipe.

A node is `{"type": ..., "name": ..., "inputs": [...], <arguments>}`. Without `inputs` it reads the previous node's
output (the graph's first input for the first node), so a chain is as short as a v1 layer list; `"inputs": []`
says it reads nothing (a parameter, `arange`). An input is a node name, a graph input name, or `name:k` for the
k-th output of a node with several (`split`, `max_pool2d_with_indices`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from netcost.costing import FormatError, SpecError, Totals
from netcost.costing.args import MAX_SIZE, coerce_args
from netcost.costing.chain import INPUT_NAME, graph_from_network
from netcost.costing.dtypes import canonical_dtype
from netcost.costing.graph import FIXED_DTYPES, Graph, GraphInput, Measured, Node, Ref, Scope
from netcost.costing.registry import has_kind, kind

from .. import strict_json
from . import project_keys
from .layer_file import FORMAT as LAYERS_FORMAT
from .layer_file import atomic_write, check_format, file_dtype, parse_network, read_text

FORMAT = "netcost.graph/1"
_NODE_KEYS = ("type", "name", "inputs", "scope", "module", "trainable", "measured", "shares", "label", "args")
_TOP_KEYS = ("format", "name", "dtype", "inputs", "input_shape", "batch_size", "nodes", "outputs", "scopes", "source")
PROGRESS_EVERY = 2048  # nodes between two `progress` calls of `parse_graph`
_MAX_INDEX_DIGITS = 6  # an output index: no op has a million outputs
_TOKEN_DTYPES = {"int64": "int64", "long": "int64", "int32": "int32", "int": "int32", "bool": "bool"}


# --- writing -----------------------------------------------------------------------------------------------------

def _ref_text(r: Ref, names: dict[str, str]) -> str:
    base = names.get(r.node, r.node)
    return base if r.index == 0 else f"{base}:{r.index}"


def _input_dtype(i: GraphInput, dtype: str) -> str:
    """An input that follows the document's dtype is written as that dtype, unless the name is also a fixed dtype
    (int8): then as "float", or it would read back as fixed int8 and stay int8 under another --dtype."""
    if i.dtype != "float":
        return i.dtype
    return "float" if dtype in FIXED_DTYPES else dtype


def graph_to_dict(g: Graph, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    names = {n.id: n.display_name for n in g.nodes}
    data: dict[str, Any] = {"format": FORMAT, "name": g.name, "dtype": g.dtype,
                            "inputs": [{"name": i.name, "shape": list(i.shape), "dtype": _input_dtype(i, g.dtype)}
                                       for i in g.inputs],
                            "nodes": []}
    prev: Ref | None = Ref(g.inputs[0].name) if g.inputs else None
    for n in g.nodes:
        item: dict[str, Any] = {"type": n.op, "name": n.display_name}
        if n.inputs != ((prev,) if prev is not None else ()):
            item["inputs"] = [_ref_text(r, names) for r in n.inputs]
        args = strict_json.plain(dict(n.args))
        if any(k in _NODE_KEYS for k in args):
            item["args"] = args
        else:
            item.update(args)
        for key, default in (("scope", ""), ("module", ""), ("label", ""), ("trainable", True)):
            value = getattr(n, key)
            if value != default:
                item[key] = value
        if n.shares:
            item["shares"] = [[names.get(s, s), k] for s, k in n.shares]
        if n.measured is not None:
            m = n.measured
            item["measured"] = {"inputs": [[list(s), d] for s, d in m.inputs],
                                "outputs": [[list(s), d] for s, d in m.outputs], "totals": m.totals.as_dict(),
                                "category": m.category, "unsupported": [list(u) for u in m.unsupported]}
        data["nodes"].append(item)
        prev = Ref(n.id)
    if g.outputs:
        data["outputs"] = [_ref_text(r, names) for r in g.outputs]
    if g.scopes:
        data["scopes"] = [{"path": s.path, "type": s.type} for s in g.scopes]
    if g.source:
        data["source"] = strict_json.plain(dict(g.source))
    if extra:
        data.update({k: v for k, v in extra.items() if k not in _TOP_KEYS})
    return data


def save_graph(path: str | os.PathLike[str], g: Graph, extra: dict[str, Any] | None = None) -> None:
    """Strict JSON (non-finite argument values tagged, see `strict_json.plain`), written atomically."""
    atomic_write(path, (json.dumps(graph_to_dict(g, extra), indent=1, allow_nan=False) + "\n").encode("utf-8"))


# --- reading -----------------------------------------------------------------------------------------------------

def _shape(v: Any, path: str, allow_empty: bool = False) -> tuple[int, ...]:
    if (not isinstance(v, list) or (not v and not allow_empty)
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v)):
        raise FormatError(path, f"{v!r} must be a list of non-negative integers")
    if any(d > MAX_SIZE for d in v):
        raise FormatError(path, "a size above 2**63 - 1 cannot be built by torch (sizes are int64)")
    return tuple(v)


def _element_kind(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise FormatError(path, f"{v!r} must be a dtype name")
    if v in ("float", *_TOKEN_DTYPES.values()) or v in FIXED_DTYPES:
        return "float" if v == "float64" else v
    if v.lower() in _TOKEN_DTYPES:
        return _TOKEN_DTYPES[v.lower()]
    try:
        canonical_dtype(v)
    except ValueError:
        raise FormatError(path, f"unknown dtype {v!r}") from None
    return "float"


def _inputs(data: dict[str, Any], first_type: str | None) -> tuple[GraphInput, ...]:
    raw = data.get("inputs")
    if raw is None:  # the v1 shorthand: one input without its batch dim
        shape = data.get("input_shape")
        if shape is None:
            raise FormatError("inputs", "missing (a list of {name, shape, dtype}, or input_shape as in a layer list)")
        dims = _shape(shape, "input_shape")
        if not all(dims):
            raise FormatError("input_shape", f"{shape!r} must be positive integers")
        batch = data.get("batch_size", 1)
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise FormatError("batch_size", f"{batch!r} must be a positive integer")
        return (GraphInput(INPUT_NAME, (batch, *dims), "int64" if first_type == "Embedding" else "float"),)
    if not isinstance(raw, list) or not raw:
        raise FormatError("inputs", "must be a non-empty list of {name, shape, dtype}")
    out = []
    for i, item in enumerate(raw):
        where = f"inputs[{i}]"
        if not isinstance(item, dict):
            raise FormatError(where, "must be an object {name, shape, dtype}")
        name = item.get("name")
        if not isinstance(name, str) or not name or ":" in name:
            raise FormatError(f"{where}.name", "must be a non-empty string without ':'")
        out.append(GraphInput(name, _shape(item.get("shape"), f"{where}.shape"),
                              _element_kind(item.get("dtype", "float32"), f"{where}.dtype")))
    return tuple(out)


def _totals(v: Any, path: str) -> Totals:
    if not isinstance(v, dict):
        raise FormatError(path, "must be an object of integer totals")
    known = Totals().as_dict()
    for k, x in v.items():
        if k not in known:
            raise FormatError(f"{path}.{k}", "is not a total NetCost knows")
        if not isinstance(x, int) or isinstance(x, bool) or x < 0:
            raise FormatError(f"{path}.{k}", f"{x!r} must be a non-negative integer (a count of what was measured)")
    return Totals(**v)


def _values(v: Any, path: str) -> tuple[tuple[tuple[int, ...], str], ...]:
    if not isinstance(v, list):
        raise FormatError(path, "must be a list of [shape, dtype]")
    out = []
    for i, item in enumerate(v):
        if not isinstance(item, list) or len(item) != 2:
            raise FormatError(f"{path}[{i}]", "must be [shape, dtype]")
        out.append((_shape(item[0], f"{path}[{i}][0]", allow_empty=True), _element_kind(item[1], f"{path}[{i}][1]")))
    return tuple(out)


def _measured(v: Any, path: str) -> Measured:
    if not isinstance(v, dict):
        raise FormatError(path, "must be an object")
    unsupported = v.get("unsupported", [])
    if not isinstance(unsupported, list) or not all(
            isinstance(u, list) and len(u) == 2 and isinstance(u[0], str) and isinstance(u[1], int)
            and not isinstance(u[1], bool) and u[1] >= 0 for u in unsupported):
        raise FormatError(f"{path}.unsupported", "must be a list of [op, count] with a non-negative count")
    category = v.get("category", "other")
    if not isinstance(category, str):
        raise FormatError(f"{path}.category", "must be a string")
    return Measured(_values(v.get("inputs", []), f"{path}.inputs"), _values(v.get("outputs", []), f"{path}.outputs"),
                    _totals(v.get("totals", {}), f"{path}.totals"), category,
                    tuple((u[0], u[1]) for u in unsupported))


def _parse_ref(text: Any, path: str, known: dict[str, str], ids: dict[str, str], outputs: dict[str, int | None]
               ) -> Ref:
    """`outputs`: how many outputs each name has where that does not depend on evaluation (None: it does)."""
    if not isinstance(text, str) or not text:
        raise FormatError(path, f"{text!r} must be the name of a node or of a graph input")
    name, _, index = text.rpartition(":") if ":" in text else (text, "", "0")
    if not (index.isascii() and index.isdigit()):
        name, index = text, "0"
    if name not in known:
        raise FormatError(path, f"{name!r} is not a graph input or an earlier node")
    count = outputs.get(name)
    if len(index) > _MAX_INDEX_DIGITS or (count is not None and int(index) >= count):
        has = f"{count} output{'s' * (count != 1)}" if count is not None else "far fewer outputs"
        raise FormatError(path, f"{text[:40]!r}{'…' if len(text) > 40 else ''}: {name!r} has {has}")
    return Ref(ids.get(name, name), int(index))


def parse_graph(data: Any, progress: Callable[[int, int], None] | None = None) -> tuple[Graph, dict[str, Any]]:
    """Validate a decoded graph (or v1 layer-list) document; return the graph and the extra top-level keys.
    `progress(done, total)` is called every few thousand nodes (and may raise to stop)."""
    if not isinstance(data, dict):
        raise FormatError("", "a graph file must be a JSON object")
    fmt = data.get("format")
    if fmt == LAYERS_FORMAT:
        net, extra = parse_network(data)
        return graph_from_network(net), extra
    if fmt is None:
        raise FormatError("format", f'missing; expected "{FORMAT}" (or "{LAYERS_FORMAT}")')
    check_format(fmt, FORMAT, "a NetCost graph")
    name = data.get("name", "untitled")
    if not isinstance(name, str):
        raise FormatError("name", "must be a string")
    dtype = file_dtype(data)
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list):
        raise FormatError("nodes", "missing or not a list")
    first = raw_nodes[0].get("type") if raw_nodes and isinstance(raw_nodes[0], dict) else None
    inputs = _inputs(data, first if isinstance(first, str) else None)
    known: dict[str, str] = {i.name: "input" for i in inputs}
    ids: dict[str, str] = {}
    n_outputs: dict[str, int | None] = {i.name: 1 for i in inputs}
    nodes: list[Node] = []
    prev: Ref | None = Ref(inputs[0].name)
    for i, item in enumerate(raw_nodes):
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i, len(raw_nodes))
        node = _parse_node(item, f"nodes[{i}]", i, prev, known, ids, n_outputs)
        known[node.display_name] = "node"
        ids[node.display_name] = node.id
        n_outputs[node.display_name] = _output_count(node)
        nodes.append(node)
        prev = Ref(node.id)
    raw_outputs = data.get("outputs", [])
    if not isinstance(raw_outputs, list):
        raise FormatError("outputs", "must be a list of names")
    outputs = tuple(_parse_ref(r, f"outputs[{i}]", known, ids, n_outputs) for i, r in enumerate(raw_outputs))
    scopes = []
    for i, s in enumerate(data.get("scopes", [])):
        if not isinstance(s, dict) or not isinstance(s.get("path"), str) or not isinstance(s.get("type", ""), str):
            raise FormatError(f"scopes[{i}]", "must be an object {path, type}")
        scopes.append(Scope(s["path"], s.get("type", "Module")))
    source = data.get("source", {})
    if not isinstance(source, dict):
        raise FormatError("source", "must be an object")
    source = strict_json.floats(source, "source")
    extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
    project_keys.check(extra)
    return Graph(tuple(nodes), inputs, outputs, name=name, dtype=dtype, scopes=tuple(scopes), source=source), extra


def _output_count(node: Node) -> int | None:
    """A measured node has the outputs it was measured with, a torch.nn layer one, a functional op what its kind
    declares (`add` one, `native_layer_norm` three); where that depends on its arguments (split) it is checked
    when the node is evaluated."""
    if node.measured is not None:
        return max(1, len(node.measured.outputs))
    return kind(node.op).outputs


def _misleading_label(label: str, op: str) -> bool:
    """A label is the type shown (a traced module's class, `aten.add`): it may name the node's own kind or a class
    NetCost has no kind for (NewGELUActivation), never another kind (a gelu shown as LSTM)."""
    if not label or label in (op, f"aten.{op}"):
        return False
    return label.startswith("aten.") or has_kind(label)


def _parse_node(item: Any, path: str, index: int, prev: Ref | None, known: dict[str, str], ids: dict[str, str],
                outputs: dict[str, int | None]) -> Node:
    if not isinstance(item, dict):
        raise FormatError(path, "a node must be a JSON object with a 'type'")
    op = item.get("type")
    if not isinstance(op, str) or not op:
        raise FormatError(f"{path}.type", "missing or not a string")
    measured = _measured(item["measured"], f"{path}.measured") if "measured" in item else None
    if measured is None and not has_kind(op):
        raise FormatError(f"{path}.type", f"unknown layer or op type {op!r}")
    name = item.get("name", f"{op}-{index}")
    if not isinstance(name, str) or not name or ":" in name:
        raise FormatError(f"{path}.name", "must be a non-empty string without ':'")
    if name in known:
        raise FormatError(f"{path}.name", f"{name!r} is already the name of "
                                          f"{'a graph input' if known[name] == 'input' else 'an earlier node'}")
    if "inputs" in item:
        raw = item["inputs"]
        if not isinstance(raw, list):
            raise FormatError(f"{path}.inputs", "must be a list of names")
        refs = tuple(_parse_ref(r, f"{path}.inputs[{k}]", known, ids, outputs) for k, r in enumerate(raw))
    else:
        refs = (prev,) if prev is not None else ()
    args = item.get("args") if "args" in item else {k: v for k, v in item.items() if k not in _NODE_KEYS}
    if not isinstance(args, dict):
        raise FormatError(f"{path}.args", "must be an object")
    args = strict_json.floats(args, f"{path}.args" if "args" in item else path)
    if measured is None:
        k = kind(op)
        wrong = k.operands.problem(len(refs), args)
        if wrong:  # torch refuses the call: `add` of one tensor, `ReLU` of two
            raise FormatError(f"{path}.inputs", f"{op} node {name!r} {wrong}")
        if not k.functional:
            try:
                coerce_args(k.args, args, k.dims)  # type checks only; shape checks happen at evaluation
            except SpecError as e:
                raise FormatError(f"{path}.{e.field}" if e.field else path, e.reason) from None
    trainable = item.get("trainable", True)
    if not isinstance(trainable, bool):
        raise FormatError(f"{path}.trainable", "must be true or false")
    fields: dict[str, str] = {}
    for key in ("scope", "module", "label"):
        v = item.get(key, "")
        if not isinstance(v, str):
            raise FormatError(f"{path}.{key}", "must be a string")
        fields[key] = v
    if _misleading_label(fields["label"], op):
        raise FormatError(f"{path}.label", f"{fields['label'][:60]!r} names another kind than the node's type {op!r} "
                                           f"(the table would show it as what it is not)")
    shares = []
    raw_shares = item.get("shares", [])
    if not isinstance(raw_shares, list):
        raise FormatError(f"{path}.shares", "must be a list of [an earlier node's name, elements]")
    for k, s in enumerate(raw_shares):
        if not (isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) and isinstance(s[1], int)
                and not isinstance(s[1], bool) and s[0] in ids):
            raise FormatError(f"{path}.shares[{k}]", "must be [an earlier node's name, elements]")
        if not 0 < s[1] <= MAX_SIZE:  # the node's own parameter count bounds it too, checked when it is costed
            raise FormatError(f"{path}.shares[{k}]", f"{s[1]} must be a positive number of shared elements")
        shares.append((ids[s[0]], s[1]))
    return Node(name, op, args, refs, name=name, trainable=trainable, measured=measured, shares=tuple(shares),
                **fields)


def loads_graph(text: str) -> tuple[Graph, dict[str, Any]]:
    """Strict JSON (duplicate keys and NaN literals refused) as a graph or v1 layer list."""
    return parse_graph(strict_json.loads(text))


def load_graph(path: str | os.PathLike[str]) -> tuple[Graph, dict[str, Any]]:
    """A graph file or a v1 layer list as a graph. Raises FormatError naming the bad field."""
    return loads_graph(read_text(path))
