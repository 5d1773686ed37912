"""What the diagram's items are drawn with: box sizes in scene units, the fonts, the badge colours, and
`DiagramStyle` (the palette and fonts every item is handed by the scene)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont

from netcost.gui.common.cost_colors import Theme
from netcost.gui.common.palette import LIGHT
from netcost.gui.diagram.layout import Sizes

BLOCK_W = 240.0
BLOCK_H = 72.0
INPUT_W, INPUT_H = 170.0, 30.0
MIN_WIDTH_FRACTION = 0.5  # narrowest block when width encodes a metric: text must still fit
HEADER_H = 30.0  # tall enough for a header that stays legible zoomed out (see GroupFrameItem.paint)
CONT_H = 18.0  # the small "name (cont.)" header of a frame continued at the top of the next column
PAD = 12.0
ENTRY_GAP = 20.0  # above the first block of a continued column: the arrow from the previous column turns in
ENTRY_RUN = 12.0  # ... this far above the block (below every header of the column)
LESS, MORE = "less", "more"  # a change against the pinned baseline (NEW: costing.comparison.NEW)
BADGE_COLORS = {LESS: LIGHT.less, MORE: LIGHT.more, "new": LIGHT.added}
SIZES = Sizes(block=(BLOCK_W, BLOCK_H), scope=(BLOCK_W, BLOCK_H), input=(INPUT_W, INPUT_H), header=HEADER_H,
              pad=PAD, cont=CONT_H, entry_gap=ENTRY_GAP)  # what the layout places, in scene units


class DiagramFonts:
    """Scene-unit pixel fonts (independent of screen DPI so that exports and the view agree)."""

    def __init__(self) -> None:
        self.title = QFont()
        self.title.setPixelSize(13)
        self.title.setBold(True)
        self.small = QFont()
        self.small.setPixelSize(11)
        self.value = QFont()
        self.value.setPixelSize(12)
        self.value.setBold(True)
        self.big = QFont()
        self.big.setPixelSize(22)
        self.big.setBold(True)
        self.huge = QFont()
        self.huge.setPixelSize(34)
        self.huge.setBold(True)
        self.header = QFont()
        self.header.setPixelSize(12)
        self.header.setBold(True)
        self.cont = QFont()
        self.cont.setPixelSize(10)
        self.cont.setItalic(True)


@dataclass(frozen=True)
class DiagramStyle:
    """The palette and fonts items paint with (a new one when the colour scheme switches)."""

    theme: Theme
    fonts: DiagramFonts
