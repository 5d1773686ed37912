"""Fuzzed graph files (`netcost.graph/1`), in-process and a sample through the CLI.

A random valid graph (image or sequence: convs, norms, activations, pools, adds, concats, attention-like bmm,
weight-tied linears, opaque nodes with measured costs), then one crafted mutation of a named class: cycles,
dangling and later references, huge and deep values, wrong arities, output indexes, crafted `shares`, `measured`
and `source`, non-finite tagged floats, hostile names, junk dtypes, damaged text. Each document must end as:
  - a one-line FormatError, or a report that names its problem nodes (NetCost refuses it), or
  - a complete report whose totals equal PyTorch's for the same document (graph_oracle); a document torch refuses
    but NetCost costs completely is silent-wrong;
and an accepted one renders in every table format (no raw control character, strict JSON) and saves and reopens
identical, as a graph file and as the window's project. A source reference never runs (a marker file).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netcost.costing import FormatError, LayerError, SpecError
from netcost.costing.graph_eval import evaluate_graph
from netcost.model_io.files import tables
from netcost.model_io.files.graph_file import load_graph, loads_graph, save_graph
from tests.hang_guard import Hang, no_hang

from . import graph_oracle
from .common import CONTROL, Count, Tally, judge_cli, run_cli, strict_json_ok

HANG_S = 10.0
ACTS = ("ReLU", "GELU", "SiLU", "Sigmoid")
HOSTILE_NAMES = ["\x1b[2J\x1b]0;pwned\x07", "a\rb", "=cmd|' /C calc'!A0", "bidi\u202e", "<b>x</b>", "|x|", "a\tb",
                 "ü✓", "-1", "@z"]
MUTATIONS = ("none", "self-reference", "later-reference", "dangling-reference", "huge-value", "deep-value",
             "deep-text", "arity", "output-index", "shares", "measured", "source", "non-finite", "names", "dtype",
             "text-damage")


@dataclass
class Case:
    kind: str  # the mutation class
    doc: Any  # the document as written (None when the text is damaged beyond JSON)
    text: str


# ---- a random valid graph -------------------------------------------------------------------------------------
class Builder:
    def __init__(self, rng: random.Random, shape: list[int]) -> None:
        self.rng = rng
        self.nodes: list[dict] = []
        self.shapes: dict[str, list[int]] = {"x": shape}
        self.cur = "x"

    def add(self, item: dict, shape: list[int], reads: list[str] | None = None) -> str:
        name = f"n{len(self.nodes)}"
        item = {"type": item.pop("type"), "name": name, **item}
        reads = reads if reads is not None else [self.cur]
        if reads != [self.cur] or self.rng.random() < 0.3:
            item["inputs"] = reads
        self.nodes.append(item)
        self.shapes[name] = shape
        self.cur = name
        return name

    def same_shape(self) -> str:
        shape = self.shapes[self.cur]
        return self.rng.choice([n for n, s in self.shapes.items() if s == shape])


def image_graph(b: Builder) -> None:
    rng = b.rng
    for _ in range(rng.randint(2, 9)):
        n, c, h, w = b.shapes[b.cur]
        r = rng.random()
        if r < 0.25:
            k = rng.choice([1, 3])
            item = {"type": "Conv2d", "out_channels": rng.choice([4, 8, 16]), "kernel_size": k, "padding": k // 2}
            stride = 2 if h >= 4 and rng.random() < 0.3 else 1
            if stride != 1:
                item["stride"] = stride
            if rng.random() < 0.3:
                item["in_channels"] = c
            if rng.random() < 0.3:
                item["bias"] = False
            b.add(item, [n, item["out_channels"], (h - 1) // stride + 1, (w - 1) // stride + 1])
        elif r < 0.35:
            b.add({"type": "BatchNorm2d", **({"num_features": c} if rng.random() < 0.5 else {})}, [n, c, h, w])
        elif r < 0.5:
            b.add({"type": rng.choice(ACTS)} if rng.random() < 0.6 else {"type": rng.choice(["relu", "sigmoid"])},
                  [n, c, h, w])
        elif r < 0.6 and h >= 2 and w >= 2:
            b.add({"type": "MaxPool2d", "kernel_size": 2, "stride": 2}, [n, c, h // 2, w // 2])
        elif r < 0.8:
            b.add({"type": rng.choice(["add", "mul", "sub"])}, [n, c, h, w], [b.cur, b.same_shape()])
        else:
            other = rng.choice([m for m, s in b.shapes.items() if s[0] == n and s[2:] == [h, w]])
            b.add({"type": "cat", "dim": 1}, [n, c + b.shapes[other][1], h, w], [b.cur, other])
    if rng.random() < 0.5:
        n, c, h, w = b.shapes[b.cur]
        b.add({"type": "Flatten"}, [n, c * h * w])
        b.add({"type": "Linear", "out_features": rng.choice([2, 10])}, [n, 10])


def sequence_graph(b: Builder) -> None:
    rng = b.rng
    tied: dict[int, str] = {}
    for _ in range(rng.randint(2, 9)):
        bs, length, d = b.shapes[b.cur]
        r = rng.random()
        if r < 0.3:
            out = rng.choice([d, d, 8, 32])
            item: dict = {"type": "Linear", "out_features": out}
            if rng.random() < 0.3:
                item["in_features"] = d
            if out == d and d in tied and rng.random() < 0.7:  # weight tying
                item["shares"] = [[tied[d], d * d]]
            name = b.add(item, [bs, length, out])
            if out == d:
                tied.setdefault(d, name)
        elif r < 0.4:
            b.add({"type": "LayerNorm", **({"normalized_shape": [d]} if rng.random() < 0.5 else {})},
                  [bs, length, d])
        elif r < 0.55:
            b.add({"type": rng.choice(ACTS)} if rng.random() < 0.5 else {"type": rng.choice(["gelu", "tanh"])},
                  [bs, length, d])
        elif r < 0.7:
            b.add({"type": "add"}, [bs, length, d], [b.cur, b.same_shape()])
        elif r < 0.85:  # attention-like: scores, softmax, weighted sum
            v = b.cur
            t = b.add({"type": "transpose", "dim0": 1, "dim1": 2}, [bs, d, length], [v])
            s = b.add({"type": "bmm"}, [bs, length, length], [v, t])
            p = b.add({"type": "softmax", "dim": -1}, [bs, length, length], [s])
            b.add({"type": "bmm"}, [bs, length, d], [p, v])
        else:  # an opaque node the tracer measured
            b.add({"type": "fft_fft", "measured": {
                "inputs": [[[bs, length, d], "float32"]], "outputs": [[[bs, length, d], "float32"]],
                "totals": {"params": rng.choice([0, 12]), "macs": rng.choice([0, 1000, 123456])},
                "category": "other"}}, [bs, length, d])


def valid_graph(rng: random.Random) -> dict:
    image = rng.random() < 0.5
    shape = [rng.choice([1, 2]), rng.choice([3, 8]), rng.choice([4, 8]), rng.choice([4, 8])] if image else \
        [rng.choice([1, 2]), rng.choice([4, 7]), rng.choice([8, 16])]
    b = Builder(rng, shape)
    (image_graph if image else sequence_graph)(b)
    doc: dict = {"format": "netcost.graph/1", "name": "fuzz", "inputs": [{"name": "x", "shape": shape}],
                 "nodes": b.nodes}
    if rng.random() < 0.2:
        doc["outputs"] = [b.cur]
    return doc


# ---- one crafted mutation ------------------------------------------------------------------------------------
def _deep(depth: int, leaf: Any = 1) -> Any:
    v = leaf
    for _ in range(depth):
        v = [v]
    return v


def _numeric_arg(rng: random.Random, nodes: list[dict]) -> tuple[dict, str] | None:
    found = [(n, k) for n in nodes for k, v in n.items()
             if k not in graph_oracle.NODE_KEYS and isinstance(v, int) and not isinstance(v, bool)]
    return rng.choice(found) if found else None


def mutate(rng: random.Random, doc: dict, kind: str, folder: Path) -> str:
    """Apply one `kind` of crafted change in place (or return damaged text); the text to write."""
    nodes = doc["nodes"]
    node = rng.choice(nodes)
    i = nodes.index(node)
    if kind == "self-reference":
        node["inputs"] = [node["name"]]
    elif kind == "later-reference" and i + 1 < len(nodes):
        node["inputs"] = [rng.choice(nodes[i + 1:])["name"]]
    elif kind == "dangling-reference":
        node["inputs"] = [rng.choice(["ghost", "x:1", "", "n99", "x:-1", "x:0:0"])]
    elif kind == "huge-value":
        target = _numeric_arg(rng, nodes)
        value = rng.choice([2**63, 2**63 - 1, 10**30, 10**15, int("9" * 401), -1, 0, -(2**63)])
        if target:
            target[0][target[1]] = value
        else:
            doc["inputs"][0]["shape"][-1] = value
    elif kind == "deep-value":
        target = _numeric_arg(rng, nodes)
        value = rng.choice([_deep(rng.choice([50, 900])), {"a": {"b": {"c": 1}}}, [[1, 2], [3]], "8", None])
        if target:
            target[0][target[1]] = value
        else:
            nodes.append({"type": "softmax", "name": "deep", "dim": value})
    elif kind == "deep-text":  # nesting too deep for the decoder
        depth = rng.choice([900, 5000, 100_000])
        return json.dumps(doc)[:-1] + ', "view": ' + "[" * depth + "]" * depth + "}"
    elif kind == "arity":
        others = [n["name"] for n in nodes[:i]] + ["x"]
        node["inputs"] = [rng.choice(others) for _ in range(rng.choice([0, 1, 2, 3]))]
    elif kind == "output-index":
        ref = f"{rng.choice(nodes)['name']}:{rng.choice(['1', '4', str(10**20), '7' * 5000])}"
        if rng.random() < 0.5:
            doc["outputs"] = [ref]
        elif i > 0 and "inputs" not in node:
            node["inputs"] = [ref.replace(rng.choice(nodes)["name"], nodes[i - 1]["name"], 1)]
        else:
            doc["outputs"] = [ref]
    elif kind == "shares":
        earlier = [n["name"] for n in nodes[:i]]
        other = rng.choice(earlier + [node["name"], "ghost"]) if earlier else node["name"]
        node["shares"] = [[other, rng.choice([-72, -1, 0, 1, 72, 10**6, 2**63, 64, 256, 16])]]
    elif kind == "measured":
        m = {"inputs": [[[1, 4], "float32"]], "outputs": [[[1, 4], "float32"]], "totals": {"params": 0, "macs": 10},
             "category": "other"}
        opaque = next((n for n in nodes if "measured" in n), None)
        if opaque is not None:
            m = opaque["measured"]
        else:
            node["measured"] = m
        r = rng.random()
        if r < 0.4:
            m["totals"][rng.choice(["params", "macs", "flops"])] = rng.choice([-1, -(10**12), 2**70])
        elif r < 0.6:
            m["outputs"] = [[[rng.choice([-3, 0, 2**64]), 4], "float32"]]
        elif r < 0.8:
            m["totals"]["bogus"] = 1
        else:
            m["unsupported"] = [["\x1b[31mop", -5]]
    elif kind == "source":
        marker = folder / "source-ran"
        evil = folder / "evil_source.py"
        evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\nfrom torch import nn\nNet = nn.Linear\n")
        doc["source"] = {"kind": rng.choice(["model", "\x1b[2Jtraced", "zoo"]), "ref": f"{evil}:Net",
                         "warnings": rng.choice([["\x1b]0;pwned\x07 warning"], ["ok"], "not a list", [5]])}
    elif kind == "non-finite":
        tag = {"float": rng.choice(["inf", "-inf", "nan", "Infinity", 1])}
        keys = [k for k in node if k not in graph_oracle.NODE_KEYS]
        if not keys:  # a layer with a float argument
            node = rng.choice([{"type": "LeakyReLU", "negative_slope": 0.1}, {"type": "Dropout", "p": 0.1}])
            node["name"] = "nonfinite"
            nodes.append(node)
            keys = [k for k in node if k not in graph_oracle.NODE_KEYS]
        key = rng.choice(keys)
        if rng.random() < 0.5:  # the explicit `args` object
            node["args"] = {k: node.pop(k) for k in keys}
            node["args"][key] = tag
        else:
            node[key] = tag
    elif kind == "names":
        node["name"] = rng.choice(HOSTILE_NAMES) + node["name"]
        for later in nodes[i + 1:]:  # keep the references valid
            if "inputs" in later:
                later["inputs"] = [node["name"] if r == nodes[i]["name"] else r for r in later["inputs"]]
        doc["name"] = rng.choice(HOSTILE_NAMES)
    elif kind == "dtype":
        where = doc if rng.random() < 0.5 else doc["inputs"][0]
        where["dtype"] = rng.choice(["int8", "complex64", "torch.float32", "float16", "\x1b[2J", 5, "int64",
                                     "bool", "quint8"])
    text = json.dumps(doc, allow_nan=False)
    if kind == "text-damage":
        r = rng.random()
        if r < 0.3:
            return text.replace('"nodes":', '"name": "a", "name": "b", "nodes":', 1)
        if r < 0.5:
            return text[:-1] + ', "x": NaN}'
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 5)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return data.decode("utf-8", "replace")
    return text


def make_case(rng: random.Random, folder: Path) -> Case:
    doc = valid_graph(rng)
    kind = rng.choice(MUTATIONS)
    text = mutate(rng, doc, kind, folder) if kind != "none" else json.dumps(doc)
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None
    return Case(kind, parsed, text)


# ---- the checks ------------------------------------------------------------------------------------------------
def _rendered_problems(report: Any) -> tuple[Count, str] | None:
    """A terminal format (table, Markdown) with a raw control character, or JSON that is not strict. CSV is data:
    its cells keep what the name holds (escape.csv_cell guards spreadsheet formulas, not terminals)."""
    for fmt, text in (("table", tables.to_table(report)), ("markdown", tables.to_markdown(report))):
        bad = CONTROL & set(text)
        if bad:
            return Count.UNESCAPED, f"raw {sorted(bad)[:3]} in the {fmt} output"
    if not strict_json_ok(tables.to_json(report)):
        return Count.WRONG, "the JSON output is not strict JSON"
    return None


def rows(report: Any) -> tuple:
    """What the user sees of a report: each row's name, type, output shape and totals, and the totals."""
    return report.totals, tuple((r.name, r.type, r.output_shape, r.totals) for r in report.layers)


