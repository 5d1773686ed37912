"""Where the suite's time goes, per test file, from a JUnit XML report:

    python -m pytest --ignore=tests/library --junitxml=/tmp/times.xml
    python tools/test_times.py /tmp/times.xml [more.xml ...] [--top N]

Prints the summed test time (setup + call + teardown of every test; on a loaded machine this, more than the wall
clock, says what the suite costs) and the N slowest files with their share. Two reports side by side (before,
after) print one column each.
"""

from __future__ import annotations

import argparse
import collections
import xml.etree.ElementTree as ET
from pathlib import Path


def per_file(report: Path) -> dict[str, float]:
    """Seconds per test file (pytest's classname `tests.gui.test_x.Class` -> tests/gui/test_x.py)."""
    times: dict[str, float] = collections.Counter()
    for case in ET.parse(report).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")
        while parts and not parts[-1].startswith("test_"):
            parts.pop()  # a class inside the module
        times["/".join(parts) + ".py"] += float(case.get("time", 0))
    return dict(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    columns = [per_file(r) for r in args.reports]
    print("  ".join(f"{sum(c.values()):9.1f}s" for c in columns), " summed test time")
    order = sorted({f for c in columns for f in c}, key=lambda f: -columns[-1].get(f, 0.0))
    for name in order[:args.top]:
        print("  ".join(f"{c.get(name, 0.0):9.1f}s" for c in columns), f" {name}")


if __name__ == "__main__":
    main()
