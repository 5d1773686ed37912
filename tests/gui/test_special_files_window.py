"""The window and a FIFO: opening one (as a project, a layer list, a model file) says why in one line, never
freezes (before: the event loop blocked forever on the FIFO's open)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from netcost.costing import FormatError
from netcost.gui.app.open_model_dialog import scan_python_file
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.document.model_loader import ModelLoader
from tests.hang_guard import no_hang

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mkfifo: POSIX")


def test_the_window_refuses_a_fifo_in_one_line(qtbot, tmp_path: Path, alexnet) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    with no_hang(20, "opening a FIFO as a project"), pytest.raises(FormatError, match="FIFO"):
        CostDocument(alexnet).load_file(fifo)
    loader = ModelLoader(warm=False)
    with no_hang(20, "loading a FIFO as a layer list"), qtbot.waitSignal(loader.failed, timeout=20_000) as got:
        loader.load(str(fifo))
    assert "FIFO" in got.args[1] and "\n" not in got.args[1]
    model = tmp_path / "model.py"
    os.mkfifo(model)
    with no_hang(20, "scanning a FIFO in the open dialog"):
        assert "FIFO" in scan_python_file(model).error
