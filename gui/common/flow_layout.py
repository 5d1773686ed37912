"""`FlowLayout`: a row of controls that wraps onto further lines when its widget is narrower than the row.

The control rows above the views (Diagram, Latency, Compare, Sweep) were plain `QHBoxLayout`s, whose minimum width
is the sum of every control's: the Sweep row alone asked 896 px, and with the right-hand docks the main window could
not be narrower than 1,367 px, wider than a 1280 × 800 laptop screen. A flow layout's minimum width is its widest
single control; its height follows its width (`heightForWidth`), so a narrow dock shows the row on two lines.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidget, QWidgetItem


class FlowLayout(QLayout):
    """Items left to right, wrapping at the right edge; lines as tall as their tallest item, items centred in
    them. `addStretch()` marks where the rest of a line is pushed to the right (as in a `QHBoxLayout`)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._push_right: set[int] = set()  # indices of items that start the right-aligned part of their line
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    # ---- QHBoxLayout's vocabulary, so a row converts with one changed line ---------------------------------
    def addWidget(self, widget: QWidget, stretch: int = 0) -> None:  # noqa: N802 - Qt's name
        del stretch  # every item keeps its size hint: a flow has no spare width to share
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def addSpacing(self, size: int) -> None:  # noqa: N802 - Qt's name
        self.addItem(QSpacerItem(size, 0, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum))

    def addStretch(self, stretch: int = 1) -> None:  # noqa: N802 - Qt's name
        del stretch
        self._push_right.add(len(self._items))

    # ---- QLayout -------------------------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt's name
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        if not 0 <= index < len(self._items):
            return None
        self._push_right = {i - (i > index) for i in self._push_right}
        return self._items.pop(index)

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt's name
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """All on one line."""
        m = self.contentsMargins()
        shown = self._shown()
        width = sum(i.sizeHint().width() for i in shown) + self.spacing() * max(0, len(shown) - 1)
        height = max((i.sizeHint().height() for i in shown), default=0)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt's name
        """One item a line: as wide as the widest item (its height is `heightForWidth`'s business)."""
        m = self.contentsMargins()
        shown = self._shown()
        width = max((i.minimumSize().width() for i in shown), default=0)
        height = max((i.sizeHint().height() for i in shown), default=0)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt's name
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    # ---- placing ---------------------------------------------------------------------------------------------
    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty() or isinstance(i, QSpacerItem)]

    def _lines(self, width: int) -> list[list[tuple[int, QLayoutItem, QSize]]]:
        lines: list[list[tuple[int, QLayoutItem, QSize]]] = [[]]
        used = 0
        for index, item in enumerate(self._items):
            if item.isEmpty() and not isinstance(item, QSpacerItem):
                continue
            size = item.sizeHint().boundedTo(QSize(width, 1 << 20)).expandedTo(item.minimumSize())
            extra = size.width() + (self.spacing() if lines[-1] else 0)
            if lines[-1] and used + extra > width:
                while lines[-1] and isinstance(lines[-1][-1][1], QSpacerItem):
                    lines[-1].pop()  # a spacing at the end of a line only wastes room
                lines.append([])
                used, extra = 0, size.width()
                if isinstance(item, QSpacerItem):
                    continue  # nor one at the start of the next
            lines[-1].append((index, item, size))
            used += extra
        return [line for line in lines if line]

    def _arrange(self, rect: QRect, move: bool) -> int:
        m: QMargins = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        y = area.y()
        for line in self._lines(max(1, area.width())):
            height = max(size.height() for _, _, size in line)
            if move:
                first, last = line[0][0], line[-1][0]
                pushes = [p for p in self._push_right if first < p <= last]
                split = next((k for k, (index, _, _) in enumerate(line) if pushes and index >= min(pushes)),
                             len(line))
                right = line[split:]
                x = area.x()
                for _, item, size in line[:split]:
                    item.setGeometry(QRect(QPoint(x, y + (height - size.height()) // 2), size))
                    x += size.width() + self.spacing()
                x = area.right() + 1 - sum(s.width() for _, _, s in right) - self.spacing() * max(0, len(right) - 1)
                for _, item, size in right:
                    item.setGeometry(QRect(QPoint(x, y + (height - size.height()) // 2), size))
                    x += size.width() + self.spacing()
            y += height + self.spacing()
        return y - self.spacing() - area.y() + m.top() + m.bottom() if y > area.y() else m.top() + m.bottom()
