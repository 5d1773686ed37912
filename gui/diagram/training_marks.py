"""The diagram's marks on frozen and checkpointed scopes (issue 21): which blocks and frames lie in a scope the
document's `TrainingState` freezes or checkpoints, and the small pill drawn at a block's or frame's bottom-left
corner ('frozen', 'ckpt', 'frozen · ckpt'), so the training what-ifs in force are visible where they apply."""

from __future__ import annotations

from enum import Flag, auto

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from netcost.costing.graph import Graph
from netcost.gui.diagram.painting import static_text
from netcost.gui.document.training_state import ScopeKind, TrainingState


class ScopeMark(Flag):
    NONE = 0
    FROZEN = auto()
    CHECKPOINTED = auto()


_MARK_COLORS = {ScopeMark.FROZEN: QColor("#2F6F9F"), ScopeMark.CHECKPOINTED: QColor("#7B4F9D")}
_FONT = QFont()
_FONT.setPixelSize(10)
_FONT.setBold(True)


def mark_text(mark: ScopeMark) -> str:
    return " · ".join(t for m, t in ((ScopeMark.FROZEN, "frozen"), (ScopeMark.CHECKPOINTED, "ckpt")) if m in mark)


def node_marks(state: TrainingState, graph: Graph) -> dict[str, ScopeMark]:
    """The marks of the nodes in a frozen or checkpointed scope (none at all while no scope is)."""
    if not any(state.scopes.values()):
        return {}
    out = {}
    for node in graph.nodes:
        frozen, ckpt = state.node_marks(node)
        mark = (ScopeMark.FROZEN if frozen else ScopeMark.NONE) | (ScopeMark.CHECKPOINTED if ckpt else ScopeMark.NONE)
        if mark:
            out[node.id] = mark
    return out


def scope_mark(state: TrainingState, path: str) -> ScopeMark:
    """A frame's mark: the scope is, or lies in, a frozen / checkpointed one."""
    mark = ScopeMark.NONE
    if state.covering(ScopeKind.FREEZE, path) is not None:
        mark |= ScopeMark.FROZEN
    if state.covering(ScopeKind.CHECKPOINT, path) is not None:
        mark |= ScopeMark.CHECKPOINTED
    return mark


def _font(lod: float) -> QFont:
    if lod >= 0.75:
        return _FONT
    font = QFont(_FONT)
    font.setPixelSize(min(22, int(10 * 0.75 / max(lod, 1e-3))))
    return font


def mark_width(mark: ScopeMark, lod: float) -> float:
    """The pill's width (0 without a mark): a frame's header leaves it this much room."""
    return static_text(mark_text(mark), _font(lod))[1] + 16 if mark else 0.0


def draw_mark(painter: QPainter, anchor: QPointF, mark: ScopeMark, lod: float) -> None:
    """A pill centred vertically on `anchor`, starting there, enlarged zoomed out as the labels are (skipped when
    tiny)."""
    if not mark or lod * 10 < 4:
        return
    font = _font(lod)
    static, w = static_text(mark_text(mark), font)
    h = QFontMetricsF(font).height()
    pill = QRectF(anchor.x(), anchor.y() - h / 2 - 1, w + 10, h + 2)
    color = _MARK_COLORS[ScopeMark.FROZEN if ScopeMark.FROZEN in mark else ScopeMark.CHECKPOINTED]
    painter.setPen(QPen(QColor(255, 255, 255), 1.2))
    painter.setBrush(QBrush(color))
    painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    painter.drawStaticText(QPointF(pill.left() + 5, pill.top() + 1), static)
