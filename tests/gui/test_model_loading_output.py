"""A worker that prints without end does not grow the window: the loader keeps only a tail of its stderr."""

from __future__ import annotations

import sys

import pytest

import netcost.gui.document.model_loader as model_loader
from netcost.gui.common.process_output import BoundedOutput
from netcost.gui.document.model_loader import ModelLoader
from netcost.model_io.worker.worker_pipes import STDERR_KEEP

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX pipes")
FLOOD_MB = 64
# a stand-in worker: reads its request, prints FLOOD_MB MiB on stderr, then dies without an answer
FLOOD = f"""
import os, sys
sys.stdin.read()
line = b"x" * ((1 << 20) - 1) + b"\\n"
for _ in range({FLOOD_MB}):
    os.write(2, line)
os.write(2, b"the last words of a flood\\n")
os._exit(3)
"""


def test_a_flooding_worker_keeps_only_a_tail_in_the_window(qtbot, monkeypatch) -> None:
    kept: list[BoundedOutput] = []

    class Recorded(BoundedOutput):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            kept.append(self)

    # before: QProcess buffered all 64 MiB (the window reached 1.8 GB with a model printing in a loop)
    monkeypatch.setattr(model_loader, "BoundedOutput", Recorded)
    loader = ModelLoader(command=[sys.executable, "-c", FLOOD], warm=False)
    with qtbot.waitSignal(loader.failed, timeout=60_000) as got:
        loader.load("flood.py:Net")
    assert "exited with code 3 without an answer: the last words of a flood" in got.args[1]
    assert len(kept) == 1 and kept[0].err.total >= FLOOD_MB << 20
    assert len(kept[0].err._buf) <= 2 * STDERR_KEEP
