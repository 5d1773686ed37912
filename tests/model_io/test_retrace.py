"""Opaque nodes (no formula: only what the trace measured) after an edit upstream: the model is traced again with
the graph's layer edits applied to its modules, and the totals equal PyTorch's own count of the same edit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.files.edits import apply_sets
from netcost.model_io.files.retrace import module_edits, stale_opaque
from netcost.model_io.importers.module_swap import ModuleEditError, apply_module_edits
from netcost.model_io.worker.resolve import LoadOptions, ModelError, RefOrigin, measured_again
from tests.traced import traced_graph

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "opaque_fft.py"
ROOT = Path(__file__).resolve().parents[2]


def torch_count(cls_name: str) -> tuple[int, int]:
    """Params (numel) and MACs (FlopCounterMode on meta / 2) of the fixture's class, counted by PyTorch."""
    sys.path.insert(0, str(FIXTURE.parent))
    try:
        import opaque_fft
    finally:
        sys.path.remove(str(FIXTURE.parent))
    with torch.device("meta"):
        model = getattr(opaque_fft, cls_name)()
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.empty(1, 3, 32, 32, device="meta"))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def summary(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netcost.model_io", "summary", *args, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=180)


def test_an_edit_before_opaque_nodes_traces_again_with_the_edit_and_matches_torch() -> None:
    graph = traced_graph(f"{FIXTURE}:Net")
    opaque = [n.display_name for n in graph.nodes if n.opaque]
    assert "_fft_r2c" in opaque  # the fixture does what it says
    edited = apply_sets(graph, ["conv.out_channels=8"])
    report = evaluate_graph(edited)
    assert not report.complete and stale_opaque(report) == ["_fft_r2c"]
    sent = {e["module"]: e for e in module_edits(report)}
    assert sent["conv"]["args"]["out_channels"] == 8 and "resolved" not in sent["fc"]  # fc: after the FFT
    again = evaluate_graph(measured_again(edited, origin=RefOrigin.USER))
    assert again.complete
    params, macs = torch_count("Net8")
    assert (again.totals.params, again.totals.macs) == (params, macs) == (314, 221_264)
    assert again.by_id["fc"].args["in_features"] == 8  # inferred from what the FFT measured
    # the same through the CLI contract, equal on every total to the model written with 8 channels
    edited_cli, written = summary(f"{FIXTURE}:Net", "--set", "conv.out_channels=8"), summary(f"{FIXTURE}:Net8")
    assert edited_cli.returncode == 0, edited_cli.stderr
    assert json.loads(edited_cli.stdout)["totals"] == json.loads(written.stdout)["totals"]


def test_a_structural_edit_before_an_opaque_node_says_why_it_cannot_be_traced() -> None:
    from netcost.costing.graph import Node, Ref

    graph = traced_graph(f"{FIXTURE}:Net")
    at = graph.index["act"] + 1
    narrowed, _ = graph.insert(at, [Node("squeeze", "Conv2d", {"out_channels": 4, "kernel_size": 1},
                                         (Ref("act"),), name="squeeze")],
                                 rewire={Ref("act"): Ref("squeeze")})
    with pytest.raises(ModelError, match=r"_fft_r2c: traced with your layer edits it reads 1×16×32×32.*"
                                         r"1×4×32×32.*cannot be applied to the model's code"):
        measured_again(narrowed, origin=RefOrigin.USER)


def test_module_edits_rebuild_layers_in_torch() -> None:
    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 4, 1))
    apply_module_edits(model, [{"module": "0", "type": "Conv2d", "args": {"out_channels": 8, "kernel_size": 3}},
                               {"module": "1", "type": "GELU", "args": {}, "resolved": {}},
                               {"module": "2", "type": "Conv2d", "args": {"out_channels": 4, "kernel_size": 1}}])
    assert isinstance(model[1], nn.GELU)
    out = model(torch.randn(1, 3, 10, 10))  # the next conv's in_channels follow what it receives
    assert out.shape == (1, 4, 8, 8) and model[0].out_channels == 8 and model[2].in_channels == 8
    with pytest.raises(ModuleEditError, match="no module 'nope'"):
        apply_module_edits(model, [{"module": "nope", "type": "ReLU", "args": {}}])
    with pytest.raises(ModuleEditError, match="Swish is not a torch.nn class"):
        apply_module_edits(model, [{"module": "1", "type": "Swish", "args": {}, "resolved": {}}])


def test_a_model_without_stale_nodes_is_not_traced_again() -> None:
    graph = traced_graph("zoo:resnet18", LoadOptions())
    edited = apply_sets(graph, ["conv1.out_channels=32"])
    assert measured_again(edited) is edited
