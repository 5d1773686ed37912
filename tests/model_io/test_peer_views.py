"""Each peer view reproduces its tool: by the tools' own rules here (no tool needed), and against the tools
themselves where they are installed (bench/requirements-peers.txt)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netcost.model_io.importers.tracer import InputSpec, trace_module


class Conv1D(nn.Module):
    """HF GPT-2's projection: a linear layer named like a convolution (weight stored transposed)."""

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(*x.shape[:-1], -1)


def test_torchinfo_counts_any_class_named_conv_as_a_convolution() -> None:
    report = trace_module(Conv1D(24, 8), [InputSpec((1, 16, 8))])
    # torchinfo: (weight 8*24 + bias 24) x output positions without the channel dim (1 x 24)
    assert report.totals.torchinfo == (8 * 24 + 24) * 24
    # ptflops: its torch.addmm patch counts the MACs and the bias tensor once
    assert report.totals.ptflops == 16 * 8 * 24 + 24


@pytest.mark.parametrize(("act", "times"), [(nn.ReLU, 2), (nn.ReLU6, 1), (nn.LeakyReLU, 1), (nn.GELU, 2),
                                            (nn.SiLU, 1), (nn.Hardswish, 0)])
def test_ptflops_counts_activations_once_per_hook_that_sees_them(act: type[nn.Module], times: int) -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), act())
    report = trace_module(model, [InputSpec((1, 3, 8, 8))])
    conv = 8 * 6 * 6 * 27 + 8 * 6 * 6  # MACs + bias per output
    assert report.totals.ptflops == conv + times * 8 * 6 * 6


def test_ptflops_linear_bias_per_row_and_layer_norm_once() -> None:
    model = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32))
    report = trace_module(model, [InputSpec((1, 10, 16))])
    assert report.totals.ptflops == (16 * 32 + 32) * 10 + 10 * 32


class CallsRelu(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x) + 1  # looked up at call time: ptflops' patch sees it


class KeepsRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.activation = F.relu  # taken before ptflops patches F.relu: it runs unpatched

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x) + 1


@pytest.mark.parametrize(("model", "counted"), [(CallsRelu(), 12), (KeepsRelu(), 0)])
def test_ptflops_sees_functional_calls_but_not_captured_functions(model: nn.Module, counted: int) -> None:
    assert trace_module(model, [InputSpec((3, 4))]).totals.ptflops == counted  # 12 elements through F.relu


def test_multihead_attention_as_ptflops_hooks_it_and_torchinfo_skips_it() -> None:
    model = nn.MultiheadAttention(16, 2, batch_first=True)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mha = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.mha(x, x, x, need_weights=False)[0]

    report = trace_module(SelfAttention(), [InputSpec((1, 5, 16))])
    # L=5, E=16, 2 heads: projections 4*5*16*16 + QK^T and AV 2*5*5*16, then ptflops' extras: q scaling 5*16,
    # in-projection bias 3*5*16, softmax 2*5*5, out-projection bias 5*16
    assert report.totals.ptflops == 5120 + 800 + 80 + 240 + 50 + 80
    assert report.totals.torchinfo == 0  # not a leaf module (out_proj is its child): torchinfo never counts it
