"""A lossless CostReport <-> JSON-ready dict, for results crossing a process boundary (worker -> CLI / app).

Unlike tables.to_dict (the documented, human-facing export schema), this keeps every field, including each
layer's full Totals and argument types (tuples survive a round trip). The layer-list `network` is not carried:
a decoded report is a snapshot (a traced model has none; the app re-evaluates layer lists itself).
"""

from __future__ import annotations

from typing import Any

from costing import CostReport, HierarchyNode, LayerCost, SummaryFigures, Totals

CODEC = "netcost.report-full/1"


def _enc(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"__tuple__": [_enc(v) for v in value]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _enc(v) for k, v in value.items()}
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_dec(v) for v in value["__tuple__"])
        return {k: _dec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return value


def _layer(lc: LayerCost) -> dict[str, Any]:
    return {"index": lc.index, "name": lc.name, "type": lc.type, "category": lc.category,
            "input_shape": list(lc.input_shape), "output_shape": list(lc.output_shape),
            "totals": lc.totals.as_dict(), "args": _enc(dict(lc.args)), "inferred": list(lc.inferred),
            "depth": lc.depth, "path": lc.path, "parts": [_layer(p) for p in lc.parts],
            "shared_with": list(lc.shared_with), "input_shapes": [list(s) for s in lc.input_shapes]}


def _layer_from(d: dict[str, Any]) -> LayerCost:
    return LayerCost(index=d["index"], name=d["name"], type=d["type"], category=d["category"],
                     input_shape=tuple(d["input_shape"]), output_shape=tuple(d["output_shape"]),
                     totals=Totals(**d["totals"]), args=_dec(d.get("args", {})), inferred=tuple(d.get("inferred", ())),
                     depth=d.get("depth", 0), path=d.get("path", ""),
                     parts=tuple(_layer_from(p) for p in d.get("parts", ())),
                     shared_with=tuple(d.get("shared_with", ())),
                     input_shapes=tuple(tuple(s) for s in d.get("input_shapes", ())))


def to_dict(report: CostReport) -> dict[str, Any]:
    s = report.summary
    return {
        "codec": CODEC, "model": report.model,
        "inputs": [[list(shape), dt] for shape, dt in report.inputs],
        "batch_size": report.batch_size, "dtype": report.dtype,
        "layers": [_layer(lc) for lc in report.layers],
        "totals": report.totals.as_dict(),
        "by_category": {k: v.as_dict() for k, v in report.by_category.items()},
        "summary": {"input_bytes": s.input_bytes, "forward_backward_bytes": s.forward_backward_bytes,
                    "params_bytes": s.params_bytes},
        "hierarchy": [{"path": n.path, "type": n.type, "depth": n.depth, "first": n.first, "last": n.last,
                       "totals": n.totals.as_dict()} for n in report.hierarchy],
        "unsupported": [_enc(dict(u)) for u in report.unsupported],
        "warnings": list(report.warnings), "source": report.source,
    }


def from_dict(d: dict[str, Any]) -> CostReport:
    if d.get("codec") != CODEC:
        raise ValueError(f"not a {CODEC} report (codec {d.get('codec')!r})")
    return CostReport(
        model=d["model"], inputs=tuple((tuple(shape), dt) for shape, dt in d["inputs"]),
        batch_size=d["batch_size"], dtype=d["dtype"], layers=tuple(_layer_from(x) for x in d["layers"]),
        totals=Totals(**d["totals"]), by_category={k: Totals(**v) for k, v in d["by_category"].items()},
        summary=SummaryFigures(**d["summary"]),
        hierarchy=tuple(HierarchyNode(n["path"], n["type"], n["depth"], n["first"], n["last"], Totals(**n["totals"]))
                        for n in d.get("hierarchy", ())),
        unsupported=tuple(_dec(u) for u in d.get("unsupported", ())), warnings=tuple(d.get("warnings", ())),
        source=d.get("source", "layers"))
