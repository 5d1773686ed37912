"""The notebook display of a Report (`_repr_html_`), its inline figures (`diagram`, `chart`) and `save_report`,
which writes what `netcost report` writes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import torch
from api_helpers import FILE, MODELS, live, shape_arg

import netcost
from netcost.gui.app.entry import main as netcost_main


@pytest.fixture(scope="module")
def report() -> netcost.Report:
    return netcost.analyze(live("ResBlock"), torch.randn(MODELS.INPUTS["ResBlock"]), name=f"{FILE.name}:ResBlock")


def test_html_holds_totals_convention_split_and_bars(report):
    html = report._repr_html_()
    t = report.totals
    assert f"{t.params:,}" in html and f"{t.macs:,}" in html and f"{t.flops:,}" in html
    assert "convention: <b>FLOPs</b>" in html
    assert "Conv vs linear" in html and "% of MACs" in html
    assert html.count('class="fill"') >= len(report.rows)  # a share bar per row (params and FLOPs)
    for row in report.rows:
        assert re.search(rf"<td>(&nbsp;)*{re.escape(row.name)}</td>", html)
    thop = report.with_options(convention="thop")._repr_html_()
    assert "convention: <b>thop flops</b>" in thop


def test_html_reads_in_light_and_dark_themes(report):
    """No colour of its own: the theme's text colour (currentColor, inherit) and transparent backgrounds only."""
    html = report._repr_html_()
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgb\(|hsl\(|(?<![-\w])(white|black)(?![-\w])", html)
    assert "background:transparent" in html and "currentColor" in html


def test_html_of_a_long_model_is_folded_with_a_note():
    class Deep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.Sequential(*[torch.nn.Linear(4, 4) for _ in range(100)])

        def forward(self, x):
            return self.layers(x)

    html = netcost.analyze(Deep(), torch.randn(1, 4))._repr_html_()
    assert "more rows" in html and "report.rows" in html


def _svg(figure: netcost.Figure) -> ET.Element:
    assert figure._repr_svg_() == figure.svg and figure._repr_png_() is None
    root = ET.fromstring(figure.svg.encode())
    assert root.tag.endswith("svg")
    return root


def test_diagram_and_charts_are_inline_svg(report, tmp_path):
    diagram = report.diagram()
    text = " ".join(e.text or "" for e in _svg(diagram).iter())
    assert "conv1" in text and "conv2" in text
    assert _svg(report.diagram(dark=True)) is not None
    for kind in ("layers", "categories", "scatter", "cumulative"):
        _svg(report.chart(kind))
    with pytest.raises(ValueError, match="choose one of"):
        report.chart("pie")
    diagram.save(tmp_path / "d.svg")
    assert (tmp_path / "d.svg").read_text(encoding="utf-8") == diagram.svg
    with pytest.raises(ValueError):
        diagram.save(tmp_path / "d.png")


def test_save_report_writes_what_netcost_report_writes(report, tmp_path, monkeypatch):
    monkeypatch.chdir(FILE.parent)
    ours, theirs = tmp_path / "ours.svg", tmp_path / "theirs.svg"
    assert report.save_report(ours) == f"{ours} (vector)"
    assert netcost_main(["report", f"{FILE.name}:ResBlock", "--input", shape_arg("ResBlock"), "-o",
                         str(theirs)]) == 0
    assert ours.read_text(encoding="utf-8") == theirs.read_text(encoding="utf-8")
    png = tmp_path / "r.png"
    assert report.save_report(png, width=800).startswith(f"{png} (800 × ")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = tmp_path / "r.pdf"
    assert "page" in report.save_report(pdf) and pdf.read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match=".png, .svg or .pdf"):
        report.save_report(tmp_path / "r.jpg")
    with pytest.raises(FileNotFoundError):
        report.save_report(tmp_path / "missing" / "r.png")
