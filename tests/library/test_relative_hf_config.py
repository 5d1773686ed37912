"""A relative `hf:` config folder is found from the user's folder by the CLI and counted (needs transformers: it
runs in .venv-lib, CI's second step, where it cannot skip)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_counts_a_relative_hf_config(tmp_path: Path) -> None:
    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text(
        '{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,'
        ' "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 1000}', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "netcost", "summary", "hf:tiny-llama"], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "no such file" not in out.stderr
