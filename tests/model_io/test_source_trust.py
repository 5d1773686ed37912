"""A graph file's `source.ref` is data: an edit before an opaque node traces the model again, and when that reference
came from a file, running its code needs the user's consent (`--trust-source`; in the window, a question)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.cli.cli import main
from netcost.model_io.files.graph_file import save_graph
from tests.traced import traced_graph

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "opaque_fft.py"


@pytest.fixture(scope="module")
def traced() -> Graph:
    """opaque_fft.py:Net traced once (NetCost's own fixture; its FFT rows are opaque)."""
    return traced_graph(f"{FIXTURE}:Net")


@pytest.fixture(scope="module")
def written_with_8() -> Graph:
    return traced_graph(f"{FIXTURE}:Net8")


def hostile_graph_file(traced: Graph, folder: Path) -> tuple[Path, Path, str]:
    """(graph file, marker, ref): a saved model whose `source.ref` names `evil.py`, the same model plus a line
    that writes the marker when its code runs."""
    marker = folder / "ran"
    evil = folder / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n" + FIXTURE.read_text())
    ref = f"{evil}:Net"
    path = folder / "saved_model.json"
    save_graph(path, replace(traced, source={**traced.source, "ref": ref}))
    return path, marker, ref


def test_a_set_on_a_graph_file_does_not_run_the_model_it_names(traced: Graph, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path, marker, ref = hostile_graph_file(traced, tmp_path)
    assert main(["summary", str(path), "--set", "conv.out_channels=8"]) == 2
    err = capsys.readouterr().err
    assert f"would run {ref} (the graph file's source): pass --trust-source if you trust that file" in err
    assert not marker.exists()
    # export-torch and check take the same path
    assert main(["export-torch", str(path), "--set", "conv.out_channels=8", "-o", str(tmp_path / "x.py")]) == 2
    assert "--trust-source" in capsys.readouterr().err and not marker.exists()
    # an edit that needs no tracing still works on the file without consent
    assert main(["summary", str(path), "--set", "fc.out_features=5", "--format", "json"]) == 0
    assert not marker.exists()


def test_with_trust_source_it_is_traced_again_as_before(traced: Graph, written_with_8: Graph, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path, marker, _ = hostile_graph_file(traced, tmp_path)
    assert main(["summary", str(path), "--set", "conv.out_channels=8", "--trust-source", "--format", "json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["params"] == evaluate_graph(written_with_8).totals.params == 314
    assert totals["macs"] == evaluate_graph(written_with_8).totals.macs
    assert marker.read_text() == "ran"  # the user allowed it: the file's code ran, in the worker


def test_a_model_named_on_the_command_line_is_traced_again_without_a_flag(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", f"{FIXTURE}:Net", "--set", "conv.out_channels=8", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == 314
