"""Block diagram: mutate the document, assert the scene (block count, colour, identity, selection, collapse)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, Qt

from netcost.costing import CostReport, LayerSpec
from netcost.costing.chain import graph_from_network
from netcost.costing.formatting import si
from netcost.costing.graph import Scope
from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.common.cost_colors import CostScale, category_color, metric_value
from netcost.gui.diagram.scene import DiagramScene, scene_for
from netcost.gui.diagram.style import CONT_H
from netcost.gui.diagram.view import DiagramView
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.zoo import load_layer_list


@pytest.fixture
def doc(qtbot) -> CostDocument:
    return CostDocument(load_layer_list("alexnet"))


def _expected_scale(scene: DiagramScene) -> CostScale:
    d = scene.document
    values = [metric_value(d.row_cost(r).totals, scene.metric, d.convention) for r in range(d.row_count())]
    return CostScale.from_values(values, mode=scene.scale_mode)


def test_one_block_per_layer_through_insert_remove_undo(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    assert len(scene.blocks()) == doc.row_count() == 21
    doc.insert_layers(3, [LayerSpec("ReLU"), LayerSpec("ReLU")])
    assert len(scene.blocks()) == 23
    assert [b.layer_id for b in scene.blocks()] == doc.layer_ids()
    doc.remove_layers([0, 5])
    assert len(scene.blocks()) == 21
    doc.undo_stack.undo()
    assert len(scene.blocks()) == 23
    doc.undo_stack.undo()
    assert len(scene.blocks()) == 21
    assert [b.layer_id for b in scene.blocks()] == doc.layer_ids()
    assert all(b.scene() is scene for b in scene.blocks())
    # nothing left behind: exactly the document's blocks are in the scene
    from netcost.gui.diagram.blocks import LayerBlockItem
    assert sum(isinstance(i, LayerBlockItem) for i in scene.items()) == 21


def test_move_keeps_items_and_reorders(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    before = {b.layer_id: b for b in scene.blocks()}
    doc.move_layers(0, 0, 3)
    assert [b.layer_id for b in scene.blocks()] == doc.layer_ids()
    assert all(before[b.layer_id] is b for b in scene.blocks())


def test_edit_recolours_in_place_and_keeps_identity(doc: CostDocument, qtbot) -> None:
    scene = DiagramScene(doc)
    block = scene.block(3)  # conv2, the heaviest layer by FLOPs
    items_before = list(scene.items())
    old_color = block.color.name()
    with qtbot.waitSignal(doc.reportChanged):
        doc.set_layer_arg(3, "out_channels", 16)
    assert scene.block(3) is block
    assert block.color.name() != old_color
    assert set(scene.items()) == set(items_before)
    assert si(doc.row_cost(3).flops, "FLOPs") in block.text_lines()[-1]
    doc.undo_stack.undo()
    assert scene.block(3) is block and block.color.name() == old_color


def test_block_colour_is_the_colour_map_of_its_value(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    for metric in ("flops", "params", "macs", "memory"):
        for mode in ("linear", "log", "share"):
            scene.set_metric(metric)
            scene.set_scale_mode(mode)
            scale = _expected_scale(scene)
            for row, block in enumerate(scene.blocks()):
                value = metric_value(doc.row_cost(row).totals, metric, doc.convention)
                assert block.color == scale.color(value), (metric, mode, row)


def test_heaviest_block_gets_the_top_colour_and_zero_is_neutral(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    top = scene.scale.color(scene.scale.vmax)
    assert scene.block(3).color == top  # conv2: 39 % of FLOPs
    assert scene.block(13).color == scene.scale.color(0)  # Flatten: no FLOPs, grey
    assert scene.block(13).color != scene.scale.color(1)  # the cheapest non-zero cost is not grey either


def test_width_encodes_params(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    scene.set_width_metric("params")
    fc1, conv1, relu = scene.block(15), scene.block(0), scene.block(1)
    assert fc1.width_fraction == pytest.approx(1.0)  # the largest layer by params
    assert relu.width_fraction == pytest.approx(0.5)
    assert relu.width_fraction < conv1.width_fraction < fc1.width_fraction
    scene.set_width_metric(None)
    assert {b.width_fraction for b in scene.blocks()} == {1.0}


def test_convention_changes_the_flops_figure(doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    doc.set_convention("macs")
    assert "MMACs" in scene.block(3).text_lines()[-1]
    assert "MACs" in scene.metric_title()


def test_selection_is_shared_both_ways(doc: CostDocument, qtbot) -> None:
    view = DiagramView(doc)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    doc.selection.set_rows([15], source="table")
    assert view.scene.block(15).selected
    assert not view.scene.block(3).selected
    # click a block in the view: the shared selection follows
    rect = view.scene.unit_rect(3)
    pos = view.view.mapFromScene(rect.center())
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert doc.selection.rows == [3]
    assert view.scene.block(3).selected and not view.scene.block(15).selected
    # keyboard navigation moves the selection in execution order
    view.view.setFocus()
    qtbot.keyClick(view.view, Qt.Key.Key_Down)
    assert doc.selection.rows == [4]
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert doc.selection.rows == []


def test_view_zoom_fit_and_tooltip(doc: CostDocument, qtbot) -> None:
    view = DiagramView(doc)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    z = view.view.zoom()
    view.view.zoom_by(2.0)
    assert view.view.zoom() == pytest.approx(min(z * 2, 4.0))
    view.view.fit()
    assert view.view.zoom() == pytest.approx(z)
    html = view.scene.tooltip_html(view.scene.block(3))
    for text in ("conv2", "Params", "MACs", "FLOPs (NetCost)", "thop", "fvcore", "FlopCounterMode", "%"):
        assert text in html
    view.metric_box.setCurrentIndex(view.metric_box.findData("params"))
    assert view.scene.metric == "params"
    assert "Params" in view.color_bar.title()
    view.width_box.setCurrentIndex(view.width_box.findData(None))
    assert view.color_bar.width_note() == "Block width: uniform"


def _scoped(spans: tuple[tuple[str, int, int], ...]) -> CostReport:
    """AlexNet as a traced model's graph: its rows inside containers (path, first row, last row; inner ones
    after outer ones), subtotals from the evaluation."""
    graph = graph_from_network(load_layer_list("alexnet"))
    scope = [""] * len(graph.nodes)
    for path, first, last in spans:
        for r in range(first, last + 1):
            scope[r] = path
    nodes = tuple(replace(n, scope=scope[i]) for i, n in enumerate(graph.nodes))
    scopes = (Scope("", "AlexNet"), *(Scope(p, "Sequential") for p, _, _ in spans))
    return evaluate_graph(replace(graph, nodes=nodes, scopes=scopes, source={"kind": "torch"}))


def _traced_report() -> CostReport:
    """AlexNet as a traced model would report it: features / classifier containers with subtotals."""
    return _scoped((("features", 0, 12), ("features.block1", 0, 2), ("classifier", 14, 20)))


def test_collapsed_container_shows_its_subtotal(qtbot) -> None:
    doc = CostDocument()
    report = _traced_report()
    doc.set_report(report)
    scene = DiagramScene(doc)
    assert [g.node.path for g in scene.groups()] == ["features", "features.block1", "classifier"]
    assert all(b.isVisible() for b in scene.blocks())
    classifier = scene.group("classifier")
    scene.set_collapsed("classifier", True)
    assert classifier.collapsed and classifier.isVisible()
    assert not any(scene.block(r).isVisible() for r in range(14, 21))
    subtotal = report.layers[15].totals + report.layers[18].totals + report.layers[20].totals
    assert si(classifier.node.totals.flops, "FLOPs") in classifier.text_lines()[-1]
    assert classifier.node.totals.params == subtotal.params
    assert classifier.color == scene.scale.color(classifier.node.totals.flops)
    # collapse the outer container: its nested group disappears with its rows
    scene.set_collapsed("features", True)
    assert not scene.group("features.block1").isVisible()
    assert scene.navigation.visible_units() == [(0, "features"), (13, ""), (14, "classifier")]
    # selection of a hidden row highlights the container that shows it
    doc.selection.set_rows([3])
    assert scene.group("features").selected
    scene.collapse_to_depth(None)
    assert all(b.isVisible() for b in scene.blocks())


def test_scene_for_export_renders_without_a_view(doc: CostDocument) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    scene = scene_for(doc, dark=True, metric="params")
    assert scene.theme.dark and scene.metric == "params"
    rect = scene.sceneRect()
    assert rect.width() > 0 and rect.height() > 0
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    # the largest-params block is painted in the top colour of the map (image pixels count from the scene's corner)
    fc1 = scene.block(15).mapRectToScene(scene.block(15).block_rect()).center() - rect.topLeft()
    assert image.pixelColor(int(fc1.x()), int(fc1.y() + 30)) == scene.scale.color(scene.scale.vmax)


def test_category_colours_are_fixed_and_distinct() -> None:
    from netcost.costing import CATEGORIES
    names = {category_color(c).name() for c in CATEGORIES}
    assert len(names) == len(CATEGORIES)


@pytest.mark.parametrize("n", [11, 23, 37, 80])
def test_long_chains_cut_into_page_columns_read_top_to_bottom(n: int, make_chain, qtbot) -> None:
    """For a page (an export), a chain is cut into columns, each read top to bottom, in execution order."""
    scene = DiagramScene(CostDocument(make_chain(n)))
    scene.set_column_height(1200)
    per_column: dict[int, list[float]] = {}
    for b in scene.blocks():
        per_column.setdefault(round(b.pos().x()), []).append(b.pos().y())
    counts = [len(per_column[x]) for x in sorted(per_column)]
    assert sum(counts) == n
    order = sorted(scene.blocks(), key=lambda b: (round(b.pos().x()), b.pos().y()))
    assert [b.row for b in order] == list(range(n))
    assert len(counts) > 1 and max(counts) <= 1200 / 112, counts  # (a block and its gap: 112 units)
    assert len(scene.routes()) == n  # the input's edge and one between each consecutive pair


def test_zoomed_out_names_keep_their_tail(qapp) -> None:  # noqa: ANN001 - fonts need the application (alone: Qt aborts)
    from PySide6.QtGui import QFont

    from netcost.gui.diagram.names import short_name

    font = QFont()
    font.setPixelSize(22)
    assert short_name("layer1.0.conv1", font, 80) == "conv1"
    assert short_name("layer1.0.conv1", font, 1000) == "layer1.0.conv1"
    assert short_name("layer1.0", font, 20) == "layer1.0"  # '0' alone would say nothing
    assert short_name("layer1.0.downsample.0", font, 150) == "downsample.0"


def test_zoomed_out_render_of_expanded_frames(qtbot) -> None:
    """Frames and blocks paint at overview zoom (headers enlarged, names shortened) without errors."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    doc = CostDocument()
    doc.set_report(_traced_report())
    scene = DiagramScene(doc)
    rect = scene.sceneRect()
    for zoom in (0.2, 0.35, 0.6, 1.0):
        image = QImage(max(1, int(rect.width() * zoom)), max(1, int(rect.height() * zoom)),
                       QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        scene.render(painter, QRectF(image.rect()), rect)
        painter.end()
        assert not image.isNull()


def _deep_traced_report() -> CostReport:
    """AlexNet with nested containers."""
    return _scoped((("features", 0, 12), ("features.block1", 0, 9), ("classifier", 14, 20)))


def test_continued_frames_get_a_cont_header(qtbot) -> None:
    doc = CostDocument()
    doc.set_report(_deep_traced_report())
    scene = DiagramScene(doc)
    scene.collapse_to_depth(None)
    scene.set_column_height(400)  # a few blocks per column: both frames continue in the next columns
    for path in ("features", "features.block1"):
        frame = scene.group(path)
        assert len(frame.segments) >= 2
        assert len(frame.continued_header_rects()) == len(frame.segments) - 1
    outer, inner = scene.group("features"), scene.group("features.block1")
    assert inner.segments[1].top() >= outer.segments[1].top() + CONT_H - 0.5
    # no box overlaps another, and each sits inside its frame's pieces
    rects = [scene.unit_rect(r) for r, _ in scene.navigation.visible_units()]
    for i, a in enumerate(rects):
        assert not any(a.intersects(b) for b in rects[i + 1:])
    for row in range(0, 10):
        assert any(seg.contains(scene.unit_rect(row)) for seg in inner.segments)
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    rect = scene.sceneRect()
    for zoom in (0.25, 1.0):
        image = QImage(int(rect.width() * zoom), int(rect.height() * zoom), QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        scene.render(painter, QRectF(image.rect()), rect)
        painter.end()


def test_long_names_are_shortened_to_their_tail_not_elided() -> None:
    from PySide6.QtGui import QFont, QFontMetricsF

    from netcost.gui.diagram.names import fit_title

    font = QFont()
    font.setPixelSize(13)
    font.setBold(True)
    assert fit_title("conv1", "Conv2d", font, 300) == "conv1  Conv2d"
    short = fit_title("layer1.0.downsample.1", "BatchNorm2d", font, 230)
    assert short.endswith("downsample.1  BatchNorm2d") and "…" not in short
    assert QFontMetricsF(font).horizontalAdvance(short) <= 230
    assert fit_title("features.3.conv.0.1", "BatchNorm2d", font, 200).endswith("conv.0.1  BatchNorm2d")


def test_block_titles_fit_their_blocks_on_a_traced_model(qtbot) -> None:
    from PySide6.QtGui import QFontMetricsF

    doc = CostDocument()
    doc.set_report(_deep_traced_report())
    scene = DiagramScene(doc)
    fm = QFontMetricsF(scene.fonts.title)
    for block in scene.blocks():
        title = block.text_lines()[0]
        assert fm.horizontalAdvance(title) <= block.block_rect().width() - 8 or "." not in title, title


def test_color_bar_paint_to_leaves_the_callers_painter_usable(doc: CostDocument, qtbot) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    from netcost.gui.diagram.color_bar import ColorBarWidget

    scene = DiagramScene(doc)
    bar = ColorBarWidget(scene)
    qtbot.addWidget(bar)
    image = QImage(700, 140, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    pen = painter.pen()
    bar.paint_to(painter, QRectF(0, 0, 700, 60), scene.theme)
    assert painter.isActive() and painter.pen() == pen  # still the caller's, state restored
    painter.fillRect(QRectF(0, 100, 700, 40), QColor("red"))  # and still drawing
    painter.end()
    assert image.pixelColor(350, 120) == QColor("red")


def test_color_bar_grows_when_pinning_a_baseline_lengthens_its_caption(doc: CostDocument, qtbot) -> None:
    """A pinned baseline adds "badges: change vs the baseline" to the caption: at a laptop's diagram width it wraps,
    and the bar makes room for the extra line (its tick labels were cut at the bottom before)."""
    from netcost.gui.diagram.color_bar import ColorBarWidget

    bar = ColorBarWidget(DiagramScene(doc))
    qtbot.addWidget(bar)
    bar.resize(640, 58)
    before = bar.minimumHeight()
    doc.pin_baseline()
    assert "vs the baseline" in bar.title()
    assert bar.minimumHeight() == round(bar.legend_height(640)) > before


def test_keyboard_home_end_and_enter_folds(qtbot) -> None:
    doc = CostDocument()
    doc.set_report(_deep_traced_report())
    view = DiagramView(doc)
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.view.setFocus()
    qtbot.keyClick(view.view, Qt.Key.Key_End)
    assert doc.selection.rows == [doc.row_count() - 1]
    qtbot.keyClick(view.view, Qt.Key.Key_Home)
    assert doc.selection.rows == [0]
    qtbot.keyClick(view.view, Qt.Key.Key_PageDown)
    assert doc.selection.rows == [10]
    doc.selection.set_rows([15])
    qtbot.keyClick(view.view, Qt.Key.Key_Return)  # row 15 is shown by itself: nothing to fold
    assert not view.scene.group("classifier").collapsed
