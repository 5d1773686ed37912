"""`netcost llm MODEL`: prefill vs one decode step with a KV cache of T tokens, and tokens/s, per device.

Two counts in the worker: the model at the prompt length (prefill), and at one token per sequence together with
the attention calls its code makes there (model_io.worker.llm_trace); costing.llm adds the cache's work per call. Only
causal LMs whose attention calls F.scaled_dot_product_attention(is_causal=True) qualify: the model's code must
show where its attention is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from netcost.costing import CostReport
from netcost.costing import formatting as fmt
from netcost.costing.devices import PEAK_DTYPES, Device
from netcost.costing.latency import CONVENTION_TEXT
from netcost.costing.llm import AttentionCall, Phase, decode_step, prefill

from .. import escape, strict_json
from ..errors import ModelError
from ..files import device_files
from ..options import LoadOptions
from ..worker.resolve import is_layer_list


def add_llm_parser(sub: argparse._SubParsersAction, positive: Callable[[str], int], dtype: Callable[[str], str],
                   timeout: Callable[[str], float]) -> None:
    p = sub.add_parser("llm", help="LLM inference estimate: prefill vs one decode step with a KV cache, tokens/s")
    p.add_argument("model", help="a causal LM: zoo:gpt2, zoo:llama7b, file.py:Name taking token ids")
    p.add_argument("--device", action="append", default=[], metavar="NAME",
                   help="a device of `netcost devices` (repeatable; default: all of them)")
    p.add_argument("--prompt", type=positive, default=512, help="prompt tokens per sequence (default 512)")
    p.add_argument("--context", type=positive, action="append", default=[], metavar="T",
                   help="tokens in the KV cache for the decode step (repeatable; default: the prompt length)")
    p.add_argument("--batch", type=positive, default=1, help="sequences decoded together (default 1)")
    p.add_argument("--dtype", type=dtype, help="float32, float16, bfloat16 or int8 (weights, activations, cache)")
    p.add_argument("--peak", choices=PEAK_DTYPES, help="which of the device's peaks (default: the dtype's)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--timeout", type=timeout, default=120.0, help="seconds before a model load is abandoned")


def _calls(ref: str, answer: dict[str, Any]) -> list[AttentionCall]:
    if "attention_calls" not in answer:
        raise ModelError(str(answer.get("attention_error") or f"{ref}: no attention calls recorded"))
    calls = [c for c in answer["attention_calls"] if c.get("causal") and len(c["q"]) == 4 and len(c["k"]) == 4]
    if not calls:
        raise ModelError(f"{ref}: no causal F.scaled_dot_product_attention call at one token, so NetCost cannot "
                         f"tell where a KV cache would be read; `netcost llm` needs a causal LM that calls it")
    # q: (batch, heads, tokens, head_dim); k: (batch, kv_heads, tokens, head_dim)
    return [AttentionCall(c["path"], c["q"][0], c["q"][1], c["k"][1], c["q"][3]) for c in calls]


def trace_llm(ref: str, batch: int, prompt: int, dtype: str | None, timeout: float
              ) -> tuple[CostReport, CostReport, list[AttentionCall]]:
    """(prefill report, one-token report, attention calls at one token). ModelError on what does not qualify."""
    if is_layer_list(ref):
        raise ModelError(f"{ref}: `netcost llm` runs PyTorch causal LMs (zoo:gpt2, zoo:llama7b, file.py:Name)")
    from ..worker.worker_client import check_request, interpret, request_for, run_worker, trace_in_worker

    prompt_opts = LoadOptions(inputs=(f"long:{batch},{prompt}",), dtype=dtype, timeout=timeout)
    check_request(ref, prompt_opts)
    step_opts = LoadOptions(inputs=(f"long:{batch},1",), dtype=dtype, timeout=timeout)
    request = request_for(ref, step_opts)
    request["attention_calls"] = True
    code, out, err = run_worker(request, timeout)
    try:
        step = interpret(ref, code, out, err)
    except ModelError as e:  # a model that does not take token ids fails here: say what it was fed
        raise ModelError(f"{e} (`netcost llm` feeds token ids: --input long:{batch},1)") from None
    calls = _calls(ref, json.loads(out))
    return trace_in_worker(ref, prompt_opts), step, calls


def run_llm(args: argparse.Namespace) -> int:
    devices = [device_files.lookup(n) for n in args.device] if args.device else list(device_files.all_devices())
    contexts = args.context or [args.prompt]
    full, step, calls = trace_llm(args.model, args.batch, args.prompt, args.dtype, args.timeout)
    results = [(d, prefill(full, d, args.peak), [decode_step(step, calls, t, d, args.peak) for t in contexts])
               for d in devices]
    if args.format == "json":
        sys.stdout.write(strict_json.dumps(to_dict(args.model, full.dtype, args.batch, args.prompt, results),
                                           indent=2)
                         + "\n")
    else:
        sys.stdout.write(to_table(args.model, full.dtype, args.batch, args.prompt, len(calls), results))
    return 0


Results = list[tuple[Device, Phase, list[Phase]]]


def _phase(p: Phase) -> dict[str, Any]:
    return {"latency_s": p.time.seconds, "tokens_per_s": p.tokens_per_s, "bound": p.time.bound}


def to_dict(model: str, dtype: str, batch: int, prompt: int, results: Results) -> dict[str, Any]:
    return {"model": model, "batch": batch, "dtype": dtype, "prompt_tokens": prompt, "convention": CONVENTION_TEXT,
            "devices": [{"name": d.name, "prefill": _phase(pre),
                         "decode": [{"cache_tokens": s.cache_len, **_phase(s), "kv_cache_bytes": s.kv_cache_bytes}
                                    for s in steps]} for d, pre, steps in results]}


def to_table(model: str, dtype: str, batch: int, prompt: int, calls: int, results: Results) -> str:
    head = ["Device", f"Prefill ({prompt} tok)", "tokens/s", "KV cache", "Decode step", "tokens/s", "bound",
            "cache read"]
    rows = []
    for d, pre, steps in results:
        for k, s in enumerate(steps):
            first = k == 0
            rows.append([escape.printable(d.name) if first else "", fmt.duration(pre.time.seconds) if first else "",
                         fmt.si(pre.tokens_per_s) if first else "", f"T={s.cache_len}", fmt.duration(s.time.seconds),
                         fmt.si(s.tokens_per_s), s.time.bound, fmt.nbytes(s.kv_cache_bytes)])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i in (0, 6) else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths, strict=True))).rstrip() for r in [head, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    title = (f"{escape.printable(model)} — batch {batch}, {dtype}; decode: one token per sequence, {calls} "
             f"attention calls reading the KV cache")
    return "\n".join([title, *lines, f"Convention: {CONVENTION_TEXT}"]) + "\n"
