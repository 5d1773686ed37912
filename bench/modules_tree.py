"""Benchmark: the Modules tree of a large graph: building it, and opening one container.

    .venv/bin/python bench/modules_tree.py [--nodes 100000] [--repeat 3] [--code PATH]

A deep transformer graph (bench/big_graph_file.py: blocks `layers.N` of attn and mlp, 15 nodes each) is costed
in a `CostDocument`; then, `--repeat` times, a `HierarchyTreeWidget` is made for it (the dock's whole build: items,
figures, the first view's open containers) and one closed block in the middle is opened (its items made then, in
a tree that makes them lazily). Printed: the medians and every figure, in ms. `--code` runs the NetCost checkout
at PATH instead of this one (a before/after comparison in one run: call it twice, interleaved).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the NetCost checkout to run (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code))
    from PySide6.QtWidgets import QApplication

    import netcost.costing
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.table.hierarchy_tree import HierarchyTreeWidget

    sys.path.append(str(ROOT / "bench"))  # (after netcost: the generator puts this checkout first on the path)
    from big_graph_file import transformer_graph

    app = QApplication.instance() or QApplication([])
    doc = CostDocument()
    doc.set_graph(transformer_graph(args.nodes))
    builds, opens = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        tree = HierarchyTreeWidget(doc)
        builds.append((time.perf_counter() - t0) * 1e3)
        block = tree.tree.topLevelItem(tree.tree.topLevelItemCount() // 2)
        t0 = time.perf_counter()
        block.setExpanded(True)
        opens.append((time.perf_counter() - t0) * 1e3)
        items = _count(tree.tree.invisibleRootItem())
        tree.deleteLater()
        app.processEvents()
    print(f"{Path(netcost.costing.__file__).parent.parent}: {len(doc.graph.nodes):,} nodes, "
          f"{len(doc.report.hierarchy):,} containers, {items:,} items made")
    print(f"  tree built: median {statistics.median(builds):.0f} ms  ({', '.join(f'{t:.0f}' for t in builds)})")
    print(f"  a block opened: median {statistics.median(opens):.1f} ms  ({', '.join(f'{t:.1f}' for t in opens)})")


def _count(item) -> int:  # noqa: ANN001 - a QTreeWidgetItem
    return sum(1 + _count(item.child(i)) for i in range(item.childCount()))


if __name__ == "__main__":
    main()
