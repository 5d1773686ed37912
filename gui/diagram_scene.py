"""`DiagramScene`: the dataflow diagram of a `CostDocument`, coloured by cost, one `LayerBlockItem` per node id.

The layout is the graph's true data flow in one column of flow, top to bottom or (`orientation`) left to right
(`diagram_layout`: layered, compound by module scope); only an export that must fit a page cuts it into columns
(`column_height`). Module scopes are frames that collapse into one block showing their subtotal; long models open
with their repeated blocks folded.

Updates in place: `reportChanged`/`layerChanged` recolour and relabel existing items (edges only change width when
they encode activation bytes); insert/remove/move add or drop only the items whose ids appeared or vanished and
lay out again; `documentReset` rebuilds. The scene can be built and rendered without any view (exports), and then
shows no interactive selection unless asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPathStroker
from PySide6.QtWidgets import QGraphicsScene

from netcost.costing import CONVENTIONS, PEERS, HierarchyNode, LayerCost, Totals
from netcost.costing.comparison import ADDED, SAME, RowDelta
from netcost.costing.formatting import grouped, key_args, nbytes, percent, shape, si
from netcost.costing.mask_plumbing import MASK_TYPE
from netcost.costing.records import DASH, NOT_COSTED, CostReport

from .cost_colors import (
    METRICS,
    SCALES,
    CostScale,
    Theme,
    convention_label,
    format_metric,
    palette_is_dark,
    share_text,
)
from .cost_document import CostDocument
from .diagram_items import (
    BLOCK_H,
    BLOCK_W,
    CONT_H,
    ENTRY_GAP,
    HEADER_H,
    INPUT_H,
    INPUT_W,
    LESS,
    MIN_WIDTH_FRACTION,
    MORE,
    PAD,
    EdgesItem,
    GroupFrameItem,
    InputItem,
    LayerBlockItem,
    RemovedRowsItem,
    _Fonts,
    dropped,
    fit_title,
    relative_name,
    route_path,
    short_name,
    without_leading,
)
from .diagram_layout import (
    INPUT,
    SCOPE,
    DiagramLayout,
    DiagramLayouter,
    DiagramStructure,
    Orientation,
    Route,
    Sizes,
    structure_of,
    wrap,
)
from .gc_pause import without_gc
from .latency_state import LatencyState
from .metric_values import Subject, getter, title_of, value_of
from .on_screen import out_of_sight

OWN_OPS = " (own ops)"  # the tracer's type suffix of a container's own-ops row
AUTO_BOXES = 40  # a model opens with whole levels of scopes expanded while at most this many boxes show
SIZES = Sizes(block=(BLOCK_W, BLOCK_H), scope=(BLOCK_W, BLOCK_H), input=(INPUT_W, INPUT_H), header=HEADER_H,
              pad=PAD, cont=CONT_H, entry_gap=ENTRY_GAP)
EDGE_CHUNK = 12  # edges per item (small: a partial repaint strokes only the pieces it shows)
EDGE_WIDTHS = (1.2, 2.0, 3.2, 4.8, 7.0)  # activation bytes, by fifths of the largest (log), when memory is shown


class DiagramScene(QGraphicsScene):
    """See the module docstring. `metric`, `scale_mode` and `width_metric` are view settings, not edits."""

    settingsChanged = Signal()  # metric, scale, width encoding or the colour range changed (colour bar follows)
    layoutChanged = Signal()  # items moved (expand/collapse, structure, columns): views refit or recentre

    def __init__(self, document: CostDocument, parent: QObject | None = None, dark: bool | None = None,
                 show_selection: bool = True, expanded: Collection[str] | None = None,
                 orientation: Orientation = Orientation.TOP_DOWN) -> None:
        """`expanded`: the scopes to show open from the start (a view's folding copied into an export; "expand
        all"), laid out once; None: the default for the model's size. `orientation`: which way the flow reads."""
        super().__init__(parent)
        self.document = document
        self.metric = "flops"
        # (layout, scope paths, node ids) of the laid-out boxes, sorted once per layout (`_unit_subjects`)
        self._units: tuple[DiagramLayout | None, list[str], list[str]] | None = None
        self.scale_mode = "linear"
        self.width_metric: str | None = "params"
        self.show_selection = show_selection
        self.column_height: float | None = None  # an export's page: cut a tall top-down layout into columns
        self.orientation = orientation
        self.theme = Theme.of(palette_is_dark() if dark is None else dark)
        self.fonts = _Fonts()
        self.scale = CostScale(1, 1, mode="linear")
        self.width_max = 0
        self.layout: DiagramLayout | None = None
        self.dx = 0.0  # scene x of the layout's origin
        self._weighted_edges = False
        self.gen = 0  # refreshes so far: a block painted or read with an older one catches up (sync_block)
        self._recolour: _Recolour | None = None
        self._titles: dict[tuple[str, str, int, float], tuple[str, str]] = {}
        # blocks whose names share a dotted prefix inside one frame ("branch2." of a layer list's "branch2.conv",
        # "branch2.relu1"): they shed it together (`name_drops`); the drops per group, with the refresh they follow
        self._name_groups: dict[str, tuple[str, str]] | None = None
        self._group_members: dict[tuple[str, str], list[str]] = {}
        self._drops: dict[tuple[str, str], tuple[int, tuple[int, int, int]]] = {}
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)  # items move on every relayout
        self.setBackgroundBrush(self.theme.background)
        self._ids: list[str] = []
        self._drawn: set[str] = set()  # the node ids drawn as blocks (when their scopes are open)
        # their items, made when first laid out or read (`_item`): a folded scope's members have none until it
        # opens, so a 100k-node graph opens with items for the few boxes it shows
        self._blocks: dict[str, LayerBlockItem] = {}
        self._groups: dict[str, GroupFrameItem] = {}
        self._inputs: dict[str, InputItem] = {}
        self._expanded: set[str] = set()
        self._selected: set[str] = set()
        self._selected_keys: set[str] = set()
        self._routes: list[Route] = []
        self._edge_chunks: list[EdgesItem] = []  # spatial pieces: a view paints only the edges it shows
        self._latency_watched = False
        self._highlight = EdgesItem(-9)
        self.addItem(self._highlight)
        self._removed = RemovedRowsItem()  # the baseline's rows an edit removed, as ghosts
        self._removed.setVisible(False)
        self.addItem(self._removed)
        self._structure: DiagramStructure | None = None
        self._layouter: DiagramLayouter | None = None
        d = document
        d.documentReset.connect(self._on_document_reset)
        d.layersInserted.connect(self._on_document_structure)
        d.layersRemoved.connect(self._on_document_structure)
        d.layersMoved.connect(self._on_document_structure)
        d.reportChanged.connect(self._on_document_report)
        d.layerChanged.connect(self._on_document_layer)
        d.errorChanged.connect(self._on_document_report)
        d.conventionChanged.connect(self._on_document_report)
        d.selection.rowsChanged.connect(self._on_selection_changed)
        d.baselineChanged.connect(self._on_document_report)  # deltas appear or go
        d.scaleChanged.connect(self._on_document_report)  # colours fixed to the baseline or freed
        self.rebuild(expanded)

    # ---- public API ----------------------------------------------------------------------------------------
    @property
    def structure(self) -> DiagramStructure:
        assert self._structure is not None
        return self._structure

    @property
    def log_scale(self) -> bool:
        return self.scale_mode == "log"

    def block(self, row: int) -> LayerBlockItem:
        return self.sync_block(self._item(self._ids[row]))

    def block_for(self, node_id: str) -> LayerBlockItem:
        return self.sync_block(self._item(node_id))

    def blocks(self) -> list[LayerBlockItem]:
        """The drawn nodes' blocks in row order (hidden view/constant nodes have none)."""
        return [self.sync_block(self._item(i)) for i in self._ids if i in self._drawn]

    def block_item_count(self) -> int:
        """How many block items the scene holds (folded scopes' members get theirs when shown)."""
        return len(self._blocks)

    def groups(self) -> list[GroupFrameItem]:
        return list(self._groups.values())

    def group(self, path: str) -> GroupFrameItem:
        return self._groups[path]

    def input_items(self) -> list[InputItem]:
        return list(self._inputs.values())

    def routes(self) -> list[Route]:
        return list(self._routes)

    def edge_widths(self) -> set[float]:
        return {w for item in self._edge_chunks for w in item.line_widths()}

    def item_for_key(self, key: str) -> LayerBlockItem | GroupFrameItem | InputItem:
        if key.startswith(SCOPE):
            return self._groups[key[len(SCOPE):]]
        if key.startswith(INPUT):
            return self._inputs[key[len(INPUT):]]
        return self.sync_block(self._item(key))

    def edge_items(self) -> list[tuple[LayerBlockItem | GroupFrameItem | InputItem,
                                       LayerBlockItem | GroupFrameItem | InputItem]]:
        """(source item, target item) of every drawn edge."""
        return [(self.item_for_key(r.src), self.item_for_key(r.dst)) for r in self._routes]

    def key_of_item(self, item: object) -> str:
        if isinstance(item, GroupFrameItem):
            return SCOPE + item.node.path
        if isinstance(item, InputItem):
            return INPUT + item.name
        assert isinstance(item, LayerBlockItem)
        return item.layer_id

    def set_metric(self, metric: str) -> None:
        if metric not in METRICS:
            raise KeyError(metric)
        if metric != self.metric:
            self.metric = metric
            if METRICS[metric].derived and not self._latency_watched:  # another device recolours
                LatencyState.of(self.document).changed.connect(self._on_document_report)
                self._latency_watched = True
            self.refresh()

    def set_scale_mode(self, mode: str) -> None:
        if mode not in SCALES:
            raise KeyError(mode)
        if mode != self.scale_mode:
            self.scale_mode = mode
            self.refresh()

    def set_log_scale(self, log: bool) -> None:
        self.set_scale_mode("log" if log else "linear")

    def set_width_metric(self, metric: str | None) -> None:
        """None: uniform width; otherwise block width encodes this metric (labelled in the colour bar)."""
        if metric is not None and metric not in METRICS:
            raise KeyError(metric)
        if metric != self.width_metric:
            self.width_metric = metric
            self.refresh()

    def set_dark(self, dark: bool) -> None:
        if dark != self.theme.dark:
            self.theme = Theme.of(dark)
            self.setBackgroundBrush(self.theme.background)
            self._draw_edges()  # (invalidates the cached background)
            self._draw_highlight()
            for item in self.items():
                item.update()

    @without_gc
    def set_orientation(self, orientation: Orientation) -> None:
        """Read the flow top to bottom or left to right (every level is laid out again)."""
        if orientation is not self.orientation:
            self.orientation = orientation
            if self._layouter is not None:
                self._layouter.set_orientation(orientation)
                self._relayout()
                self.refresh()

    def set_column_height(self, height: float | None) -> None:
        """Cut a top-down layout into columns of at most `height` scene units, for a page (None: one column)."""
        if height != self.column_height:
            self.column_height = height
            self._place()

    def is_expanded(self, path: str) -> bool:
        return path in self._expanded

    def expanded(self) -> set[str]:
        return set(self._expanded)

    @without_gc
    def set_collapsed(self, path: str, collapsed: bool) -> None:
        if path not in self._groups or collapsed == (path not in self._expanded):
            return
        (self._expanded.discard if collapsed else self._expanded.add)(path)
        self._relayout()
        self.refresh()

    @without_gc
    def set_expanded_scopes(self, paths: Iterable[str]) -> None:
        new = {p for p in paths if p in self._groups}
        if new != self._expanded:
            self._expanded = new
            self._relayout()
            self.refresh()

    def toggle_collapsed(self, path: str) -> None:
        self.set_collapsed(path, path in self._expanded)

    def collapse_to_depth(self, depth: int | None) -> None:
        """Collapse every scope nested `depth` levels deep (0: the outermost) and show those above it open;
        None expands all."""
        levels = self.structure.level
        self.set_expanded_scopes(self._groups if depth is None else
                                 [p for p in self._groups if levels[p] < depth])

    def reveal(self, row: int) -> bool:
        """Expand the scopes around `row`'s node so its own block shows. True if anything was expanded."""
        st = self.structure
        nid = self._shown_node(row)
        if nid is None:
            return False
        need = set(st.ancestors(st.scope_of(nid))) - self._expanded
        if not need:
            return False
        self.set_expanded_scopes(self._expanded | need)
        return True

    def value(self, subject: Subject, metric: str | None = None) -> float:
        """`metric` (default: the colour's) of a row's costs, a container or the whole report."""
        return value_of(self.document, subject, metric or self.metric)

    def metric_title(self, metric: str | None = None) -> str:
        return title_of(self.document, metric or self.metric)

    def format_value(self, value: float, metric: str | None = None) -> str:
        return format_metric(metric or self.metric, value, self.document.convention)

    def visible_units(self) -> list[tuple[int, str]]:
        """(first row, scope path or '') of each visible box, in row order."""
        out = []
        for key in self._visible_keys():
            if key.startswith(SCOPE):
                path = key[len(SCOPE):]
                out.append((self.structure.scopes[path].order, path))
            elif not key.startswith(INPUT):
                out.append((self.structure.row[key], ""))
        return sorted(out)

    def unit_rect(self, row: int) -> QRectF:
        """Scene rect of the box showing `row` (its block, or the collapsed scope that hides it; a hidden view
        node shows as the block it feeds)."""
        item = self._visible_item_for(row)
        if isinstance(item, GroupFrameItem):
            return item.mapRectToScene(item.block_rect())
        if item is None:
            return QRectF()
        return item.mapRectToScene(item.block_rect())

    def key_for_row(self, row: int) -> str | None:
        nid = self._shown_node(row)
        return None if nid is None else self.structure.visible_key(nid, self._expanded)

    def rows_of_key(self, key: str) -> list[int]:
        if key.startswith(SCOPE):
            return list(self.structure.scopes[key[len(SCOPE):]].members)
        if key.startswith(INPUT):
            return []
        return [self.structure.row[key]]

    def neighbours(self, key: str, forward: bool) -> list[str]:
        """Visible keys one edge downstream (forward) or upstream of `key`, left to right."""
        out = []
        for r in self._routes:
            if (r.src if forward else r.dst) == key:
                k = r.dst if forward else r.src
                if k not in out:
                    out.append(k)
        boxes = self.layout.boxes if self.layout else {}
        return sorted(out, key=lambda k: boxes[k].x if k in boxes else 0.0)

    def find(self, text: str) -> list[int]:
        """Rows of the drawn nodes whose name, type or op contains `text` (case-insensitive), in row order."""
        needle = text.strip().lower()
        if not needle:
            return []
        graph = self.document.graph
        return [r for r, n in enumerate(graph.nodes) if n.id in self._drawn
                and (needle in n.display_name.lower() or needle in n.type_label.lower() or needle in n.op.lower())]

    # ---- text ----------------------------------------------------------------------------------------------
    def label_key(self) -> tuple:
        """What block labels depend on besides each block's own cost and share (items keep their laid-out text
        while it is unchanged)."""
        return (self.metric, self.document.convention, self.width_metric)

    def block_lines(self, item: LayerBlockItem) -> list[tuple[str, QFont]]:
        f = self.fonts
        cost = item.cost
        if cost is None:
            return [(item.fallback or "…", f.title), (f"{DASH} · {NOT_COSTED}", f.small)]
        room = BLOCK_W * item.width_fraction - 8
        name = without_leading(self.block_name(item), self.name_drops(item)[0])
        key = (name, cost.type, id(cost.args), room)
        hit = self._titles.get(key)
        if hit is None:
            hit = self._titles[key] = self._title_lines(cost, name, room)
            if len(self._titles) > 20000:
                self._titles.clear()
        title, args = hit
        value = self.value(cost)
        report = self.document.report
        if not report.complete:  # no share of a partial total
            share = ""
        elif not item.share:
            total = self.value(report)
            share = share_text(value / total if total else 0.0)
        else:
            share = item.share
        figure = f"{self.format_value(value)} · {share}" if share else self.format_value(value)
        return [(title, f.title), (args, f.small), ("→ " + shape(cost.output_shape), f.small), (figure, f.value)]

    def _title_lines(self, cost: LayerCost, name: str, room: float) -> tuple[str, str]:
        """A block's title and argument lines, fitted to `room` (remembered per layer and width): its `name`
        (relative to the frame around it) and type."""
        f = self.fonts
        args = key_args(cost.type, cost.args) or cost.category
        if cost.type.endswith(OWN_OPS):  # a container's own ops (residual add, reshape): the type goes below
            title = f"{name}{OWN_OPS}"
            args = f"{cost.type[: -len(OWN_OPS)]} · {args}"
        else:
            title = fit_title(name, cost.type, f.title, room)
            if cost.type not in name and QFontMetricsF(f.title).horizontalAdvance(title) > room:
                title = fit_title(name, "", f.title, room)  # no room for both: the type joins the args line
                args = f"{cost.type} · {args}"
        return title, args

    def block_name(self, item: LayerBlockItem) -> str:
        """A block's name relative to the frame around it (the one rule of every label)."""
        cost = item.cost
        return relative_name(cost.name if cost is not None else item.fallback, self.structure.scope_of(item.layer_id))

    def name_drops(self, item: LayerBlockItem) -> tuple[int, int, int]:
        """How many leading components the block's name sheds in its title, and zoomed out in the big and the huge
        font: as many as the most any block of its group must shed to fit (so "branch2.conv" is not shown beside
        "reduce" and "relu1" of the same branch)."""
        groups = self._name_groups
        if groups is None:
            groups = self._name_groups = {}
            members: dict[tuple[str, str], list[str]] = {}
            st = self.structure
            for nid, b in self._blocks.items():
                prefix = self.block_name(b).rpartition(".")[0]
                if prefix:
                    g = groups[nid] = (st.scope_of(nid), prefix)
                    members.setdefault(g, []).append(nid)
            self._group_members = members
            self._drops = {}
        group = groups.get(item.layer_id)
        if group is None:
            return (0, 0, 0)
        hit = self._drops.get(group)
        if hit is not None and hit[0] == self.gen:
            return hit[1]
        f = self.fonts
        title = big = huge = 0
        for nid in self._group_members[group]:
            b = self.sync_block(self._blocks[nid], quiet=True)
            if b.cost is None:
                continue
            name = self.block_name(b)
            room = BLOCK_W * b.width_fraction - 8
            shown = self._title_lines(b.cost, name, room)[0]
            title = max(title, dropped(name, shown.removesuffix(f"  {b.cost.type}")))
            big = max(big, dropped(name, short_name(name, f.big, room)))
            huge = max(huge, dropped(name, short_name(name, f.huge, room)))
        drops = (title, big, huge)
        self._drops[group] = (self.gen, drops)
        return drops

    def shown_name(self, item: LayerBlockItem, font: QFont) -> str:
        """The name a zoomed-out block shows in `font` (big or huge): as its group sheds components for it."""
        drops = self.name_drops(item)
        return without_leading(self.block_name(item), drops[1] if font is self.fonts.big else drops[2])

    def group_name(self, path: str) -> str:
        """A container's name as a block's: relative to the frame around it."""
        scope = self.structure.scopes.get(path)
        return relative_name(path, scope.parent or "") if scope is not None else path

    def group_lines(self, item: GroupFrameItem) -> list[tuple[str, QFont]]:
        f = self.fonts
        node = item.node
        value = self.value(node)
        report = self.document.report
        total = self.value(report)
        share = value / total if total else 0.0  # a ratio of two report figures, for display
        scopes = self.structure.scopes
        count = len(scopes[node.path].members) if node.path in scopes else 0
        name = self.group_name(node.path)
        if not node.complete:  # its sum leaves nodes out: no figure at all, and why
            figure = f"{DASH} · {node.not_costed} {NOT_COSTED}"
            if item.collapsed:
                return [(f"{name}  ▸", f.title), (f"{node.type} · {count} nodes", f.small), (figure, f.value)]
            return [(f"{name}  {node.type}", f.header), (figure, f.header)]
        if not report.complete:  # a complete scope of an incomplete model: its figure, no share
            if item.collapsed:
                return [(f"{name}  ▸", f.title), (f"{node.type} · {count} nodes", f.small),
                        (self.format_value(value), f.value)]
            return [(f"{name}  {node.type}", f.header), (self.format_value(value), f.header)]
        if item.collapsed:
            return [(f"{name}  ▸", f.title), (f"{node.type} · {count} nodes", f.small),
                    (f"{self.format_value(value)} · {share_text(share)}", f.value)]
        return [(f"{name}  {node.type}", f.header),
                (f"{self.format_value(value)} · {share_text(share)}", f.header)]

    def edge_label(self, route: Route) -> str:
        """The shape of the tensor an edge carries (as its consumer reads it)."""
        shp = self._edge_shape(route)
        return shape(shp) if shp else ""

    def _edge_shape(self, route: Route) -> tuple[int, ...] | None:
        report = self.document.report
        cost = report.by_id.get(route.dst_node)
        if cost is not None and route.dst_input < len(cost.input_shapes):
            return cost.input_shapes[route.dst_input]
        src = report.by_id.get(route.value)
        if src is not None and src.output_shapes and route.index < len(src.output_shapes):
            return src.output_shapes[route.index]
        for name, (shp, _) in zip(report.input_names, report.inputs, strict=False):
            if name == route.value:
                return shp
        return None

    def _edge_bytes(self, route: Route) -> int:
        """Activation bytes of the value an edge carries: what its producer writes (views write nothing)."""
        src = self.document.report.by_id.get(route.value)
        if src is not None:
            n = max(len(src.output_shapes), 1)
            return src.totals.activation_bytes // n
        return self.document.report.summary.input_bytes if route.src.startswith(INPUT) else 0

    def edge_tooltip(self, route: Route) -> str:
        st = self.structure
        graph = self.document.graph

        def name(key: str) -> str:
            if key.startswith(SCOPE):
                return key[len(SCOPE):]
            if key.startswith(INPUT):
                return f"input {key[len(INPUT):]}"
            return graph.nodes[st.row[key]].display_name

        shp = self._edge_shape(route)
        lines = [f"<b>{escape(name(route.src))}</b> → <b>{escape(name(route.dst))}</b>"]
        if shp:
            lines.append(f"tensor {shape(shp)}")
        b = self._edge_bytes(route)
        if b:
            lines.append(f"activation {nbytes(b)}")
        if route.dst_node in st.row and not route.dst.startswith(SCOPE):
            via = self._via(route)
            if via:
                lines.append(f"through {escape(', '.join(via))}")
        return "<br>".join(lines)

    def _via(self, route: Route) -> list[str]:
        """The hidden view ops between the value and its consumer (`view`, `transpose`, ...)."""
        graph = self.document.graph
        st = self.structure
        node = graph.nodes[st.row[route.dst_node]]
        if route.dst_input >= len(node.inputs):
            return []
        out: list[str] = []
        ref = node.inputs[route.dst_input]
        while ref.node in st.hidden and len(out) < 8:
            n = graph.nodes[st.row[ref.node]]
            out.append(n.op)
            if not n.inputs:
                break
            ref = n.inputs[0]
        return out[::-1]

    def edge_at(self, pos: QPointF, tolerance: float) -> Route | None:
        """The edge passing within `tolerance` scene units of `pos` (the nearest end wins), or None."""
        best: tuple[float, Route] | None = None
        pos = QPointF(pos.x() - self.dx, pos.y())
        stroker = QPainterPathStroker()
        stroker.setWidth(2 * tolerance)
        probe = QRectF(pos.x() - tolerance, pos.y() - tolerance, 2 * tolerance, 2 * tolerance)
        for r in self._routes:
            xs = [p[0] for p in r.points]
            ys = [p[1] for p in r.points]
            if not xs or not probe.intersects(QRectF(min(xs) - 1, min(ys) - 1, max(xs) - min(xs) + 2,
                                                     max(ys) - min(ys) + 2)):
                continue
            if stroker.createStroke(route_path(r.points, self.orientation.horizontal)).contains(pos):
                d = math.dist((pos.x(), pos.y()), r.points[-1])
                if best is None or d < best[0]:
                    best = (d, r)
        return best[1] if best else None

    # ---- building ------------------------------------------------------------------------------------------
    @without_gc
    def rebuild(self, expanded: Collection[str] | None = None) -> None:
        """Drop every item and build from the document (a new model was loaded), with `expanded` open (default:
        as many levels as fit)."""
        for item in [*self._blocks.values(), *self._groups.values(), *self._inputs.values()]:
            self.removeItem(item)
        self._blocks.clear()
        self._drawn = set()
        self._groups.clear()
        self._inputs.clear()
        self._selected = set()
        self._structure = None
        self._sync_structure()
        self._expanded = self._default_expansion() if expanded is None else set(expanded) & set(self._groups)
        self._relayout()
        self.refresh()
        self._on_selection_changed(self.document.selection.rows, None)

    def _sync_structure(self) -> None:
        """Items for the current graph's drawn nodes, scopes and inputs, keeping those whose ids remain."""
        doc = self.document
        st = structure_of(doc.graph)
        self._structure = st
        self._name_groups = None
        self._layouter = DiagramLayouter(st, SIZES, self.orientation)
        self._ids = doc.layer_ids()
        keep = self._drawn = {nid for sc in st.scopes.values() for nid in sc.nodes}
        for nid in [i for i in self._blocks if i not in keep]:
            self.removeItem(self._blocks.pop(nid))
            self._selected.discard(nid)
        for nid, item in self._blocks.items():  # the others get theirs when first shown (`_item`)
            row = st.row[nid]
            item.row = row
            item.fallback = doc.spec(row).display_name(row)
        hier = {h.path: h for h in doc.report.hierarchy}
        paths = [p for p in st.scopes if p]
        for p in [p for p in self._groups if p not in st.scopes or not p]:
            self.removeItem(self._groups.pop(p))
        for k, p in enumerate(sorted(paths, key=lambda q: (st.scopes[q].order, st.level[q]))):
            node = hier.get(p) or HierarchyNode(p, doc.graph.scope_type(p), p.count(".") + 1,
                                                st.scopes[p].order, st.scopes[p].members[-1], Totals())
            g = self._groups.get(p)
            if g is None:
                g = self._groups[p] = GroupFrameItem(k, node)
                self.addItem(g)
            g.index, g.node, g.depth = k, node, st.level[p]
        self._groups = dict(sorted(self._groups.items(), key=lambda kv: kv[1].index))
        for name in [n for n in self._inputs if n not in st.used_inputs]:
            self.removeItem(self._inputs.pop(name))
        shapes = dict(zip(doc.graph.input_names, (i.shape for i in doc.graph.inputs), strict=True))
        for name in st.used_inputs:
            item = self._inputs.get(name)
            if item is None:
                item = self._inputs[name] = InputItem(name)
                self.addItem(item)
            item.text = f"{name}  {shape(shapes[name])}"

    def _item(self, nid: str) -> LayerBlockItem:
        """The block of drawn node `nid`, made on first need (hidden until `_place` shows it)."""
        item = self._blocks.get(nid)
        if item is None:
            if nid not in self._drawn:
                raise KeyError(nid)
            row = self.structure.row[nid]
            item = self._blocks[nid] = LayerBlockItem(nid, row)
            item.fallback = self.document.spec(row).display_name(row)
            item.setVisible(False)
            item.set_selected(nid in self._selected)
            self.addItem(item)
        return item

    def _default_expansion(self) -> set[str]:
        """Whole levels of scopes open while at most AUTO_BOXES boxes show (ResNet-50: its stages open, their
        bottlenecks folded; GPT-2: its blocks folded)."""
        st = self.structure
        graph = self.document.graph
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

    # ---- layout --------------------------------------------------------------------------------------------
    @without_gc
    def _relayout(self) -> None:
        """Lay out for the current expansion (cached per scope), then place the items."""
        assert self._layouter is not None
        self._base = self._layouter.layout(self._expanded)
        self._place()

    @without_gc
    def _place(self) -> None:
        st = self.structure
        layout = self._base
        if self.column_height is not None and not self.orientation.horizontal:
            layout = wrap(layout, self.column_height, SIZES, lambda p: st.level[p])
        self.layout = layout
        # one column: keep the root's first column at x = 0, so expanding a scope leaves the chain where it was
        dx = 0.0 if layout.columns else -layout.anchor_x
        self.dx = dx
        visible = layout.boxes
        for key in visible:
            if key in self._drawn and key not in self._blocks:
                self._item(key)
        for nid, item in self._blocks.items():
            b = visible.get(nid)
            item.setVisible(b is not None)
            if b is not None:
                item.setPos(b.x + dx, b.y)
        for path, g in self._groups.items():
            g.setPos(dx, 0)
            key = SCOPE + path
            g.collapsed = path not in self._expanded
            if key in visible:
                b = visible[key]
                g.set_segments([QRectF(b.x, b.y, b.w, b.h)])
                g.setZValue(1)
                g.setVisible(True)
            elif path in layout.frames:
                g.set_segments([QRectF(s.x, s.y, s.w, s.h) for s in layout.frames[path]])
                g.setZValue(-5 + st.level[path] * 0.01)
                g.setVisible(True)
            else:
                g.setVisible(False)
        for name, item in self._inputs.items():
            b = visible.get(INPUT + name)
            item.setVisible(b is not None)
            if b is not None:
                item.setPos(b.x + dx, b.y)
        self._highlight.setPos(dx, 0)
        self.setSceneRect(QRectF(dx, 0, layout.width, layout.height))
        self._draw_edges()
        self._draw_highlight()
        self._place_removed()
        self.layoutChanged.emit()

    def columns(self) -> list[tuple[float, float]]:
        """x extents of the layout's newspaper columns (one column when it is not cut)."""
        if self.layout is None:
            return []
        if self.layout.columns:
            return list(self.layout.columns)
        return [(SIZES.margin + self.dx, self.layout.width - SIZES.margin + self.dx)]

    def _visible_keys(self) -> list[str]:
        return list(self.layout.boxes) if self.layout else []

    def _draw_edges(self) -> None:
        routes = self.layout.routes if self.layout else []
        widths = None
        if self.metric == "memory" and routes:
            sizes = [self._edge_bytes(r) for r in routes]
            top = max(sizes)
            if top > 0:
                widths = [EDGE_WIDTHS[min(len(EDGE_WIDTHS) - 1, int(len(EDGE_WIDTHS) * _log_fraction(b, top)))]
                          for b in sizes]
        self._weighted_edges = widths is not None
        self._routes = list(routes)
        order = sorted(range(len(routes)), key=lambda k: (round(routes[k].points[0][0] / 600) if routes[k].points
                                                          else 0, routes[k].points[0][1] if routes[k].points else 0))
        chunks = [order[i:i + EDGE_CHUNK] for i in range(0, len(order), EDGE_CHUNK)]
        del self._edge_chunks[len(chunks):]
        while len(self._edge_chunks) < len(chunks):
            item = EdgesItem(-10)  # drawn by drawBackground, not an item of the scene
            item.labels = True
            self._edge_chunks.append(item)
        for item, chunk in zip(self._edge_chunks, chunks, strict=True):
            item.horizontal = self.orientation.horizontal
            item.set_routes([routes[k] for k in chunk], self.theme.muted,
                            [widths[k] for k in chunk] if widths else None)
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """The background colour and every edge: views cache this layer (CacheBackground), so blocks recoloured
        above it repaint without stroking the edges again; only a relayout or new edge widths redraw it."""
        super().drawBackground(painter, rect)
        painter.save()
        painter.translate(self.dx, 0)
        local = rect.translated(-self.dx, 0)
        for g in sorted((g for g in self._groups.values() if g.isVisible() and not g.collapsed),
                        key=lambda g: g.depth):  # outer frames first: inner ones shade over them
            if g.boundingRect().intersects(local):
                g.draw_frame(painter, self.theme)
        for chunk in self._edge_chunks:
            if chunk.boundingRect().intersects(local):
                chunk.draw(painter, local, self)
        painter.restore()

    def _draw_highlight(self) -> None:
        keys = self._selected_keys
        routes = [r for r in (self.layout.routes if self.layout else []) if r.src in keys or r.dst in keys]
        self._highlight.horizontal = self.orientation.horizontal
        self._highlight.set_routes(routes, self.theme.selection, [2.6] * len(routes))

    # ---- colours -------------------------------------------------------------------------------------------
    def _unit_subjects(self, report: CostReport | None = None) -> list[Subject]:
        """Every visible box's record in `report` (default: the current one; the pinned baseline's while the scale
        is fixed to it: boxes the baseline lacks are left out)."""
        layout = self.layout
        if self._units is None or self._units[0] is not layout:  # the boxes' kinds, sorted once per layout
            keys = self._visible_keys()
            paths = [k[len(SCOPE):] for k in keys if k.startswith(SCOPE)]
            ids = [k for k in keys if not k.startswith((SCOPE, INPUT))]
            self._units = (layout, paths, ids)
        _, paths, ids = self._units
        by_id = (report or self.document.report).by_id
        out: list[Subject] = [by_id[i] for i in ids if i in by_id]
        if report is None:
            groups = self._groups
            out += [groups[p].node for p in paths if groups[p].node.complete]  # (a partial sum sets no range)
        else:
            hier = {h.path: h for h in report.hierarchy}
            out += [hier[p] for p in paths if p in hier]
        return out

    @without_gc
    def refresh(self) -> None:
        """Recolour and relabel in place from the document's current report (no new items): the scale from every
        visible box, the blocks on screen now, the others when next painted or read (`sync_block`)."""
        doc = self.document
        report = doc.report
        conv = doc.convention
        # left to right, a block's width runs along the flow: a narrower block would leave its edges short of it
        wmetric = None if self.orientation.horizontal else self.width_metric
        value = getter(doc, self.metric)  # a Totals field, or the latency estimate (gui/metric_values.py)
        wvalue = getter(doc, wmetric) if wmetric else value
        hier = {h.path: h for h in report.hierarchy}
        for path, g in self._groups.items():
            if path in hier:
                g.node = hier[path]
        base = doc.baseline_report
        subjects = self._unit_subjects()
        # fixed to the baseline: the range of the baseline's boxes, so a layer an edit did not touch keeps its
        # colour (a changed one may leave the range: it takes the end colour)
        ranged = self._unit_subjects(base) if doc.scale_fixed and base is not None else subjects
        scale = CostScale.from_values((value(s) for s in ranged), mode=self.scale_mode)
        wmax = max((wvalue(s) for s in subjects), default=0) if wmetric else 0
        changed = (scale.vmin, scale.vmax, scale.mode, wmax) != (self.scale.vmin, self.scale.vmax, self.scale.mode,
                                                                 self.width_max)
        self.scale, self.width_max = scale, wmax
        error_row = doc.error_row()
        colors: dict[float, QColor] = {}  # value -> colour: repeated layers share one lookup

        def color_of(value: float) -> QColor:
            c = colors.get(value)
            if c is None:
                c = colors[value] = scale.color(value)
            return c

        def width_of(s: Subject) -> float:
            if not wmetric or wmax <= 0:
                return 1.0
            return MIN_WIDTH_FRACTION + (1 - MIN_WIDTH_FRACTION) * wvalue(s) / wmax

        total = value(report) if report.complete else 0  # 0: no shares of a partial total
        self.gen += 1
        comparison = doc.comparison()
        self._recolour = _Recolour(self.gen, value, total, report.by_id, error_row, color_of, width_of,
                                   comparison.rows if comparison is not None else None)
        # shown blocks in a view now; the others (scrolled away, in a background tab, folded in a scope) when they
        # are next painted or read: a 5,000-node graph's edit then costs what is on screen, not every block
        seen = self._viewed_rect()
        blocks, dx = self._blocks, self.dx
        boxes = self.layout.boxes if self.layout is not None else {}
        if seen is None:
            shown = [blocks[n] for n in boxes if n in blocks]
        else:  # (plain comparisons: a QRectF per box cost 1.5 ms an edit at 5,000 nodes)
            left, top, right, bottom = seen.left() - dx, seen.top(), seen.right() - dx, seen.bottom()
            shown = [blocks[n] for n, b in boxes.items() if b.x < right and b.x + b.w > left and b.y < bottom
                     and b.y + b.h > top and n in blocks]
        for item in shown:
            self.sync_block(item)
        base_hier = {h.path: h for h in base.hierarchy} if base is not None else None
        for path, g in self._groups.items():
            if not g.isVisible():  # inside a folded scope (most of a 100k-node graph's): the refresh after the
                continue  # relayout that shows it colours it
            if not g.node.complete:  # nodes inside are not costed: neutral, no figure, marked (`group_lines`)
                badge = (NOT_COSTED, NOT_COSTED)
                g.set_state(_GRAY, 1.0, (None, g.node.not_costed, g.collapsed, conv, badge))
                g.badge = badge
                continue
            v = value(g.node)
            badge = ("", "")
            if base_hier is not None:  # a scope against its subtotal in the baseline
                b = base_hier.get(path)
                badge = ("new", "new") if b is None else delta_badge(v, value(b)) if b.complete else ("", "")
            # what its label shows: the share as text, so a new total repaints only the shares that read otherwise
            g.set_state(color_of(v), width_of(g.node),
                        (v, share_text(v / total) if total else "", g.collapsed, conv, badge))
            g.badge = badge
        self._show_removed(value)
        stale = QRectF()
        for chunk in self._edge_chunks:
            stale = stale.united(chunk.stale_label_rect(self))
        if not stale.isEmpty():
            self.invalidate(stale.translated(self.dx, 0), QGraphicsScene.SceneLayer.BackgroundLayer)
        if self.metric == "memory" or self._weighted_edges:  # widths follow activation bytes, or stop doing so
            self._draw_edges()
        if changed:
            self.settingsChanged.emit()

    def covers(self, rect: QRectF) -> bool:
        """Whether a drawn box or edge lies in `rect` (scene coordinates)."""
        layout = self.layout
        if layout is None:
            return False
        dx = self.dx
        left, top, right, bottom = rect.left() - dx, rect.top(), rect.right() - dx, rect.bottom()
        if any(b.x < right and b.x + b.w > left and b.y < bottom and b.y + b.h > top for b in layout.boxes.values()):
            return True
        for r in layout.routes:
            for (x0, y0), (x1, y1) in zip(r.points, r.points[1:], strict=False):
                if min(x0, x1) <= right and max(x0, x1) >= left and min(y0, y1) <= bottom and max(y0, y1) >= top:
                    return True
        return False

    def overview(self, cell: tuple[float, float] | None = None) -> tuple[list[QRectF], list[tuple[QRectF, QColor]]]:
        """What an overview draws, in scene coordinates: the open frames' pieces, and every drawn box with its
        current colour (blocks not on screen are brought up to date without a repaint). Rendering the scene
        instead called every item's paint: 0.6 s for a 5,000-node graph, after every edit. `cell`: the scene
        (width, height) of one overview pixel: of the boxes starting in one such cell only the first is given
        (a 100k-node graph's 6,666 folded layers in a 190 px minimap)."""
        frames = [s.translated(g.pos()) for g in self._groups.values() if g.isVisible() and not g.collapsed
                  for s in g.segments]
        boxes: list[tuple[QRectF, QColor]] = []
        dx = self.dx
        taken: set[tuple[int, int]] = set()
        for key, b in (self.layout.boxes.items() if self.layout is not None else ()):
            if cell:
                spot = (int(b.x / cell[0]), int(b.y / cell[1]))
                if spot in taken:
                    continue
                taken.add(spot)
            if key.startswith(SCOPE):
                group = self._groups.get(key[len(SCOPE):])
                color = group.color if group is not None else None
            elif key.startswith(INPUT):
                color = self.theme.frame
            else:
                item = self._blocks.get(key)
                color = self.sync_block(item, quiet=True).color if item is not None else None
            if color is not None:
                boxes.append((QRectF(b.x + dx, b.y, b.w, b.h), color))
        return frames, boxes

    def _viewed_rect(self) -> QRectF | None:
        """The scene area the views show (None without a view: exports and tests read every item)."""
        views = self.views()
        if not views:
            return None
        seen = QRectF()
        for v in views:
            if not out_of_sight(v):
                seen = seen.united(v.mapToScene(v.viewport().rect()).boundingRect().adjusted(-20, -20, 20, 20))
        return seen

    def sync_block(self, item: LayerBlockItem, quiet: bool = False) -> LayerBlockItem:
        """Bring a block up to the latest refresh (colour, width, cost, share); `quiet` while it is painted."""
        ctx = self._recolour
        if ctx is None or item.gen == ctx.gen:
            return item
        item.gen = ctx.gen
        cost = ctx.by_id.get(item.layer_id)
        if cost is None:
            item.set_state(None, _GRAY, 1.0, ctx.error_row is not None, quiet=quiet)
            return item
        v = ctx.value(cost)
        badge = ("", "")
        if ctx.deltas is not None:
            d = ctx.deltas.get(item.layer_id)
            if d is not None and d.status == ADDED:
                badge = ("new", "new")
            elif d is not None and d.before is not None and d.status != SAME:
                badge = delta_badge(v, ctx.value(d.before))
        item.set_state(cost, ctx.color_of(v), ctx.width_of(cost), ctx.error_row is not None and
                       item.row >= ctx.error_row, share_text(v / ctx.total) if ctx.total else "", quiet=quiet,
                       badge=badge)
        return item

    def _show_removed(self, value: Callable[[Subject], float]) -> None:
        """The baseline's rows the current graph no longer has, as ghost blocks beside the layout."""
        removed = self.document.removed_rows()
        item = self._removed
        rows = [(r.name, r.type, ("−" if value(r) else "") + self.format_value(value(r))
                 + (f" · −{si(r.totals.params)} params" if r.totals.params else "")) for r in removed]
        if rows == item.rows:
            return
        item.set_rows(rows)
        item.setVisible(bool(rows))
        self._place_removed()

    def _place_removed(self) -> None:
        layout = self.layout
        if layout is None:
            return
        rect = QRectF(self.dx, 0, layout.width, layout.height)
        if self._removed.rows:
            self._removed.setPos(self.dx + layout.width, SIZES.margin)
            rect = rect.united(self._removed.sceneBoundingRect().adjusted(0, 0, SIZES.margin, SIZES.margin))
        if rect != self.sceneRect():
            self.setSceneRect(rect)

    def _width_fraction(self, subject: Subject) -> float:
        if not self.width_metric or self.width_max <= 0:
            return 1.0
        return MIN_WIDTH_FRACTION + (1 - MIN_WIDTH_FRACTION) * self.value(subject, self.width_metric) / self.width_max

    # ---- selection -----------------------------------------------------------------------------------------
    def _shown_node(self, row: int) -> str | None:
        """The drawn node that stands for `row`: itself, or for a hidden view node the first drawn one it feeds
        (else the one it reads)."""
        graph = self.document.graph
        if not 0 <= row < len(graph.nodes):
            return None
        st = self.structure
        nid = graph.nodes[row].id
        seen = 0
        start = nid
        while nid in st.hidden and seen < 64:
            users = graph.users.get(nid, ())
            if not users:
                break
            nid = users[0]
            seen += 1
        if nid in st.hidden:
            nid = start
            while nid in st.hidden and graph.node(nid).inputs and seen < 128:
                nid = graph.node(nid).inputs[0].node
                seen += 1
        return nid if nid in self._drawn else None

    def _visible_item_for(self, row: int) -> LayerBlockItem | GroupFrameItem | None:
        key = self.key_for_row(row)
        if key is None:
            return None
        item = self.item_for_key(key)
        return item if not isinstance(item, InputItem) else None

    def _on_selection_changed(self, rows: list[int], source: object) -> None:
        if not self.show_selection:
            rows = []
        ids = {self._ids[r] for r in rows if 0 <= r < len(self._ids)} & self._drawn
        for lid in self._selected - ids:
            if lid in self._blocks:
                self._blocks[lid].set_selected(False)
        self._selected = ids  # (before `_item`: a block made now starts selected)
        for lid in ids:
            self._item(lid).set_selected(True)
        self._selected = ids
        keys = {k for k in (self.key_for_row(r) for r in rows) if k is not None}
        for path, g in self._groups.items():
            g.set_selected(g.collapsed and SCOPE + path in keys)
        self._selected_keys = keys
        self._draw_highlight()

    # ---- document signals ----------------------------------------------------------------------------------
    def _on_document_reset(self) -> None:
        self.rebuild()

    @without_gc
    def _on_document_structure(self, *args: int) -> None:
        """Insert/remove/move: add or drop only the items whose ids appeared or vanished, then relayout."""
        self._sync_structure()
        self._expanded &= set(self._groups)
        self._relayout()
        self.refresh()
        self._on_selection_changed(self.document.selection.rows, None)

    def _on_document_report(self, *args: object) -> None:
        self.refresh()

    def _on_document_layer(self, row: int, field: str) -> None:
        if self._rewired(row):
            # an edit that inserts nodes signals the insertion first, with the readers after it still wired as
            # before (the document's rows in between); their new inputs arrive only as a changed row
            self._on_document_structure()
            return
        if field == "name":
            self._name_groups = None
        if field in ("name", "type") and self._ids[row] in self._blocks:
            self.block(row).fallback = self.document.spec(row).display_name(row)

    def _rewired(self, row: int) -> bool:
        """Whether the node at `row` reads other values, or is another op, than the laid-out structure has it."""
        st = self._structure
        graph = self.document.graph
        if st is None or st.graph is graph or not 0 <= row < len(graph.nodes):
            return False
        node = graph.nodes[row]
        known = st.row.get(node.id)
        if known is None:
            return True
        was = st.graph.nodes[known]
        return was.inputs != node.inputs or was.op != node.op

    # ---- tooltip -------------------------------------------------------------------------------------------
    def tooltip_html(self, item: LayerBlockItem | GroupFrameItem | InputItem) -> str:
        """The full record of a block or container: every metric, % of totals, and the conventions' names."""
        report = self.document.report
        conv = self.document.convention
        if isinstance(item, InputItem):
            return f"<b>input {escape(item.name)}</b><br>{escape(item.text)}"
        if isinstance(item, GroupFrameItem):
            node = item.node
            count = len(self.structure.scopes[node.path].members) if node.path in self.structure.scopes else 0
            head = (f"<b>{escape(node.path)}</b> &nbsp;{escape(node.type)}<br>{count} nodes"
                    f" ({'double-click to expand' if item.collapsed else 'click the header to fold'})")
            if not node.complete:
                return (f"{head}<br><b>{node.not_costed} of them {NOT_COSTED}</b>: no figures are shown for it "
                        "until they are")
            totals = node.totals
        else:
            cost = item.cost
            if cost is None:
                return f"<b>{escape(item.fallback)}</b><br>{NOT_COSTED}"
            head = (f"<b>{escape(cost.name)}</b> &nbsp;{escape(cost.type)} &nbsp;<i>{cost.category}</i><br>"
                    f"{escape(key_args(cost.type, cost.args))}<br>"
                    f"{' + '.join(shape(s) for s in (cost.input_shapes or (cost.input_shape,)))}"
                    f" → {shape(cost.output_shape)}")
            if cost.path and cost.path != cost.name:
                head += f"<br><span>{escape(cost.path)}</span>"
            if item.badge[0]:
                head += f"<br><b>vs the baseline: {escape(item.badge[0])}</b> ({escape(self.metric_title())})"
            totals = cost.totals
        t = report.totals

        def pct(field: str) -> str:
            total = getattr(t, field) if report.complete else 0  # no share of a partial total
            return percent(getattr(totals, field) / total) if total else "–"

        rows = [
            ("Params", f"{grouped(totals.params)}", pct("params")),
            ("&nbsp;&nbsp;trainable / frozen", f"{grouped(totals.trainable_params)} / {grouped(totals.frozen_params)}",
             ""),
            ("Buffers", grouped(totals.buffers), ""),
            ("MACs", si(totals.macs), pct("macs")),
            ("FLOPs (NetCost)", si(totals.flops), pct("flops")),
            ("&nbsp;&nbsp;bias adds / element-wise", f"{si(totals.bias_adds)} / {si(totals.elementwise_flops)}", ""),
            ("Param bytes", nbytes(totals.param_bytes), pct("param_bytes")),
            ("Activations", nbytes(totals.activation_bytes), pct("activation_bytes")),
            ("Memory access", nbytes(totals.memory_access_bytes), pct("memory_access_bytes")),
            ("FLOPs / byte", f"{totals.flops / totals.memory_access_bytes:.1f}" if totals.memory_access_bytes else "–",
             ""),
        ]
        for key in PEERS:
            c = CONVENTIONS[key]
            rows.append((f"{escape(c.label)} <i>({c.unit})</i>", si(getattr(totals, key)), pct(key)))
        body = "".join(f"<tr><td>{a}</td><td align=right>&nbsp;{b}</td><td align=right>&nbsp;{c}</td></tr>"
                       for a, b, c in rows)
        note = (f"Coloured by {escape(self.metric_title())}; FLOPs figures use the {escape(convention_label(conv))}"
                " convention")
        return f"{head}<table cellspacing=0>{body}</table><small>{note}</small>"


