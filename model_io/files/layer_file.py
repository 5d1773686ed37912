"""Layer-list files (`netcost.layers/1`): strict loading with the JSON path of any bad field, atomic saving.

The format is a contract (docs/file-formats.md): users write these files by hand and scripts generate them.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from netcost.costing import FormatError, LayerSpec, Network, SpecError
from netcost.costing.args import MAX_SIZE, coerce_args
from netcost.costing.dtypes import canonical_dtype
from netcost.costing.registry import has_kind, kind

from .. import strict_json
from ..safe_read import DOCUMENT_LIMIT, UnreadableFile, read_regular
from . import project_keys

FORMAT = "netcost.layers/1"
_LAYER_KEYS = ("type", "name", "trainable")
_TOP_KEYS = ("format", "name", "input_shape", "batch_size", "dtype", "layers")


def check_format(fmt: Any, current: str, what: str) -> None:
    """`fmt` must be `current` ("netcost.layers/1"): a newer version says to upgrade, anything else what it is not."""
    family = current.rsplit("/", 1)[0] + "/"
    if not isinstance(fmt, str) or not fmt.startswith(family):
        raise FormatError("format", f'{fmt!r} is not {what} (expected "{current}")')
    if fmt != current:
        version = fmt.rsplit("/", 1)[1]
        if version.isdigit() and int(version) > int(current.rsplit("/", 1)[1]):
            raise FormatError("format", f"{fmt!r} is a newer version than this NetCost reads ({current}); "
                                        "upgrade NetCost")
        raise FormatError("format", f"{fmt!r} is not a version this NetCost knows (expected \"{current}\")")


def file_dtype(data: dict) -> str:
    """A layer list's or graph file's "dtype" (float32 when absent), canonical; a FormatError naming the key."""
    try:
        return canonical_dtype(data.get("dtype", "float32"))
    except ValueError as e:
        raise FormatError("dtype", str(e)) from None


def parse_network(data: Any) -> tuple[Network, dict[str, Any]]:
    """Validate a decoded layer-list document; return the network and the extra top-level keys (kept on save)."""
    if not isinstance(data, dict):
        raise FormatError("", "a layer list must be a JSON object")
    fmt = data.get("format")
    if fmt is None:
        raise FormatError("format", f'missing; expected "{FORMAT}"')
    check_format(fmt, FORMAT, "a NetCost layer list")
    name = data.get("name", "untitled")
    if not isinstance(name, str):
        raise FormatError("name", "must be a string")
    shape = data.get("input_shape")
    if shape is None:
        raise FormatError("input_shape", "missing (the input without the batch dim, e.g. [3, 224, 224])")
    if (not isinstance(shape, list) or not shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise FormatError("input_shape", f"{shape!r} must be a non-empty list of positive integers")
    if any(d > MAX_SIZE for d in shape):
        raise FormatError("input_shape", "a size above 2**63 - 1 cannot be built by torch (sizes are int64)")
    batch = data.get("batch_size", 1)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise FormatError("batch_size", f"{batch!r} must be a positive integer")
    if batch > MAX_SIZE:
        raise FormatError("batch_size", "a size above 2**63 - 1 cannot be built by torch (sizes are int64)")
    dtype = file_dtype(data)
    layers = data.get("layers")
    if not isinstance(layers, list):
        raise FormatError("layers", "missing or not a list")
    specs = tuple(parse_layer(item, f"layers[{i}]") for i, item in enumerate(layers))
    extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
    project_keys.check(extra)
    return Network(specs, tuple(shape), name, batch, dtype), extra


def parse_layer(item: Any, path: str) -> LayerSpec:
    if not isinstance(item, dict):
        raise FormatError(path, "a layer must be a JSON object with a 'type'")
    type_ = item.get("type")
    if not isinstance(type_, str):
        raise FormatError(f"{path}.type", "missing or not a string")
    if not has_kind(type_):
        raise FormatError(f"{path}.type", f"unknown layer type {type_!r}")
    name = item.get("name", "")
    if not isinstance(name, str):
        raise FormatError(f"{path}.name", "must be a string")
    trainable = item.get("trainable", True)
    if not isinstance(trainable, bool):
        raise FormatError(f"{path}.trainable", "must be true or false")
    args = {k: v for k, v in item.items() if k not in _LAYER_KEYS}
    k = kind(type_)
    try:
        coerce_args(k.args, args, k.dims)  # type checks only; shape checks happen at evaluation
    except SpecError as e:
        raise FormatError(f"{path}.{e.field}" if e.field else path, e.reason) from None
    return LayerSpec(type_, args, name, trainable)


def network_to_dict(net: Network, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "name": net.name, "input_shape": list(net.input_shape),
                            "batch_size": net.batch_size, "dtype": net.dtype, "layers": []}
    for spec in net.layers:
        item: dict[str, Any] = {"type": spec.type}
        if spec.name:
            item["name"] = spec.name
        item.update({k: list(v) if isinstance(v, tuple) else v for k, v in spec.args.items()})
        if not spec.trainable:
            item["trainable"] = False
        data["layers"].append(item)
    if extra:
        data.update({k: v for k, v in extra.items() if k not in _TOP_KEYS})
    return data


def loads_network(text: str) -> tuple[Network, dict[str, Any]]:
    return parse_network(strict_json.loads(text))


def read_text(path: str | os.PathLike[str]) -> str:
    """A project file's text, or a FormatError saying why it cannot be read (shared by every file format): a regular
    file only, read without blocking and up to model_io.safe_read.DOCUMENT_LIMIT."""
    p = Path(path)
    try:
        raw = read_regular(p, DOCUMENT_LIMIT)
    except UnreadableFile as e:
        raise FormatError("", str(e)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("", f"{p.name} is not a UTF-8 text file") from None


def load_network(path: str | os.PathLike[str]) -> tuple[Network, dict[str, Any]]:
    return loads_network(read_text(path))


# A save takes well under a second; a temporary file this old was left by a save that was killed (kill -9, power).
STALE_TMP_S = 120.0


def temp_pattern(name: str) -> str:
    """The glob of the temporary files `atomic_write` makes for a file called `name`."""
    return f".{glob.escape(name)}.*.tmp"


def remove_stale_temps(folder: str | os.PathLike[str], pattern: str, stale_s: float = STALE_TMP_S) -> int:
    """Delete temporary files matching `pattern` in `folder` older than `stale_s` (best effort); how many went."""
    removed = 0
    now = time.time()
    try:
        candidates = list(Path(folder).glob(pattern))
    except OSError:
        return 0
    for tmp in candidates:
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime > stale_s:
                tmp.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write via a temporary file in the same folder, fsync, then rename: a crash never leaves half a file, and
    what a killed earlier save of the same file left behind is cleaned up. A symbolic link is written through (its
    target is replaced, the link stays), as editors do."""
    p = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    remove_stale_temps(p.parent or ".", temp_pattern(p.name))
    try:  # keep the mode of the file being replaced; a new file gets the usual 0o666 less the umask
        mode = p.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)  # mkstemp creates 0o600: a save must not make the file private
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable (best effort: not every platform can open a folder)
        dir_fd = os.open(p.parent or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save_network(path: str | os.PathLike[str], net: Network, extra: dict[str, Any] | None = None) -> None:
    text = json.dumps(network_to_dict(net, extra), indent=2) + "\n"
    atomic_write(path, text.encode("utf-8"))


