"""The report exporters: each format written to tmp_path and read back (size, content, text, page count)."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QDialog

from netcost.costing import Network
from netcost.costing import formatting as fmt
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report import ReportOptions, ReportPage
from netcost.gui.report.exporters import ExportError, export_pdf, export_png, export_report, export_svg
from netcost.gui.report.theme import theme

pypdf = pytest.importorskip("pypdf")

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def doc(qapp: QApplication, alexnet: Network) -> CostDocument:
    return CostDocument(alexnet)


def _distinct_colours(image: QImage, step: int = 7) -> int:
    return len({image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)})


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()  # well-formed XML or it raises
    assert root.tag == f"{SVG_NS}svg"
    return "\n".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = pypdf.PdfReader(str(path))
    text = unicodedata.normalize("NFKC", " ".join(page.extract_text() for page in reader.pages))  # ligatures
    return len(reader.pages), " ".join(text.split())  # the extractor puts tabs between words


def test_png_has_the_requested_scale_and_content(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "report.png"
    result = export_png(doc, out, scale=1.5)
    image = QImage(str(out))
    assert not image.isNull()
    # logical page width 1040 (ReportOptions.image_width) x 1.5
    assert (image.width(), image.height()) == (1560, result.pixel_size.height())
    assert image.height() > image.width()  # title, totals, diagram, charts, tables, notes: a tall page
    assert image.pixelColor(2, 2) == theme(False).background  # the margin is the page colour
    assert _distinct_colours(image) > 200  # text, colour map and charts: far from blank


def test_png_width_wins_over_scale(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "narrow.png"
    export_png(doc, out, width=800, scale=3.0)
    assert QImage(str(out)).width() == 800


def test_dark_png_uses_the_dark_page(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "dark.png"
    export_png(doc, out, scale=1.0, dark=True)
    image = QImage(str(out))
    assert image.pixelColor(2, 2) == theme(True).background
    assert QColor(image.pixelColor(2, 2)).lightness() < 60


def test_svg_is_vector_xml_with_the_name_and_totals_as_text(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "report.svg"
    export_svg(doc, out)
    text = _svg_text(out)
    assert doc.name in text
    assert fmt.grouped(doc.report.totals.params) in text  # "61,264,904"
    assert fmt.grouped(doc.report.totals.flops) in text
    assert "<image" not in out.read_text(encoding="utf-8")  # nothing rasterised: markers and bars are paths


def test_pdf_pages_and_text(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = export_pdf(doc, out)
    with ReportPage(doc, ReportOptions(), paper=True) as report:
        expected = len(report.paper_pages())
    pages, text = _pdf_text(out)
    assert pages == result.pages == expected >= 2  # AlexNet: tables, then the diagram and the charts
    assert doc.name in text
    assert fmt.grouped(doc.report.totals.params) in text
    box = pypdf.PdfReader(str(out)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


def test_letter_pages(doc: CostDocument, tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    export_pdf(doc, out, page="letter")
    box = pypdf.PdfReader(str(out)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_a_long_network_continues_over_more_pages(qapp: QApplication, tmp_path: Path) -> None:
    from tests.gui.conftest import chain

    doc = CostDocument(chain(240))
    out = tmp_path / "long.pdf"
    result = export_pdf(doc, out)
    pages, text = _pdf_text(out)
    assert pages == result.pages >= 4
    assert "continued over" in text  # the diagram says it is cut into parts
    with ReportPage(doc, ReportOptions(), paper=True) as report:
        for page in report.paper_pages():  # nothing drawn past the bottom margin
            assert all(p.rect.bottom() <= page.size.height() - 50 for p in page.placements)


def test_baseline_deltas_are_in_the_report(doc: CostDocument, tmp_path: Path) -> None:
    doc.pin_baseline()
    before = doc.report.totals.params
    doc.set_layer_arg(0, "out_channels", 48)
    out = tmp_path / "delta.svg"
    export_svg(doc, out)
    text = _svg_text(out)
    assert "change since the pinned baseline" in text
    assert fmt.delta(doc.report.totals.params, before, fmt.si) in text  # e.g. "-17.4 K (-0.0 %)"


def test_params_metric_puts_the_params_table_first(doc: CostDocument) -> None:
    with ReportPage(doc, ReportOptions(metric="params")) as report:
        captions = [getattr(b, "caption", "") for row in report.blocks for b in getattr(row, "children", [])]
    assert captions.index("By parameters") < captions.index("By FLOPs")


def test_format_by_suffix_and_clear_errors(doc: CostDocument, tmp_path: Path) -> None:
    assert export_report(doc, tmp_path / "r.svg").path.suffix == ".svg"
    with pytest.raises(ExportError, match="format"):
        export_report(doc, tmp_path / "r.txt")
    with pytest.raises(ExportError, match="does not exist"):
        export_report(doc, tmp_path / "missing" / "r.png")
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written file left behind


def test_exporters_never_open_a_dialog(doc: CostDocument, tmp_path: Path) -> None:
    export_png(doc, tmp_path / "a.png", scale=0.5)
    export_pdf(doc, tmp_path / "a.pdf")
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]


def test_traced_report_with_unsupported_ops_lists_them(qapp: QApplication, alexnet: Network,
                                                       tmp_path: Path) -> None:
    from dataclasses import replace

    from netcost.costing.chain import graph_from_network
    from netcost.costing.graph import Measured
    from netcost.costing.graph_eval import evaluate_graph

    graph = graph_from_network(alexnet)
    row = evaluate_graph(graph).layers[1]  # the first ReLU, as a traced module with an op NetCost cannot cost
    measured = Measured(((row.input_shape, "float"),), ((row.output_shape, "float"),), row.totals, row.category,
                        (("aten.weird_op", 3),))
    nodes = list(graph.nodes)
    nodes[1] = replace(nodes[1], name="features.1", measured=measured, label="WeirdReLU")
    graph = replace(graph, nodes=tuple(nodes), name="traced-alexnet",
                    source={"kind": "torch", "warnings": ["2 modules share parameters"]})
    doc = CostDocument()
    doc.set_report(evaluate_graph(graph))
    out = tmp_path / "traced.svg"
    export_svg(doc, out)
    text = _svg_text(out)
    assert "aten.weird_op ×3 in features.1" in text
    assert "2 modules share parameters" in text


def test_svg_renders_sanely_with_qsvgrenderer(doc: CostDocument, tmp_path: Path) -> None:
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer

    out = tmp_path / "report.svg"
    export_svg(doc, out)
    renderer = QSvgRenderer(str(out))
    assert renderer.isValid()
    size = renderer.defaultSize()
    assert size.width() > 500 and size.height() > size.width()  # one tall page
    image = QImage(size.width() // 2, size.height() // 2, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert _distinct_colours(image) > 20  # the colour map, categories and text all came through


def test_depth_option_folds_the_diagram_at_that_hierarchy_depth(qapp: QApplication) -> None:
    from tests.gui.test_diagram import _deep_traced_report

    document = CostDocument()
    document.set_report(_deep_traced_report())
    with pytest.raises(ValueError, match="depth"):
        ReportOptions(depth=-1)
    folded = {}
    for depth in (None, 1, 2):
        with ReportPage(document, ReportOptions(depth=depth)) as report:
            scene = report.views._diagram.scene
            folded[depth] = {g.node.path for g in scene.groups() if g.collapsed and g.isVisible()}
    assert folded[None] == set()  # a short model is drawn expanded
    assert folded[1] == {"features", "classifier"}
    assert folded[2] == {"features.block1"}


def test_report_leaves_the_selection_out_unless_asked(doc: CostDocument, tmp_path: Path) -> None:
    """The window's selection (red outline, pink bands, rings) is not part of the model: a report shows none."""
    export_png(doc, tmp_path / "none.png", scale=1.0)
    doc.selection.set_rows([3])
    export_png(doc, tmp_path / "plain.png", scale=1.0)
    export_png(doc, tmp_path / "asked.png", scale=1.0, options=ReportOptions(include_selection=True))
    assert QImage(str(tmp_path / "plain.png")) == QImage(str(tmp_path / "none.png"))
    assert QImage(str(tmp_path / "asked.png")) != QImage(str(tmp_path / "none.png"))
