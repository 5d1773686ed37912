"""`netcost.Report`: one costed model, as `netcost summary` reports it, with the CLI's formats, a notebook display,
and edits, rewrites and comparisons that return new reports.

Every text form is produced by the CLI's own formatters (model_io.files.tables, model_io.files.rewrite_tables), so a
report and `netcost summary` of the same model agree field by field. A report never changes: `edit`, `rewrite`,
`with_options` return new ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from netcost.costing import CONVENTIONS, CostReport
from netcost.costing.graph import Graph
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.files import tables
from netcost.model_io.worker.resolve import ModelError

from .figure import Figure
from .latency import Latency
from .records import Row, Totals
from .text_forms import TextForms
from .training import Training


@dataclass(frozen=True, eq=False)
class Source:
    """Where a report's graph came from: its label (a reference, or the model's class name), how to measure its
    opaque nodes again after an edit (`remeasure`: the graph with stale measurements refreshed), and an identity
    shared by every report derived from one load (their node ids name the same nodes)."""

    label: str
    remeasure: Callable[[Graph], Graph] = field(default=lambda g: g)
    origin: object = field(default_factory=object)


def costed(graph: Graph, label: str, changes: Iterable[str] = ()) -> CostReport:
    """The report of a graph that evaluates everywhere, else ModelError naming the node that breaks (the CLI's
    `costed`)."""
    report = evaluate_graph(graph)
    cause = report.cause
    if cause is not None:
        done = list(changes)
        raise ModelError(f"{label}{f' (after {chr(44).join(done)})' if done else ''}: {cause}")
    return report


class Report:
    """The cost of one model: parameters, MACs, FLOPs, memory, per layer and in total.

    `str(report)` is `netcost summary`'s terminal table; `to_dict()`, `to_json()`, `to_csv()` and `to_markdown()`
    are its `--format json|csv|markdown`. `totals` and `rows` are typed records of the same figures. `convention`
    names the count the headline and the % column use (`flops`, `macs`, `thop`, `fvcore`, `torchinfo`, `ptflops`,
    `flop_counter`); `depth` folds a traced model's containers below that depth (as `--depth`).
    """

    def __init__(self, cost: CostReport, *, convention: str = "flops", depth: int | None = None,
                 changes: Iterable[str] = (), source: Source | None = None) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"convention {convention!r}: choose one of {', '.join(CONVENTIONS)}")
        if depth is not None and (not isinstance(depth, int) or depth < 0):
            raise ValueError(f"depth {depth!r}: a hierarchy depth is 0, 1, 2, ...")
        self.cost_report = cost  # the engine's record (netcost.costing.CostReport)
        self.convention = convention
        self.depth = depth
        self.changes: tuple[str, ...] = tuple(changes)  # the edits and rewrites applied, as the CLI spells them
        self._source = source or Source(cost.model)

    # ---- figures ----------------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model's name as the report titles it."""
        return self.cost_report.model

    @property
    def label(self) -> str:
        """The model as the CLI names it in comparisons: its reference (or class name) and the changes applied."""
        return self._source.label + (f" ({', '.join(self.changes)})" if self.changes else "")

    @property
    def graph(self) -> Graph:
        """The dataflow graph the report was costed from (netcost.costing.graph.Graph)."""
        graph = self.cost_report.graph
        if graph is None:
            raise ValueError(f"{self.model}: this report was not costed from a graph")
        return graph

    @property
    def complete(self) -> bool:
        """Whether every node is costed (an incomplete report has no totals)."""
        return self.cost_report.complete

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.cost_report.warnings)

    @cached_property
    def _dict(self) -> dict[str, Any]:
        return tables.to_dict(self.cost_report, self.convention, self.depth)

    @property
    def totals(self) -> Totals | None:
        """The model's totals (None for an incomplete report: a partial sum is no total)."""
        return Totals.from_report_dict(self._dict)

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows of the layer table, as `netcost summary` lists them (at `depth`, when given)."""
        totals = self.totals
        return tuple(Row.from_layer_dict(d, totals) for d in self._dict["layers"])

    def __len__(self) -> int:
        return len(self._dict["layers"])

    # ---- the CLI's formats ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The `netcost.report/1` JSON of `netcost summary --format json`, as a dict."""
        return json.loads(json.dumps(self._dict))

    def to_json(self) -> str:
        return tables.to_json(self.cost_report, self.convention, self.depth)

    def to_csv(self) -> str:
        return tables.to_csv(self.cost_report, self.convention, self.depth)

    def to_markdown(self) -> str:
        return tables.to_markdown(self.cost_report, self.convention, self.depth)

    def to_table(self) -> str:
        """The terminal table of `netcost summary` (what `print(report)` shows)."""
        return tables.to_table(self.cost_report, self.convention, self.depth)

    def __str__(self) -> str:
        return self.to_table()

    def __repr__(self) -> str:
        t = self.totals
        if t is None:
            return f"<netcost.Report {self.model}: {self.cost_report.incomplete_note}>"
        return (f"<netcost.Report {self.model}: {t.params:,} params, {t.macs:,} MACs, "
                f"{t.value:,} {t.convention_label}>")

    def _repr_html_(self) -> str:
        from .display import report_html

        return report_html(self)

    def with_options(self, *, convention: str | None = None, depth: int | None | type = ...) -> Report:
        """The same report under another convention or depth (`depth=None`: every row)."""
        return Report(self.cost_report, convention=convention or self.convention,
                      depth=self.depth if depth is ... else depth,  # type: ignore[arg-type]
                      changes=self.changes, source=self._source)

    # ---- changes ----------------------------------------------------------------------------------------------
    def _derived(self, graph: Graph, change: list[str]) -> Report:
        changes = [*self.changes, *change]
        return Report(costed(graph, self._source.label, changes), convention=self.convention, depth=self.depth,
                      changes=changes, source=self._source)

    def edit(self, edits: Mapping[str, Any]) -> Report:
        """A new report with layer arguments changed, as `--set ROW.ARG=VALUE` does:
        `report.edit({"layer1.0.conv1.out_channels": 32})`. A value of None restores torch's default (or the
        inferred size). Raises EditError for an unknown row or argument or a value it cannot take."""
        from netcost.model_io.files.edits import EditError, set_arg

        if isinstance(edits, str) or not isinstance(edits, Mapping):
            raise TypeError("edit() takes a dict of {'ROW.ARG': value}")
        graph = self.graph
        texts = []
        for key, value in edits.items():
            text = f"{key}={json.dumps(value)}"
            row, dot, arg = str(key).rpartition(".")
            if not dot or not row or not arg:
                raise EditError(f"{key!r}: expected 'ROW.ARG', e.g. 'layer1.0.conv1.out_channels'")
            graph = set_arg(graph, row, arg, value, text)
            texts.append(f"--set {text}")
        return self._derived(self._source.remeasure(graph), texts)

    def rewrite(self, *rewrites: str) -> Report:
        """A new report with the design tricks applied in order, as `--rewrite ID` does (ids from `rewrites()`,
        e.g. "two_3x3@branch3.0", or with parameters "width@layer3:factor=0.25")."""
        from netcost.costing.rewrites import apply_all

        return self._derived(apply_all(self.graph, rewrites), [f"--rewrite {r}" for r in rewrites])

    def rewrites(self, kinds: Iterable[str] | None = None, *, sort: str = "graph", by: str | None = None,
                 top: int | None = None, show_hidden: bool = False) -> Rewrites:
        """The design tricks that apply to this model with their exact deltas, as `netcost rewrites` lists them
        (`sort="saving"` ranks by `by`: "macs" or "params")."""
        from netcost.costing.rewrite_ranking import Saving, rank
        from netcost.costing.rewrites import previews

        found = previews(self.graph, list(kinds) if kinds else None, self.cost_report)
        if sort == "graph":
            if by or show_hidden:
                raise ValueError("by and show_hidden go with sort='saving'")
            return Rewrites(self.label, found[:top])
        if sort != "saving":
            raise ValueError(f"sort {sort!r}: 'graph' or 'saving'")
        saving = Saving(by or Saving.MACS.value)
        ranked = rank(self.graph, found, saving, self.cost_report)
        shown = ranked if show_hidden else [r for r in ranked if not r.hidden]
        return Rewrites(self.label, [r.preview for r in shown][:top], {r.rewrite.id: r.hidden for r in shown
                                                                        if r.hidden},
                        left_out=len(ranked) - len(shown), by=saving)

    def compare(self, other: Report, *, changed_only: bool = False) -> Comparison:
        """`other` against this report as the baseline, row by row and in total, as `netcost compare` does."""
        from netcost.costing.comparison import compare

        if not isinstance(other, Report):
            raise TypeError(f"compare() takes a Report, not {type(other).__name__}")
        shared = other._source.origin is self._source.origin
        return Comparison(compare(self.cost_report, other.cost_report, shared_ids=shared),
                          (self.label, other.label), changed_only)

    # ---- files ------------------------------------------------------------------------------------------------
    def train(self, *, optimizer: str = "adam", precision: str = "fp32", freeze: Iterable[str] = (),
              checkpoint: Iterable[str] = (), device: str | None = None) -> Training:
        """One training step of this model at its batch size, as `netcost train`: optimizer `sgd`, `momentum`,
        `adam`, `adamw`, `adafactor` or `adam8bit`; precision `fp32`, `bf16-mixed`, `fp16-mixed` or `bf16`;
        `freeze` and `checkpoint` module scopes; `device` adds the step time and the largest batch that fits."""
        return Training(self, optimizer=optimizer, precision=precision, freeze=freeze, checkpoint=checkpoint,
                        device=device)

    def latency(self, device: str, *, peak: str | None = None) -> Latency:
        """The roofline latency estimate on `device` (a name `netcost devices` lists), as `netcost summary
        --device`; `peak` picks the device's fp32/tf32/fp16/bf16/int8 peak (default: the report's dtype)."""
        return Latency(self, device, peak)

    def save_graph(self, path: str | os.PathLike[str]) -> None:
        """Write the graph (edits included) as a `netcost.graph/1` file: `netcost gui`, `netcost summary` and
        `netcost.analyze` read it back."""
        from netcost.model_io.files.graph_file import save_graph

        save_graph(path, self.graph)

    def to_torch(self, path: str | os.PathLike[str] | None = None) -> str:
        """Runnable PyTorch source of the graph with its edits (`Model`, `build()`, `example_input()`), as
        `netcost export-torch` writes it; also written to `path` when given. Raises ValueError for a graph that
        cannot be written (an op without a formula)."""
        from netcost.model_io.files.export_torch import graph_to_torch_source

        source = graph_to_torch_source(self.graph)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(source)
        return source

    def save_report(self, path: str | os.PathLike[str], *, metric: str = "flops", dark: bool = False,
                    width: int | None = None, scale: float = 2.0, depth: int | None = None, page: str = "a4") -> str:
        """Render the report of `netcost report` (totals, diagram, charts, top layers) to a .png, .svg or .pdf
        file (Qt offscreen, in this process). Returns what was written, e.g. 'report.png (2080 × 2712 px)'."""
        from .rendering import save_report

        return save_report(self, path, metric=metric, dark=dark, width=width, scale=scale, depth=depth, page=page)

    def diagram(self, *, metric: str = "flops", dark: bool = False, depth: int | None = None) -> Figure:
        """The block diagram as an image that displays inline in Jupyter (SVG, with a PNG fallback)."""
        from .rendering import diagram

        return diagram(self, metric=metric, dark=dark, depth=depth)

    def chart(self, kind: str = "layers", *, metric: str = "flops", dark: bool = False) -> Figure:
        """A chart as an inline image: `layers` (share per layer), `categories` (share per category), `scatter`
        (params vs FLOPs) or `cumulative` (cumulative share)."""
        from .rendering import chart

        return chart(self, kind, metric=metric, dark=dark)


