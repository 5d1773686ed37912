"""`TrainingState`: the window's Inference | Training switch and the one set of training settings every view shares.

It lives as a child of the `CostDocument` (`TrainingState.of(document)`, as `LatencyState`): the toolbar's switch,
the Training tab, the layer table's training columns, the diagram's training metrics, the Totals panel and the
report read the same optimizer, precision, batch, device and frozen / checkpointed scopes. The mode, optimizer,
precision and device are view settings (remembered in QSettings); the batch is a what-if for memory (saved
activations grow with it; compute stays at the model's batch). Freezing or checkpointing a scope is an edit: one
undo step on the document's stack (`ScopeCommand`). The step itself is the engine's
(`netcost.costing.training.analyze_training`), computed once per report and settings.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from enum import Enum
from itertools import accumulate

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QUndoCommand

from netcost.costing import CostReport, HierarchyNode, LayerCost
from netcost.costing.devices import PRESETS, Device
from netcost.costing.graph import Node
from netcost.costing.optimizers import OPTIMIZERS, PRECISIONS_ORDER
from netcost.costing.training import TrainingError, TrainingReport, TrainRow, analyze_training, in_scope
from netcost.costing.training_fit import MemoryParts, memory_parts, row_memory_bytes, saved_at
from netcost.gui.document.cost_document import CostDocument

SETTINGS_PREFIX = "training/"
EXTRA_KEY = "training"  # the project file's key for the frozen / checkpointed scopes (model_io.files.project_keys)


class Mode(Enum):
    INFERENCE = "inference"
    TRAINING = "training"


class ScopeKind(Enum):
    FREEZE = "freeze"
    CHECKPOINT = "checkpoint"


class TrainFigure(Enum):
    """The per-node training figures the diagram colours by and the table lists (keys of `cost_colors.METRICS`)."""

    BACKWARD_FLOPS = "backward_flops"
    SAVED = "saved_activations"
    MEMORY = "training_memory"


_Subject = LayerCost | HierarchyNode | CostReport


class TrainingState(QObject):
    changed = Signal()  # a setting, the scopes or the batch changed: training figures may differ
    modeChanged = Signal(object)  # Mode

    def __init__(self, document: CostDocument) -> None:
        super().__init__(document)
        self.setObjectName("trainingState")
        self.document = document
        self.devices: tuple[Device, ...] = tuple(d for d in PRESETS if d.memory_bytes)
        # one settings object, kept: a temporary one writes the file when it goes (~7 ms of a frame per change)
        self._settings = s = QSettings(self)
        self.mode = _enum(Mode, s.value(SETTINGS_PREFIX + "mode", Mode.INFERENCE.value), Mode.INFERENCE)
        self.optimizer = _choice(s.value(SETTINGS_PREFIX + "optimizer", "adam"), OPTIMIZERS, "adam")
        self.precision = _choice(s.value(SETTINGS_PREFIX + "precision", "fp32"), PRECISIONS_ORDER, "fp32")
        names = [d.name for d in self.devices]
        self.device_name = _choice(s.value(SETTINGS_PREFIX + "device", names[0] if names else ""), names,
                                   names[0] if names else "")
        self._batch: int | None = None  # None: the model's own batch
        self.scopes: dict[ScopeKind, tuple[str, ...]] = self._saved_scopes()
        self.error = ""  # why there is no step (an incomplete model), else ""
        self._cache: tuple[CostReport, tuple, TrainingReport | None] | None = None
        self._sums: tuple[TrainingReport, int, list[int], dict[TrainFigure, list[int]]] | None = None
        document.documentReset.connect(self._on_document_reset)
        document.settingsChanged.connect(self._on_settings_changed)

    @classmethod
    def of(cls, document: CostDocument) -> TrainingState:
        """The document's state, created on first use."""
        found = document.findChild(TrainingState, "trainingState")
        return found if isinstance(found, TrainingState) else cls(document)

    # ---- settings --------------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.mode is Mode.TRAINING

    def set_mode(self, mode: Mode) -> None:
        if mode is not self.mode:
            self.mode = mode
            self._settings.setValue(SETTINGS_PREFIX + "mode", mode.value)
            self.modeChanged.emit(mode)
            self.changed.emit()

    def set_optimizer(self, name: str) -> None:
        self._set_remembered("optimizer", _choice(name, OPTIMIZERS, self.optimizer))

    def set_precision(self, name: str) -> None:
        self._set_remembered("precision", _choice(name, PRECISIONS_ORDER, self.precision))

    def set_device(self, name: str) -> None:
        self._set_remembered("device_name", _choice(name, [d.name for d in self.devices], self.device_name), "device")

    def _set_remembered(self, attr: str, value: str, key: str | None = None) -> None:
        if getattr(self, attr) != value:
            setattr(self, attr, value)
            self._settings.setValue(SETTINGS_PREFIX + (key or attr), value)
            self.changed.emit()

    def apply(self, mode: Mode, optimizer: str, precision: str, freeze: tuple[str, ...] = (),
              checkpoint: tuple[str, ...] = (), device: Device | None = None) -> None:
        """Set everything at once without remembering it or an undo step (a headless report: `netcost report
        --train`, whose options must not become the window's)."""
        self.mode, self.optimizer, self.precision = mode, _choice(optimizer, OPTIMIZERS, "adam"), \
            _choice(precision, PRECISIONS_ORDER, "fp32")
        self.scopes = {ScopeKind.FREEZE: tuple(freeze), ScopeKind.CHECKPOINT: tuple(checkpoint)}
        self._store_scopes()
        if device is not None:
            if device not in self.devices:
                self.devices = (*self.devices, device)
            self.device_name = device.name
        self.modeChanged.emit(mode)
        self.changed.emit()

    @property
    def batch(self) -> int:
        """The what-if batch (the model's own until set)."""
        return self._batch if self._batch is not None else max(1, self.document.graph.batch_size)

    def set_batch(self, batch: int) -> None:
        batch = max(1, int(batch))
        if batch != self.batch:
            self._batch = batch
            self.changed.emit()

    @property
    def device(self) -> Device | None:
        return next((d for d in self.devices if d.name == self.device_name), None)

    # ---- scopes: one undo step each ----------------------------------------------------------------------
    def set_scope(self, kind: ScopeKind, path: str, on: bool) -> bool:
        """Freeze or checkpoint the scope `path` (or stop): one undo step; False when nothing changes."""
        old = self.scopes[kind]
        new = (*old, path) if on and path not in old else tuple(p for p in old if p != path) if not on else old
        if new == old:
            return False
        self.document.undo_stack.push(ScopeCommand(self, kind, old, new, scope_edit_text(kind, path, on)))
        return True

    def _put_scopes(self, kind: ScopeKind, scopes: tuple[str, ...]) -> None:
        self.scopes[kind] = scopes
        self._store_scopes()
        self.changed.emit()

    def _store_scopes(self) -> None:
        """Keep the scopes in the project's extra keys: a save (and an autosave) writes them, an open reads them."""
        kept = {k.value: list(v) for k, v in self.scopes.items() if v}
        if kept:
            self.document.extra[EXTRA_KEY] = kept
        else:
            self.document.extra.pop(EXTRA_KEY, None)

    def covering(self, kind: ScopeKind, path: str) -> str | None:
        """The scope of `kind` that holds `path` (itself or one around it), else None."""
        return next((s for s in self.scopes[kind] if path == s or path.startswith(s + ".")), None)

    def node_marks(self, node: Node) -> tuple[bool, bool]:
        """(frozen, checkpointed) for a node, by the scopes it lies in."""
        return (any(in_scope(s, node) for s in self.scopes[ScopeKind.FREEZE]),
                any(in_scope(s, node) for s in self.scopes[ScopeKind.CHECKPOINT]))

    # ---- the step --------------------------------------------------------------------------------------------
    def train(self) -> TrainingReport | None:
        """The step of the document's current report with these settings (None, with `error`, where it cannot
        be costed)."""
        report = self.document.report
        key = (self.optimizer, self.precision, self.scopes[ScopeKind.FREEZE], self.scopes[ScopeKind.CHECKPOINT])
        if self._cache is None or self._cache[0] is not report or self._cache[1] != key:
            self._cache = (report, key, self.what_if(report=report))
        return self._cache[2]

    def what_if(self, kind: ScopeKind | None = None, path: str = "", report: CostReport | None = None
                ) -> TrainingReport | None:
        """The step with `path` also frozen / checkpointed (the menus show the effect before applying)."""
        scopes = dict(self.scopes)
        if kind is not None:
            scopes[kind] = (*scopes[kind], path)
        try:
            train = analyze_training(report or self.document.report, self.optimizer, self.precision,
                                     scopes[ScopeKind.FREEZE], scopes[ScopeKind.CHECKPOINT])
        except TrainingError as e:
            if kind is None:
                self.error = str(e)
            return None
        if kind is None:
            self.error = ""
        return train

    def parts(self) -> MemoryParts | None:
        train = self.train()
        return memory_parts(train, self.batch) if train is not None else None

    def row(self, node_id: str) -> TrainRow | None:
        train = self.train()
        return train.by_id.get(node_id) if train is not None else None

    def figure(self, train: TrainingReport, row: TrainRow, figure: TrainFigure) -> int:
        if figure is TrainFigure.BACKWARD_FLOPS:
            return row.backward_flops
        if figure is TrainFigure.SAVED:
            return saved_at(train, row.saved_activation_bytes, self.batch)
        return row_memory_bytes(train, row, self.batch)

    def value(self, subject: _Subject, figure: TrainFigure) -> int:
        """A row's, a container's (the sum of its rows) or the whole model's training figure; 0 without a step."""
        train = self.train()
        if train is None:
            return 0
        if isinstance(subject, LayerCost):
            row = train.by_id.get(subject.node_id)
            return self.figure(train, row, figure) if row is not None else 0
        rows, sums = self._prefix_sums(train)
        if isinstance(subject, HierarchyNode):  # first/last are graph rows
            lo, hi = bisect_left(rows, subject.first), bisect_right(rows, subject.last)
        else:
            lo, hi = 0, len(rows)
        return sums[figure][hi] - sums[figure][lo]

    def _prefix_sums(self, train: TrainingReport) -> tuple[list[int], dict[TrainFigure, list[int]]]:
        if self._sums is None or self._sums[0] is not train or self._sums[1] != self.batch:
            index = self.document.graph.index
            placed = sorted((index[r.node_id], r) for r in train.rows if r.node_id in index)
            sums = {f: [0, *accumulate(self.figure(train, r, f) for _, r in placed)] for f in TrainFigure}
            self._sums = (train, self.batch, [i for i, _ in placed], sums)
        return self._sums[2], self._sums[3]

    def _on_document_reset(self) -> None:
        """A new model: the scopes its project saved (those it has), else none (its undo stack is new too)."""
        self._batch = None
        self.scopes = self._saved_scopes()
        self.changed.emit()

    def _saved_scopes(self) -> dict[ScopeKind, tuple[str, ...]]:
        """The scopes the document's project file kept (those its model has)."""
        saved = self.document.extra.get(EXTRA_KEY)
        nodes = self.document.graph.nodes
        return {k: tuple(s for s in (saved.get(k.value, ()) if isinstance(saved, dict) else ())
                         if isinstance(s, str) and any(in_scope(s, n) for n in nodes))
                for k in ScopeKind}

    def _on_settings_changed(self) -> None:
        self._batch = None  # the model's batch changed: the what-if follows it
        self.changed.emit()


class ScopeCommand(QUndoCommand):
    """Freezing or checkpointing a scope (or stopping): the scopes of one kind before and after."""

    def __init__(self, state: TrainingState, kind: ScopeKind, old: tuple[str, ...], new: tuple[str, ...],
                 text: str) -> None:
        super().__init__(text)
        self.state, self.kind, self.old, self.new = state, kind, old, new

    def redo(self) -> None:
        self.state._put_scopes(self.kind, self.new)

    def undo(self) -> None:
        self.state._put_scopes(self.kind, self.old)


def scope_edit_text(kind: ScopeKind, path: str, on: bool) -> str:
    if kind is ScopeKind.FREEZE:
        return f"{'Freeze' if on else 'Unfreeze'} {path} (training)"
    return f"{'Checkpoint' if on else 'Stop checkpointing'} {path} (training)"


def _choice(value: object, options: object, default: str) -> str:
    return str(value) if str(value) in options else default  # type: ignore[operator]


def _enum(cls: type[Mode], value: object, default: Mode) -> Mode:
    try:
        return cls(str(value))
    except ValueError:
        return default
