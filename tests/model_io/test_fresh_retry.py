"""Models that need real tensors are counted on a fresh build, and a failed meta attempt leaves the model as it
was; constructors that compute sizes with torch ops still build without weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import torch

from netcost.model_io.importers.model_build import construct
from netcost.model_io.importers.tracer import InputSpec, trace_module
from netcost.model_io.worker.resolve import LoadOptions, load_report

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "torch_sized.py"


def _fixture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("torch_sized_fixture", FIXTURE)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_a_failed_meta_attempt_leaves_the_model_as_it_was() -> None:
    model = _fixture().KeepsAnchors()
    anchors = model.cell_anchors[0]
    report = trace_module(model, [InputSpec((2, 8))])
    assert report.totals.macs == 2 * 8 * 4  # counted on the CPU after the meta attempt failed
    assert any("real tensors on the CPU" in w for w in report.warnings)
    assert model.cell_anchors[0] is anchors and not anchors.is_meta


def test_a_python_model_needing_real_tensors_is_counted_on_a_fresh_build() -> None:
    report = load_report(f"{FIXTURE}:KeepsAnchors", LoadOptions(inputs=("2,8",)))
    assert report.totals.params == 8 * 4 + 4 and report.totals.macs == 2 * 8 * 4
    assert any("real tensors on the CPU" in w for w in report.warnings)


def test_a_constructor_computing_widths_with_torch_builds_without_weights() -> None:
    model, notes = construct(_fixture().TorchSizedWidths, "TorchSizedWidths()", ())
    assert notes == [] and all(p.is_meta for p in model.parameters())
    report = load_report(f"{FIXTURE}:TorchSizedWidths")
    # Linear 32->64, 64->128, 128->192: weights and biases
    assert report.totals.params == 32 * 64 + 64 + 64 * 128 + 128 + 128 * 192 + 192
    assert not any("built on the CPU" in w for w in report.warnings)
    assert torch.nn.Module.register_parameter.__name__ == "register_parameter"  # the patch is undone
