"""Export the report, the diagram alone or one chart alone to PNG, SVG or PDF.

Exporters take a path and options and never open a dialog (the Export menu and the CLI collect the options).
Everything is painted in logical pixels (1/96 in) and the painter is scaled to the device, so the three formats
share one layout: PNG at any width or scale, SVG as vector with text as text (`QSvgGenerator`), PDF as vector
(`QPdfWriter`) on A4 or Letter pages. Each is rendered in memory, then written with checked writes to a temporary
name, synced and renamed, so a failed export (a full disk) is an error and never leaves half a file behind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from netcost.gui.diagram.layout import Orientation
from netcost.gui.diagram.state import DiagramState
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report import ReportOptions, ReportPage
from netcost.gui.report.page_layout import Page
from netcost.gui.report.portable_svg import PortableSvgDevice, with_generic_families
from netcost.gui.report.views import CHARTS, SingleView, chart_view, diagram_view
from netcost.model_io.files.layer_file import atomic_write

FORMATS = ("png", "svg", "pdf")
PaintFn = Callable[[QPainter], None]


class ExportError(Exception):
    """An export could not be written; the message is one line for the user."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    pixel_size: QSize | None = None  # PNG only
    pages: int = 1


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The export format named by `fmt` or by the file's suffix."""
    f = (fmt or Path(path).suffix.lstrip(".")).lower()
    if f not in FORMATS:
        raise ExportError(f"{path}: cannot tell the format (use a .png, .svg or .pdf file name)")
    return f


# ---- the report ---------------------------------------------------------------------------------------------
def export_png(document: CostDocument, path: str | Path, width: int | None = None, scale: float = 2.0,
               dark: bool = False, options: ReportOptions | None = None) -> ExportResult:
    """The report as one tall PNG; `width` (pixels) wins over `scale` (device pixels per logical pixel)."""
    opts = _options(options, dark=dark)
    with ReportPage(document, opts) as report:
        page = report.image_page()
        return _write_png(path, page.size, lambda p: report.paint(p, page), width, scale, report.theme.background)


def export_svg(document: CostDocument, path: str | Path, dark: bool = False,
               options: ReportOptions | None = None) -> ExportResult:
    """The report as one vector SVG page (text stays text, so it is searchable and editable)."""
    opts = _options(options, dark=dark)
    with ReportPage(document, opts) as report:
        page = report.image_page()
        return _write_svg(path, page.size, lambda p: report.paint(p, page), f"NetCost report: {report.title}")


def export_pdf(document: CostDocument, path: str | Path, page: str = "a4", dark: bool = False,
               options: ReportOptions | None = None) -> ExportResult:
    """The report on A4 or Letter pages, vector, continued on further pages where it is long."""
    opts = _options(options, dark=dark, page=page)
    with ReportPage(document, opts, paper=True) as report:
        pages = report.paper_pages()
        painters = [_page_painter(report, pg, i + 1, len(pages)) for i, pg in enumerate(pages)]
        return _write_pdf(path, [pg.size for pg in pages], painters, f"NetCost report: {report.title}",
                          page_size=QPageSize(QPageSize.PageSizeId.A4 if opts.page == "a4"
                                              else QPageSize.PageSizeId.Letter))


def export_report(document: CostDocument, path: str | Path, fmt: str | None = None, *, width: int | None = None,
                  scale: float = 2.0, options: ReportOptions | None = None) -> ExportResult:
    """The report in the format of `path`'s suffix (or `fmt`)."""
    opts = options or ReportOptions()
    f = format_of(path, fmt)
    if f == "png":
        return export_png(document, path, width, scale, opts.dark, opts)
    if f == "svg":
        return export_svg(document, path, opts.dark, opts)
    return export_pdf(document, path, opts.page, opts.dark, opts)


def _options(options: ReportOptions | None, **changes: object) -> ReportOptions:
    from dataclasses import replace

    return replace(options or ReportOptions(), **changes)


