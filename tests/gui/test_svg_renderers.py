"""The SVG report looks the same in Qt's renderer and in independent ones (resvg from PyPI, librsvg where installed).

Each renderer draws the exported file at its own size; the two pictures are compared tile by tile (40 px squares,
mean absolute difference per channel). Text rasterises a little differently in each, which costs a tile ~25 at
most; a chart drawn as a grey box or green slabs, or markers dropped by a wrong clip, costs 100+.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.exporters import export_chart, export_svg

TILE = 40
WORST_TILE = 45.0  # text alone stays under ~25
MEAN = 5.0


@pytest.fixture
def doc(qapp: QApplication, alexnet: Network) -> CostDocument:
    return CostDocument(alexnet)


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits())[: h * stride], np.uint8).reshape(h, stride)
    return raw[:, : w * 3].reshape(h, w, 3).astype(np.float32)


def _qt(path: Path) -> np.ndarray:
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    box = renderer.viewBoxF()
    image = QImage(round(box.width()), round(box.height()), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return _pixels(image)


def _resvg(path: Path, width: int) -> np.ndarray:
    resvg_py = pytest.importorskip("resvg_py")  # the [test] extra installs it
    png = resvg_py.svg_to_bytes(svg_path=str(path), width=width, dpi=96, background="#ffffff")
    return _pixels(QImage.fromData(bytes(png)))


def _librsvg(path: Path, width: int, height: int) -> np.ndarray:
    if shutil.which("rsvg-convert") is None:
        pytest.skip("librsvg's rsvg-convert is not installed")
    png = subprocess.run(["rsvg-convert", "-w", str(width), "-h", str(height), "-b", "white", str(path)],
                         capture_output=True, check=True, timeout=120).stdout
    return _pixels(QImage.fromData(png))


def _worst_tiles(a: np.ndarray, b: np.ndarray) -> list[tuple[float, int, int]]:
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    diff = np.abs(a[:h, :w] - b[:h, :w])
    tiles = [(float(diff[y:y + TILE, x:x + TILE].mean()), x, y)
             for y in range(0, h - TILE + 1, TILE) for x in range(0, w - TILE + 1, TILE)]
    return sorted(tiles, reverse=True)[:5]


def _assert_alike(qt: np.ndarray, other: np.ndarray, name: str) -> None:
    assert abs(qt.shape[0] - other.shape[0]) <= 1 and abs(qt.shape[1] - other.shape[1]) <= 1
    h, w = min(qt.shape[0], other.shape[0]), min(qt.shape[1], other.shape[1])
    mean = float(np.abs(qt[:h, :w] - other[:h, :w]).mean())
    worst = _worst_tiles(qt, other)
    assert mean < MEAN and worst[0][0] < WORST_TILE, f"{name} differs from Qt: mean {mean:.1f}, worst tiles " \
        + ", ".join(f"{d:.0f} at ({x}, {y})" for d, x, y in worst)


def test_report_svg_has_no_construct_only_some_renderers_honour(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "report.svg"
    export_svg(doc, out)
    svg = out.read_text(encoding="utf-8")
    assert "<clipPath" not in svg and "clip-path=" not in svg  # Qt's renderer ignores clip paths
    families = re.findall(r'font-family="([^"]*)"', svg)
    assert families and all(f.endswith(("sans-serif", "monospace")) for f in families)
    assert "Sans Serif" not in svg  # Qt's alias, which no browser knows


@pytest.mark.parametrize("renderer", ["resvg", "librsvg"])
def test_report_svg_renders_alike_in_qt_and_an_independent_renderer(doc: CostDocument, tmp_path: Path,
                                                                    renderer: str) -> None:
    out = tmp_path / "report.svg"
    export_svg(doc, out)
    qt = _qt(out)
    h, w = qt.shape[:2]
    other = _resvg(out, w) if renderer == "resvg" else _librsvg(out, w, h)
    _assert_alike(qt, other, renderer)


@pytest.mark.parametrize("chart", ["scatter", "cumulative", "layer_share"])
def test_single_chart_svg_renders_alike_and_keeps_its_marks(doc: CostDocument, tmp_path: Path, chart: str) -> None:
    out = tmp_path / f"{chart}.svg"
    export_chart(doc, chart, out)
    qt = _qt(out)
    other = _resvg(out, qt.shape[1])
    _assert_alike(qt, other, f"resvg ({chart})")
    # The plot is not one flat field: its markers, lines and bars came through in both.
    for picture in (qt, other):
        colours = {tuple(int(c) for c in px) for px in picture[::3, ::3].reshape(-1, 3)}
        assert len(colours) > 40
