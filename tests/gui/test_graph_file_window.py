"""Hostile graph files opened in the window: a message naming what is wrong, the open document intact (issue 23
items 7 and 8: before, a traceback into Qt and no message at all, or a silently wrong count)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from netcost.costing import Network
from netcost.gui.app.main_window import MainWindow
from tests.gui.conftest import open_file, opened_window

GRAPH = {"format": "netcost.graph/1", "inputs": [{"name": "x", "shape": [1, 3], "dtype": "float32"}]}
LINEAR = {"type": "Linear", "name": "fc", "in_features": 3, "out_features": 3}
DEEP = "[" * 900 + "]" * 900


@pytest.fixture
def window(qtbot, tmp_path: Path, alexnet: Network, monkeypatch) -> Iterator[MainWindow]:
    with opened_window(qtbot, tmp_path, alexnet, monkeypatch, views=()) as w:  # no diagram/charts: about files
        yield w

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
def test_a_hostile_graph_file_is_a_message_and_the_document_stays(qtbot, window: MainWindow, tmp_path: Path,  # noqa: ANN001
                                                                   make, words: str) -> None:
    before = window.document.report.totals
    rows = window.document.row_count()
    assert open_file(qtbot, window, make(tmp_path)) is False
    shown = window.message_bar.text.text() if window.message_bar.isVisible() else ""
    assert words in shown and "\n" not in shown, shown
    assert len(shown) < 400
    assert window.document.row_count() == rows and window.document.report.totals == before


def _table_params(window: MainWindow) -> list[int]:
    return [r.params for r in window.document.report.layers]


@pytest.mark.parametrize("extra,top", [
    ({"shares": [["fc", 9]]}, {}),  # a tied weight: before, Save wrote a layer list and b's params went 3 -> 12
    ({"label": "MyLinear"}, {}),  # the type shown
    ({"scope": "head"}, {}),
    ({}, {"source": {"kind": "model", "ref": "net.py:Net"}}),
    ({}, {"inputs": [{"name": "x", "shape": [1, 3], "dtype": "int8"}]}),  # not the layer list's float input
], ids=["shares", "label", "scope", "source", "int8-input"])
def test_save_keeps_what_a_layer_list_cannot_hold(qtbot, window: MainWindow, tmp_path: Path, extra: dict,  # noqa: ANN001
                                                  top: dict) -> None:
    """A plain chain is saved as a layer list only when that holds all of it; otherwise as the graph it is."""
    path = tmp_path / "chain.json"
    path.write_text(json.dumps({**GRAPH, **top, "nodes": [LINEAR, {**LINEAR, "name": "fc2", **extra}]}))
    assert open_file(qtbot, window, path)
    rows, graph = _table_params(window), window.document.graph
    window.ask_save_path = lambda *_: str(tmp_path / "saved.json")  # type: ignore[method-assign]
    assert window.save_as()
    assert json.loads((tmp_path / "saved.json").read_text())["format"] == "netcost.graph/1"
    assert open_file(qtbot, window, tmp_path / "saved.json")
    assert _table_params(window) == rows
    again = window.document.graph
    assert [(n.shares, n.label, n.scope) for n in again.nodes] == [(n.shares, n.label, n.scope) for n in graph.nodes]
    assert (again.source, again.inputs) == (graph.source, graph.inputs)


def test_a_plain_chain_is_still_saved_as_a_layer_list(qtbot, window: MainWindow, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "chain.json"
    path.write_text(json.dumps({**GRAPH, "nodes": [LINEAR, {**LINEAR, "name": "fc2"}]}))
    assert open_file(qtbot, window, path)
    window.ask_save_path = lambda *_: str(tmp_path / "saved.json")  # type: ignore[method-assign]
    assert window.save_as()
    assert json.loads((tmp_path / "saved.json").read_text())["format"] == "netcost.layers/1"
