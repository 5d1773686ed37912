"""The window's Export menu entries for images (Report…, Diagram…, each chart…) and the views' context menus.

`install_export_menu(window, export_menu, document)` is called by the main window (see `view_slots.EXPORT_HOOK`).
Everything here only collects a file name and options and calls `netcost.gui.report.exporters`; the exporters never ask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, QTimer
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from netcost.gui.common.palette import palette_is_dark
from netcost.gui.diagram.layout import Orientation
from netcost.gui.document import training_scope_menu
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.exporters import FORMATS, ExportError, ExportResult, export_chart, export_diagram
from netcost.gui.report.views import CHARTS

AskPath = Callable[[str, str, str], str]
IMAGE_FILTER = "PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf)"
_CHART_OF_CLASS = {"LayerShareChart": "layer_share", "CategoryShareChart": "category_share",
                   "ParamsFlopsScatter": "scatter", "CumulativeShareChart": "cumulative"}


def _stem(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_.") or "netcost"


def _ask_path(window: QWidget) -> AskPath:
    """The window's own save-file prompt (remembers the last folder) when it has one."""
    ask = getattr(window, "ask_save_path", None)
    if callable(ask):
        return ask  # type: ignore[no-any-return]

    def ask_plain(title: str, suggestion: str, filter_: str) -> str:
        return QFileDialog.getSaveFileName(window, title, suggestion, filter_)[0]

    return ask_plain


def _with_suffix(path: str, selected_default: str = "png") -> str:
    return path if Path(path).suffix.lower().lstrip(".") in FORMATS else f"{path}.{selected_default}"


def _done(window: QWidget, result: ExportResult | None, error: str = "") -> None:
    if error:
        show = getattr(window, "show_message", None)
        if callable(show):
            show(error)
        return
    bar = getattr(window, "statusBar", None)
    if result is not None and callable(bar):
        bar().showMessage(f"Exported {result.path}", 4000)


def ask_and_export(widget: QWidget, title: str, what: str, name: str,
                   export: Callable[[str], ExportResult]) -> ExportResult | None:
    """Ask for an image file (`NAME-WHAT.png` suggested), `export` to it, and say where it went or why not (a
    view's Export… button)."""
    window = widget.window()
    path = _ask_path(window)(title, f"{_stem(name)}-{what}.png", IMAGE_FILTER)
    if not path:
        return None
    try:
        result = export(_with_suffix(path))
    except ExportError as e:
        _done(window, None, str(e))
        return None
    _done(window, result)
    return result