def _page_painter(report: ReportPage, page: Page, number: int, count: int) -> PaintFn:
    return lambda p: report.paint(p, page, number, count)


# ---- single views -------------------------------------------------------------------------------------------
def export_diagram(document: CostDocument, path: str | Path, fmt: str | None = None, *, dark: bool = False,
                   metric: str = "flops", width_metric: str | None = "params", log_scale: bool | None = None,
                   collapsed: Collection[str] | None = None, width: int | None = None,
                   scale: float = 2.0, scale_mode: str | None = None, include_selection: bool = False,
                   orientation: Orientation = Orientation.TOP_DOWN, state: DiagramState | None = None) -> ExportResult:
    """The whole block diagram (not just the visible part) with its colour bar, tightly cropped. `collapsed`:
    the container paths to fold (None: the diagram's default for the model). The window's selection is left
    out unless `include_selection`; `orientation`: the flow top to bottom or left to right, as the window shows it.
    `state`: a diagram view's `DiagramState`, exported as the view shows it (metric, scale, width, flow, open
    scopes; the other view options are then not read)."""
    view = diagram_view(document, dark, metric, width_metric, log_scale, collapsed, scale_mode, include_selection,
                        orientation, state)
    if view is None:
        raise ExportError("the block diagram is not available in this build")
    with view:
        return _export_view(view, path, fmt, width, scale, f"NetCost diagram: {document.name}")


def export_chart(document: CostDocument, chart: str, path: str | Path, fmt: str | None = None, *,
                 dark: bool = False, size: QSizeF | None = None, width: int | None = None,
                 scale: float = 2.0, include_selection: bool = False) -> ExportResult:
    """One chart (a key of `CHARTS`) alone, at `size` logical pixels (default 640 x 420), without the window's
    selection unless `include_selection`."""
    if chart not in CHARTS:
        raise ExportError(f"unknown chart {chart!r} (choose one of {', '.join(CHARTS)})")
    view = chart_view(document, chart, dark=dark, size=size or QSizeF(640, 420), include_selection=include_selection)
    if view is None:
        raise ExportError("the charts are not available in this build")
    with view:
        return _export_view(view, path, fmt, width, scale, f"NetCost {CHARTS[chart]}: {document.name}")


def export_view(view: SingleView, path: str | Path, fmt: str | None = None, *, width: int | None = None,
                scale: float = 2.0, title: str = "NetCost") -> ExportResult:
    """Any prepared single view (see `netcost.gui.report.views`), e.g. what a view's context menu hands over."""
    return _export_view(view, path, fmt, width, scale, title)


def _export_view(view: SingleView, path: str | Path, fmt: str | None, width: int | None, scale: float,
                 title: str) -> ExportResult:
    f = format_of(path, fmt)
    size = view.size

    def paint(p: QPainter) -> None:
        p.fillRect(QRectF(0, 0, size.width(), size.height()), view.background)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        view.paint(p, QRectF(0, 0, size.width(), size.height()))

    if f == "png":
        return _write_png(path, size, paint, width, scale, view.background)
    if f == "svg":
        return _write_svg(path, size, paint, title)
    # A single figure gets a page of its own size (points = logical px * 0.75): ready for \includegraphics.
    page = QPageSize(QSizeF(size.width() * 0.75, size.height() * 0.75), QPageSize.Unit.Point, "figure",
                     QPageSize.SizeMatchPolicy.ExactMatch)
    return _write_pdf(path, [size], [paint], title, page)


# ---- devices ------------------------------------------------------------------------------------------------
def _require_app() -> None:
    if QApplication.instance() is None:
        raise ExportError("exporting needs a QApplication (the CLI creates an offscreen one)")


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise ExportError(f"{path}: the folder {path.parent} does not exist")


def _buffer() -> QBuffer:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    return buf


