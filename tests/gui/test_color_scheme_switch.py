"""Switching View ▸ Colour scheme restyles everything at once: no stale colours, nothing hidden until a resize."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network) -> MainWindow:
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.resize(1280, 800)
    w.show()
    yield w
    w.set_color_scheme("system")


def _settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def _contrast(a: QColor, b: QColor) -> int:
    return abs(a.lightness() - b.lightness())


@pytest.mark.parametrize("order", [("dark", "light"), ("light", "dark")])
def test_roofline_title_stays_in_view_after_a_switch(window: MainWindow, order: tuple[str, str]) -> None:
    view = window.views["latency"]
    window.docks["latency"].raise_()
    view.picker.setCurrentIndex(1)
    for scheme in order:
        window.set_color_scheme(scheme)
        _settle()
        label = view.chart.plot_item.titleLabel
        shown = label.mapRectToParent(label.item.mapRectToParent(label.item.boundingRect()))
        box = label.mapRectToParent(QRectF(label.rect()))
        assert "Roofline on" in label.text
        assert box.contains(shown.center()) and shown.top() >= box.top() - 1, (scheme, shown, box)
        assert view.chart.theme.foreground.name() in label.item.toHtml()


@pytest.mark.parametrize("order", [("dark", "light"), ("light", "dark")])
def test_error_banner_text_reads_on_its_ground_in_either_scheme(window: MainWindow, order: tuple[str, str]) -> None:
    bar = window.message_bar
    window.set_color_scheme(order[0])
    bar.show_message("Model could not be loaded", "error")
    _settle()
    window.set_color_scheme(order[1])
    _settle()
    text = bar.text.palette().color(QPalette.ColorRole.WindowText)
    ground = bar.tint()
    assert _contrast(text, ground) > 100, (order, text.name(), ground.name())
    assert (ground.lightness() < 128) == (order[1] == "dark")
    image = bar.grab().toImage()  # what is drawn: the tint, not a pink box left from the other scheme
    corner = image.pixelColor(image.width() // 2, 2)
    assert (corner.lightness() < 128) == (order[1] == "dark"), corner.name()
    assert corner.red() > corner.blue()  # still an error's red hue


def test_sweep_chart_follows_the_scheme(window: MainWindow) -> None:
    chart = window.views["sweep"].chart
    for scheme, dark in (("dark", True), ("light", False), ("dark", True)):
        window.set_color_scheme(scheme)
        _settle()
        assert chart.theme.dark is dark, scheme
        assert (chart.backgroundBrush().color().lightness() < 128) is dark, scheme


def test_every_chart_and_the_diagram_follow_the_scheme(window: MainWindow) -> None:
    charts = [*window.views["charts"].charts.values(), window.views["latency"].chart,
              window.views["compare"].params_chart, window.views["sweep"].chart]
    for scheme, dark in (("dark", True), ("light", False)):
        window.set_color_scheme(scheme)
        _settle()
        assert all(c.theme.dark is dark for c in charts), scheme
        assert window.views["diagram"].scene.theme.dark is dark
