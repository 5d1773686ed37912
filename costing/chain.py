"""A layer list (`Network`) as the graph it is: a chain, each node reading the previous one's output."""

from __future__ import annotations

from .graph import Graph, GraphInput, Node, Ref, unique_name
from .name_scopes import with_name_scopes, without_name_scopes
from .registry import has_kind, kind
from .spec import LayerSpec, Network

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
    # dotted names (`features.0`) give the chain module scopes, as a traced model has (costing.name_scopes)
    return with_name_scopes(Graph(tuple(nodes), (chain_input(net),), name=net.name, dtype=net.dtype))


def network_of(g: Graph) -> Network | None:
    """The layer list `g` is, when a layer list holds all of it: one input, a chain of torch.nn layers, and nothing
    a layer list has no field for (weight ties, measured or repeated-module nodes, labels, scopes, a source, an
    output other than the last node, an input dtype other than the layer list's). None otherwise: saving `g` as a
    layer list would lose that. Scopes derived from the names are no loss: reading the list derives them again."""
    g = without_name_scopes(g)
    if len(g.inputs) != 1 or g.scopes or g.source:
        return None
    prev = Ref(g.inputs[0].name)
    specs = []
    for i, n in enumerate(g.nodes):
        if (n.inputs != (prev,) or n.opaque or not has_kind(n.op) or kind(n.op).functional or n.module or n.shares
                or n.label or n.scope):
            return None
        auto = n.display_name == f"{n.op}-{i}"  # the name an unnamed layer shows at this row: not written
        specs.append(LayerSpec(n.op, dict(n.args), "" if auto else n.display_name, n.trainable))
        prev = Ref(n.id)
    if g.outputs not in ((), (prev,)):
        return None
    gi = g.inputs[0]
    try:
        net = Network(tuple(specs), gi.shape[1:], g.name, gi.shape[0], g.dtype)
    except ValueError:
        return None
    return net if chain_input(net).dtype == gi.dtype else None
