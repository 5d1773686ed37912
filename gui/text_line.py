"""`TextLineWidget`: one line of text that changes often (status figures, the edited layer's shape and params).

A QLabel asks its layout for a new size on every new text; up the chain of docks that makes the main window lay
itself out again and repaint most of its area after each edit (measured: ~500,000 px per edit at 1280x800). This
widget's size does not follow its text: a new text repaints the widget alone, elided if it does not fit (the full
text is then its tooltip, unless a tooltip was set).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class TextLineWidget(QWidget):
    def __init__(self, parent: QWidget | None = None, min_chars: int = 20,
                 alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        super().__init__(parent)
        self._text = ""
        self._alignment = alignment | Qt.AlignmentFlag.AlignVCenter
        self._min_chars = min_chars
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, so callers need not change
        if text != self._text:
            self._text = text
            self.update()

    def clear(self) -> None:
        self.setText("")

    def set_min_chars(self, chars: int) -> None:
        """Room for `chars` digits from now on (a relayout only when it changes)."""
        if chars != self._min_chars:
            self._min_chars = chars
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("0") * self._min_chars, fm.height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(self._alignment), shown)
        painter.end()
