"""What a diagram layout is (`layout.DiagramLayouter` makes them): boxes, frames and routed edges in scene units,
never changed once made, and what drawing it needs worked out once per layout (`warm`: on the thread that loads a
model, for the layout it opens with). Qt-free."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from netcost.gui.diagram.keys import BoxKey, LayoutKey, ScopeKey

Point = tuple[float, float]


@dataclass(slots=True)
class Box:
    key: LayoutKey
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

    src: BoxKey
    dst: BoxKey
    value: str  # the producing node id (or the graph input name) of the value
    index: int  # which output of the producer
    dst_node: str  # the consumer node (the first one, for an edge into a collapsed scope)
    dst_input: int  # which input of that consumer
    points: list[Point] = field(default_factory=list)


EDGE_PIECE = 12  # routes per drawn piece (small: a partial repaint strokes only the pieces it shows)
PIECES_MAX = 800  # but no more pieces than this (a 100k-node chain's 100k routes made 8,300: ~180 ms to make)


@dataclass
class DiagramLayout:
    boxes: dict[BoxKey, Box]  # visible node ids, collapsed scope keys, input keys
    frames: dict[str, list[Box]]  # expanded scope path -> frame segments (one per column it spans)
    routes: list[Route]
    width: float
    height: float
    columns: list[tuple[float, float]] = field(default_factory=list)  # x extents of newspaper columns
    anchor_x: float = 0.0  # where the root level's first igraph column sits: views keep it still (no jumping)

    def column_extents(self, margin: float, dx: float) -> list[tuple[float, float]]:
        """x extents of the newspaper columns (one column, within `margin`, when it is not cut; shifted by `dx`)."""
        return list(self.columns) if self.columns else [(margin + dx, self.width - margin + dx)]

    @functools.cached_property
    def edge_pieces(self) -> list[tuple[list[int], tuple[float, float, float, float]]]:
        """The routes in the spatial pieces a view draws (`placement.set_edges`): their indices, in columns 600
        units wide then top to bottom, EDGE_PIECE at a time (more where that would make over PIECES_MAX pieces),
        each with the bounds of its points. Worked out once per layout (a new model's by the thread that loads it)."""
        routes = self.routes
        order = sorted(range(len(routes)), key=lambda k: (round(routes[k].points[0][0] / 600) if routes[k].points
                                                          else 0, routes[k].points[0][1] if routes[k].points else 0))
        size = max(EDGE_PIECE, -(-len(order) // PIECES_MAX))
        pieces = []
        for i in range(0, len(order), size):
            piece = order[i:i + size]
            xs = [x for k in piece for x, _ in routes[k].points]
            ys = [y for k in piece for _, y in routes[k].points]
            pieces.append((piece, (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, -1.0, -1.0)))
        return pieces

    @functools.cached_property
    def units(self) -> tuple[list[str], list[str]]:
        """(scope paths of the folded boxes, node ids of the blocks) in the layout's order: what the colour scale
        ranges over (`colouring`)."""
        keys = list(self.boxes)
        return [k.path for k in keys if isinstance(k, ScopeKey)], [k for k in keys if isinstance(k, str)]

    @functools.cached_property
    def _bounds(self) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
        """(left, top, right, bottom) of the boxes, and of the routes' points (from `edge_pieces`)."""
        boxes = self.boxes.values()
        pieces = [b for _, b in self.edge_pieces if b[2] >= b[0]]
        none = (0.0, 0.0, -1.0, -1.0)
        return ((min(b.x for b in boxes), min(b.y for b in boxes), max(b.x + b.w for b in boxes),
                 max(b.y + b.h for b in boxes)) if boxes else none,
                (min(b[0] for b in pieces), min(b[1] for b in pieces), max(b[2] for b in pieces),
                 max(b[3] for b in pieces)) if pieces else none)

    def warm(self) -> DiagramLayout:
        """Work out now, on this thread, what drawing the layout needs (its edge pieces, bounds and units): a
        loading thread does for the layout a new model opens with (a 100k-node chain's: ~150 ms)."""
        self.units  # noqa: B018 - cached properties
        self._bounds  # noqa: B018
        return self

    def covers(self, left: float, top: float, right: float, bottom: float) -> bool:
        """Whether a drawn box or edge lies in the rectangle (layout coordinates)."""
        (bx0, by0, bx1, by1), (rx0, ry0, rx1, ry1) = self._bounds  # (a view's corner beside a long column: no
        # walk of a 100k-node chain's boxes and routes, ~80 ms)
        if bx0 < right and bx1 > left and by0 < bottom and by1 > top and \
                any(b.x < right and b.x + b.w > left and b.y < bottom and b.y + b.h > top for b in self.boxes.values()):
            return True
        if rx0 > right or rx1 < left or ry0 > bottom or ry1 < top:
            return False
        for r in self.routes:
            for (x0, y0), (x1, y1) in zip(r.points, r.points[1:], strict=False):
                if min(x0, x1) <= right and max(x0, x1) >= left and min(y0, y1) <= bottom and max(y0, y1) >= top:
                    return True
        return False
