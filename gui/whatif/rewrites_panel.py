"""`RewritesPanel`: the article's design tricks that apply to the current graph, each with its exact params, MACs,
FLOPs and memory deltas shown before it is applied; Apply makes it one undoable step on the document.

Candidates and previews come from `costing.rewrites` (the panel computes nothing): candidates at once, previews a
few per pass of the event loop (the selected rows' first), so a big model's list fills in without freezing the
window. Once previewed, candidates are ranked by what they save (MACs, or params: *Rank by*) with
`costing.rewrite_ranking`; the harmful and meaningless ones are hidden unless *Show hidden* is ticked, and then say
why. The best one is selected first, and after Apply the next-best one (not the first row). The rows selected in
the table come first (or alone, with "Selected rows only"). Before the first rewrite
the current costs are pinned as the baseline (unless unticked), so the table, totals and comparison show the
saving.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QTreeWidgetItem,
    QWidget,
)

from netcost.costing import formatting as fmt
from netcost.costing import rewrite_ranking as rr
from netcost.costing import rewrites as rw
from netcost.gui.common.on_screen import out_of_sight
from netcost.gui.common.palette import LIGHT
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.whatif.rewrites_ui import setup_ui

SHORT_NAMES = {"two_3x3": "stacked 3×3", "factorize_nx1": "N×1 + 1×N", "depthwise_separable": "depthwise-sep.",
               "global_avg_pool": "global avg pool", "reduce_1x1": "1×1 reduction", "width": "width ×"}
TRICK, WHERE, D_PARAMS, D_MACS, D_FLOPS, D_MEMORY, WHY = range(7)
DELTAS = range(D_PARAMS, D_MEMORY + 1)
PREVIEW_SLICE_S = 0.008  # previews per pass of the event loop: as many as fit in this (at least one)
DEBOUNCE_MS = 250
LESS, MORE, HIDDEN = LIGHT.less, LIGHT.more, LIGHT.same
REWRITE_ROLE = Qt.ItemDataRole.UserRole


class RewritesPanel(QWidget):
    applied = Signal(str)  # the rewrite's id, after it was applied

    def __init__(self, document: CostDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.candidates: list[rw.Rewrite] = []
        self.previews: dict[tuple, rw.RewritePreview | str] = {}  # (id, params) -> its preview, or why not
        self._params: dict[str, rw.Rewrite] = {}  # base id -> the candidate with the user's parameters
        self._graph = None  # the graph the list was made for
        self._previews_graph = None  # the graph `previews` were made on
        self._pointless: dict[str, str] = {}  # candidate id -> why it is meaningless on this graph
        self._hidden: dict[str, str] = {}  # listed or left-out id -> why it is hidden ("" when not)
        self._unranked = False  # rows were listed before their previews: rank again once all are in
        self._after_apply: tuple[list[str], str] | None = None  # (ranked ids, the applied id): select the next
        self.stale = True
        setup_ui(self)  # the widgets, as Qt Designer's setupUi would make them (rewrites_ui.py)

        self._by_id: dict[str, rw.Rewrite] = {}  # listed id -> candidate (with the user's parameters)
        self._cursor = 0  # the first listed row whose preview may be missing
        self.resize_timer = QTimer(self)
        self.resize_timer.setSingleShot(True)
        self.resize_timer.timeout.connect(self._resize_columns)
        self.preview_timer = QTimer(self)
        self.preview_timer.setInterval(0)
        self.preview_timer.timeout.connect(self._preview_some)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.refresh)
        self.tree.currentItemChanged.connect(lambda *_: self._on_tree_current_changed())
        self.tree.itemDoubleClicked.connect(lambda *_: self.apply_current())
        self.apply_button.clicked.connect(lambda: self.apply_current())
        self.kind_filter.currentIndexChanged.connect(lambda _i: self._fill())
        self.selection_only.toggled.connect(lambda _on: self._fill())
        self.rank_by.currentIndexChanged.connect(lambda _i: self._fill())
        self.show_hidden.toggled.connect(lambda _on: self._fill())
        self.ratio.valueChanged.connect(lambda v: self._on_param_changed(ratio=v))
        self.factor.valueChanged.connect(lambda v: self._on_param_changed(factor=v))
        self.scope.activated.connect(lambda _i: self._on_param_changed(scope=str(self.scope.currentData())))
        d = document
        d.reportChanged.connect(lambda _first: self._on_document_changed())
        d.documentReset.connect(self._on_document_changed)
        d.selection.changed.connect(lambda *_: self._fill())
        self._show_params(None)
        self.refresh()

    # ---- building the list ---------------------------------------------------------------------------------
    def on_screen(self) -> bool:
        """Shown and not behind another dock's tab (a tabbed-away dock stays `isVisible()` with nothing exposed)."""
        return not out_of_sight(self)

    def _on_document_changed(self) -> None:
        self.stale = True
        self.preview_timer.stop()  # previews of the old graph are of no use
        if self.on_screen():
            self.debounce.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stale:
            self.refresh()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        # a background tab raised (no showEvent comes then): catch up after this paint
        if self.stale and not self.debounce.isActive():
            self.debounce.start(0)
        elif self._cursor < self.tree.topLevelItemCount() and not self.preview_timer.isActive():
            self.preview_timer.start()

    def _resize_columns(self) -> None:
        for col in range(TRICK, WHY):
            self.tree.resizeColumnToContents(col)

    def refresh(self) -> None:
        """Candidates of the graph as it is now; previews are filled in by the timer."""
        self.debounce.stop()
        self.debounce.setInterval(DEBOUNCE_MS)
        self.stale = False
        doc = self.document
        graph = doc.graph
        keep = self._graph is graph
        self._graph = graph
        if not keep:
            self.previews, self._params = {}, {}
        try:
            self.candidates = rw.candidates(graph, report=doc.report) if graph.nodes else []
            self._pointless = {r.id: rr.pointless(graph, r, doc.report) for r in self.candidates}
            self.status.setText("" if self.candidates or not graph.nodes else
                                "None of the tricks applies to this model (it has no plain k×k conv, no "
                                "Flatten + Linear on a feature map, no scalable scope).")
        except rw.RewriteError as e:
            self.candidates, self._pointless = [], {}
            self.status.setText(f"No rewrites: {e}")
        self._fill_scopes()
        self._fill()
        self.preview_timer.start()

    def _fill_scopes(self) -> None:
        self.scope.clear()
        self.scope.addItem("the whole model", "")
        for s in self.document.graph.scopes:
            self.scope.addItem(s.path, s.path)

    def _shown(self) -> list[rw.Rewrite]:
        """The candidates to list (with the user's parameters), the selected rows' first."""
        kind_ = self.kind_filter.currentData()
        doc = self.document
        nodes = [doc.graph.node(i) for i in doc.selection.ids]
        selected = {n.display_name for n in nodes}
        scopes = {n.scope for n in nodes}

        def at_selection(r: rw.Rewrite) -> bool:
            if r.kind == "width":
                return bool(r.node) and any(s == r.node or s.startswith(r.node + ".") for s in scopes)
            return r.node in selected

        out = self._ranked([self._params.get(r.id, r) for r in self.candidates if not kind_ or r.kind == kind_])
        self._by_id = {r.id: r for r in self._shown_cache()}
        if self.selection_only.isChecked():
            return [r for r in out if at_selection(r)]
        # stable: ranked within each part; the hidden ones (when shown) after the others
        return sorted(out, key=lambda r: (bool(self._hidden.get(r.id)), not at_selection(r)))

    def saving(self) -> rr.Saving:
        return rr.Saving(self.rank_by.currentData())

    def _ranked(self, listed: list[rw.Rewrite]) -> list[rw.Rewrite]:
        """`listed` ranked by the chosen saving (the previewed ones; the others after them, in graph order), the
        hidden ones left out unless asked for. Fills `_hidden` with each one's reason."""
        self._drop_stale_previews()
        by_key = {_key(r): r for r in listed}
        previewed = [p for r in listed if isinstance(p := self.previews.get(_key(r)), rw.RewritePreview)]
        ranked = rr.rank(self.document.graph, previewed, self.saving(), self.document.report)
        ordered = [by_key[_key(x.rewrite)] for x in ranked]
        rest = [r for r in listed if not isinstance(self.previews.get(_key(r)), rw.RewritePreview)]
        self._hidden = {x.rewrite.id: x.hidden for x in ranked}
        self._hidden.update({r.id: self._pointless.get(self._base_id(r), "") for r in rest})
        out = ordered + rest
        if not self.show_hidden.isChecked():
            out = [r for r in out if not self._hidden.get(r.id)]
        self._unranked = any(_key(r) not in self.previews for r in out)
        return out

    def hidden_reason(self, rewrite_id: str) -> str:
        """Why the candidate `rewrite_id` is hidden by default ("" when it is not, or not ranked yet)."""
        return self._hidden.get(rewrite_id, "")

    def _fill(self) -> None:
        current = self.current_rewrite()
        shown = self._shown()
        self.tree.blockSignals(True)
        self.tree.clear()
        for r in shown:
            name = SHORT_NAMES.get(r.kind, r.kind) + (f"{r.params['factor']:g}" if r.kind == "width" else "")
            item = QTreeWidgetItem([name, r.node or "whole model"])
            item.setData(TRICK, REWRITE_ROLE, r.id)
            why = self._hidden.get(r.id, "")
            item.setToolTip(TRICK, r.description + (f"\nHidden: {why}" if why else ""))
            if why:
                item.setText(WHY, why)
                item.setToolTip(WHY, why)
                for col in (TRICK, WHERE, WHY):
                    item.setForeground(col, QBrush(HIDDEN))
            for col in DELTAS:
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._show_preview(item, r)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        # the reasons, when they are asked for, in the room the Trick column takes otherwise
        why = self.show_hidden.isChecked()
        self.tree.setColumnHidden(WHY, not why)
        self.tree.header().setSectionResizeMode(WHY, QHeaderView.ResizeMode.Stretch if why else
                                                QHeaderView.ResizeMode.Interactive)
        self._cursor = 0
        self.resize_timer.start(0)
        ids = [r.id for r in shown]
        pick = self._pick(shown, current)
        if pick >= 0:
            self.tree.setCurrentItem(self.tree.topLevelItem(pick))
        self._on_tree_current_changed()
        if not ids and self.candidates and self.selection_only.isChecked():
            self.description.setText("No rewrite applies to the selected rows.")

    def _pick(self, shown: list[rw.Rewrite], current: rw.Rewrite | None) -> int:
        """The row to select: after an Apply the next-best candidate of the ranking before it, else the one that
        was current, else (once ranked) the best; -1 for none yet."""
        bases = [self._base_id(r) for r in shown]
        if self._after_apply is not None and (self.stale or self._graph is not self.document.graph):
            return -1  # the list is still the one before the Apply
        if self._after_apply is not None:
            ranked_ids, applied = self._after_apply
            want = rr.next_best(ranked_ids, applied, lambda i: i in bases)
            if want is not None:
                self._after_apply = None
                return bases.index(want)
            if self._unranked:
                return -1  # the rows it may pick are still being previewed
            self._after_apply = None
        if current is not None and self._base_id(current) in bases:
            return bases.index(self._base_id(current))
        return 0 if shown and not self._unranked else -1

    # ---- previews ------------------------------------------------------------------------------------------
    def preview_of(self, rewrite: rw.Rewrite) -> rw.RewritePreview | str:
        """The exact deltas of `rewrite` on the document's graph (computed once), or why it cannot be applied."""
        self._drop_stale_previews()
        key = _key(rewrite)
        got = self.previews.get(key)
        if got is None:
            try:
                got = rw.preview(self.document.graph, rewrite, self.document.report)
            except rw.RewriteError as e:
                got = str(e)
            self.previews[key] = got
        return got

    def _drop_stale_previews(self) -> None:
        """Previews (and reasons a rewrite failed) hold for the graph they were made on only."""
        if self._previews_graph is not self.document.graph:
            self.previews = {}
            self._previews_graph = self.document.graph

    def _preview_some(self) -> None:
        """Previews for a few milliseconds per pass of the event loop, in the listed order (selected rows first);
        paused while the panel is not on screen (it resumes when painted again)."""
        if not self.on_screen():
            self.preview_timer.stop()
            return
        start = time.perf_counter()
        n = self.tree.topLevelItemCount()
        while self._cursor < n:
            item = self.tree.topLevelItem(self._cursor)
            r = self._rewrite_of(item)
            if r is not None and _key(r) not in self.previews:
                self.preview_of(r)
                self._show_preview(item, r)
                if time.perf_counter() - start > PREVIEW_SLICE_S:
                    self.resize_timer.start(200)
                    return
            self._cursor += 1
        self.preview_timer.stop()
        if self._unranked:  # every listed row has its preview now: list them ranked
            self._fill()
            if self._unranked:  # (not expected: a row listed anew) its preview comes on the next pass
                self.preview_timer.start()
                return
        self.resize_timer.start(0)
        self._update_details()

    def _show_preview(self, item: QTreeWidgetItem, r: rw.Rewrite) -> None:
        p = self.previews.get(_key(r))
        if p is None:
            for col in DELTAS:
                item.setText(col, "…")
            return
        if isinstance(p, str):
            item.setText(D_PARAMS, "n/a")
            item.setToolTip(D_PARAMS, p)
            return
        values = {D_PARAMS: (p.params_delta, fmt.si), D_MACS: (p.macs_delta, fmt.si), D_FLOPS: (p.flops_delta, fmt.si),
                  D_MEMORY: (p.activation_bytes_delta, fmt.nbytes)}
        for col, (v, f) in values.items():
            item.setText(col, ("+" if v > 0 else "") + f(v) if v else "±0")
            item.setForeground(col, QBrush(LESS if v < 0 else MORE if v > 0 else HIDDEN))
            item.setToolTip(col, f"{fmt.grouped(v)} exactly")

    # ---- selection and parameters --------------------------------------------------------------------------
    def _rewrite_of(self, item: QTreeWidgetItem | None) -> rw.Rewrite | None:
        if item is None:
            return None
        rid = item.data(TRICK, REWRITE_ROLE)
        r = self._by_id.get(rid)
        if r is None:  # its parameters changed since the list was made
            r = next((c for c in self._shown_cache() if c.id == rid), None)
            if r is not None:
                self._by_id[rid] = r
        return r

    def _shown_cache(self) -> list[rw.Rewrite]:
        return [self._params.get(r.id, r) for r in self.candidates]

    def current_rewrite(self) -> rw.Rewrite | None:
        return self._rewrite_of(self.tree.currentItem())

    def select(self, rewrite_id: str) -> bool:
        """Make the candidate `rewrite_id` current (scripts, tests), showing the hidden ones when it is one of
        them; False when it is not a candidate."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            r = self._rewrite_of(item)
            if r is not None and (r.id == rewrite_id or self._base_id(r) == rewrite_id):
                self.tree.setCurrentItem(item)
                return True
        if not self.show_hidden.isChecked() and any(r.id == rewrite_id for r in self.candidates):
            self.show_hidden.setChecked(True)
            return self.select(rewrite_id)
        return False

    def _base_id(self, r: rw.Rewrite) -> str:
        """The id of the candidate `r` was made from (a width candidate keeps it when its scope changes)."""
        return next((b for b, v in self._params.items() if v is r), r.id)

    def _on_tree_current_changed(self) -> None:
        r = self.current_rewrite()
        self._show_params(r)
        if r is not None:
            item = self.tree.currentItem()
            self.preview_of(r)
            if item is not None:
                self._show_preview(item, r)
        self._update_details()

    def _show_params(self, r: rw.Rewrite | None) -> None:
        kind_ = r.kind if r is not None else ""
        for widget, visible in ((self.ratio, kind_ == "reduce_1x1"), (self.factor, kind_ == "width"),
                                (self.scope, kind_ == "width")):
            widget.setVisible(visible)
            label = self.form.labelForField(widget)
            if label is not None:
                label.setVisible(visible)
        if r is None:
            return
        for widget, key in ((self.ratio, "ratio"), (self.factor, "factor")):
            if key in r.params:
                widget.blockSignals(True)
                widget.setValue(float(r.params[key]))
                widget.blockSignals(False)
        if "scope" in r.params:
            self.scope.setCurrentIndex(max(0, self.scope.findData(r.params["scope"])))

    def _on_param_changed(self, **params: object) -> None:
        r = self.current_rewrite()
        if r is None:
            return
        try:
            new = rw.with_params(r, **params)
        except rw.RewriteError as e:
            self.status.setText(str(e))
            return
        self._params[self._base_id(r)] = new
        self._by_id[new.id] = new
        item = self.tree.currentItem()
        if item is not None:
            item.setData(TRICK, REWRITE_ROLE, new.id)
            item.setText(WHERE, new.node or "whole model")
            if new.kind == "width":
                item.setText(TRICK, f"{SHORT_NAMES['width']}{new.params['factor']:g}")
            item.setToolTip(TRICK, new.description)
            self.preview_of(new)
            self._show_preview(item, new)
        self._update_details()

    def _update_details(self) -> None:
        r = self.current_rewrite()
        if r is None:
            self.description.setText("")
            self.apply_button.setEnabled(False)
            return
        p = self.previews.get(_key(r))
        why = self._hidden.get(r.id, "")
        if isinstance(p, rw.RewritePreview):
            hidden = f" (hidden: {why})" if why else ""
            self.description.setText(
                f"{r.description}{hidden}\nParams {fmt.delta(p.after.params, p.before.params)} · MACs "
                f"{fmt.delta(p.after.macs, p.before.macs)} · FLOPs "
                f"{fmt.delta(p.after.flops, p.before.flops)} · activations "
                f"{fmt.delta(p.after.activation_bytes, p.before.activation_bytes, fmt.nbytes)}")
            self.apply_button.setEnabled(True)
        else:
            self.description.setText(r.description + (f"\nCannot be applied: {p}" if isinstance(p, str) else ""))
            self.apply_button.setEnabled(False)

    # ---- applying ------------------------------------------------------------------------------------------
    def apply_current(self) -> bool:
        """Apply the selected rewrite as one undo step (pinning a baseline first if asked and none is)."""
        r = self.current_rewrite()
        if r is None:
            return False
        p = self.preview_of(r)
        if isinstance(p, str):
            self.status.setText(f"Not applied: {p}")
            return False
        doc = self.document
        ranked_ids = [self._base_id(x) for i in range(self.tree.topLevelItemCount())
                      if (x := self._rewrite_of(self.tree.topLevelItem(i))) is not None]
        if self.pin_first.isChecked() and doc.baseline is None:
            doc.pin_baseline()
        try:
            done = doc.apply_graph_change(p.result.graph, f"Rewrite: {r.description}", p.result.mapping)
        except ValueError as e:
            self.status.setText(f"Not applied: {e}")
            return False
        if done:
            self._after_apply = (ranked_ids, self._base_id(r))
            self.status.setText(f"Applied {r.id} (Undo: Ctrl+Z)")
            self.applied.emit(r.id)
        return done


def _key(r: rw.Rewrite) -> tuple:
    """A preview's key: the id and the parameters (a ratio change keeps the id)."""
    return (r.id, tuple(sorted((k, str(v)) for k, v in r.params.items())))
