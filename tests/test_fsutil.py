from __future__ import annotations

import os
import time
from pathlib import Path

from venv_doctor.fsutil import OWNER_LOCK, remove_dead_temp_dirs, run_temp_dir


def test_temp_dirs_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    parent = tmp_path / "tmp"
    dead = parent / "run-1-dead"
    dead.mkdir(parents=True)
    (dead / OWNER_LOCK).touch()  # its owner was killed: the lock is free
    (dead / "pip-unpack-x").mkdir()
    lockless = parent / "run-2-old"
    lockless.mkdir()
    old = time.time() - 3600
    os.utime(lockless, (old, old))
    with run_temp_dir(parent) as live:
        (live / "requirements.txt").write_text("x==1\n")
        assert sorted(remove_dead_temp_dirs(parent)) == [dead, lockless]
        assert (live / "requirements.txt").exists()
    assert not live.exists()
    assert list(parent.iterdir()) == []
