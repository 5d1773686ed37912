"""Rewrites against PyTorch itself, and the CLI contract (`netcost rewrites`, `summary --rewrite`, `compare`).

A rewritten graph exports to runnable torch whose count (unique parameters by numel, MACs by FlopCounterMode on
meta / 2, and NetCost's count of the generated module traced again) equals the engine's. `width 0.5` on ResNet-50's
layer3 equals the same network built in torch with layer3's planes halved."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import rewrites as R
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.cli.cli import main
from netcost.model_io.files.export_torch import graph_to_torch_source
from netcost.model_io.files.zoo import load_model_graph
from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_graph
from netcost.resources.zoo_models import ZOO, Bottleneck, ResNet


def _torch_count(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def _exported(graph: Graph) -> tuple[nn.Module, torch.Tensor]:
    ns: dict = {"__name__": "generated"}
    exec(compile(graph_to_torch_source(graph), "<export-torch>", "exec"), ns)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        return ns["build"]().eval(), ns["example_input"]()


@pytest.mark.parametrize("name", ["alexnet", "inception_naive"])
def test_every_rewritten_graph_exports_to_torch_that_counts_the_same(name: str) -> None:
    graph = load_model_graph(name)
    base = evaluate_graph(graph)
    found = R.previews(graph, report=base)
    assert {p.rewrite.kind for p in found} >= {"two_3x3", "factorize_nx1", "depthwise_separable", "reduce_1x1"}
    for p in found:
        model, x = _exported(p.result.graph)
        with torch.no_grad():
            assert tuple(model(x).shape) == base.output_shape, p.rewrite.id
        assert _torch_count(model, x) == (p.after.params, p.after.macs), p.rewrite.id
        traced = evaluate_graph(trace_graph(model, [InputSpec(tuple(x.shape))]))
        assert (traced.totals.params, traced.totals.macs, traced.totals.flops) == \
            (p.after.params, p.after.macs, p.after.flops), p.rewrite.id


def _traced(name: str) -> Graph:
    entry = ZOO[name]
    with meta_construction():
        model = entry.build().eval()
    return trace_graph(model, [InputSpec(tuple(s), d) for s, d in entry.inputs])


def test_width_half_on_resnet50_layer3_counts_as_torch_counts_the_same_change() -> None:
    graph = _traced("resnet50")
    base = evaluate_graph(graph)
    rewrite = R.find(graph, "width:layer3", base)
    assert rewrite.params == {"factor": 0.5, "scope": "layer3"}
    p = R.preview(graph, rewrite, base)
    g = p.result.graph
    assert g.by_name("layer3.0.conv1").args["out_channels"] == 128  # 256 planes -> 128
    assert g.by_name("layer3.5.conv3").args["out_channels"] == 512  # the stage's residual width 1024 -> 512
    assert g.by_name("layer3.0.downsample.0").args["out_channels"] == 512  # coupled through the residual adds
    assert g.by_name("layer4.0.conv1").args["out_channels"] == 512  # outside the scope: kept
    with meta_construction():  # the same change in torch: layer3 built with half the planes, layer4 reads it
        model = ResNet(Bottleneck, [3, 4, 6, 3]).eval()
        model.inplanes = 512
        model.layer3 = model._make_layer(Bottleneck, 128, 6, stride=2)
        model.layer4 = model._make_layer(Bottleneck, 512, 3, stride=2)
        model.eval()
    x = torch.empty(1, 3, 224, 224, device="meta")
    assert _torch_count(model, x) == (p.after.params, p.after.macs)
    assert p.params_delta < 0 and p.macs_delta < 0
    full = evaluate_graph(g)
    assert full.complete and full.totals == base.totals + p.delta


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "gpt2"])
def test_candidates_on_loaded_models_all_apply_and_evaluate(name: str) -> None:
    graph = _traced(name)
    base = evaluate_graph(graph)
    found = R.previews(graph, report=base)
    kinds = {p.rewrite.kind for p in found}
    if name == "gpt2":  # no convs: only the MLP widths can change (attention heads and the tied head stay)
        assert kinds == {"width"}
        mlp = R.preview(graph, R.find(graph, "width:blocks", base), base).result.graph
        assert mlp.by_name("blocks.0.mlp.c_fc").args["out_features"] == 1536
        assert mlp.by_name("blocks.0.attn.c_attn").args["out_features"] == 2304
    else:
        assert {"depthwise_separable", "width"} <= kinds
    assert len({p.rewrite.id for p in found}) == len(found)
    for p in found:
        assert p.report.complete and p.report.output_shape == base.output_shape, p.rewrite.id


def test_a_comparison_labels_a_settings_change_apart_from_the_design() -> None:
    from netcost.costing.comparison import compare
    from netcost.costing.graph import GraphInput

    g = load_model_graph("alexnet")
    wider = g.with_inputs([GraphInput(g.inputs[0].name, (2, 3, 256, 256))])
    c = compare(evaluate_graph(g), evaluate_graph(wider))
    assert c.settings == ("input 1×3×224×224 → 2×3×256×256", "batch 1 → 2")
    assert c.kind == "settings" and "not a design change" in c.describe()
    assert {r.status for r in c.ordered} == {"changed"} and c.delta.macs > 0


# ---- the CLI contract -----------------------------------------------------------------------------------------

def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rewrites_json_then_summary_with_a_rewrite_gives_base_plus_delta(capsys) -> None:
    code, out, err = run(capsys, "rewrites", "zoo:alexnet", "--format", "json")
    assert (code, err) == (0, "")
    listed = json.loads(out)["rewrites"]
    assert {"id", "kind", "node", "description", "params_delta", "macs_delta", "flops_delta"} <= set(listed[0])
    assert {r["kind"] for r in listed} == set(R.KINDS)
    gap = next(r for r in listed if r["kind"] == "global_avg_pool")
    assert (gap["node"], gap["params_delta"]) == ("fc1", (256 - 9216) * 4096)  # fc1 reads 256 features, not 9216
    code, out, _ = run(capsys, "summary", "zoo:alexnet", "--format", "json")
    base = json.loads(out)["totals"]
    for r in (gap, next(r for r in listed if r["id"] == "two_3x3:conv2")):
        code, out, err = run(capsys, "summary", "zoo:alexnet", "--rewrite", r["id"], "--format", "json")
        assert (code, err) == (0, "")
        t = json.loads(out)["totals"]
        assert (t["params"], t["macs"], t["flops"]) == (base["params"] + r["params_delta"],
                                                        base["macs"] + r["macs_delta"],
                                                        base["flops"] + r["flops_delta"])
    code, out, _ = run(capsys, "rewrites", "zoo:alexnet")
    assert code == 0 and "two_3x3:conv2" in out and "+36,864" in out  # two 3×3 96→192→192 vs one 5×5: more here


def test_repeated_rewrites_and_params_apply_in_order(capsys) -> None:
    code, out, err = run(capsys, "summary", "zoo:inception_naive", "--rewrite", "reduce_1x1:branch3.conv:ratio=0.25",
                         "--rewrite", "two_3x3:branch3.conv", "--format", "json")
    assert (code, err) == (0, "")
    names = [r["name"] for r in json.loads(out)["layers"]]
    assert names[4:9] == ["branch3.conv.reduce", "branch3.conv.reduce.relu", "branch3.conv.3x3_1",
                          "branch3.conv.relu", "branch3.conv.3x3_2"]


@pytest.mark.parametrize("bad,message", [
    ("two_3x3:conv3", "no rewrite 'two_3x3:conv3' applies"),
    ("prune:conv3", "unknown rewrite 'prune:conv3'"),
    ("reduce_1x1:conv2:ratio=3", "ratio must be below 1"),
])
def test_a_bad_rewrite_exits_2_with_one_line(capsys, bad: str, message: str) -> None:
    code, out, err = run(capsys, "summary", "zoo:alexnet", "--rewrite", bad)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_compare_in_every_format(capsys) -> None:
    argv = ("compare", "zoo:alexnet", "--rewrite", "depthwise_separable:conv2")
    code, out, err = run(capsys, *argv, "--format", "json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    # depthwise 96·5·5 + pointwise 96·192 instead of 192·96·5·5
    assert d["totals"]["delta"]["params"] == 96 * 25 + 96 * 192 - 192 * 96 * 25
    status = {r["name"]: r["status"] for r in d["rows"]}
    assert (status["conv2"], status["conv2.depthwise"], status["conv2.pointwise"], status["conv1"]) == \
        ("removed", "added", "added", "same")
    assert status["ReLU-4"] == "same" and d["settings_changes"] == []
    code, out, _ = run(capsys, *argv, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[-1]["name"] == "TOTAL" and int(rows[-1]["params_delta"]) == d["totals"]["delta"]["params"]
    for form in ("table", "markdown"):
        code, out, _ = run(capsys, *argv, "--format", form)
        assert code == 0 and "conv2.depthwise" in out and "-439,968" in out
    # two models, the first the baseline; a settings change is labelled as one
    code, out, _ = run(capsys, "compare", "zoo:conv5x5", "zoo:conv3x3_stack", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["baseline"] == "zoo:conv5x5" and d["totals"]["delta"]["params"] < 0
    code, out, err = run(capsys, "compare", "zoo:alexnet")
    assert code == 2 and "give a second model" in err
