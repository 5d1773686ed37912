"""Editing a loaded model's graph: NetCost's count of an edit equals PyTorch's own count of the same edit made in
torch (unique parameters by `numel`, MACs by FlopCounterMode on meta / 2). In torch the edit is a new module built
from the old one's arguments, and the modules after it are rebuilt for the input they now get, by forward
pre-hooks that look at the real tensor (an implementation independent of NetCost's shape inference)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.files.edits import EditError, apply_sets
from netcost.model_io.importers.module_specs import layer_spec
from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_graph
from netcost.resources.zoo_models import ZOO

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _build(name: str) -> tuple[nn.Module, list[InputSpec]]:
    entry = ZOO[name]
    with meta_construction():
        model = entry.build()
    return model.eval(), [InputSpec(tuple(s), d) for s, d in entry.inputs]


def _inputs(specs: list[InputSpec]) -> list[torch.Tensor]:
    return [torch.zeros(s.shape, dtype=torch.int64, device="meta") if s.dtype == "int64"
            else torch.empty(s.shape, device="meta") for s in specs]


# --- the same edit in torch ------------------------------------------------------------------------------------

def _rebuilt(m: nn.Module, **changes: object) -> nn.Module:
    spec = layer_spec(m)
    assert spec is not None, type(m)
    args = {**spec.args, **changes}
    with meta_construction():
        return getattr(nn, spec.type)(**args)


def _follow(module: nn.Module, args: tuple) -> None:
    """A forward pre-hook: a module whose input size no longer matches becomes the same module for that size."""
    x = args[0] if args and isinstance(args[0], torch.Tensor) else None
    if x is None:
        return
    changes: dict[str, object] = {}
    if isinstance(module, nn.modules.conv._ConvNd) and x.shape[1] != module.in_channels:
        changes["in_channels"] = x.shape[1]
    elif isinstance(module, nn.modules.batchnorm._BatchNorm) and x.shape[1] != module.num_features:
        changes["num_features"] = x.shape[1]
    elif isinstance(module, nn.Linear) and x.shape[-1] != module.in_features:
        changes["in_features"] = x.shape[-1]
    elif isinstance(module, nn.LayerNorm) and tuple(x.shape[-len(module.normalized_shape):]) != \
            tuple(module.normalized_shape):
        changes["normalized_shape"] = tuple(x.shape[-len(module.normalized_shape):])
    if changes:
        new = _rebuilt(module, **changes)
        keep = ("_forward_pre_hooks", "training")
        module.__dict__.update({k: v for k, v in new.__dict__.items() if k not in keep})


def torch_count(model: nn.Module, specs: list[InputSpec], edits: list[tuple[str, dict[str, object]]]
                ) -> tuple[int, int]:
    """(unique parameters, MACs) of `model` after replacing each named module with itself plus the changes."""
    for path, changes in edits:
        parent_path, _, attr = path.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        setattr(parent, attr, _rebuilt(model.get_submodule(path), **changes))
    handles = [m.register_forward_pre_hook(_follow) for m in model.modules()]
    try:
        with torch.no_grad():
            model(*_inputs(specs))  # the hooks rebuild what follows an edit for the shapes it now gets
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(*_inputs(specs))
    finally:
        for h in handles:
            h.remove()
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


CASES = [
    ("resnet50", [("layer1.0.conv1", {"out_channels": 32})]),
    ("resnet50", [("conv1", {"out_channels": 32})]),  # the stem: both the main path and the downsample follow
    ("resnet50", [("layer2.1.conv2", {"kernel_size": 5, "padding": 2}), ("fc", {"out_features": 10})]),
    ("mobilenet_v2", [("features.1.conv.1", {"out_channels": 24})]),  # the next block's expansion follows
    ("mobilenet_v2", [("classifier.1", {"out_features": 10})]),
    ("gpt2", [("blocks.0.mlp.c_fc", {"out_features": 1024})]),  # GELU and c_proj follow
    ("gpt2", [("lm_head", {"bias": True})]),  # a new head: the weight tie with wte is broken, as in torch
]


@pytest.mark.parametrize("name,edits", CASES, ids=[f"{n}:{e[0][0]}" for n, e in CASES])
def test_an_edit_counts_as_torch_counts_the_same_edit(name: str, edits: list) -> None:
    model, specs = _build(name)
    graph = trace_graph(model, specs)
    sets = [f"{path}.{k}={str(v).lower() if isinstance(v, bool) else v}" for path, ch in edits
            for k, v in ch.items()]
    report = evaluate_graph(apply_sets(graph, sets))
    assert report.complete, report.cause
    params, macs = torch_count(_build(name)[0], specs, edits)
    assert (report.totals.params, report.totals.macs) == (params, macs)
    assert (report.totals.params, report.totals.macs) != (evaluate_graph(graph).totals.params,
                                                          evaluate_graph(graph).totals.macs)


def test_a_users_file_with_branches_and_a_residual() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("branchy", FIXTURES / "branchy.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    with meta_construction():
        model = module.Branchy().eval()
    specs = [InputSpec((1, 3, 32, 32))]
    graph = trace_graph(model, specs)
    cat = next(n for n in graph.nodes if n.op == "cat")
    assert [graph.node(r.node).display_name for r in cat.inputs] == ["mix.a", "mix.b.1"]  # the two branches
    add = next(n for n in graph.nodes if n.op == "add")
    assert {graph.node(r.node).display_name for r in add.inputs} == {"res.conv2", "mix_act"}  # the skip
    for edits in ([("stem", {"out_channels": 8})], [("mix.b.0", {"out_channels": 4})],
                  [("res.conv1", {"out_channels": 64, "kernel_size": 1, "padding": 0})]):
        sets = [f"{p}.{k}={v}" for p, ch in edits for k, v in ch.items()]
        report = evaluate_graph(apply_sets(graph, sets))
        with meta_construction():
            fresh = module.Branchy().eval()
        assert report.complete and (report.totals.params, report.totals.macs) == torch_count(fresh, specs, edits)


def test_a_shape_breaking_edit_is_kept_and_explained_where_it_breaks() -> None:
    model, specs = _build("resnet50")
    graph = apply_sets(trace_graph(model, specs), ["layer1.0.conv3.out_channels=32"])
    report = evaluate_graph(graph)
    assert not report.complete and graph.by_name("layer1.0.conv3").args["out_channels"] == 32
    cause = report.cause
    assert cause is not None and cause.name == "layer1.0.add"
    assert cause.message == "1×32×56×56 + 1×256×56×56 do not broadcast"
    stale = [p for p in report.problems if p.stale]
    assert stale and all(p.name not in report.by_id for p in stale)  # no row keeps old numbers
    assert report.totals.params < evaluate_graph(trace_graph(*_build("resnet50"))).totals.params


def test_bad_edits_name_what_is_wrong() -> None:
    graph = trace_graph(*_build("resnet18"))
    with pytest.raises(EditError, match="no row named 'layer1.0.conv9'.*did you mean"):
        apply_sets(graph, ["layer1.0.conv9.out_channels=3"])
    with pytest.raises(EditError, match="has no argument 'out_chanels'"):
        apply_sets(graph, ["conv1.out_chanels=3"])
    with pytest.raises(EditError, match="must be an integer"):
        apply_sets(graph, ["conv1.out_channels=wide"])
    with pytest.raises(EditError, match="expected ROW.ARG=VALUE"):
        apply_sets(graph, ["conv1"])


def test_incremental_evaluation_equals_a_full_one_after_random_edits() -> None:
    graph = trace_graph(*_build("resnet50"))
    report = evaluate_graph(graph)
    convs = [n.id for n in graph.nodes if n.op == "Conv2d"]
    rng = random.Random(9)
    for _ in range(25):
        node = graph.node(rng.choice(convs))
        graph, dirty = graph.set_args(node.id, {**node.args, "out_channels": rng.choice((16, 32, 64, 128, 256))})
        report = evaluate_graph(graph, report, dirty)
        full = evaluate_graph(graph)
        assert report.totals == full.totals and report.layers == full.layers and report.problems == full.problems
        assert report.hierarchy == full.hierarchy and report.by_category == full.by_category
