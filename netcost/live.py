"""Counting a live `nn.Module` in the caller's process without copying its weights and without changing it.

The user's module is never run. A *structural copy* of it is: every submodule is a new object of the same class
whose `__dict__` is a shallow copy of the original's, with each parameter, buffer and plain tensor attribute
replaced by a weightless meta stand-in (one per original tensor, so tied weights stay tied; `requires_grad` as the
original's) and the user's own hooks left out (torch's own forward pre-hooks, e.g. weight norm or pruning, are
kept: they compute the weight the forward reads). The copy is traced by the same tracer as the isolated
worker (model_io.importers.tracer.trace_graph), so a live model gives exactly the graph the CLI gives for the same
architecture.

No tensor data is copied, moved or allocated: the copy holds meta tensors only, and the original's parameters,
buffers (BatchNorm running statistics in train mode included), `training` flags, `requires_grad` flags, hook
dicts and devices are untouched, since the copy has dicts of its own.

Where the forward needs real values (it fails on the meta device), the model is counted once more on a second
structural copy that shares the real parameters (no copy; read only, under `torch.no_grad`), with the buffers
cloned so that nothing the forward writes reaches the original, in eval mode on the copy; the report says so.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from netcost.costing.dtypes import DTYPE_BYTES
from netcost.costing.graph import Graph
from netcost.model_io.importers import tracer

HOOK_DICTS = ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
              "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
              "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")
_KEPT_HOOK_OWNERS = ("torch.nn.utils", "torch.ao.", "torch.nn.modules.lazy")


def _torch_own(hook: Any) -> bool:
    """Whether a hook is torch's own (weight norm, spectral norm, pruning): it computes what the forward reads."""
    owner = getattr(type(hook), "__module__", "") or ""
    if owner == "builtins" or owner.startswith("functools"):
        fn = getattr(hook, "func", hook)
        owner = getattr(fn, "__module__", "") or ""
        owner = owner if owner != "builtins" else getattr(type(getattr(fn, "__self__", None)), "__module__", "")
    return owner.startswith(_KEPT_HOOK_OWNERS)


def _holds_tensors(v: Any) -> bool:
    if isinstance(v, torch.Tensor):
        return True
    if isinstance(v, (list, tuple)):
        return any(isinstance(x, torch.Tensor) for x in v)
    if isinstance(v, dict):
        return any(isinstance(x, torch.Tensor) for x in v.values())
    return False


