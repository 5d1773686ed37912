"""Engine benchmark (a script, not a test): full evaluation and incremental re-evaluation of long layer lists
(each the chain graph it is, on the one engine, `evaluate_graph`).

    .venv/bin/python bench/engine.py [--repeats N]

For generated lists of 50, 500 and 5,000 layers (Conv2d / BatchNorm2d / ReLU blocks, a Linear head) it prints the
median time of a full `evaluate_graph`, and of re-evaluating after editing one hyperparameter of the middle layer:
- "local edit": the middle conv's out_channels changes; the next conv still writes its old shape, so evaluation
  stops early (the common case while typing in a cell);
- "shape edit": the middle conv's kernel_size changes, so every shape downstream changes and every later row is
  recomputed (the worst case).
Target: re-evaluation of a 500-layer list well under 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netcost.costing import Graph, LayerSpec, Network, evaluate_graph, graph_from_network  # noqa: E402


def make_network(n_layers: int) -> Network:
    block = (LayerSpec("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1, "bias": False}),
             LayerSpec("BatchNorm2d"), LayerSpec("ReLU"))
    layers: list[LayerSpec] = []
    while len(layers) < n_layers - 3:
        layers.extend(block)
    layers = layers[:n_layers - 3]
    layers += [LayerSpec("AdaptiveAvgPool2d", {"output_size": 1}), LayerSpec("Flatten"),
               LayerSpec("Linear", {"out_features": 10})]
    return Network(tuple(layers), (32, 56, 56), f"{n_layers} layers")


def middle_conv(graph: Graph) -> int:
    mid = len(graph.nodes) // 2
    return next(i for i in range(mid, len(graph.nodes)) if graph.nodes[i].op == "Conv2d")


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"{'layers':>7}  {'full':>10}  {'local edit':>11}  {'rows':>5}  {'shape edit':>11}  {'rows':>5}")
    for n in (50, 500, 5_000):
        graph = graph_from_network(make_network(n))
        repeats = max(3, args.repeats // (5 if n >= 5_000 else 1))
        base = evaluate_graph(graph)
        full = median_ms(lambda graph=graph: evaluate_graph(graph), repeats)
        node = graph.nodes[middle_conv(graph)]
        local, dirty = graph.set_args(node.id, {**node.args, "out_channels": 48})
        shape, dirty_shape = graph.set_args(node.id, {**node.args, "kernel_size": 5})
        local_ms = median_ms(lambda local=local, base=base, d=dirty: evaluate_graph(local, base, d), repeats)
        shape_ms = median_ms(lambda shape=shape, base=base, d=dirty_shape: evaluate_graph(shape, base, d), repeats)
        # how many rows each edit recomputes (rows whose LayerCost object is new)
        local_rows = sum(a is not b for a, b in zip(evaluate_graph(local, base, dirty).layers, base.layers,
                                                    strict=True))
        shape_rows = sum(a is not b for a, b in zip(evaluate_graph(shape, base, dirty_shape).layers, base.layers,
                                                    strict=True))
        assert evaluate_graph(local, base, dirty) == evaluate_graph(local) and \
            evaluate_graph(shape, base, dirty_shape) == evaluate_graph(shape)
        print(f"{n:>7}  {full:>8.2f}ms  {local_ms:>9.3f}ms  {local_rows:>5}  {shape_ms:>9.2f}ms  {shape_rows:>5}")

if __name__ == "__main__":
    main()
