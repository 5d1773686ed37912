"""`ChartBase`: what the four cost charts share — a pyqtgraph `PlotWidget` observing a `CostDocument`, following
the palette (or `set_dark` for exports), hover read-outs, and click-to-select through the shared `LayerSelection`.

Subclasses create their pyqtgraph items once (`_build`) and afterwards only call `setData`/`setOpts` on those kept
handles (`_update`); selection changes only touch a highlight item (`_show_selection`).

A chart that is hidden inside a shown window (a dock tab in the background, the charts tab not selected) does not
follow edits: it notes that it is stale and catches up when it is shown again (`showEvent`). A chart that was never
shown (exports, tests) always updates at once.
"""

from __future__ import annotations

from dataclasses import replace

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QCursor, QFont, QPaintEvent, QResizeEvent, QShowEvent, QTextOption
from PySide6.QtWidgets import QToolTip, QWidget

from netcost.costing import CostReport
from netcost.costing.records import empty_categories
from netcost.gui.charts.legend_band import LegendBand
from netcost.gui.common.cost_colors import Theme, convention_label
from netcost.gui.common.palette import palette_is_dark
from netcost.gui.document.cost_document import CostDocument


def per_bar(items: list) -> list | None:
    """A per-bar pen/brush list for BarGraphItem.setOpts, or None when empty: pyqtgraph 0.14 reads its loop
    variable after looping over an empty list (UnboundLocalError), e.g. for a document with no layers yet."""
    return items or None


def lighter(color: QColor, alpha: int = 95) -> QColor:
    """The 'params' twin of a category colour: same hue, translucent (paired with the solid FLOPs bar)."""
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class CategoryStyles:
    """Shared pen/brush objects per category: passing the same objects lets pyqtgraph reuse one rendered symbol
    per category instead of one per point (10x faster updates at 500 layers)."""

    def __init__(self) -> None:
        from netcost.gui.common.cost_colors import CATEGORY_COLORS

        self.solid = {c: pg.mkBrush(col) for c, col in CATEGORY_COLORS.items()}
        self.light = {c: pg.mkBrush(lighter(col)) for c, col in CATEGORY_COLORS.items()}
        self.edge = {c: pg.mkPen(col.darker(130), width=1) for c, col in CATEGORY_COLORS.items()}
        self.light_edge = {c: pg.mkPen(col, width=1) for c, col in CATEGORY_COLORS.items()}


