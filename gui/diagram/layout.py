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

What is drawn, and the edges through hidden nodes, come from `structure`; an export's newspaper columns from
`columns`; what a layout is (boxes, frames, routes) from `layout_result`.

The flow runs top to bottom (`Orientation.TOP_DOWN`, the default: one column of flow, long edges routed through
their own lanes beside the boxes they skip) or left to right (`Orientation.LEFT_RIGHT`, for wide screens): the same
layered layout computed with every size turned a quarter and transposed at the end, so frames keep their header on
top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum

import igraph

from netcost.gui.diagram.keys import BoxKey, InputKey, LayoutKey, PortKey, ScopeKey, sort_key
from netcost.gui.diagram.layout_result import Box, DiagramLayout, Point, Route  # (re-exported: the layout's types)
from netcost.gui.diagram.structure import DiagramStructure, Edge

KEEP_LAYOUTS = 2  # whole layouts a layouter keeps (the opening scopes, and those with the first row revealed)


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


def edges_by_level(s: DiagramStructure) -> tuple[dict[str, list[int]], dict[str, str]]:
    """The indices of the structure's edges by the lowest scope both ends lie in ("" the root), and the scope of
    each drawn node; worked out once per layouter. An edge whose scope is folded joins two nodes of one box and is
    never drawn: a layout reads the edges of the open scopes only (opening one of a 100k-node graph's 6,667 folded
    layers read all 100k edges and placed all 100k nodes)."""
    where = {n: p for p, drawn in s.nodes_in.items() for n in drawn}
    chains: dict[str, tuple[str, ...]] = {}
    by: dict[str, list[int]] = {}
    for i, e in enumerate(s.edges):
        su, sv = where.get(e.src, ""), where.get(e.dst, "")  # (an input, or a node not drawn: the root)
        cu = chains.get(su) or chains.setdefault(su, ("", *s.ancestors(su)) if su else ("",))
        cv = chains.get(sv) or chains.setdefault(sv, ("", *s.ancestors(sv)) if sv else ("",))
        n = 1
        while n < min(len(cu), len(cv)) and cu[n] == cv[n]:
            n += 1
        by.setdefault(cu[n - 1], []).append(i)
    return by, where


