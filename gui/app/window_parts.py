"""The main window's small widgets: the message bar above the table, the Totals dock's scroll area and the
status bar's load indicator."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStyle,
    QToolButton,
    QWidget,
)

from netcost.gui.common.palette import LIGHT
from netcost.gui.common.plain_text import screen_text
from netcost.gui.document.model_loader import ModelLoader


class MessageBar(QFrame):
    """A non-modal, dismissable message line above the table (load failures, save errors, notes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        self.icon = QLabel(self)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # a message quotes user strings: never render them as HTML
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton(self)  # an optional way out offered with the message (e.g. trust a pickle)
        self.action.hide()
        self._on_action: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        close = QToolButton(self)
        close.setAutoRaise(True)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.icon)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.action)
        lay.addWidget(close)
        self.kind = ""
        self.hide()

    def set_action(self, label: str, callback: Callable[[], None]) -> None:
        """Offer one button with the message now shown (cleared by the next message)."""
        self._on_action = callback
        self.action.setText(label)
        self.action.show()

    def _run_action(self) -> None:
        callback, self._on_action = self._on_action, None
        self.action.hide()
        if callback is not None:
            callback()

    def show_message(self, text: str, kind: str = "error") -> None:
        self._on_action = None
        self.action.hide()
        self.kind = kind
        pixmap = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
                  "warning": QStyle.StandardPixmap.SP_MessageBoxWarning}.get(
            kind, QStyle.StandardPixmap.SP_MessageBoxInformation)
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(18, 18))
        self.text.setText(screen_text(text))
        self.update()
        self.show()

    def tint(self) -> QColor:
        """The background: the kind's hue over the palette's window colour (light and dark schemes alike; a style
        sheet here froze the labels' palette, leaving light-grey text on pink after a switch to the light one)."""
        hue, alpha = {"error": (LIGHT.error_mark, 0.18), "warning": (LIGHT.warning_mark, 0.22)}.get(
            self.kind, (LIGHT.info_mark, 0.16))
        base = self.palette().color(QPalette.ColorRole.Window)
        return QColor(*(round(b + (h - b) * alpha) for b, h in ((base.red(), hue.red()),
                                                                 (base.green(), hue.green()),
                                                                 (base.blue(), hue.blue()))))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.tint())
        painter.drawRoundedRect(self.rect(), 4, 4)
        painter.end()


class FitWidthScrollArea(QScrollArea):
    """Scrolls vertically only, and is never narrower than its widget needs (plus the scroll bar): the Totals
    panel's delta column was cut off when a pinned baseline widened it and a scroll bar took its room."""

    def setWidget(self, widget: QWidget) -> None:  # type: ignore[override]
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._needed = widget.minimumSizeHint().width()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            needed = watched.minimumSizeHint().width()  # type: ignore[attr-defined]
            if needed != self._needed:  # the content's minimum width changed: the dock follows (only then: a
                self._needed = needed  # relayout of the docks and the main window on every edit cost ~1 ms)
                self.updateGeometry()
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        widget = self.widget()
        if widget is None:
            return hint
        bar = self.verticalScrollBar().sizeHint().width()
        frame = 2 * self.frameWidth()
        return QSize(max(hint.width(), widget.minimumSizeHint().width() + bar + frame), hint.height())


class LoadIndicator(QWidget):
    """Status-bar part of a background load: what is loading, for how long, and Cancel."""

    def __init__(self, loader: ModelLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy: the worker does not report fractions
        self.bar.setMaximumWidth(110)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.clicked.connect(loader.cancel)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel)
        self.ticker = QTimer(self)
        self.ticker.setInterval(500)
        self.ticker.timeout.connect(self._update)
        self.file_busy = False  # a file opening on a thread shows its progress here (show_file_progress)
        loader.busyChanged.connect(self._on_loader_busy_changed)
        self.hide()

    def _on_loader_busy_changed(self, busy: bool) -> None:
        if self.file_busy:  # a file being opened keeps its progress on show
            return
        self.setVisible(busy)
        self.bar.setRange(0, 0)
        if busy:
            self.ticker.start()
            self._update()
        else:
            self.ticker.stop()

    def _update(self) -> None:
        self.label.setText(f"Loading {self.loader.reference} … {self.loader.elapsed():.0f} s")

    def show_file_progress(self, name: str, stage: str, percent: int) -> None:
        """A file opening on a thread (gui/app/graph_file_job.py): its step and how far the whole open is."""
        self.file_busy = True
        self.ticker.stop()
        self.bar.setRange(0, 100)
        self.bar.setValue(percent)
        self.label.setText(f"Opening {name} … {stage} {percent} %")
        self.show()

    def file_done(self) -> None:
        self.file_busy = False
        self.bar.setRange(0, 0)
        self.setVisible(self.loader.busy)
        if self.loader.busy:
            self.ticker.start()
            self._update()

