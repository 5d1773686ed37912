"""Opening a project or graph file off the GUI thread, with progress and cancel: `GraphFileJob` is the `LoadJob`
(gui/document/load_job.py) of a file — read, decoded and checked on its thread, then costed and the diagram
prepared there (gui/diagram/prepared.py).

Every file the window opens goes through it, whatever its size: Llama-70B's 5k-node graph (0.9 MiB) took 0.7 s of
parse, evaluation and layout, and a 100k-node one 19 s, on the GUI thread. The window shows the progress in its
status bar (with Cancel) and swaps the document in only when everything succeeded, so a bad or cancelled file
leaves the current document as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from netcost.costing.graph import Graph
from netcost.gui.diagram.prepared import prepare
from netcost.gui.document.load_job import LoadJob, Progress, Stage
from netcost.model_io import strict_json
from netcost.model_io.files.graph_file import parse_graph
from netcost.model_io.files.layer_file import read_text

__all__ = ["GraphFileJob", "Stage"]


class GraphFileJob(LoadJob):
    """Read, decode, check and cost the file at `path`, and prepare its diagram."""

    def __init__(self, path: str | Path, parent: QObject | None = None) -> None:
        super().__init__(self._read, (prepare,), parent)
        self.path = Path(path)

    def _read(self, progress: Progress) -> tuple[Graph, dict[str, Any]]:
        progress(Stage.READ, 0, 1)
        text = read_text(self.path)
        progress(Stage.DECODE, 0, 1)
        data = strict_json.loads(text)
        del text
        progress(Stage.CHECK, 0, 1)
        graph, extra = parse_graph(data, lambda done, total: progress(Stage.CHECK, done, total))
        del data
        return graph, extra
