"""`DiagramMinimapWidget`: an overview of the whole diagram in a corner of the view, with the visible area
outlined; click or drag in it to move there. Shown only while the diagram is larger than the view, and not over a
fitted view that it would cover (`hold_hidden`: until the view moves)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGraphicsView, QWidget

from netcost.gui.common.palette import LIGHT

SIZE = 190  # the longer side, in pixels


class DiagramMinimapWidget(QWidget):
    """Renders the scene once per layout change into an image (a static overview: painting it is a blit)."""

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self._image: QImage | None = None
        self._scale = (1.0, 1.0)  # image pixels per scene unit, across and down (a long column: not the same)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self._held: tuple[int, int, float] | None = None  # the view's scroll and zoom it stays hidden at
        self.hide()

    def _view_state(self) -> tuple[int, int, float]:
        v = self.view
        return (v.horizontalScrollBar().value(), v.verticalScrollBar().value(), v.transform().m11())

    def hold_hidden(self) -> None:
        """Hide while the view stays where it is now (a fit it would cover); scrolling or zooming shows it again."""
        self._held = self._view_state()
        self.hide()

    def invalidate(self) -> None:
        self._image = None
        self.sync()

    def sync(self) -> None:
        """Show or hide (the diagram fits the view: no overview needed), place in the corner, repaint."""
        if self._held is not None:
            if self._held == self._view_state():
                self.hide()
                return
            self._held = None
        scene = self.view.scene()
        rect = scene.sceneRect() if scene is not None else QRectF()
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        needed = not rect.isEmpty() and not visible.contains(rect.adjusted(20, 20, -20, -20))
        if not needed:
            self.hide()
            return
        vp = self.view.viewport()
        # at most a quarter of the view each way (a short dock), so it never hides what it overviews
        s = min(SIZE / max(rect.width(), rect.height()), 0.25 * vp.width() / rect.width(),
                0.3 * vp.height() / rect.height())
        w, h = max(24, int(rect.width() * s)), max(24, int(rect.height() * s))
        self.setGeometry(vp.x() + vp.width() - w - 10, vp.y() + vp.height() - h - 10, w, h)
        self._scale = (w / rect.width(), h / rect.height())  # (the 24 px least side stretches that way)
        self.show()
        self.raise_()
        self.update()

    def _render(self) -> QImage:
        """The frames outlined and the boxes filled with their colours, from the scene's layout (`overview`):
        at this size that is all that shows, and it costs a few ms where rendering every item cost 0.6 s at
        5,000 nodes."""
        scene = self.view.scene()
        image = QImage(max(1, self.width()), max(1, self.height()), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(scene.backgroundBrush().color())
        painter = QPainter(image)
        rect = scene.sceneRect()
        if not rect.isEmpty():
            sx, sy = image.width() / rect.width(), image.height() / rect.height()

            def pixels(r: QRectF) -> QRectF:  # at least a pixel each way: a 100k-node column's boxes are 0.01 px
                return QRectF((r.left() - rect.left()) * sx, (r.top() - rect.top()) * sy, max(1.0, r.width() * sx),
                              max(1.0, r.height() * sy))

            # one box per image pixel: what shows at this size, at a cost that does not grow with the graph
            frames, boxes = scene.overview((1 / sx, 1 / sy))  # type: ignore[attr-defined] - a DiagramScene
            painter.setPen(QPen(scene.theme.frame, 0))  # type: ignore[attr-defined]  (cosmetic: 1 px)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for frame in frames:
                painter.drawRect(pixels(frame))
            for box, color in boxes:
                painter.fillRect(pixels(box), color)
        painter.end()
        return image

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._image is None or self._image.size() != self.size():
            self._image = self._render()
        painter = QPainter(self)
        painter.drawImage(0, 0, self._image)
        frame = QColor(self.palette().color(self.foregroundRole()))
        painter.setPen(QPen(frame, 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        scene_rect = self.view.scene().sceneRect()
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect().intersected(scene_rect)
        sx, sy = self._scale
        box = QRectF((visible.left() - scene_rect.left()) * sx, (visible.top() - scene_rect.top()) * sy,
                     max(4.0, visible.width() * sx), max(4.0, visible.height() * sy))  # (findable on a long column)
        painter.setPen(QPen(LIGHT.selection, 2))
        fill = QColor(LIGHT.selection)
        fill.setAlpha(30)
        painter.setBrush(fill)
        painter.drawRect(box)
        painter.end()

    def _move_to(self, pos: QPointF) -> None:
        rect = self.view.scene().sceneRect()
        sx, sy = self._scale
        self.view.centerOn(QPointF(rect.left() + pos.x() / sx, rect.top() + pos.y() / sy))
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._move_to(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._move_to(event.position())
        event.accept()
