"""The Rewrites panel's widgets, built the way Qt Designer's `setupUi` builds a form: `setup_ui(panel)` creates the
filters, the list, the description, the parameter form and the Apply row as attributes of the panel, which wires
and fills them (rewrites_panel.py)."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from netcost.costing import rewrite_ranking as rr
from netcost.costing import rewrites as rw
from netcost.gui.common.inputs import double_spin
from netcost.gui.common.plain_text import plain_label

KIND_NAMES = {
    "two_3x3": "k×k → stacked 3×3 (Inception v2)",
    "factorize_nx1": "N×N → N×1 + 1×N (Inception v3)",
    "depthwise_separable": "depthwise-separable (Xception, MobileNet)",
    "global_avg_pool": "global average pooling instead of Flatten + FC",
    "reduce_1x1": "1×1 reduction before a k×k conv (Inception v1)",
    "width": "channel width of a scope (pruning)",
}
HEADERS = ("Trick", "Where", "Δ params", "Δ MACs", "Δ FLOPs", "Δ activations", "Hidden because")


def setup_ui(panel: QWidget) -> None:
    """Create the panel's widgets as its attributes (a RewritesPanel; typed as its base: no import back)."""
    lay = QVBoxLayout(panel)
    lay.setContentsMargins(4, 4, 4, 4)
    lay.setSpacing(4)
    top = QHBoxLayout()
    panel.kind_filter = QComboBox(panel)
    panel.kind_filter.addItem("All tricks", "")
    for k in rw.KINDS:
        panel.kind_filter.addItem(KIND_NAMES.get(k, k), k)
    panel.kind_filter.setToolTip("Show one kind of rewrite")
    # the longest trick name must not set the dock's (and so the window's) minimum width
    panel.kind_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    panel.kind_filter.setMinimumContentsLength(14)
    panel.selection_only = QCheckBox("Selected rows only", panel)
    panel.selection_only.setToolTip("Only the rewrites of the rows selected in the table or diagram")
    top.addWidget(panel.kind_filter, 1)
    top.addWidget(panel.selection_only)
    lay.addLayout(top)
    rank_row = QHBoxLayout()
    panel.rank_by = QComboBox(panel)
    for saving in rr.Saving:
        panel.rank_by.addItem(f"Rank by {saving.label} saved", saving.value)
    panel.rank_by.setToolTip("Order the candidates by how much of this cost they take away, the biggest first")
    panel.show_hidden = QCheckBox("Show hidden", panel)
    panel.show_hidden.setObjectName("showHiddenRewrites")
    panel.show_hidden.setToolTip("Also list the candidates that do not lower the cost or make no sense here "
                                "(a 1×1 reduction of the RGB input, a second reduction), each saying why")
    rank_row.addWidget(panel.rank_by, 1)
    rank_row.addWidget(panel.show_hidden)
    lay.addLayout(rank_row)
    panel.tree = QTreeWidget(panel)
    panel.tree.setObjectName("rewritesList")
    panel.tree.setColumnCount(len(HEADERS))
    panel.tree.setHeaderLabels(list(HEADERS))
    panel.tree.setRootIsDecorated(False)
    panel.tree.setUniformRowHeights(True)
    panel.tree.setAlternatingRowColors(True)
    panel.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = panel.tree.header()
    header.setStretchLastSection(False)
    # sized to their contents once per batch of previews (ResizeToContents would measure every row again on
    # each cell set: seconds for a few hundred candidates); the Trick too, not stretched: in a 400 px dock a
    # stretched Trick got what the numbers left, "w…" (a horizontal scroll bar comes instead)
    for col in range(len(HEADERS)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
    panel.tree.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    lay.addWidget(panel.tree, 1)
    panel.description = plain_label(panel, "rewriteDescription")
    lay.addWidget(panel.description)
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    panel.ratio = double_spin(panel, 0.05, 0.95, 0.05, "Width of the 1×1 reduction as a fraction of the conv's input "
                              "channels", decimals=3)
    panel.factor = double_spin(panel, 0.125, 4.0, 0.125, "Multiplies the channel widths of the scope (0.5 halves "
                               "them)", decimals=3)
    panel.scope = QComboBox(panel)
    panel.scope.setToolTip("The stage, block or whole model whose widths change")
    for w in (panel.ratio, panel.factor):
        w.setKeyboardTracking(False)
    form.addRow("Reduction ratio", panel.ratio)
    form.addRow("Width factor", panel.factor)
    form.addRow("Scope", panel.scope)
    panel.form = form
    lay.addLayout(form)
    bottom = QHBoxLayout()
    panel.pin_first = QCheckBox("Pin baseline first", panel)
    panel.pin_first.setChecked(True)
    panel.pin_first.setToolTip("When no baseline is pinned, pin the current costs before applying, so the table, "
                              "totals and comparison show what the rewrite changed")
    panel.apply_button = QPushButton("Apply", panel)
    panel.apply_button.setObjectName("applyRewrite")
    panel.apply_button.setShortcut(QKeySequence("Ctrl+Return"))
    panel.apply_button.setToolTip("Apply the selected rewrite as one undoable step (Ctrl+Return)")
    panel.apply_button.setWhatsThis("Rewrites: Apply the selected rewrite")  # Help ▸ Keyboard shortcuts
    bottom.addWidget(panel.pin_first, 1)
    bottom.addWidget(panel.apply_button)
    lay.addLayout(bottom)
    panel.status = plain_label(panel, "rewriteStatus")
    lay.addWidget(panel.status)
