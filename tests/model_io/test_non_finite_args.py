"""Node arguments that are ±infinity or NaN (GPT-2's causal mask fills with -inf): saved as strict JSON
(`{"float": "-inf"}`), reopened identically, and exported to torch as `float('-inf')`."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import FormatError
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io import strict_json
from netcost.model_io.files.export_torch import graph_to_torch_source
from netcost.model_io.files.graph_file import graph_to_dict, load_graph, loads_graph, save_graph
from netcost.model_io.worker.resolve import load_graph_ref

HAND_MADE = {
    "format": "netcost.graph/1", "name": "non-finite", "inputs": [{"name": "x", "shape": [1, 4, 8, 8]}],
    "nodes": [
        {"type": "clamp", "name": "clip", "min": {"float": "-inf"}, "max": {"float": "inf"}},
        {"type": "LeakyReLU", "name": "leak", "negative_slope": 0.1},
        {"type": "full", "name": "fill", "inputs": [], "size": [1, 4, 8, 8], "fill_value": {"float": "nan"},
         "dtype": "float32"},
        {"type": "add", "name": "sum", "inputs": ["leak", "fill"]}]}


@pytest.fixture(scope="module")
def gpt2():
    return load_graph_ref("zoo:gpt2")


def _rows(report) -> list[tuple]:
    return [(r.node_id, r.output_shape, r.totals) for r in report.layers]


def _exported(graph) -> tuple[torch.nn.Module, torch.Tensor]:
    ns: dict = {"__name__": "generated"}
    exec(compile(graph_to_torch_source(graph), "<export-torch>", "exec"), ns)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        return ns["build"]().eval(), ns["example_input"]()


def test_gpt2_with_an_edit_saves_as_strict_json_and_reopens_identically(gpt2, tmp_path: Path) -> None:
    traced = gpt2
    fc = traced.by_name("blocks.0.mlp.c_fc")
    graph, _ = traced.set_args(fc.id, {**fc.args, "out_features": 1024})  # an edit, as a project holds it
    masks = [n for n in graph.nodes if any(isinstance(v, float) and math.isinf(v) for v in n.args.values())]
    assert len(masks) == 12  # one causal-mask fill value per block
    path = tmp_path / "gpt2.json"
    save_graph(path, graph)
    text = path.read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert strict_json.loads(text)["nodes"][graph.index[masks[0].id]]["s"] == {"float": "-inf"}
    loaded, _ = load_graph(path)
    assert graph_to_dict(loaded) == graph_to_dict(graph)
    assert loaded.node(masks[0].id).args["s"] == -math.inf
    before, after = evaluate_graph(graph), evaluate_graph(loaded)
    assert after.complete and after.totals == before.totals and _rows(after) == _rows(before)
    assert before.totals != evaluate_graph(traced).totals  # the edit is in the file
    save_graph(tmp_path / "again.json", loaded)
    assert (tmp_path / "again.json").read_text() == text


def test_gpt2_exports_its_mask_value_as_float_minus_inf(gpt2) -> None:
    graph = gpt2
    source = graph_to_torch_source(graph)
    assert "float('-inf')" in source and "-inf," not in source.replace("float('-inf')", "")
    model, x = _exported(graph)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    report = evaluate_graph(graph)
    params = sum(p.numel() for p in model.parameters())  # tied lm_head / wte counted once, as NetCost does
    assert (params, counter.get_total_flops() // 2) == (report.totals.params, report.totals.macs)


def test_a_hand_made_graph_with_inf_and_nan_arguments_round_trips_and_runs(tmp_path: Path) -> None:
    graph, _ = loads_graph(json.dumps(HAND_MADE))
    clip, fill = graph.by_name("clip"), graph.by_name("fill")
    assert (clip.args["min"], clip.args["max"]) == (-math.inf, math.inf) and math.isnan(fill.args["fill_value"])
    report = evaluate_graph(graph)
    assert report.complete and report.output_shape == (1, 4, 8, 8)
    save_graph(tmp_path / "g.json", graph)
    text = (tmp_path / "g.json").read_text()
    assert json.loads(text)["nodes"][2]["fill_value"] == {"float": "nan"}
    loaded, _ = load_graph(tmp_path / "g.json")
    assert graph_to_dict(loaded) == graph_to_dict(graph) and _rows(evaluate_graph(loaded)) == _rows(report)
    assert math.isnan(loaded.by_name("fill").args["fill_value"])
    # export: every value a Python literal, and the module runs (on the CPU: the values are real here)
    source = graph_to_torch_source(loaded)
    assert "float('-inf'), float('inf')" in source and "float('nan')" in source
    ns: dict = {"__name__": "generated"}
    exec(compile(source, "<export-torch>", "exec"), ns)
    y = ns["build"]()(torch.ones(1, 4, 8, 8))
    assert tuple(y.shape) == (1, 4, 8, 8) and bool(torch.isnan(y).all())


@pytest.mark.parametrize("bad,message", [
    ({"float": "-infinity"}, 'nodes[0].min: {"float": \'-infinity\'} must name "inf", "-inf" or "nan"'),
    ({"float": 1.5}, 'nodes[0].min: {"float": 1.5} must name'),
])
def test_a_bad_float_tag_names_the_field(bad: dict, message: str) -> None:
    data = {**HAND_MADE, "nodes": [{**HAND_MADE["nodes"][0], "min": bad}]}
    with pytest.raises(FormatError) as e:
        loads_graph(json.dumps(data))
    assert message in str(e.value)


def test_the_literals_stay_refused_and_a_layer_argument_stays_finite() -> None:
    with pytest.raises(FormatError, match="-Infinity is not a JSON number"):
        loads_graph(json.dumps(HAND_MADE).replace('{"float": "-inf"}', "-Infinity"))
    leaky = {**HAND_MADE, "nodes": [{"type": "LeakyReLU", "name": "leak", "negative_slope": {"float": "inf"}}]}
    with pytest.raises(FormatError, match=r"nodes\[0\].negative_slope: negative_slope=inf must be a finite"):
        loads_graph(json.dumps(leaky))


def _strict(text: str):
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("extra", [[], ["--device", "a100-40gb"]], ids=["summary", "with-latency"])
def test_summary_json_of_a_model_with_minus_inf_arguments_is_strict_json(tmp_path: Path, capsys, extra) -> None:
    from netcost.model_io.cli.cli import main

    path = tmp_path / "non_finite.json"
    path.write_text(json.dumps(HAND_MADE))
    assert main(["summary", str(path), "--format", "json", *extra]) == 0
    # before: `-Infinity` and `NaN` were printed, which JSON readers outside Python refuse
    data = _strict(capsys.readouterr().out)
    clip = next(row for row in data["layers"] if row["name"] == "clip")
    assert clip["args"]["min"] == {"float": "-inf"} and clip["args"]["max"] == {"float": "inf"}
    fill = next(row for row in data["layers"] if row["name"] == "fill")
    assert fill["args"]["fill_value"] == {"float": "nan"}


def test_strict_dumps_tags_every_non_finite_float() -> None:
    text = strict_json.dumps({"a": [1.0, -math.inf, (math.nan,)], "b": {"c": math.inf}})
    assert _strict(text) == {"a": [1.0, {"float": "-inf"}, [{"float": "nan"}]], "b": {"c": {"float": "inf"}}}
