"""`TextLineWidget`: one line of text that changes often (status figures, the edited layer's shape and params).

A QLabel asks its layout for a new size on every new text; up the chain of docks that makes the main window lay
itself out again and repaint most of its area after each edit (measured: ~500,000 px per edit at 1280x800). This
widget's size does not follow its text: a new text repaints the widget alone, elided if it does not fit (the full
text is then its tooltip, unless a tooltip was set).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent, QStaticText
from PySide6.QtWidgets import QSizePolicy, QWidget

from netcost.gui.common.plain_text import plain_tip


class TextLineWidget(QWidget):
    def __init__(self, parent: QWidget | None = None, min_chars: int = 20,
                 alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft) -> None:
        super().__init__(parent)
        self._text = ""
        self._layout: tuple[QPointF, QStaticText] | None = None  # where and what `paintEvent` draws
        self._auto_tip = False  # the tooltip is the text, set because it was cut
        self._alignment = alignment | Qt.AlignmentFlag.AlignVCenter
        self._min_chars = min_chars
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, so callers need not change
        if text != self._text:
            self._text = text
            self._layout = None
            self.update()

    def clear(self) -> None:
        self.setText("")

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("0") * self._min_chars, fm.height() + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height() + 4)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout = None
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._layout = None
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        # laid out once per text, width and font (QStaticText): drawText would lay the text out on every paint,
        # twice a QLabel's paint; this is faster than a QLabel's
        if self._layout is None:
            shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width())
            if self._auto_tip or not self.toolTip():  # cut: the whole text is the tooltip (unless one was set)
                self._auto_tip = shown != self._text
                tip = plain_tip(self._text) if self._auto_tip else ""
                if tip != self.toolTip():  # (setting it, even unchanged, sends an event: not on every edit)
                    self.setToolTip(tip)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=self.font())
            size = static.size()
            h = self._alignment & Qt.AlignmentFlag.AlignHorizontal_Mask
            x = self.width() - size.width() if h == Qt.AlignmentFlag.AlignRight else \
                (self.width() - size.width()) / 2 if h == Qt.AlignmentFlag.AlignHCenter else 0.0
            self._layout = (QPointF(x, (self.height() - size.height()) / 2), static)
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawStaticText(*self._layout)
        painter.end()
