"""Which venvs a command's TARGETs name: one resolver and one ambiguity rule.

A TARGET is a venv's path or its name. It is looked for, in this order, among
the live venvs (the stores, the tracked venvs, a venv directory at that path),
then among the venvs the state DB remembers whose directory is gone (``pyenv
uninstall`` took it), then among the venvs a running repair has renamed aside
for a moment. The first place with a match answers. A command that acts on one
venv refuses a name that matches several (``one``).
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from venv_doctor.context import Context
from venv_doctor.discover import stores, tracking
from venv_doctor.errors import TargetNotFoundError, UsageError, VenvDoctorError
from venv_doctor.model.venv import Location, is_venv_dir

if TYPE_CHECKING:
    from venv_doctor.record.state import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


class Where(enum.StrEnum):
    LIVE = "live"  # on disk now
    RECORDED = "recorded"  # only the state DB remembers it
    REPAIRING = "repairing"  # renamed aside by a repair running now


@dataclass(frozen=True)
class Match:
    location: Location
    where: Where

    @property
    def path(self) -> Path:
        return self.location.path

    @property
    def name(self) -> str:
        return self.location.name


def all_locations(ctx: Context, store: str | None = None) -> list[Location]:
    """Every live venv (of one store, when ``store`` says)."""
    known = ctx.stores()
    names = sorted({s.name for s in known} | {tracking.STORE})
    if store is not None and store not in names:
        raise UsageError(f"--store {store}: no such store", hint="stores: " + ", ".join(names))
    chosen = [s for s in known if store is None or s.name == store]
    tracked = ctx.tracked() if store in (None, tracking.STORE) else []
    return stores.discover(chosen, tracked)


def resolve(
    ctx: Context,
    targets: Sequence[str],
    store: str | None = None,
    *,
    unique: bool = False,
) -> list[Match]:
    """The venvs ``targets`` name, each once, in the order given; raises
    TargetNotFoundError for a TARGET nothing knows, and with ``unique`` the
    ambiguity error for a name that matches several venvs."""
    known = all_locations(ctx, store)
    out: dict[Path, Match] = {}
    for target in targets:
        found = _matches(ctx, target, known, None)
        if unique:
            found = [one(target, found)]
        out.update((m.path, m) for m in found if m.path not in out)
    return list(out.values())


def resolve_one(
    ctx: Context, target: str, db: Database | None = None, *, remembered: bool = True
) -> Match:
    """The one venv TARGET names. ``db``: an open state DB to look in, if the caller
    has one; ``remembered=False``: live venvs only (the state DB cannot be used)."""
    known = all_locations(ctx)
    if not remembered:
        return one(target, [Match(x, Where.LIVE) for x in _live(target, known)])
    return one(target, _matches(ctx, target, known, db))


def one(target: str, matches: Sequence[Match]) -> Match:
    """The ambiguity rule every command shares: a name that matches several venvs
    must not act on all of them, nor on one picked by surprise."""
    if len(matches) > 1:
        paths = ", ".join(str(m.path) for m in matches)
        raise UsageError(
            f"{target} names {len(matches)} venvs ({paths})", hint="give the venv's path instead"
        )
    return matches[0]


def _matches(ctx: Context, target: str, known: list[Location], db: Database | None) -> list[Match]:
    try:
        return [Match(x, Where.LIVE) for x in _live(target, known)]
    except TargetNotFoundError:
        found = _recorded(ctx, target, db) or _repairing(ctx, target, db)
        if not found:
            raise
        return found


def _live(target: str, known: list[Location]) -> list[Location]:
    real = Path(os.path.realpath(target))
    by_path = [x for x in known if x.path == real]
    if by_path:
        return by_path[:1]
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


def _recorded(ctx: Context, target: str, db: Database | None) -> list[Match]:
    """Venvs the state DB remembers by this path or name whose directory is gone."""
    from venv_doctor.record import state

    records = _in_state(ctx, db, lambda d: state.find_venvs(d, target))
    return [
        Match(Location(r.name, r.path, r.store), Where.RECORDED)
        for r in records
        if not os.path.lexists(r.path)
    ]


def _repairing(ctx: Context, target: str, db: Database | None) -> list[Match]:
    """Venvs another process is rebuilding right now (renamed aside, so not in any
    store for a moment): the caller waits for their lock and looks again."""
    from venv_doctor.record import state

    real = os.path.realpath(target)
    rows = _in_state(ctx, db, state.journal_open)
    venvs = {r.venv for r in rows if str(r.venv) in (target, real) or r.venv.name == target}
    return [Match(Location(v.name, v, "repairing"), Where.REPAIRING) for v in sorted(venvs)]


def _in_state(ctx: Context, db: Database | None, read: Callable[[Database], list[T]]) -> list[T]:
    """What ``read`` finds in the state DB; nothing (logged) when it cannot be used."""
    from venv_doctor.record import state

    if db is not None:
        return read(db)
    if not ctx.dirs.database.exists():
        return []
    try:
        found, warnings = state.using(ctx.dirs, read)
    except VenvDoctorError as exc:
        log.warning("the state database cannot be used: %s", exc.message)
        return []
    for warning in warnings:
        log.warning("%s", warning)
    return found