_GRAY = QColor(150, 150, 150)  # a block without costs yet


@dataclass
class _Recolour:
    """What the latest refresh coloured with: blocks synced later use the same scale and total."""

    gen: int
    value: Callable[[Subject], float]  # the colour metric's value of a row (gui/metric_values.py)
    total: float
    by_id: dict[str, LayerCost]
    error_row: int | None
    color_of: Callable[[float], QColor]
    width_of: Callable[[Subject], float]
    deltas: Mapping[str, RowDelta] | None = None  # against the pinned baseline


def delta_badge(value: float, before: float) -> tuple[str, str]:
    """(text, kind) of a block's change against the baseline in the shown metric: '−72 %', '+3.1 M' when it had
    none before; ('', '') when unchanged. kind: LESS or MORE."""
    if value == before:
        return ("", "")
    kind_ = LESS if value < before else MORE
    if before > 0:
        rel = (value - before) / before * 100
        text = f"{rel:+.1f} %" if abs(rel) < 10 else f"{rel:+.0f} %"
    else:
        text = "+" + si(value - before)
    return (text.replace("-", "−"), kind_)


def _log_fraction(value: int, top: int) -> float:
    """0..1 position of `value` on a log scale spanning three decades below `top` (edge widths)."""
    if value <= 0 or top <= 0:
        return 0.0
    return min(max(1 + math.log10(value / top) / 3, 0.0), 0.999)


def scene_for(document: CostDocument, dark: bool = False, metric: str = "flops", width_metric: str | None = "params",
              log_scale: bool | None = None, scale_mode: str | None = None,
              include_selection: bool = False, expanded: Collection[str] | None = None,
              orientation: Orientation = Orientation.TOP_DOWN) -> DiagramScene:
    """A ready-to-render scene for exports (no view, no window): `scene.render(painter, target, scene.sceneRect())`.
    It shows no selection unless `include_selection` (an export is a document, not a screenshot of the session);
    `expanded`: the scopes shown open (default: as the window opens a model); `orientation`: the flow's direction."""
    scene = DiagramScene(document, dark=dark, show_selection=include_selection, expanded=expanded,
                         orientation=orientation)
    scene.width_metric = width_metric
    scene.scale_mode = scale_mode or ("log" if log_scale else "linear" if log_scale is not None else "linear")
    scene.metric = metric
    scene._draw_edges()
    scene.refresh()
    return scene
