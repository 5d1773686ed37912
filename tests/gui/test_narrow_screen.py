"""Readable, not only present, on a 1280 × 800 laptop: the layer table's names whole and its Δ columns beside the
values they change, the Rewrites panel's tricks whole, the sweep charts' labels apart and their key and note off
the curves and inside the plot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.costing.records import Totals
from netcost.costing.sweep import SweepAxis, SweepPoint
from netcost.gui.app.main_window import MainWindow
from netcost.gui.charts.sweep_chart import SweepChart
from netcost.gui.table.layer_table_model import CONV, DELTA_CONV, DELTA_PARAMS, NAME, PARAMS
from netcost.gui.whatif.rewrites_panel import TRICK
from tests.gui.conftest import opened_window

LAPTOP = QSize(1280, 800)


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        w.resize(LAPTOP)
        QApplication.processEvents()
        yield w


def _text_px(view, text: str) -> int:  # noqa: ANN001
    return view.fontMetrics().horizontalAdvance(text) + 2 * view.style().pixelMetric(
        view.style().PixelMetric.PM_FocusFrameHMargin) + 2


def test_names_are_whole_and_deltas_sit_beside_their_values_with_a_baseline(window: MainWindow, qtbot) -> None:
    window.document.pin_baseline()
    table = window.table
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: not table.isColumnHidden(DELTA_PARAMS))
    QApplication.processEvents()
    model = table.model()
    names = [model.index(r, NAME).data() for r in range(model.rowCount())]
    widest = max(names, key=lambda n: table.fontMetrics().horizontalAdvance(n))
    assert table.columnWidth(NAME) >= _text_px(table, widest), f"{widest!r} is cut"
    assert header.visualIndex(DELTA_PARAMS) == header.visualIndex(PARAMS) + 1
    assert header.visualIndex(DELTA_CONV) == header.visualIndex(CONV) + 1
    # both Δ columns on screen without scrolling
    for col in (DELTA_PARAMS, DELTA_CONV):
        assert header.sectionViewportPosition(col) + table.columnWidth(col) <= table.viewport().width()


def test_rewrites_trick_column_is_as_wide_as_its_longest_trick(window: MainWindow, qtbot) -> None:
    window.show_rewrites()
    panel = window.rewrites
    panel.refresh()
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() > 0)
    QApplication.processEvents()
    QApplication.processEvents()
    tree = panel.tree
    texts = [tree.topLevelItem(i).text(TRICK) for i in range(tree.topLevelItemCount())]
    widest = max(texts, key=lambda t: tree.fontMetrics().horizontalAdvance(t))
    assert tree.columnWidth(TRICK) >= tree.fontMetrics().horizontalAdvance(widest) + 6, f"{widest!r} is cut"


def _gpt2_like() -> list[SweepPoint]:
    """GPT-2's sweep: 18,432 L² MACs in attention, the rest linear, crossing at about 6.7k tokens."""
    per_token = 12 * 12 * 768 ** 2 + 768 * 50_257
    sizes = [128 * 2 ** i for i in range(9)]
    return [SweepPoint(n, Totals(params=124_439_808, macs=per_token * n + 18_432 * n * n,
                                 attention_macs=18_432 * n * n, activation_bytes=4096 * n)) for n in sizes]


@pytest.fixture
def chart(qtbot) -> SweepChart:
    c = SweepChart(dark=False)
    qtbot.addWidget(c)
    c.resize(860, 300)  # the Sweep dock's share of a 1280 × 800 screen
    c.show()
    axis = SweepAxis("input_ids", (1,), "tokens", "sequence length")
    points = _gpt2_like()
    per_token = 12 * 12 * 768 ** 2 + 768 * 50_257
    c.set_sweep(axis, points, per_token / 18_432)
    QApplication.processEvents()
    return c


def test_sweep_x_labels_do_not_overlap(chart: SweepChart) -> None:
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for key, plot in chart.plots.items():
            _, _, texts = plot.getAxis("bottom").generateDrawSpecs(painter)
            rects = sorted((QRectF(r) for r, _, _ in texts), key=lambda r: r.left())
            assert len(rects) >= 2, key
            for a, b in zip(rects, rects[1:], strict=False):  # a space apart: "128256512" read as one number
                assert a.right() + 6 <= b.left(), f"{key}: labels run together"
    finally:
        painter.end()


