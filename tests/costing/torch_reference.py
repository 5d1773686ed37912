"""What real torch modules say about a `Case`: built and run on the meta device (no memory, no arithmetic)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from layer_strategies import Case
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Measured:
    shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int  # FlopCounterMode's FLOPs / 2


class HFConv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D as transformers 5 writes it (this environment has no transformers)."""

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf, self.nx = nf, nx
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size_out = x.size()[:-1] + (self.nf,)
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)


class ChannelsFirstLayerNorm(nn.LayerNorm):
    """ConvNeXt's LayerNorm2d as torchvision and timm write it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias,
                            self.eps).permute(0, 3, 1, 2)


class OwnForwardLayerNorm(nn.LayerNorm):
    """timm's LayerNorm: F.layer_norm from a subclass's own forward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


def build(case: Case) -> nn.Module:
    kw = case.kwargs
    if case.type == "Conv1D":
        return HFConv1D(**kw)
    if case.type == "LayerNorm2d":
        return ChannelsFirstLayerNorm(**kw)
    if case.type == "CustomLayerNorm":
        return OwnForwardLayerNorm(**kw)
    if case.type.startswith("DepthwiseSeparableConv"):
        conv = getattr(nn, f"Conv{case.type[-2]}d")
        cin = kw["in_channels"]
        return nn.Sequential(
            conv(cin, cin, kw["kernel_size"], stride=kw.get("stride", 1), padding=kw.get("padding", 0),
                 dilation=kw.get("dilation", 1), groups=cin, bias=kw.get("bias", False),
                 padding_mode=kw.get("padding_mode", "zeros")),
            conv(cin, kw["out_channels"], 1, bias=kw.get("bias", False)))
    if case.type == "Upsample" and isinstance(kw.get("scale_factor"), list):
        kw = {**kw, "scale_factor": tuple(kw["scale_factor"])}  # nn.Upsample takes a tuple, not a list
    return getattr(nn, case.type)(**kw)


# Kinds whose meta kernels skip a check their CPU kernels make (ConvTranspose's output_padding < stride or
# dilation; Upsample's non-empty output): they are also run once on a small real CPU tensor.
CPU_CHECKED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Upsample")


def forward(case: Case, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    if case.type in ("LSTM", "GRU", "RNN"):
        return module(x)[0]
    if case.type == "MultiheadAttention":
        return module(x, x, x)[0]
    return module(x)


def measure(case: Case) -> Measured:
    """Build and run the module on meta; any exception propagates (the caller compares refusals)."""
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        module = build(case)
        module.eval()
        x = torch.empty(case.shape, dtype=torch.long if case.token_input else torch.float32)
        with FlopCounterMode(display=False) as counter:
            y = forward(case, module, x)
    if case.type in CPU_CHECKED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cpu = build(case)
            assert tuple(forward(case, cpu, torch.zeros(case.shape)).shape) == tuple(y.shape)
    if 0 in y.shape:  # torch allows an empty output here and there (ConvTranspose); NetCost refuses it
        raise ValueError(f"empty output {tuple(y.shape)}")
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return Measured(tuple(y.shape), sum(p.numel() for p in module.parameters()),
                    sum(b.numel() for b in module.buffers()), flops // 2)
