"""Graph files, the small defects of issue 23 item 14: a document at int8 keeps its inputs following the dtype, a
save onto a symbolic link writes through it, and a crafted label cannot show a node as another kind."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from netcost.model_io.cli.cli import main
from netcost.model_io.files.graph_file import load_graph, save_graph

GRAPH = {"format": "netcost.graph/1", "inputs": [{"name": "x", "shape": [1, 4], "dtype": "float32"}],
         "nodes": [{"type": "Linear", "name": "fc", "in_features": 4, "out_features": 2}]}


def summary(capsys, path: Path, *more: str) -> tuple[int, str, str]:
    code = main(["summary", str(path), "--format", "json", *more])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_graph_saved_at_int8_follows_another_dtype(capsys, tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text(json.dumps(GRAPH))
    graph, _ = load_graph(tmp_path / "g.json")
    save_graph(tmp_path / "int8.json", replace(graph, dtype="int8"))
    code, out, _ = summary(capsys, tmp_path / "int8.json")
    assert code == 0 and json.loads(out)["inputs"][0]["dtype"] == "int8"
    code, out, _ = summary(capsys, tmp_path / "int8.json", "--dtype", "float16")
    # before: the input stayed int8 (it was written as "int8" and read back as a fixed int8 tensor)
    assert code == 0 and json.loads(out)["inputs"][0]["dtype"] == "float16"
    fixed = {**GRAPH, "inputs": [{"name": "x", "shape": [1, 4], "dtype": "int64"}],
             "nodes": [{"type": "Embedding", "name": "emb", "num_embeddings": 9, "embedding_dim": 2}]}
    (tmp_path / "tokens.json").write_text(json.dumps(fixed))  # a fixed dtype stays fixed
    graph, _ = load_graph(tmp_path / "tokens.json")
    save_graph(tmp_path / "tokens8.json", replace(graph, dtype="int8"))
    code, out, _ = summary(capsys, tmp_path / "tokens8.json", "--dtype", "float16")
    assert code == 0 and json.loads(out)["inputs"][0]["dtype"] == "int64"


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="symbolic links")
def test_saving_onto_a_symlink_writes_through_it(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.json"
    target.write_text(json.dumps(GRAPH))
    link = tmp_path / "model.json"
    link.symlink_to(target)
    graph, _ = load_graph(link)
    save_graph(link, replace(graph, name="edited"))
    # before: the link was replaced by a regular file and the target kept the old text
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert json.loads(target.read_text())["name"] == "edited"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "real"]
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["model.json"]


@pytest.mark.parametrize("label", ["LSTM", "aten.relu", "Conv2d"])
def test_a_label_naming_another_kind_is_refused(capsys, tmp_path: Path, label: str) -> None:
    bad = {**GRAPH, "nodes": [{"type": "gelu", "name": "act", "label": label}]}
    (tmp_path / "g.json").write_text(json.dumps(bad))
    code, out, err = summary(capsys, tmp_path / "g.json")
    # before: exit 0 and the row's type "LSTM"
    assert code == 2 and out == ""
    assert f"nodes[0].label: {label!r} names another kind than the node's type 'gelu'" in err


@pytest.mark.parametrize("label,shown", [("aten.gelu", "aten.gelu"), ("NewGELUActivation", "NewGELUActivation"),
                                         ("gelu", "gelu")])
def test_a_label_of_its_own_kind_or_a_class_is_shown(capsys, tmp_path: Path, label: str, shown: str) -> None:
    good = {**GRAPH, "nodes": [{"type": "gelu", "name": "act", "label": label}]}
    (tmp_path / "g.json").write_text(json.dumps(good))
    code, out, err = summary(capsys, tmp_path / "g.json")
    assert (code, err) == (0, "")
    assert json.loads(out)["layers"][0]["type"] == shown
