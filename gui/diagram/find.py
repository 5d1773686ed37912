"""`DiagramFindWidget`: Ctrl+F in the diagram — find a layer by name or type, step through the matches with
Enter / Shift+Enter (or the arrows); each match is selected, its scopes expanded and the view centred on it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget


class _FindEdit(QLineEdit):
    stepped = Signal(int)
    closed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.stepped.emit(-1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
        elif event.key() == Qt.Key.Key_Escape:
            self.closed.emit()
        else:
            super().keyPressEvent(event)


class DiagramFindWidget(QWidget):
    """`find(text) -> rows` gives the matches; `go(row)` shows one."""

    def __init__(self, find: Callable[[str], list[int]], go: Callable[[int], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._find, self._go = find, go
        self.matches: list[int] = []
        self.current = -1
        self.edit = _FindEdit(self)
        self.edit.setPlaceholderText("Find a layer by name or type…")
        self.edit.setClearButtonEnabled(True)
        self.count = QLabel("", self)
        self.count.setMinimumWidth(70)
        prev = QToolButton(self)
        prev.setText("▲")
        prev.setToolTip("Previous match (Shift+Enter)")
        nxt = QToolButton(self)
        nxt.setText("▼")
        nxt.setToolTip("Next match (Enter)")
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Close (Esc)")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.addWidget(QLabel("Find:", self))
        row.addWidget(self.edit, 1)
        row.addWidget(self.count)
        row.addWidget(prev)
        row.addWidget(nxt)
        row.addWidget(close)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.stepped.connect(self.step)
        self.edit.closed.connect(self.hide)
        prev.clicked.connect(lambda: self.step(-1))
        nxt.clicked.connect(lambda: self.step(1))
        close.clicked.connect(self.hide)
        self.hide()

    def open(self) -> None:
        self.show()
        self.edit.setFocus()
        self.edit.selectAll()

    def _on_edit_text_changed(self, text: str) -> None:
        self.matches = self._find(text)
        self.current = -1
        if self.matches:
            self.step(1)
        else:
            self.count.setText("no match" if text.strip() else "")

    def step(self, direction: int) -> None:
        if not self.matches:
            return
        self.current = (self.current + direction) % len(self.matches)
        self.count.setText(f"{self.current + 1} / {len(self.matches)}")
        self._go(self.matches[self.current])
