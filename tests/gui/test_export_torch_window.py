"""File ▸ Export ▸ PyTorch code…: the edited model as runnable PyTorch source, the same text `netcost export-torch`
writes; running it builds a model whose parameter count is the one the window shows."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from netcost.model_io.files.export_torch import graph_to_torch_source
from tests.gui.conftest import opened_window


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:  # noqa: ANN001
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:
        yield w


def _torch_params(path: Path) -> int:
    """Parameters of the exported file's `build()`, counted by torch in a process of its own (the GUI's never
    imports torch)."""
    code = ("import json, runpy, sys; ns = runpy.run_path(sys.argv[1]); m = ns['build']();"
            "print(json.dumps(sum(p.numel() for p in m.parameters())))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300,
                         check=True)
    return json.loads(out.stdout)


def test_the_edited_model_is_written_as_pytorch_code(window: MainWindow, tmp_path: Path) -> None:
    assert window.document.set_layer_arg(0, "out_channels", 32)  # conv1: 96 -> 32 channels, one undo step
    out = tmp_path / "alexnet_edited.py"
    window.ask_save_path = lambda *a: str(out)  # type: ignore[method-assign]
    window.act_torch.trigger()
    assert out.read_text() == graph_to_torch_source(window.document.graph)
    assert _torch_params(out) == window.document.report.totals.params
    assert "Exported" in window.statusBar().currentMessage()


def test_cancel_writes_nothing_and_an_unwritable_graph_says_why(window: MainWindow, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    window.ask_save_path = lambda *a: ""  # type: ignore[method-assign]
    assert not window.session.export_torch()
    assert list(tmp_path.glob("*.py")) == []

    def refuse(graph: object) -> str:
        raise ValueError("3 node(s) have no formula")

    monkeypatch.setattr("netcost.gui.app.session.graph_to_torch_source", refuse)
    window.ask_save_path = lambda *a: pytest.fail("asked for a path although nothing can be written")  # type: ignore[method-assign]
    assert not window.session.export_torch()
    assert window.message_bar.isVisible()
    assert "Cannot export as PyTorch code: 3 node(s) have no formula" in window.message_bar.text.text()