class ChartBase(pg.PlotWidget):
    """Base of the four charts. `hover_text` holds the last read-out (also shown as a tooltip)."""

    title = ""
    # a chart of shares of the model's total: it draws nothing while the report is incomplete (a share of a partial
    # total is too large: 520 %), and says why
    of_total = False

    def __init__(self, document: CostDocument, parent: QWidget | None = None, dark: bool | None = None,
                 show_selection: bool = True) -> None:
        super().__init__(parent, axisItems=self._axis_items())
        self.document = document
        # False for exports: the interactive selection is the user's pointer, not part of a figure
        self.show_selection = show_selection
        self.theme = Theme.of(palette_is_dark() if dark is None else dark)
        self._follow_palette = dark is None
        self.hover_text = ""
        self.withheld_text = ""  # why the chart is empty (an incomplete report), '' while it shows its data
        self.stale = False  # document changes skipped while hidden; `showEvent` catches up
        self._selection_stale = False
        self._shown_once = False
        self._axis_labels: dict[str, tuple[str, str]] = {}
        self._report_index: dict[int, int] = {}
        self.styles = CategoryStyles()
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.plot_item.getViewBox().setMouseEnabled(False, False)  # a static chart: clicks select, never pan
        self.plot_item.showGrid(x=False, y=True, alpha=0.18)
        self.setMinimumSize(200, 150)  # four in a 2 × 2 grid fit the bottom dock of a 1024 × 768 screen
        self.legend = LegendBand()
        self.legend.setParentItem(self.plot_item)
        self._title_html = ""
        self._legend_band = -1.0
        self._build()
        self.plot_item.geometryChanged.connect(self.place_legend)
        self.scene().sigMouseMoved.connect(self._on_scene_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        d = document
        d.reportChanged.connect(self._on_document_changed)
        d.documentReset.connect(self._on_document_changed)
        d.conventionChanged.connect(self._on_document_changed)
        d.layersRemoved.connect(self._on_document_changed)  # rows vanish before the next report arrives
        d.selection.rowsChanged.connect(self._on_selection_changed)
        self.apply_theme()
        self.refresh()

    # ---- to implement ----
    def _axis_items(self) -> dict[str, pg.AxisItem] | None:
        return None

    def _build(self) -> None:
        raise NotImplementedError

    def _update(self, report: CostReport) -> None:
        raise NotImplementedError

    def _show_selection(self, indices: list[int]) -> None:
        """Highlight these report layer indices."""
        raise NotImplementedError

    def _hover(self, p: QPointF) -> str:
        """Read-out for the view point `p` ('' for nothing)."""
        return ""

    def _indices_at(self, p: QPointF) -> list[int] | None:
        """Report layer indices a click at view point `p` selects (None or []: nothing, clears)."""
        return None

    def _add_paired_bars(self, bar_width: float) -> None:
        """The FLOPs/params bar pair of the share charts, behind them a highlight bar for the selection."""
        self._highlight = pg.BarGraphItem(x=[], height=[], width=1.0, y0=0)
        self._highlight.setZValue(-5)
        self.flops_bars = pg.BarGraphItem(x=[], height=[], width=bar_width, y0=0)
        self.params_bars = pg.BarGraphItem(x=[], height=[], width=bar_width, y0=0)
        for item in (self._highlight, self.flops_bars, self.params_bars):
            self.plot_item.addItem(item)

    # ---- shared --------------------------------------------------------------------------------------------
    @property
    def flops_field(self) -> str:
        return self.document.convention

    @property
    def flops_label(self) -> str:
        return convention_label(self.document.convention)

    def refresh(self) -> None:
        """Bring every item up to date with the document (also what a stale chart does when shown)."""
        self.stale = self._selection_stale = False
        report = self.document.report
        withheld = self.of_total and not report.complete
        if withheld:  # no layers, no categories: empty bars and curves, and the reason in the plot
            report = replace(report, layers=(), by_category=empty_categories(), problems=(), hierarchy=())
        self._report_index = {id(c): i for i, c in enumerate(report.layers)}
        self._update(report)
        self._show_withheld(self.document.report.incomplete_note if withheld else "")
        self._show_selection(self._selected_indices())
        self.place_legend()

    def _show_withheld(self, note: str) -> None:
        """'Not shown: not costed (18 nodes)' in the middle of the plot while shares are withheld."""
        item = self.__dict__.get("_withheld_item")
        if not note:
            if item is not None:
                item.setVisible(False)
            self.withheld_text = ""
            return
        if item is None:
            item = self._withheld_item = pg.TextItem(anchor=(0.5, 0.5))
            item.setZValue(20)
            self.plot_item.addItem(item, ignoreBounds=True)
        self.withheld_text = f"Shares not shown: {note}\n(the total is partial until every node is costed)"
        item.setText(self.withheld_text, color=self.theme.muted)
        (x0, x1), (y0, y1) = self.plot_item.getViewBox().viewRange()
        item.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        item.setVisible(True)

    def _selected_indices(self, rows: list[int] | None = None) -> list[int]:
        if not self.show_selection:
            return []
        return self.indices_of_rows(self.document.selection.rows if rows is None else rows)

    def indices_of_rows(self, rows: list[int]) -> list[int]:
        """Positions in `report.layers` of document rows (they differ while an inserted row is still invalid)."""
        out = []
        for r in rows:
            cost = self.document.row_cost(r) if 0 <= r < self.document.row_count() else None
            i = self._report_index.get(id(cost)) if cost is not None else None
            if i is not None:
                out.append(i)
        return out

    def rows_of_indices(self, indices: list[int]) -> list[int]:
        layers = self.document.report.layers
        if self.document.row_count() == len(layers):
            return [i for i in indices if 0 <= i < len(layers)]
        wanted = {id(layers[i]) for i in indices if 0 <= i < len(layers)}
        return [r for r in range(self.document.row_count()) if id(self.document.row_cost(r)) in wanted]

    def set_dark(self, dark: bool) -> None:
        """Explicit palette (exports); the widget stops following the application palette."""
        self._follow_palette = False
        if dark != self.theme.dark:
            self.theme = Theme.of(dark)
            self.apply_theme()
            self.refresh()

    def apply_theme(self) -> None:
        t = self.theme
        self.setBackground(t.background)
        for name in ("left", "bottom", "right", "top"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(t.muted))
            axis.setTextPen(pg.mkPen(t.foreground))
            font = QFont()
            font.setPixelSize(11)
            axis.setTickFont(font)
        self.legend.setLabelTextColor(t.foreground)
        self.set_title(self.title)

    # ---- title and legend: outside the plotted data --------------------------------------------------------
    def set_title(self, text: str, detail: str = "") -> None:
        """The title, with an optional smaller second line (a narrow dock must not clip the figures in it); the
        title row grows to what the text needs."""
        more = f"<br><span style='font-size:9pt'>{detail}</span>" if detail else ""
        html = f"{text}{more}|{self.theme.foreground.name()}"
        if html == self._title_html:
            return
        self._title_html = html
        self.plot_item.setTitle(text + more, color=self.theme.foreground.name(), size="11pt")
        self._fit_title()

    def _fit_title(self) -> None:
        """The title wrapped to the chart's width: unwrapped it set the plot's minimum width, and a narrowed
        pane cut the title and the x axis title at its right edge."""
        label = self.plot_item.titleLabel
        document = label.item.document()  # the two lines centred on each other
        document.setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
        document.setTextWidth(-1)  # unwrapped first: the previous title's width would wrap a longer one
        # the title sits over the plot, right of the y axis; exports keep the title's own width
        room = self.viewport().width() - self.plot_item.getAxis("left").width() - 12 if self.isVisible() else -1
        document.setTextWidth(min(document.idealWidth(), room) if room > 60 else document.idealWidth())
        label.updateMin()
        self._fit_x_title(room)
        height = max(28.0, label.item.boundingRect().height() + 4)
        label.setMaximumHeight(height)
        self.plot_item.layout.setRowFixedHeight(0, height)
        # centred again in its box: pyqtgraph placed the text before its width was set above, and a title set
        # twice in a row (a colour-scheme switch re-themes, then redraws) was left above the box, unseen, until
        # a resize placed it again
        label.resizeEvent(None)

    def _fit_x_title(self, room: float) -> None:
        """The x axis title on two lines when one is wider than the plot (pyqtgraph centres it and cuts both
        ends)."""
        axis = self.plot_item.getAxis("bottom")
        text = axis.label.document()
        text.setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
        text.setTextWidth(-1)
        if room > 60 and text.idealWidth() > room:
            text.setTextWidth(room)
        axis._updateHeight()  # noqa: SLF001 - pyqtgraph's own update after a label change
        axis.resizeEvent()

    def place_legend(self, *args: object) -> None:
        """Make room for the legend between the title and the plot (call after changing its entries)."""
        width = self.plot_item.width() if self.plot_item.width() > 50 else float(self.width())
        band = self.legend.place(self.plot_item, width)
        if band != self._legend_band:
            self._legend_band = band
            # the plot item keeps the height it was laid out with before the band changed (2 px too tall with a
            # second legend row, which cut the x axis title): fit it to the view again once the layout settled
            QTimer.singleShot(0, self, self._fit_plot_item)  # dropped if the chart is deleted first

    def _fit_plot_item(self) -> None:
        rect = QRectF(self.viewport().rect())
        if self.plot_item.geometry() != rect and rect.height() > 50:
            self.plot_item.setGeometry(rect)

    def legend_rect(self) -> QRectF:
        """Where the legend is, in scene coordinates (empty when there is none)."""
        return self.legend.sceneBoundingRect() if self.legend.isVisible() and self.legend.items else QRectF()

    def set_axis_label(self, axis: str, text: str) -> None:
        key = (text, self.theme.foreground.name())
        if self._axis_labels.get(axis) == key:  # setLabel re-lays the axis out (~0.7 ms): only on a change
            return
        self._axis_labels[axis] = key
        self.plot_item.setLabel(axis, text, color=key[1], **{"font-size": "10pt"})
        if axis == "bottom" and self.__dict__.get("_shown_once"):
            self._fit_x_title(self.viewport().width() - self.plot_item.getAxis("left").width() - 12)

    def deferring(self) -> bool:
        """True while updates wait for the chart to be shown: hidden, though it (or its window) is on screen.

        A dock in a background tab stays `isVisible()` with an empty visible region, so both are checked; it
        catches up in `paintEvent` when its tab is raised (no showEvent comes then)."""
        if self.isVisible() and not self.viewport().visibleRegion().isEmpty():
            return False
        return self._shown_once or self.window().isVisible()

    def paintEvent(self, event: QPaintEvent) -> None:  # type: ignore[override]
        if self.stale or self._selection_stale:
            # a background tab was raised: bring items up to date, then paint them (one more pass)
            QTimer.singleShot(0, self._catch_up)
        super().paintEvent(event)

    def _catch_up(self) -> None:
        if self.stale:
            self.refresh()
        elif self._selection_stale:
            self._selection_stale = False
            self._show_selection(self._selected_indices())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        # once shown: a resize while the chart is being built comes before its state is
        if self.__dict__.get("_shown_once") and event.size().width() != event.oldSize().width() and \
                not self.__dict__.get("closed"):
            self._fit_title()
            self._fit_plot_item()  # laid out above with the unwrapped title's minimum width

    def showEvent(self, event: QShowEvent) -> None:
        self._shown_once = True
        if self.stale:
            self.refresh()
        elif self._selection_stale:
            self._selection_stale = False
            self._show_selection(self._selected_indices())
        super().showEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if getattr(self, "_follow_palette", False) and event.type() in (QEvent.Type.PaletteChange,
                                                     QEvent.Type.ApplicationPaletteChange):
            dark = palette_is_dark(self.palette())
            if dark != self.theme.dark:
                self.theme = Theme.of(dark)
                self.apply_theme()
                self.refresh()
        super().changeEvent(event)

    def _on_document_changed(self, *args: object) -> None:
        if self.deferring():
            self.stale = True
            return
        self.refresh()

    def _on_selection_changed(self, rows: list[int], source: object) -> None:
        if self.stale:
            return  # the refresh when shown applies the selection too
        if self.deferring():
            self._selection_stale = True
            return
        self._show_selection(self._selected_indices(rows))

    def _on_scene_moved(self, pos: QPointF) -> None:
        vb = self.plot_item.getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            self.hover_text = ""
            QToolTip.hideText()
            return
        text = self._hover(vb.mapSceneToView(pos))
        if text != self.hover_text:
            self.hover_text = text
            if text:
                QToolTip.showText(QCursor.pos(), text, self)
            else:
                QToolTip.hideText()

    def _on_scene_clicked(self, event: object) -> None:
        vb = self.plot_item.getViewBox()
        pos = event.scenePos()  # type: ignore[attr-defined]
        if not vb.sceneBoundingRect().contains(pos):
            return
        indices = self._indices_at(vb.mapSceneToView(pos))
        self.document.selection.set_rows(self.rows_of_indices(indices or []), self)
