"""kill -9 during saves: the target file is always the old or the new document, never partial; temporaries left
behind are counted, and removed by the next save once stale."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from netcost.costing import FormatError
from netcost.model_io.files.layer_file import atomic_write, loads_network

from .common import ROOT, Count, Tally

SAVER = """
import sys, json
sys.path.insert(0, sys.argv[2])
from netcost.model_io.files.layer_file import atomic_write
target, i = sys.argv[1], 0
while True:
    i += 1
    doc = {"format": "netcost.layers/1", "name": f"v{i}", "input_shape": [8],
           "layers": [{"type": "Linear", "out_features": 8, "name": "x" * 200}] * 2000}
    atomic_write(target, json.dumps(doc).encode())
"""


def run_kills(n: int, rng: random.Random, folder: Path) -> Tally:
    """kill -9 during saves: the target is always the old or the new document, never partial."""
    tally = Tally("kill -9 during saves")
    counts: Counter = Counter()
    target = folder / "saved.json"
    target.write_text(json.dumps({"format": "netcost.layers/1", "name": "v0", "input_shape": [8], "layers": []}))
    for _ in range(n):
        p = subprocess.Popen([sys.executable, "-c", SAVER, str(target), str(ROOT)])
        time.sleep(0.3 + rng.random() * 0.7)
        p.kill()
        p.wait()
        try:
            loads_network(target.read_text())
            tally.case("intact")
        except (FormatError, OSError, UnicodeDecodeError) as e:
            tally.case("failed")
            tally.fail(Count.LOST, f"the saved file after a kill: {e}")
    temps = list(folder.glob(".saved.json.*.tmp"))
    counts["temporaries left"] = len(temps)
    old = time.time() - 3600  # as if the next save came later than the stale age
    for t in temps:
        os.utime(t, (old, old))
    atomic_write(target, target.read_bytes())
    counts["temporaries after the next save"] = len(list(folder.glob(".saved.json.*.tmp")))
    tally.figures.append(", ".join(f"{k} {v}" for k, v in counts.items()))
    return tally
