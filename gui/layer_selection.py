"""The one selection shared by every view (table, diagram, charts): rows of the document's layer list."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class LayerSelection(QObject):
    """Selected rows plus the current row. Views set it and listen; `source` lets a view ignore its own echo."""

    changed = Signal(list, object)  # (sorted rows, source object that made the change or None)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[int] = []

    @property
    def rows(self) -> list[int]:
        return list(self._rows)

    @property
    def current(self) -> int | None:
        return self._rows[0] if self._rows else None

    def set_rows(self, rows: list[int] | tuple[int, ...], source: object = None) -> None:
        new = sorted(set(rows))
        if new != self._rows:
            self._rows = new
            self.changed.emit(list(new), source)

    def clear(self, source: object = None) -> None:
        self.set_rows([], source)
