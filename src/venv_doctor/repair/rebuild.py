"""Rebuild as a transaction that can be killed at any instant and lose nothing.

    begin -> moving -> (rename old venv into the backup area) -> moved
          -> creating -> installing -> carrying -> verifying -> verified -> committed

The journal's step is written *before* each action, and the entry records the
process group of the rebuild's children before the first one starts. Until
"verified", recovery (or a failure) first ends that group, then removes the new
venv it made (the directory whose device and inode it journaled, holding its
marker file) and renames the old venv back: the result is byte-for-byte the old
venv. Anything else found at the venv's path (a venv the user made there after a
crash) is moved into the backup area, never deleted; after a recreate, which had
nothing to put back, it stays where it is. From "verified" on, the new
venv is kept. The old venv is moved with ``rename`` only, never copied and
deleted, so at every instant one complete copy exists.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from venv_doctor import runner
from venv_doctor.errors import VenvDoctorError
from venv_doctor.model.venv import is_venv_dir
from venv_doctor.repair.transaction import carryover
from venv_doctor.repair.transaction.backups import (
    backup_path,
    is_complete,
    manifest_of,
    mark_complete,
    unused_slot,
    write_manifest,
)
from venv_doctor.repair.transaction.journal import (
    STEPS,
    Entry,
    Journal,
    JournalAction,
    JournalOutcome,
    JournalStep,
)
from venv_doctor.repair.transaction.locks import LockedError, venv_lock
from venv_doctor.runner import CANCEL, end_group

MARKER_PREFIX = ".venv-doctor-txn-"  # carryover never carries it
PAUSE_ENV = "VENV_DOCTOR_TEST_PAUSE_AT"  # test hook: stop at a step so a test can kill us


class RebuildError(VenvDoctorError):
    """The rebuild failed and was rolled back; the old venv is back in place."""


@dataclass(frozen=True)
class Pause:
    """A test hook: stop at ``step`` (writing ``marker``) so a test can kill the rebuild
    there. Read from the environment the front door was given (``PAUSE_ENV``)."""

    step: str | None = None
    marker: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Pause:
        return cls(env.get(PAUSE_ENV), env.get(PAUSE_ENV + "_FILE"))


@dataclass(frozen=True)
class RebuildSteps:
    """The effects a rebuild runs; each raises on failure."""

    create: Callable[[Path], None]  # make a fresh venv at the path
    install: Callable[[Path], None]  # install the recorded requirements into it
    verify: Callable[[Path], str | None]  # None when healthy, else why not
    pause: Pause = Pause()


@dataclass(frozen=True)
class RebuildResult:
    backup: Path
    carried_over: tuple[str, ...]
    kept_new: tuple[str, ...] = ()
    edited_activate: tuple[str, ...] = ()
    uncopyable: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    path: Path | None = None  # where the rebuilt venv is


def _checkpoint(journal: Journal, entry_id: int, step: JournalStep, pause: Pause) -> None:
    journal.step(entry_id, step)
    if pause.step == step:
        if pause.marker:
            Path(pause.marker).write_text(f"{os.getpid()} {step}\n", encoding="utf-8")
        # stand in for a long step: killable, and cancellable like a real subprocess
        if CANCEL.wait(3600):
            raise RebuildError(f"cancelled at step {step.value!r} (venv-doctor is stopping)")


def _discard(path: Path, venv: Path) -> None:
    """Remove a half-made new venv at ``venv`` (never anything else)."""
    if os.path.realpath(path) != os.path.realpath(venv) and path != venv:
        raise RebuildError(f"refusing to remove {path}: it is not {venv}")
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def marker(venv: Path, entry_id: int) -> Path:
    """Written into the new venv once its creator ran; removed at commit."""
    return venv / f"{MARKER_PREFIX}{entry_id}"


def made_by(entry: Entry, path: Path) -> bool:
    """``path`` is the directory this transaction made: the device and inode it
    recorded and, once the creator has run, its marker file."""
    if entry.made is None:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or (st.st_dev, st.st_ino) != entry.made:
        return False
    creating = STEPS.index(entry.step) <= STEPS.index(JournalStep.CREATING)
    return creating or os.path.lexists(marker(path, entry.id))


def _move_aside(entry: Entry) -> Path:
    """Keep what someone else put at the venv's path: renamed into the backup area."""
    area = entry.backup.parent
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-found-at-{entry.venv.name}"
    slot = unused_slot(area, name)
    entry.venv.rename(slot)
    return slot


