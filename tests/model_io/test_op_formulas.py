"""Ops that real models run and that had no formula: each is costed (or said plainly to be data-dependent),
never listed as unsupported. Expected figures carry their arithmetic."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netcost.model_io.importers.tracer import InputSpec, trace_module


class Fn(nn.Module):
    def __init__(self, fn: Callable[..., torch.Tensor], **params: torch.Tensor) -> None:
        super().__init__()
        self.fn = fn
        for name, value in params.items():
            self.register_parameter(name, nn.Parameter(value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self, x)


def _count(fn: Callable[..., torch.Tensor], shape: tuple[int, ...], dtype: str = "float32", **params: torch.Tensor
           ) -> tuple[int, int]:
    report = trace_module(Fn(fn, **params), [InputSpec(shape, dtype)])
    assert not report.unsupported, report.unsupported
    return report.totals.macs, report.totals.flops


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_grouped_mm_counts_every_token_through_its_expert(dtype: str) -> None:
    # transformers 5's MoE path: 10 tokens split over 4 experts, each expert a 16 -> 32 matrix; torch's meta kernel
    # takes bf16 only (its CPU kernel every dtype): fp32 runs on meta too (issue 24 item 6)
    experts = torch.empty(4, 16, 32, dtype=getattr(torch, dtype), device="meta")

    def moe(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
        offs = torch.tensor([2, 5, 7, 10], dtype=torch.int32, device=x.device)
        return torch._grouped_mm(x, m.w, offs=offs)

    macs, flops = _count(moe, (10, 16), dtype, w=experts)
    assert macs == 10 * 16 * 32 and flops == 2 * macs


@pytest.mark.parametrize(("mode", "per"), [("nearest", 0), ("bilinear", 7), ("bicubic", 32)])
def test_upsample_costs_as_the_upsample_layer(mode: str, per: int) -> None:
    _, flops = _count(lambda m, x: F.interpolate(x, scale_factor=2, mode=mode), (1, 4, 6, 6))
    assert flops == 1 * 4 * 12 * 12 * per


def test_grid_sample_interpolates_each_output_and_unnormalises_each_point() -> None:
    grid = torch.zeros(1, 8, 8, 2)

    def sample(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(x, grid.to(x.device), align_corners=False)

    _, flops = _count(sample, (1, 4, 6, 6))
    assert flops == 4 * 8 * 8 * 7 + 8 * 8 * 2 * 2  # bilinear 7 per output; (multiply, add) per coordinate


def test_in_place_hardswish_is_costed_not_unsupported() -> None:
    _, flops = _count(lambda m, x: F.hardswish(x * 1, inplace=True), (2, 3, 4))
    assert flops == 24 * 1 + 24 * 5  # the multiply, then hardswish 5 per element


def test_weight_norm_interface() -> None:
    v, g = torch.randn(4, 4, 3), torch.ones(4, 1, 1)
    _, flops = _count(lambda m, x: torch._weight_norm(m.v, m.g, 0), (1,), v=v, g=g)
    assert flops == 3 * 48 + 2 * 4  # square + add per element of v, sqrt + divide per norm, multiply per element


def test_unfold_is_data_movement() -> None:
    macs, flops = _count(lambda m, x: F.unfold(x, 3), (1, 2, 5, 5))
    assert (macs, flops) == (0, 0)


def test_ordering_ops_count_their_comparisons() -> None:
    _, flops = _count(lambda m, x: torch.sort(x, dim=1)[0], (2, 36))
    assert flops == 72 * 6  # n * ceil(log2 36)
    _, flops = _count(lambda m, x: torch.topk(x, 4, dim=1)[0], (2, 36))
    assert flops == 72 * 2  # n * ceil(log2 4)


def test_nonzero_scans_every_element_on_real_tensors() -> None:
    model = Fn(lambda m, x: torch.nonzero(x), w=torch.zeros(1))  # a CPU parameter: the CPU retry is allowed
    report = trace_module(model, [InputSpec((3, 5))])
    assert not report.unsupported and report.totals.flops == 15


def test_scatter_add_adds_each_indexed_element_and_plain_scatter_only_writes() -> None:
    def scatter(add: bool) -> Callable[..., torch.Tensor]:
        def fn(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
            index = torch.zeros(2, 6, dtype=torch.long, device=x.device)
            base = torch.zeros(2, 3, device=x.device)
            return base.scatter_add(1, index, x) if add else base.scatter(1, index, x)
        return fn

    assert _count(scatter(True), (2, 6))[1] == 12
    assert _count(scatter(False), (2, 6))[1] == 0


def test_a_data_dependent_op_is_listed_and_said_to_be_so() -> None:
    lib = torch.library.Library("netcost_test", "DEF")  # an op named like torchvision's, without torchvision
    lib.define("nms(Tensor boxes, Tensor scores, float iou) -> Tensor")
    lib.impl("nms", lambda b, s, iou: torch.empty(0, dtype=torch.long, device=b.device), "Meta")
    lib.impl("nms", lambda b, s, iou: torch.arange(b.shape[0]), "CPU")
    report = trace_module(Fn(lambda m, x: torch.ops.netcost_test.nms(x, x[:, 0], 0.5)), [InputSpec((8, 4))])
    assert [u["op"] for u in report.unsupported] == ["nms"]
    assert any(w.startswith("nms is data-dependent and not counted") for w in report.warnings)
