"""Model loading never blocks the window, Cancel kills the worker, and no failure replaces the document."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.worker.resolve import LoadOptions

SLOW = [sys.executable, "-c", "import sys, time; sys.stdin.read(); time.sleep(60)"]
CRASH = [sys.executable, "-c", "import sys; sys.stdin.read(); sys.stderr.write('boom in model code\\n'); sys.exit(3)"]
GARBLED = [sys.executable, "-c", "import sys; sys.stdin.read(); print('{\"ok\": true, \"report\": {}}')"]


def make_window(qtbot, tmp_path: Path, alexnet: Network, command: list[str] | None = None) -> MainWindow:
    w = MainWindow(CostDocument(alexnet), autosave_dir=tmp_path / "rec", worker_command=command)
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture(autouse=True)
def no_plugin_views(monkeypatch: pytest.MonkeyPatch) -> None:
    import netcost.gui.app.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [])


@pytest.fixture
def closer() -> Iterator[list[MainWindow]]:
    windows: list[MainWindow] = []
    yield windows
    for w in windows:
        w.loader.cancel()
        w.document.undo_stack.setClean()
        w.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_slow_load_keeps_event_loop_running_and_cancel_kills(qtbot, tmp_path, alexnet, closer) -> None:
    w = make_window(qtbot, tmp_path, alexnet, SLOW)
    closer.append(w)
    before = w.document.network
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    w.open_reference("slow_model.py:Net")
    assert w.loader.busy and w.load_indicator.isVisible() and w.act_cancel.isEnabled()
    pid = w.loader.pid()
    assert pid and _alive(pid)
    # the event loop keeps running while the worker loads (it sleeps 60 s): a loop blocked by the load would tick
    # once, after it. Counted, not timed: a busy machine may stretch the ticks, never stop them.
    qtbot.waitUntil(lambda: len(ticks) >= 20, timeout=20_000)
    assert w.loader.busy and _alive(pid)
    with qtbot.waitSignal(w.loader.canceled, timeout=3000):
        w.load_indicator.cancel.click()
    timer.stop()
    assert not _alive(pid) and not w.loader.busy and not w.load_indicator.isVisible()
    assert w.document.network == before
    assert "cancelled" in w.message_bar.text.text()


def test_crashing_worker_leaves_document(qtbot, tmp_path, alexnet, closer) -> None:
    w = make_window(qtbot, tmp_path, alexnet, CRASH)
    closer.append(w)
    w.document.rename_layer(0, "mine")
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    network = w.document.network
    with qtbot.waitSignal(w.loader.failed, timeout=10000):
        w.open_reference("crash.py:Net")
    assert w.document.network == network
    text = w.message_bar.text.text()
    assert w.message_bar.isVisible() and "exited with code 3" in text and "boom in model code" in text


def test_garbled_answer_is_a_clear_failure(qtbot, tmp_path, alexnet, closer) -> None:
    w = make_window(qtbot, tmp_path, alexnet, GARBLED)
    closer.append(w)
    with qtbot.waitSignal(w.loader.failed, timeout=10000):
        w.open_reference("odd.py:Net")
    assert "could not be read" in w.message_bar.text.text() and w.document.network == alexnet


def test_timeout_kills_the_worker(qtbot, tmp_path, alexnet, closer) -> None:
    w = make_window(qtbot, tmp_path, alexnet, SLOW)
    closer.append(w)
    w.loader.grace_s = 0.0
    with qtbot.waitSignal(w.loader.failed, timeout=5000):
        w.open_reference("slow.py:Net", LoadOptions(timeout=0.3))
    assert "time limit" in w.message_bar.text.text() and w.document.network == alexnet


def test_layer_list_loads_in_process(qtbot, tmp_path, alexnet, closer) -> None:
    w = make_window(qtbot, tmp_path, alexnet)
    closer.append(w)
    assert w.open_reference("zoo:conv3x3")
    assert w.document.network.name != alexnet.name and not w.loader.busy
    assert w.recent.entries()[0] == "zoo:conv3x3"
    network = w.document.network
    with qtbot.waitSignal(w.loader.failed, timeout=60000):  # not a layer list: the worker says it is unknown
        w.open_reference("zoo:no_such_thing")
    assert w.message_bar.isVisible() and "no_such_thing" in w.message_bar.text.text()
    assert w.document.network == network


MODEL_FILE = '''
import torch
from torch import nn

class Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))

    def forward(self, x):
        return self.body(x)

class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("constructor fails on purpose")

def example_input():
    return torch.randn(1, 3, 8, 8)
'''


def test_real_worker_crash_then_success_and_convert(qtbot, tmp_path, alexnet, closer) -> None:
    model = tmp_path / "models.py"
    model.write_text(MODEL_FILE)
    w = make_window(qtbot, tmp_path, alexnet)
    closer.append(w)
    with qtbot.waitSignal(w.loader.failed, timeout=60000):
        w.open_reference(f"{model}:Broken")
    assert "constructor fails on purpose" in w.message_bar.text.text()
    assert w.document.network == alexnet
    with qtbot.waitSignal(w.loader.loaded, timeout=60000):
        w.open_reference(f"{model}:Chain")
    doc = w.document
    assert doc.traced and doc.report.totals.params == 3 * 8 * 9 + 8 + 512 * 10 + 10
    assert [doc.node(r).op for r in range(doc.row_count())] == ["Conv2d", "ReLU", "Flatten", "Linear"]
    assert doc.set_layer_arg(0, "out_channels", 4)  # editable as it is: the Linear's input follows (4*8*8)
    assert doc.report.totals.params == 3 * 4 * 9 + 4 + 256 * 10 + 10


# A stand-in tracer: answers with a small report built at the batch size and dtype it was asked for, and notes
# each request in a file (no torch: fast and deterministic).
FAKE_TRACER = """
import json, sys
from dataclasses import replace
from netcost.costing import LayerSpec, Network
from netcost.costing.chain import graph_from_network
from netcost.model_io.files.graph_file import graph_to_dict
req = json.load(sys.stdin)
with open(sys.argv[1], "a") as log:
    log.write(json.dumps(req) + "\\n")
