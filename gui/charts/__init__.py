"""The four cost charts (pyqtgraph), each a `PlotWidget` observing a `CostDocument`; see `gui.charts_widget`."""
