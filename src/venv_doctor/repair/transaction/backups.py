"""Kept backups of rebuilt venvs: where they go, listing, restoring and pruning them.

A backup is the old venv itself, moved by one ``rename`` (never copied), so it
must be on the venv's file system: the state directory's ``backups`` when it
is, else a ``.venv-doctor-backups`` directory beside the venv (hidden from
store scans; for a pipx app or uv tool, beside its store's directory instead, which
the owner lists as its own). Each backup has a manifest ``<backup>.json`` beside it whose
``complete`` flag is written last, when the rebuild committed: only a complete
backup is listed, restored or weighed by ``gc``. ``gc`` clears the flag first,
renames the backup into the area's ``.trash`` and only then deletes it, so a
``gc`` cut short leaves nothing that looks restorable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import atomic_write, ensure_private_dir, read_json
from venv_doctor.model.venv import is_venv_dir
from venv_doctor.paths import BACKUP_AREA_BESIDE
from venv_doctor.repair.transaction import carryover
from venv_doctor.repair.transaction.journal import Entry, Journal, JournalAction

TRASH = ".trash"


@dataclass(frozen=True)
class Backup:
    id: int
    venv: Path
    path: Path
    taken_at: float

    @property
    def age_days(self) -> float:
        return (time.time() - self.taken_at) / 86400


# Owners that take every directory beside their venvs for one of theirs: `pipx list`
# fails on a directory in venvs/ that is not an app, uv warns about one in tools/
_LISTED_BY_OWNER = ("pipx_metadata.json", "uv-receipt.toml")


def area_for(backups: Path, venv: Path) -> Path:
    """The backup area for ``venv``: ``backups`` when it is on the venv's file
    system (``rename`` must not copy), else ``.venv-doctor-backups`` beside it (one
    level up for a pipx app or uv tool, out of the directory its owner lists)."""
    ensure_private_dir(backups)
    if os.stat(backups).st_dev == os.stat(venv.parent).st_dev:
        return backups
    return ensure_private_dir(_beside(venv) / BACKUP_AREA_BESIDE)


def _beside(venv: Path) -> Path:
    parent = venv.parent
    listed = any(os.path.lexists(venv / name) for name in _LISTED_BY_OWNER)
    if listed and os.stat(parent.parent).st_dev == os.stat(parent).st_dev:
        return parent.parent
    return parent


def backup_path(backups: Path, venv: Path, entry_hint: str) -> Path:
    """A free slot for the old venv in its backup area."""
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{entry_hint}-{venv.name}"
    return unused_slot(area_for(backups, venv), name)


def unused_slot(directory: Path, name: str) -> Path:
    """``name`` in ``directory``, numbered when a backup of the same second is there
    (a second rebuild within a second must not fail on the first one's backup)."""
    slot, n = directory / name, 1
    while os.path.lexists(slot) or os.path.lexists(manifest_of(slot)):
        n += 1
        slot = directory / f"{name}-{n}"
    return slot


def manifest_of(backup: Path) -> Path:
    return backup.parent / f"{backup.name}.json"


def write_manifest(backup: Path, venv: Path, entry_id: int, *, complete: bool = False) -> None:
    info = {
        "schema_version": 1,
        "venv": str(venv),
        "journal_id": entry_id,
        "at": time.time(),
        "complete": complete,
    }
    atomic_write(manifest_of(backup), json.dumps(info) + "\n", mode=0o600)


def mark_complete(backup: Path) -> None:
    """The last write of a transaction that keeps ``backup``: from now on it is restorable."""
    info = _manifest(backup) or {}
    info["complete"] = True
    atomic_write(manifest_of(backup), json.dumps(info) + "\n", mode=0o600)


def _manifest(backup: Path) -> dict[str, Any] | None:
    try:
        data = read_json(manifest_of(backup), follow_symlinks=False)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete(backup: Path) -> bool:
    """Usable for ``restore``: its manifest says so (manifests from before the flag
    have none), and it is a real directory that is still a venv."""
    if backup.is_symlink() or not backup.is_dir() or not is_venv_dir(backup):
        return False
    info = _manifest(backup)
    return info is not None and info.get("complete", True) is True


_KEEPS_BACKUP = (JournalAction.REBUILD, JournalAction.RESTORE)


def kept(journal: Journal) -> list[Backup]:
    """Complete backups of committed rebuilds (and restores), oldest first."""
    return [
        _backup(e)
        for e in journal.kept_backups()
        if e.action in _KEEPS_BACKUP and is_complete(e.backup)
    ]


def _backup(entry: Entry) -> Backup:
    return Backup(entry.id, entry.venv, entry.backup, entry.started_at)


def only_copies(backup: Backup) -> tuple[str, ...]:
    """Files in ``backup`` its venv does not have (as they were): what deleting it loses."""
    if not backup.venv.is_dir():
        return ("(the whole venv: it is no longer at its path)",)
    carry = carryover.plan(backup.path, backup.venv)
    return (
        *(str(src.relative_to(backup.path)) for src, _ in carry.copies),
        *carry.left_behind,
    )


@dataclass(frozen=True)
class Pruned:
    removed: list[Backup] = field(default_factory=list)  # removed (or, dry run, to remove)
    holding: list[tuple[Backup, tuple[str, ...]]] = field(default_factory=list)
    failed: list[tuple[Backup, str]] = field(default_factory=list)


def prune(
    journal: Journal, keep_days: float, *, dry_run: bool = False, force: bool = False
) -> Pruned:
    """Remove backups older than ``keep_days``. One that holds files its venv lacks
    is kept and listed in ``holding`` unless ``force`` (then removed and listed)."""
    result = Pruned()
    for backup in kept(journal):
        if backup.age_days < keep_days:
            continue
        lost = only_copies(backup)
        if lost:
            result.holding.append((backup, lost))
            if not force:
                continue
        if dry_run:
            result.removed.append(backup)
            continue
        try:
            remove(backup.path)
        except OSError as exc:
            result.failed.append((backup, f"{exc.strerror or exc}: {exc.filename or backup.path}"))
            continue
        result.removed.append(backup)
    for area in {e.backup.parent for e in journal.kept_backups() if e.action in _KEEPS_BACKUP}:
        empty_trash(area)
    return result


def remove(backup: Path) -> None:
    """Clear the completion flag, move the backup into the trash, then delete it."""
    manifest_of(backup).unlink(missing_ok=True)
    trash = ensure_private_dir(backup.parent / TRASH)
    gone = unused_slot(trash, backup.name)
    backup.rename(gone)
    shutil.rmtree(gone)


def empty_trash(area: Path) -> None:
    """Finish deletions a ``gc`` cut short (in venv-doctor's own areas only)."""
    if area.name not in (BACKUP_AREA_BESIDE, "backups"):
        return
    trash = area / TRASH
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(trash):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
