"""What a report export may vary: metric, palette, page size and the logical width of a one-page image."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSizeF

from netcost.gui.diagram.layout import Orientation

METRICS = ("flops", "params")
# Page sizes in logical pixels (1/96 inch): A4 is 210 x 297 mm, Letter 8.5 x 11 in.
PAGE_SIZES: dict[str, QSizeF] = {"a4": QSizeF(210 / 25.4 * 96, 297 / 25.4 * 96), "letter": QSizeF(816, 1056)}


@dataclass(frozen=True)
class ReportOptions:
    metric: str = "flops"  # what the diagram is coloured by and which top-10 table comes first
    dark: bool = False
    page: str = "a4"  # PDF page size
    image_width: float = 1040.0  # logical width of the single-page PNG/SVG report (slide-friendly, ~10.8 in)
    top_n: int = 10
    # Fold the diagram's containers at this hierarchy depth (as `netcost summary --depth`: 1 folds ResNet's
    # stages, 2 their blocks); None: automatic (long traced models fold their repeated blocks, then the diagram
    # continues over further pages of a PDF).
    depth: int | None = None
    # Draw the window's current selection (outlines, bands, rings) into the figures; off: a report shows the model
    include_selection: bool = False
    # The diagram's flow, as the window's diagram shows it (View ▸ Flow)
    orientation: Orientation = Orientation.TOP_DOWN

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r} (choose {' or '.join(METRICS)})")
        if self.depth is not None and self.depth < 0:
            raise ValueError(f"the hierarchy depth must be 0 or more (not {self.depth})")
        if self.page not in PAGE_SIZES:
            raise ValueError(f"unknown page size {self.page!r} (choose {' or '.join(PAGE_SIZES)})")

    @property
    def page_size(self) -> QSizeF:
        return PAGE_SIZES[self.page]
