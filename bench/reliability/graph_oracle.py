"""The torch oracle for graph files: the same document built with PyTorch on the meta device, node by node.

Independent of NetCost's engine: it reads the JSON as the format documents it (a node without `inputs` reads the
previous node; `name:k` is the k-th output; `shares` ties parameter tensors; an opaque node's `measured` costs are
taken as measured), builds each node as `torch.nn.<type>(**args)` (sizes the file leaves out taken from the input,
as NetCost infers them) or calls the aten-level function, and counts unique parameters and FlopCounterMode's MACs.
Torch raising anywhere means torch refuses the document. Only the vocabulary below is known: other ops (or the
`module` key) give `NoOracle`, and such a case is not compared. Element types are not compared either: every input
is built as float32 (params and MACs do not depend on it, and meta kernels check dtypes unlike CPU kernels: GELU
of an int64 tensor runs on meta and fails on CPU), so a document is judged by its shapes, arities and arguments.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own spelling
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

NODE_KEYS = ("type", "name", "inputs", "scope", "module", "trainable", "measured", "shares", "label", "args")
MODULES = ("Linear", "Conv2d", "BatchNorm2d", "LayerNorm", "MaxPool2d", "ReLU", "GELU", "SiLU", "Sigmoid",
           "LeakyReLU", "Dropout", "Flatten", "Identity")
FUNCTIONS: dict[str, Any] = {
    "add": torch.add, "mul": torch.mul, "sub": torch.sub, "relu": torch.relu, "gelu": F.gelu,
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "bmm": torch.bmm, "transpose": torch.transpose,
    "softmax": torch.softmax, "cat": lambda *xs, **kw: torch.cat(list(xs), **kw)}
NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class NoOracle(Exception):
    """The document uses something this oracle does not build."""


class Refused(Exception):
    """Torch (or the format as documented) refuses the document."""


@dataclass(frozen=True)
class Expected:
    params: int
    macs: int


def untag(v: Any) -> Any:
    if isinstance(v, list):
        return [untag(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and "float" in v and v["float"] in NON_FINITE:
            return NON_FINITE[v["float"]]
        return {k: untag(x) for k, x in v.items()}
    return v


def _module(op: str, args: dict[str, Any], x: torch.Tensor) -> nn.Module:
    kw = dict(args)
    if op == "Linear":
        kw.setdefault("in_features", x.shape[-1])
    elif op == "Conv2d":
        kw.setdefault("in_channels", x.shape[1] if x.dim() == 4 else x.shape[0])
    elif op == "BatchNorm2d":
        kw.setdefault("num_features", x.shape[1])
    elif op == "LayerNorm":
        kw.setdefault("normalized_shape", list(x.shape[-1:]))
    for k, v in kw.items():
        if isinstance(v, list) and k != "normalized_shape":
            kw[k] = tuple(v)
    return getattr(nn, op)(**kw)


def _resolve(ref: Any, values: dict[str, list[torch.Tensor]]) -> torch.Tensor:
    if not isinstance(ref, str):
        raise Refused(f"input {ref!r}")
    name, index = ref, 0
    if ":" in ref:
        head, _, tail = ref.rpartition(":")
        if tail.isdigit():
            name, index = head, int(tail)
    if name not in values:
        raise Refused(f"{name!r} is not an input or an earlier node")
    outs = values[name]
    if index >= len(outs):
        raise Refused(f"{name!r} has {len(outs)} output(s), not {index + 1}")
    return outs[index]


def expected(doc: Any) -> Expected:
    """Raises Refused (torch refuses) or NoOracle; the unique parameter count and MACs otherwise."""
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            return _expected(doc)
    except (NoOracle, Refused):
        raise
    except RecursionError as e:
        raise Refused(f"RecursionError: {e}") from None
    except Exception as e:  # noqa: BLE001 - any exception from torch is its refusal
        raise Refused(f"{type(e).__name__}: {str(e)[:120]}") from None


def _expected(doc: Any) -> Expected:
    if not isinstance(doc, dict) or doc.get("format") != "netcost.graph/1":
        raise NoOracle("not a graph document")
    values: dict[str, list[torch.Tensor]] = {}
    first = None
    for item in doc["inputs"]:
        shape = item["shape"]
        if not isinstance(shape, list) or not shape or any(
                not isinstance(d, int) or isinstance(d, bool) or d < 0 for d in shape):
            raise Refused(f"input shape {shape!r}")
        values[item["name"]] = [torch.empty(shape)]
        first = first or item["name"]
    modules: dict[str, nn.Module] = {}
    measured_params = measured_macs = 0
    opaque: set[str] = set()
    prev = values[first]
    with FlopCounterMode(display=False) as counter:
        for item in doc["nodes"]:
            if "module" in item:
                raise NoOracle("repeated module calls")
            op, name = item["type"], item["name"]
            if name in values:
                raise Refused(f"{name!r} named twice")
            raw = item.get("inputs")
            ins = [prev[0]] if raw is None else [_resolve(r, values) for r in raw]
            args = untag(item["args"] if "args" in item else {k: v for k, v in item.items() if k not in NODE_KEYS})
            if "measured" in item:
                m = item["measured"]
                declared = [tuple(s) for s, _ in m.get("inputs", [])]
                if declared != [tuple(t.shape) for t in ins]:
                    raise Refused("measured inputs differ from the inputs it gets")
                totals = m.get("totals", {})
                if any(v < 0 for v in totals.values()):
                    raise Refused(f"negative measured totals {totals}")
                measured_params += totals.get("params", 0)
                measured_macs += totals.get("macs", 0)
                outs = [torch.empty(s) for s, _ in m.get("outputs", [])]
                if item.get("shares"):
                    raise NoOracle("shares on an opaque node")
                opaque.add(name)
            elif op in MODULES:
                if len(ins) != 1:
                    raise Refused(f"nn.{op} takes one input, given {len(ins)}")
                mod = _module(op, args, ins[0])
                mod.eval()
                if any(other in opaque for other, _ in item.get("shares", [])):
                    raise NoOracle("shares with an opaque node (its tensors are not known)")
                _tie(mod, item.get("shares", []), modules)
                modules[name] = mod
                outs = [mod(ins[0])]
            elif op in FUNCTIONS:
                if any(k != 0 for _, k in item.get("shares", [])):
                    raise Refused("a function has no parameters to share")
                outs = [FUNCTIONS[op](*ins, **args)]
            else:
                raise NoOracle(f"op {op!r}")
            values[name] = outs
            prev = outs
        for r in doc.get("outputs", []):
            _resolve(r, values)
    params = {id(p): p.numel() for m in modules.values() for p in m.parameters()}
    flops = counter.get_total_flops()
    return Expected(sum(params.values()) + measured_params, flops // 2 + measured_macs)


def _tie(mod: nn.Module, shares: Any, modules: dict[str, nn.Module]) -> None:
    """`shares: [[other, k]]`: k elements held by `other` — whole parameter tensors of this module tied to tensors
    of the same shapes there, as weight tying does (`b.weight = a.weight`, and `b.bias = a.bias` too: a traced
    model's tie counts every tensor one module holds of another); 0 ties nothing. Anything else cannot be built."""
    for other, k in shares:
        if k == 0:
            continue
        if other not in modules:
            raise Refused(f"shares with {other!r}, which has no parameters built before")
        free = list(modules[other].parameters())
        pairs = []  # (this module's tensor name, the tensor there of its shape)
        for pname, p in mod.named_parameters():
            q = next((q for q in free if q.shape == p.shape), None)
            if q is not None:
                free.remove(q)
                pairs.append((pname, q))
        chosen = _subset(pairs, k)
        if chosen is None:
            raise Refused(f"no parameters of {k} elements in all can be tied with {other!r}")
        for pname, q in chosen:
            setattr(mod, pname, q)


def _subset(pairs: list[tuple[str, nn.Parameter]], k: int) -> list[tuple[str, nn.Parameter]] | None:
    """The first set of `pairs` whose tensors hold `k` elements in all (a module has a handful of tensors)."""
    for mask in range(1, 1 << len(pairs)):
        picked = [pq for i, pq in enumerate(pairs) if mask >> i & 1]
        if sum(q.numel() for _, q in picked) == k:
            return picked
    return None
