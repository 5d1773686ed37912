"""The context-menu entries that freeze or checkpoint a scope for training (issue 21), shared by the diagram and
the Modules tree: each names its effect on the step before it is applied (from `TrainingState.what_if`, the
engine's step with that scope added) and is one undo step (`TrainingState.set_scope`)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTreeWidget, QWidget

from netcost.costing import formatting as fmt
from netcost.costing.training_fit import saved_at
from netcost.gui.document.training_state import ScopeKind, TrainingState

_LABELS = {ScopeKind.FREEZE: ("Freeze {} for training", "Unfreeze {}", "frozen with {}"),
           ScopeKind.CHECKPOINT: ("Checkpoint {} (recompute in backward)", "Stop checkpointing {}",
                                  "checkpointed with {}")}


def scope_menu(state: TrainingState, path: str, parent: QWidget | None = None) -> QMenu:
    """A menu with the freeze and checkpoint entries of scope `path`."""
    menu = QMenu(parent)
    add_scope_actions(menu, state, path)
    return menu


def add_scope_actions(menu: QMenu, state: TrainingState, path: str) -> list[QAction]:
    """Append the freeze / checkpoint entries of `path` to `menu` (disabled where a scope around it already is)."""
    actions = []
    for kind, (on_text, off_text, covered_text) in _LABELS.items():
        holder = state.covering(kind, path)
        if holder == path:
            act = menu.addAction(off_text.format(path))
            act.triggered.connect(lambda _=False, k=kind: state.set_scope(k, path, False))
        elif holder is not None:
            act = menu.addAction(covered_text.format(holder))
            act.setEnabled(False)
        else:
            act = menu.addAction(on_text.format(path) + effect_text(state, kind, path))
            act.triggered.connect(lambda _=False, k=kind: state.set_scope(k, path, True))
        actions.append(act)
    return actions


def effect_text(state: TrainingState, kind: ScopeKind, path: str) -> str:
    """' — gradients and states −1.2 GiB' / ' — saved activations −40 MiB, +1.2 G MACs recomputed'."""
    now, then = state.train(), state.what_if(kind, path)
    if now is None or then is None:
        return ""
    a, b = now.totals, then.totals
    if kind is ScopeKind.FREEZE:
        saved = (a.grad_bytes + a.optimizer_bytes) - (b.grad_bytes + b.optimizer_bytes)
        return f" — gradients and states −{fmt.nbytes(saved)}" if saved > 0 else ""
    saved = saved_at(now, a.saved_activation_bytes - b.saved_activation_bytes, state.batch)  # at the what-if batch
    more = b.recompute_macs - a.recompute_macs
    if saved <= 0 and not more:
        return ""
    return f" — saved activations −{fmt.nbytes(max(saved, 0))}, +{fmt.si(more)} MACs recomputed"


def install_tree_menu(tree: QTreeWidget, state: TrainingState, path_role: int) -> None:
    """Give a module tree this context menu: an item's scope is its `path_role` data (the Modules tree's hook)."""
    tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show(pos: QPoint) -> None:
        item = tree.itemAt(pos)
        if item is not None and item.data(0, path_role):
            popup(scope_menu(state, str(item.data(0, path_role)), tree), tree.viewport().mapToGlobal(pos))
    tree.customContextMenuRequested.connect(show)


def popup(menu: QMenu, at: QPoint) -> None:
    """Show `menu` at the global point `at` (modal; tests replace it to read the menu instead)."""
    menu.exec(at)