def _save(path: Path, data: bytes) -> None:
    """Write what Qt rendered in memory with checked writes, fsync, rename (model_io.files.layer_file.atomic_write).
    Qt's own file writers drop write errors: on a full disk QPdfWriter left a 0-byte or cut PDF and said nothing.
    A failed write leaves neither the temporary file nor a partial `path`; the message names the cause."""
    if not data:
        raise ExportError(f"cannot write {path}: nothing was rendered")
    try:
        atomic_write(path, data)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from None


def _write_png(path: str | Path, size: QSizeF, paint: PaintFn, width: int | None, scale: float,
               background: QColor) -> ExportResult:
    _require_app()
    path = Path(path)
    if width is not None and width < 16:
        raise ExportError(f"--width {width}: too small (at least 16 pixels)")
    if not 0.1 <= scale <= 16:
        raise ExportError(f"--scale {scale}: choose a scale between 0.1 and 16")
    s = width / size.width() if width else scale
    pixels = QSize(width or math.ceil(size.width() * s), math.ceil(size.height() * s))
    if pixels.width() * pixels.height() > 400_000_000:
        raise ExportError(f"{path}: {pixels.width()} x {pixels.height()} pixels is too large; lower the scale")
    _check_folder(path)
    image = QImage(pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(background)
    painter = QPainter(image)
    try:
        painter.scale(s, s)
        paint(painter)
    finally:
        painter.end()
    # Only now: a high DPI while painting would make QPicture replays (pyqtgraph's bars and axes) scale twice.
    dots_per_metre = round(96 * s / 0.0254)  # an image viewer shows the report at its physical size
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    buf = _buffer()
    if not image.save(buf, "PNG"):
        raise ExportError(f"cannot write {path}: the image could not be encoded")
    _save(path, bytes(buf.data().data()))
    return ExportResult(path, pixels)


def _write_svg(path: str | Path, size: QSizeF, paint: PaintFn, title: str) -> ExportResult:
    _require_app()
    path = Path(path)
    _check_folder(path)
    buf = _buffer()
    gen = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)  # SVG 1.1 has clip paths: plots stay inside their frames
    gen.setOutputDevice(buf)
    gen.setSize(QSize(math.ceil(size.width()), math.ceil(size.height())))
    gen.setViewBox(QRectF(0, 0, math.ceil(size.width()), math.ceil(size.height())))
    gen.setResolution(96)  # logical pixels are 1/96 in
    gen.setTitle(title)
    gen.setDescription("Generated by NetCost")
    try:
        device = PortableSvgDevice(gen, size)  # what QSvgGenerator alone writes renders right only in Qt
    except OSError:
        raise ExportError(f"cannot write {path}") from None
    painter = QPainter()
    if not painter.begin(device):
        device.finish()
        raise ExportError(f"cannot write {path}")
    try:
        paint(painter)
    finally:
        painter.end()
        device.finish()
    svg = with_generic_families(bytes(buf.data().data()).decode("utf-8"))
    _save(path, svg.encode("utf-8"))
    return ExportResult(path)


def _write_pdf(path: str | Path, sizes: Sequence[QSizeF], paints: Sequence[PaintFn], title: str,
               page_size: QPageSize) -> ExportResult:
    _require_app()
    path = Path(path)
    _check_folder(path)
    buf = _buffer()
    writer = QPdfWriter(buf)
    writer.setTitle(title)
    writer.setCreator("NetCost")
    # 96 dpi: one device unit per logical pixel. The output is vector either way, and a higher resolution would
    # make QPicture replays (pyqtgraph's bars and axes) scale a second time.
    writer.setResolution(96)
    writer.setPageLayout(QPageLayout(page_size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportError(f"cannot write {path}")
    try:
        for i, (size, paint) in enumerate(zip(sizes, paints, strict=True)):
            if i:
                writer.newPage()
            painter.save()
            s = writer.width() / size.width()  # device pixels per logical pixel on this page
            painter.scale(s, s)
            paint(painter)
            painter.restore()
    finally:
        painter.end()
    _save(path, bytes(buf.data().data()))
    return ExportResult(path, pages=len(paints))

