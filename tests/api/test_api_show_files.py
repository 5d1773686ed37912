"""`show`'s graph files do not pile up: one never saved into is removed two weeks after it was written; one a
window saved edits into, or a recent one, stays."""

from __future__ import annotations

import os
import time
from pathlib import Path

from netcost.window import KEEP_DAYS, prune_shown


def _shown(folder: Path, written: float, modified: float, name: str) -> Path:
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(written))}-{name}-abc123.json"
    path.write_text("{}")
    path.with_suffix(".log").write_text("")
    os.utime(path, (modified, modified))
    return path


def test_old_unsaved_files_go_and_saved_or_recent_ones_stay(tmp_path: Path) -> None:
    now = time.time()
    old = now - (KEEP_DAYS + 1) * 86400
    stale = _shown(tmp_path, old, old + 1, "stale")
    saved = _shown(tmp_path, old, old + 3600, "saved")  # the window saved edits into it an hour later
    recent = _shown(tmp_path, now - 86400, now - 86400, "recent")
    (tmp_path / "notes.json").write_text("{}")  # not show's: no time stamp
    os.utime(tmp_path / "notes.json", (old, old))
    assert prune_shown(tmp_path, now) == [stale]
    assert not stale.exists() and not stale.with_suffix(".log").exists()
    assert saved.exists() and recent.exists() and (tmp_path / "notes.json").exists()
