"""Hostile graph files opened in the window: a message naming what is wrong, the open document intact (issue 23
items 7 and 8: before, a traceback into Qt and no message at all, or a silently wrong count)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from costing import Network
from gui.main_window import MainWindow

GRAPH = {"format": "netcost.graph/1", "inputs": [{"name": "x", "shape": [1, 3], "dtype": "float32"}]}
LINEAR = {"type": "Linear", "name": "fc", "in_features": 3, "out_features": 3}
DEEP = "[" * 900 + "]" * 900


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network, monkeypatch) -> Iterator[MainWindow]:
    import gui.main_window as mw

    monkeypatch.setattr(mw, "VIEW_FACTORIES", [])  # no diagram/charts: these tests are about files
    w = MainWindow(autosave_dir=tmp_path / "recovery")
    w.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.document.set_network(alexnet)
    w.show()
    yield w
    w.document.undo_stack.setClean()
    w.close()


def _write(path: Path, nodes: list, swap: str = "") -> str:
    text = json.dumps({**GRAPH, "nodes": nodes})
    path.write_text(text.replace('"SWAP"', swap) if swap else text)
    return str(path)


@pytest.mark.parametrize("make,words", [
    (lambda p: _write(p / "g.json", [{"type": "LeakyReLU", "name": "act", "negative_slope": "SWAP"}], DEEP),
     "nested deeper than 100 levels"),
    (lambda p: _write(p / "g.json", [{"type": "LeakyReLU", "name": "act", "negative_slope": "SWAP"}], "9" * 401),
     "negative_slope=<a 401-digit integer> must be a finite number"),
    (lambda p: _write(p / "g.json", [LINEAR, {"type": "ReLU", "name": "act", "inputs": ["fc:" + "9" * 5000]}]),
     "'fc' has 1 output"),
    (lambda p: str(p / ("a" * 300 + ".json")), "File name too long"),
    (lambda p: _write(p / "g.json", [{"type": "add", "name": "plus"}]), "add node 'plus' takes 2 operands"),
    (lambda p: _write(p / "g.json", [LINEAR, {**LINEAR, "name": "fc2", "shares": [["fc", -72]]}]),
     "-72 must be a positive number"),
], ids=["900-deep-list", "401-digit-float", "5000-digit-output-index", "file-name-too-long", "add-of-one",
        "negative-shares"])
def test_a_hostile_graph_file_is_a_message_and_the_document_stays(window: MainWindow, tmp_path: Path, make,
                                                                   words: str) -> None:
    before = window.document.report.totals
    rows = window.document.row_count()
    assert window.open_reference(make(tmp_path)) is False
    shown = window.message_bar.text.text() if window.message_bar.isVisible() else ""
    assert words in shown and "\n" not in shown, shown
    assert len(shown) < 400
    assert window.document.row_count() == rows and window.document.report.totals == before