# ---- the layered layout of one level --------------------------------------------------------------------
@dataclass
class _Level:
    """The inside of one expanded scope (or the whole graph), relative to its own origin."""

    w: float
    h: float
    pos: dict[LayoutKey, Box]  # child keys and ports
    routes: dict[tuple[LayoutKey, LayoutKey], list[Point]]  # control points of each level edge (no end points)
    entry: dict[tuple[LayoutKey, LayoutKey], float]  # x offset on the target's top edge of each level edge
    edges: frozenset[tuple[LayoutKey, LayoutKey]] = frozenset()  # what it was laid out for (the cache checks it)
    anchor: float = 0.0  # x of igraph's column 0 in this level's coordinates
    _drawn: list[tuple[BoxKey, Box, str | None]] | None = None

    def drawn(self) -> list[tuple[BoxKey, Box, str | None]]:
        """(key, box, scope path or None) of what it draws, ports left out (kept with the cached level)."""
        if self._drawn is None:
            self._drawn = [(k, b, k.path if type(k) is ScopeKey else None)  # type: ignore[misc]
                           for k, b in self.pos.items() if type(k) is not PortKey]
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
        # the latest layouts, asked for again: a loading thread lays out the opening scopes and those with the
        # first row revealed (what the window's selection opens next); the scene takes both
        self._last: dict[frozenset[str], DiagramLayout] = {}
        self._chains: dict[str, list[str]] = {}  # scope path -> levels from the root
        self._key_chains: dict[BoxKey, list[str]] = {}  # visible key -> its levels (one of the lists above)
        # the structure's edges by the scope both ends lie in, and each drawn node's scope (`edges_by_level`)
        self._by_level: tuple[dict[str, list[int]], dict[str, str]] | None = None

    # public
    def layout(self, expanded: Iterable[str]) -> DiagramLayout:
        """The layout with the scopes `expanded` open (one of the latest ones again when they are the same: a
        scene takes what a loading thread laid out; layouts are never changed once made)."""
        key = self._key(expanded)
        layout = self._last.get(key)
        if layout is None:
            layout = self._lay_out(set(key))
            if len(self._last) >= KEEP_LAYOUTS:
                del self._last[next(iter(self._last))]
        else:
            del self._last[key]  # (moved to the end: the latest)
        self._last[key] = layout
        return layout

    def has_layout(self, expanded: Iterable[str]) -> bool:
        """Whether `layout(expanded)` is made already (kept: no work)."""
        return self._key(expanded) in self._last

    def _key(self, expanded: Iterable[str]) -> frozenset[str]:
        """The open scopes that show (those inside a folded one do not), and the root."""
        s = self.s
        exp = {p for p in expanded if p in s.scopes} | {""}
        return frozenset(p for p in exp if all(a in exp for a in s.ancestors(p)))

    def _lay_out(self, exp: set[str]) -> DiagramLayout:
        s, z = self.s, self.sizes
        if self._by_level is None:
            self._by_level = edges_by_level(s)
        by_level, where = self._by_level
        folded: dict[str, BoxKey | None] = {"": None}  # a scope -> the outermost folded one around it, itself too

        def outer(path: str) -> BoxKey | None:  # (through the parents' answers: one step a scope)
            if path not in folded:
                up = outer(s.scopes[path].parent or "")
                folded[path] = up if up is not None or path in exp else ScopeKey(path)
            return folded[path]

        def key_of(n: str) -> BoxKey:  # a drawn node's box: itself, or its outermost folded scope
            path = where.get(n)
            return n if path is None else outer(path) or n  # (an input's key is its own)

        # level edges: each original edge lifted to the lowest common level, with port hops below it
        level_edges: dict[str, set[tuple[LayoutKey, LayoutKey]]] = {p: set() for p in exp}
        chains: list[tuple[Edge, BoxKey, BoxKey, list[tuple[str, LayoutKey, LayoutKey]]]] = []
        chain = self._chain
        edges = s.edges
        for i in sorted(i for p in exp for i in by_level.get(p, ())):  # (in the structure's order, as before)
            e = edges[i]
            ku = key_of(e.src)
            kv = key_of(e.dst)
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
            hops: list[tuple[str, LayoutKey, LayoutKey]] = []  # (level, from, to) in drawing order
            a: LayoutKey = ku
            for lvl in reversed(cu[n:]):  # out of every expanded scope around the source
                hops.append((lvl, a, PortKey(False, ku)))
                a = ScopeKey(lvl)
            inner = cv[n:]
            b: LayoutKey = ScopeKey(inner[0]) if inner else kv
            hops.append((lca, a, b))
            for i, lvl in enumerate(inner):  # into every expanded scope around the target
                nxt = ScopeKey(inner[i + 1]) if i + 1 < len(inner) else kv
                hops.append((lvl, PortKey(True, ku), nxt))
            for lvl, x, y in hops:
                level_edges[lvl].add((x, y))
            chains.append((e, ku, kv, hops))
        levels: dict[str, _Level] = {}
        self._build("", exp, level_edges, levels)
        # absolute origins, top-down
        origin: dict[str, Point] = {"": (z.margin, z.margin)}
        frames: dict[str, list[Box]] = {}
        boxes: dict[BoxKey, Box] = {}
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
        self._last.clear()

    def set_orientation(self, orientation: Orientation) -> None:
        """Lay out the other way from now on (every cached level is dropped: its sizes are turned)."""
        if orientation is not self.orientation:
            self.orientation = orientation
            self.sizes = self.given.turned() if orientation.horizontal else self.given
            self.clear()

    # internals
    def _chain(self, key: BoxKey) -> list[str]:
        """Expanded levels around a visible key, from the root: ["", "layer1", "layer1.0"] (whatever is expanded:
        a key is visible only while its levels are; keys in one level share one list)."""
        hit = self._key_chains.get(key)
        if hit is not None:
            return hit
        if type(key) is InputKey:
            parent = ""
        elif type(key) is ScopeKey:
            parent = self.s.scopes[key.path].parent or ""  # type: ignore[union-attr]
        else:
            parent = self.s.scope_of(key)  # type: ignore[arg-type]
        hit = self._chains.get(parent)
        if hit is None:
            hit = self._chains[parent] = ["", *self.s.ancestors(parent)]
        self._key_chains[key] = hit
        return hit

    def _size(self, key: LayoutKey, exp: set[str], levels: dict[str, _Level]) -> tuple[float, float]:
        z = self.sizes
        if type(key) is InputKey:
            return z.input
        if type(key) is PortKey:
            return (0.0, 0.0)
        if type(key) is ScopeKey:
            path = key.path  # type: ignore[union-attr]
            if path in exp:
                inner = levels[path]
                if self.orientation.horizontal:  # turned: the header band runs down the left side
                    return (inner.w + z.header + z.pad, max(inner.h + 2 * z.pad, z.min_frame_w))
                return (max(inner.w + 2 * z.pad, z.min_frame_w), inner.h + z.header + z.pad)
            return z.scope
        return z.block

    def _build(self, path: str, exp: set[str], level_edges: dict[str, set[tuple[LayoutKey, LayoutKey]]],
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
        keys: list[LayoutKey] = [*(InputKey(i) for i in (self.s.used_inputs if not path else ())),
                                 *self.s.nodes_in[path],
                                 *(ScopeKey(c) for c in sc.children)]
        for a, b in edges:
            for k in (a, b):
                if type(k) is PortKey and k not in keys:
                    keys.append(k)
        sizes = {k: self._size(k, exp, levels) for k in keys}
        level = self._layered(keys, edges, sizes)
        level.edges = edges
        self._cache[key] = level
        levels[path] = level

    def _order(self, key: LayoutKey) -> float:
        t = type(key)
        if t is str:
            return float(self.s.row[key])  # type: ignore[index]
        if t is InputKey:
            return -1.0
        if t is PortKey:
            return -1.0 if key.entering else math.inf  # type: ignore[union-attr]
        return float(self.s.scopes[key.path].first)  # type: ignore[union-attr]

    def _layered(self, keys: list[LayoutKey], edges: frozenset[tuple[LayoutKey, LayoutKey]],
                 sizes: dict[LayoutKey, tuple[float, float]]) -> _Level:
        z = self.sizes
        order = self._order
        keys = sorted(keys, key=lambda k: (order(k), sort_key(k)))
        idx = {k: i for i, k in enumerate(keys)}
        n = len(keys)
        succ: list[list[int]] = [[] for _ in range(n)]
        pred: list[list[int]] = [[] for _ in range(n)]
        pairs: list[tuple[int, int]] = []
        # in the keys' order (integer keys: comparing the keys' tuples ran in C with the GIL held, stalling the GUI
        # thread ~200 ms while a loading thread laid out a 100k-node chain)
        for i, j in sorted((idx[a], idx[b]) for a, b in edges):
            if i == j:
                continue
            if i > j:
                i, j = j, i  # a back edge (a scope read before and after a node): layered as if forward
            succ[i].append(j)
            pred[j].append(i)
            pairs.append((i, j))
        is_in = [type(k) is PortKey and k.entering for k in keys]  # type: ignore[union-attr]
        is_out = [type(k) is PortKey and not k.entering for k in keys]  # type: ignore[union-attr]
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
        pos: dict[LayoutKey, Box] = {}
        for i, k in enumerate(keys):
            w, h = size[i]
            if is_in[i]:  # a port on the frame's border where the flow enters (its header, top to bottom)
                top = -z.pad if self.orientation.horizontal else -z.header
            elif is_out[i]:
                top = height + z.pad
            else:
                top = tops[layer[i]] + (heights[layer[i]] - h) / 2
            pos[k] = Box(k, (cxs[i] - w / 2) - left, top, w, h)
        routes: dict[tuple[LayoutKey, LayoutKey], list[Point]] = {}
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
        entry: dict[tuple[LayoutKey, LayoutKey], float] = {}
        incoming: dict[LayoutKey, list[tuple[float, tuple[LayoutKey, LayoutKey]]]] = {}
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

    def _route(self, e: Edge, ku: BoxKey, kv: BoxKey, hops: list[tuple[str, LayoutKey, LayoutKey]],
               levels: dict[str, _Level],
               origin: dict[str, Point]) -> Route:
        pts: list[Point] = []
        for lvl, a, b in hops:
            level = levels[lvl]
            ox, oy = origin[lvl]
            pos = level.pos
            if not pts:
                ba = pos[a]
                pts.append((ox + ba.cx, oy + ba.bottom))
            elif type(a) is PortKey and a.entering:  # entering a frame: its port on the top border
                pts.append((ox + pos[a].cx, oy + pos[a].y))
            mid = level.routes.get((a, b))
            if mid:
                pts += [(ox + x, oy + y) for x, y in mid]
            bb = pos[b]
            tb = type(b)
            if tb is ScopeKey and b.path in levels:  # type: ignore[union-attr]  # into a frame: through its port
                continue
            if tb is PortKey and not b.entering:  # type: ignore[union-attr]
                pts.append((ox + bb.cx, oy + bb.y))
                continue
            pts.append((ox + bb.cx + level.entry.get((a, b), 0.0), oy + bb.y))
        return Route(ku, kv, e.value, e.index, e.dst, e.dst_input, dedupe(pts))


def _transposed(layout: DiagramLayout) -> DiagramLayout:
    """A layout computed top to bottom with turned sizes, as it reads left to right (x and y swapped)."""
    def box(b: Box) -> Box:
        return Box(b.key, b.y, b.x, b.h, b.w)

    routes = [Route(r.src, r.dst, r.value, r.index, r.dst_node, r.dst_input, [(y, x) for x, y in r.points])
              for r in layout.routes]
    return DiagramLayout({k: box(b) for k, b in layout.boxes.items()},
                         {p: [box(b) for b in segs] for p, segs in layout.frames.items()}, routes,
                         layout.height, layout.width)


def dedupe(pts: list[Point]) -> list[Point]:
    out: list[Point] = []
    for p in pts:
        if not out or abs(out[-1][0] - p[0]) > 0.01 or abs(out[-1][1] - p[1]) > 0.01:
            out.append(p)
    return out

