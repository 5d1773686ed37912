"""User strings (keys, layer names, model names) in every text NetCost writes: one line stays one line, a name is
never a formula, markup or a terminal command."""

from __future__ import annotations

import csv
import io
import json

import pytest

from netcost.costing import LayerSpec, Network, evaluate
from netcost.model_io import escape
from netcost.model_io.cli.cli import main
from netcost.model_io.files import tables

ANSI_CLEAR = "\x1b[2J\x1b[H"
NAMES = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "cr\rname", "nl\nname", f"ansi{ANSI_CLEAR}",
         "pipe|cell", "<script>alert(1)</script>", "bidi\u202eevil", "plain"]


@pytest.fixture(scope="module")
def report():
    layers = tuple(LayerSpec("Linear", {"out_features": 4}, name) for name in NAMES)
    return evaluate(Network(layers, (4,), name=f"model\n{ANSI_CLEAR}<b>"))


def test_a_key_with_a_newline_or_ansi_escape_gives_one_escaped_stderr_line(capsys, tmp_path):
    bad = tmp_path / "forged.json"
    key = f"x\nnetcost: forged second line{ANSI_CLEAR}"
    bad.write_text(json.dumps({"format": "netcost.layers/1", "input_shape": [4],
                               "layers": [{"type": "Linear", "out_features": 2, key: 1}]}))
    assert main(["summary", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"netcost: error: {bad}: layers[0].")
    assert "\x1b" not in err and "\\x1b[2J" in err and "x\\nnetcost: forged" in err


def test_a_file_name_with_control_characters_is_escaped(capsys, tmp_path):
    assert main(["summary", str(tmp_path / "no\rsuch\x07.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\r" not in err and "\x07" not in err and "no\\rsuch\\x07.json" in err


def test_csv_cells_are_never_formulas_and_a_bare_cr_stays_in_its_cell(report):
    text = tables.to_csv(report)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(NAMES) + 1  # header, one record per layer, TOTAL
    names = [r[0] for r in rows[1:-1]]
    assert names[:4] == ["'" + n for n in NAMES[:4]]  # OWASP: a leading ' makes the cell text
    assert names[4:] == NAMES[4:]  # everything else exactly as the user wrote it, CR and LF included
    assert all(len(r) == len(tables.CSV_COLUMNS) for r in rows)


def test_markdown_keeps_one_table_row_per_layer_and_no_raw_html(report):
    text = tables.to_markdown(report)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(NAMES)  # head, rule, rows: no name broke a line
    cells = {len(line.replace("\\|", "").split("|")) for line in table}
    assert len(cells) == 1  # an escaped pipe does not add a column
    assert "<script>" not in text and "&lt;script&gt;" in text and "<b>" not in text
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text


def test_terminal_table_has_no_escapes_and_one_line_per_layer(report):
    text = tables.to_table(report)
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert sum("Linear" in line for line in text.splitlines()) == len(NAMES)
    assert "ansi\\x1b[2J\\x1b[H" in text and "bidi\\u202eevil" in text


def test_printable_leaves_ordinary_text_alone():
    assert escape.printable("conv1 — 3×3 Größe 卷积") == "conv1 — 3×3 Größe 卷积"
    assert escape.printable("a\tb\x00c\x7fd\u2028e") == "a\\tb\\x00c\\x7fd\\u2028e"


def _user_device(tmp_path, monkeypatch, name: str) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "config" / "netcost" / "devices.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"devices": [{"name": name, "peak_flops": {"fp32": 1e12},
                                             "memory_bandwidth": 1e11}]}))


def test_a_user_device_name_is_escaped_in_the_devices_table_and_latency_footer(capsys, tmp_path, monkeypatch):
    name = f"evil{ANSI_CLEAR}\nnetcost: forged line"
    _user_device(tmp_path, monkeypatch, name)
    # before: `netcost devices` printed the name raw, escape sequences and all
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "forged line" in out
    assert not any(line.startswith("netcost: forged") for line in out.splitlines())
    assert escape.printable(name) in out
    model = tmp_path / "tiny.json"
    model.write_text(json.dumps({"format": "netcost.layers/1", "input_shape": [4],
                                 "layers": [{"type": "Linear", "out_features": 2}]}))
    for form in ("table", "markdown"):
        assert main(["summary", str(model), "--device", name, "--format", form]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and not any(line.startswith("netcost: forged") for line in out.splitlines())