def _graph_diff(after: Any, before: Any) -> str:
    for field in ("inputs", "dtype", "outputs", "source", "scopes", "name"):
        if getattr(after, field) != getattr(before, field):
            return f"{field} {getattr(before, field)} -> {getattr(after, field)}"[:160]
    for a, b in zip(after.nodes, before.nodes, strict=False):
        if a != b:
            return f"node {b} -> {a}"[:200]
    return "the totals"


def _diff(after: Any, before: Any) -> str:
    """The first row whose figures changed, or the totals."""
    for a, b in zip(after.layers, before.layers, strict=False):
        if (a.name, a.type, a.output_shape, a.totals) != (b.name, b.type, b.output_shape, b.totals):
            return f"row {a.name}: params {b.totals.params} -> {a.totals.params}, MACs {b.totals.macs} -> " \
                   f"{a.totals.macs}"
    return f"params {before.totals.params} -> {after.totals.params}, {len(before.layers)} -> {len(after.layers)} rows"


def check_case(case: Case, folder: Path, tally: Tally, label: str) -> dict | None:
    """Run one document through load, evaluate, the oracle, rendering and save/reopen; record on `tally`. The
    in-process totals when NetCost costs it completely (the CLI sample compares against them)."""
    from netcost.gui.document.cost_document import CostDocument

    what = f"{label} [{case.kind}]"
    marker = folder / "source-ran"
    try:
        with no_hang(HANG_S):
            try:
                graph, extra = loads_graph(case.text)
                report = evaluate_graph(graph)
            except (FormatError, LayerError, SpecError) as e:
                if "\n" in str(e) or CONTROL & set(str(e)):
                    tally.fail(Count.UNESCAPED, f"{what}: the message {str(e)[:100]!r}", case.kind)
                tally.case("refused")
                return None
            try:
                ref = graph_oracle.expected(case.doc)
            except graph_oracle.NoOracle:
                ref = None
            except graph_oracle.Refused as e:
                ref = e
            if report.problems:
                tally.case("refused (problem rows)" if not isinstance(ref, graph_oracle.Expected)
                           else "refused (problem rows), torch runs it")
                return None
            if isinstance(ref, graph_oracle.Refused):
                tally.case("failed")
                tally.fail(Count.WRONG, f"{what}: costed although torch refuses it ({ref}): {case.text[:150]}",
                           case.kind)
                return None
            t = report.totals
            if isinstance(ref, graph_oracle.Expected) and (t.params, t.macs) != (ref.params, ref.macs):
                tally.case("failed")
                tally.fail(Count.WRONG, f"{what}: params/MACs {t.params}/{t.macs}, torch {ref.params}/{ref.macs}: "
                                        f"{case.text[:150]}", case.kind)
                return None
            found = _rendered_problems(report)
            if found:
                tally.case("failed")
                tally.fail(found[0], f"{what}: {found[1]}", case.kind)
                return None
            path = folder / "g.json"
            save_graph(path, graph, extra)
            again, _ = load_graph(path)
            if again != graph or evaluate_graph(again).totals != t:
                tally.case("failed")
                tally.fail(Count.LOST, f"{what}: the graph file saved and reopened differs "
                                       f"({_graph_diff(again, graph)}): {case.text[:150]}", case.kind)
                return None
            doc = CostDocument()
            doc.set_graph(graph, None, extra)
            doc.save_file(folder / "project.json")
            reopened = CostDocument()
            reopened.load_file(folder / "project.json")
            if rows(reopened.report) != rows(report):  # a plain chain is saved as a layer list: same rows
                tally.case("failed")
                tally.fail(Count.LOST, f"{what}: the project saved and reopened differs: "
                                       f"{_diff(reopened.report, report)}: {case.text[:150]}", case.kind)
                return None
            tally.case("ok, equals torch" if isinstance(ref, graph_oracle.Expected) else "ok, no oracle")
            return {"params": t.params, "macs": t.macs}
    except Hang:
        tally.case("failed")
        tally.fail(Count.HANG, f"{what}: {case.text[:150]}", case.kind)
    except Exception as e:  # noqa: BLE001 - anything else is what this run looks for
        tally.case("failed")
        tally.fail(Count.CRASH, f"{what}: {type(e).__name__}: {str(e)[:120]}", case.kind)
    finally:
        if marker.exists():
            tally.fail(Count.INJECTED, f"{what}: the source reference ran", case.kind)
            marker.unlink()
    return None


