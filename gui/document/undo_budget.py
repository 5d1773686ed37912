"""The undo stack's memory bound: how many steps a document of a given size may keep.

Each undo step holds the graph before and after it. Nodes are immutable and shared between the two, so a step
costs the new node tuple (8 bytes a node) plus the nodes it made; the lookup indexes of a graph that only a
structural step still holds are dropped (`costing.graph.drop_caches`) and rebuilt if that step is undone. Measured
on a 20k-node transformer: ~24 bytes a node per argument edit, then ~20 per structural edit once its indexes are
dropped (164 with them). So the bound is a byte budget turned into a step count by the graph's size: QUndoStack
can only cap steps (`setUndoLimit`), and only while it is empty, so the limit is set whenever the document is
replaced (its stack cleared). A 100k-node graph keeps ~80 steps, Llama-70B (5k nodes) ~1,600, layer lists 2,000.
"""

from __future__ import annotations

UNDO_BUDGET_BYTES = 256 * 2**20
BYTES_PER_NODE = 32  # an upper bound of the measured ~24 (argument edits) and ~20 (structural, indexes dropped)
STEP_OVERHEAD_BYTES = 4096  # the command object, its text, dirty sets and selection
MIN_STEPS = 20  # even the largest document can undo a short run of edits
MAX_STEPS = 2000  # small documents: far more than anyone undoes, and still bounded


def undo_limit(nodes: int) -> int:
    """The number of undo steps a document of `nodes` nodes keeps within the budget."""
    steps = UNDO_BUDGET_BYTES // (BYTES_PER_NODE * max(nodes, 0) + STEP_OVERHEAD_BYTES)
    return max(MIN_STEPS, min(MAX_STEPS, steps))
