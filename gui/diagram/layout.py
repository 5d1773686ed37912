"""The diagram's layout, Qt-free: graph + expanded scopes -> box positions, frames and edge routes.

A layered (Sugiyama) dataflow layout, top to bottom: branches side by side, merges where they meet, residual
edges drawn. `igraph`'s Sugiyama (C) orders each layer and gives x positions; this module assigns the layers (longest
path, with sources such as constants and masks moved down next to their readers), sizes the columns to the boxes
(a lane holding only edges stays narrow) and routes the edges.

Compound by module scope, as Model Explorer does: a collapsed scope is one box; an expanded one is a frame whose
inside is laid out on its own (cached by scope and by what is expanded inside it), with ports on its border where
edges enter and leave. Expanding a scope therefore lays out only its inside and its ancestors' levels; every other
scope's inside is reused as it was, and igraph's order of a level does not depend on its boxes' sizes, so the rest
keeps its arrangement.

Hidden nodes: parameter/buffer/constant sources, aten view ops (view, reshape, transpose, permute, expand, split,
...) and functional nodes that read no graph input (mask and position tables) are not drawn; edges run through
them. torch.nn layers and opaque nodes are always drawn.

The flow runs top to bottom (`Orientation.TOP_DOWN`, the default: one column of flow, long edges routed through
their own lanes beside the boxes they skip) or left to right (`Orientation.LEFT_RIGHT`, for wide screens): the same
layered layout computed with every size turned a quarter and transposed at the end, so frames keep their header on
top. Only exports that must fit a page cut a tall layout into columns (`wrap`), between rows of boxes where a
single value crosses.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

import igraph

from netcost.costing.graph import Graph
from netcost.costing.registry import has_kind, kind

SCOPE = "\x1fscope:"  # key prefix of a scope's box or frame
INPUT = "\x1finput:"  # key prefix of a graph input's pill
_IN, _OUT = "\x1fin:", "\x1fout:"  # ports on a frame's border (per source key)

# aten ops whose output aliases their input: not drawn, the edge runs through them
VIEW_OPS = frozenset({
    "view", "reshape", "_unsafe_view", "t", "transpose", "transpose_", "permute", "expand", "unsqueeze", "squeeze",
    "alias", "detach", "select", "slice", "split", "unsafe_split", "split_with_sizes", "unbind", "flatten",
})
SOURCE_OPS = frozenset({"parameter", "buffer", "constant"})

Point = tuple[float, float]


class Orientation(Enum):
    """Which way the data flows in the diagram."""

    TOP_DOWN = "top-down"
    LEFT_RIGHT = "left-right"

    @property
    def horizontal(self) -> bool:
        return self is Orientation.LEFT_RIGHT


@dataclass(frozen=True)
class Sizes:
    """Box sizes and gaps in scene units (the scene passes its own)."""

    block: tuple[float, float] = (240.0, 72.0)
    scope: tuple[float, float] = (240.0, 72.0)
    input: tuple[float, float] = (170.0, 30.0)
    header: float = 30.0
    pad: float = 12.0
    vgap: float = 40.0
    hgap: float = 36.0
    lane: float = 14.0  # width of a column that only edges run through
    margin: float = 36.0
    col_gap: float = 72.0
    cont: float = 18.0  # a frame continued in the next column: its small header band
    entry_gap: float = 20.0  # above a continued column's first box: the arrow from the previous column turns in
    min_frame_w: float = 200.0
    flow_gap: float = 56.0  # left to right: between layers (an arrow's run); `vgap` is top to bottom's
    across_gap: float = 24.0  # left to right: between boxes side by side in one layer (stacked vertically)

    def turned(self) -> Sizes:
        """The sizes a left-to-right layout is computed with (top to bottom, then transposed)."""
        def t(wh: tuple[float, float]) -> tuple[float, float]:
            return (wh[1], wh[0])
        return replace(self, block=t(self.block), scope=t(self.scope), input=t(self.input), vgap=self.flow_gap,
                       hgap=self.across_gap)


@dataclass(slots=True)
class Box:
    key: str
    x: float
    y: float
    w: float
    h: float

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass(slots=True)
class Route:
    """One drawn edge: from a visible key to a visible key, the value it carries, and its points. Points are
    joined by vertical-tangent curves where x changes and by straight lines where it does not."""

    src: str
    dst: str
    value: str  # the producing node id (or the graph input name) of the value
    index: int  # which output of the producer
    dst_node: str  # the consumer node (the first one, for an edge into a collapsed scope)
    dst_input: int  # which input of that consumer
    points: list[Point] = field(default_factory=list)


@dataclass
class DiagramLayout:
    boxes: dict[str, Box]  # visible node ids, collapsed scope keys, input keys
    frames: dict[str, list[Box]]  # expanded scope path -> frame segments (one per column it spans)
    routes: list[Route]
    width: float
    height: float
    columns: list[tuple[float, float]] = field(default_factory=list)  # x extents of newspaper columns
    anchor_x: float = 0.0  # where the root level's first igraph column sits: views keep it still (no jumping)


# ---- structure: what is drawn, scopes, edges through hidden nodes -------------------------------------------
@dataclass
class _Scope:
    path: str
    parent: str | None
    children: list[str] = field(default_factory=list)  # child scopes with something drawn
    nodes: list[str] = field(default_factory=list)  # drawn nodes directly inside
    members: list[int] = field(default_factory=list)  # rows of every node inside (hidden ones too)
    order: int = 0  # first member row


@dataclass(frozen=True)
class _Edge:
    src: str  # drawn node id or INPUT key
    value: str
    index: int
    dst: str  # drawn node id
    dst_input: int


_prebuilt: list[DiagramStructure] = []  # at most one: built off the GUI thread for the graph about to be shown


def prebuild_structure(graph: Graph) -> None:
    """Compute `graph`'s structure now (a thread opening a large file: 0.8 s at 100k nodes), for the scene that
    shows it next (`structure_of`)."""
    _prebuilt[:] = [DiagramStructure(graph)]


def structure_of(graph: Graph) -> DiagramStructure:
    """`graph`'s structure: the prebuilt one if it is this very graph's, else computed now."""
    if _prebuilt and _prebuilt[0].graph is graph:
        return _prebuilt.pop()
    return DiagramStructure(graph)


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
        reach: dict[str, list[tuple[str, str, int]]] = {}  # hidden id -> (drawn src, value, index)
        edges: list[_Edge] = []
        inputs = set(graph.input_names)

        def sources(node_id: str, index: int) -> list[tuple[str, str, int]]:
            if node_id in inputs:
                return [(INPUT + node_id, node_id, 0)]
            if node_id in hidden:
                return reach.get(node_id, [])
            return [(node_id, node_id, index)]

        for n in nodes:
            if n.id in hidden:
                acc: list[tuple[str, str, int]] = []
                for r in n.inputs:
                    for s in sources(r.node, r.index):
                        if s not in acc:
                            acc.append(s)
                reach[n.id] = acc
                continue
            seen: set[str] = set()
            for k, r in enumerate(n.inputs):
                for src, value, index in sources(r.node, r.index):
                    if src not in seen:
                        seen.add(src)
                        edges.append(_Edge(src, value, index, n.id, k))
        self.edges = edges
        self.used_inputs = [name for name in graph.input_names if any(e.src == INPUT + name for e in edges)]
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

    def visible_key(self, node_id: str, expanded: set[str]) -> str:
        """The key of the box that shows a drawn node: itself, or its outermost collapsed scope."""
        for p in self.ancestors(self.scope_of(node_id)):
            if p not in expanded:
                return SCOPE + p
        return node_id


# ---- the layered layout of one level --------------------------------------------------------------------
@dataclass
class _Level:
    """The inside of one expanded scope (or the whole graph), relative to its own origin."""

    w: float
    h: float
    pos: dict[str, Box]  # child keys and ports
    routes: dict[tuple[str, str], list[Point]]  # control points of each level edge (without the end points)
    entry: dict[tuple[str, str], float]  # x offset on the target's top edge of each level edge
    edges: frozenset[tuple[str, str]] = frozenset()  # what it was laid out for (the cache checks it)
    anchor: float = 0.0  # x of igraph's column 0 in this level's coordinates
    _drawn: list[tuple[str, Box, str | None]] | None = None

    def drawn(self) -> list[tuple[str, Box, str | None]]:
        """(key, box, scope path or None) of what it draws, ports left out (kept with the cached level)."""
        if self._drawn is None:
            self._drawn = [(k, b, k[len(SCOPE):] if k.startswith(SCOPE) else None) for k, b in self.pos.items()
                           if not (k.startswith(_IN) or k.startswith(_OUT))]
        return self._drawn


class DiagramLayouter:
    """Lays out a `DiagramStructure` for a set of expanded scopes; caches each level's layout."""

    def __init__(self, structure: DiagramStructure, sizes: Sizes | None = None,
                 orientation: Orientation = Orientation.TOP_DOWN) -> None:
        self.s = structure
        self.given = sizes or Sizes()
        self.orientation = orientation
        self.sizes = self.given.turned() if orientation.horizontal else self.given  # what the flow is laid out in
        self._cache: dict[tuple[str, frozenset[str]], _Level] = {}
        self._chains: dict[str, list[str]] = {}  # scope path -> levels from the root
        self._key_chains: dict[str, list[str]] = {}  # visible key -> its levels (one of the lists above)

    # public
    def layout(self, expanded: Iterable[str]) -> DiagramLayout:
        s, z = self.s, self.sizes
        exp = {p for p in expanded if p in s.scopes} | {""}
        exp = {p for p in exp if all(a in exp for a in s.ancestors(p))}
        key_of: dict[str, str] = {}  # drawn node -> its box: itself, or its outermost collapsed scope
        for path, sc in s.scopes.items():
            folded = next((p for p in s.ancestors(path) if p not in exp), None)
            key_of.update({n: n for n in sc.nodes} if folded is None else dict.fromkeys(sc.nodes, SCOPE + folded))
        # level edges: each original edge lifted to the lowest common level, with port hops below it
        level_edges: dict[str, set[tuple[str, str]]] = {p: set() for p in exp}
        chains: list[tuple[_Edge, str, str, list[tuple[str, str, str]]]] = []
        chain = self._chain
        for e in s.edges:
            ku = key_of.get(e.src, e.src)  # (an input's key is its own)
            kv = key_of[e.dst]
            if ku == kv:
                continue
            cu, cv = chain(ku), chain(kv)
            if cu is cv:  # most edges: both ends in the same level
                hop = (cu[-1], ku, kv)
                level_edges[cu[-1]].add(hop[1:])
                chains.append((e, ku, kv, [hop]))
                continue
            n = 0
            while n < min(len(cu), len(cv)) and cu[n] == cv[n]:
                n += 1
            lca = cu[n - 1]
            hops: list[tuple[str, str, str]] = []  # (level, from, to) in drawing order
            a = ku
            for lvl in reversed(cu[n:]):  # out of every expanded scope around the source
                hops.append((lvl, a, _OUT + ku))
                a = SCOPE + lvl
            inner = cv[n:]
            b = SCOPE + inner[0] if inner else kv
            hops.append((lca, a, b))
            for i, lvl in enumerate(inner):  # into every expanded scope around the target
                nxt = SCOPE + inner[i + 1] if i + 1 < len(inner) else kv
                hops.append((lvl, _IN + ku, nxt))
            for lvl, x, y in hops:
                level_edges[lvl].add((x, y))
            chains.append((e, ku, kv, hops))
        levels: dict[str, _Level] = {}
        self._build("", exp, level_edges, levels)
        # absolute origins, top-down
        origin: dict[str, Point] = {"": (z.margin, z.margin)}
        frames: dict[str, list[Box]] = {}
        boxes: dict[str, Box] = {}
        stack = [""]
        turned = self.orientation.horizontal
        while stack:
            p = stack.pop()
            ox, oy = origin[p]
            for k, b, path in levels[p].drawn():
                ab = Box(k, ox + b.x, oy + b.y, b.w, b.h)
                if path is not None and path in exp:
                    frames[path] = [ab]
                    inner = levels[path]
                    if turned:  # the header is on the real top: the left of the turned frame
                        origin[path] = (ab.x + z.header, ab.y + (ab.h - inner.h) / 2)
                    else:
                        origin[path] = (ab.x + (ab.w - inner.w) / 2, ab.y + z.header)
                    stack.append(path)
                else:
                    boxes[k] = ab
        routes = [self._route(e, ku, kv, hops, levels, origin) for e, ku, kv, hops in chains]
        root = levels[""]
        if turned:
            return _transposed(DiagramLayout(boxes, frames, routes, root.w + 2 * z.margin, root.h + 2 * z.margin))
        return DiagramLayout(boxes, frames, routes, root.w + 2 * z.margin, root.h + 2 * z.margin,
                             anchor_x=z.margin + root.anchor)

    def clear(self) -> None:
        self._cache.clear()

    def set_orientation(self, orientation: Orientation) -> None:
        """Lay out the other way from now on (every cached level is dropped: its sizes are turned)."""
        if orientation is not self.orientation:
            self.orientation = orientation
            self.sizes = self.given.turned() if orientation.horizontal else self.given
            self._cache.clear()

    # internals
    def _chain(self, key: str) -> list[str]:
        """Expanded levels around a visible key, from the root: ["", "layer1", "layer1.0"] (whatever is expanded:
        a key is visible only while its levels are; keys in one level share one list)."""
        hit = self._key_chains.get(key)
        if hit is not None:
            return hit
        if key.startswith(INPUT):
            parent = ""
        else:
            parent = (self.s.scopes[key[len(SCOPE):]].parent or "") if key.startswith(SCOPE) else self.s.scope_of(key)
        hit = self._chains.get(parent)
        if hit is None:
            hit = self._chains[parent] = ["", *self.s.ancestors(parent)]
        self._key_chains[key] = hit
        return hit

    def _size(self, key: str, exp: set[str], levels: dict[str, _Level]) -> tuple[float, float]:
        z = self.sizes
        if key.startswith(INPUT):
            return z.input
        if key.startswith(_IN) or key.startswith(_OUT):
            return (0.0, 0.0)
        if key.startswith(SCOPE):
            path = key[len(SCOPE):]
            if path in exp:
                inner = levels[path]
                if self.orientation.horizontal:  # turned: the header band runs down the left side
                    return (inner.w + z.header + z.pad, max(inner.h + 2 * z.pad, z.min_frame_w))
                return (max(inner.w + 2 * z.pad, z.min_frame_w), inner.h + z.header + z.pad)
            return z.scope
        return z.block

    def _build(self, path: str, exp: set[str], level_edges: dict[str, set[tuple[str, str]]],
               levels: dict[str, _Level]) -> None:
        sc = self.s.scopes[path]
        for c in sc.children:
            if c in exp:
                self._build(c, exp, level_edges, levels)
        inside = frozenset(p for p in exp if p.startswith(path + ".")) if path else frozenset(exp)
        edges = frozenset(level_edges[path])
        key = (path, inside)
        cached = self._cache.get(key)
        if cached is not None and cached.edges == edges:
            levels[path] = cached
            return
        keys = [*(INPUT + i for i in (self.s.used_inputs if not path else ())), *sc.nodes,
                *(SCOPE + c for c in sc.children)]
        for a, b in edges:
            for k in (a, b):
                if (k.startswith(_IN) or k.startswith(_OUT)) and k not in keys:
                    keys.append(k)
        sizes = {k: self._size(k, exp, levels) for k in keys}
        level = self._layered(keys, edges, sizes)
        level.edges = edges
        self._cache[key] = level
        levels[path] = level

    def _order(self, key: str) -> float:
        if key.startswith(INPUT) or key.startswith(_IN):
            return -1.0
        if key.startswith(_OUT):
            return math.inf
        if key.startswith(SCOPE):
            return float(self.s.scopes[key[len(SCOPE):]].order)
        return float(self.s.row[key])

    def _layered(self, keys: list[str], edges: frozenset[tuple[str, str]],
                 sizes: dict[str, tuple[float, float]]) -> _Level:
        z = self.sizes
        order = self._order
        keys = sorted(keys, key=lambda k: (order(k), k))
        idx = {k: i for i, k in enumerate(keys)}
        n = len(keys)
        succ: list[list[int]] = [[] for _ in range(n)]
        pred: list[list[int]] = [[] for _ in range(n)]
        pairs: list[tuple[int, int]] = []
        for a, b in sorted(edges):
            i, j = idx[a], idx[b]
            if i == j:
                continue
            if i > j:
                i, j = j, i  # a back edge (a scope read before and after a node): layered as if forward
            succ[i].append(j)
            pred[j].append(i)
            pairs.append((i, j))
        is_in = [k.startswith(_IN) for k in keys]
        is_out = [k.startswith(_OUT) for k in keys]
        size = [sizes[k] for k in keys]
        layer = [0] * n
        first = 1 if any(is_in) else 0
        for i in range(n):  # longest path, in order (keys are topologically sorted)
            if not is_in[i]:
                p = pred[i]
                layer[i] = max([layer[q] for q in p]) + 1 if p else first
        for i in range(n - 1, -1, -1):  # sources (constants, a second input) sit just above their first reader
            if not pred[i] and succ[i] and not is_in[i]:
                layer[i] = max(layer[i], min([layer[j] for j in succ[i]]) - 1)
        bottom = max((layer[i] for i in range(n) if not is_out[i]), default=0) + 1
        for i in range(n):
            if is_out[i]:
                layer[i] = bottom
        if not any(is_out):
            bottom -= 1
        g = igraph.Graph(n=n, edges=pairs, directed=True)
        lay = g.layout_sugiyama(layers=layer, hgap=1, vgap=1, maxiter=60 if n < 400 else 20)
        xs = [c[0] for c in lay.coords[:n]]
        routing = lay.edge_routing
        # items per layer: (x from igraph, width, kind) -> column compaction below
        nl = bottom + 1
        heights = [0.0] * nl
        for i in range(n):
            h = size[i][1]
            if h > heights[layer[i]]:
                heights[layer[i]] = h
        items: list[tuple[float, int, float, bool, int]] = [  # x, layer, width, is_box, ref
            (xs[i], layer[i], size[i][0], not (is_in[i] or is_out[i]), i) for i in range(n)]
        dummies: list[list[tuple[float, int]]] = []
        lane = z.lane
        for e, pts in enumerate(routing):
            if len(pts):
                base = layer[pairs[e][0]] + 1
                cps = [(float(p[0]), base + t) for t, p in enumerate(pts)]
                items += [(x, lyr, lane, False, -1) for x, lyr in cps]
            else:
                cps = []
            dummies.append(cps)
        center = self._columns(items, nl)
        tops = [0.0] * nl
        y = 0.0
        for lyr in range(nl):
            tops[lyr] = y
            y += heights[lyr] + (z.vgap if lyr < nl - 1 else 0.0)
        height = y
        # x of every box and lane first: the level's left edge is the origin of what follows
        cxs = [center[round(x, 6)] for x in xs]
        left, right = math.inf, -math.inf
        for i in range(n):
            half = size[i][0] / 2
            if cxs[i] - half < left:
                left = cxs[i] - half
            if cxs[i] + half > right:
                right = cxs[i] + half
        lanes = [[center[round(x, 6)] for x, _ in cps] for cps in dummies]
        for cs in lanes:
            for cx in cs:
                if cx < left:
                    left = cx
                if cx > right:
                    right = cx
        if not keys:
            left = right = 0.0
        pos: dict[str, Box] = {}
        for i, k in enumerate(keys):
            w, h = size[i]
            if is_in[i]:  # a port on the frame's border where the flow enters (its header, top to bottom)
                top = -z.pad if self.orientation.horizontal else -z.header
            elif is_out[i]:
                top = height + z.pad
            else:
                top = tops[layer[i]] + (heights[layer[i]] - h) / 2
            pos[k] = Box(k, (cxs[i] - w / 2) - left, top, w, h)
        routes: dict[tuple[str, str], list[Point]] = {}
        for e, (i, j) in enumerate(pairs):
            pts: list[Point] = []
            for (_, lyr), cx in zip(dummies[e], lanes[e], strict=True):
                pts += [(cx - left, tops[lyr]), (cx - left, tops[lyr] + heights[lyr])]
            ab = (keys[i], keys[j])
            if ab in edges:
                routes[ab] = pts
            else:  # a back edge, drawn the way it goes
                routes[(keys[j], keys[i])] = pts[::-1]
        # where each edge meets its target's top: spread over the middle of the box, in the order they arrive
        # (a lone edge meets it in the middle: no entry)
        entry: dict[tuple[str, str], float] = {}
        incoming: dict[str, list[tuple[float, tuple[str, str]]]] = {}
        for (a, b), pts in routes.items():
            before = pts[-1][0] if pts else pos[a].cx
            incoming.setdefault(b, []).append((before, (a, b)))
        for b, lst in incoming.items():
            if len(lst) < 2:
                continue
            lst.sort()
            w = pos[b].w
            step = min(26.0, 0.7 * w / max(len(lst), 1))
            for t, (_, ab) in enumerate(lst):
                entry[ab] = (t - (len(lst) - 1) / 2) * step
        return _Level(right - left, height, pos, routes, entry, anchor=center[min(center)] - left if center else 0.0)

    def _columns(self, items: list[tuple[float, int, float, bool, int]], nl: int) -> dict[float, float]:
        """Centre x of each igraph column: items keep igraph's order, a column is as wide as its widest item in
        each layer, and lanes that hold only edges stay narrow."""
        z = self.sizes
        hgap, lane = z.hgap, z.lane
        by_col: dict[float, list[tuple[int, float, bool]]] = {}
        for x, lyr, w, box, _ in items:
            col = round(x, 6)
            hit = by_col.get(col)
            if hit is None:
                by_col[col] = [(lyr, w, box)]
            else:
                hit.append((lyr, w, box))
        right = [-math.inf] * nl
        kind_right = [False] * nl
        center: dict[float, float] = {}
        prev = -math.inf
        for col in sorted(by_col):
            c = prev
            members = by_col[col]
            for lyr, w, box in members:
                r = right[lyr]
                if r == -math.inf:
                    continue
                gap = hgap if box and kind_right[lyr] else (hgap + lane) / 2 if box or kind_right[lyr] \
                    else lane * 0.7
                if r + gap + w / 2 > c:
                    c = r + gap + w / 2
            if c == -math.inf:
                c = 0.0
            center[col] = c
            prev = c
            for lyr, w, box in members:
                if c + w / 2 >= right[lyr]:
                    right[lyr] = c + w / 2
                    kind_right[lyr] = box
        return center

    def _route(self, e: _Edge, ku: str, kv: str, hops: list[tuple[str, str, str]], levels: dict[str, _Level],
               origin: dict[str, Point]) -> Route:
        pts: list[Point] = []
        for lvl, a, b in hops:
            level = levels[lvl]
            ox, oy = origin[lvl]
            pos = level.pos
            if not pts:
                ba = pos[a]
                pts.append((ox + ba.cx, oy + ba.bottom))
            elif a.startswith(_IN):  # entering a frame: its port on the top border
                pts.append((ox + pos[a].cx, oy + pos[a].y))
            mid = level.routes.get((a, b))
            if mid:
                pts += [(ox + x, oy + y) for x, y in mid]
            bb = pos[b]
            if b[:1] == "\x1f":  # a scope or a port (node ids never start with the separator)
                if b.startswith(SCOPE) and b[len(SCOPE):] in levels:  # into a frame: through its port
                    continue
                if b.startswith(_OUT):
                    pts.append((ox + bb.cx, oy + bb.y))
                    continue
            pts.append((ox + bb.cx + level.entry.get((a, b), 0.0), oy + bb.y))
        return Route(ku, kv, e.value, e.index, e.dst, e.dst_input, _dedupe(pts))


