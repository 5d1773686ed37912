"""`netcost report MODEL -o report.png|svg|pdf`: the window's report, rendered headless.

Registered by the entry point (gui.entry) when it builds its parser, so this module imports nothing heavy at load
time: Qt is imported only when a report is actually rendered.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from netcost.model_io.cli.cli import depth_arg, int_arg
from netcost.model_io.cli.train_cli import add_training_options
from netcost.model_io.escape import printable

if TYPE_CHECKING:
    from netcost.gui.document.cost_document import CostDocument

FORMATS = ("png", "svg", "pdf")
METRICS = ("flops", "params")
PAGES = ("a4", "letter")
ORIENTATIONS = ("top-down", "left-right")  # the values of gui.diagram.layout.Orientation (not imported: no Qt here)


def _scale(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = 0.0
    if not 0.1 <= v <= 16:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scale between 0.1 and 16")
    return v


_width = int_arg(16, 40000, "a width between 16 and 40000 pixels")


def add_report_parser(subparsers: argparse._SubParsersAction,
                      add_model_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `netcost report`; the parsed namespace carries `run_report(args) -> exit status`."""
    p = subparsers.add_parser("report", help="render the report (totals, diagram, charts, top layers) to a file",
                              description="Render the same report as the window's Export > Report, headless.")
    add_model_options(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="report.png, report.svg or report.pdf")
    p.add_argument("--metric", choices=METRICS, default="flops",
                   help="what the diagram is coloured by and which top-10 table comes first (default: flops)")
    p.add_argument("--dark", action="store_true", help="dark palette (for slides)")
    p.add_argument("--width", type=_width, help="PNG width in pixels (instead of --scale)")
    p.add_argument("--scale", type=_scale, default=2.0,
                   help="PNG pixels per layout pixel (default 2: crisp on slides and high-DPI screens)")
    p.add_argument("--depth", type=depth_arg, default=None,
                   help="fold the diagram's containers at this hierarchy depth, as in summary --depth "
                        "(default: long traced models fold their repeated blocks; PDF continues on further pages)")
    p.add_argument("--page", choices=PAGES, default="a4", help="PDF page size (default: a4)")
    p.add_argument("--orientation", choices=ORIENTATIONS, default=ORIENTATIONS[0],
                   help="which way the diagram's data flows, as the window's Flow setting (default: top-down)")
    p.add_argument("--baseline", metavar="REF",
                   help="compare against this model as loaded (the model itself, without its --set/--rewrite "
                        "edits, or another one): the report's Δ columns, as with a pinned baseline in the window")
    p.add_argument("--train", action="store_true",
                   help="add the training section: one step's memory (weights, gradients, optimizer states, saved "
                        "activations), peak and compute, as netcost train")
    add_training_options(p)
    p.add_argument("--device", metavar="NAME", help="with --train: the largest batch that fits this device's memory")
    p.set_defaults(handler=run_report)


def _error(message: str) -> int:
    print(f"netcost: error: {printable(message)}", file=sys.stderr)
    return 2


def _training(document: CostDocument, args: argparse.Namespace) -> str:
    """Set the document's training state from the command alone (Training mode with `--train`; never the window's
    remembered mode); why it cannot be, else ''."""
    from netcost.costing.training import TrainingError, analyze_training
    from netcost.gui.document.training_state import Mode, TrainingState
    from netcost.model_io.files import device_files

    device = None
    if args.train:
        try:  # an unknown scope or device is the user's mistake: one line, exit 2 (as netcost train)
            analyze_training(document.report, args.optimizer, args.precision, args.freeze, args.checkpoint)
            device = device_files.lookup(args.device) if args.device else None
        except (TrainingError, ValueError) as e:
            return f"{args.model}: {e}"
    TrainingState.of(document).apply(Mode.TRAINING if args.train else Mode.INFERENCE, args.optimizer,
                                     args.precision, tuple(args.freeze), tuple(args.checkpoint), device)
    return ""


def run_report(args: argparse.Namespace) -> int:
    """Render the report of `args.model` to `args.output`; 0 on success, 2 with a one-line message otherwise."""
    out = Path(args.output)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:  # checked before the (possibly slow) model load
        return _error(f"{out}: the report is written as .png, .svg or .pdf (not {out.suffix or 'no suffix'!r})")
    if not out.parent.is_dir():
        return _error(f"{out}: the folder {out.parent} does not exist")
    if (args.width is not None or args.scale != 2.0) and fmt != "png":
        print(f"netcost: note: --width/--scale apply to PNG only; {fmt.upper()} is vector", file=sys.stderr)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display: render without one

    from netcost.model_io.cli.cli import costed, costed_as_loaded, load_edited

    report = costed(load_edited(args), args)  # ModelError -> the CLI's one-line message, exit 2
    baseline = costed_as_loaded(args.baseline, args) if args.baseline else None

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "netcost"])
    from netcost.gui.diagram.layout import Orientation
    from netcost.gui.document.cost_document import CostDocument
    from netcost.gui.report import ReportOptions
    from netcost.gui.report.exporters import ExportError, export_report

    document = CostDocument()
    document.set_report(report)
    document.prior_edits = [f"--set {x}" for x in getattr(args, "sets", None) or ()] + \
        [f"--rewrite {x}" for x in getattr(args, "rewrites", None) or ()]
    if baseline is not None:
        document.pin_other_baseline(baseline, f"{args.baseline} as loaded", shared_ids=args.baseline == args.model)
    document.set_convention(args.convention)
    failed = _training(document, args)
    if failed:
        return _error(failed)
    opts = ReportOptions(metric=args.metric, dark=args.dark, page=args.page, depth=args.depth,
                         orientation=Orientation(args.orientation))
    try:
        result = export_report(document, out, fmt, width=args.width, scale=args.scale, options=opts)
    except ExportError as e:
        return _error(str(e))
    finally:
        document.deleteLater()
        app.processEvents()
    if result.pixel_size is not None:
        detail = f"{result.pixel_size.width()} × {result.pixel_size.height()} px"
    else:
        detail = f"{result.pages} page{'s' * (result.pages != 1)}" if fmt == "pdf" else "vector"
    print(f"wrote {printable(out)} ({detail})")
    return 0
