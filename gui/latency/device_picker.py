"""`DevicePickerWidget`: a combo box of the devices latency estimates can use, bound to a `LatencyState`."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QWidget

from netcost.costing import formatting as fmt
from netcost.gui.document.latency_state import LatencyState

NONE_TEXT = "(no device)"


class DevicePickerWidget(QComboBox):
    def __init__(self, state: LatencyState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("devicePicker")
        self.setToolTip("The device the roofline latency is estimated for (presets, your devices file, "
                        "this machine once calibrated)")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.currentIndexChanged.connect(self._on_current_index_changed)
        state.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        """Items and current entry from the state (without echoing the change back)."""
        with QSignalBlocker(self):
            names = [self.itemData(i) for i in range(self.count())]
            wanted = [None, *(d.name for d in self.state.devices)]
            if names != wanted:
                self.clear()
                self.addItem(NONE_TEXT, None)
                for d in self.state.devices:
                    self.addItem(d.name, d.name)
                    self.setItemData(self.count() - 1, f"{d.source}; fp32 {fmt.si(d.peak_flops['fp32'], 'FLOP/s')}, "
                                     f"{fmt.si(d.memory_bandwidth, 'B/s')}", Qt.ItemDataRole.ToolTipRole)
            current = self.state.device.name if self.state.device else None
            self.setCurrentIndex(max(0, wanted.index(current) if current in wanted else 0))

    def _on_current_index_changed(self, index: int) -> None:
        self.state.set_device(self.itemData(index))
