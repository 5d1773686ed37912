"""An edit's latency estimate from the previous one (`updated_estimate`) equals a fresh estimate."""

from __future__ import annotations

import pytest

from netcost.costing import LayerSpec, Network
from netcost.costing.chain import graph_from_network
from netcost.costing.devices import PRESETS, find_device
from netcost.costing.graph_eval import evaluate_graph
from netcost.costing.latency import estimate, updated_estimate


def test_updated_estimate_matches_a_fresh_one() -> None:
    specs = [LayerSpec("Linear", {"out_features": 64}) if i % 2 == 0 else LayerSpec("ReLU") for i in range(40)]
    graph = graph_from_network(Network(tuple(specs), (8, 64), "mlp"))
    device = find_device("a100-40gb", PRESETS)
    report = evaluate_graph(graph)
    est = estimate(report, device)
    for width in (4096, 16, 64):  # memory-bound, then compute-bound rows, then back
        node = graph.nodes[10]
        graph, dirty = graph.set_args(node.id, {**node.args, "out_features": width})
        new_report = evaluate_graph(graph, report, dirty)
        updated = updated_estimate(est, report, new_report)
        fresh = estimate(new_report, device)
        assert updated is not None and updated.rows == fresh.rows
        for name in ("seconds", "compute_s", "memory_s"):
            assert getattr(updated.total, name) == pytest.approx(getattr(fresh.total, name), rel=1e-12)
        assert (updated.total.flops, updated.total.bytes, updated.total.bound) == \
            (fresh.total.flops, fresh.total.bytes, fresh.total.bound)
        report, est = new_report, updated


def test_a_new_dtype_is_estimated_afresh() -> None:
    graph = graph_from_network(Network((LayerSpec("Linear", {"out_features": 8}),), (4, 8), "one"))
    report = evaluate_graph(graph)
    est = estimate(report, find_device("a100-40gb", PRESETS))
    from dataclasses import replace

    assert updated_estimate(est, report, evaluate_graph(replace(graph, dtype="float16"))) is None