def test_sweep_legend_is_off_the_curves_and_the_note_inside_the_plot(chart: SweepChart) -> None:
    box = chart.plots["macs"].getViewBox().sceneBoundingRect()
    assert chart.legend.isVisible()
    assert not chart.legend.sceneBoundingRect().intersects(box)
    note = chart.cross_label.sceneBoundingRect()
    assert box.contains(note), (note, box)


def test_latency_table_shows_measured_and_ratio_without_scrolling(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from netcost.gui.latency.latency_view import LatencyView
    from netcost.model_io.worker.measure_client import Measurement

    with opened_window(qtbot, tmp_path, alexnet) as w:
        w.resize(LAPTOP)
        w.docks["latency"].show()
        w.docks["latency"].raise_()
        view = w.views["latency"]
        assert isinstance(view, LatencyView)
        view.state.set_device("a100-80gb") if "a100-80gb" in _devices(view) else view.picker.setCurrentIndex(1)
        report = w.document.report
        est = view.state.estimate()
        times = {r.path: 50 * e.seconds for r, e in zip(report.layers, est.rows, strict=True) if e.seconds}
        view.state.set_measurement(Measurement("cpu", 2, 5, sum(times.values()), times, {}), report)
        QApplication.processEvents()
        QApplication.processEvents()
        table = view.table
        header = table.horizontalHeader()
        last = header.logicalIndex(header.count() - 1)
        # every column's header text within the viewport: Measured and the ratio no longer off to the right
        assert header.sectionViewportPosition(last) + header.sectionSizeHint(last) <= table.viewport().width() + 1


def _devices(view) -> list[str]:  # noqa: ANN001
    return [view.picker.itemData(i) for i in range(view.picker.count())]


def test_roofline_title_and_axis_title_stay_inside_a_narrowed_pane(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from PySide6.QtWidgets import QSplitter

    from netcost.gui.latency.latency_view import LatencyView

    with opened_window(qtbot, tmp_path, alexnet) as w:
        w.resize(LAPTOP)
        w.docks["latency"].show()
        w.docks["latency"].raise_()
        QApplication.processEvents()
        view = w.views["latency"]
        assert isinstance(view, LatencyView)
        view.state.set_device("a100-80gb")
        QApplication.processEvents()
        split = view.chart.parentWidget()
        assert isinstance(split, QSplitter)
        split.setSizes([280, 720])
        for _ in range(3):
            QApplication.processEvents()
        chart = view.chart
        seen = QRectF(chart.viewport().rect())
        title = chart.plot_item.titleLabel.sceneBoundingRect()
        assert seen.contains(title), (title, seen)
        label = chart.plot_item.getAxis("bottom").label
        m = label.document().documentMargin()  # blank space around the text, which pyqtgraph lets hang below
        inked = label.sceneBoundingRect().adjusted(m, m, -m, -m)
        assert seen.contains(inked), (inked, seen)



@pytest.mark.parametrize("device", ["a100-80gb", "t4", "h100-sxm"])
def test_roofline_ridge_note_is_whole_at_the_charts_minimum_width(qtbot, alexnet: Network, device: str) -> None:
    from netcost.gui.charts.roofline_chart import RooflineChart
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.document.latency_state import LatencyState

    doc = CostDocument(alexnet)
    LatencyState.of(doc).set_device(device)
    chart = RooflineChart(doc)
    qtbot.addWidget(chart)
    chart.show()
    for width in (chart.minimumWidth(), 260, 420):
        chart.resize(width, 320)
        for _ in range(3):
            QApplication.processEvents()
        plot = chart.plot_item.vb.sceneBoundingRect()
        note = chart.ridge_label.textItem.sceneBoundingRect()
        assert "FLOPs/B" in chart.ridge_label.textItem.toPlainText()
        assert plot.left() - 1 <= note.left() and note.right() <= plot.right() + 1, (width, note, plot)
