"""Structure-aware fuzzed layer-list / project files (the first reliability run's families, unchanged cases).

In-process: mutated built-in layer lists (any layer type, sizes up to and past int64, junk values, unknown keys,
NetCost's own `view`/`recovery` keys with any value, duplicate keys, NaN literals, byte-level damage). Each file must
end as a report that renders in every table format and, opened as a project, saves and reopens identical — or as
one FormatError/LayerError. A sample goes through the real CLI (`summary FILE --format F`): exit 0 or 2, on 2 exactly
one stderr line with no raw control characters, no traceback.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from netcost.costing import CONVENTIONS, FormatError, LayerError, evaluate, kinds
from netcost.model_io.files import tables
from netcost.model_io.files.layer_file import loads_network
from tests.hang_guard import Hang, no_hang  # the suite's guard: SIGALRM interrupts a loop

from .common import CONTROL, ROOT, Count, Tally, judge_cli, run_cli

HANG_S = 10.0
KINDS = kinds()
SIZES = [1, 2, 3, 7, 16, 64, 10**6, 10**12, 10**15, 2**62, 2**63 - 1, 2**63, 10**30, 0, -1, -(10**12)]
JUNK = [None, True, False, 0.5, -1e300, 1e300, "", "x", "=cmd|' /C calc'!A0", "a\nb", "\x1b[2J", [], [1, 2],
        {"a": 1}, "same", "valid"]
NAMES = ["", "conv", "=1+1", "+x", "-y", "@z", "a\rb", "a\nb", "\x1b[31mred", "|pipe|", "<script>x</script>",
         "bidi\u202e", "ü✓"]


def base_documents() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "resources" / "layers").glob("*.json"))]


def value_for(rng: random.Random, arg) -> object:  # noqa: ANN001
    if rng.random() < 0.1:
        return rng.choice(JUNK + SIZES)
    if arg.kind in ("int", "opt_int", "shape", "size", "opt_sizes", "padding", "ints", "opt_ints"):
        v = rng.choice(SIZES[:7]) if rng.random() < 0.6 else rng.choice(SIZES)
        return [v] * rng.randint(1, 3) if arg.kind in ("ints", "opt_ints") and rng.random() < 0.3 else v
    if arg.kind in ("bool", "opt_bool"):
        return rng.random() < 0.5
    if arg.kind in ("float", "opt_float"):
        return rng.random()
    if arg.kind == "choice" and arg.choices:
        return rng.choice(arg.choices)
    return rng.choice(JUNK)


def random_layer(rng: random.Random) -> dict:
    type_ = rng.choice(sorted(KINDS))
    item: dict = {"type": type_}
    for arg in KINDS[type_].args:
        if arg.required or rng.random() < 0.4:
            item[arg.name] = value_for(rng, arg)
    if rng.random() < 0.5:
        item["name"] = rng.choice(NAMES)
    return item


def fuzzed_text(rng: random.Random, bases: list[dict]) -> str:
    doc = json.loads(json.dumps(rng.choice(bases)))
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        layers = doc["layers"]
        if op < 0.35:
            layers.insert(rng.randint(0, len(layers)), random_layer(rng))
        elif op < 0.55 and layers:
            layer = rng.choice(layers)
            arg = rng.choice(list(KINDS[layer["type"]].args) or [None]) if layer.get("type") in KINDS else None
            if arg is not None:
                layer[arg.name] = value_for(rng, arg)
        elif op < 0.65 and layers:
            layers.pop(rng.randrange(len(layers)))
        elif op < 0.8:
            key = rng.choice(["view", "recovery", "notes", "name", "batch_size", "input_shape", "dtype"])
            doc[key] = rng.choice([{"convention": rng.choice([*CONVENTIONS, 3, None, "bogus"])}, {"path": 7},
                                   {"path": None}, *JUNK, *SIZES[:8]])
        else:
            doc["input_shape"] = [rng.choice(SIZES[:9]) for _ in range(rng.randint(1, 4))]
    text = json.dumps(doc)
    r = rng.random()
    if r < 0.05:  # a duplicate key
        text = text.replace('"layers":', '"name": "dup", "name": "dup2", "layers":', 1)
    elif r < 0.1:  # a NaN literal
        text = text.replace('"batch_size": 1', '"batch_size": NaN', 1) if '"batch_size": 1' in text else text[:-1] \
            + ', "x": NaN}'
    elif r < 0.2:  # byte damage
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
        text = data.decode("utf-8", "replace")
    return text


def check_file(text: str, folder: Path) -> str:
    """'ok', 'refused', 'crash: …', 'hang', 'wrong' (a rendered output broke its format) or 'lost' (save/reopen
    differs)."""
    from netcost.gui.document.cost_document import CostDocument

    try:
        with no_hang(HANG_S):
            try:
                net, _ = loads_network(text)
                report = evaluate(net)
            except (FormatError, LayerError) as e:
                return "refused" if str(e) else "wrong"
            if report.totals.params != sum(r.params for r in report.layers):
                return "wrong"
            rows = list(csv.reader(io.StringIO(tables.to_csv(report), newline="")))
            if len(rows) != len(report.layers) + 2:
                return "wrong"
            md = [line for line in tables.to_markdown(report).splitlines() if line.startswith("|")]
            table = tables.to_table(report)
            if len(md) != len(report.layers) + 2 or CONTROL & set(table) or json.loads(tables.to_json(report)) is None:
                return "wrong"
            src = folder / "p.json"
            src.write_text(text, encoding="utf-8")
            doc = CostDocument()
            doc.load_file(src)
            doc.save_file(folder / "again.json")
            again = CostDocument()
            again.load_file(folder / "again.json")
            if again.network != doc.network or again.convention != doc.convention:
                return "lost"
            return "ok"
    except Hang:
        return "hang"
    except Exception as e:  # noqa: BLE001 - anything else is what this run looks for
        return f"crash: {type(e).__name__}: {str(e)[:160]}"


FAILURES = {"hang": Count.HANG, "wrong": Count.WRONG, "lost": Count.LOST}


def run_files(n: int, rng: random.Random, folder: Path) -> tuple[Tally, list[str]]:
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication([])
    tally = Tally("fuzzed layer lists in-process")
    bases = base_documents()
    texts = []
    for i in range(n):
        text = fuzzed_text(rng, bases)
        texts.append(text)
        outcome = check_file(text, folder)
        if outcome.startswith("crash"):
            tally.case("failed")
            tally.fail(Count.CRASH, f"file {i}: {outcome}")
        elif outcome in FAILURES:
            tally.case("failed")
            tally.fail(FAILURES[outcome], f"file {i}: {text[:120]}")
        else:
            tally.case(outcome)
    return tally, texts


def run_cli_sample(texts: list[str], n: int, rng: random.Random, folder: Path) -> Tally:
    tally = Tally("fuzzed layer lists through the CLI")
    for i, text in enumerate(rng.sample(texts, min(n, len(texts)))):
        path = folder / f"cli{i}.json"
        path.write_text(text, encoding="utf-8")
        fmt = rng.choice(list(tables.FORMATS))
        what = f"summary cli{i}.json --format {fmt}"
        run = run_cli(["summary", str(path), "--format", fmt], 60)
        outcome = judge_cli(tally, what, run, fmt)
        if outcome == "ok" and not run.out.strip():
            tally.fail(Count.WRONG, f"{what}: exit 0 without output")
            outcome = None
        tally.case(outcome or "failed")
    return tally
