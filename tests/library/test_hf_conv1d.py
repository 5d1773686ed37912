"""Hugging Face GPT-2's Conv1D layers are editable layers: an edit of `nf` in the CLI and in the window gives
PyTorch's own count of the same edit, and the next layer's inferred `nx` follows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.cli.cli import main
from netcost.model_io.importers import library_models
from netcost.model_io.importers.tracer import InputSpec, trace_module

TOKENS = 32
# a small GPT-2 (n_embd 64, MLP width 256); the edit halves the first block's MLP width
MODEL_PY = '''import transformers


def build():
    config = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, n_positions=64,
                                     use_cache=False)
    return transformers.GPT2LMHeadModel(config).eval()
'''


def _needs_transformers() -> None:
    if not library_models.installed("transformers"):
        pytest.skip("needs transformers")


@contextmanager
def _masks_built() -> Iterator[None]:
    """transformers reads the causal mask's values to skip building it unless it is tracing; a meta tensor has no
    values, so it is built (the mask has no MACs: the count is the same either way)."""
    from transformers import masking_utils

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(masking_utils, "is_tracing", lambda *_: True)
        yield


def _torch_count(model: torch.nn.Module, tokens: int = TOKENS) -> tuple[int, int]:
    """PyTorch's own count of a model built on the meta device: unique parameters' numel, and FlopCounterMode's
    FLOPs / 2."""
    x = torch.zeros(1, tokens, dtype=torch.long, device="meta")
    with _masks_built(), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def _edited_in_torch(namespace: dict) -> torch.nn.Module:
    """The edit as a user makes it in code: c_fc to 128 outputs, and c_proj reading 128."""
    from transformers.pytorch_utils import Conv1D

    with torch.device("meta"):  # built there: moving it would untie lm_head from the embedding
        model = namespace["build"]()
        mlp = model.transformer.h[0].mlp
        mlp.c_fc, mlp.c_proj = Conv1D(128, 64), Conv1D(64, 128)
    return model


@pytest.fixture
def model_file(tmp_path: Path) -> tuple[Path, dict]:
    _needs_transformers()
    path = tmp_path / "gpt2_small.py"
    path.write_text(MODEL_PY)
    namespace: dict = {}
    exec(compile(MODEL_PY, str(path), "exec"), namespace)
    return path, namespace


def test_cli_set_of_conv1d_nf_equals_torch(model_file: tuple[Path, dict], capsys: pytest.CaptureFixture) -> None:
    path, namespace = model_file
    code = main(["summary", f"{path}:build", "--input", f"long:1,{TOKENS}",
                 "--set", "transformer.h.0.mlp.c_fc.nf=128", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    params, macs = _torch_count(_edited_in_torch(namespace))
    assert (report["totals"]["params"], report["totals"]["macs"]) == (params, macs)
    rows = {r["name"]: r for r in report["layers"]}
    assert rows["transformer.h.0.mlp.c_fc"]["type"] == "Conv1D"
    assert rows["transformer.h.0.mlp.c_fc"]["output_shape"] == [1, TOKENS, 128]
    assert rows["transformer.h.0.mlp.c_proj"]["output_shape"] == [1, TOKENS, 64]  # nx follows the edit
    with torch.device("meta"):
        unedited = _torch_count(namespace["build"]())
    assert unedited != (params, macs)  # the edit changed the count


def test_window_edit_of_conv1d_nf_equals_torch(model_file: tuple[Path, dict]) -> None:
    from netcost.gui.document.cost_document import CostDocument

    _, namespace = model_file
    report = evaluate_graph(trace_module(namespace["build"](), [InputSpec((1, TOKENS), "int64")]).graph)
    doc = CostDocument()
    doc.set_report(report)
    row = next(i for i, n in enumerate(report.graph.nodes) if n.display_name == "transformer.h.0.mlp.c_fc")
    assert doc.editable(row)
    assert doc.set_layer_arg(row, "nf", 128)
    params, macs = _torch_count(_edited_in_torch(namespace))
    assert (doc.report.totals.params, doc.report.totals.macs) == (params, macs)
    c_proj = next(r for r in doc.report.layers if r.name == "transformer.h.0.mlp.c_proj")
    assert c_proj.args["nx"] == 128 and "nx" in c_proj.inferred


def test_default_gpt2_edit_matches_the_issue_figures() -> None:
    """GPT2LMHeadModel's default configuration at 128 tokens, its first MLP halved: 122,078,976 params and
    15,812,100,096 MACs, as PyTorch counts the same edit (issue 24)."""
    _needs_transformers()
    import transformers

    config = transformers.GPT2Config(use_cache=False)
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(config).eval()
    with _masks_built():
        graph = trace_module(model, [InputSpec((1, 128), "int64")]).graph
    node = graph.by_name("transformer.h.0.mlp.c_fc")
    assert node is not None and node.op == "Conv1D"
    edited = evaluate_graph(graph.set_args(node.id, {**node.args, "nf": 1536})[0])
    from transformers.pytorch_utils import Conv1D

    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(config).eval()
        mlp = model.transformer.h[0].mlp
        mlp.c_fc, mlp.c_proj = Conv1D(1536, 768), Conv1D(768, 1536)
    torch_count = _torch_count(model, 128)
    assert (edited.totals.params, edited.totals.macs) == torch_count == (122_078_976, 15_812_100_096)
