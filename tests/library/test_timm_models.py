"""timm models, one or two of each architecture family, against PyTorch's own count: parameters (numel of the same
model built by timm) and FlopCounterMode's FLOPs on the meta device, to the unit, at the model's default input.

PyTorch's counter is itself wrong on timm's CaiT: its ModuleTracker hooks every output that requires grad for a
later backward and asserts on one without a grad_fn ("Expected gradient function to be set") before counting
anything. There the reference is the same FlopCounterMode without module tracking (its totals do not use it)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.importers.loaders import run_request

timm = pytest.importorskip("timm")

FAMILIES = [
    "resnet18", "resnet50d", "resnetv2_50", "convnext_atto", "convnext_tiny", "efficientnet_b0",
    "mobilenetv3_small_100", "mobilenetv4_conv_small", "vit_tiny_patch16_224", "vit_small_patch16_224",
    "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224", "swinv2_tiny_window8_256", "cait_xxs24_224",
    "coat_lite_tiny", "levit_128s", "regnety_002", "rexnet_100", "ghostnet_100", "mixer_s16_224", "resmlp_12_224",
    "poolformer_s12", "convmixer_768_32", "beit_base_patch16_224", "eva02_tiny_patch14_224", "maxvit_tiny_tf_224",
    "coatnet_0_rw_224", "efficientformer_l1", "fastvit_t8", "edgenext_xx_small", "mobilevit_xxs", "nfnet_l0",
    "dla34", "dpn68", "densenet121", "inception_v3", "xception41", "tresnet_m", "hrnet_w18_small", "gcvit_xxtiny",
    "pvt_v2_b0", "twins_svt_small", "crossvit_tiny_240", "tnt_s_patch16_224", "volo_d1_224", "xcit_nano_12_p16_224",
    "davit_tiny", "repvgg_a0", "cspdarknet53", "hgnetv2_b0", "inception_next_tiny", "hiera_tiny_224",
    "mambaout_femto", "sequencer2d_s",
]
UNTRACKABLE = {"cait_xxs24_224"}  # FlopCounterMode's module tracking asserts (see above)


class _NoModuleTracking:
    parents = {"Global"}

    def __enter__(self) -> _NoModuleTracking:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _pytorch_count(name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False).eval()
    counter = FlopCounterMode(display=False)
    if name in UNTRACKABLE:
        counter.mod_tracker = _NoModuleTracking()
    with counter, torch.no_grad():
        model(torch.empty(shape, device="meta"))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops()


@pytest.mark.parametrize("name", FAMILIES)
def test_timm_models_equal_pytorchs_own_count(name: str) -> None:
    report = evaluate_graph(run_request({"ref": f"timm:{name}"}))
    with torch.device("meta"):
        cfg = timm.create_model(name, pretrained=False).pretrained_cfg
    assert report.inputs[0][0] == (1, *cfg["input_size"])
    assert not report.unsupported
    assert (report.totals.params, report.totals.flop_counter) == _pytorch_count(name, report.inputs[0][0])
