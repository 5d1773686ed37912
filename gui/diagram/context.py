"""`DiagramContext`: what the scene's helpers (text, tooltips, colouring, navigation) read from the scene they
serve. A protocol, so that they need not import the scene that composes them (no import circle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # (types only: these modules import nothing of the scene's either)
    from netcost.gui.diagram.blocks import LayerBlockItem
    from netcost.gui.diagram.layout import DiagramLayout
    from netcost.gui.diagram.state import DiagramState
    from netcost.gui.diagram.structure import DiagramStructure
    from netcost.gui.diagram.style import DiagramFonts
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.document.metric_values import Subject


class DiagramContext(Protocol):
    document: CostDocument
    fonts: DiagramFonts
    gen: int  # refreshes so far
    layout: DiagramLayout | None

    @property
    def structure(self) -> DiagramStructure: ...

    @property
    def state(self) -> DiagramState: ...

    @property
    def drawn(self) -> set[str]: ...  # the node ids drawn as blocks (when their scopes are open)

    def value(self, subject: Subject, metric: str | None = None) -> float: ...

    def format_value(self, value: float, metric: str | None = None) -> str: ...

    def metric_title(self, metric: str | None = None) -> str: ...

    def sync_block(self, item: LayerBlockItem, quiet: bool = False) -> LayerBlockItem: ...

    def refresh(self) -> None: ...
