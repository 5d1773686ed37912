"""`ReportPreviewDialog`: Export > Report… — the report's options beside a live preview, then Save.

The dialog only collects options and shows what the exporter will write; writing is `netcost.gui.report.exporters`' job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from netcost.gui.common.inputs import double_spin
from netcost.gui.common.palette import LIGHT
from netcost.gui.diagram.layout import Orientation
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report import ReportOptions, ReportPage
from netcost.gui.report.exporters import ExportError, ExportResult, export_report

AskPath = Callable[[str, str, str], str]  # (title, suggested name, filter) -> path or ""
FILTERS = {"png": "PNG image (*.png)", "svg": "SVG vector image (*.svg)", "pdf": "PDF document (*.pdf)"}


class _PagesCanvas(QWidget):
    """The rendered pages, one under the other, painted at the canvas's width (its height follows the width).

    It paints the images itself: labels added to a shown scroll area were laid out only on a later event, so
    the preview stayed an empty 100 x 30 box until something (a popup) made the window lay out again."""

    GAP = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pages: list[QImage] = []

    def page_rects(self, width: int | None = None) -> list[QRectF]:
        w = float(max(200, (self.width() if width is None else width) - 2 * self.GAP))
        rects, y = [], float(self.GAP)
        for image in self.pages:
            h = w * image.height() / max(1, image.width())
            rects.append(QRectF(self.GAP, y, w, h))
            y += h + self.GAP
        return rects

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        rects = self.page_rects(width)
        return round(rects[-1].bottom() + self.GAP) if rects else 0

    def sizeHint(self) -> QSize:
        return QSize(420, self.heightForWidth(420))

    def set_pages(self, pages: list[QImage]) -> None:
        self.pages = pages
        self.updateGeometry()
        self.setMinimumHeight(self.heightForWidth(self.width()))
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.setMinimumHeight(self.heightForWidth(self.width()))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        edge = self.palette().color(QPalette.ColorRole.WindowText)
        for image, rect in zip(self.pages, self.page_rects(), strict=True):
            if rect.intersects(QRectF(event.rect())):
                painter.drawImage(rect, image)
                painter.setPen(edge)  # a page edge, in light and dark palettes
                painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        painter.end()


class ReportPreviewWidget(QScrollArea):
    """The report's pages as the exporter lays them out, scaled to the width of the pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.canvas = _PagesCanvas()
        self.setWidget(self.canvas)
        self.setMinimumSize(420, 360)

    def page_count(self) -> int:
        return len(self.canvas.pages)

    def set_report(self, report: ReportPage) -> None:
        """Render every page at the screen's pixel density (once; resizing only rescales)."""
        dpr = self.devicePixelRatioF()
        pages = report.paper_pages() if report.paper else [report.image_page()]
        images = []
        for i, page in enumerate(pages):
            image = QImage(QSize(round(page.size.width() * dpr), round(page.size.height() * dpr)),
                           QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(report.theme.background)
            painter = QPainter(image)
            painter.scale(dpr, dpr)
            report.paint(painter, page, i + 1, len(pages))
            painter.end()
            image.setDevicePixelRatio(dpr)
            images.append(image)
        self.canvas.set_pages(images)


class ReportPreviewDialog(QDialog):
    """Options (format, metric, palette, page size, PNG size) and a preview; Save asks for a file name."""

    def __init__(self, document: CostDocument, ask_path: AskPath, parent: QWidget | None = None,
                 suggested_stem: str = "report", orientation: Orientation = Orientation.TOP_DOWN) -> None:
        """`orientation`: the window diagram's flow, which the report's diagram follows."""
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.document, self.ask_path, self.suggested_stem = document, ask_path, suggested_stem
        self.orientation = orientation
        self.result_: ExportResult | None = None
        self.error = ""

        self.format_box = QComboBox(self)
        for key in FILTERS:
            self.format_box.addItem(key.upper(), key)
        self.metric_box = QComboBox(self)
        self.metric_box.addItem("FLOPs", "flops")
        self.metric_box.addItem("Params", "params")
        self.metric_box.setToolTip("What the diagram is coloured by and which top-10 table comes first")
        self.dark_box = QCheckBox("Dark (slides)", self)
        self.selection_box = QCheckBox("Show the selection", self)
        self.selection_box.setToolTip("Draw the layers selected in the window (outline, bands, rings) into the "
                                      "report's diagram and charts")
        self.page_box = QComboBox(self)
        self.page_box.addItem("A4", "a4")
        self.page_box.addItem("Letter", "letter")
        self.width_box = QSpinBox(self)
        self.width_box.setRange(0, 40000)
        self.width_box.setSpecialValueText("from scale")
        self.width_box.setSuffix(" px")
        self.width_box.setToolTip("PNG width in pixels (0: use the scale)")
        self.scale_box = double_spin(self, 0.5, 8.0, 0.5, "PNG pixels per layout pixel: 2× is crisp on slides and "
                                     "high-DPI screens", suffix=" ×")
        self.scale_box.setValue(2.0)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("Colour by", self.metric_box)
        form.addRow("", self.dark_box)
        form.addRow("", self.selection_box)
        form.addRow("PDF page", self.page_box)
        form.addRow("PNG width", self.width_box)
        form.addRow("PNG scale", self.scale_box)
        form.addRow(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save…")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addStretch(1)
        side.addWidget(buttons)
        self.preview = ReportPreviewWidget(self)
        layout = QHBoxLayout(self)
        layout.addLayout(side)
        layout.addWidget(self.preview, 1)
        self.resize(1100, 760)

        self._timer = QTimer(self)  # coalesce quick option changes into one re-render
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.refresh)
        for box in (self.format_box, self.metric_box, self.page_box):
            box.currentIndexChanged.connect(self._on_options_changed)
        self.dark_box.toggled.connect(self._on_options_changed)
        self.selection_box.toggled.connect(self._on_options_changed)
        self.width_box.valueChanged.connect(self._on_options_changed)
        self.scale_box.valueChanged.connect(self._on_options_changed)
        self._rendering = False
        self._on_options_changed()
        self.refresh()

    # ---- options ------------------------------------------------------------------------------------------
    def fmt(self) -> str:
        return str(self.format_box.currentData())

    def options(self) -> ReportOptions:
        return ReportOptions(metric=str(self.metric_box.currentData()), dark=self.dark_box.isChecked(),
                             page=str(self.page_box.currentData()), include_selection=self.selection_box.isChecked(),
                             orientation=self.orientation)

    def _on_options_changed(self, *args: object) -> None:
        png, pdf = self.fmt() == "png", self.fmt() == "pdf"
        self.page_box.setEnabled(pdf)
        self.width_box.setEnabled(png)
        self.scale_box.setEnabled(png and self.width_box.value() == 0)
        self._timer.start()

    def refresh(self) -> None:
        if self._rendering:  # a chart's layout may run the event loop: never re-enter
            self._timer.start()
            return
        self._rendering = True
        try:
            with ReportPage(self.document, self.options(), paper=self.fmt() == "pdf") as report:
                self.preview.set_report(report)
                size = report.image_page().size
        finally:
            self._rendering = False
        if self.fmt() == "pdf":
            n = self.preview.page_count()
            self.status.setText(f"{n} page{'s' * (n != 1)}, vector")
        elif self.fmt() == "svg":
            self.status.setText("One vector page; text stays text")
        else:
            scale = self.width_box.value() / size.width() if self.width_box.value() else self.scale_box.value()
            self.status.setText(f"{round(size.width() * scale)} × {round(size.height() * scale)} pixels")

    # ---- saving -------------------------------------------------------------------------------------------
    def save(self) -> None:
        fmt = self.fmt()
        path = self.ask_path("Export report", f"{self.suggested_stem}.{fmt}", FILTERS[fmt] + ";;All files (*)")
        if not path:
            return
        if Path(path).suffix.lower() != f".{fmt}":
            path += f".{fmt}"
        try:
            self.result_ = export_report(self.document, path, fmt, width=self.width_box.value() or None,
                                         scale=self.scale_box.value(), options=self.options())
        except ExportError as e:
            self.error = str(e)
            self.status.setText(f"<span style='color:{LIGHT.error.name()}'>{e}</span>")
            return
        self.accept()
