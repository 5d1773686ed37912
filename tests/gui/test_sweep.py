"""The input-size sweep: its series is the engine re-evaluated at each size (checked against the document's own
settings change and against torch traced again at that size), GPT-2's attention term grows with the square of the
sequence and overtakes the rest where hand arithmetic says, the view fills in point by point, and exports."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from netcost.costing import Network
from netcost.costing import sweep as sw
from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.whatif.sweep_view import SweepView


@pytest.fixture(scope="module")
def gpt2_report():  # noqa: ANN201
    from netcost.model_io.worker.resolve import LoadOptions, load_report

    return load_report("zoo:gpt2", LoadOptions())


def test_series_equals_the_document_re_evaluated_at_each_size(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    view = SweepView(doc)
    qtbot.addWidget(view)
    assert view.axis.unit == "px" and view.requested_sizes() == tuple(range(224, 513, 32))
    view.run_to_end()
    assert [p.size for p in view.points] == list(range(224, 513, 32)) and all(p.ok for p in view.points)
    other = CostDocument(alexnet)
    for p in view.points:
        other.set_settings(input_shape=(3, p.size, p.size))
        assert p.totals == other.report.totals
    # AlexNet's fc1 reads the flattened map, so its params follow the resolution: 256 x 6² inputs at 224 px;
    # at 512 px conv1 (k11 s4 p2) gives 127, the pools 63, 31 and 15: 256 x 15² inputs, x 4,096 outputs
    assert view.points[-1].params - view.points[0].params == (256 * 15 ** 2 - 256 * 6 ** 2) * 4096
    assert "params 6" in view.status.text()


def test_gpt2_sweep_matches_torch_traced_again_and_attention_is_quadratic(qtbot, gpt2_report) -> None:
    from netcost.model_io.worker.resolve import LoadOptions, load_report

    doc = CostDocument()
    doc.set_report(gpt2_report)
    view = SweepView(doc)
    qtbot.addWidget(view)
    assert view.axis.unit == "tokens" and view.geometric.isChecked()
    sizes = view.requested_sizes()
    assert sizes == (128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
    assert view.start()
    assert view.running() and len(view.points) < len(sizes)  # incremental: the window keeps running
    qtbot.waitUntil(lambda: not view.running(), timeout=30_000)
    assert view.progress.value() == len(sizes) and all(p.ok for p in view.points)
    # the trace's baked sizes (views, the causal mask, arange) follow the new length exactly as torch does
    retraced = load_report("zoo:gpt2", LoadOptions(inputs=("long:1,128",)))
    assert view.points[0].totals == retraced.totals
    # QKᵀ and AV: 12 layers x 2 matmuls x 12 heads x L² x 64 = 18,432 L²
    for p in view.points:
        assert p.attention_macs == 18_432 * p.size ** 2
    # everything else is linear in L: per layer 12 x 768² (qkv 3, proj 1, mlp 8), plus the 768 x 50,257 head
    per_token = 12 * 12 * 768 ** 2 + 768 * 50_257
    for p in view.points:
        assert p.other_macs == per_token * p.size
        assert p.params == 124_439_808
    crossing = per_token / 18_432  # 6,702.04 tokens
    assert view.chart.crossover == pytest.approx(crossing, rel=1e-12)
    assert view.chart.cross_line.isVisible() and view.chart.cross_line.value() == pytest.approx(
        math.log10(crossing))
    assert "from about 6.7k tokens" in view.status.text()
    assert view.chart.log_x()


def test_a_size_that_cannot_be_costed_is_reported_not_guessed(alexnet: Network) -> None:
    graph = CostDocument(alexnet).graph
    axis = sw.default_axis(graph)
    point = sw.point(graph, axis, 16)  # AlexNet's 11x11 stride-4 stem and three pools need more than 16 px
    assert not point.ok and point.totals is None and point.error
    with pytest.raises(ValueError):
        sw.sizes_between(0, 10, 3, False)
    assert sw.resized(graph, axis, 224).inputs == graph.inputs
    assert evaluate_graph(sw.resized(graph, axis, 256)).totals == sw.point(graph, axis, 256).totals


def test_edit_restarts_and_export(qtbot, alexnet: Network, tmp_path: Path) -> None:
    doc = CostDocument(alexnet)
    view = SweepView(doc)
    qtbot.addWidget(view)
    view.count.setValue(3)
    view.run_to_end()
    macs = [p.macs for p in view.points]
    doc.set_layer_arg(doc.row_of("conv2"), "out_channels", 128)
    assert view.stale
    view.run_to_end()
    assert [p.macs for p in view.points] != macs
    png = view.export_to(tmp_path / "sweep.png")
    svg = view.export_to(tmp_path / "sweep.svg")
    assert png.path.stat().st_size > 10_000 and "<svg" in svg.path.read_text()[:400]


def test_a_sweep_behind_another_tab_waits_until_raised(qtbot, tmp_path: Path, alexnet: Network) -> None:
    """Each point is a whole evaluation: a Sweep tab nobody looks at must not re-run after every edit (0.5 s of
    the window per point on Llama-70B); raised, it catches up with the graph as it is then."""
    from netcost.gui.app.main_window import MainWindow

    win = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    sweep = win.views["sweep"]
    win.docks["diagram"].raise_()  # the Sweep tab is behind the Diagram's
    qtbot.wait(50)
    win.document.set_layer_arg(0, "out_channels", 64)
    qtbot.wait(600)  # longer than the sweep's debounce (400 ms)
    assert sweep.stale and not sweep.running() and not sweep.points
    win.docks["sweep"].raise_()
    qtbot.waitUntil(lambda: not sweep.stale and not sweep.running() and len(sweep.points) == len(sweep.sizes),
                    timeout=10_000)
    assert sweep.points[0].totals is not None
    win.document.undo_stack.setClean()
