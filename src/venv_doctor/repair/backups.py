"""Kept backups of rebuilt venvs: listing, restoring and pruning them."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.repair.journal import Entry, Journal


@dataclass(frozen=True)
class Backup:
    id: int
    venv: Path
    path: Path
    taken_at: float

    @property
    def age_days(self) -> float:
        return (time.time() - self.taken_at) / 86400


def kept(journal: Journal) -> list[Backup]:
    """Backups of committed rebuilds that are still on disk, oldest first."""
    return [
        _backup(e)
        for e in journal.kept_backups()
        if e.backup.is_dir() and not e.backup.is_symlink()
    ]


def _backup(entry: Entry) -> Backup:
    return Backup(entry.id, entry.venv, entry.backup, entry.started_at)


def prune(journal: Journal, keep_days: float) -> list[Backup]:
    """Delete backups older than ``keep_days``; returns what was removed."""
    removed = []
    for backup in kept(journal):
        if backup.age_days < keep_days:
            continue
        shutil.rmtree(backup.path)
        manifest = backup.path.parent / f"{backup.path.name}.json"
        manifest.unlink(missing_ok=True)
        removed.append(backup)
    return removed
