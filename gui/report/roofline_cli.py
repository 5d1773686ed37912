"""`netcost roofline MODEL --device NAME -o roofline.png|svg|pdf [--measure]`: the roofline chart, headless.

Registered by `netcost.model_io.cli.cli` like `netcost report`; Qt is imported only when the chart is rendered.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from netcost.costing.devices import PEAK_DTYPES
from netcost.gui.report.report_cli import FORMATS, _error, _scale, _width
from netcost.model_io.cli.cli import int_arg


def add_roofline_parser(subparsers: argparse._SubParsersAction,
                        add_model_options: Callable[[argparse.ArgumentParser], None]) -> None:
    p = subparsers.add_parser("roofline", help="render the roofline chart of a model on a device to a file")
    add_model_options(p)
    p.add_argument("--device", required=True, metavar="NAME", help="a device of `netcost devices`")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="roofline.png, .svg or .pdf")
    p.add_argument("--peak", choices=PEAK_DTYPES, help="which of the device's peaks (default: the dtype's)")
    p.add_argument("--measure", action="store_true", help="also run the model on this machine and plot what "
                   "each layer reached (hollow points)")
    p.add_argument("--repeats", type=int_arg(1, None, "a positive integer"), default=5,
                   help="timed runs for --measure (default 5)")
    p.add_argument("--dark", action="store_true", help="dark palette (for slides)")
    p.add_argument("--width", type=_width, help="PNG width in pixels (instead of --scale)")
    p.add_argument("--scale", type=_scale, default=2.0, help="PNG pixels per layout pixel (default 2)")
    p.set_defaults(handler=run_roofline)


def run_roofline(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.suffix.lstrip(".").lower() not in FORMATS:
        return _error(f"{out}: the chart is written as .png, .svg or .pdf (not {out.suffix or 'no suffix'!r})")
    if not out.parent.is_dir():
        return _error(f"{out}: the folder {out.parent} does not exist")
    from netcost.model_io.cli.cli import options
    from netcost.model_io.files import device_files

    device = device_files.lookup(args.device)  # DeviceError: the CLI's one-line message
    if args.measure:
        from netcost.model_io.worker.measure_client import measure_in_worker

        report, measurement = measure_in_worker(args.model, options(args), args.repeats)
    else:
        from netcost.model_io.worker.resolve import load_report

        report, measurement = load_report(args.model, options(args)), None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "netcost"])
    from netcost.gui.report.exporters import ExportError
    from netcost.gui.report.roofline_export import export_roofline, roofline_document

    document = roofline_document(report, device.name, measurement, args.peak)
    try:
        result = export_roofline(document, out, dark=args.dark, width=args.width, scale=args.scale)
    except ExportError as e:
        return _error(str(e))
    finally:
        document.deleteLater()
        app.processEvents()
    size = f"{result.pixel_size.width()} × {result.pixel_size.height()} px" if result.pixel_size else "vector"
    print(f"wrote {out} ({size})")
    return 0