def _transposed(layout: DiagramLayout) -> DiagramLayout:
    """A layout computed top to bottom with turned sizes, as it reads left to right (x and y swapped)."""
    def box(b: Box) -> Box:
        return Box(b.key, b.y, b.x, b.h, b.w)

    routes = [Route(r.src, r.dst, r.value, r.index, r.dst_node, r.dst_input, [(y, x) for x, y in r.points])
              for r in layout.routes]
    return DiagramLayout({k: box(b) for k, b in layout.boxes.items()},
                         {p: [box(b) for b in segs] for p, segs in layout.frames.items()}, routes,
                         layout.height, layout.width)


def _dedupe(pts: list[Point]) -> list[Point]:
    out: list[Point] = []
    for p in pts:
        if not out or abs(out[-1][0] - p[0]) > 0.01 or abs(out[-1][1] - p[1]) > 0.01:
            out.append(p)
    return out


# ---- newspaper columns ----------------------------------------------------------------------------------
def wrap(layout: DiagramLayout, column_height: float, sizes: Sizes,
         depth_of: Callable[[str], int]) -> DiagramLayout:
    """Cut a tall top-down layout into columns of at most `column_height` (a page of an export) between rows of
    boxes that a single value crosses (a chain point). Frames cut by a column break continue at the top of the
    next column under a small "(cont.)" band. (On screen the diagram is never cut: one column of flow.)"""
    z = sizes
    top0, bottom0 = z.margin, layout.height - z.margin
    if bottom0 - top0 <= 0:
        return layout
    cuts = _cut_candidates(layout, z)
    if not cuts:
        return layout

    def plan(limit: float) -> list[float]:
        chosen: list[float] = []
        start = top0
        i = 0
        while i < len(cuts):
            best = None
            while i < len(cuts) and cuts[i] - start <= limit:
                best = i
                i += 1
            if best is None:  # one piece is taller than the limit: cut right after it
                best = i
                i += 1
            if bottom0 - start <= limit:
                break
            chosen.append(cuts[best])
            start = cuts[best]
            i = best + 1
        return chosen

    chosen = plan(max(column_height, 1.0))
    if not chosen:
        return layout
    return _apply_columns(layout, chosen, z, depth_of)


