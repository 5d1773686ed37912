"""torchvision:NAME, timm:NAME and hf:PATH references parse without the libraries, and a missing library or a bad
name is one clear line (these run everywhere; tests/library/ needs the libraries)."""

from __future__ import annotations

import importlib.util

import pytest

from netcost.model_io.model_ref import ModelRef, RefError, parse_ref
from netcost.model_io.worker.resolve import ModelError, is_layer_list, load_report


@pytest.mark.parametrize(("text", "ref", "label"), [
    ("torchvision:resnet50", ModelRef("torchvision", "resnet50"), "torchvision:resnet50"),
    ("torchvision:resnet50(num_classes=10)", ModelRef("torchvision", "resnet50", "", {"num_classes": 10}),
     "torchvision:resnet50(num_classes=10)"),
    ("timm:convnext_tiny", ModelRef("timm", "convnext_tiny"), "timm:convnext_tiny"),
    ("hf:models/llama/config.json", ModelRef("hf", "models/llama/config.json"), "hf:models/llama/config.json"),
])
def test_library_references(text: str, ref: ModelRef, label: str) -> None:
    assert parse_ref(text) == ref and ref.label() == label


def test_a_library_reference_without_a_name() -> None:
    with pytest.raises(RefError, match="name the model"):
        parse_ref("timm:")


def test_an_hf_config_json_is_not_a_layer_list() -> None:
    assert not is_layer_list("hf:llama/config.json") and is_layer_list("net.json")


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed here")
def test_a_missing_library_is_one_line() -> None:
    with pytest.raises(ModelError) as info:
        load_report("torchvision:resnet50")
    assert str(info.value) == "torchvision:resnet50: torchvision is not installed here (pip install torchvision)"