net = Network((LayerSpec("Linear", {"out_features": 4}), LayerSpec("ReLU")), (8,), "traced",
              req.get("batch_size") or 1, req.get("dtype") or "float32")
graph = replace(graph_from_network(net), source={"kind": "torch", "ref": req["ref"]})
print(json.dumps({"ok": True, "graph": graph_to_dict(graph)}))
"""


def test_settings_reload_a_traced_model_through_the_worker(qtbot, tmp_path, alexnet, closer) -> None:
    requests = tmp_path / "requests.jsonl"
    w = make_window(qtbot, tmp_path, alexnet, [sys.executable, "-c", FAKE_TRACER, str(requests)])
    closer.append(w)
    with qtbot.waitSignal(w.loader.loaded, timeout=30000):
        w.open_reference("model.py:Net", LoadOptions(inputs=("1,8",), timeout=30))
    doc = w.document
    assert doc.traced and doc.report.batch_size == 1
    w.act_pin.trigger()
    dialog = w.settings_dialog()
    assert dialog.batch.isEnabled() and dialog.dtype.isEnabled() and not dialog.shape.isEnabled()
    assert "traces it again" in dialog.note.text()
    dialog.batch.setValue(4)
    dialog.dtype.setCurrentText("float16")
    dialog.convention.setCurrentIndex(1)  # MACs: applies at once
    with qtbot.waitSignal(w.loader.loaded, timeout=30000):
        dialog.accept()
        assert w.loader.busy and w.load_indicator.isVisible() and w.act_cancel.isEnabled()  # same path as a load
        assert doc.convention == "macs" and doc.report.batch_size == 1  # the old costs stay meanwhile
    assert doc.traced and doc.report.batch_size == 4 and doc.report.dtype == "float16"
    sent = [json.loads(line) for line in requests.read_text().splitlines()]
    ref = str(Path.cwd() / "model.py") + ":Net"  # the worker runs in a folder of its own: paths go absolute
    assert [(r["ref"], r["batch_size"], r["dtype"], r["inputs"]) for r in sent] == [
        (ref, None, None, ["1,8"]), (ref, 4, "float16", ["1,8"])]
    assert "(float16)" in w.totals_label.text()
    assert doc.baseline is not None and w.totals.deltas["params"].text() != ""  # the pin survives the reload
    # a reload can be cancelled like any load; the current report stays
    w.loader._command = SLOW
    dialog = w.settings_dialog()
    dialog.batch.setValue(16)
    dialog.accept()
    with qtbot.waitSignal(w.loader.canceled, timeout=3000):
        w.load_indicator.cancel.click()
    assert doc.report.batch_size == 4 and "cancelled" in w.message_bar.text.text()


BLOCKS_PY = '''
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c_in, c_out, *, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride, 1)

    def forward(self, x):
        return self.conv(x).relu()


class Wide(Block):
    pass


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(Block(3, 16), Block(16, 32, stride=2))
        self.head = nn.Linear(32, num_classes)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))


class Tiny(nn.Module):
    def forward(self, x):
        return x


def make_wide(width, depth=2):
    return nn.Sequential(*[Block(width, width) for _ in range(depth)])


def example_input():
    return torch.randn(1, 3, 32, 32)
'''


def test_open_dialog_preselects_a_class_that_builds_and_remembers_the_file(qtbot, tmp_path) -> None:
    from netcost.gui.app.open_model_dialog import OpenModelDialog, scan_python_file

    path = tmp_path / "blocks.py"
    path.write_text(BLOCKS_PY, encoding="utf-8")
    scan = scan_python_file(path)
    assert scan.required == {"Block": ("c_in", "c_out"), "Wide": ("c_in", "c_out"), "Net": (), "Tiny": (),
                             "make_wide": ("width",)}
    dialog = OpenModelDialog(None, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.set_file(str(path))
    # Block is first in the file but needs arguments: the model the file is about is chosen
    assert dialog.reference.text() == f"{path}:Net" and dialog.inputs.text() == "1, 3, 32, 32"
    texts = [dialog.class_list.item(i).text() for i in range(dialog.class_list.count())]
    assert "Block   (class, needs c_in, c_out)" in texts and "make_wide()   (function, needs width)" in texts
    dialog.class_list.setCurrentRow(texts.index("Tiny   (class)"))
    dialog.accept()
    again = OpenModelDialog(None, str(tmp_path))  # reopened: the same file and the class last opened
    qtbot.addWidget(again)
    assert again.file_edit.text() == str(path) and again.reference.text() == f"{path}:Tiny"
    again.zoo_list.setCurrentRow(0)
    zoo_ref = again.reference.text()
    again.accept()
    third = OpenModelDialog(None, str(tmp_path))
    qtbot.addWidget(third)
    assert third.reference.text() == zoo_ref and third.zoo_list.currentRow() == 0
