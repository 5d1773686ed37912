"""At any zoom a block shows whole figures or a shorter whole form, never a cut number ("29.0 MFLO…" at Shift+F),
and the input pill keeps its name where the blocks keep theirs."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QImage, QPainter, QTransform

from netcost.gui.diagram.painting import figure_forms
from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.zoo import load_layer_list, load_model_graph

CUT_NUMBER = re.compile(r"[−-]?\d[\d.,]*( \S*)?…")
ZOOMS = (1.0, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.22)


def test_shorter_whole_forms_of_a_figure() -> None:
    assert figure_forms("29.0 MFLOPs") == ["29.0 M", "29 M"]
    assert figure_forms("61.3 M params") == ["61.3 M", "61 M"]
    assert figure_forms("233.7 MiB") == ["234 MiB"]
    assert figure_forms("conv1") == [] and figure_forms("0  Conv2d") == []


@pytest.mark.parametrize("width", ["params", None])
@pytest.mark.parametrize("model", ["alexnet", "inception_3a"])
def test_no_block_shows_a_cut_number_at_any_zoom(qtbot, model: str, width: str | None) -> None:  # noqa: ANN001
    doc = CostDocument()
    doc.set_graph(load_model_graph(model)) if model == "inception_3a" else doc.set_network(load_layer_list(model))
    scene = DiagramScene(doc)
    scene.set_width_metric(width)
    for lod in ZOOMS:
        for b in scene.blocks():
            for _, static, _, _ in b._label_plan(b.text, b.block_rect(), lod):
                assert not CUT_NUMBER.fullmatch(static.text()), (b.layer_id, lod, static.text())
        for g in scene.groups():
            if g.collapsed and g.text is not None:
                g._plan = None
                for _, static, _, _ in _group_plan(g, lod):
                    assert not CUT_NUMBER.fullmatch(static.text()), (g.node.path, lod, static.text())


def _group_plan(g, lod: float) -> list:  # noqa: ANN001
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setWorldTransform(QTransform.fromScale(lod, lod))
    g._paint_collapsed(painter, lod, g.text)
    painter.end()
    return g._plan or []


def test_the_input_pill_keeps_its_name_where_blocks_keep_theirs(qtbot) -> None:  # noqa: ANN001
    doc = CostDocument(load_layer_list("alexnet"))
    scene = DiagramScene(doc)
    pill = next(iter(scene.placement.inputs.values()))
    for lod in (1.0, 0.5, 0.3, 0.22):
        assert pill.label(lod), lod  # the name at least ("input"), never an empty pill
        assert not any(t.endswith("…") and len(t) < 4 for t, _ in pill.label(lod))


def test_an_open_frames_header_elides_its_name_never_its_figure(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtGui import QFontMetricsF

    from netcost.gui.diagram.painting import fit_header
    from netcost.gui.diagram.style import DiagramFonts

    font = DiagramFonts().header
    fm = QFontMetricsF(font)
    for room in (400, 220, 160, 120, 90, 60):
        line = fit_header("features.denseblock4.denselayer16", "29.0 MFLOPs · 3.4 %", font, room)
        assert fm.horizontalAdvance(line) <= room + 0.5, (room, line)
        figure = line.rpartition("  ·  ")[2] if "  ·  " in line else ""
        assert figure in ("29.0 MFLOPs · 3.4 %", "29.0 MFLOPs", "29.0 M", "29 M") or not figure, (room, line)
        assert not CUT_NUMBER.fullmatch(line.rpartition(" ")[2])