def _cut_candidates(layout: DiagramLayout, z: Sizes) -> list[float]:
    """y values between rows of boxes (never through a box or a frame's header) that one value crosses."""
    spans: list[tuple[float, float]] = [(b.y - 2, b.bottom + 2) for b in layout.boxes.values()]
    for segs in layout.frames.values():
        f = segs[0]
        # a column never ends with a frame's header nor starts with its empty bottom (ports take a layer each)
        spans.append((f.y - 2, f.y + z.header + z.vgap + 4))
        spans.append((f.bottom - z.pad - z.vgap - 4, f.bottom + 2))
    spans.sort()
    gaps: list[float] = []
    end = -math.inf
    for a, b in spans:
        if a > end + 8 and end > -math.inf:
            gaps.append((end + a) / 2)
        end = max(end, b)
    if not gaps:
        return []
    sources: list[set[str]] = [set() for _ in gaps]
    for r in layout.routes:
        ys = [p[1] for p in r.points]
        lo, hi = min(ys), max(ys)
        for g in range(bisect.bisect_right(gaps, lo), bisect.bisect_left(gaps, hi)):
            sources[g].add(r.src)
    lonely = _lonely_cuts(layout, gaps)
    return [y for g, (y, s) in enumerate(zip(gaps, sources, strict=True)) if len(s) <= 1 and g not in lonely]


