"""Single-view exports (the diagram alone, each chart alone) and the window's Export menu and preview."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSizeF
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu

from netcost.costing import Network
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report.export_menu import install_export_menu
from netcost.gui.report.exporters import ExportError, export_chart, export_diagram
from netcost.gui.report.views import CHARTS

pypdf = pytest.importorskip("pypdf")


@pytest.fixture
def doc(qapp: QApplication, alexnet: Network) -> CostDocument:
    return CostDocument(alexnet)


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_diagram_alone(doc: CostDocument, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"diagram.{suffix}"
    result = export_diagram(doc, out)
    assert out.stat().st_size > 1000
    if suffix == "png":
        image = QImage(str(out))
        assert image.size() == result.pixel_size and image.width() > 1000
    elif suffix == "svg":
        text = " ".join("".join(t.itertext()) for t in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}text"))
        assert "conv1" in text and "fc3" in text  # every block's label, as text
    else:
        assert len(pypdf.PdfReader(str(out)).pages) == 1  # one figure-sized page


@pytest.mark.parametrize("chart", list(CHARTS))
def test_each_chart_alone(doc: CostDocument, tmp_path: Path, chart: str) -> None:
    out = tmp_path / f"{chart}.png"
    export_chart(doc, chart, out, size=QSizeF(500, 320), scale=2.0)
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 640)
    colours = {image.pixel(x, y) for x in range(0, 1000, 9) for y in range(0, 640, 9)}
    assert len(colours) > 20


def test_chart_svg_and_pdf(doc: CostDocument, tmp_path: Path) -> None:
    export_chart(doc, "category_share", tmp_path / "c.svg")
    ET.parse(tmp_path / "c.svg")
    export_chart(doc, "scatter", tmp_path / "c.pdf")
    assert len(pypdf.PdfReader(str(tmp_path / "c.pdf")).pages) == 1


def test_unknown_chart(doc: CostDocument, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown chart"):
        export_chart(doc, "pie", tmp_path / "x.png")


class _Window(QMainWindow):
    """The two hooks the Export menu uses from the main window: its save prompt and its message bar."""

    def __init__(self, answer: Path) -> None:
        super().__init__()
        self.answer, self.asked, self.messages = answer, [], []

    def ask_save_path(self, title: str, suggestion: str, filter_: str) -> str:
        self.asked.append(suggestion)
        return str(self.answer)

    def show_message(self, text: str, kind: str = "error") -> None:
        self.messages.append(text)


def test_export_menu_entries_call_the_exporters(doc: CostDocument, tmp_path: Path, qtbot) -> None:
    window = _Window(tmp_path / "diagram.svg")
    qtbot.addWidget(window)
    menu = QMenu("Export", window)
    actions = install_export_menu(window, menu, doc)
    texts = [a.text() for a in menu.actions()]
    assert "&Report…" in texts and "&Diagram…" in texts
    actions.diagram_action.trigger()
    assert (tmp_path / "diagram.svg").exists()
    window.answer = tmp_path / "cum"  # no suffix: PNG is added
    actions.chart_actions["cumulative"].trigger()
    assert (tmp_path / "cum.png").exists()
    window.answer = tmp_path / "nowhere" / "x.png"
    actions.chart_actions["scatter"].trigger()
    assert window.messages and "does not exist" in window.messages[-1]


def test_report_preview_then_save(doc: CostDocument, tmp_path: Path, qtbot) -> None:
    from netcost.gui.report.report_preview import ReportPreviewDialog

    target = tmp_path / "report"
    dialog = ReportPreviewDialog(doc, lambda *a: str(target))
    qtbot.addWidget(dialog)
    assert dialog.preview.page_count() == 1  # PNG: one tall page
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("pdf"))
    dialog.refresh()
    assert dialog.preview.page_count() >= 2
    assert "pages" in dialog.status.text()
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert len(pypdf.PdfReader(str(tmp_path / "report.pdf")).pages) == dialog.preview.page_count()


def test_main_window_has_the_export_entries(doc: CostDocument, tmp_path: Path, qtbot) -> None:
    main_window = pytest.importorskip("netcost.gui.app.main_window")
    window = main_window.MainWindow(doc, autosave_dir=tmp_path)
    qtbot.addWidget(window)
    menu = window.findChild(QMenu, "exportMenu")
    texts = [a.text() for a in menu.actions()]
    assert "&Report…" in texts and "&Diagram…" in texts


def _selection_pixels(path: Path, colour: QColor) -> int:
    """Pixels within a few levels of the selection colour (the outline, ring or band edge of a selected layer)."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    return int((np.abs(rgb - np.array([colour.red(), colour.green(), colour.blue()])).max(axis=2) < 40).sum())


@pytest.mark.parametrize("chart", list(CHARTS))
def test_exported_chart_leaves_the_selection_out_unless_asked(doc: CostDocument, tmp_path: Path, chart: str) -> None:
    from netcost.gui.common.cost_colors import Theme

    red = Theme.of(False).selection
    export_chart(doc, chart, tmp_path / "none.png")
    doc.selection.set_rows([3])  # conv2, the heaviest layer: outlined in every chart on screen
    export_chart(doc, chart, tmp_path / "plain.png")
    export_chart(doc, chart, tmp_path / "asked.png", include_selection=True)
    assert _selection_pixels(tmp_path / "plain.png", red) == 0
    assert QImage(str(tmp_path / "plain.png")) == QImage(str(tmp_path / "none.png"))  # no band, ring or tint
    assert _selection_pixels(tmp_path / "asked.png", red) > 40


