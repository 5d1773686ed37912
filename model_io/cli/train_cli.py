"""`netcost train`: one training step of a model, per layer and in total (issue 21), and the training-memory
budget of `netcost check`. No torch here: the model is loaded like every command's, the engine is
`netcost.costing.training`.

The JSON is a `netcost.report/1` report whose `totals` gain `"training"` and whose rows gain `"backward_macs"` and
`"saved_activation_bytes"`; the text formats add those two columns and the training totals under the table.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from netcost.costing import CostReport
from netcost.costing import formatting as fmt
from netcost.costing.devices import Device
from netcost.costing.optimizers import OPTIMIZERS, PRECISIONS_ORDER
from netcost.costing.training import TrainingError, TrainingReport, analyze_training
from netcost.costing.training_fit import step_time

from .. import strict_json
from ..files import device_files, tables
from .budget import Verdict

TRAINING_KEYS = ("optimizer", "precision", "forward_macs", "backward_macs", "recompute_macs", "step_macs",
                 "step_flops", "param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes",
                 "peak_bytes")


class TrainUsageError(ValueError):
    """A training option that does not apply to this model (an unknown scope): a usage error, exit 2."""


def add_training_options(p: argparse.ArgumentParser) -> None:
    """--optimizer, --precision, --freeze and --checkpoint (train and check)."""
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam",
                   help="the optimizer whose states count (default adam)")
    p.add_argument("--precision", choices=list(PRECISIONS_ORDER), default="fp32",
                   help="fp32; bf16-mixed / fp16-mixed: half activations and gradients, fp32 master weights and "
                        "states; bf16: everything in bf16 (default fp32)")
    p.add_argument("--freeze", action="extend", nargs="+", default=[], metavar="SCOPE",
                   help="module scopes not trained (no gradients or states; the backward stops before them)")
    p.add_argument("--checkpoint", action="extend", nargs="+", default=[], metavar="SCOPE",
                   help="module scopes under activation checkpointing (only their inputs are kept; their forward "
                        "runs again in the backward)")


def add_train_parser(sub: argparse._SubParsersAction, add_model_options: Callable[[argparse.ArgumentParser], None]
                     ) -> None:
    t = sub.add_parser("train", help="one training step: backward compute, saved activations, gradients, "
                                     "optimizer states and the peak memory, per layer")
    add_model_options(t)
    add_training_options(t)
    t.add_argument("--device", metavar="NAME",
                   help="add the step time (roofline) and the largest batch that fits this device's memory")
    t.add_argument("--format", choices=list(tables.FORMATS), default="table")
    t.add_argument("-o", "--output", help="write to this file instead of standard output")


def training_of(report: CostReport, args: argparse.Namespace) -> TrainingReport:
    try:
        return analyze_training(report, args.optimizer, args.precision, args.freeze, args.checkpoint)
    except TrainingError as e:
        raise TrainUsageError(f"{args.model}: {e}") from None


def training_dict(train: TrainingReport, device: Device | None = None) -> dict[str, Any]:
    """The `"training"` object of the report's totals (`step_s` and `max_batch` with a device; `max_batch` is null
    where the device's memory is unknown)."""
    t = train.totals.as_dict()
    out: dict[str, Any] = {k: t[k] for k in TRAINING_KEYS}
    if device is not None:
        out["step_s"] = step_time(train, device).total_s
        out["max_batch"] = train.max_batch(int(device.memory_bytes)) if device.memory_bytes else None
    return out


def _row_values(train: TrainingReport) -> tuple[list[int], list[int]]:
    rows = tables.visible_layers(train.report)
    backward = [train.by_id[r.node_id].backward_macs if r.node_id in train.by_id else 0 for r in rows]
    saved = [train.by_id[r.node_id].saved_activation_bytes if r.node_id in train.by_id else 0 for r in rows]
    return backward, saved


def train_text(report: CostReport, args: argparse.Namespace) -> str:
    return training_text(training_of(report, args), args)


def training_text(train: TrainingReport, args: argparse.Namespace) -> str:
    """A costed training step in `args.format` (with `args.convention`, and `args.device`'s step time and batch)."""
    device = device_files.lookup(args.device) if args.device else None
    backward, saved = _row_values(train)
    if args.format == "json":
        d = tables.to_dict(train.report, args.convention)
        d["totals"]["training"] = training_dict(train, device)
        for row, b, s in zip(d["layers"], backward, saved, strict=True):
            row["backward_macs"], row["saved_activation_bytes"] = b, s
        return strict_json.dumps(d, indent=2) + "\n"
    tt = train.totals
    if args.format == "csv":
        extra = {"backward_macs": ([str(b) for b in backward], str(tt.backward_macs)),
                 "saved_activation_bytes": ([str(s) for s in saved], str(tt.saved_activation_bytes))}
        return tables.to_csv(train.report, args.convention, None, extra)
    extra = {"Backward MACs": ([fmt.grouped(b) for b in backward], fmt.grouped(tt.backward_macs)),
             "Saved act.": ([fmt.nbytes(s) for s in saved], fmt.nbytes(tt.saved_activation_bytes))}
    text = tables.FORMATS[args.format](train.report, args.convention, None, extra)
    lines = training_lines(train, device)
    if args.format == "markdown":
        return text + "\n".join(f"- {line}" for line in lines) + "\n"
    return text + "\n".join(lines) + "\n"


def memory_verdict(train: TrainingReport, limit: int) -> Verdict:
    """`netcost check --max-train-memory`: the step's estimated peak against the budget."""
    return Verdict(f"training memory ({train.totals.optimizer}, {train.totals.precision})", train.totals.peak_bytes,
                   limit, True)


def training_lines(train: TrainingReport, device: Device | None = None) -> list[str]:
    """The training totals under the table."""
    t = train.totals
    what = f"Training step ({t.optimizer}, {t.precision}, batch {t.batch_size:,})"
    scopes = []
    if train.frozen:
        scopes.append("frozen: " + ", ".join(train.frozen))
    if train.checkpointed:
        scopes.append("checkpointed: " + ", ".join(train.checkpointed))
    lines = [what + (f" — {'; '.join(scopes)}" if scopes else "") + ":",
             f"  MACs: forward {fmt.grouped(t.forward_macs)} + backward {fmt.grouped(t.backward_macs)} + recompute "
             f"{fmt.grouped(t.recompute_macs)} = {fmt.grouped(t.step_macs)} ({fmt.si(t.step_macs)}); "
             f"step FLOPs {fmt.si(t.step_flops)}",
             f"  Memory: weights {fmt.nbytes(t.param_bytes)}, gradients {fmt.nbytes(t.grad_bytes)}, optimizer states "
             f"{fmt.nbytes(t.optimizer_bytes)}, saved activations {fmt.nbytes(t.saved_activation_bytes)}",
             f"  Peak (steady-state step, estimate): {fmt.nbytes(t.peak_bytes)}"]
    if device is not None:
        lines.append(f"  On {device.name}: step {fmt.duration(step_time(train, device).total_s)} (roofline)")
        if device.memory_bytes:
            fit = train.max_batch(int(device.memory_bytes))
            lines.append(f"  Fits {fmt.nbytes(int(device.memory_bytes))}: " + (
                "no, not even batch 1" if fit == 0 else "any batch (nothing grows with it)" if fit is None
                else f"up to batch {fit:,}"))
        else:
            lines.append(f"  {device.name}'s memory is unknown (add memory_bytes to its device file)")
    return lines
