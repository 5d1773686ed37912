"""A lookup past the end of a table is refused as PyTorch refuses it, although the meta device cannot see index
values (issue 23 item 7: GPT-2 at 1,025 tokens was counted; torch says "index out of range in self")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netcost.model_io.cli.cli import main

MODEL = '''
import torch
from torch import nn


class Positions(nn.Module):
    """Token and position embeddings, positions from arange as GPT-2 makes them (+ offset, as OPT does)."""

    def __init__(self, offset=0):
        super().__init__()
        self.offset = offset
        self.tok = nn.Embedding(50, 8)
        self.pos = nn.Embedding(16, 8)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0).expand(ids.shape[0], -1) + self.offset
        return self.tok(ids) + self.pos(pos)
'''


def summary(capsys, tmp_path: Path, ref: str, tokens: int) -> tuple[int, str, str]:
    (tmp_path / "positions.py").write_text(MODEL)
    code = main(["summary", str(tmp_path / ref), "--input", f"long:2,{tokens}", "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("ref,tokens", [("positions.py:Positions", 16), ("positions.py:Positions(offset=2)", 14)])
def test_a_sequence_that_fits_the_table_is_counted(capsys, tmp_path: Path, ref: str, tokens: int) -> None:
    code, out, err = summary(capsys, tmp_path, ref, tokens)
    assert (code, err) == (0, "")
    assert json.loads(out)["totals"]["params"] == (50 + 16) * 8


@pytest.mark.parametrize("ref,tokens,index", [("positions.py:Positions", 17, 16),
                                              ("positions.py:Positions(offset=2)", 15, 16)])
def test_a_sequence_longer_than_the_table_is_refused(capsys, tmp_path: Path, ref: str, tokens: int,
                                                     index: int) -> None:
    code, out, err = summary(capsys, tmp_path, ref, tokens)
    assert code == 2 and out == ""
    assert f"IndexError: index {index} is out of range for an embedding table of 16 rows" in err.splitlines()[0]


def test_gpt2_refuses_1025_tokens_as_pytorch_does(capsys) -> None:
    assert main(["summary", "zoo:gpt2", "--input", "long:1,1025"]) == 2
    err = capsys.readouterr().err
    assert "index 1024 is out of range for an embedding table of 1024 rows" in err.splitlines()[0]
    assert main(["summary", "zoo:gpt2", "--input", "long:1,1024", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == 124_439_808
