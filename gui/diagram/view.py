"""`DiagramView`: the dataflow diagram widget — a toolbar (metric, scale, width encoding, fit, collapse, find), the
zoomable `QGraphicsView` over a `DiagramScene` with an overview minimap, and a colour bar legend with the scale and
units.

Opening a model (and F, 0 or Fit) fits the diagram across the flow at a zoom where every label reads in full,
starting where the flow starts (the top, or the left edge when the flow runs left to right); Shift+F shows the
whole diagram however small. The flow's direction is a view setting, remembered and used by the diagram export.

Navigation: wheel zooms at the cursor, drag pans; Up/Down (or Alt+Up/Down) move the selection to a
predecessor/successor along the edges, Left/Right to the box beside it, Home/End/PageUp/PageDown in execution
order; Enter or double-click folds/unfolds a scope; Ctrl+F finds a layer. A node selected elsewhere (table, module
tree) is revealed: its scopes open and the view centres on it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSettings, Qt, QTimer
from PySide6.QtGui import (
    QContextMenuEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsView,
    QLabel,
    QMenu,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import CONVENTIONS
from netcost.gui.common.cost_colors import METRICS, SCALES, TRAINING_METRICS, palette_is_dark
from netcost.gui.common.flow_layout import FlowLayout
from netcost.gui.diagram.blocks import GroupFrameItem, InputItem, LayerBlockItem
from netcost.gui.diagram.color_bar import ColorBarWidget
from netcost.gui.diagram.find import DiagramFindWidget
from netcost.gui.diagram.keys import BoxKey
from netcost.gui.diagram.layout import Orientation
from netcost.gui.diagram.minimap import DiagramMinimapWidget
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document import training_scope_menu
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.training_scope_menu import scope_menu
from netcost.gui.document.training_state import Mode, TrainingState

ORIENTATION_KEY = "diagram/orientation"
_ORIENTATION_CHOICES = ((Orientation.TOP_DOWN, "Flow ↓ top to bottom"),
                        (Orientation.LEFT_RIGHT, "Flow → left to right"))


def saved_orientation() -> Orientation:
    """The diagram's flow direction the user chose last (top to bottom until one is chosen)."""
    value = QSettings().value(ORIENTATION_KEY, Orientation.TOP_DOWN.value)
    try:
        return Orientation(str(value))
    except ValueError:
        return Orientation.TOP_DOWN


_WIDTH_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("uniform", None), ("width = params", "params"), ("width = FLOPs", "flops"), ("width = MACs", "macs"),
    ("width = memory access", "memory"),
    *((f"width = {METRICS[k].name.lower()}", k) for k in TRAINING_METRICS),  # shown in Training mode
)



