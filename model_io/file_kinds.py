"""What a file really holds, judged from its first bytes and zip listing (nothing is loaded, no torch). The bottom
layer: imports nothing of model_io.

`sniff(path)` returns a `FileKind`; messages say it with `kind.words` ("a torch.save file"), so that a file whose
extension lies is named for what it is (`export.pt holds a torch.export program (use the .pt2 extension)`).
"""

from __future__ import annotations

import zipfile
from enum import Enum


class FileKind(Enum):
    UNKNOWN = "unknown"  # unreadable, or bytes NetCost does not recognise: messages say nothing of it
    DAMAGED_ZIP = "damaged-zip"
    TORCHSCRIPT = "torchscript"
    EXPORT = "export"  # a torch.export program
    TORCH_SAVE = "torch-save"
    ZIP = "zip"  # some other zip archive
    TORCH_SAVE_LEGACY = "torch-save-legacy"
    EMPTY = "empty"
    JSON = "json"
    TEXT = "text"

    @property
    def words(self) -> str:
        """How a message says what the file holds ("" for UNKNOWN)."""
        return _WORDS[self]


_WORDS = {
    FileKind.UNKNOWN: "",
    FileKind.DAMAGED_ZIP: "a damaged zip archive",
    FileKind.TORCHSCRIPT: "a TorchScript archive (use the .pt extension)",
    FileKind.EXPORT: "a torch.export program (use the .pt2 extension)",
    FileKind.TORCH_SAVE: "a torch.save file",
    FileKind.ZIP: "a zip archive",
    FileKind.TORCH_SAVE_LEGACY: "a torch.save file (legacy format)",
    FileKind.EMPTY: "nothing (the file is empty)",
    FileKind.JSON: "JSON text (a layer list must have the .json extension)",
    FileKind.TEXT: "text",
}
LEGACY_TORCH_SAVE_HEAD = b"\x80\x02"  # the legacy torch.save format starts with a pickle protocol 2 header


def sniff(path: str) -> FileKind:
    """What `path` holds, from its first 512 bytes and, for a zip archive, the names it lists."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return FileKind.UNKNOWN
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            return FileKind.DAMAGED_ZIP
        if _lists_torchscript(names):
            return FileKind.TORCHSCRIPT
        if any(n.endswith(("models/model.json", "archive_format", "serialized_exported_program.json"))
               for n in names):
            return FileKind.EXPORT
        if any(n.endswith("data.pkl") for n in names):
            return FileKind.TORCH_SAVE
        return FileKind.ZIP
    if head[:2] == LEGACY_TORCH_SAVE_HEAD:
        return FileKind.TORCH_SAVE_LEGACY
    if not head.strip():
        return FileKind.EMPTY
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        return FileKind.JSON
    if b"\0" not in head and all(32 <= c < 127 or c in b"\t\r\n" for c in head[:200]):
        return FileKind.TEXT
    return FileKind.UNKNOWN


def is_torchscript(path: str) -> bool:
    """Whether `path` is a zip archive holding TorchScript code."""
    try:
        with zipfile.ZipFile(path) as z:
            return _lists_torchscript(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _lists_torchscript(names: list[str]) -> bool:
    return any("/code/" in n or n.startswith("code/") for n in names)
