"""`TrainingControls`: the Inference | Training switch and the optimizer, precision, batch (and device) boxes, bound
to the document's one `TrainingState`. The toolbar holds one (its boxes show only in Training mode), the Training
tab another (always shown, with the device): both edit the same state, so they never disagree."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QSpinBox, QToolButton, QWidget

from netcost.costing.optimizers import OPTIMIZERS, PRECISIONS_ORDER
from netcost.gui.document.training_state import Mode, TrainingState


class TrainingControls(QWidget):
    def __init__(self, state: TrainingState, parent: QWidget | None = None, switch: bool = True,
                 device: bool = False) -> None:
        super().__init__(parent)
        self.state = state
        self.switch = switch
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.mode_buttons: dict[Mode, QToolButton] = {}
        if switch:
            group = QButtonGroup(self)
            group.setExclusive(True)
            for mode, text, tip in (
                    (Mode.INFERENCE, "Inference", "Costs of one forward pass"),
                    (Mode.TRAINING, "Training", "Costs of one training step: backward compute, saved activations, "
                                                "gradients and optimizer states (table columns, diagram metrics, "
                                                "Totals)")):
                b = QToolButton(self)
                b.setText(text)
                b.setToolTip(tip)
                b.setCheckable(True)
                b.setAutoRaise(True)
                group.addButton(b)
                row.addWidget(b)
                self.mode_buttons[mode] = b
                b.clicked.connect(lambda _=False, m=mode: state.set_mode(m))
        self.settings = QWidget(self)  # what shows only in Training mode next to the switch
        boxes = QHBoxLayout(self.settings)
        boxes.setContentsMargins(6 if switch else 0, 0, 0, 0)
        self.optimizer = QComboBox(self.settings)
        self.optimizer.addItems(list(OPTIMIZERS))
        self.optimizer.setToolTip("The optimizer whose states count")
        self.precision = QComboBox(self.settings)
        self.precision.addItems(list(PRECISIONS_ORDER))
        self.precision.setToolTip("fp32; bf16/fp16-mixed: half activations and gradients, fp32 master weights and "
                                  "states; bf16: everything in bf16")
        self.batch = QSpinBox(self.settings)
        self.batch.setRange(1, 1 << 24)
        self.batch.setToolTip("What-if batch size: the saved activations, training memory and the peak at this batch "
                              "(compute stays at the model's batch)")
        widgets: list[tuple[str, QWidget]] = [("Optimizer", self.optimizer), ("Precision", self.precision),
                                              ("Batch", self.batch)]
        self.device: QComboBox | None = None
        if device:
            self.device = QComboBox(self.settings)
            self.device.addItems([d.name for d in state.devices])
            self.device.setToolTip("The device whose memory the step must fit")
            widgets.append(("Device", self.device))
        for label, widget in widgets:
            boxes.addWidget(QLabel(label, self.settings))
            boxes.addWidget(widget)
        row.addWidget(self.settings)
        if not switch:
            row.addStretch(1)
        self._sync()
        self.optimizer.currentTextChanged.connect(state.set_optimizer)
        self.precision.currentTextChanged.connect(state.set_precision)
        self.batch.valueChanged.connect(state.set_batch)
        if self.device is not None:
            self.device.currentTextChanged.connect(state.set_device)
        state.changed.connect(self._sync)

    def _sync(self) -> None:
        """Show the state (set elsewhere: the other controls, a new model's batch) without echoing it back."""
        s = self.state
        for mode, button in self.mode_buttons.items():
            button.setChecked(mode is s.mode)
        self.settings.setVisible(not self.switch or s.training)
        pairs: list[tuple[QComboBox, str]] = [(self.optimizer, s.optimizer), (self.precision, s.precision)]
        if self.device is not None:
            pairs.append((self.device, s.device_name))
        for box, text in pairs:
            if box.currentText() != text:
                box.blockSignals(True)
                box.setCurrentText(text)
                box.blockSignals(False)
        if self.batch.value() != s.batch:
            self.batch.blockSignals(True)
            self.batch.setValue(s.batch)
            self.batch.blockSignals(False)
