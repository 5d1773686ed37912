"""The report's building blocks: title, headings, tables (booktabs style), notes, rows and grids of views.

Every block paints with the report theme in logical pixels; text is drawn as text so SVG and PDF stay searchable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from netcost.gui.report.page_layout import Block
from netcost.gui.report.theme import ReportTheme

_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _text_width(font: QFont, text: str) -> float:
    return QFontMetricsF(font).horizontalAdvance(text)


def _rule(painter: QPainter, color: QColor, width: float, x0: float, x1: float, y: float) -> None:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(x0, y), QPointF(x1, y))


class TitleBlock(Block):
    """The model name (wrapped between words, smaller when a word is wider than the line: never cut), lines
    under it saying what the report is of (what it compares, input, batch, dtype, convention) and a rule."""

    space_after = 16.0
    MIN_TITLE_PX = 12

    def __init__(self, theme: ReportTheme, title: str, facts: Sequence[str], byline: str,
                 subtitle: Sequence[str] = ()) -> None:
        self.theme, self.title, self.facts, self.byline = theme, title, list(facts), byline
        self.subtitle = list(subtitle)  # whole sentences, each wrapped on its own (what the report compares)
        self.title_font = theme.font(theme.title_px, bold=True)
        self.fact_font = theme.font(theme.body_px + 1)
        self.by_font = theme.font(theme.small_px)

    def _fact_lines(self, width: float) -> list[str]:
        """The facts joined by middle dots, wrapped between facts (never inside one)."""
        lines: list[str] = []
        current = ""
        for fact in self.facts:
            candidate = f"{current}   ·   {fact}" if current else fact
            if current and _text_width(self.fact_font, candidate) > width:
                lines.append(current)
                current = fact
            else:
                current = candidate
        return [*lines, current] if current else lines

    def title_lines(self, width: float) -> tuple[QFont, list[str]]:
        """The title's font and lines at `width` (the first line leaves room for the byline): wrapped between
        words at the title size, or at a smaller size where one word alone is wider than the line."""
        first = width - _text_width(self.by_font, self.byline) - 12
        font = QFont(self.title_font)
        for px in range(self.theme.title_px, self.MIN_TITLE_PX - 1, -1):
            font.setPixelSize(px)
            lines = _wrap(self.title, font, first, width)
            if all(_text_width(font, line) <= (first if i == 0 else width) for i, line in enumerate(lines)):
                return font, lines
        return font, _wrap(self.title, font, first, width, break_words=True)

    def _sub_lines(self, width: float) -> list[str]:
        return [line for sentence in self.subtitle for line in _wrap(sentence, self.fact_font, width, width)]

    def height(self, width: float) -> float:
        font, lines = self.title_lines(width)
        title_h = QFontMetricsF(font).lineSpacing() * (len(lines) - 1) + QFontMetricsF(font).height()
        spacing = QFontMetricsF(self.fact_font).lineSpacing()
        text_h = spacing * (len(self._fact_lines(width)) + len(self._sub_lines(width)))
        return title_h + 6 + text_h + 10

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        t = self.theme
        font, lines = self.title_lines(rect.width())
        fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(t.text)
        y = rect.top()
        for line in lines:
            painter.drawText(QRectF(rect.left(), y, rect.width(), fm.height()), _LEFT, line)
            y += fm.lineSpacing()
        painter.setFont(self.by_font)
        painter.setPen(t.muted)
        painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), fm.height()), _RIGHT, self.byline)
        y += fm.height() - fm.lineSpacing() + 6
        painter.setFont(self.fact_font)
        line_h = QFontMetricsF(self.fact_font).lineSpacing()
        for line, color in [*((s, t.text) for s in self._sub_lines(rect.width())),
                            *((f, t.muted if self.subtitle else t.text) for f in self._fact_lines(rect.width()))]:
            painter.setPen(color)
            painter.drawText(QRectF(rect.left(), y, rect.width(), line_h), _LEFT, line)
            y += line_h
        _rule(painter, t.accent, 1.5, rect.left(), rect.right(), rect.bottom() - 1)


def _wrap(text: str, font: QFont, first: float, width: float, break_words: bool = False) -> list[str]:
    """`text` in lines (the first `first` wide, the others `width`), broken between words; with `break_words`
    a word wider than its line is broken too (the last resort: cut, but never lost)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        limit = first if not lines else width
        if current and _text_width(font, candidate) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
        while break_words and _text_width(font, current) > (first if not lines else width) and len(current) > 1:
            limit = first if not lines else width
            n = len(current)
            while n > 1 and _text_width(font, current[:n]) > limit:
                n -= 1
            lines.append(current[:n])
            current = current[n:]
    return [*lines, current] if current else lines or [""]


