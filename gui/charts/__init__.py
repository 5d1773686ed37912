"""The four cost charts (pyqtgraph), each a `PlotWidget` observing a `CostDocument`; see
`netcost.gui.charts.charts_widget`."""
