"""What the model worker is given from the parent's side: a clean environment.

Model code runs with the user's rights (it can read what the user can read); it does not need the user's API
tokens, cloud keys, SSH agent or display, so the worker's environment keeps only what Python, torch and the model
caches use.
"""

from __future__ import annotations

from collections.abc import Mapping

KEEP = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "PYTHONPATH",
        "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "SYSTEMROOT", "WINDIR",
        "XDG_CACHE_HOME", "TORCH_HOME", "HF_HOME")
KEEP_PREFIXES = ("LC_", "OMP_", "MKL_", "OPENBLAS_", "TORCH_", "PYTORCH_", "NETCOST_")


def kept_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The part of `env` the worker gets."""
    return {k: v for k, v in env.items() if k in KEEP or k.startswith(KEEP_PREFIXES)}
