"""The window's open path: a model file that is not what its extension says is refused with the worker's message
and kind, in-process, without a worker process being started (model_io.files.file_checks)."""

from __future__ import annotations

from pathlib import Path

from netcost.gui.document import model_loader
from netcost.gui.document.model_loader import ModelLoader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def test_a_mislabelled_file_fails_without_a_worker(qtbot, monkeypatch) -> None:
    started: list[object] = []
    monkeypatch.setattr(model_loader.ModelLoader, "_new_process", lambda self: started.append(self))
    loader = ModelLoader(warm=False)
    ref = str(FIXTURES / "not_a_model.pt2")
    with qtbot.waitSignal(loader.failed, timeout=5_000) as got:
        loader.load(ref)
    assert got.args[1] == f"{ref}: not_a_model.pt2 is not a torch.export program: it holds text"
    assert loader.failure_kind == "format" and not loader.busy and not started
