"""Graphics items of the block diagram: one `LayerBlockItem` per drawn node, one `GroupFrameItem` per module
scope (a frame when expanded, one block when collapsed), an `InputItem` per graph input, and the baseline's removed
rows as ghosts (`RemovedRowsItem`). The edges are `edges.EdgesItem`s.

Items are told what to draw and never reach for their scene: the scene hands each block its `LayerCost`, colour
and width (`set_state`), its label text when it is about to be painted legibly (`BlockText`, a small immutable
record), and every item its `DiagramStyle` (palette and fonts). `paint` lays the text out lazily (only exposed
items are painted, so an edit is O(rows) attribute sets).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from netcost.costing import HierarchyNode, LayerCost
from netcost.gui.common.cost_colors import Theme, text_color_on
from netcost.gui.diagram.keys import BoxKey, InputKey, ScopeKey
from netcost.gui.diagram.names import fit_title, short_name
from netcost.gui.diagram.painting import (
    FAST_PX,
    Plan,
    draw_badge,
    draw_body,
    draw_lines,
    draw_plan,
    fit_header,
    frame_fill,
    line_plan,
    lod_lines,
    lod_of,
)
from netcost.gui.diagram.style import (
    BADGE_COLORS,
    BLOCK_H,
    BLOCK_W,
    CONT_H,
    HEADER_H,
    INPUT_H,
    INPUT_W,
    LESS,
    DiagramStyle,
)
from netcost.gui.diagram.training_marks import ScopeMark, draw_mark, mark_width

_NO_PEN = QPen(Qt.PenStyle.NoPen)
TEXT_LOD = 7 / 34  # zoomed out below this, no label is legible: blocks are drawn without text

Lines = tuple[tuple[str, QFont], ...]


@dataclass(frozen=True)
class BlockText:
    """What a block's label shows: its lines at full detail, and its name as it shrinks zoomed out (in the big and
    the huge font, shortened alike across its group). `key`: what it was made from (the scene makes a new one
    when that changes)."""

    key: tuple
    lines: Lines
    big: str = ""
    huge: str = ""


@dataclass(frozen=True)
class GroupText:
    """What a container's label shows: its lines (a frame's header, or a collapsed block's label), and its name
    relative to the frame around it (zoomed out)."""

    key: tuple
    lines: Lines
    name: str


class _CostItem(QGraphicsRectItem):
    """What a layer block and a container frame share: colour, width encoding, selection and label read-out.
    The bounds are the rect item's rect (its C++ boundingRect: Qt asks for it several times per item and paint,
    and a Python override costs a call into Python each time: thousands of blocks per paint); it draws itself."""

    def __init__(self, bounds: QRectF, style: DiagramStyle) -> None:
        super().__init__(bounds)
        self.setPen(_NO_PEN)  # (the rect item's bounds grow by half its pen's width otherwise)
        self.style = style
        self.color = QColor(150, 150, 150)
        self.width_fraction = 1.0
        self.selected = False
        self.text: BlockText | GroupText | None = None
        self.mark = ScopeMark.NONE  # in a frozen / checkpointed scope (training_marks)
        # no item cache: a recolour repaints the item anyway (a cached pixmap would be redrawn and then copied),
        # and thousands of small pixmaps cost more than they save zoomed out

    def set_selected(self, selected: bool) -> None:
        if selected != self.selected:
            self.selected = selected
            self.update()

    def label_lines(self) -> list[tuple[str, QFont]]:
        """The label lines at full detail, with their fonts, as the scene last gave them."""
        return list(self.text.lines) if self.text is not None else []

    def text_lines(self) -> list[str]:
        """The label lines at full detail (also what tests and exports read)."""
        return [t for t, _ in self.label_lines()]


class LayerBlockItem(_CostItem):
    """One layer: a rounded block coloured by the scene's metric; width may encode a second metric."""

    def __init__(self, layer_id: str, row: int, style: DiagramStyle) -> None:
        super().__init__(self._BOUNDS, style)
        self.layer_id = layer_id
        self.row = row
        self.cost: LayerCost | None = None
        self.fallback = ""  # "Type" shown before the first valid costs exist
        self.stale = False  # the row's latest edit is invalid: the block shows its last valid costs
        self.share = ""  # the share of the total the label shows (a repaint only when this or the rest changes)
        self.badge: tuple[str, str] = ("", "")  # (text, kind): '−72 %' less, '+3.1 M' more, 'new'
        self.gen = -1  # the scene's refresh this block shows
        self._plan_key: tuple = ()
        self._plan: Plan = []
        self.setAcceptHoverEvents(False)  # tooltips come from the view (lazily built, never stale)

    # geometry: the slot is fixed; the painted block is centred in it
    _BOUNDS = QRectF(-3, -10, BLOCK_W + 6, BLOCK_H + 13)  # (the delta badge sits across the top edge)

    def block_rect(self) -> QRectF:
        w = BLOCK_W * self.width_fraction
        return QRectF((BLOCK_W - w) / 2, 0, w, BLOCK_H)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.block_rect())
        return path

    def set_state(self, cost: LayerCost | None, color: QColor, width_fraction: float, stale: bool,
                  share: str = "", quiet: bool = False, badge: tuple[str, str] = ("", "")) -> bool:
        """Recolour/relabel in place (the scene calls this on every report; identity is kept). Repaints only when
        something it shows changed (not when `quiet`: it is about to be painted); True then. `badge`: (text, kind)
        of its change against a pinned baseline."""
        if (cost is self.cost and color == self.color and width_fraction == self.width_fraction
                and stale == self.stale and share == self.share and badge == self.badge):
            return False
        self.cost, self.color, self.width_fraction, self.stale, self.share = cost, color, width_fraction, stale, share
        self.badge = badge
        if not quiet:
            self.update()
        return True

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect = self.block_rect()
        theme = self.style.theme
        lod = lod_of(painter)
        if lod * BLOCK_H < FAST_PX:  # zoomed out: the colour is all that shows (no antialiasing, no text)
            painter.fillRect(rect, theme.selection if self.selected else self.color)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.selected:
            pen = QPen(theme.selection, 5)
        elif self.stale:
            pen = QPen(theme.selection, 2, Qt.PenStyle.DashLine)
        else:
            pen = QPen(self.color.darker(135), 1)
        draw_body(painter, rect, self.color, pen, lod)
        text = self.text
        if lod < TEXT_LOD or text is None:  # zoomed out past any legible text: the colour is all
            return
        # the laid-out labels are kept until what they show or the zoom changes (a recolour keeps them)
        key = (text, text_color_on(self.color).rgba(), rect.width(), round(lod, 4))
        if key != self._plan_key:
            self._plan_key, self._plan = key, self._label_plan(text, rect, lod)  # type: ignore[arg-type]
        draw_plan(painter, self._plan)
        if self.badge[0]:
            draw_badge(painter, rect, *self.badge, lod)
        if self.mark:
            draw_mark(painter, QPointF(rect.left() + 6, rect.bottom()), self.mark, lod)

    def _label_plan(self, text: BlockText, rect: QRectF, lod: float) -> Plan:
        lines = list(text.lines)
        if not lines:
            return []
        fonts = self.style.fonts
        ink = text_color_on(self.color)
        muted = QColor(ink)
        muted.setAlpha(200)
        if self.cost is not None:
            chosen = lod_lines(lod, lines, fonts, "", lines[-1][0],
                               name_for=lambda font: text.big if font is fonts.big else text.huge)
        else:
            chosen = lod_lines(lod, lines, fonts, lines[0][0], lines[-1][0], rect.width() - 8)
        return line_plan(rect, [(t, f, ink if f is not fonts.small else muted) for t, f in chosen],
                         min_px=7.5 / max(lod, 1e-3))


