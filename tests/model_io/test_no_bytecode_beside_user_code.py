"""Opening a user's .py runs it in the worker without writing __pycache__/ beside it (or beside what it imports)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netcost.model_io.worker.resolve import LoadOptions, load_graph_ref

NET = """
import torch
from torch import nn
from helper_block import block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = block(3, 8)

    def forward(self, x):
        return self.body(x)
"""
HELPER = """
from torch import nn


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())
"""


def test_opening_a_py_writes_no_pycache_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # as a user's shell has it
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "helper_block.py").write_text(HELPER)
    graph = load_graph_ref(f"{tmp_path / 'net.py'}:Net", LoadOptions(inputs=("1,3,8,8",)))
    assert any(n.op == "Conv2d" for n in graph.nodes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helper_block.py", "net.py"]
