"""Each peer view equals the tool itself (thop, fvcore, ptflops, torchinfo) on the models users run."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
import torch
from torch import nn

from netcost.model_io.importers.tracer import InputSpec, trace_module


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"needs {module}")


def _tools(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    import thop
    import torchinfo
    from fvcore.nn import FlopCountAnalysis
    from ptflops import get_model_complexity_info

    with torch.no_grad():
        macs, _ = thop.profile(model, inputs=(x,), verbose=False)
        fv = FlopCountAnalysis(model, (x,)).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()
        pt, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
                                          verbose=False, input_constructor=lambda _: x)
    info = torchinfo.summary(model, input_data=[x], verbose=0).total_mult_adds
    return {"thop": int(macs), "fvcore": int(fv), "ptflops": int(pt), "torchinfo": int(info)}


def _views(model: nn.Module, x: torch.Tensor) -> dict[str, Any]:
    views = trace_module(model, [InputSpec(tuple(x.shape))]).totals.peer_views()
    return {k: views[k] for k in ("thop", "fvcore", "ptflops", "torchinfo")}


@pytest.mark.parametrize("name", ["mobilenet_v2", "convnext_tiny"])
def test_views_equal_the_tools_on_torchvision_models(name: str) -> None:
    for module in ("thop", "fvcore", "ptflops", "torchinfo", "torchvision"):
        _needs(module)
    import torchvision

    model = torchvision.models.get_model(name, weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    assert _views(model, x) == _tools(model, x)


def test_views_equal_the_tools_on_hf_gpt2() -> None:
    for module in ("thop", "fvcore", "ptflops", "torchinfo", "transformers"):
        _needs(module)
    import transformers

    config = transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000)
    model = transformers.GPT2Model(config).eval()
    model.config.use_cache = False
    x = torch.zeros(1, 32, dtype=torch.long)
    views = trace_module(model, [InputSpec((1, 32), "int64")]).totals.peer_views()
    tools = _tools(model, x)
    assert {k: views[k] for k in tools} == tools
