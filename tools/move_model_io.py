"""The mechanical rewrite that moved model_io's modules into subpackages (issue 19, item 2), kept so that it can be
run again on a branch written against the flat layout: `python tools/move_model_io.py [--move]`.

Without `--move` it only rewrites references (for a tree whose files have already been moved, e.g. a branch merged
after the move); with it, it first `git mv`s the modules. Every reference in the repository's text files is
rewritten: absolute imports (`from netcost.model_io.resolve import ...`, `from netcost.model_io import resolve`),
dotted paths in strings (mock.patch targets, `python -m netcost.model_io.worker.worker`), prose (`model_io.tracer`),
file paths (`model_io/tracer.py`), and the relative imports inside model_io. Running it twice changes nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the bottom layer stays at model_io's root: errors, options, memory_cap, file_kinds, escape, strict_json, safe_read,
# versions, model_ref
PACKAGES: dict[str, tuple[str, ...]] = {
    "files": ("layer_file", "graph_file", "project_keys", "device_files", "edits", "zoo", "file_checks", "retrace",
              "export_torch", "torch_zoo_index", "tables", "rewrite_tables"),
    "importers": ("cost_mode", "index_bounds", "op_costs", "op_nodes", "trace_values", "graph_builder",
                  "graph_assembly", "graph_trace", "tracer", "model_state", "module_specs", "module_swap",
                  "transformers_meta", "weightless", "model_build", "library_models", "torch_files", "onnx_cost",
                  "loaders"),
    "worker": ("worker", "worker_client", "worker_guard", "worker_pipes", "worker_sandbox", "orphans", "measure",
               "llm_trace", "measure_client", "calibrate", "resolve"),
    "cli": ("cli", "latency_cli", "llm", "latency_tables", "budget"),
}
WHERE = {m: p for p, mods in PACKAGES.items() for m in mods}
ROOT_MODULES = ("errors", "options", "memory_cap", "file_kinds", "escape", "strict_json", "safe_read", "versions",
                "model_ref", "__main__", "__init__")
NAMES = "|".join(sorted(WHERE, key=len, reverse=True))
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".txt", ".yml", ".yaml", ".sh", ".rst"}

DOTTED = re.compile(rf"(?<![\w.])((?:netcost\.)?model_io)\.({NAMES})\b(\.\w+)?(?= import ([\w, ]+))?")
PATH = re.compile(rf"(?<![\w/])(?<!tests/)model_io/({NAMES})\.py\b")
FROM_PKG = re.compile(r"^(\s*)from netcost\.model_io import ([\w, ]+?)\s*(#.*)?$", re.M)
RELATIVE = re.compile(r"^(\s*)from (\.+)(\w*) import (.+)$", re.M)


def _dotted(m: re.Match[str]) -> str:
    prefix, name, rest = m.group(1), m.group(2), m.group(3) or ""
    pkg = WHERE[name]
    if name == pkg and rest[1:] in PACKAGES[pkg]:  # already moved: model_io.worker.worker_client
        return m.group(0)
    imported = [n.split(" as ")[0].strip() for n in (m.group(4) or "").split(",") if n.strip()]
    if name == pkg and not rest and imported and all(n in PACKAGES[pkg] for n in imported):
        return m.group(0)  # already moved: from netcost.model_io.worker import worker_client
    return f"{prefix}.{pkg}.{name}{rest}"


def _from_pkg(m: re.Match[str]) -> str:
    indent, names = m.group(1), [n.strip() for n in m.group(2).split(",") if n.strip()]
    groups: dict[str, list[str]] = {}
    for n in names:
        base = n.split(" as ")[0].strip()
        groups.setdefault(WHERE.get(base, ""), []).append(n)
    comment = f"  {m.group(3)}" if m.group(3) else ""
    return "\n".join(f"{indent}from netcost.model_io{'.' + p if p else ''} import {', '.join(ns)}{comment}"
                     for p, ns in groups.items())


def _relative_in(package: str):
    """The rewrite of `from .X import ...` in a model_io module that now lives in `package` ("" for the root)."""

    def rel(target: str) -> str:
        if target == package:
            return "."
        up = ".." if package else "."
        return up + target if target else up

    def fix(m: re.Match[str]) -> str:
        indent, dots, module, names = m.groups()
        if dots != ".":
            return m.group(0)  # ..costing and the like: outside model_io
        if module:
            if module in WHERE or module in ROOT_MODULES:
                base = rel(WHERE.get(module, ""))
                return f"{indent}from {base}{'' if base.endswith('.') else '.'}{module} import {names}"
            return m.group(0)  # already a subpackage path (.worker.worker_client)
        names, hash_, comment = names.partition("#")
        comment = f"  {hash_}{comment}" if hash_ else ""
        groups: dict[str, list[str]] = {}
        for n in (x.strip() for x in names.split(",")):
            groups.setdefault(WHERE.get(n.split(" as ")[0].strip(), ""), []).append(n)
        return "\n".join(f"{indent}from {rel(p)} import {', '.join(ns)}{comment}" for p, ns in groups.items())

    return fix


def rewrite(path: Path, package: str | None) -> bool:
    text = path.read_text(encoding="utf-8")
    new = DOTTED.sub(_dotted, text)
    new = PATH.sub(lambda m: f"model_io/{WHERE[m.group(1)]}/{m.group(1)}.py", new)
    if path.suffix == ".py":
        new = FROM_PKG.sub(_from_pkg, new)
        if package is not None:
            new = RELATIVE.sub(_relative_in(package), new)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main() -> None:
    if "--move" in sys.argv[1:]:
        for pkg, mods in PACKAGES.items():
            (ROOT / "model_io" / pkg).mkdir(exist_ok=True)
            for mod in mods:
                subprocess.run(["git", "mv", f"model_io/{mod}.py", f"model_io/{pkg}/{mod}.py"], cwd=ROOT, check=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    changed = 0
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.name == "move_model_io.py" or \
                (path.suffix not in TEXT_SUFFIXES and path.name != "Makefile"):
            continue
        package = None
        parts = Path(name).parts
        if parts[0] == "model_io" and path.suffix == ".py":
            package = parts[1] if len(parts) == 3 else ""
        changed += rewrite(path, package)
    print(f"{changed} files rewritten")


if __name__ == "__main__":
    main()
