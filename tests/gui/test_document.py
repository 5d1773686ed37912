"""CostDocument without widgets: edits, undo/redo round trips, signals once per edit, no-op edits, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netcost.costing import LayerSpec, Network
from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.document.cost_document import CostDocument, network_from_report


class Recorder:
    def __init__(self, doc: CostDocument) -> None:
        self.calls: list[tuple[str, tuple]] = []
        for name in ("layerChanged", "reportChanged", "errorChanged", "documentReset", "layersInserted",
                     "layersRemoved", "layersMoved", "modifiedChanged", "documentAboutToReset"):
            getattr(doc, name).connect(lambda *a, n=name: self.calls.append((n, a)))

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


def test_edit_undo_redo_restores_identical_report(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    before = doc.report
    assert doc.set_layer_arg(3, "out_channels", 128)
    edited = doc.report
    assert edited.totals.params != before.totals.params
    # conv2 96*128*25 replaces 96*192*25; the next conv's inferred in_channels follows (128 -> 384 * 9)
    assert doc.report.layers[6].args["in_channels"] == 128
    doc.undo_stack.undo()
    assert doc.report.layers == before.layers and doc.report.totals == before.totals
    doc.undo_stack.redo()
    assert doc.report.layers == edited.layers and doc.report.totals == edited.totals


def test_signals_once_per_edit(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    rec = Recorder(doc)
    doc.set_layer_arg(0, "stride", 2)
    assert rec.count("layerChanged") == 1 and rec.count("reportChanged") == 1
    assert ("reportChanged", (0,)) in rec.calls
    assert rec.count("modifiedChanged") == 1


def test_no_op_edits_push_nothing(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    assert not doc.set_layer_arg(0, "out_channels", 96)
    assert not doc.rename_layer(0, "conv1")
    assert not doc.set_layer_type(0, "Conv2d")
    assert not doc.set_trainable(0, True)
    assert not doc.set_settings(batch_size=1)
    assert doc.undo_stack.count() == 0 and not doc.modified


def test_invalid_value_kept_and_what_depends_on_it_is_not_costed(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    valid = doc.report
    rec = Recorder(doc)
    doc.set_layer_arg(3, "groups", 5)  # 96 input channels are not divisible by 5
    assert doc.error is not None and doc.error_row() == 3 and doc.error.field == "groups"
    assert doc.spec(3).args["groups"] == 5  # the user's value is kept to be fixed
    assert rec.count("errorChanged") == 1
    # the rows before it keep their (current, valid) costs; it and every row after it have none, and the report
    # says so: never the old numbers
    assert all(doc.row_cost(r) == valid.layers[r] for r in range(3))
    assert all(doc.row_cost(r) is None for r in range(3, doc.row_count()))
    assert not doc.report.complete and doc.report.totals == sum((valid.layers[r].totals for r in range(3)),
                                                                 type(valid.totals)())
    doc.undo_stack.undo()
    assert doc.error is None and doc.report.totals == valid.totals and doc.report.complete


def test_batch_is_one_step_and_one_recompute(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    rec = Recorder(doc)
    with doc.batch("Paste 2 layers"):
        doc.insert_layers(2, [LayerSpec("ReLU")])
        doc.insert_layers(2, [LayerSpec("Identity")])
    assert doc.undo_stack.count() == 1 and rec.count("reportChanged") == 1
    assert doc.row_count() == len(alexnet.layers) + 2
    doc.undo_stack.undo()
    assert doc.row_count() == len(alexnet.layers)


def test_undo_restores_selection(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    doc.selection.set_rows([4, 5])
    doc.remove_layers([4, 5])
    assert doc.selection.rows == [4]
    doc.undo_stack.undo()
    assert doc.selection.rows == [4, 5]
    doc.move_layers(1, 1, 3)
    assert doc.selection.rows == [2]
    doc.undo_stack.undo()
    assert doc.selection.rows == [1]


def test_layer_ids_stable_across_moves(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    ids = doc.layer_ids()
    doc.move_layers(0, 1, 4)
    assert sorted(doc.layer_ids()) == sorted(ids) and doc.layer_id(2) == ids[0]


def test_modified_follows_undo_stack(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    states: list[bool] = []
    doc.modifiedChanged.connect(states.append)
    doc.rename_layer(0, "first")
    doc.undo_stack.undo()
    assert states == [True, False] and not doc.modified


def test_save_and_load_round_trip(alexnet: Network, tmp_path: Path) -> None:
    doc = CostDocument(alexnet)
    doc.set_layer_arg(0, "out_channels", 64)
    doc.set_convention("macs")
    path = tmp_path / "net.json"
    doc.save_file(path)
    assert not doc.modified and doc.path == path and doc.display_name == "net.json"
    data = json.loads(path.read_text())
    assert data["format"] == "netcost.layers/1" and data["view"]["convention"] == "macs"
    other = CostDocument()
    other.load_file(path)
    assert other.network == doc.network and other.report.totals == doc.report.totals
    assert other.convention == "macs" and not other.modified


def test_a_graph_with_an_infinite_argument_saves_as_a_project_and_reopens(tmp_path: Path) -> None:
    from netcost.model_io.files.graph_file import graph_to_dict, loads_graph
    from netcost.model_io.strict_json import loads

    text = json.dumps({"format": "netcost.graph/1", "name": "masked", "inputs": [{"name": "x", "shape": [1, 8]}],
                       "nodes": [{"type": "Linear", "name": "fc", "out_features": 16},
                                 {"type": "clamp", "name": "clip", "min": {"float": "-inf"}, "max": 6.0},
                                 {"type": "full", "name": "bias", "inputs": [], "size": [1, 16],
                                  "fill_value": {"float": "-inf"}, "dtype": "float32"},
                                 {"type": "add", "name": "sum", "inputs": ["clip", "bias"]}]})
    doc = CostDocument()
    doc.set_graph(loads_graph(text)[0])
    doc.set_layer_arg(doc.row_of("fc"), "bias", False)  # an edit, then the project
    path = tmp_path / "masked.json"
    doc.save_file(path)
    assert loads(path.read_text())["nodes"][1]["min"] == {"float": "-inf"}  # strict JSON: no -Infinity literal
    other = CostDocument()
    other.load_file(path)
    assert graph_to_dict(other.graph) == graph_to_dict(doc.graph) and other.report.totals == doc.report.totals
    assert other.report.complete and other.report.totals.params == 8 * 16  # fc without its bias
    assert other.graph.by_name("clip").args["min"] == float("-inf")


def test_load_bad_file_leaves_document(alexnet: Network, tmp_path: Path) -> None:
    doc = CostDocument(alexnet)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "netcost.layers/1", "input_shape": [3], "layers": [{"type": "Nope"}]}')
    with pytest.raises(ValueError, match=r"layers\[0\]\.type"):
        doc.load_file(bad)
    assert doc.network == alexnet


def test_a_traced_graph_with_branches_is_editable(alexnet: Network) -> None:
    from netcost.model_io.files.graph_file import loads_graph

    graph, _ = loads_graph(json.dumps(INCEPTION))
    doc = CostDocument(alexnet)
    resets: list[int] = []
    doc.documentReset.connect(lambda: resets.append(1))
    doc.set_report(evaluate_graph(graph))
    assert doc.row_count() == len(graph.nodes) and resets == [1]
    assert doc.network is None and network_from_report(doc.report) is None  # not a chain
    before = doc.report.totals
    b1 = doc.row_of("b1")
    assert doc.set_layer_arg(b1, "out_channels", 32)  # the 1x1 branch: 64 -> 32 filters of 192 channels
    assert doc.report.totals.params == before.params - 32 * (192 + 1)
    cat = doc.row_cost(doc.row_of("cat"))
    assert cat is not None and cat.output_shape == (1, 32 + 128 + 32 + 32, 28, 28)
    assert doc.set_layer_arg(b1, "stride", 2)  # 14x14 beside 28x28: the concat breaks, and says why
    assert doc.error is not None and doc.error.name == "cat" and "do not match" in str(doc.error)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.error is None and doc.report.totals == before


INCEPTION = {"format": "netcost.graph/1", "name": "inception", "input_shape": [192, 28, 28], "nodes": [
    {"type": "Conv2d", "name": "b1", "inputs": ["input"], "out_channels": 64, "kernel_size": 1},
    {"type": "Conv2d", "name": "b2r", "inputs": ["input"], "out_channels": 96, "kernel_size": 1},
    {"type": "Conv2d", "name": "b2", "out_channels": 128, "kernel_size": 3, "padding": 1},
    {"type": "Conv2d", "name": "b3r", "inputs": ["input"], "out_channels": 16, "kernel_size": 1},
    {"type": "Conv2d", "name": "b3", "out_channels": 32, "kernel_size": 5, "padding": 2},
    {"type": "MaxPool2d", "name": "pool", "inputs": ["input"], "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "Conv2d", "name": "b4", "out_channels": 32, "kernel_size": 1},
    {"type": "cat", "name": "cat", "inputs": ["b1", "b2", "b3", "b4"], "dim": 1}]}


def test_pin_baseline(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    doc.pin_baseline()
    doc.set_layer_arg(0, "out_channels", 48)
    assert doc.baseline is not None and doc.baseline.params > doc.report.totals.params
    assert doc.baseline_report is not None
    doc.clear_baseline()
    assert doc.baseline is None and doc.baseline_report is None


@pytest.mark.parametrize(("rows", "dest", "order"), [
    ([0, 2], 5, [1, 3, 4, 0, 2, 5]),  # both above the drop: gathered just before it, in their order
    ([1, 4], 0, [1, 4, 0, 2, 3, 5]),  # both below
    ([0, 5], 3, [1, 2, 0, 5, 3, 4]),  # one on each side
    ([1, 2], 6, [0, 3, 4, 5, 1, 2]),  # contiguous: one move_layers
])
def test_move_rows_is_one_step_and_one_recompute(rows: list[int], dest: int, order: list[int]) -> None:
    net = Network(tuple(LayerSpec("ReLU", name=f"r{i}") for i in range(6)), (4,), "six")
    doc = CostDocument(net)
    ids = doc.layer_ids()
    doc.selection.set_rows(rows)  # as a drag has it: the rows dragged are the selection
    rec = Recorder(doc)
    assert doc.move_rows(rows, dest)
    assert [s.name for s in doc.network.layers] == [f"r{i}" for i in order]
    assert doc.layer_ids() == [ids[i] for i in order]  # identities travel with the layers
    assert doc.undo_stack.count() == 1 and rec.count("reportChanged") == 1
    assert [doc.spec(r).name for r in doc.selection.rows] == [f"r{i}" for i in rows]
    doc.undo_stack.undo()
    assert doc.network == net and doc.layer_ids() == ids and doc.selection.rows == rows
    doc.undo_stack.redo()
    assert [s.name for s in doc.network.layers] == [f"r{i}" for i in order]


def test_move_rows_no_op_pushes_nothing(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    assert not doc.move_rows([2, 3], 3) and not doc.move_rows([], 0) and not doc.move_rows([0, 1], 0)
    assert doc.undo_stack.count() == 0


def test_the_document_speaks_node_ids(alexnet: Network) -> None:
    """Edits name nodes by id, `nodeChanged` names the node, and the selection follows nodes, not rows."""
    doc = CostDocument(alexnet)
    conv2 = doc.node(3).id
    changed: list[tuple[str, str]] = []
    picked: list[list[str]] = []
    doc.nodeChanged.connect(lambda node, field: changed.append((node, field)))
    doc.selection.changed.connect(lambda ids, _source: picked.append(ids))
    assert doc.set_layer_arg(conv2, "out_channels", 128)
    assert changed == [(conv2, "out_channels")] and doc.selection.ids == [conv2] and picked[-1] == [conv2]
    assert doc.rename_layer(conv2, "wide") and doc.node(3).display_name == "wide"
    doc.selection.set_ids([conv2])
    assert doc.insert_layers(0, [LayerSpec("ReLU", {})])  # a row above: the new row is selected, by id
    relu = doc.node(0).id
    assert doc.selection.ids == [relu] and doc.selection.rows == [0]
    doc.undo_stack.undo()  # the selection before the insert, wherever that node is now
    assert doc.selection.ids == [conv2] and doc.selection.rows == [3] and doc.selection.current_id == conv2
    assert doc.remove_layers([conv2]) and doc.row_of(conv2) is None
    assert doc.selection.ids == [doc.node(3).id]
    doc.undo_stack.undo()
    assert doc.selection.ids == [conv2] and doc.node(3).args["out_channels"] == 128
