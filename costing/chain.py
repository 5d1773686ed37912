"""A layer list (`Network`) as the graph it is: a chain, each node reading the previous one's output."""

from __future__ import annotations

from .graph import Graph, GraphInput, Node, Ref, unique_name
from .spec import Network

INPUT_NAME = "input"


def chain_input(net: Network) -> GraphInput:
    token = bool(net.layers) and net.layers[0].type == "Embedding"
    return GraphInput(INPUT_NAME, net.batched_input, "int64" if token else "float")


def graph_from_network(net: Network) -> Graph:
    taken: set[str] = {INPUT_NAME}
    nodes = []
    prev = Ref(INPUT_NAME)
    for i, spec in enumerate(net.layers):
        name = unique_name(spec.display_name(i), taken)
        taken.add(name)
        nodes.append(Node(name, spec.type, dict(spec.args), (prev,), name=name, trainable=spec.trainable))
        prev = Ref(name)
    return Graph(tuple(nodes), (chain_input(net),), name=net.name, dtype=net.dtype)
