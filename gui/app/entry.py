"""The `netcost` entry point: the GUI-free commands of model_io.cli.cli plus the two that need Qt, `gui` (the default:
the desktop app) and `report` (the window's report rendered headless). Qt is imported only by those two."""

from __future__ import annotations

import argparse
import os
import sys

from netcost.model_io.cli.cli import add_model_options, build_parser
from netcost.model_io.cli.cli import main as cli_main
from netcost.model_io.files import tables, zoo


def _add_commands(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("gui", help="open the desktop app (the default command)")
    g.add_argument("model", nargs="?", default=f"zoo:{zoo.DEFAULT}")
    g.set_defaults(handler=lambda args: launch_gui(args.model))
    from netcost.gui.report.report_cli import add_report_parser
    from netcost.gui.report.roofline_cli import add_roofline_parser

    add_report_parser(sub, add_model_options)
    add_roofline_parser(sub, add_model_options)


def has_display() -> bool:
    """Whether Qt can open a window: on Linux without X11/Wayland (a server, a CI box) it would abort."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def launch_gui(model: str) -> int:
    if not has_display():  # say so in one line and still show the model, rather than a Qt abort
        from netcost.model_io.worker.resolve import load_report

        print("netcost: no display (DISPLAY/WAYLAND_DISPLAY unset), so here is the terminal summary; run under a "
              "desktop session or `xvfb-run` for the window.", file=sys.stderr)
        sys.stdout.write(tables.to_table(load_report(model)))
        return 0
    from netcost.gui.app.app import main as gui_main

    return int(gui_main([model]))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "-V", "--version"):
        argv = ["gui", *argv]
    return cli_main(argv, build_parser(_add_commands))


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
