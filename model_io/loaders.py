"""Worker side: turn a request (reference, inputs, options) into a CostReport. Runs user code: only ever called
inside the worker process (model_io.worker), never in the app or the CLI process.

Every user mistake or model failure becomes a `LoadFailure` with one line for the user and, where useful, the
model's own traceback trimmed to its frames.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import pickletools
import sys
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netcost.costing.graph import Graph

from .memory_cap import is_out_of_memory
from .model_ref import TRUST_PICKLE_HINT, ModelRef, RefError, list_candidates, parse_input, parse_ref
from .versions import is_torchvision_mismatch, torchvision_mismatch


class LoadFailure(Exception):
    """What went wrong, for the user: `message` is one line; `detail` is the trimmed model traceback, if any."""

    def __init__(self, message: str, detail: str = "", kind: str = "error") -> None:
        super().__init__(message)
        self.message, self.detail, self.kind = message, detail, kind


def out_of_memory(what: str) -> LoadFailure:
    """Running out of memory in `what`; the worker's answer adds the cap (model_io.memory_cap)."""
    return LoadFailure(what, kind="memory")


def user_frames(exc: BaseException, roots: tuple[str, ...]) -> str:
    """The traceback of `exc` with only the frames from files under `roots` (the user's model folder)."""
    roots = tuple(r.rstrip(os.sep) + os.sep for r in roots)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if any(os.path.abspath(f.filename).startswith(r) for r in roots)
              and not any(part in f.filename for part in ("site-packages", "dist-packages"))]
    if not frames and "\n" not in str(exc).strip():
        return ""  # nothing of the model's own, and the one-line message already says it all
    lines = traceback.format_list(frames) if frames else []
    return "".join(lines) + f"{type(exc).__name__}: {exc}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


# --- inputs ------------------------------------------------------------------------------------------------------

def resolve_inputs(request: dict[str, Any], defaults: list[tuple[tuple[int, ...], str]] | None, label: str
                   ) -> list[tuple[tuple[int, ...], str]]:
    try:
        given = [parse_input(t) for t in request.get("inputs") or ()]
    except RefError as e:
        raise LoadFailure(str(e), kind="usage") from None
    specs = given or list(defaults or [])
    if not specs:
        where = ", or define example_input() in the file" if ".py:" in label else ""
        raise LoadFailure(f"{label}: no input shape; give one with --input (e.g. --input 1,3,224,224; "
                          f"long:1,128 for token ids){where}", kind="usage")
    batch = request.get("batch_size")
    if batch:
        specs = [((int(batch), *shape[1:]) if shape else shape, dt) for shape, dt in specs]
    return specs


def _specs_of(value: Any) -> list[tuple[tuple[int, ...], str]]:
    import torch

    if isinstance(value, torch.Tensor):
        value = (value,)
    if isinstance(value, dict) or not isinstance(value, (tuple, list)):
        raise TypeError("example_input must be a tensor or a tuple of tensors")
    out = []
    for t in value:
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"example_input holds a {type(t).__name__}, not a tensor")
        out.append((tuple(t.shape), str(t.dtype).removeprefix("torch.")))
    return out


def _example_inputs(holders: list[Any], label: str) -> list[tuple[tuple[int, ...], str]] | None:
    holders = holders + [sys.modules.get(type(h).__module__) for h in holders if not inspect.ismodule(h)]
    for holder in holders:
        for attr in ("example_inputs", "example_input"):
            value = getattr(holder, attr, None)
            if value is None:
                continue
            try:
                return _specs_of(value() if callable(value) else value)
            except Exception as e:
                raise LoadFailure(f"{label}: {attr} failed ({_one_line(e)})", user_frames(e, _roots(holder))) \
                    from None
    return None


def _roots(holder: Any) -> tuple[str, ...]:
    f = getattr(holder, "__file__", None) or getattr(inspect.getmodule(type(holder)), "__file__", None)
    return (os.path.dirname(os.path.abspath(f)),) if f else ()


# --- python files ------------------------------------------------------------------------------------------------

def _package_of(file: Path) -> tuple[str, Path] | None:
    """(dotted module name, folder of the top package) when `file` lies in a package (folders with __init__.py),
    so that its relative imports (`from .layers import Block`) work as they do in the user's project."""
    parts = [file.stem]
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1:
        return None
    return ".".join(parts), folder / parts[0]


