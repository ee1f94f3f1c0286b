"""What a venv held, now or before: from disk while it is there, from the record after.

``locate`` finds a TARGET among the venvs on disk and, failing that, in the
registry of venvs venv-doctor has seen, so a venv deleted with its interpreter
(``pyenv uninstall``) is still found by path or by name. ``snapshot_for`` picks
the source; ``history`` lists snapshots with what changed, and events.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from venv_doctor import targets
from venv_doctor.context import Context
from venv_doctor.errors import TargetNotFoundError, UsageError, VenvDoctorError
from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.model.venv import Venv, is_venv_dir, load
from venv_doctor.record import snapshots, state
from venv_doctor.targets import Where


class Source(enum.StrEnum):
    AUTO = "auto"
    RECORDED = "recorded"
    DISK = "disk"


@dataclass(frozen=True)
class Located:
    path: Path
    name: str
    venv: Venv | None  # read from disk when the directory is still there
    record: state.VenvRecord | None  # the registry's entry, when venv-doctor saw it


@dataclass(frozen=True)
class Found:
    snapshot: Snapshot
    target: Located
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    name: str
    before: Package | None  # None: added
    after: Package | None  # None: removed


@dataclass(frozen=True)
class Revision:
    """One snapshot and how it differs from the one before it."""

    snapshot: Snapshot
    first: bool
    added: tuple[Change, ...]
    removed: tuple[Change, ...]
    changed: tuple[Change, ...]


@dataclass(frozen=True)
class VenvHistory:
    record: state.VenvRecord
    steps: tuple[Revision, ...]
    events: tuple[state.Event, ...]


# --- finding a target ----------------------------------------------------------------------


def locate(ctx: Context, target: str, db: state.Database | None) -> Located:
    """The venv TARGET names, on disk or in the registry; exit 1 when neither knows it."""
    try:
        match = targets.resolve_one(ctx, target, db, remembered=db is not None)
    except TargetNotFoundError:
        raise TargetNotFoundError(
            f"{target}: venv-doctor has never seen a venv of that path or name, "
            "and there is none now",
            hint="`venv-doctor check` records every venv it finds; `venv-doctor history` lists them",
        ) from None
    records = state.find_venvs(db, match.path) if db else []
    record = next((r for r in records if r.path == match.path), None)
    venv = None
    if match.where is Where.LIVE or (os.path.isdir(match.path) and is_venv_dir(match.path)):
        venv = load(match.location)
    return Located(match.path, match.name, venv, record)


# --- one snapshot -------------------------------------------------------------------------


def snapshot_for(
    ctx: Context,
    target: str,
    source: Source = Source.AUTO,
    at: datetime | None = None,
    *,
    verify: bool = True,
) -> Found:
    """The snapshot to render: from disk or recorded, as ``source`` and ``at`` say.
    ``verify``: read from disk, every RECORD is checked too (its warnings in ``Found``);
    the package list is the same either way."""
    if at is not None and source is Source.DISK:
        raise UsageError("--at picks a recorded snapshot; it cannot be used with --source disk")
    try:
        (found, warnings) = state.using(
            ctx.dirs, lambda db: _snapshot_for(ctx, target, source, at, db, verify)
        )
    except state.StateError as exc:
        if source is Source.RECORDED or at is not None:
            raise
        try:  # the venv itself may still be readable
            found = _snapshot_for(ctx, target, Source.DISK, None, None, verify)
        except TargetNotFoundError:
            raise exc from None
        warnings = (f"the state database cannot be used: {exc.message}",)
    return Found(found.snapshot, found.target, (*warnings, *found.warnings))


def _snapshot_for(
    ctx: Context,
    target: str,
    source: Source,
    at: datetime | None,
    db: state.Database | None,
    verify: bool = True,
) -> Found:
    where = locate(ctx, target, db)
    readable = where.venv is not None and bool(where.venv.site_packages)
    if source is Source.DISK or (source is Source.AUTO and at is None and readable):
        if where.venv is None or not readable:
            raise VenvDoctorError(
                f"{where.path} has no site-packages directory to read (gone or broken)",
                hint="`--source recorded` shows the last snapshot venv-doctor recorded",
            )
        snapshot, warnings = snapshots.take(where.venv, verify=verify)
        return Found(snapshot, where, warnings)
    recorded = state.latest_snapshot(db, where.path, at) if db else None
    if recorded is None:
        when = f" at or before {at.isoformat()}" if at else ""
        raise VenvDoctorError(
            f"no snapshot of {where.path} was recorded{when}",
            hint="`venv-doctor check` records one for every readable venv",
        )
    notes = () if source is Source.RECORDED or at else (_gone_note(where, recorded),)
    return Found(recorded, where, notes)


def _gone_note(where: Located, snapshot: Snapshot) -> str:
    state_now = "is gone" if where.venv is None else "has no site-packages"
    return (
        f"{where.path} {state_now}; showing the snapshot recorded at "
        f"{snapshot.taken_at.isoformat(timespec='seconds')}"
    )


# --- history --------------------------------------------------------------------------------


def diff(before: Snapshot | None, after: Snapshot) -> Revision:
    old = before.by_name() if before else {}
    new = after.by_name()
    added = tuple(Change(n, None, new[n]) for n in sorted(new.keys() - old.keys()))
    removed = tuple(Change(n, old[n], None) for n in sorted(old.keys() - new.keys()))
    changed = tuple(
        Change(n, old[n], new[n])
        for n in sorted(old.keys() & new.keys())
        if (old[n].version, old[n].kind, old[n].url) != (new[n].version, new[n].kind, new[n].url)
    )
    return Revision(after, before is None, added, removed, changed)


def _steps(shots: list[Snapshot]) -> tuple[Revision, ...]:
    return tuple(diff(shots[i - 1] if i else None, s) for i, s in enumerate(shots))


def _venv_history(db: state.Database, record: state.VenvRecord) -> VenvHistory:
    shots = state.snapshots(db, record.path)
    return VenvHistory(record, _steps(shots), tuple(state.events(db, record.path)))


def history(
    ctx: Context, target: str | None = None
) -> tuple[list[VenvHistory], list[state.Event], tuple[str, ...]]:
    """Histories of one venv or of every venv seen, plus events tied to no venv."""

    def run(db: state.Database) -> tuple[list[VenvHistory], list[state.Event]]:
        if target is None:
            records = sorted(state.venv_records(db).values(), key=lambda r: (r.name, str(r.path)))
            loose = [e for e in state.events(db) if e.venv_path is None]
            return [_venv_history(db, r) for r in records], loose
        where = locate(ctx, target, db)
        return ([_venv_history(db, where.record)] if where.record else []), []

    (venvs, loose), warnings = state.using(ctx.dirs, run)
    return venvs, loose, warnings
