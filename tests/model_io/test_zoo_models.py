"""The built-in torch models reproduce their published parameter and MAC counts (built on the meta device)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from netcost.model_io.files.torch_zoo_index import TORCH_ZOO, TORCH_ZOO_INPUTS, TORCH_ZOO_META_ONLY
from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_module
from netcost.resources.zoo_models import ZOO

# name -> (params, MACs at the default input); published figures (formulas.md, "Published figures").
PUBLISHED = {
    "resnet50": (25_557_032, 4_089_184_256),  # 4.089 G
    "resnet18": (11_689_512, 1_814_073_344),  # 1.814 G
    "vgg16": (138_357_544, 15_470_264_320),  # 15.47 G
    "mobilenet_v2": (3_504_872, 300_774_272),  # 300.8 M
    "gpt2": (124_439_808, None),  # head tied to the token embedding: counted once
}


def _build(name: str) -> torch.nn.Module:
    with meta_construction():
        return ZOO[name].build()


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_counts(name: str) -> None:
    params, macs = PUBLISHED[name]
    report = trace_module(_build(name), [InputSpec(s, d) for s, d in ZOO[name].inputs])
    assert report.totals.params == params
    if macs is not None:
        assert report.totals.macs == macs


def test_every_entry_builds_on_meta_and_counts() -> None:
    for name, entry in ZOO.items():
        model = _build(name)
        assert all(p.is_meta for p in model.parameters()), name
        report = trace_module(model, [InputSpec(s, d) for s, d in entry.inputs])
        assert report.totals.params == sum(p.numel() for p in model.parameters()), name
        assert report.totals.macs > 0 and not report.unsupported, name


def test_llama_configs_are_llm_scale() -> None:
    # 7B: 32 x (4*4096^2 + 3*4096*11008 + 2*4096) + 2*32000*4096 + 4096 = 6,738,415,616
    assert sum(p.numel() for p in _build("llama7b").parameters()) == 6_738_415_616
    assert ZOO["llama70b"].meta_only and ZOO["llama7b"].meta_only


def test_index_matches_zoo_without_importing_torch() -> None:
    assert set(TORCH_ZOO) == set(ZOO)
    assert {name: entry.inputs for name, entry in ZOO.items()} == TORCH_ZOO_INPUTS
    assert {name for name, entry in ZOO.items() if entry.meta_only} == TORCH_ZOO_META_ONLY
    assert all(TORCH_ZOO[name] == entry.description for name, entry in ZOO.items())
    code = "import sys, model_io.files.torch_zoo_index, model_io.cli.cli, model_io.worker.resolve, " \
           "model_io.worker.worker_client, netcost.model_io.model_ref; " \
           "assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))


def test_alexnet_module_is_the_articles() -> None:
    model = _build("alexnet-module")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 and all(c.bias is None for c in convs)
    assert sum(p.numel() for p in model.parameters()) == 61_264_904
