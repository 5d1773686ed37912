"""One rule for an incomplete report (a shape-breaking edit: AlexNet's conv2 told it reads 32 channels, not 96):
every view shows what is not costed as "—" / "not costed", never a partial total, a share of one, a delta against
it or "removed" (issue 22, items 3 and 6). Each view is read as the user sees it, with and without a baseline."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.costing.comparison import REMOVED
from netcost.gui.charts.category_share_chart import CategoryShareChart
from netcost.gui.charts.compare_chart import CompareChart
from netcost.gui.charts.cumulative_share_chart import CumulativeShareChart
from netcost.gui.charts.layer_share_chart import LayerShareChart
from netcost.gui.diagram.blocks import GroupFrameItem
from netcost.gui.diagram.colouring import _GRAY
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.exporters import export_svg
from netcost.gui.table.hierarchy_tree import PATH_ROLE, HierarchyTreeWidget
from netcost.gui.table.layer_table_model import DELTA_CONV, DELTA_PARAMS, PCT_CONV, PCT_PARAMS, LayerTableModel
from netcost.gui.table.totals_widget import TotalsWidget
from netcost.gui.whatif.compare_view import CompareView
from netcost.model_io.files import tables
from netcost.model_io.files.graph_file import loads_graph

SVG_NS = "{http://www.w3.org/2000/svg}"
# a figure with a sign or a percentage: a delta or a share ("-25.4 M (-99.3 %)", "520.3 %", "+6.5 pp")
FIGURE = re.compile(r"[-−+]\s?\d|\d\s?%")


def _broken(doc: CostDocument) -> None:
    """conv2 told it reads 32 channels: it and all 17 nodes after it cannot be costed."""
    assert doc.set_layer_arg(doc.row_of("conv2"), "in_channels", 32)
    assert not doc.report.complete and len(doc.report.problems) == 18


@pytest.fixture(params=[False, True], ids=["no-baseline", "baseline"])
def doc(request: pytest.FixtureRequest, qapp: QApplication, alexnet: Network) -> CostDocument:
    d = CostDocument(alexnet)
    if request.param:
        d.pin_baseline()
    return d


@pytest.fixture
def pinned(qapp: QApplication, alexnet: Network) -> CostDocument:
    """A document with a baseline: what a comparison is made against."""
    d = CostDocument(alexnet)
    d.pin_baseline()
    return d


def test_totals_panel_shows_dashes_and_withholds_deltas(qtbot, doc: CostDocument) -> None:
    totals = TotalsWidget(doc)
    qtbot.addWidget(totals)
    _broken(doc)
    assert "18 of 21 rows not costed (from conv2)" in totals.incomplete.text()
    for key, value in totals.values.items():
        assert value.text() == "—", key  # never the partial sum (34.8 K params)
        assert totals.deltas[key].text() == "not costed", key
    assert "not costed (18 nodes)" in totals.values["params"].toolTip()
    for _name, p_cell, f_cell in totals.split_rows.values():
        assert (p_cell.text(), f_cell.text()) == ("—", "—")  # no share of a partial total
    if doc.baseline is not None:
        text = totals.baseline_label.text()
        assert "Changes withheld: not costed (18 nodes) now" in text
        assert "removed" not in text and "18 not costed" in text
        assert totals.deltas["params"].toolTip() == "no change shown: not costed (18 nodes) now"


def test_table_cells_say_not_costed_and_show_no_shares(qtbot, doc: CostDocument) -> None:
    model = LayerTableModel(doc)
    _broken(doc)
    conv1, conv2, fc1 = (doc.row_of(n) for n in ("conv1", "conv2", "fc1"))
    for row in range(doc.row_count()):
        assert model.index(row, PCT_CONV).data() == "—" and model.index(row, PCT_PARAMS).data() == "—"
    assert model.index(conv1, 4).data() == "34.8 K"  # a costed row keeps its own figures
    if doc.baseline is None:
        assert model.index(conv2, DELTA_PARAMS).data() is None
        return
    for row in (conv2, fc1):
        for col in (DELTA_PARAMS, DELTA_CONV):
            assert model.index(row, col).data() == "not costed"
        assert "not costed now" in model.index(row, DELTA_PARAMS).data(3)  # ToolTipRole
    assert model.index(conv1, DELTA_PARAMS).data() == "="  # costed on both sides: an exact delta


def test_comparison_calls_them_not_costed_not_removed(pinned: CostDocument) -> None:
    doc = pinned
    _broken(doc)
    cmp = doc.comparison()
    assert cmp is not None and not cmp.complete and cmp.delta is None
    assert cmp.removed == () and doc.removed_rows() == ()
    assert all(d.status != REMOVED for d in cmp.ordered)
    assert [d.name for d in cmp.not_costed][:2] == ["conv2", "ReLU-4"] and len(cmp.not_costed) == 18
    assert doc.row_delta(doc.row_of("fc1")).status == "not costed"
    assert cmp.describe() == "design change (18 not costed)"
    assert all(g.delta is None for g in cmp.groups() if g.not_costed)


def test_status_bar_shows_no_partial_total(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from netcost.gui.app.main_window import MainWindow

    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "r")
    qtbot.addWidget(w)
    w.document.pin_baseline()
    _broken(w.document)
    assert w.totals_label.text() == "— params   ·   — MACs   ·   not costed (18 nodes)"


def test_share_charts_draw_nothing_and_say_why(qtbot, doc: CostDocument) -> None:
    charts = [LayerShareChart(doc), CategoryShareChart(doc), CumulativeShareChart(doc)]
    for c in charts:
        qtbot.addWidget(c)
    _broken(doc)
    layer, category, cumulative = charts
    assert layer.flops_share.size == 0 and layer.params_share.size == 0  # not 99.6 % of a partial total
    assert category.categories == [] and cumulative.flops_cum.size == 0
    for c in charts:
        assert "not costed (18 nodes)" in c.withheld_text
    doc.undo_stack.undo()  # fixed: the shares come back
    assert layer.flops_share.size == 21 and layer.withheld_text == ""


def test_compare_view_and_chart_withhold_the_change(qtbot, pinned: CostDocument) -> None:
    doc = pinned
    view = CompareView(doc)
    qtbot.addWidget(view)
    _broken(doc)
    summary = view.summary.text()
    assert "Changes withheld: not costed (18 nodes) now" in summary and not FIGURE.search(summary)
    assert not view.removed.isVisibleTo(view)
    chart: CompareChart = view.params_chart
    fc1 = [i for i, g in enumerate(chart.groups) if g.label == "fc1"]
    assert fc1 and chart.after[fc1[0]] == 0  # no bar of a partial sum
    assert chart.labels[fc1[0]].textItem.toPlainText() == "not costed"


def test_diagram_blocks_say_not_costed_and_show_no_share(qtbot, doc: CostDocument) -> None:
    scene = DiagramScene(doc)
    _broken(doc)
    conv1 = scene.block(doc.row_of("conv1"))
    assert "%" not in scene.text.block_lines(conv1)[-1][0]  # its FLOPs, no share of a partial total
    conv2 = scene.block(doc.row_of("conv2"))
    assert [t for t, _ in scene.text.block_lines(conv2)][-1] == "— · not costed"
    assert conv2.color.name() == _GRAY.name()
    assert not scene.placement.removed.isVisible()  # no ghosts: nothing was removed


def _scoped_doc() -> CostDocument:
    """stem conv, then `body` (two blocks of conv+relu) and a `head` scope: a small traced-style graph."""
    nodes = [{"type": "Conv2d", "name": "stem", "inputs": ["x"], "out_channels": 8, "kernel_size": 3, "padding": 1}]
    scopes = [{"path": "body", "type": "Sequential"}]
    for b in range(2):
        s = f"body.{b}"
        scopes.append({"path": s, "type": "Block"})
        nodes += [{"type": "Conv2d", "name": f"{s}.conv", "scope": s, "out_channels": 8, "kernel_size": 3,
                   "padding": 1},
                  {"type": "ReLU", "name": f"{s}.relu", "scope": s}]
    scopes.append({"path": "head", "type": "Head"})
    nodes += [{"type": "AdaptiveAvgPool2d", "name": "head.pool", "scope": "head", "output_size": 1},
              {"type": "view", "name": "head.flatten", "scope": "head", "size": [1, 8]},
              {"type": "Linear", "name": "head.fc", "scope": "head", "out_features": 10}]
    text = json.dumps({"format": "netcost.graph/1", "name": "scoped",
                       "inputs": [{"name": "x", "shape": [1, 8, 16, 16]}], "nodes": nodes, "scopes": scopes})
    doc = CostDocument()
    doc.set_graph(loads_graph(text)[0])
    return doc


def _break_body(doc: CostDocument) -> None:
    row = next(r for r in range(doc.row_count()) if doc.node(r).display_name == "body.1.conv")
    assert doc.set_layer_arg(row, "in_channels", 3)
    assert len(doc.report.problems) == 5  # body.1's conv and relu, the head's pool, view and fc


def test_folded_blocks_downstream_are_drawn_not_costed(qtbot, qapp: QApplication) -> None:
    doc = _scoped_doc()
    scene = DiagramScene(doc)
    scene.set_expanded_scopes([])  # every scope folded
    head = scene.group("head")
    assert head.collapsed and "%" in scene.text.group_lines(head)[-1][0]
    doc.pin_baseline()
    _break_body(doc)
    for path in ("head", "body"):
        g: GroupFrameItem = scene.group(path)
        lines = [t for t, _ in scene.text.group_lines(g)]
        assert lines[-1].startswith("— · ") and lines[-1].endswith("not costed"), (path, lines)
        assert g.color.name() == _GRAY.name() and g.badge == ("not costed", "not costed")
        assert "not costed" in scene.tooltip_html(g)
    assert scene.text.group_lines(scene.group("head"))[-1][0] == "— · 3 not costed"
    assert scene.group("body.0").node.complete  # upstream of the break: its own figure, still coloured
    assert scene.group("body.0").color.name() != _GRAY.name()
    doc.undo_stack.undo()
    assert "%" in scene.text.group_lines(scene.group("head"))[-1][0]


def _tree_items(tree: HierarchyTreeWidget) -> dict[str, tuple[str, str, str]]:
    out = {}
    stack = [tree.tree.topLevelItem(i) for i in range(tree.tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        out[str(item.data(0, PATH_ROLE))] = (item.text(0), item.text(2), item.text(3))
        stack += [item.child(i) for i in range(item.childCount())]
    return out


def test_modules_tree_keeps_every_module_and_marks_the_uncosted(qtbot, qapp: QApplication) -> None:
    doc = _scoped_doc()
    tree = HierarchyTreeWidget(doc)
    qtbot.addWidget(tree)
    whole = _tree_items(tree)
    _break_body(doc)
    tree.rebuild()
    items = _tree_items(tree)
    assert set(items) == set(whole)  # nothing dropped
    assert tree.info.text() == "scoped: 8 nodes in 4 containers; 5 not costed"
    assert items["head.fc"][1:] == ("—", "not costed") and items["body.1.conv"][1:] == ("—", "not costed")
    assert items["head"][1:] == ("—", "not costed (3)") and items["body"][1:] == ("—", "not costed (2)")
    assert items["body.0"] == whole["body.0"]  # costed: its figures


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    return " ".join(" ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")).split())  # (wrapped)


def test_report_export_shows_no_totals_shares_or_deltas(doc: CostDocument, tmp_path: Path) -> None:
    _broken(doc)
    out = tmp_path / "broken.svg"
    export_svg(doc, out)
    text = _svg_text(out)
    assert "21 layers, not costed (18 nodes)" in text
    assert "Incomplete: not costed (18 nodes) (from Conv2d #3 'conv2'" in text
    assert "34.8 K" not in text.split("Model totals")[1].split("By category")[0]  # no partial total
    assert "99.6 %" not in text  # conv1's share of a partial total, in the heaviest-layers tables
    assert "Same model in other tools' conventions" not in text
    if doc.baseline is not None:
        assert "Δ withheld: not costed (18 nodes) now" in text
        assert "-61.2 M" not in text and "change since the pinned baseline" not in text


def test_table_exports_of_an_incomplete_report(doc: CostDocument) -> None:
    _broken(doc)
    report, conv = doc.report, doc.convention
    csv = tables.to_csv(report, conv).splitlines()
    assert csv[-1].startswith("TOTAL,not costed (18 nodes),")
    assert ",99.6" not in "\n".join(csv) and not any(c.strip() for c in csv[1].split(",")[11:13])  # no share
    md = tables.to_markdown(report, conv)
    assert "- Totals: — (not costed (18 nodes); from Conv2d #3 'conv2'" in md and "Total params" not in md
    data = json.loads(tables.to_json(report, conv))
    assert data["complete"] is False and data["totals"] is None and data["by_category"] is None
    assert len(data["problems"]) == 18
