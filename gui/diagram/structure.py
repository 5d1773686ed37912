"""What the diagram draws of a graph, Qt-free: which nodes are drawn, the module scopes they sit in, and the edges
between drawn nodes (and inputs) through the hidden ones.

Hidden nodes: parameter/buffer/constant sources, aten view ops (view, reshape, transpose, permute, expand, split,
...) and functional nodes that read no graph input (mask and position tables) are not drawn; edges run through
them. torch.nn layers and opaque nodes are always drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from netcost.costing.graph import Graph
from netcost.costing.mask_plumbing import MASK_TYPE
from netcost.costing.registry import has_kind, kind
from netcost.costing.scope_tree import ScopeTree
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey

# aten ops whose output aliases their input: not drawn, the edge runs through them
VIEW_OPS = frozenset({
    "view", "reshape", "_unsafe_view", "t", "transpose", "transpose_", "permute", "expand", "unsqueeze", "squeeze",
    "alias", "detach", "select", "slice", "split", "unsafe_split", "split_with_sizes", "unbind", "flatten",
})
SOURCE_OPS = frozenset({"parameter", "buffer", "constant"})
AUTO_BOXES = 40  # a model opens with whole levels of scopes expanded while at most this many boxes show


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
        # the graph's scope tree, without the scopes that hold no drawn node (their nodes still count)
        tree = graph.scope_tree
        self.scopes: ScopeTree = tree.pruned(lambda i: nodes[i].id not in hidden) if hidden else tree
        # drawn node ids directly inside each drawn scope, in graph order
        self.nodes_in: dict[str, list[str]] = {
            p: [nodes[i].id for i in e.direct if nodes[i].id not in hidden] for p, e in self.scopes.entries.items()}

    def level(self, path: str) -> int:
        """Nesting among drawn scopes (0: the root and its children)."""
        return self.scopes[path].level

    def ancestors(self, path: str) -> tuple[str, ...]:
        """Drawn scope paths from the outermost to `path` itself (the root "" excluded)."""
        return self.scopes.ancestors(path)

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
    bottlenecks folded; GPT-2: its blocks folded). `graph` is `st.graph` (the scope types are in `st.scopes`)."""
    expanded: set[str] = set()
    scopes = st.scopes
    boxes = len(st.nodes_in[""]) + len(scopes.root.children) + len(st.used_inputs)
    # mask plumbing (costing.mask_plumbing) stays folded: it is there so as not to dominate
    frontier = [c for c in scopes.root.children if scopes[c].type != MASK_TYPE]
    while frontier:
        grow = sum(len(st.nodes_in[p]) + len(scopes[p].children) - 1 for p in frontier)
        if boxes + grow > AUTO_BOXES and (expanded or boxes + grow > 4 * AUTO_BOXES or len(frontier) > 1):
            break
        expanded |= set(frontier)
        boxes += grow
        frontier = [c for p in frontier for c in scopes[p].children if scopes[c].type != MASK_TYPE]
    return expanded
