"""Qt (6.11) leaves a stale copy of a dock tab bar behind when a main window forms its second group of tabbed
docks (and again on restoreState): a bar with the group's first tabs that nothing lays out or updates, painted
over the docks below it ("Diagram | Charts" in the middle of the Compare tab). Such a bar is found by what Qt
does not do to it: after a relayout, the bars Qt uses have been placed again; a stale one has not moved."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QMainWindow, QTabBar

_NOWHERE = QRect(-30000, -30000, 1, 1)


def hide_stale_tab_bars(window: QMainWindow) -> int:
    """Hide the dock tab bars the window's layout no longer manages; returns how many."""
    bars = [b for b in window.findChildren(QTabBar) if b.parentWidget() is window and b.isVisible()]
    if not bars:
        return 0
    kept = {id(b): b.geometry() for b in bars}
    for b in bars:
        b.setGeometry(_NOWHERE)
    layout = window.layout()
    layout.invalidate()
    layout.setGeometry(window.rect())  # the main window layout places every tab bar it uses
    stale = 0
    for b in bars:
        if b.geometry() == _NOWHERE:
            b.setGeometry(kept[id(b)])
            b.hide()
            stale += 1
    return stale
