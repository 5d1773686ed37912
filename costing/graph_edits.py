"""Graph edits that the app makes from a layer list's point of view, as functions over `Graph`.

Each returns the new graph and the ids of the nodes whose evaluation it touched (what `evaluate_graph` re-runs),
like `Graph.set_args`, `Graph.edit_nodes`, `Graph.insert` and `Graph.remove`, on which they build:
- `insert_layers`: layers from specs before a row, on the branch of the node above;
- `reorder_chain`: a plain chain in a new order;
- `with_inputs`: the batch size, the first input's shape, the dtype or the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .graph import Graph, Node, Ref, unique_name
from .spec import LayerSpec


def insert_layers(graph: Graph, row: int, specs: Sequence[LayerSpec]) -> tuple[Graph, set[str], list[str]]:
    """Insert layers before `row` (clamped to the graph): the first reads the output of the node at `row - 1`
    (the graph's first input at row 0), and that output's other readers now read the last inserted layer. In a
    chain this is a list insert; after a node inside a branch it puts the layers on that branch. Also returns
    the new nodes' ids. Raises GraphError for an insert the graph cannot take."""
    g = graph
    row = max(0, min(row, len(g.nodes)))
    src = Ref(g.nodes[row - 1].id) if row > 0 else Ref(g.inputs[0].name)
    taken = {n.display_name for n in g.nodes} | set(g.index) | set(g.input_names)
    new: list[Node] = []
    prev = src
    scope = g.nodes[row - 1].scope if row > 0 else ""
    for k, spec in enumerate(specs):
        name = unique_name(spec.name or f"{spec.type}-{row + k}", taken)
        taken.add(name)
        new.append(Node(name, spec.type, dict(spec.args), (prev,), name=name, scope=scope, trainable=spec.trainable))
        prev = Ref(name)
    out, dirty = g.insert(row, new, {src: prev})
    return out, dirty, [n.id for n in new]


def reorder_chain(graph: Graph, order: Sequence[int]) -> tuple[Graph, set[str]]:
    """A plain chain with its rows in `order` (row indexes of `graph`), each reading the one before it."""
    prev = Ref(graph.inputs[0].name)
    nodes = []
    for r in order:
        n = graph.nodes[r]
        nodes.append(replace(n, inputs=(prev,)))
        prev = Ref(n.id)
    return replace(graph, nodes=tuple(nodes), outputs=()), {n.id for n in nodes}


def with_inputs(graph: Graph, **changes: Any) -> tuple[Graph, set[str]]:
    """The graph with another batch_size, dtype, input_shape (the first input's, without the batch) or name.
    Raises ValueError for bad values."""
    g = graph
    inputs = list(g.inputs)
    if "input_shape" in changes or "batch_size" in changes:
        batch = changes.get("batch_size", g.batch_size)
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch_size={batch!r} must be a positive integer")
        shape = tuple(changes.get("input_shape", inputs[0].shape[1:]))
        if not shape or any(not isinstance(d, int) or d < 1 for d in shape):
            raise ValueError(f"input_shape={list(shape)!r} must be a non-empty list of positive ints")
        inputs = [replace(gi, shape=(batch, *(shape if i == 0 else gi.shape[1:]))) for i, gi in enumerate(inputs)]
    new = replace(g, inputs=tuple(inputs), name=changes.get("name", g.name), dtype=changes.get("dtype", g.dtype))
    return new, {u for gi in new.inputs for u in g.users.get(gi.name, ())}


__all__ = ["insert_layers", "reorder_chain", "with_inputs"]
