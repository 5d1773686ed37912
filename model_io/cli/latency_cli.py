"""The latency parts of the command line: `netcost devices [--calibrate]` and `summary --device/--measure`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from netcost.costing import formatting as fmt
from netcost.costing.devices import PEAK_DTYPES, Device
from netcost.costing.latency import estimate

from .. import escape, strict_json
from ..files import device_files
from ..options import LoadOptions
from ..worker.resolve import load_report
from .latency_tables import LatencySummary, render


def add_summary_options(p: argparse.ArgumentParser, positive: Callable[[str], int]) -> None:
    p.add_argument("--device", metavar="NAME",
                   help="add the roofline latency estimate on this device (see `netcost devices`)")
    p.add_argument("--peak", choices=PEAK_DTYPES,
                   help="which of the device's peaks to use (default: the document dtype's; tf32: TF32 tensor cores)")
    p.add_argument("--measure", action="store_true",
                   help="also run the model for real on this machine and time each layer (median of --repeats)")
    p.add_argument("--repeats", type=positive, default=5, help="timed runs for --measure (default 5)")


def wanted(args: argparse.Namespace) -> bool:
    return bool(args.device or args.measure)


def summary_text(args: argparse.Namespace, opts: LoadOptions) -> str:
    """`summary` with --device and/or --measure (DeviceError / ModelError on bad input)."""
    device = device_files.lookup(args.device) if args.device else None  # a typo fails before any loading
    if args.measure:
        from ..worker.measure_client import measure_in_worker

        report, measurement = measure_in_worker(args.model, opts, args.repeats)
    else:
        report, measurement = load_report(args.model, opts), None
    view = LatencySummary(report, estimate(report, device, args.peak) if device else None, measurement)
    return render(view, args.format, args.convention, args.depth)


def add_devices_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("devices", help="list the devices latency estimates can use (presets, yours, this machine)")
    d.add_argument("--calibrate", action="store_true",
                   help="measure this machine's GEMM FLOP/s and copy bandwidth (a few seconds) and cache them")
    d.add_argument("--format", choices=("table", "json"), default="table")


def run_devices(args: argparse.Namespace) -> int:
    if args.calibrate:
        from ..worker.calibrate import calibrate_in_subprocess

        path = device_files.save_calibration(calibrate_in_subprocess())
        print(f"netcost: calibrated this machine; cached in {path}", file=sys.stderr)
    devices = device_files.all_devices()
    if args.format == "json":
        rows = [{k: d.as_dict()[k] for k in ("name", "peak_flops", "memory_bandwidth", "launch_overhead_us", "source")}
                for d in devices]
        sys.stdout.write(strict_json.dumps({"devices": rows}, indent=2) + "\n")
    else:
        sys.stdout.write(devices_table(devices))
    return 0


def devices_table(devices: tuple[Device, ...]) -> str:
    head = ["Device", *PEAK_DTYPES, "Bandwidth", "Ridge (fp32)", "Launch floor", "Source"]
    # a user device's name (and where it came from) is the user's text: escaped as every other table does
    rows = [[escape.printable(d.name),
             *(fmt.si(d.peak_flops[k], "FLOP/s") if k in d.peak_flops else "—" for k in PEAK_DTYPES),
             fmt.si(d.memory_bandwidth, "B/s"), f"{d.ridge_point('fp32'):.1f} FLOPs/B",
             fmt.duration(d.launch_floor_s), escape.printable(d.source)]
            for d in devices]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i in (0, len(head) - 1) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip() for r in [head, *rows]]
    lines.insert(1, "-" * len(lines[0]))
    paths = (f"Your devices: {escape.printable(device_files.user_devices_path())} (same shape as --format json); "
             f"this machine: `netcost devices --calibrate`.")
    return "\n".join(lines + [paths]) + "\n"
