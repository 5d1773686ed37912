"""The typed records of the Python API: `Totals` and `Row`, read from the `netcost.report/1` dict the CLI writes, so
every figure is the one `netcost summary --format json` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Totals:
    """The whole model's figures (the JSON's `totals`, `convention` and `peak_activation_bytes`).

    Counts are integers; bytes are in the report's dtype. `value` is the figure of the report's counting
    convention (`convention`, labelled `convention_label`): NetCost FLOPs by default, or a peer tool's view.
    None of the figures is a partial sum: an incomplete report (a node that cannot be costed) has no `Totals`.
    """

    params: int
    trainable_params: int
    frozen_params: int
    buffers: int
    macs: int
    flops: int
    param_bytes: int
    activation_bytes: int  # forward activation memory
    memory_access_bytes: int  # bytes read + written by every layer
    peak_activation_bytes: int | None  # peak live activations of an inference forward
    convention: str  # e.g. "flops", "macs", "thop"
    convention_label: str  # e.g. "FLOPs", "thop flops"
    value: int  # the figure in `convention`
    peer_views: dict[str, int] = field(default_factory=dict)  # thop, fvcore, torchinfo, ptflops, flop_counter

    @classmethod
    def from_report_dict(cls, d: dict[str, Any]) -> Totals | None:
        t = d.get("totals")
        if t is None:
            return None
        conv = d["convention"]
        return cls(params=t["params"], trainable_params=t["trainable_params"], frozen_params=t["frozen_params"],
                   buffers=t["buffers"], macs=t["macs"], flops=t["flops"], param_bytes=t["param_bytes"],
                   activation_bytes=t["activation_bytes"], memory_access_bytes=t["memory_access_bytes"],
                   peak_activation_bytes=d.get("peak_activation_bytes"), convention=conv["key"],
                   convention_label=conv["label"], value=conv["value"], peer_views=dict(t.get("peer_views") or {}))


@dataclass(frozen=True)
class Row:
    """One row of the layer table (the JSON's `layers`): a layer, an op, or a container folded at `depth`.

    `value` is the figure in the report's convention; `params_share` and `value_share` are fractions (0..1) of the
    model's totals, None while the report is incomplete.
    """

    name: str
    type: str
    category: str  # conv, linear, norm, activation, pool, ... (costing.registry.CATEGORIES)
    depth: int
    path: str
    inputs: tuple[str, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    frozen_params: int
    buffers: int
    macs: int
    flops: int
    param_bytes: int
    activation_bytes: int
    memory_access_bytes: int
    read_bytes: int
    written_bytes: int
    arithmetic_intensity: float
    value: int
    params_share: float | None
    value_share: float | None
    args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_layer_dict(cls, d: dict[str, Any], totals: Totals | None) -> Row:
        def share(x: int, whole: int) -> float | None:
            return None if totals is None else (x / whole if whole else 0.0)

        return cls(name=d["name"], type=d["type"], category=d["category"], depth=d["depth"], path=d["path"],
                   inputs=tuple(d["inputs"]), input_shape=tuple(d["input_shape"]),
                   output_shape=tuple(d["output_shape"]), params=d["params"],
                   trainable_params=d["trainable_params"], frozen_params=d["frozen_params"], buffers=d["buffers"],
                   macs=d["macs"], flops=d["flops"], param_bytes=d["param_bytes"],
                   activation_bytes=d["activation_bytes"], memory_access_bytes=d["memory_access_bytes"],
                   read_bytes=d["read_bytes"], written_bytes=d["written_bytes"],
                   arithmetic_intensity=d["arithmetic_intensity"], value=d["convention_value"],
                   params_share=share(d["params"], totals.params if totals else 0),
                   value_share=share(d["convention_value"], totals.value if totals else 0),
                   args=dict(d.get("args") or {}))
