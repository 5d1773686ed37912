"""torch.nn modules seen as NetCost layer specs: which registered layer kind a module is, with which arguments,
and which category any module belongs to. Decided by isinstance against torch.nn classes, never by names.

A traced module that maps to a layer kind is costed by the same formula as a layer list (so a traced AlexNet and
the layer list give identical numbers); the tracer checks that formula's MACs against the ops it saw.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from netcost.costing import LayerSpec

ArgsFn = Callable[[Any], dict[str, Any]]


def _conv(m: nn.modules.conv._ConvNd) -> dict[str, Any]:
    return {"in_channels": m.in_channels, "out_channels": m.out_channels, "kernel_size": m.kernel_size,
            "stride": m.stride, "padding": m.padding, "dilation": m.dilation, "groups": m.groups,
            "bias": m.bias is not None, "padding_mode": m.padding_mode}


def _convt(m: nn.modules.conv._ConvTransposeNd) -> dict[str, Any]:
    return {"in_channels": m.in_channels, "out_channels": m.out_channels, "kernel_size": m.kernel_size,
            "stride": m.stride, "padding": m.padding, "output_padding": m.output_padding, "groups": m.groups,
            "bias": m.bias is not None, "dilation": m.dilation, "padding_mode": m.padding_mode}


def _rnn(m: nn.RNNBase) -> dict[str, Any]:
    a = {"input_size": m.input_size, "hidden_size": m.hidden_size, "num_layers": m.num_layers, "bias": m.bias,
         "batch_first": m.batch_first, "dropout": float(m.dropout), "bidirectional": m.bidirectional}
    if isinstance(m, nn.LSTM):
        a["proj_size"] = m.proj_size
    if type(m) is nn.RNN:
        a["nonlinearity"] = m.nonlinearity
    return a


def _pool(m: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(m, n) for n in names if hasattr(m, n)}


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (N, C, H, W) map (ConvNeXt's): what NetCost builds for a LayerNorm2d node."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CustomLayerNorm(nn.LayerNorm):
    """nn.LayerNorm's arithmetic in a subclass with its own forward (timm's LayerNorm): what NetCost builds for a
    CustomLayerNorm node, so that peer tools, which hook exact classes, see an unknown module as they did."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


def _layer_norm(m: nn.LayerNorm) -> dict[str, Any]:
    return {"normalized_shape": tuple(m.normalized_shape), "eps": m.eps, "elementwise_affine": m.elementwise_affine,
            "bias": getattr(m, "bias", None) is not None or not m.elementwise_affine}


MAXPOOL = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
AVGPOOL = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")

# (torch.nn class, registered layer type, argument extractor), most specific classes first.
SPEC_TABLE: tuple[tuple[type, str, ArgsFn], ...] = (
    (nn.Conv1d, "Conv1d", _conv), (nn.Conv2d, "Conv2d", _conv), (nn.Conv3d, "Conv3d", _conv),
    (nn.ConvTranspose1d, "ConvTranspose1d", _convt), (nn.ConvTranspose2d, "ConvTranspose2d", _convt),
    (nn.ConvTranspose3d, "ConvTranspose3d", _convt),
    (nn.Linear, "Linear", lambda m: {"in_features": m.in_features, "out_features": m.out_features,
                                     "bias": m.bias is not None}),
    (nn.LSTM, "LSTM", _rnn), (nn.GRU, "GRU", _rnn), (nn.RNN, "RNN", _rnn),
    (nn.MultiheadAttention, "MultiheadAttention", lambda m: {
        "embed_dim": m.embed_dim, "num_heads": m.num_heads, "dropout": float(m.dropout),
        "bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None, "add_zero_attn": m.add_zero_attn,
        "kdim": m.kdim, "vdim": m.vdim, "batch_first": m.batch_first}),
    *((cls, cls.__name__, lambda m: {"num_features": m.num_features, "eps": m.eps, "momentum": m.momentum,
                                     "affine": m.affine, "track_running_stats": m.track_running_stats})
      for cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)),
    (nn.LayerNorm, "LayerNorm", _layer_norm),
    (nn.GroupNorm, "GroupNorm", lambda m: {"num_groups": m.num_groups, "num_channels": m.num_channels,
                                           "eps": m.eps, "affine": m.affine}),
    (nn.RMSNorm, "RMSNorm", lambda m: {"normalized_shape": tuple(m.normalized_shape), "eps": m.eps,
                                       "elementwise_affine": m.elementwise_affine}),
    (nn.ReLU6, "ReLU6", lambda m: {"inplace": m.inplace}),
    (nn.ReLU, "ReLU", lambda m: {"inplace": m.inplace}),
    (nn.LeakyReLU, "LeakyReLU", lambda m: {"negative_slope": m.negative_slope, "inplace": m.inplace}),
    (nn.Sigmoid, "Sigmoid", lambda m: {}), (nn.Tanh, "Tanh", lambda m: {}),
    (nn.SiLU, "SiLU", lambda m: {"inplace": m.inplace}),
    (nn.GELU, "GELU", lambda m: {"approximate": m.approximate}),
    (nn.Hardswish, "Hardswish", lambda m: {"inplace": m.inplace}),
    (nn.Softmax, "Softmax", lambda m: {"dim": m.dim}),
    (nn.MaxPool1d, "MaxPool1d", lambda m: _pool(m, MAXPOOL)), (nn.MaxPool2d, "MaxPool2d", lambda m: _pool(m, MAXPOOL)),
    (nn.AvgPool1d, "AvgPool1d", lambda m: _pool(m, AVGPOOL[:-1])),
    (nn.AvgPool2d, "AvgPool2d", lambda m: _pool(m, AVGPOOL)),
    (nn.AdaptiveAvgPool1d, "AdaptiveAvgPool1d", lambda m: {"output_size": m.output_size}),
    (nn.AdaptiveAvgPool2d, "AdaptiveAvgPool2d", lambda m: {"output_size": m.output_size}),
    (nn.AdaptiveMaxPool2d, "AdaptiveMaxPool2d", lambda m: {"output_size": m.output_size,
                                                           "return_indices": m.return_indices}),
    (nn.Dropout, "Dropout", lambda m: {"p": m.p, "inplace": m.inplace}),
    (nn.Flatten, "Flatten", lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    (nn.Identity, "Identity", lambda m: {}),
    (nn.Upsample, "Upsample", lambda m: {"size": m.size, "scale_factor": m.scale_factor, "mode": m.mode,
                                         "align_corners": m.align_corners,
                                         "recompute_scale_factor": m.recompute_scale_factor}),
    (nn.Embedding, "Embedding", lambda m: {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                                           "padding_idx": m.padding_idx, "max_norm": m.max_norm,
                                           "norm_type": m.norm_type, "scale_grad_by_freq": m.scale_grad_by_freq,
                                           "sparse": m.sparse}),
)

