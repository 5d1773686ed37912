"""The Edit menu's layer edits: add, duplicate, delete, move, copy and paste, each one undo step of the document.

An edit the graph cannot take (a deleted source that others read, a reorder of a graph with branches) is refused
with its reason in the window's message bar; the document stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netcost.costing import FormatError, LayerSpec
from netcost.costing.args import REQUIRED
from netcost.costing.registry import has_kind, kind

if TYPE_CHECKING:
    from netcost.gui.app.main_window import MainWindow


def template_spec(type_: str) -> LayerSpec:
    """A new layer of `type_` with its required arguments filled with ordinary values (the user edits them)."""
    if not has_kind(type_):
        return LayerSpec("Identity")
    args: dict[str, Any] = {}
    for a in kind(type_).args:
        if a.default is not REQUIRED or a.inferred:
            continue
        if a.kind == "int":
            args[a.name] = 1 if a.name in ("num_heads", "num_groups") else 64
        elif a.kind in ("ints", "padding"):
            args[a.name] = 3
        elif a.kind in ("size", "shape"):
            args[a.name] = 1
    if type_.startswith(("Conv", "DepthwiseSeparableConv")) and "kernel_size" in args:
        args["padding"] = 1  # keeps the spatial size, so an inserted conv does not break the layers below
    return LayerSpec(type_, args)


class EditActions:
    """The layer edits of `window`'s document, on its selection (node ids; rows where the edit is about order)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.document = window.document

    def _insert_row(self) -> int:
        rows = self.document.selection.rows
        return rows[-1] + 1 if rows else self.document.row_count()

    def add_layer(self, type_: str | None = None) -> None:
        if type_ is None:
            current = self.document.selection.current_id
            type_ = self.document.graph.node(current).op if current is not None else "Conv2d"
        self._structural(lambda: self.document.insert_layers(self._insert_row(), [template_spec(type_)],
                                                             f"Add {type_}"))
        self.window.table.setFocus()

    def duplicate(self) -> None:
        self._structural(lambda: self.document.duplicate_layers(self.document.selection.ids))

    def delete(self) -> None:
        self._structural(lambda: self.document.remove_layers(self.document.selection.ids))

    def _structural(self, edit: Callable[[], object]) -> None:
        try:
            edit()
        except ValueError as e:
            self.window.show_message(f"Not done: {e}", "warning")

    def move_selection(self, step: int) -> None:
        rows = self.document.selection.rows
        if not rows:
            return
        if rows != list(range(rows[0], rows[-1] + 1)):
            self.window.statusBar().showMessage("Move up/down moves one block of adjacent rows; drag scattered "
                                                "rows to gather them", 5000)
            return
        if step < 0 and rows[0] > 0:
            self._structural(lambda: self.document.move_layers(rows[0], rows[-1], rows[0] - 1))
        elif step > 0 and rows[-1] + 1 < self.document.row_count():
            self._structural(lambda: self.document.move_layers(rows[0], rows[-1], rows[-1] + 2))

    def copy(self) -> None:
        n = self.window.table.copy_selection()
        if n:
            self.window.statusBar().showMessage(f"Copied {n} layer{'s' * (n > 1)}", 3000)

    def paste(self) -> None:
        try:
            self.window.table.paste()
        except FormatError as e:
            self.window.show_message(f"Cannot paste: {e}", "warning")

    def update_enabled(self) -> None:
        """Edits of the selection only while something is selected."""
        w = self.window
        has_rows = bool(self.document.selection.ids)
        for act in (w.act_add, w.act_paste):
            act.setEnabled(True)
        w.add_menu.setEnabled(True)
        for act in (w.act_duplicate, w.act_delete, w.act_move_up, w.act_move_down, w.act_copy):
            act.setEnabled(has_rows)
