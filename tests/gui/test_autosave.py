"""Autosave: a recovery file per session after idle, removed by a save or a clean close, restored at the next start;
a running copy of the app never offers, restores or deletes another running copy's recovery file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from netcost.costing import Network
from netcost.gui.document.autosave import Autosave
from netcost.gui.document.cost_document import CostDocument

# A "crashed" NetCost: it locks and writes a recovery file the way Autosave does, then dies without cleaning up.
CRASHING_SESSION = """
import json, os, sys
from PySide6.QtCore import QLockFile
path = sys.argv[1]
lock = QLockFile(path + ".lock"); lock.setStaleLockTime(0); assert lock.tryLock(0)
data = {"format": "netcost.layers/1", "name": "crashed", "input_shape": [4],
        "layers": [{"type": "ReLU", "name": "from_the_crash"}], "recovery": {"path": None, "pid": os.getpid()}}
open(path, "w").write(json.dumps(data))
os._exit(0)
"""


def crashed_session(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    subprocess.run([sys.executable, "-c", CRASHING_SESSION, str(path)], check=True, timeout=60)
    return path


def test_written_after_idle_and_restored(qtbot, tmp_path: Path, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    auto = Autosave(doc, tmp_path, idle_ms=30)
    doc.set_layer_arg(0, "out_channels", 64)
    assert not auto.path.is_file()  # not while the user is still typing
    with qtbot.waitSignal(auto.saved, timeout=2000):
        pass
    assert auto.path.is_file() and auto.path.name.startswith(f"autosave-{os.getpid()}-")
    data = json.loads(auto.path.read_text())
    assert data["layers"][0]["out_channels"] == 64 and data["recovery"]["path"] is None
    assert data["recovery"]["session"] == auto.session

    # while its session runs, nobody else may take it
    fresh = CostDocument()
    again = Autosave(fresh, tmp_path, idle_ms=30)
    assert not again.pending() and not again.restore()
    # "next start" after a crash: the lock is gone, the file is offered, restored marked modified
    auto.release_lock()
    assert again.newest_orphan() == auto.path and again.restore()
    assert fresh.network.layers == doc.network.layers and fresh.modified
    assert "recovery" not in fresh.extra
    assert again.path.is_file() and not auto.path.exists()  # now kept as the new session's file until saved


def test_running_copies_keep_their_own_files(qtbot, tmp_path: Path, alexnet: Network) -> None:
    first_doc, second_doc = CostDocument(alexnet), CostDocument(alexnet)
    first, second = Autosave(first_doc, tmp_path), Autosave(second_doc, tmp_path)
    first_doc.rename_layer(0, "first")
    second_doc.rename_layer(0, "second")
    assert first.save_now() and second.save_now() and first.path != second.path
    assert not first.pending() and not second.pending()  # each sees the other as running, not crashed
    second_doc.undo_stack.setClean()  # clean: the second removes its own file only
    assert not second.path.exists() and first.path.is_file()
    assert json.loads(first.path.read_text())["layers"][0]["name"] == "first"
    first_doc.undo_stack.setClean()


def test_a_dead_process_file_is_offered_newest_first(qtbot, tmp_path: Path) -> None:
    older = crashed_session(tmp_path, "autosave-1-older.json")
    os.utime(older, (time.time() - 600, time.time() - 600))
    newer = crashed_session(tmp_path, "autosave-2-newer.json")
    doc = CostDocument()
    auto = Autosave(doc, tmp_path)
    assert auto.orphans() == [newer, older]
    # another copy starting at the same moment does not get the files this one has claimed
    assert Autosave(CostDocument(), tmp_path).orphans() == []
    assert auto.restore()
    assert doc.spec(0).name == "from_the_crash" and doc.modified
    assert not newer.exists() and older.is_file()  # the older one waits for the next start
    auto.discard_orphan(older)
    assert not older.exists() and auto.orphans() == []
    doc.undo_stack.setClean()


def test_idle_timer_restarts_on_each_edit(qtbot, tmp_path: Path, alexnet: Network) -> None:
    """Each edit starts the idle wait again (read from the timer, not from wall time, which a busy machine stretches):
    the file is written once, after the last edit."""
    doc = CostDocument(alexnet)
    auto = Autosave(doc, tmp_path, idle_ms=60_000)
    saves: list[str] = []
    auto.saved.connect(saves.append)
    for width in (10, 20, 30, 40):
        auto.timer.stop()  # stands for the time that passed since the last edit
        doc.set_layer_arg(0, "out_channels", width)
        assert auto.timer.isActive() and auto.timer.remainingTime() > 50_000
    assert saves == []
    auto.timer.setInterval(10)
    auto.timer.start()
    qtbot.waitUntil(lambda: len(saves) == 1, timeout=2000)


def test_save_and_undo_to_clean_remove_it(qtbot, tmp_path: Path, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    auto = Autosave(doc, tmp_path / "rec", idle_ms=10)
    doc.rename_layer(0, "x")
    qtbot.waitUntil(auto.path.is_file, timeout=2000)
    doc.save_file(tmp_path / "saved.json")
    assert not auto.path.exists()
    doc.rename_layer(0, "y")
    assert auto.save_now() and auto.path.is_file()
    doc.undo_stack.undo()  # back to the saved state: nothing to recover
    assert not auto.path.exists() and not Path(str(auto.path) + ".lock").exists()


def test_window_offers_restore_and_clean_close_discards(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from netcost.gui.app.main_window import MainWindow

    first = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path)
    qtbot.addWidget(first)
    first.document.set_layer_arg(0, "out_channels", 50)
    assert first.autosave.save_now()
    asked: list[Path | None] = []
    probe = MainWindow(autosave_dir=tmp_path)  # a second copy while the first still runs: nothing to offer
    qtbot.addWidget(probe)
    probe.ask_restore_recovery = lambda path=None: asked.append(path) or True  # type: ignore[method-assign]
    assert not probe.offer_recovery() and asked == []
    probe.close()
    # a crash: the first window never closes; the next window finds the file
    first.autosave.release_lock()
    second = MainWindow(autosave_dir=tmp_path)
    qtbot.addWidget(second)
    second.ask_restore_recovery = lambda path=None: asked.append(path) or True  # type: ignore[method-assign]
    assert second.offer_recovery() and asked == [first.autosave.path]
    assert second.document.spec(0).args["out_channels"] == 50 and second.isWindowModified()
    assert "Restored" in second.statusBar().currentMessage()
    second.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    assert second.close()
    assert list(tmp_path.glob("*.json")) == []  # a clean exit leaves no recovery file
    first.document.undo_stack.setClean()
    first.close()


def test_declined_recovery_is_deleted(qtbot, tmp_path: Path) -> None:
    from netcost.gui.app.main_window import MainWindow

    crashed = crashed_session(tmp_path, "autosave-9-x.json")
    w = MainWindow(autosave_dir=tmp_path)
    qtbot.addWidget(w)
    w.ask_restore_recovery = lambda path=None: False  # type: ignore[method-assign]
    assert not w.offer_recovery() and not crashed.exists() and w.document.row_count() == 0
    w.close()


def test_unreadable_recovery_file_is_kept_and_named(qtbot, tmp_path: Path) -> None:
    from netcost.gui.app.main_window import MainWindow

    broken = tmp_path / "autosave-1-broken.json"
    broken.write_text("{broken")
    w = MainWindow(autosave_dir=tmp_path)
    qtbot.addWidget(w)
    w.ask_restore_recovery = lambda path=None: True  # type: ignore[method-assign]
    assert not w.offer_recovery() and not w.autosave.pending()  # not offered again at every start
    kept = tmp_path / "unreadable-autosave-1-broken.json"
    assert kept.read_text() == "{broken"  # never deleted: the user's work may still be in it
    text = w.message_bar.text.text()
    assert not w.message_bar.isHidden() and "could not be read" in text and str(kept) in text
    assert w.document.row_count() == 0  # the document is untouched
    w.close()


def _graph_window(tmp_path: Path):  # noqa: ANN202 - a MainWindow (imported late: Qt set-up first)
    from netcost.gui.app.main_window import MainWindow
    from netcost.model_io.worker.resolve import load_graph_ref

    w = MainWindow(autosave_dir=tmp_path)
    w.document.set_graph(load_graph_ref("zoo:inception_3a"))
    return w


def _edit_cell(w, row: int, text: str) -> None:  # noqa: ANN001 - a MainWindow
    from netcost.gui.table.layer_table_model import ARGS

    model = w.table.table_model
    assert model.setData(model.index(row, ARGS), text)


def test_a_graph_document_is_restored_as_autosaved(qtbot, tmp_path: Path) -> None:
    """A hand-made graph (branches, a concat: saved as netcost.graph/1) edited in a cell, autosaved, the window
    dropped without a clean close: the next window restores the same graph and totals, not an error."""
    first = _graph_window(tmp_path)
    qtbot.addWidget(first)
    row = first.document.row_of(first.document.graph.nodes[0].id)
    _edit_cell(first, row, "out_channels=48, kernel_size=1")
    first.document.set_convention("macs")
    assert first.autosave.save_now()
    assert json.loads(first.autosave.path.read_text())["format"] == "netcost.graph/1"
    edited, totals = first.document.graph, first.document.report.totals
    first.autosave.release_lock()  # what a crash leaves: the file, no lock holder

    second = _window(tmp_path)
    qtbot.addWidget(second)
    second.ask_restore_recovery = lambda path=None: True  # type: ignore[method-assign]
    assert second.offer_recovery()
    assert second.message_bar.isHidden()
    assert second.document.graph == edited and second.document.report.totals == totals
    assert second.document.convention == "macs" and second.isWindowModified()
    assert "Restored" in second.statusBar().currentMessage()
    assert not first.autosave.path.exists() and second.autosave.path.is_file()  # moved to the new session
    first.document.undo_stack.setClean()


def _window(tmp_path: Path):  # noqa: ANN202 - a fresh MainWindow on the recovery folder
    from netcost.gui.app.main_window import MainWindow

    return MainWindow(autosave_dir=tmp_path)


# A NetCost window in its own process: a graph document edited and autosaved, then it waits to be killed.
EDITING_SESSION = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from netcost.gui.app.main_window import MainWindow
from netcost.gui.table.layer_table_model import ARGS
from netcost.model_io.worker.resolve import load_graph_ref
w = MainWindow(autosave_dir=sys.argv[1])
w.document.set_graph(load_graph_ref("zoo:inception_3a"))
model = w.table.table_model
assert model.setData(model.index(2, ARGS), "out_channels=80, kernel_size=1")
assert w.autosave.save_now()
print(w.autosave.path, flush=True)
import time
time.sleep(600)
"""


