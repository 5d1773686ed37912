"""NetCost's status colours, in one place: a cost that went down or up against the pinned baseline, a new layer,
an unchanged or withheld figure, errors, warnings and news, and the selection's outline.

`LIGHT` and `DARK` are the two sets; `colors()` picks the one for the palette in use (View ▸ Colour scheme). A view
that repaints when the palette changes (the Totals panel) asks `colors()` each time; the others draw with
`LIGHT`, whose reds, greens and blues read on both grounds. The views' neutral colours and the cost scales are
`gui/common/cost_colors.py`'s (its `Theme` takes the selection colour from here); the printed report keeps a theme
of its own (`gui/report/theme.py`), drawn for paper.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class StatusColors:
    less: QColor  # a cost went down (every figure NetCost shows is a cost: lower is better)
    more: QColor  # a cost went up; also the error red
    added: QColor  # a layer new since the baseline
    same: QColor  # unchanged, withheld or not costed: neutral grey
    warning: QColor  # a caution (a model file runs code when opened)
    error_fill: QColor  # the background of a row in error (translucent)
    error_mark: QColor  # the dot beside an error and the message bar's tint
    warning_mark: QColor  # the message bar's tint for a warning
    info_mark: QColor  # the message bar's tint for news
    selection: QColor  # the outline of selected blocks, bars and points, and the minimap's view box

    @property
    def error(self) -> QColor:
        return self.more


LIGHT = StatusColors(less=QColor("#2e7d32"), more=QColor("#d32f2f"), added=QColor("#1565c0"),
                     same=QColor(128, 128, 128), warning=QColor("#b26a00"), error_fill=QColor(230, 40, 40, 50),
                     error_mark=QColor(220, 40, 40), warning_mark=QColor(230, 160, 0),
                     info_mark=QColor(40, 120, 220), selection=QColor(220, 40, 20))
DARK = StatusColors(less=QColor("#81c784"), more=QColor("#ef7070"), added=QColor("#64b5f6"),
                    same=QColor(128, 128, 128), warning=QColor("#ffb74d"), error_fill=QColor(230, 40, 40, 50),
                    error_mark=QColor(220, 40, 40), warning_mark=QColor(230, 160, 0),
                    info_mark=QColor(40, 120, 220), selection=QColor(255, 90, 60))
# the Compare chart's bars (areas, a shade softer than the text colours above)
CHART_LESS, CHART_MORE, CHART_SAME = QColor("#2e9d4a"), QColor("#d84a3a"), QColor(120, 144, 176)


def palette_is_dark(palette: QPalette | None = None) -> bool:
    """Whether `palette` (the application's when None) has a dark window colour."""
    pal = palette or QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def colors(palette: QPalette | None = None) -> StatusColors:
    """The set for `palette` (the application's when None): `DARK` on a dark window colour."""
    return DARK if palette_is_dark(palette) else LIGHT


def label_style(color: QColor, bold: bool = False, selector: str = "QLabel") -> str:
    """A style sheet that colours a label's text (`selector` narrows it, e.g. "QLabel#incomplete")."""
    weight = " font-weight: 600;" if bold else ""
    return f"{selector} {{ color: {color.name()};{weight} }}"


def error_label_style(bold: bool = False, selector: str = "QLabel") -> str:
    """An error message's label: the palette's one red."""
    return label_style(LIGHT.error, bold, selector)
