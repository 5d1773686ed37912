"""`out_of_sight`: whether a view can skip work now, and `CatchUpWhenShown`: its refresh when it is seen again.

A dock in a background tab stays `isVisible()` with an empty visible region, so both are checked; the region is
only trusted once the window is exposed (right after `show()` it is empty for a widget that is about to appear)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


def out_of_sight(widget: QWidget) -> bool:
    if not widget.isVisible():
        return True
    handle = widget.window().windowHandle()
    return handle is not None and handle.isExposed() and widget.visibleRegion().isEmpty()


class CatchUpWhenShown(QObject):
    """Runs `refresh` when `widget`, which skipped work while out of sight (`stale()` says so), is shown, or painted
    again: a dock tab raised from the background sends no showEvent, only a paint, and the refresh then runs right
    after that paint."""

    def __init__(self, widget: QWidget, stale: Callable[[], bool], refresh: Callable[[], None]) -> None:
        super().__init__(widget)
        self._stale, self._refresh = stale, refresh
        self._after_paint = QTimer(self)
        self._after_paint.setSingleShot(True)
        self._after_paint.setInterval(0)
        self._after_paint.timeout.connect(self._catch_up)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show:
            self._catch_up()
        elif kind == QEvent.Type.Paint and not self._after_paint.isActive() and self._stale():
            self._after_paint.start()
        return False

    def _catch_up(self) -> None:
        if self._stale():
            self._refresh()
