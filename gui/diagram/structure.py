"""What the diagram draws of a graph, Qt-free: which nodes are drawn, the module scopes they sit in, and the edges
between drawn nodes (and inputs) through the hidden ones.

Hidden nodes: parameter/buffer/constant sources, aten view ops (view, reshape, transpose, permute, expand, split,
...) and functional nodes that read no graph input (mask and position tables) are not drawn; edges run through
them. torch.nn layers and opaque nodes are always drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netcost.costing.graph import Graph
from netcost.costing.mask_plumbing import MASK_TYPE
from netcost.costing.registry import has_kind, kind
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey

# aten ops whose output aliases their input: not drawn, the edge runs through them
VIEW_OPS = frozenset({
    "view", "reshape", "_unsafe_view", "t", "transpose", "transpose_", "permute", "expand", "unsqueeze", "squeeze",
    "alias", "detach", "select", "slice", "split", "unsafe_split", "split_with_sizes", "unbind", "flatten",
})
SOURCE_OPS = frozenset({"parameter", "buffer", "constant"})
AUTO_BOXES = 40  # a model opens with whole levels of scopes expanded while at most this many boxes show


@dataclass
class _Scope:
    path: str
    parent: str | None
    children: list[str] = field(default_factory=list)  # child scopes with something drawn
    nodes: list[str] = field(default_factory=list)  # drawn nodes directly inside
    members: list[int] = field(default_factory=list)  # rows of every node inside (hidden ones too)
    order: int = 0  # first member row


@dataclass(frozen=True)
class Edge:
    src: BoxKey  # drawn node id or an input's key
    value: str
    index: int
    dst: str  # drawn node id
    dst_input: int


def rewired(st: DiagramStructure | None, graph: Graph, row: int) -> bool:
    """Whether the node at `row` of `graph` reads other values, or is another op, than structure `st` has it."""
    if st is None or st.graph is graph or not 0 <= row < len(graph.nodes):
        return False
    node = graph.nodes[row]
    known = st.row.get(node.id)
    if known is None:
        return True
    was = st.graph.nodes[known]
    return was.inputs != node.inputs or was.op != node.op


class DiagramStructure:
    """What the diagram draws of a graph, computed once per structure (not per edit of an argument)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._ancestors: dict[str, list[str]] = {}
        nodes = graph.nodes
        self.row = {n.id: i for i, n in enumerate(nodes)}
        fed = set(graph.input_names)  # values that depend on a graph input
        hidden: set[str] = set()
        for n in nodes:
            reads_input = any(r.node in fed for r in n.inputs)
            if reads_input:
                fed.add(n.id)
            layer = has_kind(n.op) and not kind(n.op).functional
            if layer or n.opaque or n.module:
                continue
            if n.op in SOURCE_OPS or (n.op in VIEW_OPS and len(n.inputs) <= 1) or not reads_input:
                hidden.add(n.id)
        if len(hidden) == len(nodes):
            hidden = set()
        self.hidden = hidden
        # edges between drawn nodes (and inputs), through hidden ones; `via` keeps the first hidden hop
        reach: dict[str, list[tuple[BoxKey, str, int]]] = {}  # hidden id -> (drawn src, value, index)
        edges: list[Edge] = []
        inputs = set(graph.input_names)

        def sources(node_id: str, index: int) -> list[tuple[BoxKey, str, int]]:
            if node_id in inputs:
                return [(InputKey(node_id), node_id, 0)]
            if node_id in hidden:
                return reach.get(node_id, [])
            return [(node_id, node_id, index)]

        for n in nodes:
            if n.id in hidden:
                acc: list[tuple[BoxKey, str, int]] = []
                for r in n.inputs:
                    for s in sources(r.node, r.index):
                        if s not in acc:
                            acc.append(s)
                reach[n.id] = acc
                continue
            seen: set[BoxKey] = set()
            for k, r in enumerate(n.inputs):
                for src, value, index in sources(r.node, r.index):
                    if src not in seen:
                        seen.add(src)
                        edges.append(Edge(src, value, index, n.id, k))
        self.edges = edges
        srcs = {e.src for e in edges}
        self.used_inputs = [name for name in graph.input_names if InputKey(name) in srcs]
        # scopes: every path on a node or in the graph's list, parented by the longest existing prefix
        paths = {s.path for s in graph.scopes} | {n.scope for n in nodes}
        paths.discard("")
        scopes: dict[str, _Scope] = {"": _Scope("", None)}
        for p in sorted(paths, key=lambda s: s.count(".")):
            parent = p
            while True:
                parent = parent.rpartition(".")[0]
                if parent in scopes or not parent:
                    break
            scopes[p] = _Scope(p, parent if parent in scopes else "")
        for i, n in enumerate(nodes):
            s: str | None = n.scope if n.scope in scopes else ""
            if n.id not in hidden:
                scopes[s].nodes.append(n.id)  # type: ignore[index]
            while s is not None:
                scopes[s].members.append(i)
                s = scopes[s].parent
        drawn = {p for p, s in scopes.items() if s.nodes}
        for p in sorted(scopes, key=lambda s: -s.count(".")):  # a scope with drawn descendants is drawn
            if p in drawn and scopes[p].parent is not None:
                drawn.add(scopes[p].parent)  # type: ignore[arg-type]
        self.scopes = {p: s for p, s in scopes.items() if p in drawn or p == ""}
        for p, s in self.scopes.items():
            s.order = s.members[0] if s.members else 0
            if s.parent is not None:
                self.scopes[s.parent].children.append(p)
        for s in self.scopes.values():
            s.children.sort(key=lambda c: self.scopes[c].order)
        self.level = {p: (0 if p == "" else self._level(p)) for p in self.scopes}

    def _level(self, path: str) -> int:
        """Nesting among drawn scopes (0: a child of the graph itself)."""
        depth, s = 0, self.scopes[path].parent
        while s:
            depth += 1
            s = self.scopes[s].parent
        return depth

    def ancestors(self, path: str) -> list[str]:
        """Drawn scope paths from the outermost to `path` itself (the root "" excluded)."""
        hit = self._ancestors.get(path)
        if hit is not None:
            return hit
        out = []
        s: str | None = path
        while s:
            out.append(s)
            s = self.scopes[s].parent
        self._ancestors[path] = out[::-1]
        return self._ancestors[path]

    def scope_of(self, node_id: str) -> str:
        s = self.graph.nodes[self.row[node_id]].scope
        return s if s in self.scopes else ""

    def visible_key(self, node_id: str, expanded: set[str]) -> BoxKey:
        """The key of the box that shows a drawn node: itself, or its outermost collapsed scope."""
        for p in self.ancestors(self.scope_of(node_id)):
            if p not in expanded:
                return ScopeKey(p)
        return node_id


def default_expansion(st: DiagramStructure, graph: Graph) -> set[str]:
    """Whole levels of scopes open while at most AUTO_BOXES boxes show (ResNet-50: its stages open, their
    bottlenecks folded; GPT-2: its blocks folded)."""
    expanded: set[str] = set()
    boxes = len(st.scopes[""].nodes) + len(st.scopes[""].children) + len(st.used_inputs)
    # mask plumbing (costing.mask_plumbing) stays folded: it is there so as not to dominate
    frontier = [c for c in st.scopes[""].children if graph.scope_type(c) != MASK_TYPE]
    while frontier:
        grow = sum(len(st.scopes[p].nodes) + len(st.scopes[p].children) - 1 for p in frontier)
        if boxes + grow > AUTO_BOXES and (expanded or boxes + grow > 4 * AUTO_BOXES or len(frontier) > 1):
            break
        expanded |= set(frontier)
        boxes += grow
        frontier = [c for p in frontier for c in st.scopes[p].children if graph.scope_type(c) != MASK_TYPE]
    return expanded
