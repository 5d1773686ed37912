"""Time and peak memory to count real models: NetCost vs thop, ptflops, fvcore, torchinfo and FlopCounterMode.

A script, not a test. Run it with the bench environment (bench/requirements-peers.txt says how to make it):

    .venv-bench/bin/python bench/models.py            # the full table (a few minutes on 2 cores)
    .venv-bench/bin/python bench/models.py --quick    # AlexNet and ResNet-50 only

Every measurement runs in a fresh process (so peak RSS is its own and lazy imports are paid where a user pays
them): `cold` is the first counting call in that process, `warm` the second. Each peer is used as its
documentation shows (a model with real weights and real input tensors on the CPU) and again on the meta device.
NetCost counts on meta (in its worker); its worker start-up (python + import torch) is reported separately.
Beside each peer's figure is NetCost's convention view that reproduces it.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("alexnet-module", "resnet50", "gpt2", "llama7b")
TOOLS = ("netcost", "flop_counter", "thop", "ptflops", "fvcore", "torchinfo")
VIEW = {"thop": "thop", "ptflops": "ptflops", "fvcore": "fvcore", "torchinfo": "torchinfo",
        "flop_counter": "flop_counter", "netcost": "macs"}


def _build(name: str, device: str) -> tuple[Any, list[Any]]:
    import torch

    from netcost.model_io.importers.tracer import InputSpec, make_inputs, meta_construction
    from netcost.resources.zoo_models import ZOO

    entry = ZOO[name]
    if device == "meta":
        with meta_construction():
            model = entry.build()
    else:
        model = entry.build()
    model.eval()
    specs = [InputSpec(s, d) for s, d in entry.inputs]
    with torch.no_grad():
        return model, make_inputs(specs, device)


def _count(tool: str, model: Any, inputs: list[Any]) -> int:
    import torch

    if tool == "netcost":
        from netcost.model_io.importers.tracer import InputSpec, trace_module

        specs = [InputSpec(tuple(x.shape), str(x.dtype).removeprefix("torch.")) for x in inputs]
        return trace_module(model, specs).totals.macs
    if tool == "flop_counter":
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(*inputs)
        return counter.get_total_flops()
    if tool == "thop":
        import thop

        with torch.no_grad():
            macs, _ = thop.profile(model, inputs=tuple(inputs), verbose=False)
        return int(macs)
    if tool == "ptflops":
        from ptflops import get_model_complexity_info

        arg = next(iter(inspect.signature(model.forward).parameters))
        macs, _ = get_model_complexity_info(model, tuple(inputs[0].shape[1:]), as_strings=False,
                                            print_per_layer_stat=False, verbose=False, backend="pytorch",
                                            input_constructor=lambda _: {arg: inputs[0]})
        return int(macs or 0)
    if tool == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, tuple(inputs))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(analysis.total())
    if tool == "torchinfo":
        import torchinfo

        return int(torchinfo.summary(model, input_data=list(inputs), verbose=0).total_mult_adds)
    raise ValueError(tool)


def one(tool: str, name: str, device: str) -> dict[str, Any]:
    """Measure one (tool, model, device) in this process; prints JSON."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    if tool == "netcost":  # as the worker does once at start-up, before it counts
        from netcost.model_io.worker.worker import _skip_dynamo_disable

        _skip_dynamo_disable()
    t0 = time.perf_counter()
    model, inputs = _build(name, device)
    built = time.perf_counter() - t0
    out: dict[str, Any] = {"build_s": built}
    try:
        t = time.perf_counter()
        figure = _count(tool, model, inputs)
        out["cold_s"] = time.perf_counter() - t
        t = time.perf_counter()
        _count(tool, model, inputs)
        out["warm_s"] = time.perf_counter() - t
        out["figure"] = figure
    except Exception as e:  # a peer that cannot count this model on this device: say so in the table
        out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''}"
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _run(args: list[str], timeout: float = 900) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:80]}


def _netcost_views(name: str) -> dict[str, int]:
    from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_module
    from netcost.resources.zoo_models import ZOO

    with meta_construction():
        model = ZOO[name].build()
    t = trace_module(model, [InputSpec(s, d) for s, d in ZOO[name].inputs]).totals
    return {"macs": t.macs, **t.peer_views()}


def cli(ref: str) -> dict[str, float]:
    """Seconds and peak RSS (MB, the largest process: CLI or worker) of `netcost summary ref`, end to end. Run in
    a fresh process of its own, so the RSS of earlier measurements does not count."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "netcost.model_io", "summary", ref], check=True, capture_output=True,
                   cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return {"seconds": time.perf_counter() - t,
            "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _fmt_s(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else "—"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--one", nargs=3, metavar=("TOOL", "MODEL", "DEVICE"))
    p.add_argument("--cli", metavar="REF")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(*a.one)))
        return
    if a.cli:
        print(json.dumps(cli(a.cli)))
        return
    models = MODELS[:2] if a.quick else MODELS
    startup = _run(["--one", "netcost", "inception_block", "meta"])  # python + torch import, for scale
    print("| model | tool | device | cold s | warm s | peak RSS MB | tool's figure | NetCost view | NetCost |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    summary: dict[str, dict[str, float]] = {}
    for name in models:
        views = _netcost_views(name)
        for device in ("cpu", "meta"):
            for tool in TOOLS:
                if tool == "netcost" and device == "cpu":
                    continue  # NetCost always counts on meta
                if device == "cpu" and name.startswith("llama"):
                    print(f"| {name} | {tool} | cpu | — | — | — | n/a: 27 GB of real weights | | |")
                    continue
                r = _run(["--one", tool, name, device])
                figure = f"{r['figure']:,}" if "figure" in r else r.get("error", "?")
                view = VIEW[tool]
                print(f"| {name} | {tool} | {device} | {_fmt_s(r.get('cold_s'))} | {_fmt_s(r.get('warm_s'))} | "
                      f"{r.get('rss_mb', 0):.0f} | {figure} | {view} | {views[view]:,} |", flush=True)
                if "warm_s" in r and r.get("figure"):  # a tool that counted 0 did not count
                    summary.setdefault(name, {})[f"{tool}/{device}"] = r["warm_s"]
    print()
    print(f"Worker start-up (python + import torch + a tiny count): {startup.get('rss_mb', 0):.0f} MB; "
          f"measured separately from counting.")
    for name, times in summary.items():
        ours = times.get("netcost/meta")
        docs = [v for k, v in times.items() if k.endswith("/cpu") and not k.startswith("netcost")]
        meta = [v for k, v in times.items() if k.endswith("/meta") and not k.startswith("netcost")]
        if ours is None:
            continue
        parts = [f"{name}: NetCost {ours:.3f} s"]
        if docs:
            parts.append(f"{ours / min(docs):.2f}x the fastest documented (CPU) peer ({min(docs):.3f} s)")
        if meta:
            parts.append(f"{ours / min(meta):.2f}x the fastest meta peer ({min(meta):.3f} s)")
        print("; ".join(parts))
    for ref in ("zoo:llama70b",):
        r = _run(["--cli", ref])
        print(f"CLI end to end `netcost summary {ref}`: {r.get('seconds', 0):.2f} s, "
              f"peak RSS {r.get('rss_mb', 0):.0f} MB")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
