"""Loading hostile or awkward models in the window: relative paths, models that leave processes behind, pickled
files (the window offers to trust them, with a warning, where the CLI has --trust-pickle)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.worker.resolve import LoadOptions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"

# refuses a pickle unless trusted, as the real worker does; notes each request
PICKLE_WORKER = """
import json, sys
from netcost.costing import LayerSpec, Network
from netcost.costing.chain import graph_from_network
from netcost.model_io.files.graph_file import graph_to_dict
from netcost.model_io.model_ref import TRUST_PICKLE_HINT
req = json.load(sys.stdin)
with open(sys.argv[1], "a") as log:
    log.write(json.dumps(req) + "\\n")
if not req["trust_pickle"]:
    error = ("whole.pt holds a pickled Net, which NetCost does not unpickle by default (unpickling runs code): "
             f"give the class as file.py:Name, or {TRUST_PICKLE_HINT} if the file is yours")
    print(json.dumps({"ok": False, "kind": "pickle", "detail": "", "error": error}))
else:
    net = Network((LayerSpec("Linear", {"out_features": 4}),), (8,), "unpickled")
    print(json.dumps({"ok": True, "graph": graph_to_dict(graph_from_network(net))}))
"""


@pytest.fixture(autouse=True)
def no_plugin_views(monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.gui.app.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [])


def make_window(qtbot, tmp_path: Path, alexnet: Network, command: list[str] | None = None) -> MainWindow:
    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "rec", worker_command=command)
    qtbot.addWidget(w)
    w.show()
    return w


def close(w: MainWindow) -> None:
    w.loader.cancel()
    w.document.undo_stack.setClean()
    w.close()


def test_the_window_offers_to_trust_a_pickle_with_a_warning(qtbot, tmp_path, alexnet):
    log = tmp_path / "requests.jsonl"
    w = make_window(qtbot, tmp_path, alexnet, [sys.executable, "-c", PICKLE_WORKER, str(log)])
    try:
        with qtbot.waitSignal(w.loader.failed, timeout=30000):
            w.open_reference(str(tmp_path / "whole.pt"))
        text = w.message_bar.text.text()
        assert "--trust-pickle" not in text and "choose Trust and load" in text  # no option the window lacks
        assert w.message_bar.action.isVisible() and w.message_bar.action.text().startswith("Trust and load")
        asked: list[str] = []
        w.ask_trust_pickle = lambda ref: asked.append(ref) or False  # type: ignore[method-assign]
        w.message_bar.action.click()  # declined: nothing is loaded
        assert asked and w.document.network == alexnet and not w.loader.busy
        with qtbot.waitSignal(w.loader.failed, timeout=30000):
            w.open_reference(str(tmp_path / "whole.pt"))
        w.ask_trust_pickle = lambda ref: True  # type: ignore[method-assign]
        with qtbot.waitSignal(w.loader.loaded, timeout=30000):
            w.message_bar.action.click()
        assert w.document.report.model == "unpickled" and w.document.row_count() == 1
        sent = [json.loads(line)["trust_pickle"] for line in log.read_text().splitlines()]
        assert sent == [False, False, True]
    finally:
        close(w)


def test_a_relative_model_path_loads_in_the_window(qtbot, tmp_path, alexnet, monkeypatch):
    monkeypatch.chdir(FIXTURES)  # `netcost gui tiny_net.py:TinyNet` started in the model's folder
    w = make_window(qtbot, tmp_path, alexnet)
    try:
        with qtbot.waitSignal(w.loader.loaded, timeout=60000):
            w.open_reference("tiny_net.py:TinyNet(width=4)", LoadOptions(inputs=("1,3,16,16",), timeout=60))
        assert w.document.report.totals.params == 4 * 27 + 4 + 8 + 4 * 10 + 10
    finally:
        close(w)


def test_processes_a_model_started_do_not_outlive_a_load_in_the_window(qtbot, tmp_path, alexnet):
    from tests.model_io.test_worker_isolation import gone_within, kill_quietly

    pidfile = tmp_path / "child.pid"
    w = make_window(qtbot, tmp_path, alexnet)
    try:
        with qtbot.waitSignal(w.loader.loaded, timeout=60000):
            w.open_reference(f"{FIXTURES / 'hostile.py'}:LeavesChild(pidfile={str(pidfile)!r})",
                             LoadOptions(timeout=60))
        child = int(pidfile.read_text())
        try:
            assert gone_within(child, 10)
        finally:
            kill_quietly(child)
    finally:
        close(w)


def test_the_open_dialog_says_a_py_file_runs_with_your_rights(qtbot, tmp_path):
    from netcost.gui.app.open_model_dialog import OpenModelDialog

    dialog = OpenModelDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.set_file(str(FIXTURES / "tiny_net.py"))
    assert dialog.code_warning.isVisibleTo(dialog) and "runs its code with your rights" in dialog.code_warning.text()
    dialog.set_file(str(tmp_path / "layers.json"))
    assert not dialog.code_warning.isVisibleTo(dialog)


def test_a_crafted_pt2_is_refused_in_the_window_and_runs_nothing(qtbot, tmp_path, alexnet):
    """A .pt2 whose weights are pickles: refused with the reason and the window's trust button, the payload unrun."""
    import torch

    from tests.model_io.test_pt2_trust import Small, craft

    legit = tmp_path / "small.pt2"
    torch.export.save(torch.export.export(Small(), (torch.zeros(2, 4),)), str(legit))
    marker = tmp_path / "ran"
    bad = craft(legit, tmp_path / "bad.pt2", marker, "weights")
    w = make_window(qtbot, tmp_path, alexnet)
    try:
        with qtbot.waitSignal(w.loader.failed, timeout=60000):
            w.open_reference(str(bad), LoadOptions(timeout=60))
        text = w.message_bar.text.text()
        assert "bad.pt2 holds pickled weights (fc.weight)" in text and "choose Trust and load" in text
        assert w.message_bar.action.isVisible() and w.document.network == alexnet
        assert not marker.exists()
    finally:
        close(w)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and os._exit: Linux")
