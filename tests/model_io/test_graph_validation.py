"""Graph files that torch would refuse are refused, never counted silently wrong (issue 23 item 7): a crafted
`shares` or `measured` count, an op with the wrong number of operands, an output a node does not have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netcost.model_io.cli.cli import main

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


def linear(name: str, out: int, **extra) -> dict:
    return {"type": "Linear", "name": name, "out_features": out, **extra}


@pytest.mark.parametrize("nodes,top,words", [
    # before: each was costed (a one-output op read as if it had more; add's "second output" was its first)
    ([A, {"type": "add", "name": "plus", "inputs": ["a", "a"]}, {"type": "ReLU", "name": "act", "inputs": ["plus:1"]}],
     {}, "nodes[2].inputs[0]: 'plus:1': 'plus' has 1 output"),
    ([A, {"type": "mul", "name": "times", "inputs": ["a", "a"]}], {"outputs": ["times:4"]},
     "outputs[0]: 'times:4': 'times' has 1 output"),
    ([{"type": "sub", "name": "minus", "inputs": ["x", "x"]}, {"type": "relu", "name": "r", "inputs": ["minus:1"]}],
     {}, "'minus:1': 'minus' has 1 output"),
], ids=["add-output-1", "mul-output-4", "sub-output-1"])
def test_a_one_output_op_has_no_second_output(capsys, tmp_path: Path, nodes: list, top: dict, words: str) -> None:
    code, out, err = summary(capsys, tmp_path, nodes, **top)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and words in err, err


def test_ops_with_several_outputs_keep_them(capsys, tmp_path: Path) -> None:
    nodes = [{"type": "native_layer_norm", "name": "ln", "normalized_shape": [3], "inputs": ["x"]},
             {"type": "relu", "name": "r", "inputs": ["ln:2"]}]
    code, out, err = summary(capsys, tmp_path, nodes)
    assert (code, err) == (0, ""), err


@pytest.mark.parametrize("nodes,words", [
    # before: params 12 (b's 9 weights "lived" in a ReLU) and 16 (8 of a's 12 elements: no tensor of a is 8)
    ([A, {"type": "ReLU", "name": "r"}, {**A, "name": "b", "shares": [["r", 9]]}],
     "'b': shares 9 parameter elements with r, which holds no parameters"),
    ([A, {**A, "name": "b", "shares": [["a", 8]]}],
     "'b': shares 8 parameter elements with a, which are not whole parameter tensors"),
    # a's weight is 4x8 (32), b's 8x4 (32): the same count, not the same tensor shape
    ([linear("a", 8, in_features=3), linear("p", 4), linear("b", 8, shares=[["a", 32]])], "not whole parameter"),
    ([linear("a", 4), linear("b", 8, bias=False, shares=[["a", 32]])], "not whole parameter"),
], ids=["tie-to-relu", "tie-to-part-of-a-tensor", "tie-to-another-shape", "tie-to-a-missing-tensor"])
def test_a_tie_is_of_whole_tensors_a_node_holds(capsys, tmp_path: Path, nodes: list, words: str) -> None:
    code, out, err = summary(capsys, tmp_path, nodes)
    assert code == 2 and out == "" and words in err, (code, out, err)


@pytest.mark.parametrize("shares,params", [
    (9, 12 + 3),  # the weight
    (3, 12 + 9),  # the bias
    (12, 12),  # both (`b.weight = a.weight; b.bias = a.bias`)
])
def test_whole_tensor_ties_count_once(capsys, tmp_path: Path, shares: int, params: int) -> None:
    code, out, err = summary(capsys, tmp_path, [A, {**A, "name": "b", "shares": [["a", shares]]}])
    assert (code, err) == (0, ""), err
    assert json.loads(out)["totals"]["params"] == params


@pytest.mark.parametrize("node", [
    linear("huge", 2**63 - 1),  # before: costed, with a parameter count past int64
    linear("huge", 2**61),  # 3 * 2**61 weights fit no int64 either
    {"type": "Embedding", "name": "e", "num_embeddings": 2**62, "embedding_dim": 2},
], ids=["out-features-int64-max", "weights-past-int64", "embedding-past-int64"])
def test_a_tensor_torch_cannot_allocate_is_refused(capsys, tmp_path: Path, node: dict) -> None:
    tokens = [{"name": "x", "shape": [1, 3], "dtype": "int64"}]
    code, out, err = summary(capsys, tmp_path, [node], inputs=tokens if node["type"] == "Embedding" else INPUT)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "more than torch can allocate" in err, err
