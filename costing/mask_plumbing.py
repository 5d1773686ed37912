"""Mask plumbing: the index arithmetic a transformer's forward does to build its attention mask (Hugging Face's
causal-mask helpers: arange, cumsum, index, le, bitwise_and, expand) sits at the top level of a model's scope, as
many nodes as the model has layers' worth of blocks, and hides the network. It is grouped under one scope, `mask`,
so the diagram and the Modules tree fold it as one container.

The rule is a dataflow one: at one scope's top level, the op nodes (not module calls) whose outputs are integer or
bool valued and from which a bool value is reached through such nodes (a chain that ends in a mask, not position
ids alone or token ids fed to an embedding), plus the float ops that read nothing else (a mask turned into an
additive bias). Graph outputs stay where they are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from .graph import Node

MASK_SCOPE = "mask"
MASK_TYPE = "mask plumbing"
SOURCES = ("parameter", "buffer", "constant")
MIN_CHAIN = 4  # is_causal's ones().tril() inside an attention is two nodes: not plumbing worth a group


def mask_scopes(nodes: Sequence[Node], kinds: Mapping[str, tuple[str, ...]], inputs: Collection[str],
                outputs: Collection[str], taken: Collection[str]) -> dict[str, str]:
    """Node id -> the mask scope it moves to. `kinds`: the element kinds ("float", "int64", "bool", ...) of the
    outputs of the op nodes that may move (module calls are absent); `inputs`: the graph inputs' names; `taken`:
    scope paths already in use. A scope's plumbing is grouped when at least two of its nodes are drawn (they read,
    through others, a graph input, or are opaque): constants such as `is_causal`'s `ones().tril()` inside an
    attention are not drawn, so need no group."""
    drawn = set(inputs)
    for n in nodes:
        if n.measured is not None or any(r.node in drawn for r in n.inputs):
            drawn.add(n.id)
    users: dict[str, list[str]] = {}
    for n in nodes:
        for r in n.inputs:
            users.setdefault(r.node, []).append(n.id)
    scope_of = {n.id: n.scope for n in nodes}
    candidates = {n.id for n in nodes if n.id in kinds and n.id not in outputs and kinds[n.id]
                  and all(k != "float" for k in kinds[n.id])}
    reaches_bool: dict[str, bool] = {}
    for n in reversed(nodes):  # users come after their inputs: one backward pass
        if n.id in candidates:
            reaches_bool[n.id] = "bool" in kinds[n.id] or any(
                reaches_bool.get(u, False) for u in users.get(n.id, ()) if scope_of[u] == n.scope)
    members = {i for i, ok in reaches_bool.items() if ok}
    sources = {n.id for n in nodes if n.op in SOURCES}
    for n in nodes:  # a float op that reads only the mask (and constants): the mask as an additive bias
        if "float" in kinds.get(n.id, ()) and n.id not in members and n.id not in outputs and n.inputs \
                and all(r.node in members or r.node in sources for r in n.inputs) \
                and any(r.node in members and scope_of[r.node] == n.scope for r in n.inputs):
            members.add(n.id)
    by_scope: dict[str, list[str]] = {}
    for n in nodes:
        if n.id in members:
            by_scope.setdefault(n.scope, []).append(n.id)
    out: dict[str, str] = {}
    for scope, ids in by_scope.items():
        path = f"{scope}.{MASK_SCOPE}" if scope else MASK_SCOPE
        # a module of that name keeps its path; two drawn nodes, or a chain of four (op rules make the mask's
        # index arithmetic functional: built from arange alone, none of it reads an input)
        if (sum(i in drawn for i in ids) < 2 and len(ids) < MIN_CHAIN) or path in taken:
            continue
        for i in ids:
            out[i] = path
    return out
