"""Tables written to files and read back: CSV, JSON and Markdown carry the report's numbers exactly."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from netcost.costing import Network, evaluate
from netcost.costing import formatting as fmt
from netcost.model_io.files import tables


def test_csv_json_markdown_round_trip(alexnet: Network, tmp_path: Path) -> None:
    report = evaluate(alexnet)
    for key, suffix in (("csv", "csv"), ("json", "json"), ("markdown", "md")):
        (tmp_path / f"t.{suffix}").write_text(tables.FORMATS[key](report, "thop"), encoding="utf-8")

    rows = list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert [r["name"] for r in rows[:-1]] == [layer.name for layer in report.layers]
    assert [int(r["params"]) for r in rows[:-1]] == [layer.params for layer in report.layers]
    assert [int(r["convention_value"]) for r in rows[:-1]] == [layer.totals.thop for layer in report.layers]
    assert rows[-1]["name"] == "TOTAL" and int(rows[-1]["flops"]) == report.totals.flops

    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert data["totals"]["params"] == report.totals.params
    assert data["convention"]["key"] == "thop" and data["convention"]["value"] == report.totals.thop
    assert [layer["macs"] for layer in data["layers"]] == [layer.macs for layer in report.layers]

    md = (tmp_path / "t.md").read_text(encoding="utf-8")
    body = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith(("| #", "| ---"))]
    assert len(body) == len(report.layers)
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in body]
    assert [c[4] for c in cells] == [fmt.grouped(layer.params) for layer in report.layers]
    assert f"Total params: {fmt.grouped(report.totals.params)}" in md


def test_summary_cli_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "alexnet.json"
    run = subprocess.run([sys.executable, "-m", "netcost", "summary", "zoo:alexnet", "--format", "json", "-o",
                          str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["schema"] == tables.SCHEMA
