"""Every torchvision 0.29.1 builder against torchvision's own published figures (`weights.meta`): parameters
exactly, GMACs to their 3 decimals. `torchvision:NAME` counts the DEFAULT weights' architecture at the input their
transforms produce; a user's `.py` factory (`weights=None`) counts the same way.

The detection R-CNNs are data-dependent (see published_figures.py): their count here must be the published figure
up to a whole number of proposals and detections through the second-stage heads, and nothing else."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch
from published_figures import FACTORY, second_stage
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing import CostReport
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.importers import library_models
from netcost.model_io.importers.loaders import run_request
from netcost.model_io.model_ref import parse_ref

torchvision = pytest.importorskip("torchvision")
from torchvision import models  # noqa: E402

ALL = sorted(models.list_models())
DETECTION = set(models.list_models(models.detection))
# R-CNNs: a second stage that runs on what NMS keeps (every other model, FCOS/RetinaNet/SSD included, is exact)
DATA_DEPENDENT = {n for n in DETECTION if "rcnn" in n}



def _count(request: dict) -> CostReport:
    return evaluate_graph(run_request(request))


def test_every_builder_is_here() -> None:
    assert torchvision.__version__.startswith("0.29.1") and len(ALL) == 121


@pytest.mark.parametrize("name", ALL)
def test_the_published_figures(name: str) -> None:
    torch.manual_seed(0)  # the detection models count on a random image and random weights
    meta = library_models.torchvision_weights(name).meta
    # an R-CNN keeps every detection (up to 100) so that its mask/keypoint head runs and shows its cost per box
    ref = f"torchvision:{name}"
    if name in DATA_DEPENDENT:
        ref += '(weights="DEFAULT", box_score_thresh=0.0)'
    report = _count({"ref": ref})
    assert report.totals.params == meta["num_params"]
    published = meta["_ops"] * 1e9
    if name not in DATA_DEPENDENT:
        assert round(report.totals.macs / 1e9, 3) == meta["_ops"]
        return
    limit = library_models.build(parse_ref(f"torchvision:{name}")).model.rpn._post_nms_top_n["testing"]
    split = second_stage(report, published, limit)
    assert split.ran_on.get("box") is not None, "the box head never ran"
    assert split.implied is not None, (f"{report.totals.macs / 1e9:.3f} GMACs: no whole number of proposals "
                                       f"(<= {limit}) and detections explains the published {meta['_ops']}")


def _factory_args(name: str, meta: dict) -> str:
    args = f"name={name!r}"
    if meta.get("categories") and "num_classes" in inspect.signature(models.get_model_builder(name)).parameters:
        args += f", num_classes={len(meta['categories'])}"
    if name.startswith("vit_"):
        args += f", image_size={meta['min_size'][0]}"
    return args


@pytest.mark.parametrize("name", ALL)
def test_a_py_factory_counts_as_pytorch_does(name: str, tmp_path: Path) -> None:
    """The user's way: a .py file calling the builder. Parameters equal the built model's own; where it builds the
    published architecture (106 of 121: without weights some build auxiliary heads or plain BatchNorm), the MACs
    equal the published figure; and they never fall below FlopCounterMode's count on meta (its matmuls and
    convolutions: NetCost also counts the work of pooling and resampling layers as MACs)."""
    meta = library_models.torchvision_weights(name).meta
    factory = tmp_path / "tv_factory.py"
    factory.write_text(FACTORY)
    specs = library_models.torchvision_inputs(name, library_models.torchvision_weights(name))
    inputs = [",".join(map(str, s)) for s, _ in specs]
    report = _count({"ref": f"{factory}:build({_factory_args(name, meta)})", "inputs": inputs})
    namespace: dict = {}
    exec(compile(FACTORY, str(factory), "exec"), namespace)  # the same builder call, in torch itself
    try:
        with torch.device("meta"):
            model = eval(f"build({_factory_args(name, meta)})", namespace).eval()
    except (NotImplementedError, RuntimeError):  # RegNet sizes its stages with torch ops on values
        model = eval(f"build({_factory_args(name, meta)})", namespace).eval().to("meta")  # built as a user would
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    if report.totals.params == meta["num_params"] and name not in DATA_DEPENDENT:
        assert round(report.totals.macs / 1e9, 3) == meta["_ops"]
    if name in DETECTION:
        return  # their box selection reads values: they do not run on meta
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*[torch.empty(s, device="meta") for s, _ in specs])
    assert report.totals.macs >= counter.get_total_flops() // 2
