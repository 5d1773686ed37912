"""Whether a tiny tmpfs can be mounted in a private user and mount namespace (`unshare`): the tests and the
reliability bench that fill a disk or make it read-only need one; as root, chmod alone does not stop a write."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys


@functools.cache
def tmpfs_in_namespace(options: str = "size=16k") -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                               f"mount -t tmpfs -o {options} tmpfs /mnt"], capture_output=True, timeout=10
                              ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
