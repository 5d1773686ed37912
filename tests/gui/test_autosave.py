"""Autosave: a recovery file after idle, removed by a save or a clean close, restored at the next start."""

from __future__ import annotations

import json
from pathlib import Path

from costing import Network
from gui.autosave import Autosave
from gui.cost_document import CostDocument


def test_written_after_idle_and_restored(qtbot, tmp_path: Path, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    auto = Autosave(doc, tmp_path, idle_ms=30)
    doc.set_layer_arg(0, "out_channels", 64)
    assert not auto.pending()  # not while the user is still typing
    with qtbot.waitSignal(auto.saved, timeout=2000):
        pass
    assert auto.pending()
    data = json.loads(auto.path.read_text())
    assert data["layers"][0]["out_channels"] == 64 and data["recovery"]["path"] is None

    # "next start": a fresh document restores the work, marked modified, without the recovery key
    fresh = CostDocument()
    again = Autosave(fresh, tmp_path, idle_ms=30)
    assert again.pending() and again.restore()
    assert fresh.network.layers == doc.network.layers and fresh.modified
    assert "recovery" not in fresh.extra
    assert again.pending()  # kept until the user saves


def test_idle_timer_restarts_on_each_edit(qtbot, tmp_path: Path, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    auto = Autosave(doc, tmp_path, idle_ms=200)
    saves: list[str] = []
    auto.saved.connect(saves.append)
    for width in (10, 20, 30, 40):
        doc.set_layer_arg(0, "out_channels", width)
        qtbot.wait(60)
    assert saves == []
    qtbot.waitUntil(lambda: len(saves) == 1, timeout=2000)


def test_save_and_undo_to_clean_remove_it(qtbot, tmp_path: Path, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    auto = Autosave(doc, tmp_path / "rec", idle_ms=10)
    doc.rename_layer(0, "x")
    qtbot.waitUntil(auto.pending, timeout=2000)
    doc.save_file(tmp_path / "saved.json")
    assert not auto.pending()
    doc.rename_layer(0, "y")
    assert auto.save_now() and auto.pending()
    doc.undo_stack.undo()  # back to the saved state: nothing to recover
    assert not auto.pending()


def test_window_offers_restore_and_clean_close_discards(qtbot, tmp_path: Path, alexnet: Network) -> None:
    from gui.main_window import MainWindow

    first = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path)
    qtbot.addWidget(first)
    first.document.set_layer_arg(0, "out_channels", 50)
    assert first.autosave.save_now()
    # a crash: the window never closes; the next window finds the file
    second = MainWindow(autosave_dir=tmp_path)
    qtbot.addWidget(second)
    assert second.autosave.pending() and second.autosave.restore()
    assert second.document.spec(0).args["out_channels"] == 50 and second.isWindowModified()
    second.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    assert second.close()
    assert not second.autosave.pending()
    first.document.undo_stack.setClean()
    first.close()


def test_unreadable_recovery_file_is_dropped(tmp_path: Path) -> None:
    doc = CostDocument()
    auto = Autosave(doc, tmp_path)
    tmp_path.mkdir(exist_ok=True)
    auto.path.write_text("{broken")
    assert not auto.restore() and not auto.pending()
