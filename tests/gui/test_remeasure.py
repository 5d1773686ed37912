"""An edit upstream of an opaque node (no formula) in the window: the rows are marked not costed at once, the
model is traced again in the background with the edit, and the totals complete, equal to torch's count of the
same edit; undo and redo never bring the stale rows back."""

from __future__ import annotations

from pathlib import Path

import pytest

from netcost.gui.app.main_window import MainWindow
from netcost.gui.document.cost_document import CostDocument
from tests.gui.conftest import open_file
from tests.traced import traced_graph

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "opaque_fft.py"


@pytest.fixture(autouse=True)
def no_plugin_views(monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.gui.app.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [])


def test_editing_before_an_opaque_node_measures_it_again(qtbot, tmp_path, alexnet) -> None:
    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "rec")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loader.loaded, timeout=60000):
        w.open_reference(f"{FIXTURE}:Net")
    doc = w.document
    before = doc.report.totals
    conv = doc.row_of("conv")
    with qtbot.waitSignal(w.remeasurer.loader.loaded, timeout=60000):
        assert doc.set_layer_arg(conv, "out_channels", 8)
        assert not doc.report.complete and doc.is_stale(doc.row_of("fc"))  # at once: not costed, never old numbers
        assert "Incomplete" in w.totals.incomplete.text()
    assert doc.report.complete and not doc.is_stale(doc.row_of("fc"))
    written = traced_graph(f"{FIXTURE}:Net8")  # the same model written with 8 channels, traced
    from netcost.costing.graph_eval import evaluate_graph

    assert doc.report.totals == evaluate_graph(written).totals
    assert doc.report.totals.params == 314  # Conv2d(3, 8, 3) + Linear(8, 10), as torch's numel
    assert "every row is costed" in w.statusBar().currentMessage()
    doc.undo_stack.undo()
    assert doc.report.complete and doc.report.totals == before
    doc.undo_stack.redo()
    assert doc.report.complete and doc.report.totals == evaluate_graph(written).totals
    assert not w.remeasurer.busy  # redo holds the measured graph: nothing to trace again
    doc.undo_stack.setClean()


def test_a_graph_file_never_runs_the_model_it_names_without_consent(qtbot, tmp_path, alexnet) -> None:
    """An opened graph file names a .py as its model: a plain cell edit before an opaque node asks first; declined,
    the rows stay not costed and nothing runs; allowed, the model is traced again as before."""
    from netcost.gui.table.layer_table_model import ARGS
    from tests.model_io.test_source_trust import hostile_graph_file

    path, marker, ref = hostile_graph_file(traced_graph(f"{FIXTURE}:Net"), tmp_path)
    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "rec")
    qtbot.addWidget(w)
    w.show()
    asked: list[str] = []
    w.ask_trust_source = lambda r: asked.append(r) or False  # type: ignore[method-assign]
    assert open_file(qtbot, w, path)
    doc, model = w.document, w.table.table_model
    conv = doc.row_of("conv")
    assert model.setData(model.index(conv, ARGS), "out_channels=8, kernel_size=3, padding=1")
    qtbot.waitUntil(lambda: "not costed" in w.statusBar().currentMessage(), timeout=5000)
    assert asked == [ref] and not w.remeasurer.busy
    assert ref in w.statusBar().currentMessage() and not doc.report.complete
    qtbot.wait(800)  # past the remeasurer's delay: nothing was started, nothing ran
    assert not marker.exists() and not w.remeasurer.busy
    assert model.setData(model.index(conv, ARGS), "out_channels=4, kernel_size=3, padding=1")
    qtbot.wait(800)
    assert asked == [ref] and not marker.exists()  # declined once: not asked again for this document

    assert open_file(qtbot, w, path)  # opened again: asked again, and this time allowed
    doc = w.document
    w.ask_trust_source = lambda r: asked.append(r) or True  # type: ignore[method-assign]
    with qtbot.waitSignal(w.remeasurer.loader.loaded, timeout=60000):
        assert doc.set_layer_arg(doc.row_of("conv"), "out_channels", 8)
    from netcost.costing.graph_eval import evaluate_graph

    assert asked == [ref, ref] and marker.read_text() == "ran"
    assert doc.report.complete and doc.report.totals == evaluate_graph(traced_graph(f"{FIXTURE}:Net8")).totals
    doc.undo_stack.setClean()
