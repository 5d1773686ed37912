"""Module scopes for a layer list, from its layers' dotted names: rows named `features.0` … `features.12` sit in a
`features` frame, as a traced model's rows sit in their modules, so the diagram draws frames (folding into subtotals)
and the Modules tree lists them, instead of the prefixes showing only in tooltips.

A prefix becomes a scope when at least two rows share it and they are consecutive (a frame around one block, or
around rows with others between them, would say nothing a layer list meant). Each row sits in its longest such
prefix. The scopes carry the type `NAME_GROUP`: derived from the names, they are not written back to a layer list
file (`chain.network_of` drops them), and reading the file derives them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .graph import Graph, Scope

NAME_GROUP = "group"  # the type of a scope derived from names (the frame reads "features  group")


def name_prefixes(name: str) -> list[str]:
    """The proper dotted prefixes of `name`, outermost first ('layer1.0.conv1' -> ['layer1', 'layer1.0'])."""
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts)) if all(parts[:k])]


def scopes_of_names(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[Scope, ...]]:
    """Each row's scope ("" for none) and the scopes, outermost and first first, for rows named `names`."""
    rows: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        for p in name_prefixes(name):
            rows.setdefault(p, []).append(i)
    kept = {p for p, rs in rows.items() if len(rs) >= 2 and rs[-1] - rs[0] == len(rs) - 1}
    # a kept scope inside a dropped one would name a parent that is no frame: keep only chains of kept prefixes
    kept = {p for p in kept if all(q in kept for q in name_prefixes(p))}
    row_scope = tuple(next((p for p in reversed(name_prefixes(n)) if p in kept), "") for n in names)
    order = sorted(kept, key=lambda p: (rows[p][0], p.count(".")))
    return row_scope, tuple(Scope(p, NAME_GROUP) for p in order)


def with_name_scopes(graph: Graph) -> Graph:
    """`graph` with scopes from its nodes' dotted names, when it has no scopes of its own (else `graph` itself)."""
    if graph.scopes or any(n.scope for n in graph.nodes):
        return graph
    row_scope, scopes = scopes_of_names([n.display_name for n in graph.nodes])
    if not scopes:
        return graph
    nodes = tuple(replace(n, scope=s) if s else n for n, s in zip(graph.nodes, row_scope, strict=True))
    return replace(graph, nodes=nodes, scopes=scopes)


def without_name_scopes(graph: Graph) -> Graph:
    """`graph` less the scopes `with_name_scopes` gave it (any other scope keeps the graph as it is)."""
    if not graph.scopes or any(s.type != NAME_GROUP for s in graph.scopes):
        return graph
    paths = {s.path for s in graph.scopes}
    if any(n.scope and n.scope not in paths for n in graph.nodes):
        return graph
    return replace(graph, nodes=tuple(replace(n, scope="") if n.scope else n for n in graph.nodes), scopes=())