class HeadingBlock(Block):
    """A section heading; kept on the same page as the start of its section."""

    keep_with_next = True
    space_after = 8.0

    def __init__(self, theme: ReportTheme, text: str, note: str = "", figure: bool = False) -> None:
        self.theme, self.text, self.note = theme, text, note
        self.figure = figure  # its section may float past later text sections on paper
        self.font = theme.font(theme.heading_px, bold=True)
        self.note_font = theme.font(theme.small_px)

    def height(self, width: float) -> float:
        return QFontMetricsF(self.font).height() + 4

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        h = QFontMetricsF(self.font).height()
        painter.setFont(self.font)
        painter.setPen(self.theme.text)
        painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), h), _LEFT, self.text)
        if self.note:
            painter.setFont(self.note_font)
            painter.setPen(self.theme.muted)
            painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), h), _RIGHT, self.note)
        _rule(painter, self.theme.rule, 0.8, rect.left(), rect.right(), rect.top() + h + 2)


class NotesBlock(Block):
    """A bulleted list of wrapped lines (unsupported ops, warnings, how to read the numbers)."""

    def __init__(self, theme: ReportTheme, lines: Sequence[tuple[str, QColor | None]]) -> None:
        self.theme, self.lines = theme, list(lines)
        self.font = theme.font(theme.body_px)
        self.indent = 14.0

    def _heights(self, width: float) -> list[float]:
        fm = QFontMetricsF(self.font)
        flags = int(Qt.TextFlag.TextWordWrap)
        return [fm.boundingRect(QRectF(0, 0, width - self.indent, 1e6), flags, text).height() + 3
                for text, _ in self.lines]

    def height(self, width: float) -> float:
        return sum(self._heights(width))

    def split(self, width: float, available: float) -> tuple[Block, Block] | None:
        hs = self._heights(width)
        used, n = 0.0, 0
        while n < len(hs) and used + hs[n] <= available:
            used += hs[n]
            n += 1
        if n == 0 or n == len(hs):
            return None
        return NotesBlock(self.theme, self.lines[:n]), NotesBlock(self.theme, self.lines[n:])

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        painter.setFont(self.font)
        y = rect.top()
        flags = int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        for (text, color), h in zip(self.lines, self._heights(rect.width()), strict=True):
            painter.setPen(color or self.theme.text)
            painter.drawText(QRectF(rect.left(), y, self.indent, h), flags, "•")
            painter.drawText(QRectF(rect.left() + self.indent, y, rect.width() - self.indent, h), flags, text)
            y += h


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # numbers are right-aligned so their digits line up
    elastic: bool = False  # takes the spare width; elided in the middle when short


Cell = str | tuple[str, QColor | None]


