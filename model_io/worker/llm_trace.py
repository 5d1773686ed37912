"""Worker side of `netcost llm`: the attention calls a decode step makes, as the model's code makes them.

The model is built on the meta device and run once at the request's input (one token per sequence); every
`F.scaled_dot_product_attention` call is recorded with the module whose code made it and its q/k shapes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ..errors import LoadFailure
from ..model_ref import parse_ref
from .measure import build_model, make_inputs, module_paths


class _AttentionRecorder(TorchFunctionMode):
    def __init__(self, stack: list[str]) -> None:
        super().__init__()
        self.stack = stack
        self.calls: list[dict[str, Any]] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention and len(args) >= 2:
            q, k = args[0], args[1]
            causal = bool(kwargs.get("is_causal", args[5] if len(args) > 5 else False))
            self.calls.append({"path": self.stack[-1], "q": list(q.shape), "k": list(k.shape), "causal": causal})
        return func(*args, **kwargs)


def attention_calls(request: dict[str, Any]) -> list[dict[str, Any]]:
    label = parse_ref(str(request["ref"])).label()
    model, specs = build_model(request, label, meta=True, what="the LLM estimate")
    paths = module_paths(model)
    stack = [""]

    def enter(mod: Any, args: Any) -> None:
        stack.append(paths[id(mod)])

    def leave(mod: Any, args: Any, out: Any) -> None:  # returns None: a hook's return value replaces the output
        stack.pop()

    handles = [h for m in model.modules() if id(m) in paths
               for h in (m.register_forward_pre_hook(enter), m.register_forward_hook(leave))]
    recorder = _AttentionRecorder(stack)
    device = next((p.device for p in model.parameters()), torch.device("meta"))
    try:
        with torch.no_grad(), recorder:
            model.eval()(*make_inputs(specs, str(device), torch.float32))
    finally:
        for h in handles:
            h.remove()
    return recorder.calls


def attention_answer(request: dict[str, Any]) -> dict[str, Any]:
    """{"attention_calls": [...]} or {"attention_error": one line} for the worker's answer."""
    try:
        return {"attention_calls": attention_calls(request)}
    except LoadFailure as e:
        return {"attention_error": e.message}
    except Exception as e:  # the model's forward at one token
        text = str(e).strip().splitlines()
        return {"attention_error": f"{request.get('ref')}: the forward at one token raised {type(e).__name__}"
                                   + (f": {text[0][:200]}" if text else "")}
