"""`netcost.show`: the window on a live model, started as a process of its own so the caller never waits; one
line and no window without a display. The window shows the model as analyzed, and its edits come back through a
saved graph file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from api_helpers import MODELS, live

import netcost
from tests.gui.conftest import isolated_settings, no_modal_questions  # noqa: F401 - autouse fixtures

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def _data_folder(tmp_path, monkeypatch):
    """The windows' recovery files and default folder stay out of the user's data folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def report() -> netcost.Report:
    return netcost.analyze(live("ResBlock"), torch.randn(MODELS.INPUTS["ResBlock"]))


def _wait(window: netcost.Window, seconds: float = 180) -> int:
    try:
        return window.process.wait(seconds)
    finally:
        window.close()


def test_without_a_display_one_line_and_no_window(report, monkeypatch, capsys, tmp_path):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("a display is assumed off Linux")
    assert netcost.show(report, folder=tmp_path) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err and "save_report" in err
    assert not list(tmp_path.iterdir())


def test_returns_at_once_and_the_window_paints(report, monkeypatch, tmp_path):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("NETCOST_EXIT_AFTER_PAINT", "1")  # the app quits after its first paint (gui.app)
    start = time.perf_counter()
    windows = [netcost.show(report, folder=tmp_path), netcost.show(report, folder=tmp_path)]
    assert time.perf_counter() - start < 1.0
    assert all(w.process.poll() is None for w in windows)  # still opening: the caller did not wait
    for w in windows:
        assert _wait(w) == 0, w.log.read_text()
        # the probe's line (Qt may warn after it: the model arrives from its loading thread after the first paint)
        paint = json.loads(next(line for line in reversed(w.log.read_text().splitlines()) if line.startswith("{")))
        assert paint["torch_imported"] is False
    assert windows[0].path != windows[1].path
    shown = netcost.analyze(windows[0].path)
    assert shown.to_dict()["totals"] == report.to_dict()["totals"]


def test_the_window_outlives_the_kernel_that_opened_it(tmp_path):
    kernel = textwrap.dedent(f"""
        import sys, torch, netcost
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from api_helpers import live
        w = netcost.show(live("Branchy"), torch.randn(1, 3, 12, 12), folder={str(tmp_path)!r})
        print(w.process.pid, flush=True)
        import time; time.sleep(600)
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", kernel], stdout=subprocess.PIPE, text=True, env=env)
    pid = None
    try:
        pid = int(proc.stdout.readline())
        proc.kill()  # the kernel dies without a word to its children
        proc.wait(30)
        time.sleep(1.0)
        os.kill(pid, 0)  # the window is still there (it would ask to save edits when closed as a window is)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def test_the_window_shows_the_live_model_and_its_edits_come_back(qtbot, report, tmp_path):
    from netcost.gui.app.main_window import MainWindow

    path = tmp_path / "shown.json"
    report.save_graph(path)
    window = MainWindow(autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    window.show()
    assert window.open_reference(str(path))
    qtbot.waitUntil(lambda: window.file_job is None, timeout=60_000)  # every file opens on a thread
    assert window.document.report.totals == report.cost_report.totals
    assert [r.name for r in window.document.report.layers] == [r.name for r in report.with_options(depth=None).rows]
    doc = window.document
    row = next(i for i in range(doc.row_count()) if doc.node(i).name == "conv1")
    assert doc.editable(row) and doc.set_layer_arg(row, "out_channels", 8)  # an edit made in the window
    window.ask_save_path = lambda *_: str(tmp_path / "edited.json")  # type: ignore[method-assign]
    assert window.save_as()
    window.document.undo_stack.setClean()
    back = netcost.analyze(tmp_path / "edited.json")
    assert back.to_dict()["totals"] == report.edit({"conv1.out_channels": 8}).to_dict()["totals"]
    code = tmp_path / "edited.py"
    assert back.to_torch(code) == code.read_text(encoding="utf-8") and "import torch" in code.read_text()
    again = netcost.analyze(f"{code}:build", trust_source=True)  # the exported code, traced in the worker
    assert again.totals.params == back.totals.params and again.totals.macs == back.totals.macs
