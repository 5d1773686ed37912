"""`DiagramState`: how the diagram is viewed — colour metric, colour scale, width encoding, flow direction and
which scopes are open — as one immutable value apart from the scene (Qt-free; the scene checks the names). The
window's view and every export (image, report page) build their scene from one (`scene_for`), so an export shows
what the view shows."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from netcost.gui.diagram.layout import Orientation


@dataclass(frozen=True)
class DiagramState:
    """`expanded`: the scopes shown open (None: as a model opens, by its size). `width_metric`: the metric block
    widths encode (None: uniform)."""

    metric: str = "flops"
    scale_mode: str = "linear"
    width_metric: str | None = "params"
    orientation: Orientation = Orientation.TOP_DOWN
    expanded: frozenset[str] | None = None

    @property
    def log_scale(self) -> bool:
        return self.scale_mode == "log"

    def with_expanded(self, paths: Collection[str] | None) -> DiagramState:
        return replace(self, expanded=None if paths is None else frozenset(paths))

    def changed(self, **fields: object) -> DiagramState:
        return replace(self, **fields)  # type: ignore[arg-type]

    @classmethod
    def of(cls, metric: str = "flops", width_metric: str | None = "params", log_scale: bool | None = None,
           scale_mode: str | None = None, orientation: Orientation = Orientation.TOP_DOWN,
           expanded: Collection[str] | None = None) -> DiagramState:
        """From an export's options (`log_scale` is the older spelling of `scale_mode`)."""
        mode = scale_mode or ("log" if log_scale else "linear")
        return cls(metric, mode, width_metric, orientation, None if expanded is None else frozenset(expanded))
