"""What a model file's reference is refused for before anything loads it: a missing file, layer edits on a format
that has no Python code, and a `.pt`/`.pt2` whose bytes are another format. Standard library only (no torch): the
worker's importers run these checks first, and the CLI and the app run the same ones in-process, so that a file
that is not what its extension says gets the worker's exact message without a worker being started.

`refusal(ref, has_edits)` is the first refusal the worker would make for the reference, before it needs torch.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import FailureKind, LoadFailure
from ..file_kinds import LEGACY_TORCH_SAVE_HEAD, FileKind, is_torchscript, sniff
from ..model_ref import ModelRef, RefKind

# what layer edits (re-tracing an edited graph) cannot be applied to: no Python modules to swap
NOT_EDITABLE = {RefKind.ONNX: "an ONNX file", RefKind.EXPORT: "a torch.export program"}


def check_edits(ref: ModelRef, has_edits: bool) -> None:
    """LoadFailure when layer edits are asked of a format that has no Python code to apply them to."""
    if has_edits and ref.kind in NOT_EDITABLE:
        raise LoadFailure(f"{ref.label()}: layer edits can only be applied to a model's Python code, not to "
                          f"{NOT_EDITABLE[ref.kind]}", kind=FailureKind.USAGE)


def must_be_file(path: str) -> None:
    if not Path(path).is_file():
        raise LoadFailure(f"{path}: no such file", kind=FailureKind.USAGE)


def check_torch_file(path: str) -> tuple[bool, FileKind]:
    """(whether it is TorchScript, what it holds) for a `.pt`/`.pth`; LoadFailure when it is neither a TorchScript
    archive nor a torch.save file by its bytes (what torch would load is the worker's to judge)."""
    must_be_file(path)
    if is_torchscript(path):
        return True, FileKind.TORCHSCRIPT
    name = Path(path).name
    what = sniff(path)
    if what is FileKind.EXPORT:
        raise LoadFailure(f"{name} holds {what.words}", kind=FailureKind.FORMAT)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(2)
        if head != LEGACY_TORCH_SAVE_HEAD:
            holds = f"; it holds {what.words}" if what is not FileKind.UNKNOWN else ""
            raise LoadFailure(f"{name} is not a TorchScript archive or a torch.save file (its extension says "
                              f"PyTorch, its content does not{holds})", kind=FailureKind.FORMAT)
    return False, what


def check_export_file(path: str) -> None:
    """LoadFailure when a `.pt2` is by its bytes something else than a torch.export program."""
    must_be_file(path)
    what = sniff(path)
    if what not in (FileKind.UNKNOWN, FileKind.EXPORT):
        raise LoadFailure(f"{Path(path).name} is not a torch.export program: it holds {what.words}",
                          kind=FailureKind.FORMAT)


_FILE_CHECKS = {RefKind.TORCHSCRIPT: check_torch_file, RefKind.EXPORT: check_export_file, RefKind.ONNX: must_be_file}


def refusal(ref: ModelRef, has_edits: bool) -> LoadFailure | None:
    """The first refusal the worker would make for `ref` (its file path absolute, as the worker gets it) before it
    needs torch or the model's code, or None when only the worker can tell."""
    try:
        check_edits(ref, has_edits)
        check = _FILE_CHECKS.get(ref.kind)
        if check is not None:
            check(ref.path)
    except LoadFailure as e:
        return e
    return None