def _lonely_cuts(layout: DiagramLayout, gaps: list[float]) -> set[int]:
    """Indices of the gaps that would leave fewer than 2 of a frame's boxes on one side of the cut: a frame's
    last node alone at the top of the next column (or its first alone at the bottom) reads as a stray."""
    boxes = sorted(layout.boxes.values(), key=lambda b: b.y)
    tops = [b.y for b in boxes]
    out: set[int] = set()
    for segs in layout.frames.values():
        f = segs[0]
        inside = sorted(b.y + b.h / 2 for b in boxes[bisect.bisect_left(tops, f.y):bisect.bisect_right(tops, f.bottom)]
                        if b.x >= f.x and b.x + b.w <= f.x + f.w and b.bottom <= f.bottom)
        for g in range(bisect.bisect_right(gaps, f.y), bisect.bisect_left(gaps, f.bottom)):
            above = bisect.bisect_left(inside, gaps[g])
            if above < 2 or len(inside) - above < 2:
                out.add(g)
    return out


def _apply_columns(layout: DiagramLayout, cuts: list[float], z: Sizes,
                   depth_of: Callable[[str], int]) -> DiagramLayout:
    bands = [z.margin - 1, *cuts, math.inf]
    pitch = layout.width - 2 * z.margin + z.col_gap
    dy: list[float] = [0.0]
    spanning: list[list[str]] = [[]]
    for c in cuts:  # frames open across each cut, outer first
        open_ = sorted((p for p, segs in layout.frames.items() if segs[0].y < c < segs[0].bottom), key=depth_of)
        spanning.append(open_)
        dy.append(z.margin + z.cont * len(open_) + z.entry_gap - c)

    def band_of(y: float) -> int:
        return bisect.bisect_right(cuts, y)

    def move(x: float, y: float, k: int) -> Point:
        return (x + k * pitch, y + dy[k])

    boxes = {}
    for key, b in layout.boxes.items():
        k = band_of(b.y + b.h / 2)
        x, y = move(b.x, b.y, k)
        boxes[key] = Box(key, x, y, b.w, b.h)
    frames: dict[str, list[Box]] = {}
    for path, segs in layout.frames.items():
        f = segs[0]
        out = []
        for k in range(band_of(f.y), band_of(f.bottom) + 1):
            top = f.y if k == band_of(f.y) else bands[k]
            bottom = f.bottom if f.bottom <= bands[k + 1] else bands[k + 1]
            x, y = move(f.x, top, k)
            if k != band_of(f.y):  # continued: starts under the "(cont.)" bands of the frames around it
                y = z.margin + z.cont * spanning[k].index(path)
            ybottom = move(f.x, bottom, k)[1] + (z.pad * 0.5 if bottom < f.bottom else 0.0)
            out.append(Box(f"{SCOPE}{path}", x, y, f.w, ybottom - y))
        frames[path] = out
    routes = []
    bisect_right = bisect.bisect_right
    for r in layout.routes:
        if r.points:  # most edges stay within one column: shift them whole
            ys = [y for _, y in r.points]
            k0 = bisect_right(cuts, min(ys))
            if bisect_right(cuts, max(ys)) == k0:
                sx, sy = k0 * pitch, dy[k0]
                routes.append(Route(r.src, r.dst, r.value, r.index, r.dst_node, r.dst_input,
                                    [(x + sx, y + sy) for x, y in r.points]))
                continue
        pts: list[Point] = []
        prev: Point | None = None
        for p in r.points:
            if prev is not None:
                for k in range(band_of(prev[1]), band_of(p[1])):  # crossing cut k (downwards)
                    c = cuts[k]
                    t = (c - prev[1]) / (p[1] - prev[1]) if p[1] != prev[1] else 0.0
                    xc = prev[0] + t * (p[0] - prev[0])
                    bottom_k = c + dy[k]
                    gutter = (k + 1) * pitch - z.col_gap / 2 + z.margin
                    entry = z.margin + z.cont * len(spanning[k + 1]) + z.entry_gap * 0.4
                    pts += [(xc + k * pitch, bottom_k), (xc + k * pitch, bottom_k + 10),
                            (gutter, bottom_k + 10), (gutter, entry), (xc + (k + 1) * pitch, entry)]
            pts.append(move(p[0], p[1], band_of(p[1])))
            prev = p
        routes.append(Route(r.src, r.dst, r.value, r.index, r.dst_node, r.dst_input,
                            _dedupe(pts) if len(pts) != len(r.points) else pts))
    height = max([b.bottom for b in boxes.values()] + [s.bottom for f in frames.values() for s in f]) + z.margin
    n = len(cuts) + 1
    columns = [(z.margin + k * pitch, z.margin + k * pitch + layout.width - 2 * z.margin) for k in range(n)]
    return DiagramLayout(boxes, frames, routes, n * pitch - z.col_gap + 2 * z.margin, height, columns)
