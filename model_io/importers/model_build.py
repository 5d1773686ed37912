"""Worker side: build a model from the user's code and trace it, turning every failure into a `LoadFailure` with
one line for the user and, where useful, the model's own traceback trimmed to its frames. Runs user code: only
ever called inside the worker process (model_io.worker.worker).

torch is imported inside the functions that need it (and model_io.importers.tracer, which imports it): importing
this module stays cheap, so library_models and measure can import it at the top.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netcost.costing.graph import Graph

from ..errors import FailureKind, LoadFailure, one_line, out_of_memory, user_frames
from ..memory_cap import is_out_of_memory
from ..model_ref import ModelRef, RefError, list_candidates, parse_input
from ..versions import is_torchvision_mismatch, torchvision_mismatch

Specs = list[tuple[tuple[int, ...], str]]


# --- inputs ------------------------------------------------------------------------------------------------------

def resolve_inputs(request: dict[str, Any], defaults: Specs | None, label: str) -> Specs:
    try:
        given = [parse_input(t) for t in request.get("inputs") or ()]
    except RefError as e:
        raise LoadFailure(str(e), kind=FailureKind.USAGE) from None
    specs = given or list(defaults or [])
    if not specs:
        where = ", or define example_input() in the file" if ".py:" in label else ""
        raise LoadFailure(f"{label}: no input shape; give one with --input (e.g. --input 1,3,224,224; "
                          f"long:1,128 for token ids){where}", kind=FailureKind.USAGE)
    batch = request.get("batch_size")
    if batch:
        specs = [((int(batch), *shape[1:]) if shape else shape, dt) for shape, dt in specs]
    return specs


def _specs_of(value: Any) -> Specs:
    import torch  # heavy: imported where a model's example input is read (worker only)

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


def example_inputs(holders: list[Any], label: str) -> Specs | None:
    """The input specs of the first `example_inputs` / `example_input` (a value or a function) on `holders` (the
    model's file module, the model) or their modules; None when none defines one."""
    holders = holders + [sys.modules.get(type(h).__module__) for h in holders if not inspect.ismodule(h)]
    for holder in holders:
        for attr in ("example_inputs", "example_input"):
            value = getattr(holder, attr, None)
            if value is None:
                continue
            try:
                return _specs_of(value() if callable(value) else value)
            except Exception as e:
                raise LoadFailure(f"{label}: {attr} failed ({one_line(e)})", user_frames(e, _roots(holder))) \
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
        raise LoadFailure(f"{path}: no such file", kind=FailureKind.USAGE)
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
        raise LoadFailure(f"{where}: {e.msg} (syntax error)", f"{e.text or ''}".rstrip(),
                          kind=FailureKind.SYNTAX) from None
    except Exception as e:
        if is_torchvision_mismatch(e):  # the model imports torchvision, whose build does not fit this torch
            raise LoadFailure(f"importing {file.name}: {torchvision_mismatch(e)}", kind=FailureKind.USAGE) from None
        raise LoadFailure(f"importing {file.name} raised {one_line(e)}", user_frames(e, user_roots(path)),
                          kind=FailureKind.MODEL) from None
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
        raise LoadFailure(f"{file}: cannot be imported as Python", kind=FailureKind.USAGE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_python(ref: ModelRef, meta: bool = True) -> tuple[Any, list[str], Any]:
    """Build the module `ref` names (on the meta device when its constructor allows). Returns the model, notes
    and the imported file module."""
    from torch import nn  # heavy: worker only

    module = import_file(ref.path)
    name = Path(ref.path).name
    obj = getattr(module, ref.name, None)
    if obj is None:
        found = list_candidates(ref.path)
        hint = f"; found: {', '.join(found)}" if found else "; it defines no nn.Module class or function"
        raise LoadFailure(f"{name} has no {ref.name!r}{hint}", kind=FailureKind.USAGE)
    if not callable(obj):
        raise LoadFailure(f"{name}:{ref.name} is a {type(obj).__name__}, not a class or function",
                          kind=FailureKind.USAGE)
    if inspect.isclass(obj) and not issubclass(obj, nn.Module):
        raise LoadFailure(f"{name}:{ref.name} is a class but not an nn.Module subclass", kind=FailureKind.USAGE)
    call = f"{ref.name}({', '.join(f'{k}={v!r}' for k, v in ref.kwargs.items())})"
    model, notes = construct(lambda: obj(**ref.kwargs), call, user_roots(ref.path), weightless=meta)
    return model, notes, module


def construct(factory: Callable[[], Any], call: str, roots: tuple[str, ...], weightless: bool = True
              ) -> tuple[Any, list[str]]:
    """Run `factory` (`call` names it in messages). Weightless first: on the meta device, else on the CPU with
    parameters and buffers registered on meta (constructors that compute sizes with torch ops, as RegNet's);
    with real weights on the CPU only when both fail, or when `weightless` is False. Returns (model, notes)."""
    from torch import nn  # heavy: worker only

    notes: list[str] = []
    model = None
    if weightless:
        from .tracer import meta_construction  # imports torch (see above)
        from .weightless import meta_weights

        try:
            with meta_construction():
                model = factory()
        except TypeError as e:
            if "argument" in str(e):
                raise LoadFailure(f"{call}: {e}", user_frames(e, roots), kind=FailureKind.USAGE) from None
        except Exception as e:
            try:
                with meta_weights():
                    model = factory()
            except Exception:
                notes.append(f"built on the CPU: the constructor does not run on the meta device ({one_line(e)})")
    if model is None:
        try:
            model = factory()
        except Exception as e:
            if is_out_of_memory(e):
                raise out_of_memory(f"building {call}") from None
            raise LoadFailure(f"{call} raised {one_line(e)}", user_frames(e, roots), kind=FailureKind.MODEL) from None
    if not isinstance(model, nn.Module):
        raise LoadFailure(f"{call} returned a {type(model).__name__}, not an nn.Module", kind=FailureKind.USAGE)
    return model, notes


# --- tracing -------------------------------------------------------------------------------------------------------

def count_fresh(model: Any, notes: list[str], rebuild: Callable[[], tuple[Any, list[str]]], specs: Specs,
                label: str, dtype: str | None, roots: tuple[str, ...]) -> Graph:
    """Count `model` on the meta device; if its forward needs real tensors, count a fresh model from `rebuild`
    (real weights, on the CPU): the failed attempt may have changed the first one (moved tensors it keeps outside
    its parameters to meta, as torchvision's AnchorGenerator does)."""
    from . import tracer  # imports torch (see above)

    inputs = [tracer.InputSpec(tuple(s), d) for s, d in specs]
    try:
        return tracer.trace_graph(model, inputs, name=label, dtype=dtype, warnings=notes, source="torch",
                                  meta=True)
    except Exception as e:
        meta_error = e
    if not tracer._is_meta_problem(meta_error):
        return guard(lambda: _reraise(meta_error), label, roots)
    try:
        model, notes = rebuild()
        notes = [*notes, tracer.cpu_fallback_note(meta_error)]
        return guard(lambda: tracer.trace_graph(model, inputs, name=label, dtype=dtype, warnings=notes,
                                                source="torch", meta=False), label, roots)
    except LoadFailure as e:  # the retry's failure alone would hide why there was one (a 7 B model out of memory)
        e.message = f"{e.message} (with real weights on the CPU, because the forward failed on the meta device: " \
                    f"{one_line(meta_error)})"
        e.args = (e.message,)
        raise


def trace(model: Any, specs: Specs, label: str, dtype: str | None) -> Graph:
    """The graph of `model`'s forward on `specs` (on whatever device its weights are), failures as LoadFailure."""
    from . import tracer  # imports torch (see above)

    inputs = [tracer.InputSpec(tuple(s), d) for s, d in specs]
    return guard(lambda: tracer.trace_graph(model, inputs, name=label, dtype=dtype, warnings=[], source="torch"),
                 label, ())


def _reraise(e: BaseException) -> Graph:
    raise e


def guard(fn: Callable[[], Graph], label: str, roots: tuple[str, ...]) -> Graph:
    """`fn()`, its failure as a LoadFailure saying what to change (the model's frames under `roots` as detail)."""
    try:
        return fn()
    except LoadFailure:
        raise
    except Exception as e:
        if is_out_of_memory(e):  # MemoryError, or torch's allocator refused under the cap
            raise out_of_memory(f"counting {label}") from None
        detail = user_frames(e, roots) if roots else \
            "".join(traceback.format_exception_only(type(e), e)) if "\n" in str(e).strip() else ""
        raise LoadFailure(f"the forward of {label} raised {one_line(e)}{_input_hint(e)}", detail,
                          kind=FailureKind.MODEL) from None


def _input_hint(e: BaseException) -> str:
    """What to change on the command line, for the errors a wrong --input typically gives."""
    text = str(e)
    if isinstance(e, TypeError) and "forward()" in text and ("positional argument" in text or "given" in text):
        return " (give one --input per forward argument, in order)"
    if "Long, Int" in text or ("indices" in text and "Long" in text):
        return " (token ids: give the input as --input long:BATCH,LENGTH)"
    return ""
