"""Newspaper columns for a page, Qt-free: only exports that must fit a page cut a tall top-down layout into
columns (`wrap`), between rows of boxes where a single value crosses. On screen the diagram is one column of flow.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

from netcost.gui.diagram.keys import BoxKey, ScopeKey
from netcost.gui.diagram.layout import Box, DiagramLayout, Point, Route, Sizes, dedupe


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
    sources: list[set[BoxKey]] = [set() for _ in gaps]
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
            out.append(Box(ScopeKey(path), x, y, f.w, ybottom - y))
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
                            dedupe(pts) if len(pts) != len(r.points) else pts))
    height = max([b.bottom for b in boxes.values()] + [s.bottom for f in frames.values() for s in f]) + z.margin
    n = len(cuts) + 1
    columns = [(z.margin + k * pitch, z.margin + k * pitch + layout.width - 2 * z.margin) for k in range(n)]
    return DiagramLayout(boxes, frames, routes, n * pitch - z.col_gap + 2 * z.margin, height, columns)
