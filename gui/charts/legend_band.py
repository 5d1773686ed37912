"""`LegendBand`: a chart legend laid out in a band of its own between the title and the plot, never over the data.

pyqtgraph's `LegendItem` floats inside the view box, where it covered bars and points (and, at 1280 x 800, was
cut at the chart's edge). Here it is a row (or, where the chart is narrow, a few rows) of compact swatches that the
plot item's layout makes room for, so the plotted area shrinks instead of being covered.
"""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent

SWATCH = 14.0  # px: a legend sample, smaller than pyqtgraph's 20 px so two rows fit a 200 px high chart
LEGEND_ROW = 1  # the plot item's layout row between the title (0) and the view box (2): the unused top axis


class Swatch(pg.ItemSample):
    """A small sample of a bar, a point or a line; a click does nothing (pyqtgraph's hides the plotted item)."""

    def __init__(self, item: QGraphicsItem) -> None:
        super().__init__(item)
        self.setFixedWidth(SWATCH)
        self.setFixedHeight(SWATCH)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, SWATCH, SWATCH)

    def paint(self, p: QPainter, *args: object) -> None:
        item, opts = self.item, self.item.opts
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        mid = SWATCH / 2
        if isinstance(item, pg.BarGraphItem):
            p.setPen(pg.mkPen(opts.get("pen")) if opts.get("pen") is not None else pg.mkPen(None))
            p.setBrush(pg.mkBrush(opts["brush"]))
            p.drawRect(QRectF(1.5, 1.5, SWATCH - 3, SWATCH - 3))
            return
        if isinstance(item, pg.PlotDataItem):
            p.setPen(pg.mkPen(opts["pen"]))
            p.drawLine(QPointF(0, mid), QPointF(SWATCH, mid))
            opts = item.scatter.opts if opts.get("symbol") is not None else {}
        if opts.get("symbol") is not None:
            p.translate(mid, mid)
            drawSymbol(p, opts["symbol"], min(float(opts["size"]), SWATCH - 4), pg.mkPen(opts["pen"]),
                       pg.mkBrush(opts["brush"]))

    def mouseClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # type: ignore[override]
        event.ignore()


class LegendBand(pg.LegendItem):
    """Compact legend entries that `place` puts into the plot item's legend row."""

    def __init__(self) -> None:
        super().__init__(labelTextSize="9pt", horSpacing=3, verSpacing=0, frame=False, sampleType=Swatch)
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.setHorizontalSpacing(3)
        # laid out in the plot item's pixels like the title, so it scales with the rest in an export
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)

    def addItem(self, item: QGraphicsItem, name: str) -> None:
        super().addItem(item, name)
        label = self.items[-1][1]
        label.item.document().setDocumentMargin(1)  # text rows as high as the text, not 22 px
        label.updateMin()

    def mouseDragEvent(self, ev: object) -> None:  # a fixed band: dragged into the plot it would cover the data
        ev.ignore()  # type: ignore[attr-defined]

    def place(self, plot_item: pg.PlotItem, width: float) -> float:
        """Wrap the entries into the fewest rows that fit `width`, reserve the band's height in `plot_item`'s
        layout and centre the legend in it. Returns the band's height (0 without entries)."""
        layout = plot_item.layout
        if not self.items:
            self.setVisible(False)
            if layout.rowMinimumHeight(LEGEND_ROW) != 0:
                layout.setRowFixedHeight(LEGEND_ROW, 0)
            return 0.0
        self.setVisible(True)
        room = max(width - 12, 80.0)
        columns = len(self.items)
        while True:
            self.setColumnCount(columns)
            for col in range(1, 2 * columns, 2):  # the gap after each label column
                self.layout.setColumnSpacing(col, 10)
            self.layout.invalidate()
            size = self.layout.preferredSize()
            if size.width() <= room or columns == 1:
                break
            columns -= 1
        band = size.height() + 4
        if abs(layout.rowMinimumHeight(LEGEND_ROW) - band) > 0.5:
            layout.setRowFixedHeight(LEGEND_ROW, band)
        top = layout.rowMinimumHeight(0) if plot_item.titleLabel.isVisible() else 0.0
        w = min(size.width(), room)
        self.setGeometry(QRectF(max(0.0, (width - w) / 2), top + 1, w, size.height()))
        return band
