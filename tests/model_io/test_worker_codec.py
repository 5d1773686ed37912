"""report_codec: a lossless round trip through JSON, for layer lists and traced models."""

from __future__ import annotations

import dataclasses
import json

from costing import evaluate
from model_io import report_codec
from model_io.tracer import InputSpec, meta_construction, trace_module
from model_io.zoo import layer_list_names, load_layer_list
from resources.zoo_models import ZOO


def _round_trip(report):  # noqa: ANN001, ANN202
    return report_codec.from_dict(json.loads(json.dumps(report_codec.to_dict(report))))


def test_layer_list_reports_round_trip() -> None:
    for name in layer_list_names():
        report = evaluate(load_layer_list(name))
        assert _round_trip(report) == dataclasses.replace(report, network=None), name


def test_traced_report_round_trips() -> None:
    with meta_construction():
        model = ZOO["gpt2"].build()
    report = trace_module(model, [InputSpec((1, 32), "int64")])
    back = _round_trip(report)
    assert back == report
    assert back.hierarchy == report.hierarchy and back.layers[5].shared_with == report.layers[5].shared_with
