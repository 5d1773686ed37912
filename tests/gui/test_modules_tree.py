"""The Modules tree of a large model makes a container's items when it is first opened, and then shows what an
eagerly built tree shows: the same names, figures, marks and selection."""

from __future__ import annotations

import pytest

import netcost.gui.table.hierarchy_tree as ht
from netcost.costing import formatting as fmt
from netcost.gui.document.cost_document import CostDocument
from tests.gui.test_big_graph import _generator


def _names(item) -> list[str]:  # noqa: ANN001 - a QTreeWidgetItem
    return [item.child(i).text(0) for i in range(item.childCount())]


@pytest.fixture
def lazy_tree(qtbot, monkeypatch: pytest.MonkeyPatch) -> ht.HierarchyTreeWidget:
    monkeypatch.setattr(ht, "LAZY_LEAVES_ABOVE", 100)  # "large" at test size
    doc = CostDocument()
    doc.set_graph(_generator().transformer_graph(600))  # 40 blocks `layers.N` of attn and mlp
    tree = ht.HierarchyTreeWidget(doc)
    qtbot.addWidget(tree)
    tree.show()
    return tree


def test_a_closed_container_shows_its_children_once_expanded(lazy_tree: ht.HierarchyTreeWidget) -> None:
    tree, doc = lazy_tree, lazy_tree.document
    top = [tree.tree.topLevelItem(i) for i in range(tree.tree.topLevelItemCount())]
    assert [t.text(0) for t in top][:3] == ["0", "1", "2"] and len(top) == 40
    assert top[0].isExpanded() and _names(top[0]) == ["attn", "mlp"]  # the first opens as before
    block = top[7]
    assert not block.isExpanded() and block.childCount() == 0  # not made yet, but it can be opened
    assert block.childIndicatorPolicy() == block.ChildIndicatorPolicy.ShowIndicator
    hier = {h.path: h for h in doc.report.hierarchy}
    assert block.text(2) == fmt.si(hier["layers.7"].totals.params)  # its subtotal shows from the start
    block.setExpanded(True)
    assert _names(block) == ["attn", "mlp"]
    attn = block.child(0)
    assert attn.childCount() == 0 and attn.text(2) == fmt.si(hier["layers.7.attn"].totals.params)
    attn.setExpanded(True)
    assert _names(attn) == ["norm", "q", "k", "v", "kt", "scores", "softmax", "mix", "o", "residual"]
    q = doc.row_of("layers.7.attn.q")
    assert attn.child(1).text(2) == fmt.si(doc.row_cost(q).totals.params)
    attn.setSelected(True)  # a container made late selects its rows like any other
    assert doc.selection.rows == list(range(hier["layers.7.attn"].first, hier["layers.7.attn"].last + 1))


def test_what_was_open_opens_again_when_its_container_is_made(lazy_tree: ht.HierarchyTreeWidget) -> None:
    tree = lazy_tree
    block = tree.tree.topLevelItem(3)
    block.setExpanded(True)
    block.child(1).setExpanded(True)  # layers.3.mlp
    block.setExpanded(False)
    tree.rebuild()  # (a convention change or reload of the same model)
    block = tree.tree.topLevelItem(3)
    assert block.childCount() == 0  # closed: its insides wait
    block.setExpanded(True)
    mlp = block.child(1)
    assert mlp.isExpanded() and _names(mlp) == ["norm", "fc1", "act", "fc2", "residual"]


def test_a_long_container_is_made_a_part_per_pass_in_a_shown_window(lazy_tree: ht.HierarchyTreeWidget, qtbot,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100k-node graph's 6,666 top-level layers took ~130 ms in one event-loop pass: FILL_PASS items a pass, in
    order, each part opened where the user left it open; reading an item not made yet completes them at once."""
    tree = lazy_tree
    monkeypatch.setattr(ht, "FILL_PASS", 15)
    tree.expanded = {"layers.30"}  # left open by the user
    tree.rebuild()
    view = tree.tree
    assert view.topLevelItemCount() == 15  # the first part now, the others in the passes after
    qtbot.waitUntil(lambda: view.topLevelItemCount() == 40)
    top = [view.topLevelItem(i) for i in range(40)]
    assert [t.text(0) for t in top] == [str(i) for i in range(40)]
    assert top[30].isExpanded() and _names(top[30]) == ["attn", "mlp"] and not top[29].isExpanded()
    tree.rebuild()
    assert view.topLevelItemCount() == 15
    item = tree._path_items["layers.35.mlp"]  # asked for before its part was made: every part made now
    assert view.topLevelItemCount() == 40 and item.parent().text(0) == "35"
