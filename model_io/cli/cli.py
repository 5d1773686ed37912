"""The `netcost` command line without a GUI: summary tables, export-torch, the built-in zoo.

The `netcost` entry point (gui.entry) adds the commands that need Qt (`gui`, `report`) to this parser; nothing
here imports gui.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from netcost.costing import CONVENTIONS, CostReport, FormatError
from netcost.costing import formatting as fmt
from netcost.costing.devices import DeviceError
from netcost.costing.dtypes import canonical_dtype
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph

from .. import escape, versions
from ..errors import ModelError
from ..files import tables, zoo
from ..files.edits import EditError, apply_sets
from ..memory_cap import DEFAULT_MEMORY_MB, parse_memory
from ..options import LoadOptions, RefOrigin
from ..worker.resolve import is_layer_list, load_graph_ref, measured_again
from . import latency_cli, llm, train_cli


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake becomes one `netcost: error: ...` line and exit status 2 (see `main`)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _dtype(text: str) -> str:
    try:
        return canonical_dtype(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def int_arg(low: int, high: int | None, what: str) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], else a one-line error naming `what`."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = low - 1
        if v < low or (high is not None and v > high):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return v

    return parse


MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week: past it a load is not abandoned, it is forgotten


def timeout_arg(text: str) -> float:
    """An argparse type: seconds, a finite number above 0 and at most a week (-1, 0, inf and nan are refused here,
    not by a traceback or a wrong message once the worker runs)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not 0 < v <= MAX_TIMEOUT_S:  # False for nan as well
        raise argparse.ArgumentTypeError(f"{text!r} is not a time limit (seconds above 0, at most "
                                         f"{MAX_TIMEOUT_S:g} = a week)")
    return v


_positive = int_arg(1, None, "a positive integer")
depth_arg = int_arg(0, None, "a hierarchy depth (0, 1, 2, ...)")


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="zoo:NAME, a layer-list .json, file.py:Name, .pt/.pth (TorchScript), .pt2, .onnx")
    p.add_argument("--input", action="append", default=[], metavar="SHAPE",
                   help="input shape with batch, e.g. 1,3,224,224 or long:1,2048 (repeatable)")
    p.add_argument("--batch", type=_positive, help="batch size (layer lists)")
    p.add_argument("--dtype", type=_dtype, help="float32, float16, bfloat16 or int8 (bytes per element)")
    p.add_argument("--convention", choices=list(CONVENTIONS), default="flops",
                   help="which count the %% column and headline use (default: NetCost FLOPs)")
    p.add_argument("--timeout", type=timeout_arg, default=120.0, help="seconds before a model load is abandoned")
    p.add_argument("--trust-pickle", action="store_true", help="allow unpickling a full module you trust")
    p.add_argument("--trust-source", action="store_true",
                   help="let an edit trace again the model file a graph .json names as its source (runs that file's "
                        "code; without this, such an edit is refused)")
    p.add_argument("--set", action="append", default=[], metavar="ROW.ARG=VALUE", dest="sets",
                   help="edit a row before costing, e.g. layer1.0.conv1.out_channels=32 (repeatable)")
    p.add_argument("--rewrite", action="append", default=[], metavar="ID[:KEY=VALUE]", dest="rewrites",
                   help="apply a rewrite listed by `netcost rewrites` before costing, e.g. two_3x3:conv2 or "
                        "width:layer3:factor=0.25 (repeatable, applied after --set, in order)")
    p.add_argument("--memory", type=_memory, default=DEFAULT_MEMORY_MB, metavar="SIZE",
                   help="the model worker's memory cap, e.g. 8G or 6144M, or none (default 4G)")


