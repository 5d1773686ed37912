"""Engine time of one edit in a loaded model's graph (bench, not a test: the machines are shared and noisy).

For each model: the graph is traced once (meta device, in-process), then an argument of one node is changed and the
graph re-evaluated incrementally (`evaluate_graph(graph, previous, dirty)`), as the window does on every cell edit.
Printed: nodes, the median and p95 of the incremental evaluation over repeated edits, and a full evaluation for
scale. Run: `.venv/bin/python bench/graph_edit.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netcost.costing.graph_eval import evaluate_graph  # noqa: E402
from netcost.model_io.importers.tracer import InputSpec, meta_construction, trace_graph  # noqa: E402
from netcost.resources.zoo_models import ZOO  # noqa: E402

# (model, node to edit, argument, two values to alternate): edits that keep the model valid (halving one of
# Llama's gate/up pair alone would break their product, and everything after it is then not costed: O(nodes))
CASES = [("resnet50", "layer3.2.conv2", "out_channels", (256, 128)),
         ("gpt2", "blocks.5.mlp.c_fc", "out_features", (3072, 2048)),
         ("llama70b", "layers.40.self_attn.o_proj", "bias", (True, False))]


def traced_graph(name: str):  # noqa: ANN201 - a costing Graph
    entry = ZOO[name]
    with meta_construction():
        model = entry.build()
    return trace_graph(model, [InputSpec(tuple(s), d) for s, d in entry.inputs])


def main(repeats: int = 41) -> None:
    print(f"{'model':<10} {'nodes':>6} {'edit median':>12} {'edit p95':>10} {'full eval':>10}")
    for name, node_name, arg, values in CASES:
        graph = traced_graph(name)
        node = graph.by_name(node_name)
        assert node is not None, node_name
        t = time.perf_counter()
        report = evaluate_graph(graph)
        full = time.perf_counter() - t
        times = []
        for i in range(repeats):
            current = graph.node(node.id)
            graph, dirty = graph.set_args(node.id, {**current.args, arg: values[i % 2]})
            t = time.perf_counter()
            report = evaluate_graph(graph, report, dirty)
            times.append(time.perf_counter() - t)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{name:<10} {len(graph.nodes):>6} {statistics.median(times) * 1e3:>10.2f} ms {p95 * 1e3:>7.2f} ms "
              f"{full * 1e3:>7.1f} ms")


if __name__ == "__main__":
    main()
