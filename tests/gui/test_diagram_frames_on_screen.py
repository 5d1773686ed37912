"""After an edit the diagram relabels and recolours only the scope frames on screen (a 100k-node graph shows 6,667
folded layers: all of them took ~100 ms an edit); a frame off screen shows the new figures as soon as it is painted
or read (an export, a tooltip), never the old ones."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from netcost.gui.diagram.scene import DiagramScene
from netcost.gui.document.cost_document import CostDocument
from netcost.model_io.files.graph_file import loads_graph
from tests.gui.conftest import shown_diagram
from tests.gui.test_diagram_prepared import _graph_text


def _shown(scene: DiagramScene, path: str) -> tuple[str, str]:
    """The figure a frame shows (its last label line: value and share) and its colour."""
    group = scene.group(path)  # read as an export or a test does
    assert group.text is not None
    return group.text.lines[-1][0], group.color.name()


def test_a_frame_off_screen_shows_the_new_figures_when_painted(qtbot) -> None:
    doc = CostDocument()
    doc.set_graph(loads_graph(_graph_text(60))[0])  # 60 folded blocks: most of them below the view
    view = shown_diagram(qtbot, doc, 500, 300)
    scene = view.scene
    far = scene._groups["blocks.59"]
    row = doc.row_of("blocks.59.linear2")
    assert doc.set_layer_arg(row, "out_features", 4096)  # the last block's figures grow far past the others
    stale = far.gen != scene.gen  # off screen: not relabelled by the edit's refresh
    image = QImage(400, 400, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, 400, 400), far.sceneBoundingRect())  # painted: brought up to date first
    painter.end()
    assert far.gen == scene.gen
    fresh = DiagramScene(doc)  # a scene built now, every frame from the current report
    assert _shown(scene, "blocks.59") == _shown(fresh, "blocks.59")
    assert _shown(scene, "blocks.0") == _shown(fresh, "blocks.0")  # its share of a larger total, and colour
    assert stale
