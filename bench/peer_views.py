"""Each NetCost peer view against the peer tool itself, on models users run (torchvision, timm, Hugging Face).

    python bench/peer_views.py [REF ...]      # default: a few torchvision and HF models

Needs the peer tools (bench/requirements-peers.txt) and the libraries of the references. Every peer counts the
model as its documentation shows (real weights, real input tensors on the CPU); NetCost counts the same model
(its report's peer views, `summary --format json` -> totals.peer_views). Prints one row per (model, tool): the
tool's figure, NetCost's view, and their ratio. A script, not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from models import _count  # noqa: E402  (bench/models.py: each peer called as documented)

DEFAULT = ("torchvision:resnet50", "torchvision:mobilenet_v2", "torchvision:convnext_tiny", "torchvision:vit_b_16")
TOOLS = ("thop", "ptflops", "fvcore", "torchinfo", "flop_counter")


def _real(ref: str) -> tuple[Any, list[Any], Any]:
    import torch

    from netcost.model_io.importers import library_models
    from netcost.model_io.importers.tracer import InputSpec, make_inputs, trace_module
    from netcost.model_io.model_ref import parse_ref

    built = library_models.build(parse_ref(ref), weightless=False)
    model = built.model.eval()
    specs = [InputSpec(tuple(s), d) for s, d in built.inputs]
    report = trace_module(model, specs, name=ref)
    with torch.no_grad():
        return model, make_inputs(specs, "cpu"), report


def main(refs: list[str]) -> int:
    print(f"| model | tool | tool's figure | NetCost view | view / tool |\n|{' --- |' * 5}")
    for ref in refs or DEFAULT:
        model, inputs, report = _real(ref)
        views = report.totals.peer_views()
        for tool in TOOLS:
            try:
                figure = _count(tool, model, inputs)
            except Exception as e:  # noqa: BLE001 - a peer that cannot count the model: say so
                print(f"| {ref} | {tool} | {type(e).__name__}: {str(e)[:60]} | {views[tool]:,} | |", flush=True)
                continue
            ratio = f"{views[tool] / figure:.4f}" if figure else "-"
            print(f"| {ref} | {tool} | {figure:,} | {views[tool]:,} | {ratio} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