def rollback(journal: Journal, entry: Entry, reason: str) -> Path | None:
    """Put the old venv back at its path; idempotent, so recovery can repeat it.

    First no process of the repair may still be running (its group is ended). The new
    venv (at the old path, or at ``entry.dest`` for a venv its owner names for its
    minor) is deleted only if this transaction made it; anything else standing at the
    old path is moved into the backup area and its new place returned (after a recreate
    it stays: there is nothing to put back). The owner's
    records were not touched: they change only at commit.
    """
    if entry.group is not None:
        end_group(entry.group)
    moved = None
    restoring = entry.action is not JournalAction.RECREATE and os.path.lexists(entry.backup)
    clearing = restoring or entry.action is JournalAction.RECREATE
    if clearing and os.path.lexists(entry.at) and made_by(entry, entry.at):
        _discard(entry.at, entry.at)
    # a recreate had nothing to put back: what stands there now (the owner made it again
    # after the crash: `pipx install`) stays, and no backup area lands in the owner's store
    if restoring and os.path.lexists(entry.venv):
        moved = _move_aside(entry)
    if restoring:
        entry.backup.rename(entry.venv)
    manifest_of(entry.backup).unlink(missing_ok=True)
    if moved is not None:
        reason += f"; what stood at {entry.venv} was not venv-doctor's and was moved to {moved}"
    journal.finish(entry.id, JournalOutcome.ROLLED_BACK, reason)
    return moved


@dataclass(frozen=True)
class Recovered:
    entry: Entry
    outcome: JournalOutcome | None  # None: left open (its processes could not be ended)
    note: str = ""


def recover(journal: Journal, locks_dir: Path | None = None) -> list[Recovered]:
    """Finish every interrupted transaction: back before "verified", forward after.

    With ``locks_dir``, an entry whose venv lock is held belongs to a repair
    that is still running in another process, and is left alone.
    """
    done = []
    for entry in journal.open_entries():
        if locks_dir is None:
            done.append(_recover_one(journal, entry))
            continue
        try:
            with venv_lock(locks_dir, entry.venv, wait=False):
                done.append(_recover_one(journal, entry))
        except LockedError:
            continue
    return done


def _recover_one(journal: Journal, entry: Entry) -> Recovered:
    try:
        if entry.action is JournalAction.RESTORE:
            return Recovered(entry, _recover_restore(journal, entry))
        if entry.action is JournalAction.RELINK:
            from venv_doctor.repair import relink

            return Recovered(entry, relink.recover(journal, entry))
        if STEPS.index(entry.step) >= STEPS.index(JournalStep.VERIFIED):
            if entry.group is not None:
                end_group(entry.group)
            message = "recovered: it had been verified"
            _commit(journal, entry, message)
            return Recovered(entry, JournalOutcome.COMMITTED)
        moved = rollback(journal, entry, f"recovered: interrupted at step {entry.step.value!r}")
    except VenvDoctorError as exc:
        return Recovered(entry, None, exc.message)
    note = f"what stood at {entry.venv} was moved to {moved}" if moved else ""
    return Recovered(entry, JournalOutcome.ROLLED_BACK, note)


