"""NetCost's counting engine: pure Python (no Qt, no torch), shared by every view, export and the CLI.

Every model is a `Graph` (a layer list is the chain graph it is: `graph_from_network`); `evaluate` (or
`evaluate_graph`) costs it, incrementally from an earlier report after an edit."""

from .chain import graph_from_network, network_of
from .conventions import CONVENTIONS, Convention, convention_value
from .errors import FormatError, LayerError, SpecError
from .graph import Graph, GraphError, GraphInput, Node, Ref
from .graph_eval import evaluate, evaluate_graph, make_report, sum_layers
from .node_cost import cost_layer, cost_node
from .records import PEERS, CostReport, HierarchyNode, LayerCost, Problem, SummaryFigures, Totals
from .registry import CATEGORIES, LayerKind, has_kind, kind, kinds
from .spec import LayerSpec, Network

__all__ = [
    "CATEGORIES", "CONVENTIONS", "PEERS", "Convention", "CostReport", "FormatError", "Graph", "GraphError",
    "GraphInput", "HierarchyNode", "LayerCost", "LayerError", "LayerKind", "LayerSpec", "Network", "Node", "Problem",
    "Ref", "SpecError", "SummaryFigures", "Totals", "convention_value", "cost_layer", "cost_node", "evaluate",
    "evaluate_graph", "graph_from_network", "has_kind", "kind", "kinds", "make_report", "network_of", "sum_layers",
]
