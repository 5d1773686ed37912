"""The window's renderings of a `Report`, in this process with Qt offscreen: the report file of `netcost report`,
and the diagram and charts as inline figures. Qt is imported here only, when one is asked for."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .figure import Figure

if TYPE_CHECKING:
    from .report import Report

CHART_ALIASES = {"layers": "layer_share", "layer": "layer_share", "categories": "category_share",
                 "category": "category_share", "params_vs_flops": "scatter"}


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    argv = [sys.argv[0] if sys.argv and sys.argv[0] else "netcost"]
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display and not os.environ.get("QT_QPA_PLATFORM"):
        # no display: render without one, leaving the environment alone (netcost.show reads it)
        argv += ["-platform", "offscreen"]
    return QApplication(argv)


@contextmanager
def _document(report: Report) -> Iterator[Any]:
    """The window's document of `report` (its changes named as the report's title shows them), deleted after."""
    app = _app()
    from netcost.gui.document.cost_document import CostDocument

    document = CostDocument()
    try:
        document.set_report(report.cost_report)
        document.prior_edits = list(report.changes)
        document.set_convention(report.convention)
        yield document
    finally:
        document.deleteLater()
        app.processEvents()


def save_report(report: Report, path: str | os.PathLike[str], *, metric: str = "flops", dark: bool = False,
                width: int | None = None, scale: float = 2.0, depth: int | None = None, page: str = "a4") -> str:
    """`netcost report`'s rendering of `report` to `path` (.png, .svg or .pdf); what was written, in words."""
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"{out}: the report is written as .png, .svg or .pdf (not {out.suffix or 'no suffix'!r})")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out}: the folder {out.parent} does not exist")
    with _document(report) as document:
        from netcost.gui.report import ReportOptions
        from netcost.gui.report.exporters import ExportError, export_report

        opts = ReportOptions(metric=metric, dark=dark, page=page, depth=depth)
        try:
            result = export_report(document, out, fmt, width=width, scale=scale, options=opts)
        except ExportError as e:
            raise OSError(str(e)) from None
    if result.pixel_size is not None:
        detail = f"{result.pixel_size.width()} × {result.pixel_size.height()} px"
    else:
        detail = f"{result.pages} page{'s' * (result.pages != 1)}" if fmt == "pdf" else "vector"
    return f"{out} ({detail})"


def _figure(write: Any) -> Figure:
    with tempfile.TemporaryDirectory(prefix="netcost-figure-") as folder:
        svg_path = Path(folder) / "figure.svg"
        write(svg_path)
        return Figure(svg=svg_path.read_text(encoding="utf-8"))


def diagram(report: Report, *, metric: str = "flops", dark: bool = False, depth: int | None = None) -> Figure:
    """The whole block diagram with its colour bar, as an SVG figure (`depth` folds containers below it)."""
    with _document(report) as document:
        from netcost.gui.report.exporters import export_diagram

        collapsed = None
        if depth is not None:
            collapsed = [n.path for n in report.cost_report.hierarchy if n.depth == depth and n.path]
        return _figure(lambda p: export_diagram(document, p, "svg", dark=dark, metric=metric, collapsed=collapsed))


def chart(report: Report, kind: str = "layers", *, metric: str = "flops", dark: bool = False) -> Figure:
    """One chart of the window as an SVG figure (`metric` is accepted for symmetry with `diagram`)."""
    from netcost.gui.report.views import CHARTS

    key = CHART_ALIASES.get(kind, kind)
    if key not in CHARTS:
        raise ValueError(f"chart {kind!r}: choose one of layers, categories, scatter, cumulative")
    with _document(report) as document:
        from netcost.gui.report.exporters import export_chart

        return _figure(lambda p: export_chart(document, key, p, "svg", dark=dark))