def run_in_process(n: int, rng: random.Random, folder: Path) -> tuple[Tally, list[tuple[Case, dict | None]]]:
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    tally = Tally("fuzzed graph files in-process (torch oracle)")
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for i in range(n):
        case = make_case(rng, folder)
        done.append((case, check_case(case, folder, tally, f"graph {i}")))
    return tally, done


def run_cli_sample(done: list[tuple[Case, dict | None]], n: int, rng: random.Random, folder: Path) -> Tally:
    """A sample through `summary FILE --format F`: the CLI's rules, and its JSON totals equal the in-process ones."""
    tally = Tally("fuzzed graph files through the CLI")
    marker = folder / "source-ran"
    for i, (case, totals) in enumerate(rng.sample(done, min(n, len(done)))):
        path = folder / f"cli-graph{i}.json"
        path.write_text(case.text, encoding="utf-8")
        fmt = rng.choice(list(tables.FORMATS))
        what = f"summary graph [{case.kind}] --format {fmt}"
        run = run_cli(["summary", str(path), "--format", fmt], 60)
        outcome = judge_cli(tally, what, run, fmt, case.kind)
        if outcome == "ok" and not run.out.strip():
            tally.fail(Count.WRONG, f"{what}: exit 0 without output", case.kind)
            outcome = None
        if outcome == "ok" and fmt == "json" and totals is not None:
            got = json.loads(run.out)["totals"]
            if (got["params"], got["macs"]) != (totals["params"], totals["macs"]):
                tally.fail(Count.WRONG, f"{what}: CLI totals {got['params']}/{got['macs']} differ from {totals}",
                           case.kind)
                outcome = None
        if marker.exists():
            tally.fail(Count.INJECTED, f"{what}: the source reference ran", case.kind)
            marker.unlink()
        tally.case(outcome or "failed")
    return tally