class ExportMenu(QObject):
    """The actions installed into the Export menu, kept for the window's lifetime (and for tests)."""

    def __init__(self, window: QWidget, menu: QMenu, document: CostDocument) -> None:
        super().__init__(window)
        self.window, self.document = window, document
        self.ask_path = _ask_path(window)
        self.report_action = QAction("&Report…", self)
        self.report_action.setStatusTip("The whole report (totals, diagram, charts, top layers) as PNG, SVG or PDF")
        self.report_action.setShortcut("Ctrl+Shift+E")
        self.report_action.triggered.connect(self.export_report)
        self.diagram_action = QAction("&Diagram…", self)
        self.diagram_action.setStatusTip("The whole block diagram with its colour bar as PNG, SVG or PDF")
        self.diagram_action.triggered.connect(lambda: self.export_diagram())
        # exported figures show the model, not where the user happened to click, unless asked
        self.selection_action = QAction("Include the current &selection", self)
        self.selection_action.setCheckable(True)
        self.selection_action.setStatusTip("Draw the selected layers' highlight into exported diagrams and charts")
        menu.addSeparator()
        menu.addAction(self.report_action)
        menu.addAction(self.diagram_action)
        charts = menu.addMenu("C&hart")
        self.chart_actions: dict[str, QAction] = {}
        for key, title in CHARTS.items():
            act = QAction(f"{title[0].upper()}{title[1:]}…", self)
            act.triggered.connect(lambda *_, k=key: self.export_chart(k))
            charts.addAction(act)
            self.chart_actions[key] = act
        menu.addAction(self.selection_action)
        self._filters: list[ViewContextMenu] = []
        self.install_view_menus()
        QTimer.singleShot(0, self.install_view_menus)  # views built right after the menus

    # ---- actions ------------------------------------------------------------------------------------------
    def export_report(self) -> None:
        from netcost.gui.report.report_preview import ReportPreviewDialog

        scene = getattr(self._find_view("DiagramView"), "scene", None)
        dialog = ReportPreviewDialog(self.document, self.ask_path, self.window, _stem(self.document.name),
                                     getattr(scene, "orientation", Orientation.TOP_DOWN))
        dialog.selection_box.setChecked(self.selection_action.isChecked())
        dialog.finished.connect(lambda *_: _done(self.window, dialog.result_, dialog.error))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def export_diagram(self, view: QWidget | None = None) -> ExportResult | None:
        """The diagram as `view` shows it (metric, width encoding, folding, palette) or the window's."""
        path = self.ask_path("Export diagram", f"{_stem(self.document.name)}-diagram.png", IMAGE_FILTER)
        if not path:
            return None
        view = view or self._find_view("DiagramView")
        scene = getattr(view, "scene", None)
        kwargs: dict[str, object] = {"dark": palette_is_dark(view.palette()) if view else palette_is_dark(),
                                     "include_selection": self.selection_action.isChecked()}
        if scene is not None and hasattr(scene, "groups"):
            kwargs.update(metric=scene.metric, width_metric=scene.width_metric, log_scale=scene.log_scale,
                          scale_mode=getattr(scene, "scale_mode", None),
                          collapsed={g.node.path for g in scene.groups() if g.collapsed}, dark=scene.theme.dark,
                          orientation=scene.orientation)
        try:
            result = export_diagram(self.document, _with_suffix(path), **kwargs)  # type: ignore[arg-type]
        except ExportError as e:
            _done(self.window, None, str(e))
            return None
        _done(self.window, result)
        return result

    def export_chart(self, chart: str, view: QWidget | None = None) -> ExportResult | None:
        """One chart at the size and in the palette it has on screen (640 × 420 when it is not shown)."""
        path = self.ask_path(f"Export {CHARTS[chart]} chart", f"{_stem(self.document.name)}-{chart}.png",
                             IMAGE_FILTER)
        if not path:
            return None
        view = view or self._find_view(next(c for c, k in _CHART_OF_CLASS.items() if k == chart))
        size = None
        dark = palette_is_dark()
        if view is not None:
            from PySide6.QtCore import QSizeF

            if view.isVisible() and view.width() >= 200:
                size = QSizeF(view.width(), view.height())
            dark = getattr(getattr(view, "theme", None), "dark", dark)
        try:
            result = export_chart(self.document, chart, _with_suffix(path), dark=dark, size=size,
                                  include_selection=self.selection_action.isChecked())
        except ExportError as e:
            _done(self.window, None, str(e))
            return None
        _done(self.window, result)
        return result

    # ---- context menus on the views -----------------------------------------------------------------------
    def _find_view(self, class_name: str) -> QWidget | None:
        return next((w for w in self.window.findChildren(QWidget) if type(w).__name__ == class_name), None)

    def install_view_menus(self) -> None:
        """Add "Export … as PNG/SVG/PDF…" to the diagram's and each chart's context menu (once per view)."""
        done = {f.view for f in self._filters}
        for widget in self.window.findChildren(QWidget):
            name = type(widget).__name__
            if widget in done:
                continue
            if name == "DiagramView" and hasattr(widget, "view"):
                target = widget.view.viewport()
                self._filters.append(ViewContextMenu(widget, target, "Export diagram…",
                                                     lambda w=widget: self.export_diagram(w),
                                                     widget.view.context_menu_at))  # + freeze / checkpoint
            elif name in _CHART_OF_CLASS and hasattr(widget, "viewport"):
                key = _CHART_OF_CLASS[name]
                self._filters.append(ViewContextMenu(widget, widget.viewport(), f"Export {CHARTS[key]} chart…",
                                                     lambda w=widget, k=key: self.export_chart(k, w)))


class ViewContextMenu(QObject):
    """An event filter giving a view (its viewport) a context menu with one export entry, after the view's own
    entries for the point clicked (`entries`: the diagram's freeze / checkpoint of the scope there)."""

    def __init__(self, view: QWidget, target: QWidget, text: str, run: Callable[[], object],
                 entries: Callable[[QPoint], QMenu | None] | None = None) -> None:
        super().__init__(view)
        self.view, self.text, self.run, self.entries = view, text, run, entries
        target.installEventFilter(self)

    def menu(self, pos: QPoint | None = None) -> QMenu:
        menu = self.entries(pos) if self.entries is not None and pos is not None else None
        if menu is None:
            menu = QMenu(self.view)
        else:
            menu.addSeparator()
        menu.addAction(self.text).triggered.connect(lambda *_: self.run())
        return menu

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent):
            menu = self.menu(event.pos())
            training_scope_menu.popup(menu, event.globalPos())  # (a module attribute: tests read the menu)
            menu.deleteLater()
            return True
        return False


def install_export_menu(window: QWidget, export_menu: QMenu, document: CostDocument) -> ExportMenu:
    """Called by the main window: Report…, Diagram… and Chart ▸ entries plus the views' context menus."""
    return ExportMenu(window, export_menu, document)
