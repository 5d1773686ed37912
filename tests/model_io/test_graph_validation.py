"""Graph files that torch would refuse are refused, never counted silently wrong (issue 23 item 7): a crafted
`shares` or `measured` count, an op with the wrong number of operands, an output a node does not have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_io.cli import main

INPUT = [{"name": "x", "shape": [1, 3], "dtype": "float32"}]
A = {"type": "Linear", "name": "a", "in_features": 3, "out_features": 3}


def summary(capsys, tmp_path: Path, nodes: list, **top) -> tuple[int, str, str]:
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"format": "netcost.graph/1", "inputs": INPUT, "nodes": nodes, **top}))
    code = main(["summary", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_true_tie_still_counts_once(capsys, tmp_path: Path) -> None:
    code, out, err = summary(capsys, tmp_path, [A, {**A, "name": "b", "shares": [["a", 9]]}])
    assert (code, err) == (0, "")
    assert json.loads(out)["totals"]["params"] == 12 + 3  # b's 9 weights live in a; its 3 biases are its own


@pytest.mark.parametrize("nodes,top,words", [
    # before: params 96 (a negative tie added parameters) and 12 (a huge one hid b's own)
    ([A, {**A, "name": "b", "shares": [["a", -72]]}], {}, "nodes[1].shares[0]: -72 must be a positive number"),
    ([A, {**A, "name": "b", "shares": [["a", 10 ** 6]]}], {}, "'b': shares 1,000,000 parameter elements but holds "
                                                              "only 12"),
    # before: "MACs: -100"
    ([{"type": "conv_thing", "name": "m", "measured": {"inputs": [[[1, 3], "float32"]],
                                                       "outputs": [[[1, 3], "float32"]],
                                                       "totals": {"macs": -100}}}], {},
     "nodes[0].measured.totals.macs: -100 must be a non-negative integer"),
    ([{"type": "add", "name": "plus"}], {}, "nodes[0].inputs: add node 'plus' takes 2 operands (self, other), got 1"),
    ([{"type": "add", "name": "plus", "inputs": ["x", "x", "x"]}], {}, "add node 'plus' takes 2 operands (self, "
                                                                        "other), got 3 inputs"),
    ([{"type": "where", "name": "w", "inputs": ["x", "x"]}], {}, "where node 'w' takes 3 operands"),
    ([{"type": "ReLU", "name": "act", "inputs": ["x", "x"]}], {}, "ReLU node 'act' takes 1 operand (input), got 2"),
    ([{"type": "ReLU", "name": "act"}], {"outputs": ["act:4"]}, "outputs[0]: 'act:4': 'act' has 1 output"),
    ([{"type": "split", "name": "s", "split_size": 1, "dim": 1}, {"type": "ReLU", "name": "act", "inputs": ["s:5"]}],
     {}, "'act': reads output 5 of s, which has 3 outputs"),
], ids=["negative-shares", "huge-shares", "negative-measured", "add-of-one", "add-of-three", "where-of-two",
        "relu-of-two", "missing-output", "missing-split-output"])
def test_what_torch_refuses_is_one_line(capsys, tmp_path: Path, nodes: list, top: dict, words: str) -> None:
    code, out, err = summary(capsys, tmp_path, nodes, **top)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and words in err, err


@pytest.mark.parametrize("node", [
    {"type": "add", "name": "plus", "other": 2},  # x + 2: a scalar operand is an argument
    {"type": "add", "name": "plus", "inputs": ["x", "x"]},
    {"type": "clamp", "name": "c", "min": 0},
    {"type": "cat", "name": "c", "inputs": ["x", "x", "x"], "dim": 1},
    {"type": "MultiheadAttention", "name": "att", "embed_dim": 4, "num_heads": 1, "inputs": ["q", "q", "q"]},
    {"type": "MultiheadAttention", "name": "att", "embed_dim": 4, "num_heads": 1, "inputs": ["q"]},  # a layer list's
])
def test_what_torch_accepts_is_counted(capsys, tmp_path: Path, node: dict) -> None:
    q = {"name": "q", "shape": [2, 1, 4], "dtype": "float32"}
    code, out, err = summary(capsys, tmp_path, [node], inputs=[*INPUT, q])
    assert (code, err) == (0, ""), err
