"""`export-torch` on the library models it refused (issue 24 item 3): it writes a file, and that file, loaded back,
counts the same params and MACs as the model, which are PyTorch's own count (numel; FlopCounterMode on meta / 2)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netcost.model_io.cli.cli import main
from netcost.model_io.files.export_torch import graph_to_torch_source
from netcost.model_io.importers import library_models
from netcost.model_io.importers.tracer import InputSpec, trace_module


def _needs(library: str) -> None:
    if not library_models.installed(library):
        pytest.skip(f"needs {library}")


@contextmanager
def _masks_built() -> Iterator[None]:
    """transformers reads a causal mask's values to skip building it unless it is tracing; a meta tensor has none,
    so it is built (no MACs in it either way). Without transformers, nothing to do."""
    try:
        from transformers import masking_utils
    except ImportError:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(masking_utils, "is_tracing", lambda *_: True)
        yield


def _torch_count(model: torch.nn.Module, x: torch.Tensor) -> tuple[int, int]:
    with _masks_built(), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def _efficientnet() -> torch.nn.Module:
    import torchvision

    return torchvision.models.efficientnet_b0(weights=None)


def _convnext_timm() -> torch.nn.Module:
    import timm

    return timm.create_model("convnext_tiny", pretrained=False)


def _convnext_torchvision() -> torch.nn.Module:
    import torchvision

    return torchvision.models.convnext_tiny(weights=None)


def _bert() -> torch.nn.Module:
    import transformers

    return transformers.BertModel(transformers.BertConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                                          num_attention_heads=4, vocab_size=1000))


def _gpt2() -> torch.nn.Module:
    import transformers

    return transformers.GPT2Model(transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000,
                                                          n_positions=64))


CASES: dict[str, tuple[str, Callable[[], torch.nn.Module], InputSpec]] = {
    "efficientnet_b0": ("torchvision", _efficientnet, InputSpec((1, 3, 64, 64))),  # stochastic_depth
    "convnext_tiny_timm": ("timm", _convnext_timm, InputSpec((1, 3, 64, 64))),  # its LayerNorm, LayerNorm2d, GELU
    "convnext_tiny_torchvision": ("torchvision", _convnext_torchvision, InputSpec((1, 3, 64, 64))),
    "bert": ("transformers", _bert, InputSpec((1, 32), "int64")),  # embeddings' gather, bound GELU
    "gpt2": ("transformers", _gpt2, InputSpec((1, 32), "int64")),  # NewGELUActivation, Conv1D
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_export_round_trips_and_equals_torch(name: str) -> None:
    library, make, spec = CASES[name]
    _needs(library)
    with torch.device("meta"):
        model = make().eval()
    x = torch.zeros(spec.shape, dtype=torch.long if spec.dtype == "int64" else torch.float32, device="meta")
    with _masks_built():
        report = trace_module(model, [spec])
    source = graph_to_torch_source(report.graph)  # raised "N node(s) have no formula" before
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(source, f"<export of {name}>", "exec"), namespace)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        exported = namespace["build"]().eval()
    again = trace_module(exported, [spec])
    assert (report.totals.params, report.totals.macs) == (again.totals.params, again.totals.macs) == \
        _torch_count(model, x)
    assert _torch_count(exported, x) == _torch_count(model, x)  # and torch agrees about the exported module
    if library != "transformers":  # no op called through a captured F.* function: the peer views follow too
        assert report.totals.peer_views() == again.totals.peer_views()


GPT2_LM_PY = '''import transformers


def build():
    config = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, n_positions=64)
    return transformers.GPT2LMHeadModel(config).eval()
'''


def test_cli_exports_gpt2_lm_head_with_an_edit_and_the_file_counts_the_same(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """What a user runs: a .py with transformers' default cache, an edit of the MLP width, export, count the file:
    PyTorch's count of the same edit made in code."""
    _needs("transformers")
    from transformers.pytorch_utils import Conv1D

    model_py, out_py = tmp_path / "gpt2_lm.py", tmp_path / "gpt2_lm_export.py"
    model_py.write_text(GPT2_LM_PY)
    code = main(["export-torch", f"{model_py}:build", "--input", "long:1,32", "--set",
                 "transformer.h.0.mlp.c_fc.nf=128", "-o", str(out_py)])
    assert code == 0, capsys.readouterr().err
    assert "class Conv1D(nn.Module)" in out_py.read_text()
    capsys.readouterr()
    code = main(["summary", f"{out_py}:build", "--input", "long:1,32", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    totals = json.loads(out)["totals"]
    namespace: dict[str, Any] = {}
    exec(compile(GPT2_LM_PY, str(model_py), "exec"), namespace)
    with torch.device("meta"):
        model = namespace["build"]()
        mlp = model.transformer.h[0].mlp
        mlp.c_fc, mlp.c_proj = Conv1D(128, 64), Conv1D(64, 128)
    x = torch.zeros(1, 32, dtype=torch.long, device="meta")
    assert (totals["params"], totals["macs"]) == _torch_count(model, x)


def test_gpt2_traced_on_the_cpu_exports_and_round_trips() -> None:
    """Traced on real CPU tensors (`meta=False`: a model that reads values, `.item()`, falls back there), the mask is
    built with cumsum and attention runs torch's fused CPU kernel. Both have rules now, and the number Python read
    is no code to write; the file counts what PyTorch counts."""
    _needs("transformers")
    import transformers

    config = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, n_positions=64,
                                     use_cache=False)
    spec = InputSpec((1, 32), "int64")
    report = trace_module(transformers.GPT2LMHeadModel(config).eval(), [spec], meta=False)
    assert {"cumsum", "_scaled_dot_product_flash_attention_for_cpu"} <= {n.op for n in report.graph.nodes}
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(graph_to_torch_source(report.graph), "<export>", "exec"), namespace)
    with torch.device("meta"):
        exported, model = namespace["build"]().eval(), transformers.GPT2LMHeadModel(config).eval()
    again = trace_module(exported, [spec])
    x = torch.zeros(1, 32, dtype=torch.long, device="meta")
    assert (report.totals.params, report.totals.macs) == (again.totals.params, again.totals.macs) == \
        _torch_count(model, x)


def test_cli_exports_an_hf_folder_whose_mask_is_built_op_by_op(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`hf:FOLDER` counts attention with its mask built (index, le, eq, bitwise_and over a grid of positions): those
    ops have rules, so the folder exports, and the file counts what the folder counts."""
    _needs("transformers")
    import transformers

    folder, out_py = tmp_path / "gpt2", tmp_path / "gpt2_export.py"
    transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, n_positions=64,
                            architectures=["GPT2LMHeadModel"]).save_pretrained(folder)
    totals = []
    for argv in (["export-torch", f"hf:{folder}", "-o", str(out_py)], ["summary", f"hf:{folder}"],
                 ["summary", f"{out_py}:build"]):
        code = main([*argv, "--input", "long:1,32"] + (["--format", "json"] if argv[0] == "summary" else []))
        out, err = capsys.readouterr()
        assert code == 0, err
        if argv[0] == "summary":
            totals.append({k: json.loads(out)["totals"][k] for k in ("params", "macs")})
    assert "torch.ops.aten.bitwise_and" in out_py.read_text()
    assert totals[0] == totals[1]
