"""Model references and input specs, parsed without torch and without running any user code.

    zoo:NAME                       a built-in torch model (resources/zoo_models.py)
    path/file.py:Name              an nn.Module subclass built with no arguments, or a function returning a module
    path/file.py:Name(k=1, w=0.5)  the same with literal keyword arguments (ast.literal_eval, never eval)
    model.pt / model.pth           TorchScript (a pickled module or state_dict is refused unless trusted)
    model.pt2                      a torch.export program
    model.onnx                     an ONNX graph
    torchvision:NAME, timm:NAME    a builder of an installed library (model_io.importers.library_models), NAME(k=1) too
    hf:PATH                        a transformers config (a folder with config.json, or the file)
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .safe_read import SMALL_LIMIT, read_regular

TORCH_SUFFIXES = (".pt", ".pth")
EXPORT_SUFFIXES = (".pt2",)
ONNX_SUFFIXES = (".onnx",)
INPUT_DTYPES = {"float": "float32", "float32": "float32", "fp32": "float32", "half": "float16",
                "float16": "float16", "fp16": "float16", "bf16": "bfloat16", "bfloat16": "bfloat16",
                "long": "int64", "int64": "int64", "int": "int32", "int32": "int32", "bool": "bool"}


# how the CLI trusts a pickled file; the window shows its own button in place of these words
TRUST_PICKLE_HINT = "pass --trust-pickle"


class RefError(ValueError):
    """A reference or input spec the user mistyped; the message is one line."""


class RefKind(StrEnum):
    """What a model reference names (a StrEnum: its value is the reference's prefix for the library kinds)."""
    ZOO = "zoo"
    PYTHON = "python"
    TORCHSCRIPT = "torchscript"  # a .pt/.pth file (TorchScript, or a pickle refused unless trusted)
    EXPORT = "export"
    ONNX = "onnx"
    TORCHVISION = "torchvision"
    TIMM = "timm"
    HF = "hf"


@dataclass(frozen=True)
class ModelRef:
    kind: RefKind
    path: str = ""  # the file (the zoo or library model name for those kinds; the config path for "hf")
    name: str = ""  # class or function in a .py file
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RefKind(self.kind))  # ModelRef("zoo", ...) is ModelRef(RefKind.ZOO, ...)

    def label(self) -> str:
        if self.kind is RefKind.ZOO:
            return f"zoo:{self.path}"
        if self.kind in LIBRARY_PREFIXES:
            args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
            return f"{self.kind}:{self.path}" + (f"({args})" if self.kwargs else "")
        if self.kind is RefKind.PYTHON:
            args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
            return f"{Path(self.path).name}:{self.name}" + (f"({args})" if self.kwargs else "")
        return Path(self.path).name


# Reference prefix -> the library that builds its models (model_io.importers.library_models).
LIBRARY_KINDS = {"torchvision": "torchvision", "timm": "timm", "hf": "transformers"}
LIBRARY_PREFIXES = tuple(LIBRARY_KINDS)


def library_installed(library: str) -> bool:
    """Whether `library` can be imported here: found, not imported (cheap enough for the app's menus)."""
    try:
        return importlib.util.find_spec(library) is not None
    except (ImportError, ValueError):
        return False


def is_library_ref(ref: str) -> bool:
    return ref.strip().startswith(tuple(p + ":" for p in LIBRARY_PREFIXES))
_LIBRARY_REF = re.compile(r"^(?P<kind>torchvision|timm|hf):(?P<name>[^()]+?)\s*(?P<call>\(.*\))?\s*$", re.S)
_PY_REF = re.compile(r"^(?P<path>.+?\.py):(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<call>\(.*\))?\s*$", re.S)


def parse_ref(ref: str) -> ModelRef:
    """Parse a model reference (not a layer list). Raises RefError with a one-line message."""
    ref = ref.strip()
    if ref.startswith("zoo:"):
        return ModelRef(RefKind.ZOO, ref[4:])
    m = _LIBRARY_REF.match(ref)
    if m:
        return ModelRef(RefKind(m["kind"]), m["name"].strip(), "", _parse_kwargs(m["call"], ref) if m["call"] else {})
    if is_library_ref(ref):
        raise RefError(f"{ref}: name the model, e.g. torchvision:resnet50, timm:resnet50 or hf:path/to/config")
    m = _PY_REF.match(ref)
    if m:
        return ModelRef(RefKind.PYTHON, m["path"], m["name"], _parse_kwargs(m["call"], ref) if m["call"] else {})
    lower = ref.lower()
    if lower.endswith(".py"):
        raise RefError(f"{ref}: name the model class or function too, as {ref}:ClassName")
    for suffixes, kind in ((TORCH_SUFFIXES, RefKind.TORCHSCRIPT), (EXPORT_SUFFIXES, RefKind.EXPORT),
                          (ONNX_SUFFIXES, RefKind.ONNX)):
        if lower.endswith(suffixes):
            return ModelRef(kind, ref)
    raise RefError(f"{ref}: not a model reference (zoo:NAME, file.py:Name, .pt/.pth, .pt2, .onnx, a layer-list"
                   f" .json, torchvision:NAME, timm:NAME or hf:PATH)")