class Rewrites(TextForms, list):  # type: ignore[type-arg]
    """The candidates of `Report.rewrites()`: a list of previews (each with `.rewrite.id`, `.rewrite.description`,
    `.params_delta`, `.macs_delta`, `.flops_delta`, `.activation_bytes_delta`); `str()` is `netcost rewrites`' table."""

    def __init__(self, model: str, previews: Iterable[Any], hidden: Mapping[str, str] | None = None,
                 left_out: int = 0, by: Any = None) -> None:
        super().__init__(previews)
        self.model, self.hidden, self.left_out, self.by = model, dict(hidden or {}), left_out, by

    @property
    def ids(self) -> list[str]:
        return [p.rewrite.id for p in self]

    def _format(self, form: str) -> str:
        from netcost.model_io.files.rewrite_tables import format_rewrites

        return format_rewrites(self.model, list(self), form, hidden=self.hidden or None, left_out=self.left_out,
                               by=self.by)


class Comparison(TextForms):
    """`Report.compare`: per-row and total deltas, as `netcost compare`; `str()` is its table. `delta` holds the
    total differences (engine Totals: params, macs, flops, activation_bytes, ...)."""

    def __init__(self, result: Any, names: tuple[str, str], changed_only: bool = False) -> None:
        self.result = result  # netcost.costing.comparison.Comparison
        self.names = names
        self.changed_only = changed_only

    @property
    def delta(self) -> Any:
        return self.result.delta

    def _format(self, form: str) -> str:
        from netcost.model_io.files.rewrite_tables import format_compare

        return format_compare(self.result, form, self.changed_only, names=self.names)
