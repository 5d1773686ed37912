"""`ReportPage`: the report composed from a `CostDocument` as a list of blocks, laid out for an image or paper.

Numbers come from the document's report and are formatted by `netcost.costing.formatting` only; the diagram and the
charts are the app's own views (`netcost.gui.report.views`), rendered, never redrawn here.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QColor, QPainter

from netcost.costing import CATEGORIES, CONVENTIONS, PEERS, LayerCost, Totals, convention_value
from netcost.costing import formatting as fmt
from netcost.costing.records import DASH, NOT_COSTED
from netcost.costing.shares import PARAMS, measure, percent_text, share, share_text
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.blocks import Cell, Column, HeadingBlock, NotesBlock, RowBlock, TableBlock, TitleBlock
from netcost.gui.report.options import ReportOptions
from netcost.gui.report.page_layout import Block, Page, layout_continuous, paginate, paint_page
from netcost.gui.report.theme import ReportTheme, theme
from netcost.gui.report.training_section import training_blocks
from netcost.gui.report.views import ReportViews

IMAGE_MARGINS = QMarginsF(40, 36, 40, 36)
PAPER_MARGINS = QMarginsF(54, 50, 54, 54)  # ~14 mm: room for the page footer
MAX_EDITS_LISTED = 12  # a long editing session: the first ones by name, then how many more


def _version() -> str:
    try:
        return metadata.version("netcost")
    except metadata.PackageNotFoundError:
        return ""


class ReportPage:
    """The blocks of one report. Keep it alive while painting (it owns the offscreen views); then `close()`."""

    def __init__(self, document: CostDocument, options: ReportOptions | None = None, paper: bool = False) -> None:
        """`paper`: lay out for PDF pages (the diagram is cut to page-sized pieces); else one tall image page."""
        self.document = document
        self.options = options or ReportOptions()
        self.paper = paper
        self.theme: ReportTheme = theme(self.options.dark)
        self.convention = document.convention  # the diagram and charts follow the document's, so the text does too
        self.views = ReportViews(document, self.options, self.theme)
        self.blocks: list[Block] = self._compose()

    def close(self) -> None:
        self.views.close()

    def __enter__(self) -> ReportPage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- layout -------------------------------------------------------------------------------------------
    def image_page(self, width: float | None = None) -> Page:
        """One tall page (PNG, SVG) of logical `width`."""
        return layout_continuous(self.blocks, width or self.options.image_width, IMAGE_MARGINS)

    def paper_pages(self) -> list[Page]:
        return paginate(self.blocks, self.options.page_size, PAPER_MARGINS)

    def paint(self, painter: QPainter, page: Page, number: int = 0, count: int = 0) -> None:
        """Paint `page` in logical pixels (the caller scales the painter to its device)."""
        painter.fillRect(0, 0, int(page.size.width() + 1), int(page.size.height() + 1), self.theme.background)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        paint_page(painter, page)
        if count > 1:
            self._paint_footer(painter, page, number, count)

    def _paint_footer(self, painter: QPainter, page: Page, number: int, count: int) -> None:
        from PySide6.QtCore import QRectF, Qt

        m = PAPER_MARGINS
        rect = QRectF(m.left(), page.size.height() - m.bottom() + 16, page.size.width() - m.left() - m.right(), 16)
        painter.setFont(self.theme.font(self.theme.small_px))
        painter.setPen(self.theme.muted)
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{number} / {count}")

    # ---- composition --------------------------------------------------------------------------------------
    def _compose(self) -> list[Block]:
        t = self.theme
        blocks: list[Block] = [self._title()]
        blocks += [HeadingBlock(t, "Totals", self._baseline_note()),
                   RowBlock([self._totals_table(), self._category_table()], [0.56, 0.44], min_width=330)]
        if self.paper:
            size, m = self.options.page_size, PAPER_MARGINS
            width, page_h = size.width() - m.left() - m.right(), size.height() - m.top() - m.bottom() - 30
        else:
            m = IMAGE_MARGINS
            width, page_h = self.options.image_width - m.left() - m.right(), None
        blocks += training_blocks(self.document, t, self.options.top_n)  # in Training mode only (issue 21)
        diagram = self.views.diagram_blocks(width, page_h)
        if diagram:
            blocks += [HeadingBlock(t, "Block diagram", self.views.diagram_note, figure=True), *diagram]
        charts = self.views.chart_grid()
        if charts is not None:
            blocks += [HeadingBlock(t, "Where the cost lives", figure=True), charts]
        first, second = self._top_tables()
        blocks += [HeadingBlock(t, f"The {self.options.top_n} heaviest layers"),
                   RowBlock([first, second], [0.5, 0.5], min_width=330)]
        blocks += [HeadingBlock(t, "Notes"), NotesBlock(t, self._notes())]
        return blocks

    def _title(self) -> TitleBlock:
        r = self.document.report
        inputs = ", ".join(fmt.shape(s) + (f" ({dt})" if dt != r.dtype and dt else "") for s, dt in r.inputs)
        conv = CONVENTIONS[self.convention]
        layers = f"{len(r.layers)} layers" if r.complete else \
            f"{self.document.row_count()} layers, {r.incomplete_note}"
        facts = [f"Input {inputs or '—'}", f"batch {r.batch_size}", r.dtype, layers,
                 f"convention: {conv.label}"]
        if r.source not in ("layers", ""):
            facts.append(f"traced ({r.source})")
        version = _version()
        return TitleBlock(self.theme, self.title, facts, f"NetCost {version}".strip() + " report",
                          subtitle=self._compared())

    @property
    def title(self) -> str:
        """The model's name, marked when the report is of an edited model (not of the model as loaded)."""
        name = self.document.name or self.document.report.model
        return f"{name}, edited" if self.document.applied_edits() else name

    def _compared(self) -> list[str]:
        """What the report is of: the model, the changes applied to it, the baseline the Δ columns compare with."""
        doc = self.document
        edits = doc.applied_edits()
        name = doc.name or doc.report.model
        if edits:
            shown = [f"{i}. {e}" for i, e in enumerate(edits[:MAX_EDITS_LISTED], 1)]
            more = len(edits) - MAX_EDITS_LISTED
            lines = [f"Model: {name} with {len(edits)} change{'s' * (len(edits) != 1)} applied: "
                     + "; ".join(shown) + (f"; and {more} more" if more > 0 else "") + "."]
        else:
            lines = [f"Model: {name} as loaded, no changes applied."]
        if doc.baseline is not None:
            lines.append(f"Baseline: {doc.baseline_label or 'pinned'}; the Δ columns show the change since then.")
        else:
            lines.append("Baseline: none pinned (no comparison).")
        return lines

    def _baseline_note(self) -> str:
        cmp = self.document.comparison()
        if cmp is None:
            return ""
        return f"Δ withheld: {cmp.withheld}" if cmp.withheld else "Δ: change since the pinned baseline"

    def _totals_table(self) -> TableBlock:
        r = self.document.report
        t, base = r.totals, self.document.baseline
        conv = CONVENTIONS[self.convention]
        Get = Callable[[Totals], int]
        rows_spec: list[tuple[str, Get, Callable[[float], str], bool]] = [
            ("Parameters", lambda x: x.params, fmt.si, True),
            ("  trainable", lambda x: x.trainable_params, fmt.si, True),
            ("  frozen", lambda x: x.frozen_params, fmt.si, True),
        ]
        if t.buffers:
            rows_spec.append(("Buffers", lambda x: x.buffers, fmt.si, True))
        rows_spec += [("MACs", lambda x: x.macs, fmt.si, True), ("FLOPs (NetCost)", lambda x: x.flops, fmt.si, True)]
        if self.convention not in ("flops", "macs"):
            rows_spec.append((conv.label, lambda x: convention_value(x, self.convention), fmt.si, True))
        rows_spec += [
            (f"Parameter size ({r.dtype})", lambda x: x.param_bytes, fmt.nbytes, False),
            ("Activations, forward", lambda x: x.activation_bytes, fmt.nbytes, False),
            ("Activations, fwd + bwd", lambda x: 2 * x.activation_bytes, fmt.nbytes, False),
            ("Memory access", lambda x: x.memory_access_bytes, fmt.nbytes, False),
        ]
        columns = [Column("Quantity", elastic=True), Column("Value", right=True), Column("Exact", right=True)]
        if base is not None:
            columns.append(Column("Δ baseline", right=True))
        rows: list[list[Cell]] = []
        cmp = self.document.comparison()
        withheld = cmp is not None and not cmp.complete  # a partial sum on either side: no change is given
        for label, get, formatter, exact in rows_spec:
            value = get(t)
            row: list[Cell] = [label, formatter(value), fmt.grouped(value) if exact else ""] if r.complete else \
                [label, DASH, (NOT_COSTED, self.theme.muted)]
            if base is not None:
                row.append((NOT_COSTED, self.theme.muted) if withheld else self._delta(value, get(base), formatter))
            rows.append(row)
            if label == "Activations, fwd + bwd":
                rows.append(self._peak_row(base is not None))
        return TableBlock(self.theme, columns, rows, caption="Model totals")

    def _peak_row(self, with_delta: bool) -> list[Cell]:
        """Peak live activations of an inference forward (not a sum over layers: no Totals getter)."""
        peak = self.document.report.peak_activation_bytes
        row: list[Cell] = ["Peak activations, inference", "—" if peak is None else fmt.nbytes(peak), ""]
        if with_delta:
            old = self.document.baseline_report.peak_activation_bytes if self.document.baseline_report else None
            row.append("" if peak is None or old is None else self._delta(peak, old, fmt.nbytes))
        return row

    def _delta(self, new: int, old: int, formatter: Callable[[float], str]) -> Cell:
        if new == old:
            return ("±0", self.theme.muted)
        # Every quantity in the table is a cost: lower is better.
        return (fmt.delta(new, old, formatter), self.theme.better if new < old else self.theme.worse)

    def _category_table(self) -> TableBlock:
        r = self.document.report
        conv = CONVENTIONS[self.convention]
        rows: list[list[Cell]] = []
        for cat in CATEGORIES:
            part = r.by_category.get(cat)
            if part is None or not (part.params or convention_value(part, self.convention)):
                continue
            whole = r.totals if r.complete else None  # no share of a partial total
            rows.append([cat, fmt.si(part.params), share_text(part, whole, PARAMS),
                         fmt.si(convention_value(part, self.convention)), share_text(part, whole, self.convention)])
        columns = [Column("Category", elastic=True), Column("Params", right=True), Column("Share", right=True),
                   Column(conv.label, right=True), Column("Share", right=True)]
        return TableBlock(self.theme, columns, rows, caption="By category")

    def _top_tables(self) -> tuple[TableBlock, TableBlock]:
        conv = CONVENTIONS[self.convention]
        compute = self._top_table(self.convention, conv.label, f"By {conv.label}")
        params = self._top_table(PARAMS, "Params", "By parameters")
        return (params, compute) if self.options.metric == "params" else (compute, params)

    def _top_table(self, metric: str, label: str, caption: str) -> TableBlock:
        r = self.document.report
        ranked = sorted((layer for layer in r.layers if measure(layer.totals, metric) > 0),
                        key=lambda x: -measure(x.totals, metric))
        rows: list[list[Cell]] = []
        cumulative = 0.0
        for rank, layer in enumerate(ranked[: self.options.top_n], 1):
            part = share(layer.totals, r.totals, metric)
            cumulative += part
            rows.append([str(rank), _layer_label(layer), layer.type, fmt.si(measure(layer.totals, metric)),
                         percent_text(part if r.complete else None),
                         percent_text(cumulative if r.complete else None)])
        if not rows:
            rows.append(["", "no layer has any", "", "", "", ""])
        columns = [Column("#", right=True), Column("Layer", elastic=True), Column("Type"),
                   Column(label, right=True), Column("Share", right=True), Column("Cum.", right=True)]
        return TableBlock(self.theme, columns, rows, caption=caption)

    def _notes(self) -> list[tuple[str, QColor | None]]:
        r, t = self.document.report, self.document.report.totals
        warn = self.theme.worse
        notes: list[tuple[str, QColor | None]] = []
        if not r.complete:
            cause = r.cause
            notes.append((f"Incomplete: {r.incomplete_note}{f' (from {cause})' if cause else ''}. The rows that "
                          "are costed are listed; totals, shares and changes against a baseline are not shown.",
                          warn))
        elif self.document.error is not None:
            notes.append((f"The layer list has an invalid value ({self.document.error}); the figures are the last "
                          "valid ones.", warn))
        for u in r.unsupported:
            notes.append((f"Not counted: {u.get('op', '?')} ×{u.get('count', 1)} in {u.get('module') or 'the model'}"
                          " (no cost formula for this op).", warn))
        notes += [(f"Warning: {w}", warn) for w in r.warnings]
        conv = CONVENTIONS[self.convention]
        notes.append((f"{conv.label}: {conv.description}. MACs: {CONVENTIONS['macs'].description}.", None))
        if r.complete:
            notes.append(("Same model in other tools' conventions: "
                          + ", ".join(f"{CONVENTIONS[p].label} {fmt.si(getattr(t, p))}" for p in PEERS) + ".", None))
        if self.views.diagram_note:
            notes.append((f"Block diagram: {self.views.diagram_note}.", None))
        return notes


def _layer_label(layer: LayerCost) -> str:
    return layer.path or layer.name or f"{layer.type}-{layer.index}"
