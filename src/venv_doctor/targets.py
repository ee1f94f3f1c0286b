"""Which venvs a command's TARGETs name: one resolver and one ambiguity rule.

A TARGET is a venv's path or its name. It is looked for, in this order, among
the live venvs (the stores, the tracked venvs, a venv directory at that path),
then among the venvs the state DB remembers whose directory is gone (``pyenv
uninstall`` took it), then among the venvs a running repair has renamed aside
for a moment. The first place with a match answers. A command that acts on one
venv refuses a name that matches several (``one``).

A TARGET that is a venv's path, or a name the state DB's registry knows at a
live venv, is answered without listing every store (``_direct``): a command
about one venv does one venv's work, however many venvs there are elsewhere.
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
from venv_doctor.model.venv import Location, blocker, is_venv_dir, unlistable_dir

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
    known = _known_stores(ctx, store)
    chosen = [s for s in known if store is None or s.name == store]
    tracked = ctx.tracked() if store in (None, tracking.STORE) else []
    return stores.discover(chosen, tracked)


def _known_stores(ctx: Context, store: str | None) -> list[stores.Store]:
    """Every store; a UsageError when ``store`` names none of them."""
    known = ctx.stores()
    names = sorted({s.name for s in known} | {tracking.STORE})
    if store is not None and store not in names:
        raise UsageError(f"--store {store}: no such store", hint="stores: " + ", ".join(names))
    return known


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
    _known_stores(ctx, store)
    known: list[Location] | None = None  # listed only for a TARGET _direct cannot answer
    out: dict[Path, Match] = {}
    for target in targets:
        found = _direct(ctx, target, store, None, remembered=True)
        if found is None:
            known = all_locations(ctx, store) if known is None else known
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
    direct = _direct(ctx, target, None, db, remembered=remembered)
    if direct is not None:
        return one(target, direct)
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


def _direct(
    ctx: Context, target: str, store: str | None, db: Database | None, *, remembered: bool
) -> list[Match] | None:
    """The live venvs TARGET names, found without listing every store, or None when
    only discovery can say. Discovery's answer and this one agree: a path is a venv
    directory (placed in its store by ``locate``); a name is one the registry holds
    at live venvs that still carry that name. A bare relative path that is not in a
    store is left to discovery, where a venv of that name comes first."""
    real = os.path.realpath(target)
    if os.path.isdir(real) and is_venv_dir(Path(real)):
        found = locate(ctx, target)
        held = found.store != "path" or os.path.isabs(target) or target.startswith(".")
        if held and (store is None or found.store == store):
            return [Match(found, Where.LIVE)]
    if not remembered or os.sep in target or target.startswith("."):
        return None
    from venv_doctor.record import state

    named = [
        x
        for r in _in_state(ctx, db, lambda d: state.find_venvs(d, target))
        if r.name == target and os.path.isdir(r.path) and is_venv_dir(r.path)
        for x in [locate(ctx, str(r.path))]
        if x.name == target and (store is None or x.store == store)
    ]
    return [Match(x, Where.LIVE) for x in named] or None


def locate(ctx: Context, path: str) -> Location:
    """The Location discovery gives the venv directory at ``path``: the store that
    holds it directly, else one whose entry links to it (the entry given, or one of the
    venv's own name), else the tracked list, else a plain path. Looks at a few paths
    only, never a store's listing: a venv linked into a store under another name and
    given by its real path is a plain path here, where ``check`` names it by the link."""
    real = os.path.realpath(path)
    given = os.path.abspath(path)
    known = ctx.stores()
    for candidate, linked in ((real, False), (given, True)):
        for s in known:
            name = _name_in(s, candidate, linked)
            if name is not None:
                return Location(name, Path(real), s.name)
    base = os.path.basename(real)
    for s in known:  # a store entry of the same name linking here (``~/.virtualenvs/web ->``)
        entry = os.path.join(s.root, base)
        if s.depth == 1 and not (s.single or s.subdir) and _links_to(entry, real):
            return Location(base, Path(real), s.name)
    for x in ctx.tracked():
        if str(x.path) == real:
            return x
    return Location(os.path.basename(real), Path(real), "path")


def _links_to(entry: str, real: str) -> bool:
    return os.path.islink(entry) and os.path.realpath(entry) == real


def _name_in(store: stores.Store, path: str, linked: bool) -> str | None:
    """The name ``store`` lists the venv at ``path`` under, or None when it does not
    list it there. ``linked``: ``path`` is the entry as given (a link to the venv)."""
    root = str(store.root) if linked else os.path.realpath(store.root)
    if store.single:
        return store.root.name if path == root else None
    rel = os.path.relpath(path, root).split(os.sep)
    if rel[0] in (os.curdir, os.pardir) or any(p.startswith(".") for p in rel):
        return None
    if linked and not os.path.islink(path):
        return None  # a plain entry under the name given is the real path: pass one saw it
    if store.subdir:  # pyenv: versions/<ver>/envs/<env>, never through versions/<env> links
        ok = len(rel) == 3 and rel[1] == store.subdir
        return rel[2] if ok and not os.path.islink(os.path.join(root, rel[0])) else None
    if len(rel) != store.depth:
        return None
    return rel[0] if store.depth == 1 else f"{rel[0]}/{rel[-1]}"


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
    if real.is_dir() and (is_venv_dir(real) or unlistable_dir(real)):
        return [Location(real.name, real, "path")]  # an unlistable one: unknown, not absent
    if os.sep in target or target.startswith("."):
        if (wall := blocker(real)) != real:
            raise TargetNotFoundError(
                f"{target}: permission denied: {wall} cannot be searched by this user",
                hint=f"run venv-doctor as a user who can, or ask the owner of {wall} to let you",
            )
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
