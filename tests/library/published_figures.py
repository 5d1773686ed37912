"""What torchvision's published figures count, for the detection models whose second stage depends on the data.

torchvision publishes one GMACs figure (`weights.meta["_ops"]`, 3 decimals) per builder. An R-CNN runs its box
head on the proposals that survive NMS and its mask/keypoint head on the detections: numbers that depend on the
weights and the image, so a count on random weights cannot equal the figure. It must still be explained by it:
the first stage (backbone, FPN, RPN) counted here plus a whole number of proposals P <= the RPN's post-NMS limit
through the box head, plus a whole number of detections D <= 100 through the mask or keypoint head, give the
published figure to its 3 decimals. Shared by tests/library and bench/torchvision_table.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the layers of each second-stage head, by name prefix
HEADS = {"box": ("roi_heads.box_head", "roi_heads.box_predictor"),
         "mask": ("roi_heads.mask_head", "roi_heads.mask_predictor"),
         "keypoint": ("roi_heads.keypoint_head", "roi_heads.keypoint_predictor")}
MAX_DETECTIONS = 100  # torchvision's box_detections_per_img
HALF_UNIT = 0.5e6  # _ops has 3 decimals in GMACs


@dataclass(frozen=True)
class SecondStage:
    first_stage_macs: int
    ran_on: dict[str, int]  # head -> boxes it ran on here
    implied: tuple[int, int] | None  # (proposals, detections) that make up the published figure, if any


def second_stage(report: Any, published_macs: float, proposal_limit: int) -> SecondStage:
    """Split `report` (a detection model's CostReport) into the first stage and its per-box heads, and solve for the
    proposals and detections the published figure counts."""
    first, per, ran = report.totals.macs, {}, {}
    for head, prefixes in HEADS.items():
        rows = [r for r in report.layers if r.name.startswith(prefixes)]
        if not rows or not rows[0].input_shape:
            continue
        n, macs = rows[0].input_shape[0], sum(r.macs for r in rows)
        first -= macs
        ran[head] = n
        if n:
            per[head] = macs / n
    if "box" not in per:
        exact = abs(published_macs - first) < HALF_UNIT
        return SecondStage(first, ran, (0, 0) if exact else None)
    detection = next((per[h] for h in ("mask", "keypoint") if h in per), 0.0)
    for d in range(MAX_DETECTIONS + 1 if detection else 1):
        p = (published_macs - first - d * detection) / per["box"]
        if 0 <= round(p) <= proposal_limit and abs(p - round(p)) * per["box"] < HALF_UNIT:
            return SecondStage(first, ran, (round(p), d))
    return SecondStage(first, ran, None)