def test_export_menu_asks_before_drawing_the_selection(doc: CostDocument, tmp_path: Path, qtbot) -> None:
    from netcost.gui.common.cost_colors import Theme

    window = QMainWindow()
    qtbot.addWidget(window)
    menu = QMenu(window)
    exports = install_export_menu(window, menu, doc)
    doc.selection.set_rows([3])
    paths = iter([str(tmp_path / "a.png"), str(tmp_path / "b.png")])
    exports.ask_path = lambda *a: next(paths)
    exports.export_chart("scatter")
    assert not exports.selection_action.isChecked() and exports.selection_action in menu.actions()
    exports.selection_action.setChecked(True)
    exports.export_chart("scatter")
    red = Theme.of(False).selection
    assert _selection_pixels(tmp_path / "a.png", red) == 0 < _selection_pixels(tmp_path / "b.png", red)


def test_report_preview_shows_the_pages_as_soon_as_it_opens(doc: CostDocument, qtbot) -> None:
    """It used to be an empty 100 x 30 box until some popup made the window lay out again."""
    from netcost.gui.report.report_preview import ReportPreviewDialog

    dialog = ReportPreviewDialog(doc, lambda *a: "")
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    canvas = dialog.preview.canvas
    viewport = dialog.preview.viewport()
    assert canvas.width() >= viewport.width() - 2 and canvas.width() > 400
    page = canvas.page_rects()[0]
    assert page.width() > 300 and page.height() > page.width()  # one tall PNG page, scaled to the pane
    shot = dialog.preview.viewport().grab().toImage()
    # the page is drawn: far more than the pane's background colour inside it
    colours = {shot.pixel(x, y) for x in range(20, shot.width() - 20, 7) for y in range(20, shot.height() - 20, 7)}
    assert len(colours) > 30
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("pdf"))
    dialog.refresh()
    assert len(canvas.page_rects()) >= 2 and canvas.height() >= canvas.page_rects()[-1].bottom()  # scrolls to all
    dialog.reject()


@pytest.mark.parametrize("view_class,what", [("CompareView", "comparison"), ("SweepView", "sweep")])
def test_a_view_export_button_asks_writes_and_reports(doc: CostDocument, tmp_path: Path, qtbot, view_class: str,
                                                      what: str) -> None:
    from netcost.gui.whatif.compare_view import CompareView
    from netcost.gui.whatif.sweep_view import SweepView

    doc.pin_baseline()
    doc.set_layer_arg(doc.row_of("fc1"), "out_features", 1024)
    window = _Window(tmp_path / "view")  # no suffix: PNG is added
    qtbot.addWidget(window)
    view = {"CompareView": CompareView, "SweepView": SweepView}[view_class](doc, window)
    if isinstance(view, SweepView):
        view.run_to_end()
    window.setCentralWidget(view)
    result = view.export()
    assert result is not None and result.path == tmp_path / "view.png"
    assert QImage(str(result.path)).width() > 200
    assert window.asked == [f"AlexNet_article-{what}.png"]  # named like the other exports (doc: "AlexNet (article)")
    window.answer = tmp_path / "nowhere" / "x.png"
    assert view.export() is None and "does not exist" in window.messages[-1]


def test_the_windows_report_follows_the_diagrams_flow(doc: CostDocument, tmp_path: Path, qtbot) -> None:
    from netcost.gui.diagram.layout import Orientation
    from netcost.gui.diagram.view import DiagramView
    from netcost.gui.report import ReportPage
    from netcost.gui.report.report_preview import ReportPreviewDialog
    from netcost.gui.report.views import DiagramChunkBlock

    window = _Window(tmp_path / "report.png")
    qtbot.addWidget(window)
    view = DiagramView(doc, window)
    window.setCentralWidget(view)
    view.orientation_box.setCurrentIndex(view.orientation_box.findData(Orientation.LEFT_RIGHT.value))
    actions = install_export_menu(window, QMenu("Export", window), doc)
    actions.report_action.trigger()
    dialog = window.findChild(ReportPreviewDialog)
    assert dialog is not None
    with ReportPage(doc, dialog.options()) as page:  # what the preview shows and Save writes
        chunks = [b for b in page.blocks if isinstance(b, DiagramChunkBlock)]
        pieces = [b.source for b in chunks]
        assert pieces and all(p.width() > 2 * p.height() for p in pieces)  # AlexNet's chain runs across the page
        # the flow continues in rows, each within the page (it was drawn at half size and cut at the edge)
        assert all(b.source.width() * b.scale <= page.options.image_width - 80 for b in chunks)
        assert min(b.scale for b in chunks) >= 0.75
        drawn = [b.sceneBoundingRect().center() for b in page.views._diagram.scene.blocks() if b.isVisible()]
        assert drawn and all(any(p.contains(c) for p in pieces) for c in drawn)
    dialog.reject()


def test_a_left_to_right_report_starts_a_row_at_each_open_frame(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    from netcost.gui.diagram.layout import Orientation
    from netcost.gui.report import ReportOptions, ReportPage
    from netcost.gui.report.views import DiagramChunkBlock
    from tests.traced import traced_graph

    doc = CostDocument()
    doc.set_graph(traced_graph("zoo:resnet50"))
    with ReportPage(doc, ReportOptions(orientation=Orientation.LEFT_RIGHT), paper=True) as page:
        pieces = [b.source for b in page.blocks if isinstance(b, DiagramChunkBlock)]
        frames = [g.sceneBoundingRect() for g in page.views._diagram.scene.groups() if g.isVisible()
                  and not g.collapsed]
        assert len(pieces) > 1 and frames
        for f in frames:  # its header (at its left edge) is whole in the piece it starts in
            assert any(p.left() <= f.left() - 4 and f.left() + min(f.width(), 320) <= p.right() for p in pieces), f