class TableBlock(Block):
    """A booktabs-style table: rules above and below the header and at the end, no vertical lines."""

    def __init__(self, theme: ReportTheme, columns: Sequence[Column], rows: Sequence[Sequence[Cell]],
                 caption: str = "", bold_rows: Sequence[int] = (), continued: bool = False) -> None:
        self.theme, self.columns, self.rows = theme, list(columns), [list(r) for r in rows]
        self.caption, self.bold_rows, self.continued = caption, set(bold_rows), continued
        self.font = theme.font(theme.body_px)
        self.bold = theme.font(theme.body_px, bold=True)
        self.caption_font = theme.font(theme.body_px + 1, bold=True)
        self.row_h = round(theme.body_px * 1.65)
        self.pad = 6.0

    @staticmethod
    def _text(cell: Cell) -> str:
        return cell if isinstance(cell, str) else cell[0]

    def _caption_h(self) -> float:
        return QFontMetricsF(self.caption_font).height() + 6 if self.caption else 0.0

    def height(self, width: float) -> float:
        return self._caption_h() + self.row_h * (len(self.rows) + 1) + 4

    def widths(self, width: float) -> list[float]:
        natural = []
        for i, col in enumerate(self.columns):
            cells = [_text_width(self.bold, col.header)]
            cells += [_text_width(self.bold if r in self.bold_rows else self.font, self._text(row[i]))
                      for r, row in enumerate(self.rows)]
            natural.append(max(cells) + 2 * self.pad)
        spare = width - sum(natural)
        elastic = [i for i, c in enumerate(self.columns) if c.elastic] or list(range(len(natural)))
        if spare >= 0:
            for i in elastic:
                natural[i] += spare / len(elastic)
            return natural
        # Too wide: shrink the elastic columns (their text is elided) but keep a readable minimum.
        share = sum(natural[i] for i in elastic)
        for i in elastic:
            natural[i] = max(48.0, natural[i] + spare * natural[i] / share)
        return natural

    def split(self, width: float, available: float) -> tuple[Block, Block] | None:
        fit = int((available - self._caption_h() - 4) // self.row_h) - 1
        if fit < 3 or fit >= len(self.rows):  # never leave a header with one or two orphaned rows
            return None
        bold_head = [r for r in self.bold_rows if r < fit]
        bold_rest = [r - fit for r in self.bold_rows if r >= fit]
        head = TableBlock(self.theme, self.columns, self.rows[:fit], self.caption, bold_head, self.continued)
        rest = TableBlock(self.theme, self.columns, self.rows[fit:], self.caption, bold_rest, continued=True)
        return head, rest

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        t = self.theme
        y = rect.top()
        if self.caption:
            painter.setFont(self.caption_font)
            painter.setPen(t.text)
            text = self.caption + (" (continued)" if self.continued else "")
            painter.drawText(QRectF(rect.left(), y, rect.width(), self._caption_h()), _LEFT, text)
            y += self._caption_h()
        widths = self.widths(rect.width())
        right = rect.left() + sum(widths)
        _rule(painter, t.text, 1.0, rect.left(), right, y + 0.5)
        self._paint_row(painter, rect.left(), y, widths, [c.header for c in self.columns], self.bold, t.muted)
        y += self.row_h
        _rule(painter, t.rule, 0.6, rect.left(), right, y)
        for r, row in enumerate(self.rows):
            font = self.bold if r in self.bold_rows else self.font
            if r in self.bold_rows and r > 0:
                _rule(painter, t.rule, 0.6, rect.left(), right, y)
            self._paint_row(painter, rect.left(), y, widths, row, font, t.text)
            y += self.row_h
        _rule(painter, t.text, 1.0, rect.left(), right, y + 1.5)

    def _paint_row(self, painter: QPainter, x: float, y: float, widths: list[float], cells: Sequence[Cell],
                   font: QFont, color: QColor) -> None:
        painter.setFont(font)
        fm = QFontMetricsF(font)
        for col, w, cell in zip(self.columns, widths, cells, strict=True):
            text, cell_color = (cell, None) if isinstance(cell, str) else cell
            inner = w - 2 * self.pad
            if fm.horizontalAdvance(text) > inner:
                text = fm.elidedText(text, Qt.TextElideMode.ElideMiddle, inner)
            painter.setPen(cell_color or color)
            painter.drawText(QRectF(x + self.pad, y, inner, self.row_h), _RIGHT if col.right else _LEFT, text)
            x += w


class RowBlock(Block):
    """Blocks side by side (fractions of the width); stacked instead when a share would be too narrow."""

    def __init__(self, children: Sequence[Block], fractions: Sequence[float], min_width: float = 300.0,
                 gap: float = 28.0) -> None:
        self.children, self.fractions = list(children), list(fractions)
        self.min_width, self.gap = min_width, gap

    def _rects(self, rect: QRectF) -> list[QRectF]:
        usable = rect.width() - self.gap * (len(self.children) - 1)
        if min(self.fractions) * usable < self.min_width:  # stacked
            rects, y = [], rect.top()
            for child in self.children:
                h = child.height(rect.width())
                rects.append(QRectF(rect.left(), y, rect.width(), h))
                y += h + child.space_after
            return rects
        rects, x = [], rect.left()
        for child, f in zip(self.children, self.fractions, strict=True):
            w = usable * f
            rects.append(QRectF(x, rect.top(), w, child.height(w)))
            x += w + self.gap
        return rects

    def height(self, width: float) -> float:
        rects = self._rects(QRectF(0, 0, width, 0))
        return max(r.bottom() for r in rects) if rects else 0.0

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        for child, r in zip(self.children, self._rects(rect), strict=True):
            painter.save()
            child.paint(painter, r)
            painter.restore()


Renderer = Callable[[QPainter, QRectF], None]


class ViewBlock(Block):
    """A live view (a chart widget) rendered into its cell at a fixed aspect, with a caption above it."""

    def __init__(self, theme: ReportTheme, caption: str, render: Renderer, aspect: float = 0.62,
                 max_height: float | None = None) -> None:
        self.theme, self.caption, self.render, self.aspect = theme, caption, render, aspect
        self.max_height = max_height
        self.font = theme.font(theme.body_px + 1, bold=True)

    def _caption_h(self) -> float:
        return QFontMetricsF(self.font).height() + 4 if self.caption else 0.0

    def height(self, width: float) -> float:
        h = width * self.aspect
        return self._caption_h() + (min(h, self.max_height) if self.max_height else h)

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        if self.caption:
            painter.setFont(self.font)
            painter.setPen(self.theme.text)
            painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), self._caption_h()), _LEFT, self.caption)
        target = QRectF(rect.left(), rect.top() + self._caption_h(), rect.width(),
                        rect.height() - self._caption_h())
        painter.save()
        painter.setClipRect(target)  # a view never draws outside its cell
        self.render(painter, target)
        painter.restore()