def _memory(text: str) -> int:
    try:
        return parse_memory(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(batch_size=args.batch, dtype=args.dtype, inputs=tuple(args.input), timeout=args.timeout,
                       trust_pickle=args.trust_pickle, memory_mb=args.memory)


def build_parser(extend: Callable[[argparse._SubParsersAction], None] | None = None) -> argparse.ArgumentParser:
    """The parser of the GUI-free commands; `extend` adds more (the entry point's `gui` and `report`)."""
    parser = _Parser(prog="netcost", description="Where the parameters and compute of a network live.")
    parser.add_argument("-V", "--version", action="version", version=versions.version_line())
    sub = parser.add_subparsers(dest="command")
    s = sub.add_parser("summary", help="per-layer table and totals of a model")
    add_model_options(s)
    s.add_argument("--format", choices=list(tables.FORMATS), default="table")
    s.add_argument("--depth", type=depth_arg, default=None,
                   help="collapse traced models' containers below this depth (0: the whole model in one row)")
    s.add_argument("-o", "--output", help="write to this file instead of standard output")
    latency_cli.add_summary_options(s, _positive)
    latency_cli.add_devices_parser(sub)
    llm.add_llm_parser(sub, _positive, _dtype, timeout_arg)
    e = sub.add_parser("export-torch", help="write runnable PyTorch source of a model's graph (with its edits)")
    add_model_options(e)
    e.add_argument("-o", "--output", help="write to this file instead of standard output")
    sub.add_parser("zoo", help="list the built-in models")
    train_cli.add_train_parser(sub, add_model_options)
    _add_check_command(sub)
    _add_rewrite_commands(sub)
    if extend is not None:
        extend(sub)
    return parser


def load_edited(args: argparse.Namespace) -> Graph:
    """The model's graph with the command's --set edits, then its --rewrite ids, applied (a bad edit or id is a
    usage error)."""
    opts = options(args)
    graph = load_graph_ref(args.model, opts)
    try:
        graph = apply_sets(graph, args.sets)
    except EditError as e:
        raise UsageError(str(e)) from None
    if getattr(args, "rewrites", None):
        from netcost.costing.rewrites import RewriteError, apply_all

        try:
            graph = apply_all(graph, args.rewrites)
        except RewriteError as e:
            raise UsageError(f"--rewrite: {e}") from None
    # an edit upstream of an opaque node (no formula): trace the model again with the edits to measure it; a
    # reference read from a graph file is data, so running it needs --trust-source
    read_from_file = is_layer_list(args.model) and not args.trust_source
    return measured_again(graph, opts, RefOrigin.FILE if read_from_file else RefOrigin.USER) if args.sets else graph


def costed(graph: Graph, args: argparse.Namespace) -> CostReport:
    """The report of a graph that evaluates everywhere; else the node that breaks, as one line (exit 2)."""
    report = evaluate_graph(graph)
    cause = report.cause
    if cause is not None:
        done = [f"--set {x}" for x in getattr(args, "sets", None) or ()] + \
            [f"--rewrite {x}" for x in getattr(args, "rewrites", None) or ()]
        edits = f" (after {', '.join(done)})" if done else ""
        raise ModelError(f"{args.model}{edits}: {cause}")
    return report


def costed_as_loaded(ref: str, args: argparse.Namespace) -> CostReport:
    """The report of model `ref` as loaded (the command's options, none of its edits): a baseline to compare with."""
    base_args = argparse.Namespace(**{**vars(args), "model": ref, "sets": [], "rewrites": []})
    return costed(load_graph_ref(ref, options(args)), base_args)


def _amount(text: str) -> int:
    from .budget import parse_amount

    try:
        return parse_amount(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _add_check_command(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check", help="exit 1 if a model exceeds a budget (for CI), 0 if it fits")
    add_model_options(c)
    c.add_argument("--max-params", type=_amount, metavar="N", help="e.g. 30M")
    c.add_argument("--max-macs", type=_amount, metavar="N", help="e.g. 5G")
    c.add_argument("--max-flops", type=_amount, metavar="N", help="NetCost FLOPs, e.g. 10G")
    c.add_argument("--max-activation", type=_amount, metavar="BYTES", help="forward activation memory, e.g. 512MiB")
    c.add_argument("--max-train-memory", type=_amount, metavar="BYTES",
                   help="the estimated peak memory of a training step, e.g. 24GiB (with --optimizer, --precision, "
                        "--freeze, --checkpoint as for `netcost train`)")
    train_cli.add_training_options(c)


def _add_rewrite_commands(sub: argparse._SubParsersAction) -> None:
    from netcost.costing.rewrite_ranking import Saving
    from netcost.costing.rewrites import KINDS

    from ..files.rewrite_tables import COMPARE_FORMATS, REWRITE_FORMATS, RewriteOrder

    r = sub.add_parser("rewrites", help="the article's design tricks that apply to a model, with their exact deltas")
    add_model_options(r)
    r.add_argument("--kind", action="append", choices=list(KINDS), dest="kinds",
                   help="only this kind of rewrite (repeatable)")
    r.add_argument("--sort", choices=[o.value for o in RewriteOrder], default=RewriteOrder.GRAPH.value,
                   help="graph: in graph order, every candidate (the default); saving: the biggest saving of --by "
                        "first, leaving out those that do not lower it or make no sense (a 1×1 reduction or "
                        "depthwise-separable on the RGB input, a second reduction)")
    r.add_argument("--by", choices=[s.value for s in Saving],
                   help="the cost --sort saving ranks by (default: macs)")
    r.add_argument("--show-hidden", action="store_true",
                   help="with --sort saving: list the left-out candidates too, each saying why it is hidden")
    r.add_argument("--top", type=int_arg(1, None, "a positive number of candidates"), metavar="N",
                   help="only the first N candidates (after sorting)")
    r.add_argument("--format", choices=list(REWRITE_FORMATS), default="table")
    r.add_argument("-o", "--output", help="write to this file instead of standard output")
    c = sub.add_parser("compare", help="per-row and total deltas of a model (with its edits) against a baseline")
    add_model_options(c)
    c.add_argument("other", nargs="?", metavar="MODEL_B",
                   help="compare MODEL_B (with --set/--rewrite) against the first model, the baseline")
    c.add_argument("--baseline", metavar="MODEL", help="the baseline model (default: the model without its edits)")
    c.add_argument("--changed-only", action="store_true", help="list only the rows that differ")
    c.add_argument("--format", choices=list(COMPARE_FORMATS), default="table")
    c.add_argument("-o", "--output", help="write to this file instead of standard output")


def _run_rewrites(args: argparse.Namespace) -> str:
    from netcost.costing.rewrite_ranking import Saving, rank
    from netcost.costing.rewrites import RewriteError, previews

    from ..files.rewrite_tables import RewriteOrder, format_rewrites

    graph = load_edited(args)
    report = costed(graph, args)
    try:
        found = previews(graph, args.kinds, report)
    except RewriteError as e:
        raise UsageError(f"{args.model}: {e}") from None
    if RewriteOrder(args.sort) is RewriteOrder.GRAPH:
        if args.by or args.show_hidden:
            raise UsageError("--by and --show-hidden go with --sort saving")
        return format_rewrites(args.model, found[:args.top], args.format)
    by = Saving(args.by or Saving.MACS.value)
    ranked = rank(graph, found, by, report)
    shown = ranked if args.show_hidden else [r for r in ranked if not r.hidden]
    left_out = len(ranked) - len(shown)
    return format_rewrites(args.model, [r.preview for r in shown][:args.top], args.format,
                           hidden={r.rewrite.id: r.hidden for r in shown if r.hidden}, left_out=left_out,
                           by=by)


def _run_compare(args: argparse.Namespace) -> str:
    from netcost.costing.comparison import compare

    from ..files.rewrite_tables import format_compare

    if args.other and args.baseline:
        raise UsageError("compare: give either MODEL_B or --baseline, not both")
    if not (args.other or args.baseline or args.sets or args.rewrites):
        raise UsageError("compare: give a second model, --baseline MODEL, or edits (--set / --rewrite)")
    base_ref = args.model if args.other else (args.baseline or args.model)
    new_ref = args.other or args.model
    baseline = costed_as_loaded(base_ref, args)
    if new_ref == base_ref and not (args.sets or args.rewrites):
        compared = baseline
    else:
        new_args = argparse.Namespace(**{**vars(args), "model": new_ref})
        compared = costed(load_edited(new_args), new_args)
    edits = [f"--set {x}" for x in args.sets] + [f"--rewrite {x}" for x in args.rewrites]
    # the same model twice (the second with edits): node ids name the same nodes; two models: match rows by name
    result = compare(baseline, compared, shared_ids=new_ref == base_ref)
    label = new_ref + (f" ({', '.join(edits)})" if edits else "")
    return format_compare(result, args.format, args.changed_only, names=(base_ref, label))


def _run_check(args: argparse.Namespace) -> int:
    from .budget import LIMITS, report_line, verdicts

    limits = {name: getattr(args, name) for name in LIMITS}
    if all(v is None for v in limits.values()) and args.max_train_memory is None:
        raise UsageError("check: give at least one budget (--max-params, --max-macs, --max-flops, --max-activation, "
                         "--max-train-memory)")
    report = costed(load_edited(args), args)
    results = verdicts(report, limits)
    if args.max_train_memory is not None:
        results.append(train_cli.memory_verdict(train_cli.training_of(report, args), args.max_train_memory))
    print(report_line(args.model, results, github=os.environ.get("GITHUB_ACTIONS") == "true"))
    return 1 if any(v.over for v in results) else 0


def _write(text: str, output: str | None) -> None:
    if output:
        from ..files.layer_file import atomic_write

        try:
            atomic_write(output, text.encode("utf-8"))
        except OSError as e:
            raise UsageError(f"cannot write {output}: {e.strerror or e}") from None
    else:
        sys.stdout.write(text)


def run(argv: list[str], parser: argparse.ArgumentParser | None = None) -> int:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    command = args.command
    handler = getattr(args, "handler", None)
    if handler is not None:  # a command added by the entry point
        return int(handler(args))
    if command == "summary" and latency_cli.wanted(args):  # --device / --measure (model_io.cli.latency_cli)
        _write(latency_cli.summary_text(args, options(args)), args.output)
        return 0
    if command == "devices":
        return latency_cli.run_devices(args)
    if command == "llm":
        return llm.run_llm(args)
    if command == "summary":
        report = costed(load_edited(args), args)
        _write(tables.FORMATS[args.format](report, args.convention, args.depth), args.output)
        return 0
    if command == "train":
        _write(train_cli.train_text(costed(load_edited(args), args), args), args.output)
        return 0
    if command == "export-torch":
        from ..files.export_torch import graph_to_torch_source

        graph = load_edited(args)
        try:
            source = graph_to_torch_source(graph)
        except ValueError as e:
            raise UsageError(f"{args.model}: {e}") from None
        _write(source, args.output)
        return 0
    if command == "zoo":
        sys.stdout.write(zoo_listing())
        return 0
    if command == "check":
        return _run_check(args)
    if command == "rewrites":
        _write(_run_rewrites(args), args.output)
        return 0
    if command == "compare":
        _write(_run_compare(args), args.output)
        return 0
    parser.print_help()
    return 2


def zoo_listing() -> str:
    """`netcost zoo`: every built-in model with its default input, layer lists first (no torch imported)."""
    groups: list[tuple[str, list[tuple[str, str, str]]]] = []
    lists = []
    for name in zoo.model_names():
        graph = zoo.load_model_graph(name)
        default = "  (the default)" if name == zoo.DEFAULT else ""
        shapes = ", ".join(("long " if gi.dtype == "int64" else "") + fmt.shape(gi.shape) for gi in graph.inputs)
        lists.append((name, shapes, zoo.describe(name) + default))
    groups.append(("Layer lists (costed directly, editable in the app):", lists))
    try:
        from ..files.torch_zoo_index import TORCH_ZOO, TORCH_ZOO_INPUTS
    except ImportError:
        pass
    else:
        models = [(name, ", ".join(("long " if dt == "int64" else "") + fmt.shape(shape)
                                   for shape, dt in TORCH_ZOO_INPUTS.get(name, ())), desc)
                  for name, desc in TORCH_ZOO.items()]
        groups.append(("PyTorch models (traced in the worker on the meta device):", models))
    name_w = max(len(n) for _, rows in groups for n, _, _ in rows) + 4
    input_w = max(len(i) for _, rows in groups for _, i, _ in rows)
    out = []
    for title, rows in groups:
        out.append(title)
        out += [f"  {'zoo:' + n:<{name_w}}  {i:<{input_w}}  {d}" for n, i, d in rows]
    out.append("Summarise one with: netcost summary zoo:NAME [--input SHAPE]")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    try:
        return run(list(sys.argv[1:] if argv is None else argv), parser)
    except (ModelError, UsageError, FormatError, DeviceError, train_cli.TrainUsageError) as e:
        # user-supplied strings (keys, names, paths, the model's messages) are escaped: one line stays one line
        print(f"netcost: error: {escape.printable(e)}", file=sys.stderr)
        detail = str(getattr(e, "detail", "") or "").strip()
        if detail:  # the model's own traceback, already trimmed to its frames (model_io.worker.worker_client)
            print("\n".join("  " + escape.printable(line) for line in detail.splitlines()[-20:]), file=sys.stderr)
        return 2
    except OSError as e:  # a file the OS refuses (a name over the limit, a read-only folder): one line, no traceback
        if isinstance(e, BrokenPipeError):
            return 0
        where = f"{escape.printable(escape.short_path(e.filename))}: " if e.filename else ""
        print(f"netcost: error: {where}{escape.failure_text(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