class DiagramGraphicsView(QGraphicsView):
    """Wheel zoom at the cursor, drag to pan, click to select, keys to move along edges, lazy tooltips."""

    MIN_SCALE, MAX_SCALE = 0.01, 4.0
    # the opening zoom: never below READABLE (the blocks keep every label line, 11 px text at >= 8 px) unless the
    # whole diagram fits above it, never above COMFORTABLE (a tiny model is not blown up)
    READABLE, COMFORTABLE = 0.75, 1.0

    def __init__(self, scene: DiagramScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.diagram = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # the edges (see DiagramScene.drawBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._press: QPoint | None = None
        self._fitted = True  # refit on resize until the user zooms
        self._reshape = QTimer(self)
        self._reshape.setSingleShot(True)
        self._reshape.setInterval(120)
        self._reshape.timeout.connect(self._on_reshape_timeout)
        self.find_requested: Callable[[], None] | None = None
        self.minimap = DiagramMinimapWidget(self)
        self.horizontalScrollBar().valueChanged.connect(self.minimap.sync)
        self.verticalScrollBar().valueChanged.connect(self.minimap.sync)
        scene.layoutChanged.connect(self.minimap.invalidate)
        # recoloured once edits pause (rendering the whole scene on every edit would cost more than the edit)
        self._minimap_timer = QTimer(self)
        self._minimap_timer.setSingleShot(True)
        self._minimap_timer.setInterval(400)
        self._minimap_timer.timeout.connect(lambda: self.minimap.isVisible() and self.minimap.invalidate())
        scene.document.reportChanged.connect(lambda *_: self._minimap_timer.start())

    def zoom(self) -> float:
        return self.transform().m11()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        # items draw what they were given: the scene brings those about to be painted up to date first
        self.diagram.prepare(self.mapToScene(event.rect()).boundingRect(), abs(self.zoom()))
        super().paintEvent(event)

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.zoom() * factor, self.MIN_SCALE), self.MAX_SCALE)
        self.scale(target / self.zoom(), target / self.zoom())
        self._fitted = False
        self.minimap.sync()

    def fit(self) -> None:
        """A diagram that fits the view whole at a readable zoom is shown whole, centred; a longer one fitted
        across the flow (its width, top to bottom) at a readable zoom, from where the flow starts, beside the
        minimap's corner (not under it) when the diagram would otherwise run beneath it."""
        rect = self.diagram.sceneRect()
        view = self.viewport().rect()
        if rect.isEmpty() or view.width() < 2 or view.height() < 2:
            return
        margin = 4.0
        vw, vh = view.width() - margin, view.height() - margin
        self._fit_into(rect, vw, vh, vw, vh)
        mm = self.minimap
        if self._under_minimap():  # leave the overview's corner free: fit beside it (or above it, left to right)
            corner = QRectF(mm.geometry()).translated(-self.viewport().x(), -self.viewport().y())
            if self.diagram.orientation.horizontal:
                self._fit_into(rect, vw, vh, vw, corner.top() - 6)
            else:
                self._fit_into(rect, vw, vh, corner.left() - 6, vh)
            if self._under_minimap():  # no room beside it at a readable zoom: hidden until the view moves
                self._fit_into(rect, vw, vh, vw, vh)
                mm.hold_hidden()
        self._fitted = True

    def _under_minimap(self) -> bool:
        """Whether the shown minimap covers a box or an edge of the diagram."""
        mm = self.minimap
        if not mm.isVisible():
            return False
        corner = mm.geometry().adjusted(-4, -4, 4, 4).translated(-self.viewport().pos())
        return self.diagram.covers(self.mapToScene(corner).boundingRect())

    def _fit_into(self, rect: QRectF, vw: float, vh: float, uw: float, uh: float) -> None:
        """Zoom and centre for `fit` in a vw x vh view whose top-left uw x uh part the diagram may use."""
        horizontal = self.diagram.orientation.horizontal
        whole = min(vw / rect.width(), vh / rect.height())
        across = uh / rect.height() if horizontal else uw / rect.width()
        # too long to show whole and readable: fitted across the flow, between the readable zoom (a graph wider
        # than the view even then is not shrunk further) and 100 % (narrow blocks keep their labels whole)
        zoom = min(whole, self.COMFORTABLE) if whole >= self.READABLE else \
            min(max(across, self.READABLE), self.COMFORTABLE)
        self.resetTransform()
        self.scale(zoom, zoom)
        # the view's centre, in scene units, that puts the middle of the usable part over the diagram's
        sx, sy = (vw - uw) / 2 / zoom, (vh - uh) / 2 / zoom
        if whole >= self.READABLE:
            self.centerOn(rect.center())
        elif horizontal:  # the left edge (where the flow starts), centred vertically if it fits
            self.centerOn(QPointF(rect.left() + vw / zoom / 2, rect.center().y() + sy
                                  if rect.height() * zoom <= uh else rect.top() + vh / zoom / 2))
        else:  # the top, centred across if it fits
            self.centerOn(QPointF(rect.center().x() + sx if rect.width() * zoom <= uw else rect.left() + vw / zoom / 2,
                                  rect.top() + vh / zoom / 2))
        self.minimap.sync()

    def fit_all(self) -> None:
        """The whole diagram in the view, however small (an overview)."""
        rect = self.diagram.sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > self.COMFORTABLE:
            self.resetTransform()
            self.scale(self.COMFORTABLE, self.COMFORTABLE)
            self.centerOn(rect.center())
        self._fitted = False  # a resize keeps this zoom
        self.minimap.sync()

    def resizeEvent(self, event: QEvent) -> None:  # type: ignore[override]
        super().resizeEvent(event)
        if self._fitted:
            self._reshape.start()  # settle first: a relayout per pixel of a drag would be wasted work
            self.fit()
        self.minimap.sync()

    def _on_reshape_timeout(self) -> None:
        size = self.viewport().size()
        if self._fitted and size.height() > 40 and size.width() > 40:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.2 ** steps)  # AnchorUnderMouse: the point under the cursor stays put
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self._press is not None and (event.position().toPoint() - self._press).manhattanLength() < 5:
            self._click(event.position().toPoint(), event.modifiers())
        self._press = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self._item_at(event.position().toPoint())
        if isinstance(item, GroupFrameItem):
            self.diagram.toggle_collapsed(item.node.path)
        event.accept()

    def _item_at(self, pos: QPoint) -> LayerBlockItem | GroupFrameItem | InputItem | None:
        for item in self.items(pos):
            if isinstance(item, (LayerBlockItem, GroupFrameItem, InputItem)) and item.isVisible():
                return item
        return None

    def _click(self, pos: QPoint, modifiers: Qt.KeyboardModifier) -> None:
        selection = self.diagram.document.selection
        item = self._item_at(pos)
        if isinstance(item, GroupFrameItem) and not item.collapsed:
            self.diagram.toggle_collapsed(item.node.path)  # the header of an expanded frame folds it
            return
        if item is None or isinstance(item, InputItem):
            if not modifiers & Qt.KeyboardModifier.ControlModifier:
                selection.clear(self)
            return
        rows = self.diagram.navigation.rows_of_key(self.diagram.key_of_item(item))
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            current = set(selection.rows)
            rows = sorted(current - set(rows)) if set(rows) <= current else sorted(current | set(rows))
        selection.set_rows(rows, self)

    def select_key(self, key: BoxKey) -> None:
        rows = self.diagram.navigation.rows_of_key(key)
        if rows:
            self.diagram.document.selection.set_rows(rows, self)
            self.ensureVisible(self.diagram.unit_rect(rows[0]), 60, 60)

    def _current_key(self) -> BoxKey | None:
        current = self.diagram.document.selection.current
        return None if current is None else self.diagram.navigation.key_for_row(current)

    def _step_along_edges(self, forward: bool) -> bool:
        key = self._current_key()
        if key is None:
            return False
        near = self.diagram.navigation.neighbours(key, forward)
        if not near:
            return True
        boxes = self.diagram.layout.boxes if self.diagram.layout else {}
        here = boxes[key].cx if key in boxes else 0.0
        self.select_key(min(near, key=lambda k: abs(boxes[k].cx - here) if k in boxes else 0.0))
        return True

    def _step_sideways(self, direction: int) -> bool:
        """The nearest box to the left or right that overlaps the current one's rows."""
        key = self._current_key()
        boxes = self.diagram.layout.boxes if self.diagram.layout else {}
        if key is None or key not in boxes:
            return False
        b = boxes[key]
        side = [k for k, o in boxes.items() if k != key and o.y < b.bottom and o.bottom > b.y
                and (o.cx - b.cx) * direction > 0]
        if side:
            self.select_key(min(side, key=lambda k: abs(boxes[k].cx - b.cx)))
        return True

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt)
        menu = self.context_menu_at(event.pos())
        if menu is not None:
            training_scope_menu.popup(menu, event.globalPos())  # (a module attribute: tests read the menu)

    def context_menu_at(self, pos: QPoint) -> QMenu | None:
        """Freeze or checkpoint, for training, the scope under `pos`: a frame's, or a block's module."""
        item = self._item_at(pos)
        if isinstance(item, GroupFrameItem):
            path = item.node.path
        elif isinstance(item, LayerBlockItem):
            node = self.diagram.document.graph.node(item.layer_id)
            path = node.module or node.display_name
        else:
            return None
        return scope_menu(TrainingState.of(self.diagram.document), path, self)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        doc = self.diagram.document
        n = doc.row_count()
        current = doc.selection.current
        if event.matches(QKeySequence.StandardKey.Find) and self.find_requested is not None:
            self.find_requested()  # (the window's shortcut map delivers it here when the view has focus)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and n and current is not None:
            self._step_along_edges(key == Qt.Key.Key_Down)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and n and current is not None:
            self._step_sideways(1 if key == Qt.Key.Key_Right else -1)
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Right, Qt.Key.Key_Left) and n:
            self._select_row(0)
        elif key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp) and n:
            step = 10 if key == Qt.Key.Key_PageDown else -10
            self._select_row(0 if current is None else min(max(current + step, 0), n - 1))
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End) and n:
            self._select_row(0 if key == Qt.Key.Key_Home else n - 1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key.Key_F and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.fit_all()
        elif key in (Qt.Key.Key_F, Qt.Key.Key_0) and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.fit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and current is not None:
            item = self.diagram._visible_item_for(current)
            if isinstance(item, GroupFrameItem):
                self.diagram.toggle_collapsed(item.node.path)
        else:
            super().keyPressEvent(event)

    def _select_row(self, row: int) -> None:
        """Select `row` in execution order, opening its scopes (keys that walk rows, not edges)."""
        self.diagram.reveal(row)
        self.diagram.document.selection.set_rows([row], self)
        self.ensureVisible(self.diagram.unit_rect(row), 60, 60)

    def show_row(self, row: int, reveal: bool = True) -> None:
        """Reveal `row` (open its scopes; not without `reveal`: the box that holds it) and centre the view on it
        (find, a selection made elsewhere)."""
        if reveal:
            self.diagram.reveal(row)
        rect = self.diagram.unit_rect(row)
        if rect.isEmpty():
            return
        if self.zoom() < 0.5:  # too small to read: zoom in on it
            self.resetTransform()
            self.scale(0.8, 0.8)
            self._fitted = False
        self.centerOn(rect.center())
        self.minimap.sync()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()  # type: ignore[attr-defined]
            item = self._item_at(pos)
            if item is not None:
                QToolTip.showText(event.globalPos(), self.diagram.tooltip_html(item), self)  # type: ignore
                return True
            route = self.diagram.edge_at(self.mapToScene(pos), 6 / max(self.zoom(), 1e-3))
            if route is not None:
                QToolTip.showText(event.globalPos(), self.diagram.tooltips.edge_tooltip(route), self)  # type: ignore
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


class DiagramView(QWidget):
    """The diagram tab of the main window: `DiagramView(document, parent)`."""

    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scene = DiagramScene(document, self, orientation=saved_orientation(), in_view=True)
        self.view = DiagramGraphicsView(self.scene, self)
        self.color_bar = ColorBarWidget(self.scene, self)
        self.find_bar = DiagramFindWidget(self.scene.navigation.find, self._on_find_bar_go, self)

        self.metric_box = QComboBox(self)
        for key, m in METRICS.items():
            self.metric_box.addItem(m.name, key)
        self.metric_box.setToolTip("Colour blocks by this metric (FLOPs follow the document's convention)")
        self.scale_box = QComboBox(self)
        for key, text in SCALES.items():
            self.scale_box.addItem(text, key)
        self.scale_box.setCurrentIndex(self.scale_box.findData(self.scene.scale_mode))
        self.scale_box.setToolTip("Linear: colour proportional to cost (the heavy layers stand out)\n"
                                  "Log: every decade its own band (tells the cheap layers apart)\n"
                                  "Cumulative share: the top colours mark the layers that together hold most of "
                                  "the total")
        self.width_box = QComboBox(self)
        for text, key in _WIDTH_CHOICES:
            self.width_box.addItem(text, key)
        self.width_box.setCurrentIndex(1)
        self.width_box.setToolTip("Block width encodes a second metric (half width = 0, full width = the largest)")
        fit = QToolButton(self)
        fit.setText("Fit")
        fit.setToolTip("Fit the diagram's width at a readable zoom, from the top (F); the whole diagram: Shift+F")
        fit.clicked.connect(self.view.fit)
        self.orientation_box = QComboBox(self)
        for value, text in _ORIENTATION_CHOICES:
            self.orientation_box.addItem(text, value.value)
        self.orientation_box.setCurrentIndex(self.orientation_box.findData(self.scene.orientation.value))
        self.orientation_box.setToolTip("Which way the data flows: top to bottom (one column), or left to right "
                                        "for wide screens (remembered; the diagram export follows it)")
        self.collapse_button = QToolButton(self)
        self.collapse_button.setText("Collapse")
        self.collapse_button.setToolTip("Fold every scope into one block showing its subtotal")
        self.collapse_button.clicked.connect(lambda: self._collapse(0))
        self.expand_button = QToolButton(self)
        self.expand_button.setText("Expand")
        self.expand_button.setToolTip("Unfold every scope")
        self.expand_button.clicked.connect(lambda: self._collapse(None))
        find = QToolButton(self)
        find.setText("Find")
        find.setToolTip("Find a layer by name or type (Ctrl+F)")
        find.clicked.connect(self.find_bar.open)
        shortcut = QShortcut(QKeySequence.StandardKey.Find, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.setWhatsThis("Diagram: Find a layer by name or type")  # Help ▸ Keyboard shortcuts lists it
        shortcut.activated.connect(self.find_bar.open)
        self.view.find_requested = self.find_bar.open

        bar = FlowLayout()  # wraps in a narrow dock (a 1280 px screen)
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(QLabel("Colour:", self))
        bar.addWidget(self.metric_box)
        bar.addWidget(self.scale_box)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Block", self))
        bar.addWidget(self.width_box)
        bar.addSpacing(12)
        bar.addWidget(fit)
        bar.addWidget(self.orientation_box)
        bar.addWidget(self.collapse_button)
        bar.addWidget(self.expand_button)
        bar.addWidget(find)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.color_bar)

        self.metric_box.currentIndexChanged.connect(lambda: self.scene.set_metric(self.metric_box.currentData()))
        self.scale_box.currentIndexChanged.connect(lambda: self.scene.set_scale_mode(self.scale_box.currentData()))
        self.width_box.currentIndexChanged.connect(
            lambda: self.scene.set_width_metric(self.width_box.currentData()))
        self.orientation_box.currentIndexChanged.connect(
            lambda: self.set_orientation(Orientation(self.orientation_box.currentData())))
        self.width_box.setEnabled(not self.scene.orientation.horizontal)
        document.documentReset.connect(self._on_document_reset)
        document.conventionChanged.connect(self._on_document_convention_changed)
        document.selection.rowsChanged.connect(self._on_selection_changed)
        self._on_document_convention_changed(document.convention)
        TrainingState.of(document).modeChanged.connect(self._show_training_metrics)
        self._show_training_metrics(TrainingState.of(document).mode)
        self._on_document_reset()

    def set_orientation(self, orientation: Orientation) -> None:
        """Lay the flow out top to bottom or left to right, remember the choice and fit the view again."""
        QSettings().setValue(ORIENTATION_KEY, orientation.value)
        self.orientation_box.setCurrentIndex(self.orientation_box.findData(orientation.value))
        self.width_box.setEnabled(not orientation.horizontal)  # (see DiagramScene.refresh)
        if orientation is not self.scene.orientation:
            self.scene.set_orientation(orientation)
            self.view.fit()

    def _collapse(self, depth: int | None) -> None:
        self.scene.collapse_to_depth(depth)
        self.view.fit()

    def set_dark(self, dark: bool) -> None:
        self.scene.set_dark(dark)
        self.color_bar.update()
        self.view.minimap.invalidate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.set_dark(palette_is_dark(self.palette()))
        super().changeEvent(event)

    def _on_document_reset(self) -> None:
        has_groups = bool(self.scene.placement.scopes)  # (not `groups()`: it makes and labels every frame)
        self.collapse_button.setVisible(has_groups)
        self.expand_button.setVisible(has_groups)
        self.view.fit()

    def _on_document_convention_changed(self, convention: str) -> None:
        """The FLOPs entry reads as the convention counts ('MACs', 'thop flops'); the MACs entry would then say
        the same twice under the MACs convention, so it steps aside."""
        c = CONVENTIONS[convention]
        self.metric_box.setItemText(self.metric_box.findData("flops"), c.label)
        macs = self.metric_box.findData("macs")
        same = convention == "macs"
        if same and self.metric_box.currentIndex() == macs:
            self.metric_box.setCurrentIndex(self.metric_box.findData("flops"))
        view = self.metric_box.view()
        if hasattr(view, "setRowHidden"):
            view.setRowHidden(macs, same)
        self.color_bar.update()

    def _show_training_metrics(self, mode: Mode) -> None:
        """Backward FLOPs, saved activations and training memory are choices in Training mode only; leaving it
        while one is chosen goes back to FLOPs (colour) and params (width)."""
        training = mode is Mode.TRAINING
        for box, fallback in ((self.metric_box, "flops"), (self.width_box, "params")):
            if not training and box.currentData() in TRAINING_METRICS:
                box.setCurrentIndex(box.findData(fallback))
            view = box.view()
            if hasattr(view, "setRowHidden"):
                for key in TRAINING_METRICS:
                    view.setRowHidden(box.findData(key), not training)

    def _reveal_is_quick(self, row: int) -> bool:
        """Whether showing `row`'s own block lays out nothing new of a large graph: a new layout of a 100k-node
        graph's 6,667 layers is ~150-300 ms of one pass, so a row chosen elsewhere (the table, an edit) is shown as
        the folded block that holds it (a double-click, the find bar or the arrow keys open it). The first row's
        layout was made ahead, by the loading thread."""
        scene = self.scene
        need = scene.navigation.scopes_to_reveal(row)
        return not need or not scene.placement.lazy or scene.layouter is None or \
            scene.layouter.has_layout((scene.state.expanded or frozenset()) | need)

    def _on_find_bar_go(self, row: int) -> None:
        self.document.selection.set_rows([row], self.view)
        self.view.show_row(row)

    def _on_selection_changed(self, rows: list[int], source: object) -> None:
        if source is self.view or not rows or rows[0] >= self.document.row_count():
            return
        if len(rows) == 1:  # a node chosen in the table or the module tree: open its scopes, centre on it
            self.view.show_row(rows[0], reveal=self._reveal_is_quick(rows[0]))
        else:
            self.view.ensureVisible(self.scene.unit_rect(rows[0]), 40, 40)
