"""A realistic large `netcost.graph/1` file: a deep pre-norm transformer (15 nodes a layer in nested scopes).

    .venv/bin/python bench/big_graph_file.py OUT.json [--nodes 100000]

Each layer `layers.i` holds an attention block (`layers.i.attn`: LayerNorm, q/k/v Linear, a transpose, two bmm
around a softmax, the output Linear, the residual add) and an MLP block (`layers.i.mlp`: LayerNorm, Linear, GELU,
Linear, the residual add), every value (1, seq, d). Used by bench/big_graph.py and the large-graph window tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NODES_PER_LAYER = 15


def transformer_graph(nodes: int, d: int = 64, seq: int = 32):  # noqa: ANN201 - a costing Graph
    """About `nodes` nodes (whole layers of 15)."""
    from netcost.costing.graph import Graph, GraphInput, Node, Ref, Scope

    out: list[Node] = []
    scopes: list[Scope] = []
    src = Ref("x")

    def add(nid: str, op: str, args: dict, inputs: tuple[Ref, ...], scope: str, module: bool = True) -> Ref:
        out.append(Node(nid, op, args, inputs, name=nid, scope=scope, module=nid if module else ""))
        return Ref(nid)

    for i in range(max(1, nodes // NODES_PER_LAYER)):
        p = f"layers.{i}"
        scopes += [Scope(p, "Block"), Scope(f"{p}.attn", "Attention"), Scope(f"{p}.mlp", "MLP")]
        a, m = f"{p}.attn", f"{p}.mlp"
        h = add(f"{a}.norm", "LayerNorm", {"normalized_shape": [d]}, (src,), a)
        q = add(f"{a}.q", "Linear", {"out_features": d}, (h,), a)
        k = add(f"{a}.k", "Linear", {"out_features": d}, (h,), a)
        v = add(f"{a}.v", "Linear", {"out_features": d}, (h,), a)
        kt = add(f"{a}.kt", "transpose", {"dim0": 1, "dim1": 2}, (k,), a, module=False)
        s = add(f"{a}.scores", "bmm", {}, (q, kt), a, module=False)
        w = add(f"{a}.softmax", "softmax", {"dim": -1}, (s,), a, module=False)
        o = add(f"{a}.mix", "bmm", {}, (w, v), a, module=False)
        o = add(f"{a}.o", "Linear", {"out_features": d}, (o,), a)
        src = add(f"{a}.residual", "add", {}, (src, o), a, module=False)
        h = add(f"{m}.norm", "LayerNorm", {"normalized_shape": [d]}, (src,), m)
        h = add(f"{m}.fc1", "Linear", {"out_features": 4 * d}, (h,), m)
        h = add(f"{m}.act", "GELU", {}, (h,), m)
        h = add(f"{m}.fc2", "Linear", {"out_features": d}, (h,), m)
        src = add(f"{m}.residual", "add", {}, (src, h), m, module=False)
    return Graph(tuple(out), (GraphInput("x", (1, seq, d)),), name=f"transformer{len(out)}", scopes=tuple(scopes))


def write_graph_file(path: str | Path, nodes: int) -> int:
    """Write the graph as a graph file; the node count."""
    from netcost.model_io.files.graph_file import save_graph

    graph = transformer_graph(nodes)
    save_graph(path, graph)
    return len(graph.nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--nodes", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{write_graph_file(args.out, args.nodes)} nodes -> {args.out}")


if __name__ == "__main__":
    main()
