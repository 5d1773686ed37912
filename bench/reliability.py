"""Reliability run (a script, not a test), seeded, one command, under 20 minutes on a 2-core machine:

    python bench/reliability.py [--seed 13] [--files 3000] [--graphs 7000] [--cli 200] [--kills 30]
                                [--recoveries 30] [--no-models] [--no-big]

Case families (one module each under bench/reliability/):
  layer_files     fuzzed layer lists / projects in-process, and a sample through the CLI
  graph_files     fuzzed graph files against a torch oracle (graph_oracle), and a sample through the CLI
  hostile_models  hostile models in the CLI and the window: time limits, orphans (/proc), parent memory
  saves           kill -9 during saves
  recovery        autosave recovery after kill -9 (graphs, projects, traced-like graphs), damaged recovery files
  injection       crafted .pt2, a graph file's source.ref (open, --set, the window's edit), export-torch payloads
  special_files   FIFOs, devices, folders, sockets, huge sparse files where a file is read
  disks           full and read-only disks for every writer (a tiny tmpfs in a user+mount namespace)
  big_graph       100k-node graphs (a flat chain, a transformer in scopes) in the window: a pass over 200 ms, an
                  edit over 100 ms, no progress or an unbounded undo stack counts as a hang (--no-big: skipped)

Each family prints its cases by outcome, its failures by count with the first few failing cases, and the summary
prints each count over all cases — every one must be 0. Silent-wrong means: NetCost's totals differ from PyTorch's
for the same document, or NetCost costs a document PyTorch refuses, or an output breaks its format.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reliability import (  # noqa: E402 - the package beside this script
    big_graph,
    disks,
    graph_files,
    hostile_models,
    injection,
    layer_files,
    recovery,
    saves,
    special_files,
)
from reliability.common import Count, Tally  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--files", type=int, default=3000, help="fuzzed layer lists in-process")
    ap.add_argument("--graphs", type=int, default=7000, help="fuzzed graph files in-process")
    ap.add_argument("--cli", type=int, default=200, help="of each, how many also through the CLI")
    ap.add_argument("--kills", type=int, default=30, help="kill -9 during saves")
    ap.add_argument("--recoveries", type=int, default=30, help="kill -9 of an autosaving session")
    ap.add_argument("--no-models", action="store_true", help="skip the hostile models (the slowest family)")
    ap.add_argument("--no-big", action="store_true", help="skip the 100k-node graphs in the window")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tallies: list[Tally] = []
    start = time.monotonic()

    def family(fn: Callable[[], Tally | tuple[Tally, object]]) -> object:
        t = time.monotonic()
        got = fn()
        tally, rest = got if isinstance(got, tuple) else (got, None)
        for line in tally.lines(time.monotonic() - t):
            print(line, flush=True)
        tallies.append(tally)
        return rest

    with tempfile.TemporaryDirectory(prefix="netcost-reliability-") as tmp:
        folder = Path(tmp)
        texts = family(lambda: layer_files.run_files(a.files, rng, folder))
        family(lambda: layer_files.run_cli_sample(texts, a.cli, rng, folder))  # type: ignore[arg-type]
        done = family(lambda: graph_files.run_in_process(a.graphs, rng, folder / "graphs"))
        family(lambda: graph_files.run_cli_sample(done, a.cli, rng, folder / "graphs"))  # type: ignore[arg-type]
        if not a.no_models:
            cases = hostile_models.hostile_cases(folder)
            family(lambda: hostile_models.run_cli_cases(cases))
            family(lambda: hostile_models.run_window_cases(cases))
        family(lambda: saves.run_kills(a.kills, rng, folder))
        family(lambda: recovery.run(a.recoveries, rng, folder / "recovery"))
        family(lambda: injection.run(folder / "injection"))
        family(lambda: special_files.run(folder / "special"))
        family(lambda: disks.run(folder / "disks"))
        if not a.no_big:
            family(lambda: big_graph.run(folder / "big"))
    cases = sum(t.cases for t in tallies)
    print(f"summary: cases {cases}, " + ", ".join(f"{c.value} {sum(t.count(c) for t in tallies)}" for c in Count)
          + f" ({time.monotonic() - start:.0f} s, seed {a.seed})")


if __name__ == "__main__":
    main()
