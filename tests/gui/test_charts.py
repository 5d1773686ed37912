"""Charts: bar heights equal the report's shares, edits update kept items, selection is linked with the others."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from netcost.costing import CATEGORIES, LayerSpec, Network
from netcost.gui.charts.charts_widget import ChartsWidget, make_chart
from netcost.gui.common.cost_colors import category_color
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.zoo import load_layer_list


@pytest.fixture
def doc(qtbot) -> CostDocument:
    return CostDocument(load_layer_list("alexnet"))


@pytest.fixture
def charts(doc: CostDocument, qtbot) -> ChartsWidget:
    w = ChartsWidget(doc, dark=False)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    return w


def _heights(bars) -> np.ndarray:
    return np.asarray(bars.opts["height"], dtype=float)


def test_layer_share_bars_equal_report_shares(doc: CostDocument, charts: ChartsWidget) -> None:
    chart = charts.layer_share
    report = doc.report
    assert np.allclose(_heights(chart.flops_bars), [report.share(c, "flops") * 100 for c in report.layers])
    assert np.allclose(_heights(chart.params_bars), [report.share(c, "params") * 100 for c in report.layers])
    brushes = chart.flops_bars.opts["brushes"]
    assert [b.color().name() for b in brushes] == [category_color(c.category).name() for c in report.layers]
    # the article's picture: five convs 93 % of compute, three linears 96 % of params
    conv = [i for i, c in enumerate(report.layers) if c.category == "conv"]
    assert _heights(chart.flops_bars)[conv].sum() == pytest.approx(93.2, abs=0.2)


def test_category_bars_and_numbers(doc: CostDocument, charts: ChartsWidget) -> None:
    chart = charts.category_share
    report = doc.report
    assert chart.categories == [c for c in CATEGORIES if c in ("conv", "linear", "activation", "pool")]
    assert np.allclose(_heights(chart.flops_bars), [report.category_share(c, "flops") * 100 for c in chart.categories])
    assert np.allclose(_heights(chart.params_bars),
                       [report.category_share(c, "params") * 100 for c in chart.categories])
    assert chart.flops_labels["conv"].textItem.toPlainText() == "93 %"
    assert chart.params_labels["linear"].textItem.toPlainText() == "96 %"
    assert not chart.flops_labels["attention"].isVisible()


def test_edit_updates_kept_items(doc: CostDocument, charts: ChartsWidget, qtbot) -> None:
    layer = charts.layer_share
    handles = (layer.flops_bars, layer.params_bars, charts.scatter.points, charts.cumulative.flops_curve,
               charts.category_share.flops_bars, charts.category_share.flops_labels["conv"])
    items = {k: set(c.plot_item.items) for k, c in charts.charts.items()}
    with qtbot.waitSignal(doc.reportChanged):
        doc.set_layer_arg(15, "out_features", 64)  # fc1 shrinks: linear params collapse
    report = doc.report
    assert np.allclose(_heights(layer.params_bars), [report.share(c, "params") * 100 for c in report.layers])
    assert handles == (layer.flops_bars, layer.params_bars, charts.scatter.points, charts.cumulative.flops_curve,
                       charts.category_share.flops_bars, charts.category_share.flops_labels["conv"])
    # no item was added or dropped by the edit (legends aside, which live outside the plot items)
    assert {k: set(c.plot_item.items) for k, c in charts.charts.items()} == items
    doc.insert_layers(0, [LayerSpec("Identity")])
    assert len(_heights(layer.flops_bars)) == doc.row_count() == 22
    doc.undo_stack.undo()
    assert len(_heights(layer.flops_bars)) == 21


def test_scatter_points_and_guides(doc: CostDocument, charts: ChartsWidget) -> None:
    chart = charts.scatter
    report = doc.report
    with_params = [i for i, c in enumerate(report.layers) if c.params and c.flops]
    assert chart.indices.tolist() == with_params  # 5 convs + 3 linears
    assert np.allclose(10 ** chart.x, [report.layers[i].params for i in with_params])
    assert np.allclose(10 ** chart.y, [report.layers[i].flops for i in with_params])
    assert chart.hidden == 13
    assert any(label.isVisible() and "FLOPs/param" in label.textItem.toPlainText() for label in chart.guide_labels)
    # hover names the layer
    i = with_params.index(3)
    text = chart._hover(QPointF(chart.x[i], chart.y[i]))
    assert text.startswith("conv2")


def test_cumulative_share_reaches_80_percent(doc: CostDocument, charts: ChartsWidget) -> None:
    chart = charts.cumulative
    assert chart.flops_cum[-1] == pytest.approx(100.0)
    assert chart.params_cum[-1] == pytest.approx(100.0)
    assert chart.params_count == 2  # fc1 + fc2 = 89 % of params
    assert chart.flops_count == 4  # conv2, conv4, conv3, conv1
    assert "80 %" in chart.flops_marker.label.format


def test_convention_is_named_and_used(doc: CostDocument, charts: ChartsWidget) -> None:
    doc.set_convention("thop")
    report = doc.report
    chart = charts.layer_share
    assert np.allclose(_heights(chart.flops_bars), [report.share(c, "thop") * 100 for c in report.layers])
    # the per-layer chart names the convention in its legend (the axis just says "% of model total")
    assert any("thop" in label.text for _, label in chart.legend.items)
    assert "thop" in charts.scatter.plot_item.getAxis("left").labelText


def test_selection_linked_with_table_and_diagram(doc: CostDocument, charts: ChartsWidget) -> None:
    scene = DiagramScene(doc)
    doc.selection.set_rows([15], source="table")
    assert charts.layer_share._highlight.opts["x"].tolist() == [15.0]
    assert scene.block(15).selected
    # a click on a bar selects that layer everywhere
    chart = charts.layer_share
    chart.document.selection.set_rows(chart.rows_of_indices(chart._indices_at(QPointF(3.1, 5.0))), chart)
    assert doc.selection.rows == [3]
    assert scene.block(3).selected and not scene.block(15).selected
    assert len(charts.scatter._highlight.data) == 1
    # a click on a category selects all its layers
    cat = charts.category_share
    rows = cat._indices_at(QPointF(cat.categories.index("linear"), 10))
    assert rows == [15, 18, 20]


def test_single_chart_renders_for_export(doc: CostDocument, qtbot) -> None:
    from PySide6.QtGui import QImage, QPainter

    chart = make_chart("category_share", doc, dark=True)
    qtbot.addWidget(chart)
    chart.resize(640, 400)
    image = QImage(640, 400, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    chart.render(painter)
    painter.end()
    assert chart.theme.dark
    assert image.pixelColor(5, 5).lightness() < 80  # dark background


def _repeated_blocks(n_blocks: int = 12) -> Network:
    """A GPT-2-like stack: identical blocks (same params and FLOPs per layer), then a heavy last layer."""
    specs = [LayerSpec("Linear", {"out_features": 64}, name="embed")]
    for b in range(n_blocks):
        specs += [LayerSpec("LayerNorm", name=f"blocks.{b}.ln"),
                  LayerSpec("Linear", {"out_features": 256}, name=f"blocks.{b}.fc"),
                  LayerSpec("GELU", name=f"blocks.{b}.gelu"),
                  LayerSpec("Linear", {"out_features": 64}, name=f"blocks.{b}.proj")]
    specs.append(LayerSpec("Linear", {"out_features": 50_000}, name="lm_head"))
    return Network(tuple(specs), (128, 64), "stack")


def _shown(widget, qtbot, size=(1280, 800)) -> None:
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(30)  # layouts settle (label placement runs again on the plot's final size)
    widget.grab()  # a paint: pyqtgraph brings the text items' transforms up to date


def test_scatter_shows_multiplicity_of_identical_layers(qtbot) -> None:
    doc = CostDocument(_repeated_blocks(12))
    charts = ChartsWidget(doc, dark=False)
    _shown(charts, qtbot)
    chart = charts.scatter
    fc = [i for i, c in enumerate(doc.report.layers) if c.name.endswith(".fc")]
    k = chart.indices.tolist().index(fc[0])
    proj = [i for i, c in enumerate(doc.report.layers) if c.name.endswith(".proj")]
    # fc and proj differ by 1 % in params and FLOPs: on screen they are one dot, and it says so
    assert chart.multiplicity[k] == 24
    assert chart.sizes[k] > chart.sizes[chart.indices.tolist().index(len(doc.report.layers) - 1)]  # lm_head: alone
    texts = sorted(label.textItem.toPlainText() for label in chart.count_labels if label.isVisible())
    assert texts == ["×12", "×24"]  # the twelve norms; fc + proj
    hover = chart._hover(QPointF(chart.x[k], chart.y[k]))
    assert hover.startswith("24 layers on this spot") and "blocks.#.fc ×12" in hover and "blocks.#.proj ×12" in hover
    # a click on the spot selects all of them
    assert sorted(chart._indices_at(QPointF(chart.x[k], chart.y[k]))) == sorted(fc + proj)


def _overlap(a, b) -> bool:
    return a.intersects(b) and not a.intersected(b).isEmpty()


@pytest.mark.parametrize("model", ["alexnet", "lstm_tagger", "conv3x3_stack"])
def test_scatter_labels_overlap_nothing(model: str, qtbot) -> None:
    doc = CostDocument(load_layer_list(model))
    charts = ChartsWidget(doc, dark=False)
    _shown(charts, qtbot)
    chart = charts.scatter
    legend = chart.legend.sceneBoundingRect()
    labels = [label for label in chart.guide_labels if label.isVisible()]
    assert len(labels) >= 2
    plot = chart.plot_item.getViewBox().sceneBoundingRect()
    for label in labels:
        # the text's own corners (rotated along its guide), not its axis-aligned box
        poly = label.mapToScene(label.textItem.mapRectToParent(label.textItem.boundingRect()))
        assert plot.contains(poly.boundingRect().adjusted(1, 1, -1, -1)), label.textItem.toPlainText()
        assert not poly.intersects(legend), label.textItem.toPlainText()
        for other in labels:
            if other is not label:
                other_poly = other.mapToScene(other.textItem.mapRectToParent(other.textItem.boundingRect()))
                assert not poly.intersected(other_poly).boundingRect().width() > 1


def _drawn_tick_names(chart) -> list[str]:
    from PySide6.QtGui import QImage, QPainter

    axis = chart.plot_item.getAxis("bottom")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [t for _, _, t in texts if t]


def test_heaviest_layers_are_named_even_at_the_ends(qtbot) -> None:
    doc = CostDocument(_repeated_blocks(12))
    charts = ChartsWidget(doc, dark=False)
    _shown(charts, qtbot)
    chart = charts.layer_share
    n = doc.row_count()
    assert chart.named_ticks[-1] == n - 1  # lm_head, the last and heaviest layer
    drawn = _drawn_tick_names(chart)  # what pyqtgraph really draws (it drops a label that sticks out)
    assert drawn == [doc.report.layers[i].name for i in chart.named_ticks] and "lm_head" in drawn


def test_long_names_do_not_overlap(qtbot) -> None:
    specs = [LayerSpec("Conv2d", {"out_channels": 16 + 8 * (i % 5), "kernel_size": 3, "padding": 1},
                       name=f"features.{i}.conv.0.0") for i in range(60)]
    doc = CostDocument(Network(tuple(specs), (16, 32, 32), "long_names"))
    charts = ChartsWidget(doc, dark=False)
    _shown(charts, qtbot)
    from PySide6.QtGui import QImage, QPainter

    axis = charts.layer_share.plot_item.getAxis("bottom")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    _, _, texts = axis.generateDrawSpecs(painter)
    painter.end()
    rects = sorted((r for r, _, t in texts if t), key=lambda r: r.left())
    assert len(rects) >= 2
    assert all(a.right() <= b.left() for a, b in zip(rects, rects[1:], strict=False))


def test_hidden_charts_catch_up_when_shown(doc: CostDocument, qtbot) -> None:
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    window = QWidget()
    charts = ChartsWidget(doc, window, dark=False)
    QVBoxLayout(window).addWidget(charts)
    _shown(window, qtbot)
    chart = charts.layer_share
    before = _heights(chart.params_bars).copy()
    charts.hide()  # e.g. a background dock tab: edits are noted, not drawn
    doc.set_layer_arg(15, "out_features", 64)
    doc.selection.set_rows([15], source="table")
    assert all(c.stale for c in charts.charts.values())
    assert np.allclose(_heights(chart.params_bars), before)
    charts.show()
    assert not any(c.stale for c in charts.charts.values())
    report = doc.report
    assert np.allclose(_heights(chart.params_bars), [report.share(c, "params") * 100 for c in report.layers])
    assert chart._highlight.opts["x"].tolist() == [15.0]
    assert charts.cumulative.params_cum[-1] == pytest.approx(100.0)


def test_never_shown_chart_updates_at_once(doc: CostDocument, charts: ChartsWidget) -> None:
    """Exports and offscreen use build charts that are never shown: they must follow edits immediately."""
    doc.set_layer_arg(15, "out_features", 64)
    assert not charts.layer_share.stale
    report = doc.report
    assert np.allclose(_heights(charts.layer_share.params_bars), [report.share(c, "params") * 100
                                                                  for c in report.layers])


def _cumulative_for(doc: CostDocument, qtbot):  # noqa: ANN202
    from netcost.gui.charts.cumulative_share_chart import CumulativeShareChart
    from netcost.gui.report.views import prepare_widget

    chart = CumulativeShareChart(doc, None, dark=False)
    qtbot.addWidget(chart)
    prepare_widget(chart, 640, 420)  # the report's cell size
    return chart


@pytest.mark.parametrize("model", ["alexnet", "vgg16_like", "zoo:mobilenet_v2"])
def test_cumulative_labels_clear_the_curves_the_legend_and_each_other(model: str, qtbot) -> None:
    if model.startswith("zoo:"):
        from netcost.model_io.worker.resolve import LoadOptions, load_report

        doc = CostDocument()
        doc.set_report(load_report(model, LoadOptions()))
    elif model == "vgg16_like":
        from tests.gui.conftest import chain

        doc = CostDocument(chain(120))  # many equal layers: straight curves across the whole plot
    else:
        doc = CostDocument(load_layer_list(model))
    chart = _cumulative_for(doc, qtbot)
    boxes = chart.label_boxes()
    assert len(boxes) == 2
    legend = chart._legend_box()
    for i, box in enumerate(boxes):
        assert not chart._hits_curves(box), (model, box)
        assert legend is None or not (box[0] < legend[1] and legend[0] < box[1] and box[2] < legend[3]
                                      and legend[2] < box[3])
        for other in boxes[i + 1:]:
            assert not (box[0] < other[1] and other[0] < box[1] and box[2] < other[3] and other[2] < box[3])


def test_cumulative_labels_name_the_counts_after_a_model_loads_into_an_empty_document(qtbot) -> None:
    # The window builds its charts on an empty document and loads the model afterwards; the marker labels were
    # hidden then, and pyqtgraph dropped the text update, leaving "0 of 0 layers".
    doc = CostDocument()
    charts = ChartsWidget(doc, None, dark=False)
    qtbot.addWidget(charts)
    doc.set_network(load_layer_list("alexnet"))
    chart = charts.cumulative
    assert chart.params_marker.label.textItem.toPlainText() == "2 of 21 layers: 80 % of params"
    assert chart.flops_marker.label.textItem.toPlainText().startswith("4 of 21 layers: 80 % of")


def _six_categories() -> Network:
    """conv, norm, activation, pool, other and linear: eight legend entries, two rows in a 1280 x 800 window."""
    specs = (LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), LayerSpec("BatchNorm2d"),
             LayerSpec("ReLU"), LayerSpec("MaxPool2d", {"kernel_size": 2}), LayerSpec("Flatten"),
             LayerSpec("Linear", {"out_features": 10}))
    return Network(specs, (3, 32, 32), "six")


@pytest.mark.parametrize("size", [(860, 410), (1400, 700)])  # the charts dock of a 1280 x 800 and a 1920 window
@pytest.mark.parametrize("model", ["alexnet", "lstm_tagger", "six"])
def test_legends_and_titles_sit_outside_the_data_and_are_not_cut(model: str, size: tuple[int, int], qtbot) -> None:
    doc = CostDocument(_six_categories() if model == "six" else load_layer_list(model))
    charts = ChartsWidget(doc, dark=False)
    _shown(charts, qtbot, size)
    for key, chart in charts.charts.items():
        visible = chart.mapToScene(chart.viewport().rect()).boundingRect()
        plot = chart.plot_item.getViewBox().sceneBoundingRect()  # where bars, points and curves are drawn
        legend = chart.legend_rect()
        assert not legend.isEmpty(), key
        assert not legend.intersects(plot), (key, legend, plot)
        assert chart.plot_item.sceneBoundingRect().bottom() <= visible.bottom() + 0.5, key  # nothing pushed out
        for sample, label in chart.legend.items:
            text = label.item.mapRectToScene(label.item.boundingRect())
            assert visible.contains(text) and text.width() >= label.item.document().idealWidth(), (key, label.text)
            assert not sample.sceneBoundingRect().intersects(plot), key
        title = chart.plot_item.titleLabel
        shown = title.mapRectToScene(title.boundingRect())
        assert visible.contains(title.item.mapRectToScene(title.item.boundingRect())), (key, title.text)
        assert shown.bottom() <= legend.top() + 0.5, key
        assert title.item.boundingRect().height() < 50, key  # a title and at most one note line, never wrapped
