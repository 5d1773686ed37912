"""`netcost.analyze` on live models with real weights, side by side with thop, fvcore, ptflops and torchinfo on the
same object (issue 20): time, and how much the process's peak memory grows while NetCost counts.

    /work/main/.venv-lib/bin/python bench/api.py [resnet50 vit_b_16 gpt2] [--repeat N]

Needs torchvision and transformers (the models) and the peer tools that are installed (bench/requirements-peers.txt;
a missing one is skipped). Each model is measured in a process of its own: built with real (random) weights on the
CPU, NetCost's memory growth sampled from /proc while it counts, then every tool timed on the same model object
(one warm-up call, then the best of --repeat). Prints, per model, each tool's time, NetCost's time as a ratio of the
fastest peer's (goal: <= 0.5) and the peak growth as a ratio of the model's weight bytes (goal: < 0.05). A script,
not a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MODELS = ("resnet50", "vit_b_16", "gpt2")
PEERS = ("thop", "fvcore", "ptflops", "torchinfo")
TIME_GOAL, MEMORY_GOAL = 0.5, 0.05


def build(name: str, small: bool = False) -> tuple[Any, list[Any]]:
    """The model with real (random) weights and its input; `small`: a tiny one of the same family (the warm-up)."""
    import torch

    torch.manual_seed(0)
    if name == "gpt2":  # GPT-2 small's size (124 M parameters), built from its config: no download
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(n_layer=1, n_embd=64, n_head=2, vocab_size=100) if small else GPT2Config()
        return GPT2LMHeadModel(config).eval(), [torch.randint(0, config.vocab_size, (1, 8 if small else 128))]
    import torchvision

    if small:
        return torchvision.models.resnet18(num_classes=2).eval(), [torch.randn(1, 3, 32, 32)]
    return getattr(torchvision.models, name)(weights=None).eval(), [torch.randn(1, 3, 224, 224)]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler:
    """The process's peak resident memory above where it was at the start, sampled every millisecond."""

    def __init__(self) -> None:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(0.001)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.base


def _netcost(model: Any, inputs: list[Any]) -> int:
    import netcost

    return netcost.analyze(model, *inputs).totals.macs


def _timed(call: Any, repeat: int) -> float:
    call()  # warm-up: imports, first-call caches (the same for every tool)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def measure(name: str, repeat: int) -> dict[str, Any]:
    """One model, in this process: NetCost's memory growth first (before any peer has run), then every time."""
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    from models import _count  # bench/models.py: each peer called as its documentation shows

    model, inputs = build(name)
    weight_bytes = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
    _netcost(*build(name, small=True))  # NetCost's code loaded first: the count is measured, not the imports
    with PeakSampler() as sampler:
        _netcost(model, inputs)
    result: dict[str, Any] = {"model": name, "weight_bytes": weight_bytes, "growth_bytes": sampler.growth,
                              "times": {}, "errors": {}}
    result["times"]["netcost"] = _timed(lambda: _netcost(model, inputs), repeat)
    for tool in PEERS:
        try:
            __import__({"fvcore": "fvcore.nn"}.get(tool, tool))
        except ImportError:
            result["errors"][tool] = "not installed"
            continue
        try:
            result["times"][tool] = _timed(lambda tool=tool: _count(tool, model, inputs), repeat)
        except Exception as e:  # noqa: BLE001 - a peer that cannot count the model: say so
            result["errors"][tool] = f"{type(e).__name__}: {str(e)[:80]}"
    return result


def _row(r: dict[str, Any]) -> str:
    times = r["times"]
    peers = {t: s for t, s in times.items() if t != "netcost"}
    fastest = min(peers, key=peers.get) if peers else None
    cells = [f"{times[t] * 1000:,.0f} ms" if t in times else r["errors"].get(t, "-") for t in ("netcost", *PEERS)]
    ratio = times["netcost"] / peers[fastest] if fastest else float("nan")
    memory = r["growth_bytes"] / r["weight_bytes"]
    return (f"| {r['model']} | {' | '.join(cells)} | {ratio:.3f} ({fastest}) {'ok' if ratio <= TIME_GOAL else 'OVER'}"
            f" | {r['growth_bytes'] / 2 ** 20:,.1f} MiB / {r['weight_bytes'] / 2 ** 20:,.0f} MiB = {memory:.4f} "
            f"{'ok' if memory < MEMORY_GOAL else 'OVER'} |")


def main(argv: list[str]) -> int:
    repeat = 3
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    if argv and argv[0] == "--one":  # the child: one model, its result as JSON
        print(json.dumps(measure(argv[1], repeat)))
        return 0
    print(f"| model | netcost | {' | '.join(PEERS)} | netcost / fastest peer (goal <= {TIME_GOAL}) | "
          f"peak growth / weights (goal < {MEMORY_GOAL}) |\n|{' --- |' * (len(PEERS) + 4)}", flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for name in argv or MODELS:
        run = subprocess.run([sys.executable, __file__, "--one", name, "--repeat", str(repeat)], capture_output=True,
                             text=True, env=env)
        if run.returncode != 0:
            print(f"| {name} | failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}"
                  f" |", flush=True)
            continue
        print(_row(json.loads(run.stdout.strip().splitlines()[-1])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
