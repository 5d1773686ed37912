"""Where devices come from besides the presets: the user's own file and the calibration cache of this machine.

    $XDG_CONFIG_HOME/netcost/devices.json     (default ~/.config)  the user's devices, same shape as
                                                                  `netcost devices --format json`
    $XDG_CACHE_HOME/netcost/calibration.json  (default ~/.cache)   `netcost devices --calibrate` writes it

No torch here: listing devices and estimating latency never start it.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from netcost.costing import FormatError
from netcost.costing.devices import PRESETS, Device, DeviceError, find_device, merge, parse_devices

from .. import strict_json
from ..safe_read import SMALL_LIMIT, UnreadableFile, read_regular_text

CALIBRATION_FORMAT = "netcost.calibration/1"


def _base(var: str, default: str) -> Path:
    value = os.environ.get(var, "").strip()
    return Path(value) if value and os.path.isabs(value) else Path.home() / default  # XDG: relative is invalid


def user_devices_path() -> Path:
    return _base("XDG_CONFIG_HOME", ".config") / "netcost" / "devices.json"


def calibration_path() -> Path:
    return _base("XDG_CACHE_HOME", ".cache") / "netcost" / "calibration.json"


def machine_fingerprint() -> dict[str, Any]:
    """What a calibration is valid for: a cache copied to another machine (or after a CPU change) is ignored."""
    return {"node": platform.node(), "machine": platform.machine(), "cpu": _cpu_model(), "cpus": os.cpu_count()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def load_user_devices() -> tuple[Device, ...]:
    """The user's devices (none when the file does not exist); DeviceError names a bad file or field."""
    path = user_devices_path()
    if not os.path.lexists(path):
        return ()
    try:  # a regular file only, bounded: a FIFO there must not hang the CLI or the window
        data = strict_json.loads(read_regular_text(path, SMALL_LIMIT))
    except UnreadableFile as e:
        raise DeviceError(str(e)) from None
    except FormatError as e:  # invalid, nested too deeply, a number too long for Python
        raise DeviceError(f"{path}: {e.reason}") from None
    return parse_devices(data, str(path))


def load_calibration() -> tuple[Device, ...]:
    """This machine's calibrated devices, or () when there is no valid cache for this machine."""
    try:
        data = strict_json.loads(read_regular_text(calibration_path(), SMALL_LIMIT))
        if data.get("format") != CALIBRATION_FORMAT or data.get("fingerprint") != machine_fingerprint():
            return ()
        return parse_devices(data, str(calibration_path()))
    except (OSError, ValueError, AttributeError, DeviceError, FormatError):  # absent, damaged or stale: calibrate again
        return ()


def save_calibration(devices: tuple[Device, ...]) -> Path:
    from .layer_file import atomic_write

    path = calibration_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": CALIBRATION_FORMAT, "fingerprint": machine_fingerprint(),
            "devices": [d.as_dict() for d in devices]}
    atomic_write(str(path), (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    return path


def all_devices() -> tuple[Device, ...]:
    """Presets, then this machine's calibration, then the user's file (a later one replaces a same-named one)."""
    return merge(PRESETS, load_calibration(), load_user_devices())


def devices_or_error() -> tuple[tuple[Device, ...], str]:
    """all_devices(), or for a broken user file the others and the file's one-line error (the app keeps going)."""
    try:
        return all_devices(), ""
    except DeviceError as e:
        return merge(PRESETS, load_calibration()), str(e)


def lookup(name: str) -> Device:
    """The device called `name` among all_devices(); DeviceError otherwise."""
    return find_device(name, all_devices())
