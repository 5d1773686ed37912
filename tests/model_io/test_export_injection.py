"""`export-torch` writes no string from a graph file into code unchecked: a crafted dtype, memory format or layout
is refused with one line, and nothing is written (issue 23 item 4)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import torch

from netcost.model_io.cli.cli import main

# Each payload is a valid expression after "torch.": exported unchecked, running the file would create MARK.
PAYLOAD = "float16 if __import__('pathlib').Path({mark!r}).touch() is None else torch.float16"


def _graph(op_args: dict[str, Any], buffer_dtype: str = "float") -> dict[str, Any]:
    """A traced-style graph: x -> aten op (with `op_args`) -> mul by a buffer."""
    op = op_args.pop("type")
    return {"format": "netcost.graph/1", "name": "crafted", "dtype": "float32",
            "inputs": [{"name": "x", "shape": [2, 4], "dtype": "float32"}],
            "nodes": [{"type": op, "name": "op", "inputs": ["x"], "label": f"aten.{op}", **op_args},
                      {"type": "buffer", "name": "scale", "inputs": [], "shape": [4], "dtype": buffer_dtype,
                       "trainable": False},
                      {"type": "mul", "name": "mul", "inputs": ["op", "scale"], "_overload": "Tensor"}],
            "outputs": ["mul"]}


def _export(tmp_path: Path, graph: dict[str, Any], capsys: pytest.CaptureFixture) -> tuple[int, str, Path]:
    src, out = tmp_path / "crafted.json", tmp_path / "out.py"
    src.write_text(json.dumps(graph))
    code = main(["export-torch", str(src), "-o", str(out)])
    return code, capsys.readouterr().err, out


def _run_if_written(out: Path) -> None:
    """What a user does with the export: run it."""
    if out.exists():
        namespace: dict[str, Any] = {"__name__": "generated"}
        exec(compile(out.read_text(), str(out), "exec"), namespace)
        namespace["build"]()(namespace["example_input"]())


@pytest.mark.parametrize("where", ["op dtype", "op memory_format", "buffer dtype", "op layout"])
def test_crafted_strings_are_refused_not_run(tmp_path: Path, capsys: pytest.CaptureFixture, where: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mark = tmp_path / "MARK"
    payload = PAYLOAD.format(mark=str(mark))
    graph = {
        "op dtype": _graph({"type": "_to_copy", "dtype": payload}),
        "op memory_format": _graph({"type": "clone", "memory_format": payload}),
        "buffer dtype": _graph({"type": "relu"}, buffer_dtype=payload),
        "op layout": _graph({"type": "_to_copy", "layout": payload}),
    }[where]
    code, err, out = _export(tmp_path, graph, capsys)
    with contextlib.suppress(Exception):  # whatever the file does after the payload, the payload is the point
        _run_if_written(out)
    assert not mark.exists(), "the exported file ran code from the graph file"
    assert code != 0 and not out.exists()
    assert len(err.strip().splitlines()) == 1 and "torch" in err


def test_real_dtypes_and_memory_formats_still_export(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    graph = _graph({"type": "clone", "memory_format": "contiguous_format"})
    graph["nodes"].insert(1, {"type": "_to_copy", "name": "half", "inputs": ["op"], "dtype": "float16"})
    graph["nodes"].insert(2, {"type": "_to_copy", "name": "back", "inputs": ["half"], "dtype": "float32"})
    graph["nodes"][-1]["inputs"] = ["back", "scale"]
    code, err, out = _export(tmp_path, graph, capsys)
    assert (code, err) == (0, "")
    text = out.read_text()
    assert "dtype=torch.float16" in text and "memory_format=torch.contiguous_format" in text
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(text, str(out), "exec"), namespace)
    y = namespace["build"]()(namespace["example_input"]())
    assert y.dtype == torch.float32 and tuple(y.shape) == (2, 4)
