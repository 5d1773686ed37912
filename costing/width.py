"""Channel dependency groups (Torch-Pruning's DepGraph idea) and width scaling of a scope."""

from __future__ import annotations

from .graph import Graph
from .records import CostReport


def scalable_scopes(graph: Graph, report: CostReport) -> list[str]:
    return []


def scale_width(graph: Graph, report: CostReport, scope: str, factor: float) -> tuple[Graph, set[str]]:
    raise ValueError("width scaling is not implemented yet")
