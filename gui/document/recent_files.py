"""`RecentFiles`: the Open Recent list (paths and model references), persisted in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

KEY = "recentFiles"
MAX_ENTRIES = 10


class RecentFiles(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None, key: str = KEY, limit: int = MAX_ENTRIES) -> None:
        super().__init__(parent)
        self.key, self.limit = key, limit

    def entries(self) -> list[str]:
        value = QSettings().value(self.key, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list in INI files
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add(self, ref: str) -> None:
        items = [ref] + [e for e in self.entries() if e != ref]
        self._store(items[:self.limit])

    def remove(self, ref: str) -> None:
        self._store([e for e in self.entries() if e != ref])

    def clear(self) -> None:
        self._store([])

    def _store(self, items: list[str]) -> None:
        QSettings().setValue(self.key, items)
        self.changed.emit()