def test_kill_9_after_an_autosave_restores_the_graph(qtbot, tmp_path: Path) -> None:
    import signal

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", EDITING_SESSION, str(tmp_path)], stdout=subprocess.PIPE,
                            env=env, text=True)
    try:
        recovery = Path(proc.stdout.readline().strip())  # type: ignore[union-attr]
        assert recovery.is_file()
        autosaved = json.loads(recovery.read_text())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    w = _window(tmp_path)
    qtbot.addWidget(w)
    w.ask_restore_recovery = lambda path=None: True  # type: ignore[method-assign]
    assert w.offer_recovery(), w.message_bar.text.text()
    assert w.document.spec(2).args["out_channels"] == 80 and w.isWindowModified()
    # the restored document is the last autosave: saving it writes the same graph
    from netcost.model_io.files.graph_file import loads_graph

    autosaved.pop("recovery")
    assert w.document.graph == loads_graph(json.dumps(autosaved))[0]
    assert w.document.report.totals.params != 0


def test_a_traced_model_with_edits_is_restored_exactly(qtbot, tmp_path: Path) -> None:
    """The issue's case: a traced model (its source reference, opaque nodes with measured costs), edited."""
    from netcost.model_io.worker.resolve import load_graph_ref

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "opaque_fft.py"
    doc = CostDocument()
    doc.set_graph(load_graph_ref(f"{fixture}:Net"))
    assert any(n.opaque for n in doc.graph.nodes) and doc.graph.source["ref"]
    auto = Autosave(doc, tmp_path, idle_ms=30)
    with qtbot.waitSignal(auto.saved, timeout=5000):
        assert doc.set_layer_arg(doc.row_of("fc"), "out_features", 7)
    auto.release_lock()
    fresh = CostDocument()
    assert Autosave(fresh, tmp_path).restore()
    assert fresh.graph == doc.graph and fresh.report.totals == doc.report.totals and fresh.modified
    doc.undo_stack.setClean()
    fresh.undo_stack.setClean()
