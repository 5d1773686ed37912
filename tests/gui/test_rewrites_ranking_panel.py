"""The Rewrites panel ranks candidates by what they save, hides the harmful and meaningless ones (shown on request
with why) and, after Apply, selects the next-best candidate instead of going back to the first row."""

from __future__ import annotations

import pytest

from netcost.gui.app.main_window import MainWindow
from netcost.gui.whatif.rewrites_panel import REWRITE_ROLE, TRICK, WHY


@pytest.fixture
def window(rewrites_window: MainWindow) -> MainWindow:
    return rewrites_window

def _ranked(qtbot, window: MainWindow) -> list[str]:
    panel = window.rewrites
    qtbot.waitUntil(lambda: not panel.stale and not panel._unranked and panel.current_rewrite() is not None)
    tree = panel.tree
    return [tree.topLevelItem(i).data(TRICK, REWRITE_ROLE) for i in range(tree.topLevelItemCount())]


def test_ranked_by_macs_saved_best_selected_harmful_hidden(qtbot, window: MainWindow) -> None:
    ids = _ranked(qtbot, window)
    panel = window.rewrites
    assert ids[:3] == ["width:*", "depthwise_separable:conv2", "reduce_1x1:conv2"]
    assert panel.current_rewrite().id == "width:*"  # the best, not the first row in graph order
    for worthless in ("two_3x3:conv1", "factorize_nx1:conv1", "reduce_1x1:conv1", "depthwise_separable:conv1"):
        assert worthless not in ids
    assert len(ids) == 13 and panel.tree.isColumnHidden(WHY)
    shown = ids
    panel.show_hidden.setChecked(True)
    ids = _ranked(qtbot, window)
    assert len(ids) == 19 and ids[:13] == shown  # the hidden ones after those offered
    last = panel.tree.topLevelItem(ids.index("two_3x3:conv1"))
    assert "Hidden: increases MACs by 1,456 %" in last.toolTip(TRICK)
    assert last.text(WHY) == "increases MACs by 1,456 %" and not panel.tree.isColumnHidden(WHY)
    panel.tree.setCurrentItem(last)
    assert "(hidden: increases MACs by 1,456 %)" in panel.description.text()
    rgb = panel.tree.topLevelItem(ids.index("reduce_1x1:conv1"))
    assert "reads only 3 channels (the input image)" in rgb.toolTip(TRICK)


def test_rank_by_params(qtbot, window: MainWindow) -> None:
    panel = window.rewrites
    panel.rank_by.setCurrentIndex(panel.rank_by.findData("params"))
    assert _ranked(qtbot, window)[:2] == ["width:*", "global_avg_pool:fc1"]


def test_after_apply_the_next_best_is_selected(qtbot, window: MainWindow) -> None:
    panel = window.rewrites
    _ranked(qtbot, window)
    assert panel.select("depthwise_separable:conv2")
    assert panel.apply_current()
    # conv2 is gone, so its other candidates are too: the next one in the ranking still offered is conv4's
    qtbot.waitUntil(lambda: not panel.stale and not panel._unranked)
    assert panel.current_rewrite().id == "depthwise_separable:conv4"
    assert panel.apply_current()
    qtbot.waitUntil(lambda: not panel.stale and not panel._unranked)
    assert panel.current_rewrite().id == "depthwise_separable:conv3"  # (conv4 is gone too)
