"""Worker side: read a `.pt`/`.pth` file: a TorchScript archive, or (only when trusted) a pickled nn.Module. What a
pickle would import is read from its opcodes without running it, to name the class in the refusal.

torch is imported inside `load_torch_file` (heavy, worker only); `pickle_globals` needs none.
"""

from __future__ import annotations

import pickletools
import sys
import zipfile
from pathlib import Path
from typing import Any

from ..errors import FailureKind, LoadFailure, one_line
from ..file_kinds import FileKind
from ..files.file_checks import check_torch_file
from ..model_ref import TRUST_PICKLE_HINT


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


def load_torch_file(path: str, trust_pickle: bool) -> tuple[Any, bool]:
    """(a TorchScript module, True) or, when trusted, (an unpickled nn.Module, False)."""
    import torch  # heavy: worker only
    from torch import nn

    name = Path(path).name
    scripted, what = check_torch_file(path)
    if scripted:
        try:  # meta first: no weight memory, and every op decomposes into counted ones
            return torch.jit.load(path, map_location="meta"), True
        except Exception:
            pass
        try:
            return torch.jit.load(path, map_location="cpu"), True
        except Exception as e:
            raise LoadFailure(f"{name}: a damaged TorchScript archive ({one_line(e)})",
                              kind=FailureKind.FORMAT) from None
    if trust_pickle:
        sys.path.insert(0, str(Path(path).resolve().parent))
        try:
            obj = torch.load(path, map_location="meta", weights_only=False)
        except Exception as e:
            raise LoadFailure(f"{name}: unpickling failed ({one_line(e)})", kind=FailureKind.MODEL) from None
        if isinstance(obj, nn.Module):
            return obj, False
        raise LoadFailure(_not_a_module(name, obj), kind=FailureKind.USAGE)
    try:
        obj = torch.load(path, map_location="meta", weights_only=True)
    except Exception as e:
        classes = [g for g in pickle_globals(path) if not g.startswith(("torch.", "collections.", "builtins."))]
        if classes or "weights_only" in str(e) or "Unsupported global" in str(e):
            pickled = f"a pickled {classes[0]}" if classes else "pickled Python objects"
            raise LoadFailure(f"{name} holds {pickled}, which NetCost does not unpickle by default (unpickling runs "
                              f"code): give the class as file.py:Name, or {TRUST_PICKLE_HINT} if the file is yours",
                              kind=FailureKind.PICKLE) from None
        holds = f"it holds {what.words}" if what not in (FileKind.UNKNOWN, FileKind.TORCH_SAVE) \
            else one_line(e)[:200]
        raise LoadFailure(f"{name} is not a TorchScript archive or a readable torch.save file ({holds})",
                          kind=FailureKind.FORMAT) from None
    raise LoadFailure(_not_a_module(name, obj), kind=FailureKind.USAGE)


def _not_a_module(name: str, obj: Any) -> str:
    if isinstance(obj, dict):
        import torch  # heavy: worker only

        tensors = sum(1 for v in obj.values() if isinstance(v, torch.Tensor))
        return (f"{name} holds a state_dict ({tensors} tensors, no architecture): give the model's class as "
                f"file.py:Name (NetCost counts the architecture, the weights are not needed)")
    return f"{name} holds a {type(obj).__name__}, not a model"