# Category of any module, including those with no layer formula (custom subclasses, containers' own rows).
CATEGORY_TABLE: tuple[tuple[tuple[type, ...], str], ...] = (
    ((nn.modules.conv._ConvNd,), "conv"),
    ((nn.Linear, nn.Bilinear), "linear"),
    ((nn.RNNBase, nn.RNNCellBase), "recurrent"),
    ((nn.MultiheadAttention,), "attention"),
    ((nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.LocalResponseNorm), "norm"),
    ((nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
      nn.modules.pooling._AdaptiveMaxPoolNd, nn.modules.pooling._LPPoolNd), "pool"),
    ((nn.Embedding, nn.EmbeddingBag), "embedding"),
    ((nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
      nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Softmax, nn.LogSoftmax, nn.Softplus), "activation"),
)

# Modules whose forward uses their children's parameters directly (never calling them): costed as one row.
ABSORBING = (nn.MultiheadAttention, nn.RNNBase)


def own_forward(module: nn.Module) -> bool:
    """A subclass of a formula's class with its own forward (timm's and torchvision's LayerNorm2d): a formula is
    only a candidate, which the tracer keeps when it reproduces every figure the call measured, peer views too."""
    return isinstance(module, nn.LayerNorm) and type(module).forward is not nn.LayerNorm.forward


def hf_conv1d_class() -> type | None:
    """transformers' Conv1D (GPT-2's linear layers), when transformers is loaded: a module of that class can only
    exist then, so this never imports transformers itself."""
    mod = sys.modules.get("transformers.pytorch_utils")
    cls = getattr(mod, "Conv1D", None) if mod is not None else None
    return cls if isinstance(cls, type) and issubclass(cls, nn.Module) else None


def _specs() -> tuple[tuple[type, str, ArgsFn], ...]:
    conv1d = hf_conv1d_class()
    if conv1d is None:
        return SPEC_TABLE
    return ((conv1d, "Conv1D", lambda m: {"nf": m.nf, "nx": int(m.weight.shape[0])}), *SPEC_TABLE)


def module_class(type_: str) -> type[nn.Module] | None:
    """The module class a layer type is built with: torch.nn's, transformers' Conv1D, or LayerNorm2d above."""
    if type_ == "Conv1D":
        return hf_conv1d_class()
    if type_ == "LayerNorm2d":
        return LayerNorm2d
    if type_ == "CustomLayerNorm":
        return CustomLayerNorm
    cls = getattr(nn, type_, None)
    return cls if isinstance(cls, type) and issubclass(cls, nn.Module) else None


def layer_spec(module: nn.Module) -> LayerSpec | None:
    """The layer-list spec equivalent to `module`, or None when no registered formula covers its class."""
    specs = layer_specs(module)
    return specs[0] if specs else None


def layer_specs(module: nn.Module) -> tuple[LayerSpec, ...]:
    """Every layer spec `module` may be: one for a torch.nn class, candidates for a subclass with its own forward
    (which the tracer tries in order and keeps only when one reproduces everything the call measured)."""
    if own_forward(module):
        args = _layer_norm(module)
        return LayerSpec("LayerNorm2d", args), LayerSpec("CustomLayerNorm", args)
    for cls, type_, fn in _specs():
        if isinstance(module, cls):
            if type(module).forward is not cls.forward:  # a subclass with its own forward: formula may not hold
                return ()
            return (LayerSpec(type_, fn(module)),)
    return ()


def category_of(module: nn.Module) -> str | None:
    return category_of_class(type(module))


def category_of_class(cls: type) -> str | None:
    conv1d = hf_conv1d_class()
    if conv1d is not None and issubclass(cls, conv1d):
        return "linear"
    for classes, category in CATEGORY_TABLE:
        if issubclass(cls, classes):
            return category
    return None


def is_absorbing(module: nn.Module) -> bool:
    return isinstance(module, ABSORBING) or layer_spec(module) is not None
