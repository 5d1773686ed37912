"""NetCost's counting engine: pure Python (no Qt, no torch), shared by every view, export and the CLI."""

from .conventions import CONVENTIONS, Convention, convention_value
from .errors import FormatError, LayerError, SpecError
from .evaluate import cost_layer, evaluate, make_report, sum_layers
from .records import PEERS, CostReport, HierarchyNode, LayerCost, SummaryFigures, Totals
from .registry import CATEGORIES, LayerKind, has_kind, kind, kinds
from .spec import LayerSpec, Network

__all__ = [
    "CATEGORIES", "CONVENTIONS", "PEERS", "Convention", "CostReport", "FormatError", "HierarchyNode", "LayerCost",
    "LayerError", "LayerKind", "LayerSpec", "Network", "SpecError", "SummaryFigures", "Totals", "convention_value",
    "cost_layer", "evaluate", "has_kind", "kind", "kinds", "make_report", "sum_layers",
]
