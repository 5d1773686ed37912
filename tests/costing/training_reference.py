"""What PyTorch itself does in a training step, for the training engine's checks: backward MACs under
FlopCounterMode (forward + backward minus forward), the storages autograd saves (saved_tensors_hooks, less
parameters and buffers), and optimizer states after one real step."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from math import prod
from typing import Any

import torch
import torch.utils.checkpoint
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.training import TrainingReport, analyze_training
from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_graph
from netcost.resources.zoo_models import LLAMA_7B, ZOO, Llama


def _conv_backward_with_groups(grad_out_shape: Any, x_shape: Any, w_shape: Any, _bias: Any, _stride: Any,
                               _padding: Any, _dilation: Any, transposed: bool, _output_padding: Any, _groups: Any,
                               output_mask: Any, out_shape: Any = None) -> int:
    """The closed form of a convolution's backward: each requested gradient (input, weight) costs the forward's
    FLOPs, whose weight shape already divides by `groups`. (FlopCounterMode before pytorch#183405 ignores groups
    here; the forward formula is right.)"""
    forward = conv_flop_count(list(x_shape), list(w_shape), list(grad_out_shape), transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


GROUPED_FIX = {torch.ops.aten.convolution_backward: _conv_backward_with_groups}


def build(name: str, batch: int | None = None) -> tuple[nn.Module, list[tuple[tuple[int, ...], str]]]:
    """A zoo model on the meta device in training mode, dropout off (p = 0: torch's CPU/meta dropout saves a float
    mask where a GPU's native_dropout saves a bool one; NetCost models the GPU's). `llama7b-2`: the 7B config with
    2 of its 32 blocks (the same per-block figures, a fast trace)."""
    with meta_construction():
        if name == "llama7b-2":
            model = Llama(dataclasses.replace(LLAMA_7B, layers=2))
            inputs = [((1, 512), "int64")]
        else:
            model = ZOO[name].build()
            inputs = [(s, d) for s, d in ZOO[name].inputs]
    if batch is not None:  # every input's first dimension
        inputs = [((batch, *s[1:]), d) for s, d in inputs]
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        if isinstance(m, nn.MultiheadAttention):
            m.dropout = 0.0
    return model, inputs


def ours(model: nn.Module, inputs: list[tuple[tuple[int, ...], str]], **kw: Any) -> TrainingReport:
    report = evaluate_graph(trace_graph(model, [InputSpec(s, d) for s, d in inputs]))
    return analyze_training(report, **kw)


def meta_inputs(inputs: Iterable[tuple[tuple[int, ...], str]], device: str = "meta") -> list[torch.Tensor]:
    return [torch.zeros(s, dtype=torch.long, device=device) if d == "int64" else torch.zeros(s, device=device)
            for s, d in inputs]


def freeze(model: nn.Module, scopes: Iterable[str]) -> None:
    """Fine-tuning as PyTorch does it: the scopes' parameters stop requiring a gradient."""
    for scope in scopes:
        model.get_submodule(scope).requires_grad_(False)


def checkpoint(model: nn.Module, scopes: Iterable[str], inputs_held: dict[int, int]) -> None:
    """Wrap each scope's forward in `torch.utils.checkpoint` (non-reentrant). The checkpoint keeps the scope's
    inputs itself (its recompute closure), outside saved_tensors_hooks: record their storages in `inputs_held`."""
    for scope in scopes:
        mod = model.get_submodule(scope)
        forward = mod.forward

        def wrapped(*args: Any, _forward: Any = forward, **kwargs: Any) -> Any:
            for a in (*args, *kwargs.values()):
                if isinstance(a, torch.Tensor):
                    st = a.untyped_storage()
                    inputs_held.setdefault(st._cdata, st.nbytes())
            return torch.utils.checkpoint.checkpoint(_forward, *args, use_reentrant=False, **kwargs)

        mod.forward = wrapped


def torch_training(model: nn.Module, inputs: list[tuple[tuple[int, ...], str]], frozen: Iterable[str] = (),
                   checkpointed: Iterable[str] = ()) -> tuple[int, int, int]:
    """(forward MACs, backward MACs, saved activation bytes) as PyTorch counts them on the meta device, with
    `frozen` scopes' parameters not requiring a gradient and `checkpointed` scopes under torch.utils.checkpoint
    (their backward MACs include the forward they run again)."""
    xs = meta_inputs(inputs)
    freeze(model, frozen)
    saved: dict[int, int] = {}
    checkpoint(model, checkpointed, saved)
    held = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers()]}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        saved.setdefault(st._cdata, st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
            FlopCounterMode(display=False, custom_mapping=GROUPED_FIX) as forward:
        out = model(*xs)
    out = out[0] if isinstance(out, tuple) else out
    with FlopCounterMode(display=False, custom_mapping=GROUPED_FIX) as backward:
        out.sum().backward()
    bytes_saved = sum(n for key, n in saved.items() if key not in held)
    return forward.get_total_flops() // 2, backward.get_total_flops() // 2, bytes_saved


def optimizer_state_bytes(opt: torch.optim.Optimizer) -> int:
    return sum(t.untyped_storage().nbytes() for state in opt.state.values() for t in state.values()
               if isinstance(t, torch.Tensor))


def state_after_one_step(model: nn.Module, inputs: list[tuple[tuple[int, ...], str]], optimizer: str) -> int:
    """The bytes of a real torch.optim optimizer's state after one step on the CPU."""
    params = [p for p in model.parameters() if p.requires_grad]
    make = {"sgd": lambda: torch.optim.SGD(params, lr=0.1),
            "momentum": lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9),
            "adam": lambda: torch.optim.Adam(params),
            "adamw": lambda: torch.optim.AdamW(params),
            "adafactor": lambda: torch.optim.Adafactor(params)}[optimizer]
    opt = make()
    out = model(*meta_inputs(inputs, "cpu"))
    (out[0] if isinstance(out, tuple) else out).float().sum().backward()
    opt.step()
    return optimizer_state_bytes(opt)


def numel(shape: tuple[int, ...]) -> int:
    return prod(shape)


def memtracker_peak(model: nn.Module, inputs: list[tuple[tuple[int, ...], str]], optimizer: str = "adam") -> int:
    """The peak bytes `MemTracker` sees under `FakeTensorMode` in the second step of a loop of forward, backward
    (the output's gradient given, as a loss function makes it), `optimizer.step()` and `zero_grad()` (gradients
    set to None)."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    with FakeTensorMode(allow_non_fake_inputs=True):
        model = model.to_empty(device="cpu")
        params = [p for p in model.parameters() if p.requires_grad]
        opt = {"sgd": lambda: torch.optim.SGD(params, lr=0.1),
               "momentum": lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9, foreach=True),
               "adam": lambda: torch.optim.Adam(params, foreach=True),
               "adamw": lambda: torch.optim.AdamW(params, foreach=True)}[optimizer]()
        xs = meta_inputs(inputs, "cpu")
        tracker = MemTracker()
        tracker.track_external(model, opt)
        with tracker:
            for step in range(2):
                _backward(model(*xs))
                opt.step()
                opt.zero_grad()
                if step == 0:
                    tracker.reset_mod_stats()
            peaks = tracker.get_tracker_snapshot("peak")
    return max(d["Total"] for d in peaks.values())


def _backward(out: Any) -> None:
    out = out[0] if isinstance(out, tuple) else out
    out.backward(torch.ones_like(out))
