"""`DiagramItems`: the scene's items and where they go — one block per drawn node id and one frame per scope (each
made when first shown), a pill per input, the edges in spatial pieces, the selection's highlighted edges and the
baseline's removed rows — kept across edits (only the items whose ids appeared or vanished come and go) and placed
from a layout."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGraphicsScene

from netcost.costing import CostReport, HierarchyNode, Totals
from netcost.costing.formatting import shape
from netcost.costing.scope_tree import ScopeEntry
from netcost.gui.diagram.blocks import GroupFrameItem, InputItem, LayerBlockItem, RemovedRowsItem
from netcost.gui.diagram.edges import EdgesItem, Label
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey
from netcost.gui.diagram.layout import Box, DiagramLayout, Route
from netcost.gui.diagram.structure import DiagramStructure
from netcost.gui.diagram.style import DiagramStyle
from netcost.gui.document.cost_document import CostDocument

# a view's layout with more boxes and frames than this gets items only where it paints (`realize`) or a caller asks:
# a 100k-node graph's 6,667 folded layers took ~130 ms of one event-loop pass to make and place, of which a
# 1280x800 window shows about twenty
LAZY_ITEMS_ABOVE = 2_000


class DiagramItems:
    """The items of `scene` (a QGraphicsScene) for `document`'s graph, painted with `style`."""

    def __init__(self, scene: QGraphicsScene, document: CostDocument, style: DiagramStyle,
                 in_view: bool = False) -> None:
        """`in_view`: the scene of a view, which paints what it shows (`realize`); an export's scene, which reads
        and renders all of it (pages are planned from its items), has every item."""
        self.scene = scene
        self.in_view = in_view
        self.document = document
        self.style = style
        self.structure: DiagramStructure | None = None
        self.ids: list[str] = []
        self.drawn: set[str] = set()  # the node ids drawn as blocks (when their scopes are open)
        # their items, made when first laid out or read (`item`): a folded scope's members have none until it
        # opens, so a 100k-node graph opens with items for the few boxes it shows
        self.blocks: dict[str, LayerBlockItem] = {}
        # the scopes' frames likewise (`group`): a 100k-node graph has 20,000 scopes, all but ~7,000 inside folded
        # ones; making every frame on open took ~250 ms of one event-loop pass. In the scopes' order.
        self.groups: dict[str, GroupFrameItem] = {}
        self.scopes: dict[str, tuple[int, ScopeEntry]] = {}  # every drawn scope: (its index in order, its entry)
        self._hier: tuple[CostReport | None, dict[str, HierarchyNode]] = (None, {})  # the report's subtotals by path
        self._expanded: frozenset[str] = frozenset()  # as last placed
        self._layout: DiagramLayout | None = None  # likewise (an item made later is placed from it)
        self._dx = 0.0
        self.lazy = False  # a view's last layout was over LAZY_ITEMS_ABOVE: items for what is painted or asked for
        self._realized = QRectF()  # the layout's part (scene coordinates) whose items are all made
        self.inputs: dict[str, InputItem] = {}
        self.selected: set[str] = set()
        self.selected_keys: set[BoxKey] = set()
        self.edge_chunks: list[EdgesItem] = []  # spatial pieces: a view paints only the edges it shows
        self.highlight = EdgesItem(-9)
        scene.addItem(self.highlight)
        self.removed = RemovedRowsItem(style)  # the baseline's rows an edit removed, as ghosts
        self.removed.setVisible(False)
        scene.addItem(self.removed)

    def set_style(self, style: DiagramStyle) -> None:
        self.style = style
        for item in [*self.blocks.values(), *self.groups.values(), *self.inputs.values(), self.removed]:
            item.style = style

    def clear(self) -> None:
        for item in [*self.blocks.values(), *self.groups.values(), *self.inputs.values()]:
            self.scene.removeItem(item)
        self.blocks.clear()
        self.drawn = set()
        self.groups.clear()
        self.scopes = {}
        self._hier = (None, {})  # (it holds the replaced document's report: its memory goes with the items)
        self.inputs.clear()
        self.selected = set()
        self._layout = None

    def sync_structure(self, st: DiagramStructure) -> None:
        """Items for the structure's drawn nodes, scopes and inputs, keeping those whose ids remain."""
        doc, scene = self.document, self.scene
        self.structure = st
        self.ids = doc.layer_ids()
        keep = self.drawn = {nid for drawn in st.nodes_in.values() for nid in drawn}
        for nid in [i for i in self.blocks if i not in keep]:
            scene.removeItem(self.blocks.pop(nid))
            self.selected.discard(nid)
        for nid, item in self.blocks.items():  # the others get theirs when first shown (`item`)
            row = st.row[nid]
            item.row = row
            item.fallback = doc.spec(row).display_name(row)
        scopes = st.scopes.entries
        for p in [p for p in self.groups if p not in scopes or not p]:
            scene.removeItem(self.groups.pop(p))
        drawn = sorted((e for p, e in scopes.items() if p), key=lambda e: (e.first, e.level))
        self.scopes = {e.path: (k, e) for k, e in enumerate(drawn)}
        for p, g in self.groups.items():  # the others get theirs when first shown (`group`)
            k, e = self.scopes[p]
            g.index, g.node, g.depth = k, self._node(e), e.level
        self._order()
        for name in [n for n in self.inputs if n not in st.used_inputs]:
            scene.removeItem(self.inputs.pop(name))
        shapes = dict(zip(doc.graph.input_names, (i.shape for i in doc.graph.inputs), strict=True))
        for name in st.used_inputs:
            item = self.inputs.get(name)
            if item is None:
                item = self.inputs[name] = InputItem(name, self.style)
                scene.addItem(item)
            item.text = f"{name}  {shape(shapes[name])}"

    def item(self, nid: str) -> LayerBlockItem:
        """The block of drawn node `nid`, made on first need (hidden until `place` shows it)."""
        item = self.blocks.get(nid)
        if item is None:
            if nid not in self.drawn:
                raise KeyError(nid)
            assert self.structure is not None
            row = self.structure.row[nid]
            item = self.blocks[nid] = LayerBlockItem(nid, row, self.style)
            item.fallback = self.document.spec(row).display_name(row)
            item.set_selected(nid in self.selected)
            self._place_block(nid, item)
            self.scene.addItem(item)
        return item

    def hierarchy(self) -> dict[str, HierarchyNode]:
        """The current report's subtotals by scope path (made once per report)."""
        report = self.document.report
        if self._hier[0] is not report:
            self._hier = (report, {h.path: h for h in report.hierarchy})
        return self._hier[1]

    def _node(self, e: ScopeEntry) -> HierarchyNode:
        """Scope `e`'s subtotal in the current report (a scope the graph does not declare has none: zeros)."""
        return self.hierarchy().get(e.path) or HierarchyNode(e.path, e.type, e.depth, e.first, e.last, Totals())

    def node_of(self, path: str) -> HierarchyNode:
        """Scope `path`'s subtotal in the current report, whether or not its frame has an item."""
        return self._node(self.scopes[path][1])

    def group(self, path: str) -> GroupFrameItem:
        """The frame of scope `path`, made on first need (placed as the last layout says: hidden unless shown)."""
        g = self.groups.get(path)
        if g is None:
            g = self._make_group(path)
            self._order()
        return g

    def all_groups(self) -> list[GroupFrameItem]:
        """Every scope's frame, in the scopes' order: those not made yet made now, then ordered once (an export
        asks for all of them; ordering after each one made was quadratic: 6 s for a 30k-node report)."""
        missing = [p for p in self.scopes if p not in self.groups]
        for path in missing:
            self._make_group(path)
        if missing:
            self._order()
        return list(self.groups.values())

    def _make_group(self, path: str) -> GroupFrameItem:
        k, e = self.scopes[path]  # (KeyError: no such scope)
        g = self.groups[path] = GroupFrameItem(k, self._node(e), self.style)
        g.depth = e.level
        g.collapsed = path not in self._expanded
        g.set_selected(g.collapsed and ScopeKey(path) in self.selected_keys)
        self._place_group(path, g)
        self.scene.addItem(g)
        return g

    def _order(self) -> None:
        """`groups` in the scopes' order (frames are painted and listed in it), in place: the colouring reads it."""
        indices = [g.index for g in self.groups.values()]
        if any(a > b for a, b in zip(indices, indices[1:], strict=False)):
            ordered = sorted(self.groups.items(), key=lambda kv: kv[1].index)
            self.groups.clear()
            self.groups.update(ordered)

    def place(self, layout: DiagramLayout, expanded: frozenset[str], dx: float, st: DiagramStructure) -> None:
        """Show and move every item to its box in `layout` (shifted by `dx`), the others hidden. Items are made for
        every box and frame, or (a layout over LAZY_ITEMS_ABOVE) only where a view paints next (`realize`)."""
        visible = layout.boxes
        self._expanded, self._layout, self._dx = expanded, layout, dx
        self.lazy = self.in_view and len(visible) + len(layout.frames) > LAZY_ITEMS_ABOVE
        self._realized = QRectF()
        if not self.lazy:
            self._make_missing(layout, None)
        self._order()
        for nid, item in self.blocks.items():
            self._place_block(nid, item)
        for path, g in self.groups.items():
            self._place_group(path, g)
        for name, item in self.inputs.items():
            b = visible.get(InputKey(name))
            item.setVisible(b is not None)
            if b is not None:
                item.setPos(b.x + dx, b.y)
        self.highlight.setPos(dx, 0)

    def _place_block(self, nid: str, item: LayerBlockItem) -> None:
        b = self._layout.boxes.get(nid) if self._layout is not None else None
        item.setVisible(b is not None)
        if b is not None:
            item.setPos(b.x + self._dx, b.y)

    def _place_group(self, path: str, g: GroupFrameItem) -> None:
        layout = self._layout
        g.setPos(self._dx, 0)
        g.collapsed = path not in self._expanded
        b = layout.boxes.get(ScopeKey(path)) if layout is not None else None
        if b is not None:
            g.set_segments([QRectF(b.x, b.y, b.w, b.h)])
            g.setZValue(1)
            g.setVisible(True)
        elif layout is not None and path in layout.frames:
            assert self.structure is not None
            g.set_segments([QRectF(s.x, s.y, s.w, s.h) for s in layout.frames[path]])
            g.setZValue(-5 + self.structure.level(path) * 0.01)
            g.setVisible(True)
        else:
            g.setVisible(False)

    def realize(self, rect: QRectF) -> bool:
        """Make the items of the boxes and open frames meeting `rect` (scene coordinates) that have none yet
        (a lazy layout: see `place`), with a margin of half the rect on every side, so that scrolling a little
        makes none. True when it made any."""
        layout = self._layout
        if layout is None or not self.lazy or self._realized.contains(rect):
            return False
        rect = rect.adjusted(-rect.width() / 2, -rect.height() / 2, rect.width() / 2, rect.height() / 2)
        self._realized = rect
        made = self._make_missing(layout, _meeting(rect, self._dx))
        if made:
            self._order()
        return made > 0

    def _make_missing(self, layout: DiagramLayout, meets: Callable[[Box], bool] | None) -> int:
        """Make the items of the layout's blocks, folded scopes and open frames that have none, those meeting a
        rectangle (`meets`; None: all of them); how many it made."""
        made = 0
        for key, b in layout.boxes.items():
            if type(key) is ScopeKey:
                if key.path not in self.groups and (meets is None or meets(b)):
                    self._make_group(key.path)
                    made += 1
            elif key in self.drawn and key not in self.blocks and (meets is None or meets(b)):
                self.item(key)  # type: ignore[arg-type]
                made += 1
        for path, segments in layout.frames.items():
            if path not in self.groups and (meets is None or any(meets(b) for b in segments)):
                self._make_group(path)
                made += 1
        return made

    def draw_background(self, painter: QPainter, rect: QRectF, dx: float,
                        labels: Callable[[EdgesItem], list[Label]] | None) -> None:
        """The open frames and every edge piece in `rect` (scene coordinates, the layout shifted by `dx`), with
        the edges' labels as `labels` gives them (None: zoomed out, none)."""
        painter.save()
        painter.translate(dx, 0)
        local = rect.translated(-dx, 0)
        theme = self.style.theme
        for g in sorted((g for g in self.groups.values() if g.isVisible() and not g.collapsed),
                        key=lambda g: g.depth):  # outer frames first: inner ones shade over them
            if g.boundingRect().intersects(local):
                g.draw_frame(painter, theme)
        for chunk in self.edge_chunks:
            if chunk.boundingRect().intersects(local):
                chunk.draw(painter, local, self.style, labels(chunk) if labels is not None and chunk.labels else None)
        painter.restore()

    def set_edges(self, layout: DiagramLayout | None, widths: list[float] | None, color: QColor,
                  horizontal: bool) -> None:
        """The layout's edges in its spatial pieces (`DiagramLayout.edge_pieces`; drawn by the scene's background,
        not items of the scene), `widths` by route."""
        pieces = layout.edge_pieces if layout is not None else []
        routes = layout.routes if layout is not None else []
        del self.edge_chunks[len(pieces):]
        while len(self.edge_chunks) < len(pieces):
            item = EdgesItem(-10)
            item.labels = True
            self.edge_chunks.append(item)
        for item, (piece, bounds) in zip(self.edge_chunks, pieces, strict=True):
            item.horizontal = horizontal
            item.set_routes([routes[k] for k in piece], color, [widths[k] for k in piece] if widths else None, bounds)

    def set_highlight(self, routes: list[Route], color: QColor, horizontal: bool) -> None:
        """The selection's edges drawn over the others."""
        keys = self.selected_keys
        routes = [r for r in routes if r.src in keys or r.dst in keys] if keys else []
        self.highlight.horizontal = horizontal
        self.highlight.set_routes(routes, color, [2.6] * len(routes))

    def select(self, rows: list[int], keys: set[BoxKey]) -> None:
        """Mark the blocks of `rows` and the folded scopes among `keys` (the boxes showing them) selected."""
        ids = {self.ids[r] for r in rows if 0 <= r < len(self.ids)} & self.drawn
        for lid in self.selected - ids:
            if lid in self.blocks:
                self.blocks[lid].set_selected(False)
        self.selected = ids  # (before `item`: a block made now starts selected)
        for lid in ids:
            self.item(lid).set_selected(True)
        for path, g in self.groups.items():
            g.set_selected(g.collapsed and ScopeKey(path) in keys)
        self.selected_keys = keys

    def blocks_in(self, layout: DiagramLayout | None, dx: float, seen: QRectF | None) -> list[LayerBlockItem]:
        """The laid-out blocks with items inside `seen` (scene coordinates; None: all of them)."""
        boxes = layout.boxes if layout is not None else {}
        # the items made, not the layout's boxes (a lazy layout's are few: a 100k-node chain's edit walked 100k
        # boxes twice, ~35 ms); plain comparisons (a QRectF per box cost 1.5 ms an edit at 5,000 nodes)
        if seen is None:
            return [item for n, item in self.blocks.items() if n in boxes]
        left, top, right, bottom = seen.left() - dx, seen.top(), seen.right() - dx, seen.bottom()
        return [item for n, item in self.blocks.items() if (b := boxes.get(n)) is not None and b.x < right
                and b.x + b.w > left and b.y < bottom and b.y + b.h > top]

    def groups_in(self, layout: DiagramLayout | None, dx: float, seen: QRectF | None) -> list[GroupFrameItem]:
        """The laid-out containers (folded boxes and open frames) inside `seen` (scene coordinates; None: every
        container)."""
        groups = self.groups
        if seen is None:
            return list(groups.values())
        if layout is None:
            return []
        meets = _meeting(seen, dx)
        boxes, frames = layout.boxes, layout.frames  # (the items made, as `blocks_in`)
        out = [g for p, g in groups.items() if (b := boxes.get(ScopeKey(p))) is not None and meets(b)]
        out += [g for p, g in groups.items() if p in frames and any(meets(b) for b in frames[p])]
        return out

    def overview(self, layout: DiagramLayout | None, dx: float, cell: tuple[float, float] | None,
                 sync: Callable[[LayerBlockItem], LayerBlockItem],
                 scope_color: Callable[[str], QColor]) -> tuple[list[QRectF], list[tuple[QRectF, QColor]]]:
        """What an overview draws, in scene coordinates (the layout shifted by `dx`): the open frames' pieces, and
        every drawn box with its current colour (`sync` brings a block not on screen up to date without a
        repaint). Rendering the scene instead called every item's paint: 0.6 s for a 5,000-node graph, after
        every edit. `cell`: the scene (width, height) of one overview pixel: of the boxes starting in one such
        cell only the first is given (a 100k-node graph's 6,666 folded layers in a 190 px minimap)."""
        frames = [QRectF(s.x + dx, s.y, s.w, s.h) for segments in (layout.frames.values() if layout else ())
                  for s in segments]  # (from the layout: a lazy one's frames need no items)
        boxes: list[tuple[QRectF, QColor]] = []
        taken: set[tuple[int, int]] = set()
        for key, b in (layout.boxes.items() if layout is not None else ()):
            if cell:
                spot = (int(b.x / cell[0]), int(b.y / cell[1]))
                if spot in taken:
                    continue
                taken.add(spot)
            if isinstance(key, ScopeKey):  # (no item needed: most of a lazy layout's have none)
                color = scope_color(key.path)
            elif isinstance(key, InputKey):
                color = self.style.theme.frame
            else:
                color = sync(self.item(key)).color if key in self.drawn else None
            if color is not None:
                boxes.append((QRectF(b.x + dx, b.y, b.w, b.h), color))
        return frames, boxes

    def show_removed(self, rows: list[tuple[str, str, str]]) -> bool:
        """The baseline's rows the current graph no longer has, as ghost blocks; True when they changed."""
        if rows == self.removed.rows:
            return False
        self.removed.set_rows(rows)
        self.removed.setVisible(bool(rows))
        return True

    def removed_rect(self, layout: DiagramLayout, dx: float, margin: float) -> QRectF:
        """The scene rect of the layout with the removed rows placed beside it."""
        rect = QRectF(dx, 0, layout.width, layout.height)
        if self.removed.rows:
            self.removed.setPos(dx + layout.width, margin)
            rect = rect.united(self.removed.sceneBoundingRect().adjusted(0, 0, margin, margin))
        return rect


def _meeting(rect: QRectF, dx: float) -> Callable[[Box], bool]:
    """Whether a layout box meets `rect` (scene coordinates; the layout shifted by `dx`), in plain comparisons."""
    left, top, right, bottom = rect.left() - dx, rect.top(), rect.right() - dx, rect.bottom()
    return lambda b: b.x < right and b.x + b.w > left and b.y < bottom and b.y + b.h > top
