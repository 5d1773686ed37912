"""`out_of_sight`: whether a view can skip work now and catch up when it is shown.

A dock in a background tab stays `isVisible()` with an empty visible region, so both are checked; the region is
only trusted once the window is exposed (right after `show()` it is empty for a widget that is about to appear)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def out_of_sight(widget: QWidget) -> bool:
    if not widget.isVisible():
        return True
    handle = widget.window().windowHandle()
    return handle is not None and handle.isExposed() and widget.visibleRegion().isEmpty()
