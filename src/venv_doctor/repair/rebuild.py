"""Rebuild as a transaction that can be killed at any instant and lose nothing.

    begin -> moving -> (rename old venv into the backup area) -> moved
          -> creating -> installing -> carrying -> verifying -> verified -> committed

The journal's step is written *before* each action. Until "verified", recovery
(or a failure) removes whatever stands at the venv's path and renames the old
venv back: the result is byte-for-byte the old venv. From "verified" on, the new
venv is kept. The old venv is moved with ``rename`` only, never copied and
deleted, so at every instant one complete copy exists.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import atomic_write, ensure_private_dir
from venv_doctor.repair import carryover
from venv_doctor.repair.journal import (
    STEPS,
    Entry,
    Journal,
    JournalAction,
    JournalOutcome,
    JournalStep,
)
from venv_doctor.repair.locks import LockedError, venv_lock
from venv_doctor.runner import CANCEL

MANIFEST = "venv-doctor-backup.json"
PAUSE_ENV = "VENV_DOCTOR_TEST_PAUSE_AT"  # test hook: stop at a step so a test can kill us


class RebuildError(VenvDoctorError):
    """The rebuild failed and was rolled back; the old venv is back in place."""


@dataclass(frozen=True)
class RebuildSteps:
    """The effects a rebuild runs; each raises on failure."""

    create: Callable[[Path], None]  # make a fresh venv at the path
    install: Callable[[Path], None]  # install the recorded requirements into it
    verify: Callable[[Path], str | None]  # None when healthy, else why not


@dataclass(frozen=True)
class RebuildResult:
    backup: Path
    carried_over: tuple[str, ...]
    kept_new: tuple[str, ...] = ()
    edited_activate: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _checkpoint(journal: Journal, entry_id: int, step: JournalStep) -> None:
    journal.step(entry_id, step)
    if os.environ.get(PAUSE_ENV) == step:
        marker = os.environ.get(PAUSE_ENV + "_FILE")
        if marker:
            Path(marker).write_text(f"{os.getpid()} {step}\n", encoding="utf-8")
        # stand in for a long step: killable, and cancellable like a real subprocess
        if CANCEL.wait(3600):
            raise RebuildError(f"cancelled at step {step.value!r} (venv-doctor is stopping)")


def backup_path(backups: Path, venv: Path, entry_hint: str) -> Path:
    """A slot for the old venv on the same file system (``rename`` must not copy)."""
    ensure_private_dir(backups)
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{entry_hint}-{venv.name}"
    if os.stat(backups).st_dev == os.stat(venv.parent).st_dev:
        return _unused(backups, name)
    # another file system: keep the backup beside the venv, hidden from store scans
    return _unused(venv.parent, f".{venv.name}.venv-doctor-backup-{name}")


def _unused(directory: Path, name: str) -> Path:
    """``name`` in ``directory``, numbered when a backup of the same second is there
    (a second rebuild within a second must not fail on the first one's backup)."""
    slot, n = directory / name, 1
    while os.path.lexists(slot) or os.path.lexists(slot.with_name(slot.name + ".json")):
        n += 1
        slot = directory / f"{name}-{n}"
    return slot


def _write_manifest(backup: Path, venv: Path, entry_id: int) -> None:
    info = {"schema_version": 1, "venv": str(venv), "journal_id": entry_id, "at": time.time()}
    atomic_write(backup.parent / f"{backup.name}.json", json.dumps(info) + "\n", mode=0o600)


def _discard(path: Path, venv: Path) -> None:
    """Remove a half-made new venv at ``venv`` (never anything else)."""
    if os.path.realpath(path) != os.path.realpath(venv) and path != venv:
        raise RebuildError(f"refusing to remove {path}: it is not {venv}")
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def rollback(journal: Journal, entry: Entry, reason: str) -> None:
    """Put the old venv back at its path; idempotent, so recovery can repeat it."""
    if entry.action is JournalAction.RECREATE:
        if os.path.lexists(entry.venv):
            _discard(entry.venv, entry.venv)  # it did not exist before we began
    elif entry.backup.exists() or entry.backup.is_symlink():
        if os.path.lexists(entry.venv):
            _discard(entry.venv, entry.venv)
        entry.backup.rename(entry.venv)
    manifest = entry.backup.parent / f"{entry.backup.name}.json"
    if manifest.exists():
        manifest.unlink()
    journal.finish(entry.id, JournalOutcome.ROLLED_BACK, reason)


def recover(journal: Journal, locks_dir: Path | None = None) -> list[tuple[Entry, JournalOutcome]]:
    """Finish every interrupted transaction: back before "verified", forward after.

    With ``locks_dir``, an entry whose venv lock is held belongs to a repair
    that is still running in another process, and is left alone.
    """
    done = []
    for entry in journal.open_entries():
        if locks_dir is None:
            done.append((entry, _recover_one(journal, entry)))
            continue
        try:
            with venv_lock(locks_dir, entry.venv, wait=False):
                done.append((entry, _recover_one(journal, entry)))
        except LockedError:
            continue
    return done


def _recover_one(journal: Journal, entry: Entry) -> JournalOutcome:
    if entry.action is JournalAction.RESTORE:
        return _recover_restore(journal, entry)
    if STEPS.index(entry.step) >= STEPS.index(JournalStep.VERIFIED):
        journal.finish(
            entry.id, JournalOutcome.COMMITTED, "recovered: the new venv had been verified"
        )
        return JournalOutcome.COMMITTED
    rollback(journal, entry, f"recovered: interrupted at step {entry.step.value!r}")
    return JournalOutcome.ROLLED_BACK


def rebuild(
    venv: Path,
    backups: Path,
    journal: Journal,
    steps: RebuildSteps,
    action: JournalAction = JournalAction.REBUILD,
) -> RebuildResult:
    """Replace ``venv`` with a rebuilt one, keeping the old one as a backup."""
    backup = backup_path(backups, venv, action)
    entry_id = journal.begin(venv, backup, action)
    entry = Entry(entry_id, venv, backup, action, JournalStep.BEGIN, time.time())
    try:
        _checkpoint(journal, entry_id, JournalStep.MOVING)
        _write_manifest(backup, venv, entry_id)
        venv.rename(backup)
        _checkpoint(journal, entry_id, JournalStep.MOVED)
        return _build(venv, backup, journal, entry_id, steps)
    except BaseException as exc:  # KeyboardInterrupt/SIGTERM too: never leave it half done
        rollback(journal, entry, f"{type(exc).__name__}: {exc}")
        if isinstance(exc, VenvDoctorError | OSError):
            raise RebuildError(
                f"rebuilding {venv} failed and was rolled back: {getattr(exc, 'message', exc)}",
                hint=getattr(exc, "hint", None),
            ) from exc
        raise


def _build(
    venv: Path, backup: Path, journal: Journal, entry_id: int, steps: RebuildSteps
) -> RebuildResult:
    _checkpoint(journal, entry_id, JournalStep.CREATING)
    steps.create(venv)
    _checkpoint(journal, entry_id, JournalStep.INSTALLING)
    steps.install(venv)
    _checkpoint(journal, entry_id, JournalStep.CARRYING)
    carry = carryover.plan(backup, venv)
    carried = carryover.apply(carry)
    _checkpoint(journal, entry_id, JournalStep.VERIFYING)
    problem = steps.verify(venv)
    if problem:
        raise RebuildError(f"the rebuilt venv does not verify: {problem}")
    _checkpoint(journal, entry_id, JournalStep.VERIFIED)
    journal.finish(entry_id, JournalOutcome.COMMITTED)
    return RebuildResult(backup, tuple(carried), carry.kept_new, carry.edited_activate)


def recreate(venv: Path, journal: Journal, steps: RebuildSteps) -> None:
    """Make a venv that vanished (pyenv uninstall) from its snapshot; nothing to back up."""
    if os.path.lexists(venv):
        raise RebuildError(f"{venv} exists: rebuild it instead of recreating it")
    entry_id = journal.begin(venv, venv.parent / f".{venv.name}.none", JournalAction.RECREATE)
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
        _checkpoint(journal, entry_id, JournalStep.CREATING)
        steps.create(venv)
        _checkpoint(journal, entry_id, JournalStep.INSTALLING)
        steps.install(venv)
        _checkpoint(journal, entry_id, JournalStep.VERIFYING)
        problem = steps.verify(venv)
        if problem:
            raise RebuildError(f"the recreated venv does not verify: {problem}")
        journal.finish(entry_id, JournalOutcome.COMMITTED)
    except BaseException as exc:
        if os.path.lexists(venv):
            _discard(venv, venv)
        journal.finish(entry_id, JournalOutcome.ROLLED_BACK, str(exc))
        raise


def restore(venv: Path, kept: Path, backups: Path, journal: Journal) -> Path | None:
    """Put the backup ``kept`` back at ``venv``; the venv there now becomes a backup.

    Two renames, journaled: "moving" (current venv aside), then "moved" (backup
    into place). Returns where the replaced venv was kept, if there was one.
    """
    aside = (
        backup_path(backups, venv, "replaced")
        if venv.exists()
        else venv.parent / f".{venv.name}.none"
    )
    entry_id = journal.begin(venv, aside, JournalAction.RESTORE)
    _checkpoint(journal, entry_id, JournalStep.MOVING)
    if venv.exists():
        _write_manifest(aside, venv, entry_id)
        venv.rename(aside)
    _checkpoint(journal, entry_id, JournalStep.MOVED)
    kept.rename(venv)
    kept.parent.joinpath(f"{kept.name}.json").unlink(missing_ok=True)
    journal.finish(entry_id, JournalOutcome.COMMITTED, f"restored from {kept}")
    return aside if aside.exists() else None


def _recover_restore(journal: Journal, entry: Entry) -> JournalOutcome:
    """Both renames done: commit. Only the first: move the current venv back."""
    if os.path.lexists(entry.venv):
        journal.finish(
            entry.id, JournalOutcome.COMMITTED, "recovered: the backup was already in place"
        )
        return JournalOutcome.COMMITTED
    if entry.backup.exists():
        entry.backup.rename(entry.venv)
    journal.finish(
        entry.id, JournalOutcome.ROLLED_BACK, f"recovered: interrupted at step {entry.step.value!r}"
    )
    return JournalOutcome.ROLLED_BACK