def _commit(journal: Journal, entry: Entry, message: str = "") -> tuple[str, ...]:
    """Keep the new venv; idempotent, so recovery can repeat it. A venv made under its
    owner's new name (``entry.dest``) has the owner's records and venv-doctor's registry
    pointed at it first: a kill before the journal says "committed" repeats them."""
    marker(entry.at, entry.id).unlink(missing_ok=True)
    notes: tuple[str, ...] = ()
    if entry.dest is not None:
        from venv_doctor.repair import records

        notes = records.renamed(entry.venv, entry.dest)
        journal.moved(entry.venv, entry.dest, f"rebuilt as {entry.dest} (was {entry.venv})")
    elif entry.action is JournalAction.RECREATE:
        from venv_doctor.repair import records

        # the links to its apps its owner (pipx, uv) had made, kept while it was there
        notes = records.restore_links(entry.venv, journal.owner_links(entry.venv))
    journal.finish(entry.id, JournalOutcome.COMMITTED, message)
    if entry.backup.is_dir():
        mark_complete(entry.backup)  # last: from now on the backup is restorable
    return notes


def rebuild(
    venv: Path,
    backups: Path,
    journal: Journal,
    steps: RebuildSteps,
    action: JournalAction = JournalAction.REBUILD,
    dest: Path | None = None,
) -> RebuildResult:
    """Replace ``venv`` with a rebuilt one, keeping the old one as a backup. With
    ``dest``, the new venv is made there (the name its owner gives the new minor)."""
    if dest is not None and os.path.lexists(dest):
        raise RebuildError(
            f"{dest} already exists: the rebuilt venv would be made there",
            hint="remove it with its owner's command, or rebuild onto the old minor (--python)",
        )
    backup = backup_path(backups, venv, action)
    entry_id = journal.begin(venv, backup, action, runner.group(), dest)
    try:
        _checkpoint(journal, entry_id, JournalStep.MOVING, steps.pause)
        write_manifest(backup, venv, entry_id)
        venv.rename(backup)
        _checkpoint(journal, entry_id, JournalStep.MOVED, steps.pause)
        return _build(dest or venv, backup, journal, entry_id, steps)
    except BaseException as exc:  # KeyboardInterrupt/SIGTERM too: never leave it half done
        moved = _fail(journal, entry_id, exc)
        if isinstance(exc, VenvDoctorError | OSError):
            also = f" ({venv} had been replaced meanwhile: that is now at {moved})" if moved else ""
            raise RebuildError(
                f"rebuilding {venv} failed and was rolled back: {getattr(exc, 'message', exc)}"
                + also,
                hint=getattr(exc, "hint", None),
            ) from exc
        raise


def _fail(journal: Journal, entry_id: int, exc: BaseException) -> Path | None:
    entry = journal.get(entry_id)
    if entry is None:
        raise RebuildError(f"journal entry {entry_id} vanished; nothing was rolled back") from exc
    return rollback(journal, entry, f"{type(exc).__name__}: {exc}")


def _create(venv: Path, journal: Journal, entry_id: int, steps: RebuildSteps) -> None:
    """Make the directory (its identity journaled), let the creator fill it, mark it."""
    _checkpoint(journal, entry_id, JournalStep.CREATING, steps.pause)
    venv.mkdir()
    journal.made(entry_id, venv)
    steps.create(venv)
    marker(venv, entry_id).touch()


def _build(
    venv: Path, backup: Path, journal: Journal, entry_id: int, steps: RebuildSteps
) -> RebuildResult:
    _create(venv, journal, entry_id, steps)
    # The user's files are listed while the installer runs: that reads only the backup,
    # which nothing writes. Leaving the block waits for the listing, so a rollback never
    # moves the backup from under it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        listing = pool.submit(carryover.user_files, backup, carryover.new_lib(venv))
        _checkpoint(journal, entry_id, JournalStep.INSTALLING, steps.pause)
        steps.install(venv)
        _checkpoint(journal, entry_id, JournalStep.CARRYING, steps.pause)
        carry = carryover.plan(backup, venv, listing.result())
    carried = carryover.apply(carry, backup, venv)
    carryover.keep_shebang_flags(backup, venv)  # pipx's ` -E`, which installers do not write
    _checkpoint(journal, entry_id, JournalStep.VERIFYING, steps.pause)
    problem = steps.verify(venv)
    if problem:
        raise RebuildError(f"the rebuilt venv does not verify: {problem}")
    _checkpoint(journal, entry_id, JournalStep.VERIFIED, steps.pause)
    entry = journal.get(entry_id)
    if entry is None:
        raise RebuildError(f"journal entry {entry_id} vanished before its commit")
    notes = _commit(journal, entry)
    return RebuildResult(
        backup,
        tuple(carried),
        carry.kept_new,
        carry.edited_activate,
        carry.uncopyable,
        notes,
        venv,
    )


