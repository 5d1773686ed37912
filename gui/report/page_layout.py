"""Flowing report blocks onto one tall page (PNG, SVG) or onto paper pages (PDF).

A `Block` knows its height at a given width, paints itself into a rectangle, and may split in two at a height
(tables between rows, the diagram between its blocks) so long content continues on the next PDF page instead of
being shrunk until it is illegible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import QPainter


class Block:
    """One piece of the report. Subclasses implement `height` and `paint`; splittable ones also `split`."""

    keep_with_next = False  # headings: never the last thing on a page
    space_after = 14.0

    def height(self, width: float) -> float:
        raise NotImplementedError

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        raise NotImplementedError

    def split(self, width: float, available: float) -> tuple[Block, Block] | None:
        """A head that fits in `available` and the rest; None when it cannot split there (the default)."""
        return None


@dataclass(frozen=True)
class Placement:
    block: Block
    rect: QRectF


@dataclass(frozen=True)
class Page:
    size: QSizeF
    placements: tuple[Placement, ...]


def layout_continuous(blocks: Sequence[Block], width: float, margins: QMarginsF) -> Page:
    """Every block stacked on one page of `width` whose height grows to fit (PNG, SVG)."""
    inner = width - margins.left() - margins.right()
    y = margins.top()
    placed: list[Placement] = []
    for i, block in enumerate(blocks):
        h = block.height(inner)
        placed.append(Placement(block, QRectF(margins.left(), y, inner, h)))
        y += h + (block.space_after if i < len(blocks) - 1 else 0.0)
    return Page(QSizeF(width, y + margins.bottom()), tuple(placed))


def _sections(blocks: Sequence[Block]) -> list[list[Block]]:
    """Blocks grouped into sections, each starting at a heading (a `keep_with_next` block)."""
    sections: list[list[Block]] = []
    for block in blocks:
        if block.keep_with_next or not sections:
            sections.append([block])
        else:
            sections[-1].append(block)
    return sections


def paginate(blocks: Sequence[Block], size: QSizeF, margins: QMarginsF) -> list[Page]:
    """Blocks flowed onto pages of `size`: split where a block allows it, otherwise moved to the next page.

    Figures float as in LaTeX: when a figure section (its heading has `figure = True`) does not start on the
    current page, a later non-figure section that fits in the space left is placed first, so no page is left
    half empty in front of a full-page diagram."""
    inner_w = size.width() - margins.left() - margins.right()
    bottom = size.height() - margins.bottom()
    full = bottom - margins.top()
    pages: list[list[Placement]] = [[]]
    y = margins.top()

    def new_page() -> None:
        nonlocal y
        pages.append([])
        y = margins.top()

    def section_h(sec: list[Block]) -> float:
        return sum(b.height(inner_w) + b.space_after for b in sec) - sec[-1].space_after

    def starts_here(sec: list[Block]) -> bool:
        """The heading and the first piece of what follows it fit in the space left on this page."""
        need = sum(b.height(inner_w) + b.space_after for b in sec[:1])
        if len(sec) > 1:
            follow = sec[1]
            room = bottom - y - need
            fits = follow.height(inner_w) <= room or follow.split(inner_w, room) is not None
            if not fits:
                return False
        return y + need <= bottom

    sections = _sections(blocks)
    while sections:
        sec = sections.pop(0)
        if pages[-1] and not starts_here(sec):
            if getattr(sec[0], "figure", False):
                later = next((j for j, other in enumerate(sections) if not getattr(other[0], "figure", False)
                              and y + section_h(other) <= bottom), None)
                if later is not None:
                    sections.insert(0, sec)
                    sec = sections.pop(later + 1)
                else:
                    new_page()
            else:
                new_page()
        queue = list(sec)
        while queue:
            block = queue.pop(0)
            h = block.height(inner_w)
            if y + h <= bottom:
                pages[-1].append(Placement(block, QRectF(margins.left(), y, inner_w, h)))
                y += h + block.space_after
                continue
            parts = block.split(inner_w, bottom - y)
            if parts is not None:
                head, rest = parts
                hh = head.height(inner_w)
                pages[-1].append(Placement(head, QRectF(margins.left(), y, inner_w, hh)))
                queue.insert(0, rest)
                new_page()
                continue
            if pages[-1]:
                new_page()
                queue.insert(0, block)
                continue
            # Alone on a fresh page and still too tall, and it cannot split: scale it down to fit the page.
            pages[-1].append(Placement(ScaledBlock(block, full / h), QRectF(margins.left(), y, inner_w, full)))
            y += full + block.space_after
    return [Page(size, tuple(p)) for p in pages if p]


class ScaledBlock(Block):
    """A block laid out at full width and drawn smaller, centred (the last resort for an unsplittable block)."""

    def __init__(self, block: Block, factor: float) -> None:
        self.block, self.factor = block, factor
        self.space_after = block.space_after

    def height(self, width: float) -> float:
        return self.block.height(width) * self.factor

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        natural_h = self.block.height(rect.width())
        painter.save()
        painter.translate(rect.left() + rect.width() * (1 - self.factor) / 2, rect.top())
        painter.scale(self.factor, self.factor)
        self.block.paint(painter, QRectF(0, 0, rect.width(), natural_h))
        painter.restore()


def paint_page(painter: QPainter, page: Page) -> None:
    for placement in page.placements:
        painter.save()
        placement.block.paint(painter, placement.rect)
        painter.restore()
