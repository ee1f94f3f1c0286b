"""What venv-doctor remembers about venvs, as repair and the daemon need it.

A thin layer over the state DB (``state``), snapshots and history: every call
survives a missing or damaged database (it answers "nothing known" and logs),
because remembering must never stop checking or repairing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Diagnosis, status_counts
from venv_doctor.errors import VenvDoctorError
from venv_doctor.model.venv import Venv
from venv_doctor.record import snapshots, state
from venv_doctor.record.requirements import Requirements

log = logging.getLogger(__name__)
T = TypeVar("T")


def _using(ctx: Context, action: Callable[[state.Database], T], default: T) -> T:
    try:
        result, warnings = state.using(ctx.dirs, action)
    except VenvDoctorError as exc:
        log.warning("the state database cannot be used: %s", exc.message)
        return default
    for warning in warnings:
        log.warning("%s", warning)
    return result


def _records(ctx: Context, target: str | Path | None = None) -> list[state.VenvRecord]:
    """Registry entries matching ``target`` (path or name), or all of them."""
    none: list[state.VenvRecord] = []
    if target is None:
        return _using(ctx, lambda db: list(state.venv_records(db).values()), none)
    return _using(ctx, lambda db: state.find_venvs(db, target), none)


def records(ctx: Context) -> list[state.VenvRecord]:
    """Every venv the registry knows, vanished ones included (forgotten ones not)."""
    return _records(ctx)


def registered(ctx: Context) -> set[Path]:
    """Every venv the registry knows, vanished ones included (forgotten ones not)."""
    return {r.path for r in _records(ctx)}


def record_check(
    ctx: Context,
    venvs: Sequence[Venv],
    diagnoses: Sequence[Diagnosis],
    evidence: state.Evidence = state.Evidence.STATIC,
) -> None:
    for warning in snapshots.record(
        ctx.dirs, ctx.config, venvs, diagnoses, evidence, env=ctx.env
    ).warnings:
        log.warning("%s", warning)


def record_event(ctx: Context, path: Path, kind: str, message: str) -> None:
    _using(ctx, lambda db: state.append_event(db, kind, message, path), None)


EventRow = tuple[Path, str, str] | tuple[Path, str, str, dict[str, Any]]


def record_events(ctx: Context, events: Sequence[EventRow]) -> None:
    """Many (path, kind, message[, data]) events with one opening of the database."""

    def append(db: state.Database) -> None:
        for path, kind, message, *data in events:
            state.append_event(db, kind, message, path, data[0] if data else None)

    if events:
        _using(ctx, append, None)


def last_repairs(ctx: Context, paths: Sequence[Path]) -> dict[Path, state.Event]:
    """The latest repair event of each of ``paths`` that has one."""
    none: dict[Path, state.Event] = {}
    if not paths:
        return none
    return _using(ctx, lambda db: state.latest_events(db, REPAIR_EVENT, paths), none)


REPAIR_EVENT = "repair"  # the kind of event a repair attempt records


def has_snapshot(ctx: Context, path: Path) -> bool:
    if any(path.glob("lib/python*/site-packages")):
        return True
    return _using(ctx, lambda db: state.latest_snapshot(db, path) is not None, False)


def owner_record(ctx: Context, path: Path) -> state.OwnerRecord | None:
    """What pipx or uv recorded about the tool venv at ``path``, kept while it was there."""
    return _using(ctx, lambda db: state.owner_record(db, path), None)


def recorded_version(ctx: Context, path: Path) -> str | None:
    records = _records(ctx, path)
    return records[0].python_version if records else None


def requirements_for(ctx: Context, path: Path) -> Requirements | None:
    """Exact pins of what the venv holds: from disk if readable, else recorded."""
    from venv_doctor.record import history, requirements

    try:
        # the pins alone: checking every RECORD too (20 files read and parsed for a
        # 20-distribution venv) only adds warnings no rebuild shows
        found = history.snapshot_for(ctx, str(path), verify=False)
    except VenvDoctorError as exc:
        log.warning("no requirements for %s: %s", path, exc.message)
        return None
    # what `render` writes: what the creator seeded comes with the new venv
    chosen = [
        p for p in requirements.selected(found.snapshot, requirements.Mode.EXACT) if not p.seeded
    ]
    return Requirements(
        text=requirements.render(found.snapshot, requirements.Mode.EXACT),
        expected=frozenset((p.name, p.version) for p in chosen if p.kind != "editable"),
        had_pip=any(p.name == "pip" for p in found.snapshot.packages),
        editable=frozenset(p.name for p in chosen if p.kind == "editable"),
        held=frozenset(p.name for p in found.snapshot.packages),
        requested=frozenset(p.name for p in chosen if p.requested),
    )


def summary(ctx: Context) -> dict[str, int] | None:
    records = _records(ctx)
    if not records:
        return None
    return status_counts(r.last_status for r in records if os.path.lexists(r.path))


def recent(ctx: Context, limit: int = 20) -> list[dict[str, Any]]:
    none: list[state.Event] = []
    evs = _using(ctx, state.events, none)
    return [
        {
            "at": e.at.isoformat(timespec="seconds"),
            "kind": e.kind,
            "venv": str(e.venv_path) if e.venv_path else None,
            "message": e.message,
        }
        for e in evs[-limit:]
    ]
