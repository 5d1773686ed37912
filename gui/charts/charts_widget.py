"""`ChartsWidget`: the four cost charts in a 2×2 grid, all observing one `CostDocument` and its shared selection.

For exports: `make_chart(key, document, dark=...)` builds one chart offscreen (keys as in `CHART_CLASSES`); resize it
and call `render` (it is a `QGraphicsView`/`QWidget`) at any size.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

from netcost.gui.charts.category_share_chart import CategoryShareChart
from netcost.gui.charts.chart_base import ChartBase
from netcost.gui.charts.cumulative_share_chart import CumulativeShareChart
from netcost.gui.charts.layer_share_chart import LayerShareChart
from netcost.gui.charts.params_flops_scatter import ParamsFlopsScatter
from netcost.gui.document.cost_document import CostDocument

CHART_CLASSES: dict[str, type[ChartBase]] = {
    "layer_share": LayerShareChart,
    "category_share": CategoryShareChart,
    "scatter": ParamsFlopsScatter,
    "cumulative": CumulativeShareChart,
}


def make_chart(key: str, document: CostDocument, parent: QWidget | None = None, dark: bool | None = None,
               show_selection: bool = True) -> ChartBase:
    """One chart; `dark=None` follows the application palette, True/False fixes it (exports, which also leave
    the selection out)."""
    return CHART_CLASSES[key](document, parent, dark=dark, show_selection=show_selection)


class ChartsWidget(QWidget):
    def __init__(self, document: CostDocument, parent: QWidget | None = None, dark: bool | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.charts: dict[str, ChartBase] = {k: make_chart(k, document, self, dark) for k in CHART_CLASSES}
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(4)
        for i, chart in enumerate(self.charts.values()):
            grid.addWidget(chart, i // 2, i % 2)

    @property
    def layer_share(self) -> LayerShareChart:
        return self.charts["layer_share"]  # type: ignore[return-value]

    @property
    def category_share(self) -> CategoryShareChart:
        return self.charts["category_share"]  # type: ignore[return-value]

    @property
    def scatter(self) -> ParamsFlopsScatter:
        return self.charts["scatter"]  # type: ignore[return-value]

    @property
    def cumulative(self) -> CumulativeShareChart:
        return self.charts["cumulative"]  # type: ignore[return-value]

    def set_dark(self, dark: bool) -> None:
        """Fix the palette of all four (exports); each chart otherwise follows the application palette itself."""
        for chart in self.charts.values():
            chart.set_dark(dark)