class StructuralCopy:
    """A structural copy of a module tree; `tensor` maps each original tensor (by identity) to its stand-in."""

    def __init__(self, param: Callable[[torch.Tensor], torch.Tensor],
                 buffer: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self._param, self._buffer = param, buffer
        self._tensors: dict[int, torch.Tensor] = {}
        self._modules: dict[int, nn.Module] = {}

    def tensor(self, t: torch.Tensor, as_param: bool) -> torch.Tensor:
        found = self._tensors.get(id(t))
        if found is None:
            found = self._tensors[id(t)] = (self._param if as_param else self._buffer)(t)
        return found

    def _attr(self, v: Any) -> Any:
        if isinstance(v, nn.Parameter):
            return self.tensor(v, True)
        if isinstance(v, torch.Tensor):
            return self.tensor(v, False)
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            return tuple(self._attr(x) for x in v)
        if isinstance(v, list):
            return [self._attr(x) for x in v]
        if type(v) is dict:
            return {k: self._attr(x) for k, x in v.items()}
        return v

    def module(self, m: nn.Module) -> nn.Module:
        found = self._modules.get(id(m))
        if found is not None:  # a module used in two places stays one module
            return found
        if isinstance(m, torch.jit.ScriptModule):
            raise TypeError(f"{type(m).__name__} is a TorchScript module: save it (torch.jit.save) and pass the "
                            "file's path to netcost.analyze")
        new = type(m).__new__(type(m))
        self._modules[id(m)] = new
        state = dict(vars(m))
        params = type(m._parameters)()
        for k, p in m._parameters.items():
            params[k] = None if p is None else self.tensor(p, True)
        buffers = type(m._buffers)()
        for k, b in m._buffers.items():
            buffers[k] = None if b is None else self.tensor(b, False)
        children = type(m._modules)()
        for k, c in m._modules.items():
            children[k] = None if c is None else self.module(c)
        state.update(_parameters=params, _buffers=buffers, _modules=children,
                     _non_persistent_buffers_set=set(m._non_persistent_buffers_set))
        for name in HOOK_DICTS:
            hooks = state.get(name)
            if isinstance(hooks, dict):
                state[name] = OrderedDict((k, h) for k, h in hooks.items()
                                          if name == "_forward_pre_hooks" and _torch_own(h))
        for k, v in list(state.items()):
            if not k.startswith("_") and _holds_tensors(v):
                state[k] = self._attr(v)
        if isinstance(state.get("_forward_pre_hooks_with_kwargs"), dict):
            kept = state["_forward_pre_hooks"]
            state["_forward_pre_hooks_with_kwargs"] = OrderedDict(
                (k, v) for k, v in m._forward_pre_hooks_with_kwargs.items() if k in kept)
        new.__dict__.update(state)
        return new


def _meta_param(t: torch.Tensor) -> torch.Tensor:
    return nn.Parameter(torch.empty_like(t, device="meta"), requires_grad=t.requires_grad)


def _meta_buffer(t: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(t, device="meta")


def meta_copy(model: nn.Module) -> nn.Module:
    """The weightless structural copy of `model` (see the module docstring)."""
    return StructuralCopy(_meta_param, _meta_buffer).module(model)


def real_copy(model: nn.Module) -> nn.Module:
    """A structural copy that reads the original's parameters (shared, never written: the trace runs under
    no_grad) and clones of its buffers and tensor attributes (what a forward may write in place)."""
    return StructuralCopy(lambda t: t, lambda t: t.detach().clone()).module(model)


def torch_dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def input_specs(inputs: Sequence[Any], batch: int | None = None) -> list[tracer.InputSpec]:
    """Tensors (real or meta) or shapes (tuples of ints, or `torch.Size`) as the tracer's input specs."""
    specs = []
    for i, x in enumerate(inputs):
        if isinstance(x, tracer.InputSpec):
            shape, dt = tuple(x.shape), x.dtype
        elif isinstance(x, torch.Tensor):
            shape, dt = tuple(x.shape), torch_dtype_name(x)
        elif isinstance(x, (tuple, list, torch.Size)) and x and all(isinstance(d, int) for d in x):
            shape, dt = tuple(int(d) for d in x), "float32"
        else:
            raise TypeError(f"input {i}: expected a tensor or a shape such as (1, 3, 224, 224), got "
                            f"{type(x).__name__}")
        if batch is not None and shape:
            shape = (batch, *shape[1:])
        specs.append(tracer.InputSpec(shape, dt))
    return specs


def _with_keywords(copy: nn.Module, names: list[str], constants: Mapping[str, Any]) -> None:
    """Let the copy take keyword tensor inputs positionally (the tracer passes inputs in order): its forward, on
    the copy only, is a function of those names (so the graph's inputs carry them) with the constants bound."""
    forward = copy.forward

    def keyword_forward(*tensors: Any) -> Any:
        return forward(**dict(zip(names, tensors, strict=True)), **constants)

    keyword_forward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    copy.__dict__["forward"] = keyword_forward


def trace_live(model: nn.Module, args: Sequence[Any], kwargs: Mapping[str, Any] | None = None, *,
               name: str | None = None, dtype: str | None = None, batch: int | None = None,
               edit: Callable[[nn.Module], None] | None = None) -> Graph:
    """The dataflow graph of the live `model` at `args` (tensors or shapes) and keyword inputs `kwargs` (tensors
    become graph inputs, anything else is passed as it is), counted on a weightless copy (the CPU fallback on a
    copy sharing its parameters). `edit` is applied to each copy before tracing (layer edits to trace again)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(model).__name__}")
    if dtype is not None and dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype {dtype!r}: expected one of {', '.join(DTYPE_BYTES)}")
    kwargs = dict(kwargs or {})
    tensor_kw = [k for k, v in kwargs.items() if isinstance(v, torch.Tensor)]
    if tensor_kw and args:
        raise TypeError("give the inputs either positionally or as keywords, not both")
    specs = input_specs([kwargs[k] for k in tensor_kw] if tensor_kw else list(args), batch)
    constants = {k: v for k, v in kwargs.items() if k not in tensor_kw}
    if not specs:
        raise TypeError("give an example input: a tensor, a shape such as input_size=(1, 3, 224, 224), or "
                        "keyword tensors")
    label = name or type(model).__name__

    def prepared(copy: nn.Module) -> nn.Module:
        if edit is not None:
            edit(copy)
        if tensor_kw or constants:
            _with_keywords(copy, tensor_kw or tracer.input_names(copy, len(specs)), constants)
        return copy

    notes: list[str] = []
    try:
        return tracer.trace_graph(prepared(meta_copy(model)), specs, name=label, dtype=dtype, warnings=notes,
                                  source="torch", meta=True)
    except Exception as e:  # the forward needs real values: count once more on a copy reading the real weights
        if not tracer._is_meta_problem(e):
            raise
        meta_error = e
    notes.append(tracer.cpu_fallback_note(meta_error))
    return tracer.trace_graph(prepared(real_copy(model)), specs, name=label, dtype=dtype, warnings=notes,
                              source="torch", meta=False)