class GridBlock(Block):
    """Views in a grid, row by row; a page break may fall between rows."""

    def __init__(self, cells: Sequence[Block], columns: int = 2, gap: float = 24.0, min_cell: float = 300.0) -> None:
        self.cells, self.columns, self.gap, self.min_cell = list(cells), columns, gap, min_cell

    def _cols(self, width: float) -> int:
        cols = self.columns
        while cols > 1 and (width - self.gap * (cols - 1)) / cols < self.min_cell:
            cols -= 1
        return cols

    def _rows(self, width: float) -> list[list[Block]]:
        cols = self._cols(width)
        return [self.cells[i:i + cols] for i in range(0, len(self.cells), cols)]

    def _cell_w(self, width: float) -> float:
        cols = self._cols(width)
        return (width - self.gap * (cols - 1)) / cols

    def _row_heights(self, width: float) -> list[float]:
        w = self._cell_w(width)
        return [max(c.height(w) for c in row) for row in self._rows(width)]

    def height(self, width: float) -> float:
        hs = self._row_heights(width)
        return sum(hs) + self.gap * (len(hs) - 1) if hs else 0.0

    def split(self, width: float, available: float) -> tuple[Block, Block] | None:
        cols = self._cols(width)
        used, n = 0.0, 0
        for h in self._row_heights(width):
            if used + h > available:
                break
            used += h + self.gap
            n += 1
        if n == 0 or n * cols >= len(self.cells):
            return None
        return (GridBlock(self.cells[:n * cols], self.columns, self.gap, self.min_cell),
                GridBlock(self.cells[n * cols:], self.columns, self.gap, self.min_cell))

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        w = self._cell_w(rect.width())
        y = rect.top()
        for row, h in zip(self._rows(rect.width()), self._row_heights(rect.width()), strict=True):
            x = rect.left()
            for cell in row:
                painter.save()
                cell.paint(painter, QRectF(x, y, w, h))
                painter.restore()
                x += w + self.gap
            y += h + self.gap
