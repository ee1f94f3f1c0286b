"""The check both front doors use: find venvs, read them, diagnose them, record them."""

from __future__ import annotations

import os
from collections.abc import Container, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import Memo, diagnose, diagnose_gone
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.diagnose.scan import diagnose_all, read_venvs
from venv_doctor.discover import tracking
from venv_doctor.model.links import Walked
from venv_doctor.model.venv import Location, Venv, load
from venv_doctor.targets import Match, Where, all_locations, resolve

if TYPE_CHECKING:
    from venv_doctor.record.snapshots import Recorder
    from venv_doctor.record.state import VenvRecord


def check(
    ctx: Context,
    targets: Sequence[str] = (),
    store: str | None = None,
    deep: bool = False,
    record: bool = True,
) -> list[Diagnosis]:
    if targets:  # a name may be recorded only, or renamed aside by a running repair
        found = resolve(ctx, targets, store)
        live = [m.location for m in found if m.where is Where.LIVE]
        gone = diagnose_missing(ctx, [m for m in found if m.where is not Where.LIVE])
    else:
        live = all_locations(ctx, store)
        gone = recorded_gone(ctx, store, {x.path for x in live})
    # a tracked venv whose directory was deleted is still listed
    locations: list[Location] = []
    vanished: list[Location] = []
    for x in live:  # a store's venvs were just listed; a tracked one may be long gone
        gone_now = x.store == tracking.STORE and not os.path.lexists(x.path)
        (vanished if gone_now else locations).append(x)
    gone += diagnose_missing(ctx, [Match(x, Where.RECORDED) for x in vanished])
    if deep:
        venvs = read_venvs(locations)  # probed all at once, in parallel
        diagnoses = diagnose_all(venvs, ctx.env, deep=True) + gone
        if record:
            _record(ctx, deep, venvs, diagnoses)
        return diagnoses
    return _static(ctx, locations, record) + gone


def _static(ctx: Context, locations: Sequence[Location], record: bool) -> list[Diagnosis]:
    """Read, diagnose and record one venv at a time: a check holds each venv it reads
    only while it looks at it, whatever the number of venvs (its diagnosis stays)."""
    recorder = _recorder(ctx, deep=False) if record else None
    walked = Walked()  # for this pass only: links may change between checks
    memo = Memo(ctx.env)  # the same: interpreters may come and go
    diagnoses = []
    for location in locations:
        venv = load(location, walked)
        diagnosis = diagnose(venv, env=ctx.env, memo=memo)
        diagnoses.append(diagnosis)
        if recorder is not None:
            recorder.add(venv, diagnosis.status.value)
    if recorder is not None:
        _log_warnings(recorder.finish().warnings)
    return diagnoses


def _recorder(ctx: Context, deep: bool) -> Recorder:
    from venv_doctor.record import snapshots  # sqlite3 & co. only for commands that record
    from venv_doctor.record.state import Evidence

    return snapshots.Recorder(
        ctx.dirs, ctx.config, Evidence.DEEP if deep else Evidence.STATIC, ctx.env
    )


def _record(
    ctx: Context, deep: bool, venvs: Sequence[Venv], diagnoses: Sequence[Diagnosis]
) -> None:
    statuses = {d.path: d.status.value for d in diagnoses}
    recorder = _recorder(ctx, deep)
    for venv in venvs:
        recorder.add(venv, statuses.get(venv.path))
    _log_warnings(recorder.finish().warnings)


def recorded_gone(ctx: Context, store: str | None, found: set[Path]) -> list[Diagnosis]:
    """Venvs the state DB remembers whose directory is gone: `removed` when the
    interpreter they ran on is still installed, else `venv-missing` (e.g. `pyenv
    uninstall` took a pyenv-virtualenv env with it) until repaired or forgotten."""
    records = _records(ctx, skip={str(p) for p in found})
    return [
        _gone(ctx, Location(r.name, r.path, r.store), r.base)
        for r in records.values()
        if (store is None or r.store == store)
        and r.path not in found
        and not os.path.lexists(r.path)
    ]


def _gone(ctx: Context, location: Location, base: str | None) -> Diagnosis:
    from venv_doctor.discover.owners import uninstalled_by_owner

    there = base is not None and os.path.exists(base)
    return diagnose_gone(
        load(location), base, by_owner=not there and uninstalled_by_owner(location, ctx.env)
    )


def diagnose_missing(ctx: Context, matches: Sequence[Match]) -> list[Diagnosis]:
    """Venvs whose directory is not there: removed on purpose, vanished, or renamed
    aside by a repair running now (`venv-missing` until it is back)."""
    if not matches:
        return []
    records = _records(ctx)
    out = []
    for m in matches:
        record = records.get(m.path)
        if m.where is Where.REPAIRING:  # renamed aside by a repair running now
            out.append(diagnose_gone(load(m.location), None))
            continue
        out.append(_gone(ctx, m.location, record.base if record is not None else None))
    return out


def _records(ctx: Context, skip: Container[str] = ()) -> dict[Path, VenvRecord]:
    """The state DB's registry (but the paths in ``skip``); empty when it cannot be used."""
    if not ctx.dirs.database.exists():
        return {}
    from venv_doctor.errors import VenvDoctorError
    from venv_doctor.record import state

    try:
        records, warnings = state.using(ctx.dirs, lambda db: state.venv_records(db, skip))
    except VenvDoctorError:
        return {}
    _log_warnings(warnings)
    return records


def _log_warnings(warnings: Sequence[str]) -> None:
    """A state database problem is a warning (logged), never a failed check."""
    if warnings:
        import logging  # only when there is something to say: check starts fast

        for warning in warnings:
            logging.getLogger(__name__).warning("venv-doctor: warning: %s", warning)
