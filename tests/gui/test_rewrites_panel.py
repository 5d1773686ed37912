"""The Rewrites panel in the window: each trick's deltas are shown before applying, Apply is one undo step that
changes the totals by exactly those deltas, the baseline is pinned first, the table shows the new rows."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from netcost.costing import formatting as fmt
from netcost.costing import rewrites as rw
from netcost.costing.graph_eval import evaluate_graph
from netcost.gui.app.main_window import MainWindow
from netcost.gui.table.layer_table_model import DELTA_PARAMS, NAME, SORT_ROLE
from netcost.gui.whatif.rewrites_panel import D_MACS, D_PARAMS

# One candidate of every kind that applies to the article's AlexNet (its only scope is the whole model).
ALEXNET_TRICKS = ("two_3x3:conv2", "factorize_nx1:conv2", "depthwise_separable:conv2", "global_avg_pool:fc1",
                  "reduce_1x1:conv2", "width:*")


@pytest.fixture
def window(rewrites_window: MainWindow) -> MainWindow:
    return rewrites_window

def _shown_text(window: MainWindow, col: int) -> str:
    return window.rewrites.tree.currentItem().text(col)


def test_apply_changes_totals_by_exactly_the_shown_delta_and_undo_restores(window: MainWindow) -> None:
    for rewrite_id in ALEXNET_TRICKS:  # one window for all six: each is undone before the next
        _apply_and_undo(window, rewrite_id)


def _apply_and_undo(window: MainWindow, rewrite_id: str) -> None:
    doc, panel = window.document, window.rewrites
    doc.clear_baseline()
    doc.undo_stack.clear()
    before = doc.report.totals
    rows_before = doc.row_count()
    assert panel.select(rewrite_id)
    preview = panel.preview_of(panel.current_rewrite())
    assert isinstance(preview, rw.RewritePreview)
    # shown before applying: the exact deltas the engine computes
    d = preview.delta
    assert _shown_text(window, D_PARAMS) == (("+" if d.params > 0 else "") + fmt.si(d.params) if d.params else "±0")
    assert _shown_text(window, D_MACS) == (("+" if d.macs > 0 else "") + fmt.si(d.macs) if d.macs else "±0")
    assert doc.baseline is None
    assert panel.apply_current()
    assert doc.baseline == before  # pinned first, so the comparison shows
    assert doc.report.totals - before == d  # base + delta, to the unit, in every field
    assert doc.report.totals == evaluate_graph(doc.graph).totals  # the incremental update is exact
    assert doc.undo_stack.count() == 1
    mapping = preview.result.mapping
    new_ids = {i for ids in mapping.values() for i in ids}
    assert {doc.layer_id(r) for r in doc.selection.rows} <= new_ids and doc.selection.rows
    window.act_undo.trigger()
    assert doc.report.totals == before and doc.row_count() == rows_before
    window.act_redo.trigger()
    assert doc.report.totals - before == d
    window.act_undo.trigger()


def test_new_rows_show_as_new_in_the_table_and_the_replaced_row_is_listed_removed(window: MainWindow) -> None:
    doc, panel = window.document, window.rewrites
    assert panel.select("depthwise_separable:conv2")
    assert panel.apply_current()
    model = window.table.table_model
    names = {model.index(r, NAME).data(): r for r in range(model.rowCount())}
    dw, pw = names["conv2.depthwise"], names["conv2.pointwise"]
    # depthwise 5x5 on 96 channels (no bias, as conv2): 96 x 25 = 2,400; pointwise 96 -> 192: 18,432
    assert model.index(dw, DELTA_PARAMS).data() == f"new +{fmt.si(96 * 25)}"  # "new +2.40 K"
    assert model.index(pw, DELTA_PARAMS).data(SORT_ROLE) == 96 * 192
    assert "replaces conv2" in model.index(pw, DELTA_PARAMS).data(Qt.ItemDataRole.ToolTipRole)
    assert [r.name for r in doc.removed_rows()] == ["conv2"]
    assert "conv2" in window.views["compare"].removed.text()
    assert not window.table.isColumnHidden(DELTA_PARAMS)
    window.document.clear_baseline()
    assert window.table.isColumnHidden(DELTA_PARAMS)  # no baseline: no Δ columns


def test_adjusted_ratio_is_what_is_previewed_and_applied(window: MainWindow) -> None:
    doc, panel = window.document, window.rewrites
    assert panel.select("reduce_1x1:conv2")
    assert panel.ratio.isVisible() and not panel.factor.isVisible()
    panel.ratio.setValue(0.5)
    before = doc.report.totals
    assert panel.apply_current()
    # conv2 96->192 5x5 no bias at 27x27: a 1x1 96->48 (4,608) then 48->192 5x5 (230,400) instead of 460,800
    assert doc.report.totals.params - before.params == 96 * 48 + 48 * 192 * 25 - 96 * 192 * 25
    # MACs: 96 x 48 x 27² + 48 x 192 x 25 x 27² - 96 x 192 x 25 x 27²
    assert doc.report.totals.macs - before.macs == (96 * 48 + 48 * 192 * 25 - 96 * 192 * 25) * 27 * 27


def test_width_factor_and_a_bad_value_keeps_the_document(window: MainWindow) -> None:
    doc, panel = window.document, window.rewrites
    assert panel.select("width:*")
    assert panel.factor.isVisible() and panel.scope.isVisible()
    panel.factor.setValue(0.25)
    p = panel.preview_of(panel.current_rewrite())
    assert isinstance(p, rw.RewritePreview) and p.rewrite.params["factor"] == 0.25
    base = panel.current_rewrite()
    with pytest.raises(rw.RewriteError):
        rw.with_params(base, factor=-1)
    panel._on_param_changed(factor=-1.0)  # what a script could hand it: refused, said, nothing changes
    assert "factor must be a positive number" in panel.status.text()
    assert doc.undo_stack.count() == 0


def test_selection_first_and_selection_only(window: MainWindow) -> None:
    doc, panel = window.document, window.rewrites
    doc.selection.set_rows([doc.row_of("conv4")])
    first = panel.tree.topLevelItem(0)
    assert first.text(1) == "conv4"
    panel.selection_only.setChecked(True)
    wheres = {panel.tree.topLevelItem(i).text(1) for i in range(panel.tree.topLevelItemCount())}
    assert wheres == {"conv4"}


def test_menu_entry_and_shortcut_raise_the_panel(window: MainWindow) -> None:
    assert window.act_rewrites.shortcut().toString() == "Ctrl+Shift+R"
    window.docks["editor"].raise_()
    window.act_rewrites.trigger()
    assert window.docks["rewrites"].isVisible()
    assert window.rewrites.apply_button.shortcut().toString() == "Ctrl+Return"
