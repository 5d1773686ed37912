"""Colours, fonts and sizes of the exported report, in one place (light for print, dark for slides).

Sizes are in *logical pixels* (1/96 inch): the page is composed once in these units and every exporter scales the
painter to its device, so a PNG at 2x, an SVG and a PDF page carry the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont

from netcost.gui.common.cost_colors import Theme

# A sans family that exists almost everywhere, then the platform default (`setFamilies` falls through the list).
_FAMILIES = ["Noto Sans", "DejaVu Sans", "Helvetica Neue", "Helvetica", "Arial", "Segoe UI"]
_MONO = ["Noto Sans Mono", "DejaVu Sans Mono", "Menlo", "Consolas", "Courier New"]


@dataclass(frozen=True)
class ReportTheme:
    dark: bool
    background: QColor
    text: QColor
    muted: QColor  # captions, units, secondary text
    rule: QColor  # table rules and frames
    band: QColor  # alternate table row / header fill
    accent: QColor  # title underline
    better: QColor  # a baseline delta that lowers a cost
    worse: QColor  # a baseline delta that raises a cost

    # Font pixel sizes. Body text is 11 px (8.25 pt): the size of a paper's table text at 100 %.
    title_px: int = 22
    heading_px: int = 13
    body_px: int = 11
    small_px: int = 10

    def font(self, px: int | None = None, bold: bool = False, mono: bool = False) -> QFont:
        f = QFont()
        f.setFamilies(_MONO if mono else _FAMILIES)
        f.setStyleHint(QFont.StyleHint.TypeWriter if mono else QFont.StyleHint.SansSerif)
        f.setPixelSize(px or self.body_px)
        f.setBold(bold)
        # Figures in tables line up only with tabular digits; most sans fonts use them by default.
        f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)  # same metrics on screen, PNG, SVG, PDF
        return f


LIGHT = ReportTheme(
    dark=False,
    background=Theme.of(False).background,  # the diagram's and charts' own page colour: one seamless sheet
    text=QColor("#1b1f24"),
    muted=QColor("#5c6670"),
    rule=QColor("#c9ced4"),
    band=QColor("#f3f5f7"),
    accent=QColor("#2f6fb3"),
    better=QColor("#1a7f37"),
    worse=QColor("#b3261e"),
)

DARK = ReportTheme(
    dark=True,
    background=Theme.of(True).background,
    text=QColor("#e6e9ec"),
    muted=QColor("#9aa4ae"),
    rule=QColor("#3b434c"),
    band=QColor("#2a2c31"),
    accent=QColor("#6aa7e8"),
    better=QColor("#57c26e"),
    worse=QColor("#f07167"),
)


def theme(dark: bool) -> ReportTheme:
    return DARK if dark else LIGHT
