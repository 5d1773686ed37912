"""What the model worker is given from the parent's side: a clean environment, and an opt-in OS sandbox.

Model code runs with the user's rights (it can read what the user can read); it does not need the user's API
tokens, cloud keys, SSH agent or display, so the worker's environment keeps only what Python, torch and the model
caches use.

`NETCOST_SANDBOX` (opt-in) wraps the worker's command line:
    no-network   Linux: `unshare --user --map-root-user --net`: the model's code has no network at all
    any command  a wrapper of your choice that ends by running its arguments, e.g. `firejail --quiet --net=none`
                 or `bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-net --die-with-parent`
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Mapping

SANDBOX_VAR = "NETCOST_SANDBOX"
NO_NETWORK = ["unshare", "--user", "--map-root-user", "--net", "--"]


class SandboxError(ValueError):
    """NETCOST_SANDBOX names something this machine cannot run; one line for the user."""


def sandbox_prefix(env: Mapping[str, str]) -> list[str]:
    """The command words that go before the worker's own, [] without NETCOST_SANDBOX. Raises SandboxError."""
    value = env.get(SANDBOX_VAR, "").strip()
    if not value:
        return []
    if value == "no-network":
        if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
            raise SandboxError(f"{SANDBOX_VAR}=no-network needs Linux's unshare (util-linux)")
        return list(NO_NETWORK)
    try:
        words = shlex.split(value)
    except ValueError as e:
        raise SandboxError(f"{SANDBOX_VAR}: cannot read {value!r} ({e})") from None
    if shutil.which(words[0]) is None:
        raise SandboxError(f"{SANDBOX_VAR}: {words[0]!r} is not a command on this machine")
    return words

KEEP = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "PYTHONPATH",
        "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "SYSTEMROOT", "WINDIR",
        "XDG_CACHE_HOME", "TORCH_HOME", "HF_HOME")
KEEP_PREFIXES = ("LC_", "OMP_", "MKL_", "OPENBLAS_", "TORCH_", "PYTORCH_", "NETCOST_")


def kept_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The part of `env` the worker gets."""
    return {k: v for k, v in env.items() if k in KEEP or k.startswith(KEEP_PREFIXES)}