def user_roots(path: str) -> tuple[str, ...]:
    """Folders whose files are the user's: the model file's own, and its top package's."""
    file = Path(path).resolve()
    package = _package_of(file)
    return (str(file.parent),) + ((str(package[1]),) if package else ())


def import_file(path: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise LoadFailure(f"{path}: no such file", kind="usage")
    file = file.resolve()
    folder = str(file.parent)
    package = _package_of(file)
    # siblings import as they would when run from their folder; a package's modules as they do in its project
    # (worker only: this process runs one request and exits)
    for entry in ([str(package[1].parent)] if package else []) + [folder]:
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        if package is not None and _importable(package[0].split(".")[0], package[1]):
            module = importlib.import_module(package[0])
        else:
            module = _exec_file(file)
    except LoadFailure:
        raise
    except SyntaxError as e:
        where = f"{Path(e.filename or path).name} line {e.lineno}" if e.lineno else path
        raise LoadFailure(f"{where}: {e.msg} (syntax error)", f"{e.text or ''}".rstrip(), kind="syntax") from None
    except Exception as e:
        if is_torchvision_mismatch(e):  # the model imports torchvision, whose build does not fit this torch
            raise LoadFailure(f"importing {file.name}: {torchvision_mismatch(e)}", kind="usage") from None
        raise LoadFailure(f"importing {file.name} raised {_one_line(e)}", user_frames(e, user_roots(path)),
                          kind="model") from None
    return module


def _importable(top: str, folder: Path) -> bool:
    """Whether `import top` gives the user's package in `folder`, not another one of that name already loaded."""
    loaded = sys.modules.get(top)
    if loaded is None:
        return True
    paths = [Path(p).resolve() for p in getattr(loaded, "__path__", [])]
    return folder.resolve() in paths


def _exec_file(file: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"netcost_user_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise LoadFailure(f"{file}: cannot be imported as Python", kind="usage")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_python(ref: ModelRef, meta: bool = True) -> tuple[Any, list[str], Any]:
    """Build the module `ref` names (on the meta device when its constructor allows). Returns the model, notes
    and the imported file module."""
    from torch import nn

    module = import_file(ref.path)
    name = Path(ref.path).name
    obj = getattr(module, ref.name, None)
    if obj is None:
        found = list_candidates(ref.path)
        hint = f"; found: {', '.join(found)}" if found else "; it defines no nn.Module class or function"
        raise LoadFailure(f"{name} has no {ref.name!r}{hint}", kind="usage")
    if not callable(obj):
        raise LoadFailure(f"{name}:{ref.name} is a {type(obj).__name__}, not a class or function", kind="usage")
    if inspect.isclass(obj) and not issubclass(obj, nn.Module):
        raise LoadFailure(f"{name}:{ref.name} is a class but not an nn.Module subclass", kind="usage")
    call = f"{ref.name}({', '.join(f'{k}={v!r}' for k, v in ref.kwargs.items())})"
    model, notes = construct(lambda: obj(**ref.kwargs), call, user_roots(ref.path), weightless=meta)
    return model, notes, module


def construct(factory: Callable[[], Any], call: str, roots: tuple[str, ...], weightless: bool = True
              ) -> tuple[Any, list[str]]:
    """Run `factory` (`call` names it in messages). Weightless first: on the meta device, else on the CPU with
    parameters and buffers registered on meta (constructors that compute sizes with torch ops, as RegNet's);
    with real weights on the CPU only when both fail, or when `weightless` is False. Returns (model, notes)."""
    from torch import nn

    notes: list[str] = []
    model = None
    if weightless:
        from .tracer import meta_construction
        from .weightless import meta_weights

        try:
            with meta_construction():
                model = factory()
        except TypeError as e:
            if "argument" in str(e):
                raise LoadFailure(f"{call}: {e}", user_frames(e, roots), kind="usage") from None
        except Exception as e:
            try:
                with meta_weights():
                    model = factory()
            except Exception:
                notes.append(f"built on the CPU: the constructor does not run on the meta device ({_one_line(e)})")
    if model is None:
        try:
            model = factory()
        except Exception as e:
            if is_out_of_memory(e):
                raise out_of_memory(f"building {call}") from None
            raise LoadFailure(f"{call} raised {_one_line(e)}", user_frames(e, roots), kind="model") from None
    if not isinstance(model, nn.Module):
        raise LoadFailure(f"{call} returned a {type(model).__name__}, not an nn.Module", kind="usage")
    return model, notes


def count_fresh(model: Any, notes: list[str], rebuild: Callable[[], tuple[Any, list[str]]], specs: list,
                label: str, dtype: str | None, roots: tuple[str, ...]) -> Graph:
    """Count `model` on the meta device; if its forward needs real tensors, count a fresh model from `rebuild`
    (real weights, on the CPU): the failed attempt may have changed the first one (moved tensors it keeps outside
    its parameters to meta, as torchvision's AnchorGenerator does)."""
    from . import tracer

    inputs = [tracer.InputSpec(tuple(s), d) for s, d in specs]
    try:
        return tracer.trace_graph(model, inputs, name=label, dtype=dtype, warnings=notes, source="torch",
                                  meta=True)
    except Exception as e:
        meta_error = e
    if not tracer._is_meta_problem(meta_error):
        return _guard(lambda: _reraise(meta_error), label, roots)
    try:
        model, notes = rebuild()
        notes = [*notes, tracer.cpu_fallback_note(meta_error)]
        return _guard(lambda: tracer.trace_graph(model, inputs, name=label, dtype=dtype, warnings=notes,
                                                 source="torch", meta=False), label, roots)
    except LoadFailure as e:  # the retry's failure alone would hide why there was one (a 7 B model out of memory)
        e.message = f"{e.message} (with real weights on the CPU, because the forward failed on the meta device: " \
                    f"{_one_line(meta_error)})"
        e.args = (e.message,)
        raise


# --- torch files ---------------------------------------------------------------------------------------------

def pickle_globals(path: str) -> list[str]:
    """The classes and functions a torch.save file would import when unpickled (read, never executed)."""
    names: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            pkl = next((n for n in z.namelist() if n.endswith("data.pkl")), None)
            if pkl is None:
                return names
            data = z.read(pkl)
    except (zipfile.BadZipFile, OSError):
        return names
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE") and isinstance(arg, str):
                strings.append(arg)
            elif op.name == "GLOBAL" and isinstance(arg, str):
                names.append(arg.replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
    except Exception:  # a truncated or odd pickle: say what we could read
        pass
    return names


def sniff(path: str) -> str:
    """What a file really holds, in words, judged from its first bytes and zip listing (nothing is loaded)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return ""
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            return "a damaged zip archive"
        if any("/code/" in n or n.startswith("code/") for n in names):
            return "a TorchScript archive (use the .pt extension)"
        if any(n.endswith(("models/model.json", "archive_format", "serialized_exported_program.json"))
               for n in names):
            return "a torch.export program (use the .pt2 extension)"
        if any(n.endswith("data.pkl") for n in names):
            return "a torch.save file"
        return "a zip archive"
    if head[:2] == b"\x80\x02":
        return "a torch.save file (legacy format)"
    if not head.strip():
        return "nothing (the file is empty)"
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        return "JSON text (a layer list must have the .json extension)"
    if b"\0" not in head and all(32 <= c < 127 or c in b"\t\r\n" for c in head[:200]):
        return "text"
    return ""


def _is_torchscript(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any("/code/" in n or n.startswith("code/") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_torch_file(path: str, trust_pickle: bool) -> tuple[Any, str]:
    """A TorchScript module ("torchscript") or, when trusted, an unpickled nn.Module ("module")."""
    import torch
    from torch import nn

    name = Path(path).name
    if not Path(path).is_file():
        raise LoadFailure(f"{path}: no such file", kind="usage")
    if _is_torchscript(path):
        try:  # meta first: no weight memory, and every op decomposes into counted ones
            return torch.jit.load(path, map_location="meta"), "torchscript"
        except Exception:
            pass
        try:
            return torch.jit.load(path, map_location="cpu"), "torchscript"
        except Exception as e:
            raise LoadFailure(f"{name}: a damaged TorchScript archive ({_one_line(e)})", kind="format") from None
    what = sniff(path)
    if what.startswith("a torch.export program"):
        raise LoadFailure(f"{name} holds {what}", kind="format")
    if not zipfile.is_zipfile(path):
        head = Path(path).read_bytes()[:2]
        if head != b"\x80\x02":  # the legacy torch.save format starts with a pickle protocol 2 header
            holds = f"; it holds {what}" if what else ""
            raise LoadFailure(f"{name} is not a TorchScript archive or a torch.save file (its extension says "
                              f"PyTorch, its content does not{holds})", kind="format")
    if trust_pickle:
        sys.path.insert(0, str(Path(path).resolve().parent))
        try:
            obj = torch.load(path, map_location="meta", weights_only=False)
        except Exception as e:
            raise LoadFailure(f"{name}: unpickling failed ({_one_line(e)})", kind="model") from None
        if isinstance(obj, nn.Module):
            return obj, "module"
        raise LoadFailure(_not_a_module(name, obj), kind="usage")
    try:
        obj = torch.load(path, map_location="meta", weights_only=True)
    except Exception as e:
        classes = [g for g in pickle_globals(path) if not g.startswith(("torch.", "collections.", "builtins."))]
        if classes or "weights_only" in str(e) or "Unsupported global" in str(e):
            what = f"a pickled {classes[0]}" if classes else "pickled Python objects"
            raise LoadFailure(f"{name} holds {what}, which NetCost does not unpickle by default (unpickling runs "
                              f"code): give the class as file.py:Name, or {TRUST_PICKLE_HINT} if the file is yours",
                              kind="pickle") from None
        holds = f"it holds {what}" if what and what != "a torch.save file" else _one_line(e)[:200]
        raise LoadFailure(f"{name} is not a TorchScript archive or a readable torch.save file ({holds})",
                          kind="format") from None
    raise LoadFailure(_not_a_module(name, obj), kind="usage")


def _not_a_module(name: str, obj: Any) -> str:
    if isinstance(obj, dict):
        import torch

        tensors = sum(1 for v in obj.values() if isinstance(v, torch.Tensor))
        return (f"{name} holds a state_dict ({tensors} tensors, no architecture): give the model's class as "
                f"file.py:Name (NetCost counts the architecture, the weights are not needed)")
    return f"{name} holds a {type(obj).__name__}, not a model"


# --- the request ---------------------------------------------------------------------------------------------

def run_request(request: dict[str, Any]) -> Graph:
    """Load, build and trace what `request` names (see worker_client for the fields) into its graph."""
    from . import tracer

    try:
        ref = parse_ref(str(request["ref"]))
    except RefError as e:
        raise LoadFailure(str(e), kind="usage") from None
    label = ref.label()
    dtype = request.get("dtype")
    edits = list(request.get("module_edits") or [])
    if edits and ref.kind in ("onnx", "export"):
        raise LoadFailure(f"{label}: layer edits can only be applied to a model's Python code, not to "
                          f"{'an ONNX file' if ref.kind == 'onnx' else 'a torch.export program'}", kind="usage")

    def edited(model: Any) -> Any:
        return _edited(model, edits, label)

    if ref.kind == "onnx":
        from .onnx_cost import onnx_graph

        specs = resolve_inputs(request, [], label) if request.get("inputs") else None
        return _sourced(onnx_graph(ref.path, specs, dtype=dtype, batch_size=request.get("batch_size")), request)
    if ref.kind == "zoo":
        from netcost.resources.zoo_models import ZOO

        entry = ZOO.get(ref.path)
        if entry is None:
            raise LoadFailure(f"unknown built-in model zoo:{ref.path}", kind="usage")
        from .tracer import meta_construction

        with meta_construction():
            model = edited(entry.build())
        specs = resolve_inputs(request, list(entry.inputs), label)
        return _sourced(_trace(tracer, model, specs, label, dtype, [], (), "torch"), request)
    if ref.kind in ("torchvision", "timm", "hf"):
        from . import library_models

        built = library_models.build(ref)
        specs = resolve_inputs(request, built.inputs, label)
        return _sourced(count_fresh(edited(built.model), built.notes, lambda: _rebuilt(_built_for_real(ref), edited),
                                    specs, label, dtype, ()), request)
    if ref.kind == "python":
        model, notes, module = build_python(ref)
        specs = resolve_inputs(request, _example_inputs([module, model], label), label)
        return _sourced(count_fresh(edited(model), notes, lambda: _rebuilt(build_python(ref, meta=False)[:2], edited),
                                    specs, label, dtype, user_roots(ref.path)), request)
    if ref.kind == "export":
        from .graph_trace import exported_graph, load_exported

        ep = load_exported(ref.path, bool(request.get("trust_pickle")))
        specs = resolve_inputs(request, None, label) if request.get("inputs") else None
        return _sourced(_guard(lambda: exported_graph(ep, specs, label, dtype), label, ()), request)
    obj, what = load_torch_file(ref.path, bool(request.get("trust_pickle")))
    if edits and what == "torchscript":
        raise LoadFailure(f"{label}: layer edits can only be applied to a model's Python code, not to a "
                          "TorchScript program", kind="usage")
    if what == "torchscript":
        from .graph_trace import script_graph, script_inputs

        specs = resolve_inputs(request, script_inputs(obj), label)
        try:
            return _sourced(script_graph(obj, specs, label, dtype), request)
        except Exception:  # some scripted code needs real tensors: count once more on the CPU
            import torch

            cpu = torch.jit.load(ref.path, map_location="cpu")
            return _sourced(_guard(lambda: script_graph(cpu, specs, label, dtype), label, ()), request)
    specs = resolve_inputs(request, _example_inputs([obj], label), label)
    return _sourced(_trace(tracer, edited(obj), specs, label, dtype, [], (), "torch"), request)


def _edited(model: Any, edits: list[dict[str, Any]], label: str) -> Any:
    """`model` with the request's layer edits applied to its modules (re-tracing an edited graph)."""
    if not edits:
        return model
    from .module_swap import ModuleEditError, apply_module_edits

    try:
        apply_module_edits(model, edits)
    except ModuleEditError as e:
        raise LoadFailure(f"{label}: cannot apply the edits to the model's code: {e}", kind="usage") from None
    return model


def _rebuilt(built: tuple[Any, list[str]], edited: Callable[[Any], Any]) -> tuple[Any, list[str]]:
    model, notes = built
    return edited(model), notes


def _sourced(graph: Graph, request: dict[str, Any]) -> Graph:
    """The graph with the reference and options it was traced from (a saved project can trace it again)."""
    from dataclasses import replace

    source = {**graph.source, "ref": str(request["ref"])}
    for key in ("inputs", "batch_size", "dtype"):
        if request.get(key):
            source[key] = request[key]
    return replace(graph, source=source)


def warm_up() -> None:
    """Build on meta and trace a tiny model along the path every load takes, so that what torch imports lazily on
    first use (its meta init kernels import sympy: about 2 s) is imported before a warm worker's request comes.
    Only NetCost's own code runs here; the graph is thrown away."""
    import torch
    from torch import nn

    from . import tracer

    class WarmUp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(8, 8)
            self.conv = nn.Conv2d(1, 8, 3, padding=1)
            self.norm2d = nn.BatchNorm2d(8)
            self.norm = nn.LayerNorm(8)
            self.fc = nn.Linear(8, 8)

        def forward(self, ids: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
            x = self.norm(self.embed(ids))
            x = torch.nn.functional.scaled_dot_product_attention(x, x, x, is_causal=True)
            y = self.norm2d(self.conv(image)).relu().mean((2, 3))
            return torch.nn.functional.gelu(self.fc(x)).softmax(-1).sum(1) + y

    with tracer.meta_construction():
        model = WarmUp()
    _trace(tracer, model, [((1, 4), "int64"), ((1, 1, 4, 4), "float32")], "warm-up", None, [], (), "torch")


def _built_for_real(ref: ModelRef) -> tuple[Any, list[str]]:
    from . import library_models

    built = library_models.build(ref, weightless=False)
    return built.model, built.notes


def _trace(tracer: Any, model: Any, specs: list, label: str, dtype: str | None, notes: list[str],
           roots: tuple[str, ...], source: str) -> Graph:
    inputs = [tracer.InputSpec(tuple(s), d) for s, d in specs]
    return _guard(lambda: tracer.trace_graph(model, inputs, name=label, dtype=dtype, warnings=notes,
                                             source=source), label, roots)


def _reraise(e: BaseException) -> Graph:
    raise e


def _guard(fn: Callable[[], Graph], label: str, roots: tuple[str, ...]) -> Graph:
    try:
        return fn()
    except LoadFailure:
        raise
    except Exception as e:
        if is_out_of_memory(e):  # MemoryError, or torch's allocator refused under the cap
            raise out_of_memory(f"counting {label}") from None
        detail = user_frames(e, roots) if roots else \
            "".join(traceback.format_exception_only(type(e), e)) if "\n" in str(e).strip() else ""
        raise LoadFailure(f"the forward of {label} raised {_one_line(e)}{_input_hint(e)}", detail,
                          kind="model") from None


def _input_hint(e: BaseException) -> str:
    """What to change on the command line, for the errors a wrong --input typically gives."""
    text = str(e)
    if isinstance(e, TypeError) and "forward()" in text and ("positional argument" in text or "given" in text):
        return " (give one --input per forward argument, in order)"
    if "Long, Int" in text or ("indices" in text and "Long" in text):
        return " (token ids: give the input as --input long:BATCH,LENGTH)"
    return ""
