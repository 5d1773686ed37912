"""`Report.train(...)`: one training step of a report's model — backward compute, the activations saved for
backward, gradients, optimizer states and the step's peak memory — exactly the figures of `netcost train`
(docs/training.md has the formulas and the checks against PyTorch)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from netcost.model_io.cli.train_cli import training_dict, training_of, training_text
from netcost.model_io.files import device_files

from .text_forms import TextForms

if TYPE_CHECKING:
    from netcost.costing.training import TrainingReport
    from netcost.report import Report


class Training(TextForms):
    """A training step of one report's model at the report's batch size. `str()` is `netcost train`'s table;
    `to_dict()`, `to_json()`, `to_csv()` and `to_markdown()` its `--format json|csv|markdown`; `totals` is the
    JSON's `"training"` object (`step_s` and `max_batch` too when a device was given); `result` the engine's
    per-node record (netcost.costing.training.TrainingReport). A bad option or a scope that names no module raises
    ValueError with the CLI's message."""

    def __init__(self, report: Report, *, optimizer: str = "adam", precision: str = "fp32",
                 freeze: Iterable[str] = (), checkpoint: Iterable[str] = (), device: str | None = None) -> None:
        self.report = report
        self._args = argparse.Namespace(model=report.label, optimizer=optimizer, precision=precision,
                                        freeze=list(freeze), checkpoint=list(checkpoint), device=device,
                                        convention=report.convention, format="table")
        self._device = device_files.lookup(device) if device else None
        self.result: TrainingReport = training_of(report.cost_report, self._args)

    @property
    def totals(self) -> dict[str, Any]:
        """optimizer, precision, forward/backward/recompute/step MACs, step FLOPs, param/grad/optimizer/saved
        activation/peak bytes (+ step_s, max_batch with a device), as `netcost train --format json` names them."""
        return training_dict(self.result, self._device)

    def _format(self, form: str) -> str:
        return training_text(self.result, argparse.Namespace(**{**vars(self._args), "format": form}))

    def __repr__(self) -> str:
        t = self.totals
        return f"<netcost.Training {self.report.label}: {t['optimizer']}, {t['precision']}, peak {t['peak_bytes']} B>"