def recreate(venv: Path, journal: Journal, steps: RebuildSteps) -> tuple[str, ...]:
    """Make a venv that vanished (pyenv uninstall) from its snapshot; nothing to back up.
    Returns what its commit did (links its owner had made, made again)."""
    if os.path.lexists(venv):
        raise RebuildError(f"{venv} exists: rebuild it instead of recreating it")
    none = venv.parent / f".{venv.name}.none"
    entry_id = journal.begin(venv, none, JournalAction.RECREATE, runner.group())
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
        _create(venv, journal, entry_id, steps)
        _checkpoint(journal, entry_id, JournalStep.INSTALLING, steps.pause)
        steps.install(venv)
        _checkpoint(journal, entry_id, JournalStep.VERIFYING, steps.pause)
        problem = steps.verify(venv)
        if problem:
            raise RebuildError(f"the recreated venv does not verify: {problem}")
        _checkpoint(journal, entry_id, JournalStep.VERIFIED, steps.pause)
        entry = journal.get(entry_id)
        if entry is None:
            raise RebuildError(f"journal entry {entry_id} vanished before its commit")
        return _commit(journal, entry)
    except BaseException as exc:
        _fail(journal, entry_id, exc)
        raise


def restore(
    venv: Path, kept: Path, backups: Path, journal: Journal, pause: Pause = Pause()
) -> Path | None:
    """Put the backup ``kept`` back at ``venv``; the venv there now becomes a backup.

    Two renames, journaled: "moving" (current venv aside), then "moved" (backup
    into place). Returns where the replaced venv was kept, if there was one.
    """
    aside = (
        backup_path(backups, venv, "replaced")
        if venv.exists()
        else venv.parent / f".{venv.name}.none"
    )
    if not is_complete(kept) or not is_venv_dir(kept):
        raise RebuildError(
            f"{kept} is not a complete backup (a `gc` or a rebuild was cut short)",
            hint="`venv-doctor restore TARGET --list` shows the complete ones",
        )
    entry_id = journal.begin(venv, aside, JournalAction.RESTORE)
    _checkpoint(journal, entry_id, JournalStep.MOVING, pause)
    if venv.exists():
        write_manifest(aside, venv, entry_id)
        venv.rename(aside)
    _checkpoint(journal, entry_id, JournalStep.MOVED, pause)
    kept.rename(venv)
    manifest_of(kept).unlink(missing_ok=True)
    journal.finish(entry_id, JournalOutcome.COMMITTED, f"restored from {kept}")
    if aside.exists():
        mark_complete(aside)
        return aside
    return None


def _recover_restore(journal: Journal, entry: Entry) -> JournalOutcome:
    """Both renames done: commit. Only the first: move the current venv back."""
    if os.path.lexists(entry.venv):
        journal.finish(
            entry.id, JournalOutcome.COMMITTED, "recovered: the backup was already in place"
        )
        if entry.backup.is_dir():
            mark_complete(entry.backup)
        return JournalOutcome.COMMITTED
    if entry.backup.exists():
        entry.backup.rename(entry.venv)
    journal.finish(
        entry.id, JournalOutcome.ROLLED_BACK, f"recovered: interrupted at step {entry.step.value!r}"
    )
    return JournalOutcome.ROLLED_BACK