def test_a_daemon_does_not_survive_a_worker_that_dies_in_the_window(qtbot, tmp_path):
    import contextlib
    import os
    import signal

    from netcost.gui.document.model_loader import ModelLoader
    from tests.processes import running

    pidfile = tmp_path / "daemon.pid"
    loader = ModelLoader(warm=False)
    # before: the window's worker died (os._exit) after the model detached a daemon, which then ran on
    with qtbot.waitSignal(loader.failed, timeout=60_000):
        loader.load(f"{FIXTURES / 'hostile.py'}:DetachesThenDies(pidfile={str(pidfile)!r}, how='exit')",
                    LoadOptions(timeout=60))
    daemon = int(pidfile.read_text())
    try:
        assert not running(daemon) and not os.path.exists(f"/proc/{daemon}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(daemon, signal.SIGKILL)


def test_a_models_escape_sequences_are_shown_escaped(qtbot, tmp_path, alexnet):
    """A model's error text is data: before, the message bar showed the traceback tail with a raw ESC and BEL."""
    model = tmp_path / "loud.py"
    model.write_text("from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
                     "        raise RuntimeError('\\x1b[2J\\x1b]0;pwned\\x07 boom \\u202eevil')\n")
    w = make_window(qtbot, tmp_path, alexnet)
    try:
        with qtbot.waitSignal(w.loader.failed, timeout=60000):
            w.open_reference(f"{model}:Net", LoadOptions(inputs=("1,3",), timeout=60))
        for shown in (w.message_bar.text.text(), w.statusBar().currentMessage()):
            assert "boom" in shown and "\\x1b[2J" in shown, shown
            assert not {c for c in shown if c != "\n" and (ord(c) < 32 or c in "\x7f\u202e")}, repr(shown)
        assert w.document.network == alexnet  # the open document stays
    finally:
        close(w)
