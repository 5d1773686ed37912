"""Every torchvision model against torchvision's own published figures: parameters (`weights.meta["num_params"]`)
and GMACs (`weights.meta["_ops"]`, 3 decimals), for `torchvision:NAME` (the DEFAULT weights' architecture and
input) and for a `.py` factory calling the builder with `weights=None` (the user's way; same input).

    python bench/torchvision_table.py [-o table.md] [--only NAME ...] [--no-factories]

Run it once where torchvision is installed (it is not a test: ~120 models, each in its own worker). Prints a
markdown table and a summary line per group. Detection models count with real tensors on the CPU (their box
selection reads values): their second stage depends on how many proposals survive NMS, which the table shows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "library"))

from published_figures import FACTORY  # noqa: E402

from netcost.model_io.worker.resolve import LoadOptions, ModelError, load_report  # noqa: E402

GROUPS = ("classification", "quantization", "segmentation", "video", "optical_flow", "detection")


def _group(name: str) -> str:
    from torchvision import models

    for group in GROUPS[1:]:
        module = getattr(models, group)
        if name in models.list_models(module):
            return group
    return "classification"


def _second_stage(name: str, report) -> tuple[str, str]:  # noqa: ANN001
    """R-CNNs: the boxes their second stage ran on, and the proposals and detections the published figure counts
    (tests/library/published_figures.py, which the CI test uses too)."""
    from published_figures import second_stage

    from netcost.model_io.importers import library_models
    from netcost.model_io.model_ref import parse_ref

    limit = library_models.build(parse_ref(f"torchvision:{name}")).model.rpn._post_nms_top_n["testing"] \
        if "rcnn" in name else 0
    split = second_stage(report, _published_macs(name), limit)
    seen = ", ".join(f"{head} {n}" for head, n in split.ran_on.items())
    if "box" not in split.ran_on:
        return seen, ""  # no second stage (FCOS, RetinaNet, SSD): the figure is exact
    if split.implied is None:
        return seen, f"first stage {split.first_stage_macs / 1e9:.3f}; no whole count of proposals gives the published"
    p, d = split.implied
    return seen, (f"published = first stage {split.first_stage_macs / 1e9:.3f} + {p} proposals"
                  + (f" + {d} detections" if d else "") + f" (max {limit})")


def _published_macs(name: str) -> float:
    from netcost.model_io.importers.library_models import torchvision_weights

    return torchvision_weights(name).meta["_ops"] * 1e9


def _count(ref: str, inputs: tuple[str, ...] = ()) -> tuple[int | None, int | None, str, float, object]:
    start = time.perf_counter()
    try:
        report = load_report(ref, LoadOptions(inputs=inputs, timeout=900))
    except ModelError as e:
        return None, None, str(e)[:120], time.perf_counter() - start, None
    return report.totals.params, report.totals.macs, "", time.perf_counter() - start, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--no-factories", action="store_true")
    args = parser.parse_args()
    import torchvision
    from torchvision import models

    from netcost.model_io.importers.library_models import torchvision_inputs, torchvision_weights

    names = args.only or models.list_models()
    factory = Path(tempfile.mkdtemp(prefix="netcost-tv-")) / "tv_factory.py"
    factory.write_text(FACTORY)
    lines = [f"torchvision {torchvision.__version__}, torch {__import__('torch').__version__}", "",
             "| model | group | input | params (published) | params = | GMACs (published) | GMACs (NetCost) | "
             "MACs = | .py factory | second stage ran on | what the published GMACs count | s |", "|" + " --- |" * 12]
    tally: dict[str, list[int]] = {}
    for name in names:
        weights = torchvision_weights(name)
        meta = weights.meta if weights is not None else {}
        group = _group(name)
        params, macs, error, seconds, report = _count(f"torchvision:{name}")
        want_p, want_ops = meta.get("num_params"), meta.get("_ops")
        p_ok = params is not None and params == want_p
        m_ok = macs is not None and want_ops is not None and round(macs / 1e9, 3) == want_ops
        specs = torchvision_inputs(name, weights)
        shape = " + ".join("×".join(map(str, s)) for s, _ in specs)
        fact = ""
        if not args.no_factories:
            inputs = tuple(",".join(map(str, s)) for s, _ in specs)
            arch = f"name={name!r}"
            if meta.get("categories") and "num_classes" in __import__("inspect").signature(
                    models.get_model_builder(name)).parameters:
                arch += f", num_classes={len(meta['categories'])}"
            if name.startswith("vit_"):
                arch += f", image_size={meta['min_size'][0]}"
            fp, fm, ferror, _, _ = _count(f"{factory}:build({arch})", inputs)
            fact = f"error: {ferror}" if ferror else ("same" if (fp, fm) == (params, macs) else
                                                       f"weights=None: {fp:,} / {fm / 1e9:.3f}")
        t = tally.setdefault(group, [0, 0, 0, 0])
        t[0] += 1
        t[1] += params is not None
        t[2] += p_ok
        t[3] += p_ok and m_ok
        gmacs = f"{macs / 1e9:.3f}" if macs is not None else f"error: {error}"
        stage, implied = _second_stage(name, report) if report and group == "detection" else ("", "")
        lines.append(f"| {name} | {group} | {shape} | {want_p:,} | {'yes' if p_ok else 'no'} | {want_ops} | {gmacs} | "
                     f"{'yes' if m_ok else 'no'} | {fact} | {stage} | {implied} | {seconds:.1f} |")
        print(lines[-1], flush=True)
    lines.append("")
    for group, (n, ran, p_ok, both) in tally.items():
        lines.append(f"- {group}: {n} models, {ran} ran, {p_ok} params exact, {both} params and GMACs exact")
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[-len(tally):]))
    if args.output:
        Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
