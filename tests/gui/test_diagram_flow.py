"""The diagram reads as one column of flow: top to bottom by default (no newspaper columns), left to right on
request (remembered, and the diagram export follows it); long edges such as a U-Net's skip connections run in lanes
of their own beside the boxes they pass; the view opens fitted to the width at a zoom where labels read in full."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, QSettings, Qt

from netcost.costing import rewrites as rw
from netcost.gui.diagram.layout import Orientation
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.diagram.view import ORIENTATION_KEY, DiagramView, saved_orientation
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph
from netcost.model_io.files.zoo import load_layer_list, load_model_graph

UNET = Path(__file__).parents[1] / "fixtures" / "models" / "small_unet.json"


def _unet_doc() -> CostDocument:
    doc = CostDocument()
    doc.set_graph(loads_graph(UNET.read_text())[0])
    return doc


def _box(scene: DiagramScene, key: str) -> QRectF:
    item = scene.item_for_key(key)
    return item.mapRectToScene(item.block_rect()) if hasattr(item, "block_rect") else item.sceneBoundingRect()


def _assert_flows(scene: DiagramScene, horizontal: bool) -> None:
    """Every edge leaves its source on the far side and runs only forward (down, or right) to its target."""
    assert scene.routes()
    for r in scene.routes():
        along = [p[0] if horizontal else p[1] for p in r.points]
        assert all(b >= a - 0.01 for a, b in zip(along, along[1:], strict=False)), (r.src, r.dst, r.points)
        src, dst = scene.layout.boxes.get(r.src), scene.layout.boxes.get(r.dst)
        if src is not None and dst is not None:
            assert ((src.x + src.w <= dst.x) if horizontal else (src.bottom <= dst.y)), (r.src, r.dst)


@pytest.mark.parametrize("n", [11, 37, 80])
def test_a_chain_is_one_column_top_to_bottom(n: int, make_chain, qtbot) -> None:
    scene = DiagramScene(CostDocument(make_chain(n)))
    blocks = scene.blocks()
    assert len(blocks) == n
    assert len({round(b.sceneBoundingRect().center().x(), 3) for b in blocks}) == 1  # one x: no column wrap
    tops = [b.sceneBoundingRect().top() for b in blocks]
    assert tops == sorted(tops) and len(set(tops)) == n  # in execution order, downwards
    assert len(scene.columns()) == 1
    _assert_flows(scene, horizontal=False)


def test_left_to_right_is_one_row_flowing_right(make_chain, qtbot) -> None:
    scene = DiagramScene(CostDocument(make_chain(23)), orientation=Orientation.LEFT_RIGHT)
    blocks = scene.blocks()
    assert len({round(b.sceneBoundingRect().center().y(), 3) for b in blocks}) == 1
    lefts = [b.sceneBoundingRect().left() for b in blocks]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(blocks)
    _assert_flows(scene, horizontal=True)
    rect = scene.sceneRect()
    assert rect.width() > 5 * rect.height()


def test_left_to_right_keeps_frames_headers_on_top_and_boxes_inside(qtbot) -> None:
    doc = _unet_doc()
    scene = DiagramScene(doc, orientation=Orientation.LEFT_RIGHT)
    scene.collapse_to_depth(None)
    _assert_flows(scene, horizontal=True)
    for g in scene.groups():
        frame = g.mapRectToScene(g.segments[0])
        for row in scene.navigation.rows_of_key(scene.key_of_item(g)):
            box = scene.unit_rect(row)
            if not box.isEmpty():
                assert frame.contains(box) and box.top() >= frame.top() + g.header_rect().height() - 0.5


def test_unet_skip_connections_run_beside_the_boxes_they_skip(qtbot) -> None:
    """Each skip (encoder level -> its decoder's concat) is drawn as its own long edge that crosses no box on
    the way; the rest reads top to bottom."""
    doc = _unet_doc()
    scene = DiagramScene(doc)
    scene.collapse_to_depth(None)
    _assert_flows(scene, horizontal=False)
    graph = doc.graph
    boxes = {k: QRectF(b.x + scene.dx, b.y, b.w, b.h) for k, b in scene.layout.boxes.items()}
    for level in (1, 2, 3):
        src = graph.nodes[doc.row_of(f"enc{level}.relu2")].id
        dst = graph.nodes[doc.row_of(f"skip{level}")].id
        route = next(r for r in scene.routes() if r.src == src and r.dst == dst)
        assert route.points[-1][1] - route.points[0][1] > 1000  # a long edge, past the levels below
        passed = [k for k, b in boxes.items() if k not in (src, dst)
                  and route.points[0][1] < b.center().y() < route.points[-1][1]]
        assert len(passed) > 5
        for (x0, y0), (x1, y1) in zip(route.points, route.points[1:], strict=False):
            seg = QRectF(min(x0, x1) + scene.dx, min(y0, y1), abs(x1 - x0) + 0.01, abs(y1 - y0) + 0.01)
            hit = [k for k in passed if boxes[k].adjusted(2, 2, -2, -2).intersects(seg)]
            assert not hit, (level, [graph.node(k).display_name for k in hit if not k.startswith("\x1f")])


def test_inception_branches_sit_side_by_side_in_one_flow(qtbot) -> None:
    doc = CostDocument()
    doc.set_graph(load_model_graph("inception_3a"))
    scene = DiagramScene(doc)
    _assert_flows(scene, horizontal=False)
    firsts = [scene.unit_rect(doc.row_of(n)) for n in ("branch1.conv", "branch2.reduce", "branch3.reduce",
                                                       "branch4.pool")]
    assert len({round(r.top()) for r in firsts}) == 1  # one row: the four branches start together
    xs = [r.center().x() for r in firsts]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert scene.unit_rect(doc.row_of("concat")).top() > max(r.bottom() for r in firsts)


@pytest.mark.parametrize("orientation", list(Orientation))
@pytest.mark.parametrize("pinned", [False, True])
def test_an_inserted_node_sits_in_the_flow_between_its_neighbours(orientation: Orientation, pinned: bool,
                                                                    qtbot) -> None:
    """AlexNet after "global average pooling" is applied as the Rewrites panel applies it: gap is drawn between
    MaxPool2d-12 and Flatten-13 (not beside Flatten-13 as a dead end), every edge runs with the flow; undo and redo
    keep it so."""
    doc = CostDocument(load_layer_list("alexnet"))
    scene = DiagramScene(doc, orientation=orientation)
    if pinned:
        doc.pin_baseline()
    gap = next(r for r in rw.candidates(doc.graph, ("global_avg_pool",), doc.report))
    preview = rw.preview(doc.graph, gap, doc.report)
    assert doc.apply_graph_change(preview.result.graph, f"Rewrite: {gap.description}", preview.result.mapping)
    horizontal = orientation.horizontal

    def check() -> None:
        pool, new, flat = (scene.item_for_key(k).sceneBoundingRect() for k in ("MaxPool2d-12", "gap", "Flatten-13"))
        if horizontal:
            assert pool.right() <= new.left() and new.right() <= flat.left(), (pool, new, flat)
        else:
            assert pool.bottom() <= new.top() and new.bottom() <= flat.top(), (pool, new, flat)
        assert {(r.src, r.dst) for r in scene.routes()} >= {("MaxPool2d-12", "gap"), ("gap", "Flatten-13")}
        assert ("MaxPool2d-12", "Flatten-13") not in {(r.src, r.dst) for r in scene.routes()}
        _assert_flows(scene, horizontal)

    check()
    doc.undo_stack.undo()
    assert "gap" not in {r.dst for r in scene.routes()}
    _assert_flows(scene, horizontal)
    doc.undo_stack.redo()
    check()


def _shown(qtbot, doc: CostDocument, size: tuple[int, int]) -> DiagramView:
    view = DiagramView(doc)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(200)  # the view settles its size (the fit follows a resize)
    view.view.viewport().grab()  # paint once: blocks lay their labels out for this zoom
    return view


@pytest.mark.parametrize("size", [(900, 410), (1400, 650)])  # the diagram dock at 1280x800 and 1920x1080
def test_alexnet_opens_fitted_to_width_from_the_top_with_labels_in_full(size: tuple[int, int], qtbot) -> None:
    doc = CostDocument(load_layer_list("alexnet"))
    view = _shown(qtbot, doc, size)
    gv = view.view
    assert gv.zoom() >= gv.READABLE
    seen = gv.mapToScene(gv.viewport().rect()).boundingRect()
    rect = view.scene.sceneRect()
    assert seen.left() <= rect.left() + 1 and seen.right() >= rect.right() - 1  # the whole width
    assert seen.top() <= rect.top() + 1  # from the top: the input and the first layers show
    assert seen.contains(view.scene.unit_rect(0))
    painted = [b for b in view.scene.blocks() if b._plan and seen.intersects(b.sceneBoundingRect())]
    assert len(painted) >= 2
    for b in painted:
        texts = [static.text() for _, static, _, _ in b._plan]
        assert len(texts) >= 3, texts  # name, arguments and cost: every line kept
        assert not any("…" in t for t in texts), texts
        assert any("FLOPs" in t for t in texts), texts


def test_a_wide_short_graph_opens_whole_and_a_taller_one_from_the_top(qtbot) -> None:
    doc = CostDocument()
    doc.set_graph(load_model_graph("inception_3a"))
    view = _shown(qtbot, doc, (1400, 900))
    gv = view.view
    seen = gv.mapToScene(gv.viewport().rect()).boundingRect()
    assert gv.zoom() >= gv.READABLE and seen.contains(view.scene.sceneRect())  # all of it, readable
    view = _shown(qtbot, doc, (900, 410))
    gv = view.view
    seen = gv.mapToScene(gv.viewport().rect()).boundingRect()
    assert gv.zoom() >= gv.READABLE
    assert all(seen.contains(view.scene.unit_rect(doc.row_of(n)))
               for n in ("branch1.conv", "branch2.reduce", "branch3.reduce", "branch4.pool"))


def test_left_to_right_is_a_view_option_that_persists_and_the_export_follows(qtbot, tmp_path) -> None:
    QSettings().remove(ORIENTATION_KEY)
    doc = CostDocument(load_layer_list("alexnet"))
    view = _shown(qtbot, doc, (900, 410))
    assert view.scene.orientation is Orientation.TOP_DOWN and saved_orientation() is Orientation.TOP_DOWN
    tall = view.scene.sceneRect()
    assert tall.height() > tall.width()
    view.orientation_box.setCurrentIndex(view.orientation_box.findData(Orientation.LEFT_RIGHT.value))
    assert view.scene.orientation is Orientation.LEFT_RIGHT
    wide = view.scene.sceneRect()
    assert wide.width() > wide.height()
    _assert_flows(view.scene, horizontal=True)
    gv = view.view
    seen = gv.mapToScene(gv.viewport().rect()).boundingRect()
    assert gv.zoom() >= gv.READABLE and seen.left() <= wide.left() + 1  # starts where the flow starts
    assert not view.width_box.isEnabled()  # block width would run along the flow: uniform left to right
    assert saved_orientation() is Orientation.LEFT_RIGHT  # remembered
    again = _shown(qtbot, doc, (900, 410))
    assert again.scene.orientation is Orientation.LEFT_RIGHT and again.orientation_box.currentData() == "left-right"
    # Export ▸ Diagram draws what the window shows: a wide image
    from PySide6.QtGui import QImage

    from netcost.gui.report.exporters import export_diagram

    out = tmp_path / "d.png"
    export_diagram(doc, out, orientation=again.scene.orientation, scale=1.0)
    image = QImage(str(out))
    assert image.width() > 2 * image.height()
    again.set_orientation(Orientation.TOP_DOWN)
    assert saved_orientation() is Orientation.TOP_DOWN


def _blocks_under_minimap(view: DiagramView) -> list[str]:
    gv = view.view
    mm = gv.minimap
    if not mm.isVisible():
        return []
    corner = QRectF(mm.geometry())
    return [b.layer_id for b in view.scene.blocks() if b.isVisible() and corner.intersects(
        QRectF(gv.mapFromScene(b.sceneBoundingRect()).boundingRect().translated(gv.viewport().pos())))]


@pytest.mark.parametrize("size", [(860, 260), (900, 410), (1400, 650)])  # the diagram dock at 1280x800 and more
def test_after_fit_the_minimap_covers_no_block(size: tuple[int, int], qtbot) -> None:
    """The Inception block fitted (F) fills the view's width at a readable zoom: the minimap, which would sit over
    branch 4, stays hidden until the view moves; AlexNet's one column leaves its corner free, so it shows."""
    doc = CostDocument()
    doc.set_graph(load_model_graph("inception_3a"))
    view = _shown(qtbot, doc, size)
    gv = view.view
    for _ in range(2):  # as opened, and after F
        assert gv.zoom() >= gv.READABLE
        assert not _blocks_under_minimap(view)
        qtbot.keyClick(gv, Qt.Key.Key_F)
    seen = gv.mapToScene(gv.viewport().rect()).boundingRect()
    if not seen.contains(view.scene.sceneRect()):  # more than shows: scrolling brings the overview back
        gv.verticalScrollBar().setValue(gv.verticalScrollBar().value() + 40)
        assert gv.minimap.isVisible()
    alexnet = _shown(qtbot, CostDocument(load_layer_list("alexnet")), size)
    qtbot.keyClick(alexnet.view, Qt.Key.Key_F)
    assert alexnet.view.minimap.isVisible() and not _blocks_under_minimap(alexnet)
