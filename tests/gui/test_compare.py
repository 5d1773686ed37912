"""Comparison with a pinned baseline: per-row deltas in the table, removed rows, design vs settings changes, the
before-vs-after chart per scope (ResNet-50's stages), the colour scale fixed to the baseline, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from netcost.costing import Network
from netcost.costing import rewrites as rw
from netcost.costing.graph import Graph, Node, Ref
from netcost.gui.charts.compare_chart import CompareChart
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.table.layer_table_model import DELTA_CONV, DELTA_PARAMS, SORT_ROLE, LayerTableModel
from netcost.gui.table.totals_widget import TotalsWidget
from netcost.gui.whatif.compare_view import CompareView


def test_row_deltas_in_the_table(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    doc.pin_baseline()
    conv1, conv2, fc1 = (doc.row_of(n) for n in ("conv1", "conv2", "fc1"))
    assert model.index(conv1, DELTA_PARAMS).data() == "="
    doc.set_layer_arg(conv1, "out_channels", 48)
    # conv1 3->96 11x11 no bias: 3 x 96 x 121 = 34,848 -> 3 x 48 x 121 = 17,424
    assert model.index(conv1, DELTA_PARAMS).data(SORT_ROLE) == -17_424
    assert model.index(conv1, DELTA_PARAMS).data() == "-17.4 K (-50.0 %)"
    # conv2 reads 48 channels now (in_channels inferred): 96 x 192 x 25 = 460,800 -> 230,400
    assert model.index(conv2, DELTA_PARAMS).data(SORT_ROLE) == -230_400
    # its FLOPs (NetCost: 2 x MACs, no bias): 2 x 48 x 192 x 25 x 27² less
    assert model.index(conv2, DELTA_CONV).data(SORT_ROLE) == -2 * 48 * 192 * 25 * 27 * 27
    assert model.index(fc1, DELTA_PARAMS).data() == "="
    green = model.index(conv1, DELTA_PARAMS).data(Qt.ItemDataRole.ForegroundRole).color().name()
    assert green == "#2e7d32"
    assert "34,848 → 17,424" in model.index(conv1, DELTA_PARAMS).data(Qt.ItemDataRole.ToolTipRole)
    d = doc.row_delta(conv2)
    assert d is not None and d.status == "changed" and d.before.params == 460_800 and d.after.params == 230_400


def test_new_and_removed_rows_and_one_undo_step(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    doc.pin_baseline()
    g = doc.graph
    i = g.index["fc2"]
    old = g.nodes[i]
    a = Node("fc2_low", "Linear", {"out_features": 256, "bias": True}, old.inputs, name="fc2_low")
    b = Node("fc2_up", "Linear", {"out_features": 4096, "bias": True}, (Ref("fc2_low"),), name="fc2_up")
    nodes = list(g.nodes[:i]) + [a, b] + [n if Ref("fc2") not in n.inputs else
                                          Node(n.id, n.op, n.args, (Ref("fc2_up"),), name=n.name)
                                          for n in g.nodes[i + 1:]]
    assert doc.apply_graph_change(Graph(tuple(nodes), g.inputs, name=g.name), "Low-rank fc2",
                                  {"fc2": ("fc2_low", "fc2_up")})
    assert doc.undo_stack.count() == 1 and model.rowCount() == doc.row_count() == len(alexnet.layers) + 1
    low = doc.row_of("fc2_low")
    assert model.index(low, DELTA_PARAMS).data(SORT_ROLE) == 4096 * 256 + 256  # new: all of it
    assert model.index(low, DELTA_PARAMS).data().startswith("new +")
    assert [r.name for r in doc.removed_rows()] == ["fc2"]
    cmp = doc.comparison()
    assert cmp.kind == "design" and "2 new, 1 removed" in cmp.describe()
    group = next(gr for gr in cmp.groups() if gr.label == "fc2")  # the new rows stand where fc2 stood
    assert group.before.params == 4096 * 4096 + 4096
    assert group.after.params == (4096 * 256 + 256) + (256 * 4096 + 4096)
    doc.undo_stack.undo()
    assert doc.removed_rows() == () and model.rowCount() == len(alexnet.layers)


def test_a_bad_graph_change_is_refused_and_the_document_kept(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    g = doc.graph
    broken = Graph((Node("x", "ReLU", {}, (Ref("nowhere"),)),), g.inputs)
    with pytest.raises(ValueError, match="nowhere"):
        doc.apply_graph_change(broken, "bad")
    assert doc.graph is g and doc.undo_stack.count() == 0


def test_a_settings_change_is_labelled_as_such(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    totals = TotalsWidget(doc)
    doc.pin_baseline()
    doc.set_settings(input_shape=(3, 256, 256))
    cmp = doc.comparison()
    assert cmp.kind == "settings" and cmp.settings == ("input 1×3×224×224 → 1×3×256×256",)
    assert "Settings change, not a design change: input" in totals.baseline_label.text()
    doc.set_layer_arg(doc.row_of("conv1"), "out_channels", 64)
    assert doc.comparison().kind == "both"
    assert "Design change" in totals.baseline_label.text()


@pytest.fixture(scope="module")
def resnet50_report():  # noqa: ANN201
    from netcost.model_io.worker.resolve import LoadOptions, load_report

    return load_report("zoo:resnet50", LoadOptions())


def test_before_vs_after_per_stage_of_resnet50_width(qtbot, resnet50_report, tmp_path: Path) -> None:
    doc = CostDocument()
    doc.set_report(resnet50_report)
    view = CompareView(doc)
    qtbot.addWidget(view)
    doc.pin_baseline()
    r = rw.with_params(rw.find(doc.graph, "width:layer3", doc.report), factor=0.5)
    result = rw.apply(doc.graph, r, doc.report)
    assert doc.apply_graph_change(result.graph, r.description, result.mapping)
    chart = view.params_chart
    labels = [g.label for g in chart.groups]
    # the stages in graph order; conv1 (9,408 params) is below 1 % of the largest group and left out
    assert labels == ["layer1", "layer2", "layer3", "layer4", "fc"]
    k = labels.index("layer3")
    in_scope = [c for c in doc.baseline_report.layers if c.scope.startswith("layer3")]
    assert chart.before[k] == sum(c.params for c in in_scope)
    assert chart.after[k] == sum(c.params for c in doc.report.layers if c.scope.startswith("layer3"))
    assert chart.after[k] < chart.before[k] / 3  # channels halved: about a quarter of the weights
    j = labels.index("layer1")
    assert chart.before[j] == chart.after[j]  # untouched stage: equal bars, "="
    assert chart.labels[j].textItem.toPlainText() == "="
    assert chart.labels[k].textItem.toPlainText().startswith("−")
    # layer4 reads fewer channels from layer3: its first convs shrink too
    assert chart.after[labels.index("layer4")] < chart.before[labels.index("layer4")]
    assert view.summary.text().startswith("Against the baseline: design change")
    png = view.export_to(tmp_path / "cmp.png")
    svg = view.export_to(tmp_path / "cmp.svg")
    assert png.path.stat().st_size > 10_000 and "<svg" in svg.path.read_text()[:400]


def test_colour_scale_fixed_to_the_baseline(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    doc.pin_baseline()
    base_max = max(c.params for c in doc.report.layers)
    doc.set_layer_arg(doc.row_of("fc1"), "out_features", 1024)  # the largest layer shrinks
    assert doc.scale_range("params")[1] < base_max  # free: follows the current rows
    with qtbot.waitSignal(doc.scaleChanged):
        doc.set_scale_fixed(True)
    assert doc.scale_report() is doc.baseline_report
    assert doc.scale_range("params")[1] == base_max
    doc.clear_baseline()
    assert doc.scale_report() is doc.report  # nothing to fix it to


def test_chart_without_baseline_says_how_to_get_one(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    chart = CompareChart(doc, None, dark=False, metric="params")
    qtbot.addWidget(chart)
    assert chart.groups == [] and chart.message.isVisible()
    assert "Pin a baseline" in chart.message.textItem.toPlainText()
    doc.pin_baseline()
    # conv2-5 and fc1-3; conv1 (34,848 params) is below 1 % of fc1 (37.7 M) and left out
    assert not chart.message.isVisible() and [g.label for g in chart.groups] == [
        "conv2", "conv3", "conv4", "conv5", "fc1", "fc2", "fc3"]
