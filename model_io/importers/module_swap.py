"""Applying a graph's layer edits to a built torch model (in the worker), so that tracing it again measures what the
edited graph means.

An edit is `{"module": "layer1.0.conv1", "type": "Conv2d", "args": {...stated...}, "resolved": {...}}`: the
arguments the graph's node states (implied input sizes left out, as traced nodes keep them) and, when NetCost could
cost the node, every constructor argument it resolved. A request may carry every layer of the graph: a module is
rebuilt only where its arguments differ.

A module of the same class is re-inferred when it is first called: its input sizes (`in_channels`, `in_features`,
`num_features`, ...) come from the tensors it actually receives, by NetCost's own rules, so layers after an opaque
node (whose output the graph could not know) follow the new shapes as they do in the graph. It is rebuilt in place:
the same object, so its path and the tracer's view of it stay. A change of class (ReLU -> GELU) is a new module,
built before the forward from the resolved arguments. Only plain `torch.nn` classes (and transformers' Conv1D) are
rebuilt.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import _disable_current_modes

from netcost.costing import LayerSpec
from netcost.costing.graph import Node
from netcost.costing.graph_eval import NodeError, cost_node

from ..files.retrace import constructor_args
from .cost_mode import meta_construction
from .module_specs import layer_specs, module_class


class ModuleEditError(ValueError):
    """An edit that cannot be applied to the model's code (the message names the module)."""


def _plain(v: Any) -> Any:
    """Tuples as lists, as JSON has them: (3, 3) and [3, 3] are the same argument."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _spec_as(module: nn.Module, op: str) -> LayerSpec | None:
    """The module as a layer of type `op`, when it can be one (a subclass may be one of several candidates)."""
    return next((s for s in layer_specs(module) if s.type == op), None)


def _same(module: nn.Module, op: str, args: dict[str, Any]) -> bool:
    spec = _spec_as(module, op)
    return spec is not None and all(_plain(spec.args.get(k)) == _plain(v) for k, v in args.items())


def _tensors(module: nn.Module) -> list[torch.Tensor]:
    return [*module.parameters(recurse=False), *module.buffers(recurse=False)]


def _nn_class(op: str) -> type[nn.Module]:
    cls = module_class(op)
    if cls is None:
        raise ModuleEditError(f"{op} is not a torch.nn class")
    return cls


def _rebuilt(old: nn.Module, op: str, args: dict[str, Any]) -> nn.Module:
    """A new nn.`op`(**args) like `old`: same device and floating dtype, same frozen state and mode."""
    cls = _nn_class(op)
    like = next(iter(_tensors(old)), None)
    try:
        with _disable_current_modes():  # a build, not part of the forward being traced
            if like is None or like.is_meta:
                with meta_construction():
                    new = cls(**args)
            else:
                new = cls(**args).to(device=like.device, dtype=like.dtype if like.is_floating_point() else None)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ModuleEditError(f"nn.{op}({', '.join(f'{k}={v!r}' for k, v in args.items())}) failed: {e}") from None
    if _tensors(old) and not any(p.requires_grad for p in old.parameters(recurse=False)):
        new.requires_grad_(False)
    new.train(old.training)
    return new


def _value(t: torch.Tensor) -> tuple[tuple[int, ...], str]:
    return tuple(t.shape), "float" if t.is_floating_point() else str(t.dtype).removeprefix("torch.")


class _Reinfer:
    """A forward pre-hook: on the first call, rebuild the module in place from its stated arguments and the sizes
    of what it receives, when those differ from what it was built with."""

    def __init__(self, path: str, op: str, stated: dict[str, Any]) -> None:
        self.path, self.op, self.stated, self.done = path, op, stated, False

    def __call__(self, module: nn.Module, args: tuple) -> None:
        if self.done:
            return
        self.done = True
        ins = tuple(_value(a) for a in args if isinstance(a, torch.Tensor))
        node = Node(self.path, self.op, self.stated)
        try:
            row, _ = cost_node(node, ins, 4)
        except NodeError as e:
            raise ModuleEditError(f"{self.path}: {e.reason}") from None
        want = constructor_args(node, row)
        if _same(module, self.op, want):
            return
        new = _rebuilt(module, self.op, want)
        for key, value in new.__dict__.items():  # its parameters, buffers and attributes; the hooks stay
            if "hook" not in key:
                module.__dict__[key] = value


def apply_module_edits(model: nn.Module, edits: list[dict[str, Any]]) -> None:
    """Prepare `model` so that its forward runs the edited layers. Raises ModuleEditError."""
    for edit in edits:
        path, op = str(edit.get("module", "")), str(edit.get("type", ""))
        stated, resolved = dict(edit.get("args") or {}), edit.get("resolved")
        if not path:
            raise ModuleEditError(f"the model itself ({op}) cannot be rebuilt: only its layers")
        try:
            old = model.get_submodule(path)
        except AttributeError:
            raise ModuleEditError(f"the model has no module {path!r}") from None
        if _spec_as(old, op) is not None:  # the same layer: re-inferred from what it receives
            old.register_forward_pre_hook(_Reinfer(path, op, stated))
            continue
        if not layer_specs(old):
            raise ModuleEditError(f"{path} is a {type(old).__module__}.{type(old).__qualname__}, which NetCost "
                                  f"cannot rebuild as nn.{op} without changing what its code does")
        if not isinstance(resolved, dict):
            raise ModuleEditError(f"{path}: its new type {op} needs its input size, which NetCost could not cost")
        try:
            new = _rebuilt(old, op, dict(resolved))
        except ModuleEditError as e:
            raise ModuleEditError(f"{path}: {e}") from None
        parent_path, _, attr = path.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        if isinstance(parent, (nn.ModuleList, nn.Sequential)) and attr.isdigit():
            parent[int(attr)] = new
        else:
            setattr(parent, attr, new)
