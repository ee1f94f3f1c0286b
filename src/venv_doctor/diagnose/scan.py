"""The core entry point both front doors use: find venvs, read them, diagnose them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.config import Config
from venv_doctor.diagnose import probe
from venv_doctor.diagnose.diagnosis import diagnose, diagnose_gone
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.discover import stores, tracking
from venv_doctor.errors import TargetNotFoundError, UsageError
from venv_doctor.model.venv import Location, Venv, is_venv_dir, load
from venv_doctor.paths import AppDirs


@dataclass(frozen=True)
class Context:
    """What every command needs: the config, the directories and the environment."""

    config: Config
    dirs: AppDirs
    env: Mapping[str, str]

    def stores(self) -> list[stores.Store]:
        return stores.known_stores(self.config, self.env)

    def tracked(self) -> list[Location]:
        return tracking.load(self.dirs.tracked_file)


def all_locations(ctx: Context, store: str | None = None) -> list[Location]:
    known = ctx.stores()
    names = sorted({s.name for s in known} | {tracking.STORE})
    if store is not None and store not in names:
        raise UsageError(f"--store {store}: no such store", hint="stores: " + ", ".join(names))
    chosen = [s for s in known if store is None or s.name == store]
    tracked = ctx.tracked() if store in (None, tracking.STORE) else []
    return stores.discover(chosen, tracked)


def resolve_targets(
    ctx: Context, targets: Sequence[str], store: str | None = None
) -> list[Location]:
    """TARGETs are venv paths or names; a name may match venvs in several stores."""
    if not targets:
        return all_locations(ctx, store)
    known = all_locations(ctx, store)
    by_path = {x.path: x for x in known}
    out: list[Location] = []
    for target in targets:
        out.extend(_match(target, known, by_path))
    return list({x.path: x for x in out}.values())


def _match(target: str, known: list[Location], by_path: dict[Path, Location]) -> list[Location]:
    real = Path(os.path.realpath(target))
    if real in by_path:
        return [by_path[real]]
    named = [x for x in known if x.name == target]
    if named:
        return named
    if real.is_dir() and is_venv_dir(real):
        return [Location(real.name, real, "path")]
    if os.sep in target or target.startswith("."):
        raise TargetNotFoundError(f"{target}: no virtual environment there")
    raise TargetNotFoundError(
        f"{target}: no venv of that name in any store",
        hint="`venv-doctor list` shows every venv found; a path works too",
    )


def read_venvs(locations: Sequence[Location]) -> list[Venv]:
    # One thread: the reads hit the page cache and are cheap syscalls, so threads
    # only fight over the GIL (measured: 25% more CPU and slower on 2 cores).
    return [load(x) for x in locations]


def _can_start(venv: Venv) -> bool:
    """Worth a probe: a dangling or looping bin/python is already diagnosed statically."""
    main = venv.main_python
    if main is None or not os.path.isdir(venv.path):
        return False
    return not (main.chain.dangling or main.chain.loop)


def diagnose_all(venvs: Sequence[Venv], deep: bool = False) -> list[Diagnosis]:
    if not deep:
        return [diagnose(v) for v in venvs]
    runnable = [v for v in venvs if _can_start(v)]
    results = probe.probe_many(
        [(v.path / "bin" / v.main_python.name, v.site_packages) for v in runnable if v.main_python]
    )
    by_path = {v.path: r for v, r in zip(runnable, results, strict=True)}
    return [diagnose(v, by_path.get(v.path)) for v in venvs]


def check(
    ctx: Context,
    targets: Sequence[str] = (),
    store: str | None = None,
    deep: bool = False,
    record: bool = True,
) -> list[Diagnosis]:
    if targets:
        from venv_doctor.record.registry import resolve_with_history  # a name may be recorded only

        locations, gone = resolve_with_history(ctx, targets, store)
    else:
        locations = resolve_targets(ctx, (), store)
        gone = recorded_gone(ctx, store, {x.path for x in locations if os.path.lexists(x.path)})
    gone_paths = {d.path for d in gone}
    locations = [x for x in locations if x.path not in gone_paths]
    venvs = read_venvs(locations)
    diagnoses = diagnose_all(venvs, deep=deep) + gone
    if record:
        from venv_doctor.record import snapshots  # sqlite3 & co. only for commands that record

        _log_warnings(snapshots.record(ctx.dirs, ctx.config, venvs, diagnoses).warnings)
    return diagnoses


def recorded_gone(
    ctx: Context, store: str | None, found: set[Path], only: set[Path] | None = None
) -> list[Diagnosis]:
    """Venvs the state DB remembers whose directory is gone (e.g. `pyenv uninstall`
    took a pyenv-virtualenv env with it): `venv-missing` until repaired or forgotten,
    or `removed` when the interpreter it ran on is still there."""
    if not ctx.dirs.database.exists():
        return []
    from venv_doctor.errors import VenvDoctorError
    from venv_doctor.record import state

    try:
        records, warnings = state.using(ctx.dirs, state.venv_records)
    except VenvDoctorError:
        return []
    _log_warnings(warnings)
    return [
        diagnose_gone(load(Location(r.name, r.path, r.store)), r.base)
        for r in records.values()
        if (store is None or r.store == store)
        and (only is None or r.path in only)
        and r.path not in found
        and not os.path.lexists(r.path)
    ]


def _log_warnings(warnings: Sequence[str]) -> None:
    """A state database problem is a warning (logged), never a failed check."""
    if warnings:
        import logging  # only when there is something to say: check starts fast

        for warning in warnings:
            logging.getLogger(__name__).warning("venv-doctor: warning: %s", warning)