def absolute_ref(ref: str, cwd: str | Path | None = None) -> str:
    """`ref` with its file made absolute against `cwd` (default: the current folder), the rest as written: the
    worker runs in a folder of its own, so `model.py:Net` must not depend on where it runs. Anything that is
    not a file reference (or does not parse) is returned unchanged: the worker's error names it."""
    try:
        parsed = parse_ref(ref)
    except RefError:
        return ref
    if parsed.kind is RefKind.HF:  # a config file or folder like any other file: relative to where the user is
        m = _LIBRARY_REF.match(ref.strip())
        path = Path(parsed.path).expanduser()
        if m is None or path.is_absolute() and str(path) == parsed.path:
            return ref
        return f"hf:{Path(cwd or Path.cwd()) / path}{ref.strip()[m.end('name'):]}"
    if parsed.kind in (RefKind.ZOO, RefKind.TORCHVISION, RefKind.TIMM) or is_library_ref(ref) \
            or Path(parsed.path).is_absolute():
        return ref
    stripped = ref.strip()
    absolute = str(Path(cwd or Path.cwd()) / parsed.path)
    return absolute + stripped[len(parsed.path):]


def _parse_kwargs(call: str, ref: str) -> dict[str, Any]:
    try:
        tree = ast.parse("f" + call, mode="eval")
    except SyntaxError:
        raise RefError(f"{ref}: cannot read the arguments {call}") from None
    node = tree.body
    if not isinstance(node, ast.Call) or node.args:
        raise RefError(f"{ref}: give arguments by keyword, e.g. Name(num_classes=10)")
    out: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise RefError(f"{ref}: ** arguments are not supported")
        try:
            out[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise RefError(f"{ref}: {kw.arg}= must be a literal (number, string, tuple, list, dict, "
                           f"True/False/None)") from None
    return out


def split_dims(text: str) -> tuple[int, ...]:
    """`1,3,224,224` or `1x3x224x224` -> (1, 3, 224, 224); ValueError for anything else (`1,x`, `1,,2`, ``)."""
    parts = text.strip().replace("x", ",").replace("X", ",").split(",")
    if parts and not parts[-1].strip() and len(parts) > 1:
        parts = parts[:-1]  # a trailing comma: 1,3,
    dims = tuple(int(p) for p in parts)  # an empty or non-numeric part raises ValueError
    if not dims:
        raise ValueError(text)
    return dims


def parse_input(text: str) -> tuple[tuple[int, ...], str]:
    """`1,3,224,224` -> ((1, 3, 224, 224), "float32"); `long:1,2048` -> ((1, 2048), "int64")."""
    dtype = "float32"
    body = text.strip()
    if ":" in body:
        prefix, body = body.split(":", 1)
        key = prefix.strip().lower()
        if key not in INPUT_DTYPES:
            raise RefError(f"--input {text!r}: unknown dtype {prefix!r} (use one of {', '.join(INPUT_DTYPES)})")
        dtype = INPUT_DTYPES[key]
    try:
        dims = split_dims(body)
    except ValueError:
        raise RefError(f"--input {text!r}: expected comma-separated sizes such as 1,3,224,224") from None
    if any(d < 0 for d in dims):
        raise RefError(f"--input {text!r}: give non-negative sizes, batch first")
    return dims, dtype


def list_candidates(py_file: str | Path) -> list[str]:
    """Classes that look like nn.Module subclasses and top-level functions in `py_file`, found by reading its
    source (ast): nothing is imported or run. For the app's open dialog and for "no such name" messages."""
    try:
        source = read_regular(py_file, SMALL_LIMIT).decode("utf-8", "replace")  # never blocks on a FIFO
        tree = ast.parse(source, filename=str(py_file))
    except (OSError, SyntaxError, ValueError):  # UnreadableFile is a ValueError
        return []
    classes: dict[str, list[str]] = {}
    functions: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = [ast.unparse(b) for b in node.bases]
        elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            functions.append(node.name)

    def is_module(name: str, seen: frozenset[str] = frozenset()) -> bool:
        for base in classes.get(name, []):
            tail = base.split(".")[-1]
            if tail in ("Module", "Sequential", "ModuleList", "ModuleDict") or base.startswith(("nn.", "torch.nn.")):
                return True
            if tail in classes and tail not in seen and is_module(tail, seen | {name}):
                return True
        return False

    skip = {"example_input", "example_inputs"}
    return [c for c in classes if is_module(c)] + [f for f in functions if f not in skip]
