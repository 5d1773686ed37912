"""Editing a layer's arguments: an Arguments cell changes the named arguments and keeps the rest (one undo step),
the Layer form links the dimensions of a kernel/stride/padding (typing 5 gives 5×5), and a size that is not known
after an error shows as "—", never as a made-up 0."""

from __future__ import annotations

from netcost.costing import Network
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.table.layer_editor_widget import LayerEditorWidget
from netcost.gui.table.layer_table_model import ARGS, LayerTableModel, edited_args

CONV2 = 3  # the article's AlexNet: conv1, ReLU, MaxPool2d, conv2 (96 -> 192, 5×5, padding 2)


def test_an_arguments_cell_edit_keeps_the_arguments_it_does_not_name(alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    model = LayerTableModel(doc)
    before = dict(doc.spec(CONV2).args)
    assert before["out_channels"] == 192
    assert model.setData(model.index(CONV2, ARGS), "kernel_size=3, padding=1")
    assert dict(doc.spec(CONV2).args) == {**before, "kernel_size": 3, "padding": 1}
    assert doc.row_cost(CONV2).output_shape[1] == 192 and doc.undo_stack.count() == 1
    assert model.setData(model.index(CONV2, ARGS), "padding=")  # `name=` removes one: torch's default
    assert "padding" not in doc.spec(CONV2).args and doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert dict(doc.spec(CONV2).args) == before


def test_edited_args() -> None:
    old = {"out_channels": 8, "kernel_size": 3, "bias": False}
    assert edited_args(old, "kernel_size=5, padding=2") == {"out_channels": 8, "kernel_size": 5, "bias": False,
                                                           "padding": 2}
    assert edited_args(old, "bias=, stride=(2, 1)") == {"out_channels": 8, "kernel_size": 3, "stride": (2, 1)}


def _editor(qtbot, doc: CostDocument, row: int) -> LayerEditorWidget:
    editor = LayerEditorWidget(doc)
    qtbot.addWidget(editor)
    editor.show()
    doc.selection.set_rows([row])
    editor.refresh()
    return editor


def test_kernel_dimensions_are_linked_so_one_value_sets_both(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    editor = _editor(qtbot, doc, CONV2)
    field = editor._fields["kernel_size"][0]
    assert field.link.isChecked() and not field.link.isHidden()  # 5×5: linked
    field.spins[0].setValue(3)
    assert doc.spec(CONV2).args["kernel_size"] == 3 and doc.undo_stack.count() == 1  # 3×3, one step
    assert [s.value() for s in field.spins] == [3, 3]
    field.link.setChecked(False)
    field.spins[1].setValue(1)
    assert doc.spec(CONV2).args["kernel_size"] == [3, 1] and doc.undo_stack.count() == 2
    assert not field.link.isChecked()  # 3×1: stays unlinked


def test_a_size_not_known_after_an_error_shows_a_dash_not_zero(qtbot, alexnet: Network) -> None:
    doc = CostDocument(alexnet)
    editor = _editor(qtbot, doc, CONV2)
    doc.set_layer_arg(0, "kernel_size", 500)  # conv1's output is empty: nothing after it evaluates
    assert doc.error is not None
    editor.refresh()
    spin_field, label, _ = editor._fields["in_channels"]
    assert spin_field.spin.text() == "—" and label.text() == "in_channels (inferred, not known yet)"
    assert doc.undo_stack.count() == 1  # showing it is no edit
    doc.undo_stack.undo()  # (selects the row it changes: conv1)
    doc.selection.set_rows([CONV2])
    editor.refresh()
    spin_field, label, _ = editor._fields["in_channels"]
    assert spin_field.spin.text() == "96" and label.text() == "in_channels (inferred)"
