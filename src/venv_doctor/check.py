"""The check both front doors use: find venvs, read them, diagnose them, record them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.diagnose.scan import diagnose_all, read_venvs
from venv_doctor.model.venv import Location, load
from venv_doctor.targets import Where, all_locations, resolve


def check(
    ctx: Context,
    targets: Sequence[str] = (),
    store: str | None = None,
    deep: bool = False,
    record: bool = True,
) -> list[Diagnosis]:
    if targets:  # a name may be recorded only, or renamed aside by a running repair
        found = resolve(ctx, targets, store)
        locations = [m.location for m in found if m.where is Where.LIVE]
        gone = [diagnose(load(m.location), env=ctx.env) for m in found if m.where is not Where.LIVE]
    else:
        locations = all_locations(ctx, store)
        gone = recorded_gone(ctx, store, {x.path for x in locations})
    venvs = read_venvs(locations)
    diagnoses = diagnose_all(venvs, ctx.env, deep=deep) + gone
    if record:
        from venv_doctor.record import snapshots  # sqlite3 & co. only for commands that record

        _log_warnings(snapshots.record(ctx.dirs, ctx.config, venvs, diagnoses).warnings)
    return diagnoses


def recorded_gone(ctx: Context, store: str | None, found: set[Path]) -> list[Diagnosis]:
    """Venvs the state DB remembers whose directory is gone (e.g. `pyenv uninstall`
    took a pyenv-virtualenv env with it): `venv-missing` until repaired or forgotten."""
    if not ctx.dirs.database.exists():
        return []
    from venv_doctor.errors import VenvDoctorError
    from venv_doctor.record import state

    try:
        records, warnings = state.using(ctx.dirs, state.venv_records)
    except VenvDoctorError:
        return []
    _log_warnings(warnings)
    gone = [
        Location(r.name, r.path, r.store)
        for r in records.values()
        if (store is None or r.store == store)
        and r.path not in found
        and not os.path.lexists(r.path)
    ]
    return [diagnose(load(x), env=ctx.env) for x in gone]


def _log_warnings(warnings: Sequence[str]) -> None:
    """A state database problem is a warning (logged), never a failed check."""
    if warnings:
        import logging  # only when there is something to say: check starts fast

        for warning in warnings:
            logging.getLogger(__name__).warning("venv-doctor: warning: %s", warning)