class GroupFrameItem(_CostItem):
    """A container of the module hierarchy: a titled frame around its children (possibly split over columns),
    or, collapsed, one block coloured by its subtotal."""

    def __init__(self, index: int, node: HierarchyNode, style: DiagramStyle) -> None:
        super().__init__(QRectF(), style)
        self.index = index
        self.node = node
        self.gen = -1  # the scene's refresh its colour and label show
        self.collapsed = False
        self.segments: list[QRectF] = []  # frame pieces in item coordinates (one per column it spans)
        self.depth = 0  # nesting among visible frames (z order and inset)
        self.label: tuple = ()
        self.badge: tuple[str, str] = ("", "")  # collapsed: its subtotal's change against a pinned baseline
        self._plan_key: tuple = ()  # collapsed: what `_plan` (its laid-out label) was made for
        self._plan: Plan = []

    def set_segments(self, segments: list[QRectF]) -> None:
        self.segments = segments
        bounds = QRectF()
        for s in segments:
            bounds = bounds.united(s)
        self.setRect(bounds.adjusted(-4, -10, 4, 4))
        self.update()

    def block_rect(self) -> QRectF:
        """The collapsed block (a slot like a layer block's, at the first segment's origin)."""
        s = self.segments[0] if self.segments else QRectF(0, 0, BLOCK_W, BLOCK_H)
        w = BLOCK_W * self.width_fraction
        return QRectF(s.left() + (BLOCK_W - w) / 2, s.top(), w, BLOCK_H)

    def header_rect(self) -> QRectF:
        s = self.segments[0] if self.segments else QRectF()
        return QRectF(s.left(), s.top(), s.width(), HEADER_H)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.block_rect() if self.collapsed else self.header_rect())
        return path

    def set_state(self, color: QColor, width_fraction: float, label: tuple = (), quiet: bool = False) -> bool:
        """Recolour in place; `label` is what its text shows (value, share). Repaints only what changed: a frame's
        header (repainting the whole frame would repaint every block inside it), or the collapsed block; `quiet`:
        nothing (it is about to be painted)."""
        if color == self.color and width_fraction == self.width_fraction and label == self.label:
            return False
        width_changed = width_fraction != self.width_fraction
        self.color, self.width_fraction, self.label = color, width_fraction, label
        if quiet:
            return True
        if self.collapsed:
            self.update(self.block_rect().adjusted(-4, -12, 10, 10) if not width_changed else self.rect())
        else:
            self.update(self.header_rect().adjusted(-4, -4, 4, 4))
        return True

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.style.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        lod = lod_of(painter, option)
        text = self.text
        if self.collapsed:
            self._paint_collapsed(painter, lod, text)  # type: ignore[arg-type]
            return
        lines = list(text.lines) if text is not None else []
        if self.selected:  # (the frame itself is drawn with the scene's background: draw_frame)
            painter.setPen(QPen(theme.selection, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for s in self.segments:
                painter.drawRoundedRect(s, 9, 9)
        if not lines or text is None:
            return
        self._paint_continued(painter, lod)
        head = self.header_rect().adjusted(8, 2, -8, 0)
        if lod * 12 < 7:
            self._paint_zoomed_out_header(painter, lod, head)
            return
        fonts = self.style.fonts
        # the header's subtotal swatch uses the same colour map as the blocks
        sw = QRectF(head.left(), head.top() + (HEADER_H - 4 - 14) / 2, 14, 14)
        fm = QFontMetricsF(fonts.header)
        room = head.width() - 20 - mark_width(self.mark, lod)  # (a frozen / checkpointed mark at the end)
        shown_text = "▾ " + "  ·  ".join(t for t, _ in lines)
        if fm.horizontalAdvance(shown_text) > room:  # the module type goes first, the subtotal last
            shown_text = f"▾ {text.name}  ·  {lines[-1][0]}"  # type: ignore[union-attr]
        shown = shown_text if fm.horizontalAdvance(shown_text) <= room else \
            fit_header(text.name, lines[-1][0], fonts.header, room)  # type: ignore[union-attr]
        # an arrow passing under the header never runs through its text
        self._knock_out(painter, QRectF(sw.left(), sw.center().y() - fm.height() / 2,
                                        sw.width() + 5 + fm.horizontalAdvance(shown), fm.height()), theme)
        painter.setPen(QPen(self.color.darker(140), 1))
        painter.setBrush(QBrush(self.color))
        painter.drawRoundedRect(sw, 3, 3)
        painter.setFont(fonts.header)
        painter.setPen(theme.foreground)
        painter.drawText(QRectF(sw.right() + 5, head.top(), head.width() - 20, HEADER_H - 4),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shown)
        if self.mark:
            end = sw.right() + 5 + fm.horizontalAdvance(shown) + 6
            draw_mark(painter, QPointF(end, head.center().y() - 1), self.mark, lod)

    def _paint_collapsed(self, painter: QPainter, lod: float, text: GroupText | None) -> None:
        theme = self.style.theme
        rect = self.block_rect()
        # a stacked look says "several layers inside"
        if lod * BLOCK_H < FAST_PX:
            painter.fillRect(rect.translated(5, 5), self.color.darker(115))
            painter.fillRect(rect, theme.selection if self.selected else self.color)
            return
        draw_body(painter, rect.translated(5, 5), self.color.darker(115), QPen(self.color.darker(150), 1), lod)
        draw_body(painter, rect, self.color,
                  QPen(theme.selection, 5) if self.selected else QPen(self.color.darker(135), 1), lod)
        if text is None:
            return
        ink = text_color_on(self.color)
        # the laid-out labels are kept until what they show, the place or the zoom changes (as a block's)
        key = (text, ink.rgba(), rect.x(), rect.y(), rect.width(), round(lod, 4))
        if key != self._plan_key:
            lines = list(text.lines)
            name = text.name if lod < 0.72 else lines[0][0]
            chosen = lod_lines(lod, lines, self.style.fonts, name, lines[-1][0], rect.width() - 8)
            self._plan_key = key
            self._plan = line_plan(rect, [(t, f, ink) for t, f in chosen], min_px=7.5 / max(lod, 1e-3))
        draw_plan(painter, self._plan)
        if self.badge[0] and lod * 34 >= 7:
            draw_badge(painter, rect, *self.badge, lod)
        if self.mark:
            draw_mark(painter, QPointF(rect.left() + 6, rect.bottom()), self.mark, lod)

    def _paint_zoomed_out_header(self, painter: QPainter, lod: float, head: QRectF) -> None:
        """Zoomed out: the container's name alone, as large as the header allows (the subtotal is in the tooltip,
        and in the blocks' colours)."""
        px = min(HEADER_H - 8, 8 / max(lod, 1e-3))
        if lod * px < 5:
            return
        theme = self.style.theme
        font = QFont(self.style.fonts.header)
        font.setPixelSize(int(px))
        painter.setFont(font)
        painter.setPen(theme.foreground)
        fm = QFontMetricsF(font)
        text = fm.elidedText("▾ " + self.node.path, Qt.TextElideMode.ElideMiddle, head.width())
        self._knock_out(painter, QRectF(head.left(), head.center().y() - 1 - fm.height() / 2,
                                        fm.horizontalAdvance(text), fm.height()), theme)
        painter.setPen(theme.foreground)
        painter.drawText(head.adjusted(0, -2, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         text)

    def draw_frame(self, painter: QPainter, theme: Theme) -> None:
        """The expanded frame's fill and outline, in item coordinates. The scene draws these with its background,
        which views cache: the fills are view-sized and would otherwise be blended again under every recoloured
        block. The large translucent fill goes without antialiasing (a jagged corner is invisible at this alpha)."""
        fill = QColor(theme.foreground)
        fill.setAlpha(10 + 6 * (self.depth % 2))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(fill))
        for s in self.segments:
            painter.drawRoundedRect(s, 9, 9)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.frame, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for s in self.segments:
            painter.drawRoundedRect(s, 9, 9)

    def _knock_out(self, painter: QPainter, rect: QRectF, theme: Theme) -> None:
        """Fill behind header text with the frame's own (opaque) colour: lines under it stop at the text."""
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(frame_fill(theme.background, theme.foreground, self.depth))
        painter.drawRoundedRect(rect.adjusted(-3, -1, 3, 1), 3, 3)
        painter.restore()

    def continued_header_rects(self) -> list[QRectF]:
        """The small header band of each segment after the first (the frame continued in another column)."""
        return [QRectF(s.left(), s.top(), s.width(), CONT_H) for s in self.segments[1:]]

    def _paint_continued(self, painter: QPainter, lod: float) -> None:
        """'layer1 (cont.)' atop each continued segment, enlarged zoomed out while the band allows."""
        rects = self.continued_header_rects()
        if not rects:
            return
        font = QFont(self.style.fonts.cont)
        px = min(CONT_H - 5, max(10.0, 7 / max(lod, 1e-3)))
        if lod * px < 5:
            return
        font.setPixelSize(int(px))
        fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(self.style.theme.muted)
        for r in rects:
            head = r.adjusted(10, 1, -10, 0)
            suffix = " (cont.)"
            name = short_name(self.node.path, font, head.width() - fm.horizontalAdvance(suffix))
            text = fm.elidedText(name + suffix, Qt.TextElideMode.ElideMiddle, head.width())
            painter.drawText(head, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)


class RemovedRowsItem(QGraphicsItem):
    """The pinned baseline's rows the current graph no longer has, as ghost blocks (dashed, unfilled) in a column
    beside the layout: what a rewrite removed stays visible with what it cost."""

    MAX_ROWS = 12
    TITLE_H = 26.0
    ROW_H = 46.0

    def __init__(self, style: DiagramStyle) -> None:
        super().__init__()
        self.style = style
        self.rows: list[tuple[str, str, str]] = []  # (name, type, cost it took away)
        self._bounds = QRectF()

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        self.prepareGeometryChange()
        self.rows = rows
        n = min(len(rows), self.MAX_ROWS) + (1 if len(rows) > self.MAX_ROWS else 0)
        self._bounds = QRectF(-4, -4, BLOCK_W + 8, self.TITLE_H + n * self.ROW_H + 8)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def text_lines(self) -> list[str]:
        return [f"{name}  {kind_} {value}" for name, kind_, value in self.rows]

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.style.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fonts = self.style.fonts
        painter.setFont(fonts.header)
        painter.setPen(theme.foreground)
        painter.drawText(QRectF(0, 0, BLOCK_W, self.TITLE_H - 6), Qt.AlignmentFlag.AlignLeft
                         | Qt.AlignmentFlag.AlignVCenter, f"Removed since the baseline ({len(self.rows)})")
        ghost = QColor(theme.foreground)
        ghost.setAlpha(150)
        y = self.TITLE_H
        for name, kind_, value in self.rows[:self.MAX_ROWS]:
            r = QRectF(0, y, BLOCK_W, self.ROW_H - 8)
            painter.setPen(QPen(ghost, 1.2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(r, 7, 7)
            draw_lines(painter, r, [(fit_title(name, kind_, fonts.title, BLOCK_W - 8), fonts.title, ghost),
                                     (value, fonts.small, BADGE_COLORS[LESS])])
            y += self.ROW_H
        if len(self.rows) > self.MAX_ROWS:
            painter.setFont(fonts.small)
            painter.setPen(ghost)
            painter.drawText(QRectF(0, y, BLOCK_W, 20), Qt.AlignmentFlag.AlignLeft,
                             f"… and {len(self.rows) - self.MAX_ROWS} more (Compare dock)")


class InputItem(QGraphicsItem):
    """A graph input: a small pill with its name and shape, where the data flow starts."""

    def __init__(self, name: str, style: DiagramStyle) -> None:
        super().__init__()
        self.style = style
        self.name = name
        self.text = name
        self.selected = False

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, INPUT_W + 4, INPUT_H + 4)

    def block_rect(self) -> QRectF:
        return QRectF(0, 0, INPUT_W, INPUT_H)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.style.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.frame, 1.2))
        painter.setBrush(QBrush(theme.background))
        painter.drawRoundedRect(self.block_rect(), INPUT_H / 2, INPUT_H / 2)
        painter.setPen(theme.foreground)
        for text, font in self.label(lod_of(painter, option)):
            painter.setFont(font)
            painter.drawText(self.block_rect(), Qt.AlignmentFlag.AlignCenter,
                             QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, INPUT_W - 16))

    def label(self, lod: float) -> list[tuple[str, QFont]]:
        """What the pill reads at `lod`: its name and shape (the name alone where the shape would be cut), or,
        zoomed out, its name in a font that stays legible, as the blocks keep theirs (it was left blank)."""
        fonts = self.style.fonts
        if lod * 11 >= 8:
            whole = QFontMetricsF(fonts.small).horizontalAdvance(self.text) <= INPUT_W - 16
            return [(self.text if whole else self.name, fonts.small)]
        font = QFont(fonts.title)
        font.setPixelSize(int(min(INPUT_H - 6, 8 / max(lod, 1e-3))))
        return [(self.name, font)] if lod * font.pixelSize() >= 5 else []



def key_of(item: LayerBlockItem | GroupFrameItem | InputItem) -> BoxKey:
    """The box key of a diagram item: a block's node id, a scope's or an input's key."""
    if isinstance(item, GroupFrameItem):
        return ScopeKey(item.node.path)
    if isinstance(item, InputItem):
        return InputKey(item.name)
    return item.layer_id
