"""PDF reports read whole: a scope on one page, legend captions apart, the title never cut; and every report says
what it is of (the model, the changes applied to it, the baseline it is compared with)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication

from netcost.costing import Network
from netcost.gui.diagram.color_bar import ColorBarWidget
from netcost.gui.document.cost_document import CostDocument
from netcost.gui.report import PAGE_SIZES, ReportOptions, ReportPage
from netcost.gui.report.exporters import export_pdf, export_png, export_svg
from netcost.gui.report.page_layout import ScaledBlock
from netcost.gui.report.report_page import PAPER_MARGINS
from netcost.gui.report.views import DiagramChunkBlock, DiagramParts
from netcost.model_io.files.zoo import load_model_graph

pypdf = pytest.importorskip("pypdf")


def _pdf_pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(str(path))
    return [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in reader.pages]


@pytest.fixture
def inception(qapp: QApplication) -> CostDocument:
    doc = CostDocument()
    doc.set_graph(load_model_graph("inception_3a"))
    return doc


def _diagram_pieces(doc: CostDocument) -> list[tuple[int, DiagramChunkBlock]]:
    with ReportPage(doc, ReportOptions(), paper=True) as report:
        return [(i, p.block if isinstance(p.block, DiagramChunkBlock) else p.block.block)
                for i, page in enumerate(report.paper_pages()) for p in page.placements
                if isinstance(p.block, DiagramChunkBlock)
                or (isinstance(p.block, ScaledBlock) and isinstance(p.block.block, DiagramChunkBlock))]


def test_an_inception_block_stays_whole_on_one_pdf_page(inception: CostDocument) -> None:
    pieces = _diagram_pieces(inception)
    assert len(pieces) == 1, f"the block is cut into {len(pieces)} pieces"
    _, piece = pieces[0]
    scene = piece.parts.scene
    boxes = [b.mapRectToScene(b.block_rect()) for b in scene.blocks() if b.isVisible()]
    assert len(boxes) == inception.row_count()
    assert all(piece.source.contains(r) for r in boxes)  # all four branches and the concat in that piece


def test_the_pdf_of_an_inception_block_names_all_its_branches_on_one_page(inception: CostDocument,
                                                                           tmp_path: Path) -> None:
    out = tmp_path / "inception.pdf"
    export_pdf(inception, out)
    pages = _pdf_pages(out)
    with_diagram = [i for i, text in enumerate(pages) if "Block diagram" in text]
    assert len(with_diagram) == 1
    text = pages[with_diagram[0]]
    # each branch's blocks (a branch's labels drop their shared "branchN." prefix: one rule per branch)
    assert all(name in text for name in ("conv", "concat", "reduce", "pool", "relu1", "relu2"))


def test_legend_captions_never_overlap_and_the_legend_grows_for_them(alexnet: Network,
                                                                      qapp: QApplication) -> None:
    doc = CostDocument(alexnet)
    doc.pin_baseline()  # the title grows: "...; badges: change vs the baseline"
    parts = DiagramParts(doc, dark=False, metric="flops")
    try:
        bar: ColorBarWidget = parts.color_bar
        for width in (1040.0, PAGE_SIZES["a4"].width() - PAPER_MARGINS.left() - PAPER_MARGINS.right(), 420.0):
            rect = QRectF(0, 0, width, bar.legend_height(width))
            captions = bar.caption_rects(rect)
            texts = " ".join(t for t, _ in captions)
            assert bar.title().split()[-1] in texts and bar.width_note().split()[-1] in texts
            for i, (_, a) in enumerate(captions):
                assert rect.contains(a)
                for _, b in captions[i + 1:]:
                    assert not a.intersects(b), f"captions overlap at width {width}"
        assert bar.legend_height(420.0) > bar.legend_height(1040.0)  # stacked captions get their own lines
    finally:
        parts.close()


LONG = "Inception-v1 block 3a (naive branches, by hand) with a long descriptive name for the design review"
UNBREAKABLE = "ResNet50_with_a_model_name_that_has_no_spaces_at_all_and_is_wider_than_the_page_x" * 2


@pytest.mark.parametrize("name", [LONG, UNBREAKABLE])
def test_the_pdf_title_is_whole(qapp: QApplication, alexnet: Network, tmp_path: Path, name: str) -> None:
    from dataclasses import replace

    doc = CostDocument(replace(alexnet, name=name))
    out = tmp_path / "title.pdf"
    export_pdf(doc, out)
    first = _pdf_pages(out)[0]
    # The page starts with the whole title (the footer repeats it, so looking for it anywhere would not do);
    # an unbreakable name is broken over lines where it must be: every character there, in order.
    assert first.replace(" ", "").startswith(name.replace(" ", ""))
    assert "…" not in first.split("Model:")[0]


def test_a_report_of_an_edited_model_says_so_and_names_the_changes_and_baseline(alexnet: Network,
                                                                                 qapp: QApplication,
                                                                                 tmp_path: Path) -> None:
    doc = CostDocument(alexnet)
    out = tmp_path / "plain.pdf"
    export_pdf(doc, out)
    plain = _pdf_pages(out)[0]
    assert "as loaded, no changes applied" in plain and "Baseline: none pinned" in plain

    doc.pin_baseline()
    assert doc.spec(0).type == "Conv2d" and doc.set_layer_arg(0, "out_channels", 32)
    edit = doc.undo_stack.text(0)
    out = tmp_path / "edited.pdf"
    export_pdf(doc, out)
    first = _pdf_pages(out)[0]
    assert f"{doc.name}, edited" in first
    assert "with 1 change applied" in first and edit in first
    assert f"Baseline: {doc.name} as loaded" in first
    assert pypdf.PdfReader(str(out)).metadata.title == f"NetCost report: {doc.name}, edited"
    # the same words in the SVG (text stays text) and the PNG's report (same blocks)
    svg = tmp_path / "edited.svg"
    export_svg(doc, svg)
    assert edit in svg.read_text(encoding="utf-8").replace("&gt;", ">").replace("&lt;", "<")
    export_png(doc, tmp_path / "edited.png")
    with ReportPage(doc, ReportOptions()) as report:
        assert report.title == f"{doc.name}, edited"

    doc.undo_stack.undo()  # an undone change is not applied
    export_pdf(doc, out)
    assert "no changes applied" in _pdf_pages(out)[0]


def test_resnet50_stages_are_each_on_one_pdf_page(qapp: QApplication) -> None:
    from netcost.model_io.worker.resolve import LoadOptions, load_report

    doc = CostDocument()
    doc.set_report(load_report("zoo:resnet50", LoadOptions()))
    pieces = _diagram_pieces(doc)
    assert len(pieces) > 1  # too long for one page: cut, but between stages
    with ReportPage(doc, ReportOptions(), paper=True) as report:
        report.paper_pages()
        parts = report.views._diagram
        assert parts is not None
        frames = {g.node.path: g for g in parts.scene.groups() if g.isVisible() and g.node.depth == 1}
        assert {"layer1", "layer2", "layer3", "layer4"} <= set(frames)
        chunks = [b.source for b in report.blocks if isinstance(b, DiagramChunkBlock)]
        for path, frame in frames.items():
            rects = [frame.mapRectToScene(seg) for seg in getattr(frame, "segments", None) or [frame.boundingRect()]]
            holding = {i for r in rects for i, c in enumerate(chunks) if c.intersects(r)}
            assert len(holding) == 1, f"{path} is cut over pieces {sorted(holding)}"
