"""`ParamsFlopsScatter`: log-log, one point per layer (params vs FLOPs), coloured by category, with diagonal guides
of constant FLOPs per parameter: convs (many FLOPs per weight) and fully connected layers (about 2 per weight at
batch 1) fall into two separate clouds."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont

from netcost.costing import CONVENTIONS, CostReport
from netcost.costing.formatting import si
from netcost.gui.charts.chart_base import ChartBase
from netcost.gui.common.cost_colors import category_color

GUIDES = (1, 10, 100, 1_000, 10_000, 100_000)
POINT_SIZE = 10.0
MAX_POINT_SIZE = 24.0
SPOT_GRID = 200  # points closer than 1/200 decade (~1 %) on both axes share a spot
MAX_COUNT_LABELS = 40
MIN_SPAN = 1.6  # decades


class LogAxis(pg.AxisItem):
    """Ticks at powers of ten of a log10 view coordinate, printed with the shared SI formatting."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        step = max(1, math.ceil((hi - lo) / 8))
        major = [float(v) for v in range(lo, hi + 1, step) if minVal <= v <= maxVal]
        return [(float(step), major)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [si(10 ** v) for v in values]


def _pattern(name: str) -> str:
    """'blocks.7.mlp.c_fc' -> 'blocks.#.mlp.c_fc': names of repeated layers summarised."""
    return re.sub(r"(?<![A-Za-z])\d+(?![A-Za-z])", "#", name)


def _summary(names: list[str], limit: int = 3) -> str:
    counts = Counter(_pattern(n) for n in names)
    parts = [f"{p} ×{c}" if c > 1 else p for p, c in counts.most_common(limit)]
    if len(counts) > limit:
        parts.append(f"… {len(counts) - limit} more")
    return ", ".join(parts)


def _spots(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spot number of each point: points in the same or neighbouring cells of a 1/SPOT_GRID-decade grid share one
    (GPT-2's mlp.c_fc and mlp.c_proj differ by 0.1 %: on screen they are one dot)."""
    cells = np.stack([np.round(x * SPOT_GRID), np.round(y * SPOT_GRID)], axis=1).astype(np.int64)
    unique, inverse = np.unique(cells, axis=0, return_inverse=True)
    index = {(int(a), int(b)): i for i, (a, b) in enumerate(unique)}
    parent = list(range(len(unique)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (a, b), i in index.items():
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                j = index.get((a + da, b + db))
                if j is not None:
                    parent[root(i)] = root(j)
    roots = [root(i) for i in range(len(unique))]
    _, spot_of_cell = np.unique(roots, return_inverse=True)
    return spot_of_cell.reshape(-1)[inverse.reshape(-1)]


class ParamsFlopsScatter(ChartBase):
    """Layers with the same params and FLOPs (GPT-2's twelve blocks, ResNet's repeated bottlenecks) land on one
    spot: such a point is drawn larger and labelled with its multiplicity ('×12'); hover lists the layers and a
    click selects them all. Multiplicity and guide labels are placed in pixel space so that none overlaps another,
    a point or the legend."""

    title = "Params vs FLOPs per layer (log–log)"

    def _axis_items(self) -> dict[str, pg.AxisItem]:
        return {"left": LogAxis("left"), "bottom": LogAxis("bottom")}

    def _build(self) -> None:
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.guides = [pg.PlotDataItem() for _ in GUIDES]
        # written along the guide (rotateAxis follows the view's aspect), ending where it is placed
        self.guide_labels = [pg.TextItem(anchor=(1.0, 1.0), rotateAxis=(1, 1)) for _ in GUIDES]
        for g, label in zip(self.guides, self.guide_labels, strict=True):
            g.setZValue(-10)
            self.plot_item.addItem(g)
            self.plot_item.addItem(label)
        self.points = pg.ScatterPlotItem(size=POINT_SIZE, hoverable=False)
        self.plot_item.addItem(self.points)
        self._highlight = pg.ScatterPlotItem(size=20, symbol="o")
        self._highlight.setZValue(5)
        self.plot_item.addItem(self._highlight)
        self.count_labels: list[pg.TextItem] = []  # '×12' per spot holding several layers (a pool, never shrunk)
        self.indices = np.zeros(0, dtype=int)  # report layer index of each point
        self.x = np.zeros(0)
        self.y = np.zeros(0)
        self.sizes = np.zeros(0)
        self.spot = np.zeros(0, dtype=int)  # spot (group of coinciding points) of each point
        self.spot_count = np.zeros(0, dtype=int)  # points per spot
        self.multiplicity = np.zeros(0, dtype=int)  # points sharing each point's spot
        self.hidden = 0
        self._range = (0.0, 6.0, 0.0, 9.0)
        self._guide_key: tuple = ()
        self._legend_key = ""
        self.plot_item.getViewBox().sigResized.connect(self._place_labels)

    def _update(self, report: CostReport) -> None:
        f = self.flops_field
        layers = report.layers
        shown = [i for i, c in enumerate(layers) if c.params > 0 and getattr(c.totals, f) > 0]
        self.hidden = len(layers) - len(shown)  # no position on a log axis: said in the title
        self.indices = np.array(shown, dtype=int)
        self.x = np.array([math.log10(layers[i].params) for i in shown], dtype=float)
        self.y = np.array([math.log10(getattr(layers[i].totals, f)) for i in shown], dtype=float)
        self._names = [layers[i].name for i in shown]
        self._raw = [(layers[i].params, getattr(layers[i].totals, f)) for i in shown]
        cats = [layers[i].category for i in shown]
        # coinciding points (within ~1 % on both axes) form one spot
        if len(shown):
            self.spot = _spots(self.x, self.y)
            self.spot_count = np.bincount(self.spot)
            self.multiplicity = self.spot_count[self.spot]
        else:
            self.spot = np.zeros(0, dtype=int)
            self.spot_count = np.zeros(0, dtype=int)
            self.multiplicity = np.zeros(0, dtype=int)
        self.sizes = np.minimum(POINT_SIZE + 3.0 * np.log2(np.maximum(self.multiplicity, 1)), MAX_POINT_SIZE)
        self.points.setData(x=self.x, y=self.y, size=self.sizes, brush=[self.styles.solid[c] for c in cats],
                            pen=[self.styles.edge[c] for c in cats], data=self.indices)
        if len(shown):
            x0, x1 = float(self.x.min()) - 0.4, float(self.x.max()) + 0.55  # room for a '×12' on the right
            y0, y1 = float(self.y.min()) - 0.4, float(self.y.max()) + 0.4
            # at least MIN_SPAN decades each way: a few similar layers still show the guides they sit between
            grow_x, grow_y = max(0.0, MIN_SPAN - (x1 - x0)) / 2, max(0.0, MIN_SPAN - (y1 - y0)) / 2
            x0, x1, y0, y1 = x0 - grow_x, x1 + grow_x, y0 - grow_y, y1 + grow_y
        else:
            x0, x1, y0, y1 = 0.0, 6.0, 0.0, 9.0
        self._range = (x0, x1, y0, y1)
        self.plot_item.setXRange(x0, x1, padding=0)
        self.plot_item.setYRange(y0, y1, padding=0)
        unit = CONVENTIONS[f].unit
        guide_key = (self._range, unit, self.theme.dark)
        if guide_key != self._guide_key:  # edits rarely move the range: keep the guides as they are
            self._guide_key = guide_key
            pen = pg.mkPen(QColor(self.theme.muted), width=1, style=Qt.PenStyle.DashLine)
            for k, g, label in zip(GUIDES, self.guides, self.guide_labels, strict=True):
                d = math.log10(k)
                g.setData([x0, x1], [x0 + d, x1 + d], pen=pen)
                label.setText(f"{si(k)} {unit}/param", color=self.theme.muted)
        self.set_axis_label("bottom", "params (log)")
        self.set_axis_label("left", f"{self.flops_label} (log)")
        # on a line of its own: beside the title it was cut off in a narrow dock
        self.set_title(self.title, f"{self.hidden} layers without params not shown" if self.hidden else "")
        self._update_legend(report)
        self._update_count_labels()
        self._place_labels()

    def _update_count_labels(self) -> None:
        """Text of the '×n' labels, one per spot holding several layers (the largest counts first)."""
        multi = [int(k) for k in np.argsort(-self.spot_count, kind="stable") if self.spot_count[k] > 1]
        multi = multi[:MAX_COUNT_LABELS]
        font = QFont()
        font.setPixelSize(12)
        font.setBold(True)
        while len(self.count_labels) < len(multi):
            label = pg.TextItem(anchor=(0.0, 0.0))
            label.setFont(font)
            label.setZValue(6)
            self.plot_item.addItem(label)
            self.count_labels.append(label)
        first = {}
        for p, k in enumerate(self.spot.tolist()):
            first.setdefault(k, p)
        self._count_spots = [(k, first[k]) for k in multi]  # (spot, a point of it)
        for label, (k, _) in zip(self.count_labels, self._count_spots, strict=False):
            label.setText(f"×{int(self.spot_count[k])}", color=self.theme.foreground)
        for label in self.count_labels[len(multi):]:
            label.setVisible(False)

    # ---- label placement (pixel space of the view box) -----------------------------------------------------
    def _place_labels(self, *args: object) -> None:
        """Put every '×n' label beside its point and every guide label along its line where it overlaps nothing:
        not a point, not the legend, not another label, and no other guide line."""
        x0, x1, y0, y1 = self._range
        vb = self.plot_item.getViewBox()
        width, height = vb.width(), vb.height()
        if width < 50 or height < 50:  # not laid out yet: an estimate, redone on the first resize
            width, height = max(self.width() - 80, 200), max(self.height() - 90, 150)
        sx, sy = width / (x1 - x0), height / (y1 - y0)

        def to_px(vx: float, vy: float) -> tuple[float, float]:
            return (vx - x0) * sx, (y1 - vy) * sy

        def to_view(px: float, py: float) -> tuple[float, float]:
            return x0 + px / sx, y1 - py / sy

        boxes: list[tuple[float, float, float, float]] = []
        spot_box: dict[int, int] = {}
        for p, k in enumerate(self.spot.tolist()):
            if k in spot_box:
                continue
            px, py = to_px(float(self.x[p]), float(self.y[p]))
            r = float(self.sizes[p]) / 2 + 2
            spot_box[k] = len(boxes)
            boxes.append((px - r, py - r, px + r, py + r))
        guide_ds = [math.log10(k) for k in GUIDES]

        def free(rect: tuple[float, float, float, float], own_line: float | None = None, lines: bool = True,
                 corners: tuple | None = None) -> bool:
            """`rect` (left, top, right, bottom) is inside the plot and clear of every box (and of the other guide
            lines when `lines`). `corners`: (xs, ys, u, n) of a rotated text whose bounding box `rect` is."""
            left, top, right, bottom = rect
            if left < 2 or top < 2 or right > width - 2 or bottom > height - 2:
                return False
            if boxes:
                b = np.asarray(boxes)
                hit = (b[:, 0] < right) & (b[:, 2] > left) & (b[:, 1] < bottom) & (b[:, 3] > top)
                if corners is not None and hit.any():  # separating axes of the rotated text: its own two
                    xs, ys, *axes = corners
                    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
                    hw, hh = (b[:, 2] - b[:, 0]) / 2, (b[:, 3] - b[:, 1]) / 2
                    for ax, ay in axes:
                        proj = [x * ax + y * ay for x, y in zip(xs, ys, strict=True)]
                        centre, reach = cx * ax + cy * ay, hw * abs(ax) + hh * abs(ay)
                        hit &= (centre - reach < max(proj)) & (centre + reach > min(proj))
                if hit.any():
                    return False
            if not lines:
                return True
            # a guide line through the text makes both unreadable
            corners = [to_view(left, top), to_view(right, top), to_view(left, bottom), to_view(right, bottom)]
            for d in guide_ds:
                if own_line is not None and abs(d - own_line) < 1e-9:
                    continue
                signs = {vy - vx - d > 0 for vx, vy in corners}
                if len(signs) > 1:
                    return False
            return True

        # '×n' beside its point: right, left, above, below, then diagonally
        for label, (k, _p) in zip(self.count_labels, getattr(self, "_count_spots", []), strict=False):
            br = label.textItem.boundingRect()
            w, h = br.width(), br.height()
            left, top, right, bottom = boxes[spot_box[k]]
            cy, cx = (top + bottom) / 2, (left + right) / 2
            placed = None
            candidates = ((right, cy - h / 2, right + w, cy + h / 2), (left - w, cy - h / 2, left, cy + h / 2),
                          (cx - w / 2, top - h, cx + w / 2, top), (cx - w / 2, bottom, cx + w / 2, bottom + h),
                          (right - 3, top - h + 3, right + w - 3, top + 3),
                          (right - 3, bottom - 3, right + w - 3, bottom + h - 3),
                          (left - w + 3, top - h + 3, left + 3, top + 3),
                          (left - w + 3, bottom - 3, left + 3, bottom + h - 3))
            for rect in candidates:
                if free(rect, lines=False):  # bold text reads well across a faint dashed guide
                    placed = rect
                    break
            label.setVisible(placed is not None)
            if placed is not None:
                label.setAnchor((0.0, 0.0))
                label.setPos(*to_view(placed[0], placed[1]))
                boxes.append(placed)
        # guide labels: written along their line, just above it, from where it leaves the plot back towards
        # where it enters. Parallel labels on different lines cannot overlap while the lines are further apart
        # than a text is high; when they are closer, every other guide goes unlabelled.
        theta = math.atan2(sy, sx)  # the guides' angle on screen
        ux, uy = math.cos(theta), -math.sin(theta)  # along the line, towards the top right
        nx, ny = -math.sin(theta), -math.cos(theta)  # normal, above the line
        spacing = sy * math.cos(theta)  # pixels between neighbouring guides, across them
        for g, (d, label) in enumerate(zip(guide_ds, self.guide_labels, strict=True)):
            br = label.textItem.boundingRect()
            w, h = br.width(), br.height()
            lo, hi = max(x0, y0 - d), min(x1, y1 - d)
            placed = None
            if hi > lo and (spacing >= h + 2 or g % 2 == 0):
                for t in np.linspace(0.98, 0.02, 49):
                    vx = lo + t * (hi - lo)
                    px, py = to_px(vx, vx + d)
                    xs = (px, px - w * ux, px - w * ux + h * nx, px + h * nx)
                    ys = (py, py - w * uy, py - w * uy + h * ny, py + h * ny)
                    if free((min(xs), min(ys), max(xs), max(ys)), lines=False, corners=(xs, ys, (ux, uy), (nx, ny))):
                        placed = vx
                        break
            label.setVisible(placed is not None)
            if placed is not None:
                label.setPos(placed, placed + d)

    def _update_legend(self, report: CostReport) -> None:
        present = [c for c, t in report.by_category.items() if t.params and getattr(t, self.flops_field)]
        key = f"{present}|{self.theme.dark}"
        if key == self._legend_key:
            return
        self._legend_key = key
        self.legend.clear()
        for c in present:
            color = category_color(c)
            self.legend.addItem(pg.ScatterPlotItem(size=10, brush=color, pen=pg.mkPen(color.darker(150))), c)

    def _show_selection(self, indices: list[int]) -> None:
        chosen = set(indices)
        mask = np.array([i in chosen for i in self.indices], dtype=bool)
        if not mask.any():
            self._highlight.setData(x=[], y=[])
            return
        self._highlight.setData(x=self.x[mask], y=self.y[mask], size=self.sizes[mask] + 10, brush=None,
                                pen=pg.mkPen(self.theme.selection, width=3))

    def _nearest(self, p: QPointF) -> int | None:
        """Index into the points of the one under `p` (within its radius, at least ~8 px), or None."""
        if not len(self.x):
            return None
        vb = self.plot_item.getViewBox()
        px, py = vb.viewPixelSize()
        px, py = px or 0.01, py or 0.01  # not laid out yet (offscreen): ~100 px per decade
        d = ((self.x - p.x()) / px) ** 2 + ((self.y - p.y()) / py) ** 2
        k = int(np.argmin(d))
        return k if d[k] <= max(64.0, (self.sizes[k] / 2 + 2) ** 2) else None

    def members(self, k: int) -> list[int]:
        """Points sharing point k's spot (k itself included)."""
        return np.nonzero(self.spot == self.spot[k])[0].tolist()

    def _hover(self, p: QPointF) -> str:
        k = self._nearest(p)
        if k is None:
            return ""
        params, flops = self._raw[k]
        unit = CONVENTIONS[self.flops_field].unit
        figures = f"{si(params)} params, {si(flops)} {self.flops_label}, {si(flops / params)} {unit}/param"
        members = self.members(k)
        if len(members) == 1:
            return f"{self._names[k]}: {figures}"
        names = [self._names[m] for m in members]
        return f"{len(members)} layers on this spot ({_summary(names)}): {figures} each"

    def _indices_at(self, p: QPointF) -> list[int] | None:
        """A click selects the layer under the cursor, or all the layers sharing its spot."""
        k = self._nearest(p)
        return None if k is None else [int(self.indices[m]) for m in self.members(k)]
