"""`TotalsWidget`: the model's totals, the conv/linear/... split and, once a baseline is pinned, the delta of every
figure against it. Labels are created once and updated with `setText` (no rebuild per edit)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QFont, QGuiApplication
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from netcost.costing import CATEGORIES, CONVENTIONS, CostReport, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.records import DASH, NOT_COSTED
from netcost.costing.shares import PARAMS, share, share_change_text, share_text
from netcost.gui.common.inputs import figures_grid
from netcost.gui.common.palette import colors, error_label_style, label_style
from netcost.gui.common.plain_text import plain_tip
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.table.training_totals import TrainingTotalsWidget

# (key, label, value of a report, formatter). Labels that depend on settings are filled in `_update_labels`.
_Getter = Callable[[CostReport, str], float]
_ROWS: tuple[tuple[str, _Getter, Callable[[float], str]], ...] = (
    ("params", lambda r, c: r.totals.params, fmt.si),
    ("trainable", lambda r, c: r.totals.trainable_params, fmt.si),
    ("frozen", lambda r, c: r.totals.frozen_params, fmt.si),
    ("macs", lambda r, c: r.totals.macs, fmt.si),
    ("flops", lambda r, c: r.totals.flops, fmt.si),
    ("convention", lambda r, c: convention_value(r.totals, c), fmt.si),
    ("param_bytes", lambda r, c: r.totals.param_bytes, fmt.nbytes),
    ("activations", lambda r, c: r.totals.activation_bytes, fmt.nbytes),
    ("fwd_bwd", lambda r, c: r.summary.forward_backward_bytes, fmt.nbytes),
    ("peak", lambda r, c: r.peak_activation_bytes, fmt.nbytes),  # None when the report is incomplete
    ("memory_access", lambda r, c: r.totals.memory_access_bytes, fmt.nbytes),
)
_EXACT = {"params", "trainable", "frozen", "macs", "flops", "convention"}


class TotalsWidget(QWidget):
    clearBaselineRequested = Signal()

    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("totals")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)

        self.baseline_bar = QWidget(self)
        bl = QHBoxLayout(self.baseline_bar)
        bl.setContentsMargins(0, 0, 0, 0)
        self.baseline_label = QLabel(self.baseline_bar)
        self.baseline_label.setWordWrap(True)
        self.clear_button = QPushButton("Clear", self.baseline_bar)
        self.clear_button.setToolTip("Stop comparing with the pinned baseline")
        self.clear_button.clicked.connect(document.clear_baseline)
        bl.addWidget(self.baseline_label, 1)
        bl.addWidget(self.clear_button)
        outer.addWidget(self.baseline_bar)
        # while a node cannot be costed the totals leave it (and what depends on it) out: say so above them
        self.incomplete = QLabel(self)
        self.incomplete.setObjectName("incomplete")
        self.incomplete.setWordWrap(True)
        self.incomplete.setStyleSheet(error_label_style(bold=True, selector="QLabel#incomplete"))
        self.incomplete.hide()
        outer.addWidget(self.incomplete)
        # Training mode: the step's memory first, where a 1280 x 800 screen shows it (issue 21)
        self.training = TrainingTotalsWidget(document, self)
        outer.addWidget(self.training)

        grid = figures_grid(3)
        self.labels: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        self.deltas: dict[str, QLabel] = {}
        mono = QFont(self.font())
        mono.setStyleHint(QFont.StyleHint.Monospace)
        for i, (key, _, _) in enumerate(_ROWS):
            label, value, delta = QLabel(self), QLabel(self), QLabel(self)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            delta.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            # (not mouse-selectable: a selectable label rebuilds a text document on every edit, ~1 ms of the
            # frame; right-click copies a value instead, see `contextMenuEvent`)
            grid.addWidget(label, i, 0)
            grid.addWidget(value, i, 1)
            grid.addWidget(delta, i, 2)
            self.labels[key], self.values[key], self.deltas[key] = label, value, delta
        outer.addLayout(grid)
        self.labels["activations"].setToolTip(plain_tip(
            "torchsummary's figure: every layer's output added up, as if nothing were freed"))
        self.labels["peak"].setToolTip(plain_tip(
            "The most activation memory live at once in one inference forward (no autograd): each tensor held "
            "from the op that makes it to its last reader; views and in-place ops share their input's storage; "
            "parameters excluded. Allocator rounding and kernel workspaces not counted."))

        rule = QFrame(self)
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        outer.addWidget(rule)

        split = QGridLayout()
        split.setHorizontalSpacing(14)
        split.setVerticalSpacing(2)
        split.setColumnStretch(0, 1)
        self.split_title = QLabel(self)
        bold = QFont(self.font())
        bold.setBold(True)
        self.split_title.setFont(bold)
        split.addWidget(self.split_title, 0, 0)
        self.split_heads = (QLabel("params", self), QLabel(self))
        for j, head in enumerate(self.split_heads):
            head.setFont(bold)
            head.setAlignment(Qt.AlignmentFlag.AlignRight)
            split.addWidget(head, 0, 1 + j)
        self.split_rows: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        for i, cat in enumerate(CATEGORIES, start=1):
            cells = (QLabel(cat, self), QLabel(self), QLabel(self))
            for j, c in enumerate(cells):
                if j:
                    c.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                split.addWidget(c, i, j)
            self.split_rows[cat] = cells
        outer.addLayout(split)
        outer.addStretch(1)

        document.reportChanged.connect(lambda _first: self.refresh())
        document.documentReset.connect(self.refresh)
        document.settingsChanged.connect(self.refresh)
        document.conventionChanged.connect(lambda _c: self.refresh())
        document.baselineChanged.connect(self.refresh)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # light/dark switch: delta colours chosen per palette
            self.refresh()
        super().changeEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Copy the figure under the cursor (as shown, and exact), or every total as `name<TAB>value` lines."""
        menu = QMenu(self)
        child = self.childAt(event.pos())
        key = next((k for k, v in self.values.items() if v is child or self.labels[k] is child), None)
        if key is not None and self.values[key].isVisible():
            shown = self.values[key].text()
            menu.addAction(f"Copy {shown}", lambda: _copy(shown))
            exact = self.values[key].toolTip()
            if exact and exact != shown:
                menu.addAction(f"Copy exact value {exact}", lambda: _copy(exact))
        menu.addAction("Copy all totals", lambda: _copy(self.as_text()))
        menu.exec(event.globalPos())

    def as_text(self) -> str:
        """The shown totals, one `name<TAB>value[<TAB>delta]` line each (pastes as columns in a spreadsheet)."""
        lines = []
        for key, *_ in _ROWS:
            if not self.values[key].isVisibleTo(self):
                continue
            cells = [self.labels[key].text().strip(), self.values[key].text(), self.deltas[key].text()]
            lines.append("\t".join(c for c in cells if c))
        return "\n".join(lines)

    def _colors(self) -> tuple[QColor, QColor]:
        status = colors(self.palette())
        return status.less, status.more

    def refresh(self) -> None:
        doc = self.document
        report, conv = doc.report, doc.convention
        problems = report.problems
        if problems:
            self.incomplete.setText(f"Incomplete: {len(problems)} of {doc.row_count()} rows not costed "
                                    f"(from {report.cause.name if report.cause else problems[0].name}): no total, "
                                    "share or change is shown until it is fixed")
        self.incomplete.setVisible(bool(problems))
        label = CONVENTIONS[conv].label
        names = {"params": "Params", "trainable": "  trainable", "frozen": "  frozen", "macs": "MACs",
                 "flops": "FLOPs (NetCost)", "convention": f"{label} (chosen)",
                 "param_bytes": f"Param size ({report.dtype})", "activations": "Activations (forward)",
                 "fwd_bwd": "Activations (fwd + bwd)", "peak": "Peak activations (inference)",
                 "memory_access": "Memory access cost"}
        base = doc.baseline_report if doc.baseline is not None else None
        cmp = doc.comparison() if base is not None else None
        # a total of an incomplete report is a partial sum: "—"; a change against or from one is withheld
        withheld = cmp.withheld if cmp is not None else ""
        good, bad = self._colors()
        for key, getter, formatter in _ROWS:
            value = getter(report, conv)
            self.labels[key].setText(names[key])  # QLabel ignores an unchanged text
            chosen = key == "convention" or (key in ("macs", "flops") and conv == key)
            bold = chosen or key == "params"
            if self.values[key].font().bold() != bold:  # a font change re-lays out: only when it changes
                font = QFont(self.values[key].font())
                font.setBold(bold)
                self.values[key].setFont(font)
                self.labels[key].setFont(font)
            if not report.complete or value is None:
                self.values[key].setText(DASH)
                self.values[key].setToolTip(f"{report.incomplete_note}: the costed rows alone would be a partial "
                                            "total" if not report.complete else "")
            else:
                self.values[key].setText(formatter(value))
                self.values[key].setToolTip(fmt.grouped(int(value)) if key in _EXACT else "")
            visible = not (key == "convention" and conv in ("macs", "flops"))
            for w in (self.labels[key], self.values[key], self.deltas[key]):
                if w.isVisibleTo(self) != visible:
                    w.setVisible(visible)
            if base is None or withheld:
                self.deltas[key].setText("" if report.complete and not withheld else NOT_COSTED)
                self.deltas[key].setToolTip(f"no change shown: {withheld}" if withheld else "")
                if self.deltas[key].styleSheet():
                    self.deltas[key].setStyleSheet("")
                continue
            old = getter(base, conv)
            if value is None or old is None:  # a figure an incomplete report cannot give has no delta
                self.deltas[key].setText("")
                self.deltas[key].setStyleSheet("")
                continue
            self.deltas[key].setText(fmt.delta(value, old, formatter))
            color = good if value < old else bad if value > old else None
            style = label_style(color) if color is not None else ""
            if self.deltas[key].styleSheet() != style:
                self.deltas[key].setStyleSheet(style)
        if self.baseline_bar.isVisibleTo(self) != (base is not None):
            self.baseline_bar.setVisible(base is not None)
        if base is not None:
            what = f"\n{cmp.describe()[0].upper()}{cmp.describe()[1:]}" if cmp is not None else ""
            if withheld:
                what += f"\nChanges withheld: {withheld}"
            size = f"{fmt.si(base.totals.params)} params" if base.complete else base.incomplete_note
            self.baseline_label.setText(f"Δ vs pinned baseline ({size}){what}")
            self.baseline_label.setToolTip(plain_tip(f"pinned from {base.model}"))
        self.split_title.setText("Share by category")
        self.split_heads[1].setText(label)
        for cat, (name, p_cell, f_cell) in self.split_rows.items():
            part = report.by_category.get(cat)
            in_base = base is not None and cat in base.by_category and (
                base.by_category[cat].params or convention_value(base.by_category[cat], conv))
            shown = bool(part and (part.params or convention_value(part, conv))) or bool(in_base)
            always = cat in ("conv", "linear")  # the article's split is always shown
            for w in (name, p_cell, f_cell):
                if w.isVisibleTo(self) != (shown or always):
                    w.setVisible(shown or always)
            whole = report.totals if report.complete else None  # shares of a partial total: not shown
            p_text, f_text = share_text(part, whole, PARAMS), share_text(part, whole, conv)
            if whole is not None and base is not None and base.complete:
                b_part = base.by_category.get(cat)
                p_text += share_change_text(share(part, whole, PARAMS) - share(b_part, base.totals, PARAMS))
                f_text += share_change_text(share(part, whole, conv) - share(b_part, base.totals, conv))
            p_cell.setText(p_text)
            f_cell.setText(f_text)


def _copy(text: str) -> None:
    QGuiApplication.clipboard().setText(text)
