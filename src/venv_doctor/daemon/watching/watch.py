"""The watch plan: the few directories whose changes can break a venv.

Never a recursive watch over an interpreter tree (a Homebrew upgrade deletes
thousands of files): only the interpreter's real bin directory, its install
prefix's parent (``Cellar/python@3.12``, ``pyenv/versions``, ``uv/python``),
each directory holding a symlink on the way (``$HOMEBREW_PREFIX/opt``), the
recorded ``home``, the store directories, and each venv's site-packages (for
snapshot refresh). A path that does not exist yet is replaced by its nearest
existing ancestor and marked pending, so the daemon re-plans when it appears.

A watch set that cannot see itself: never ``/`` or its direct children, never
``$HOME``, never a directory that holds venv-doctor's own state, log or cache
directory (its own writes would wake it, without end). Events inside a watched
directory count only for entries that can matter: interpreters (``python*``,
``pypy*``, ``libpython*``), directories (venvs, versions, kegs), the paths a
pending watch waits for, and anything in a site-packages directory.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.model.venv import Venv

SYSTEM_PREFIXES = frozenset({"/", "/usr", "/usr/local", "/opt", "/home"})
INTERPRETER_ENTRY = re.compile(r"^(python|pypy|libpython)")


def identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of a watched directory: a new one means it was replaced."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def add_each(paths: Iterable[Path], add: Callable[[Path], bool]) -> tuple[set[Path], list[Path]]:
    """Watch each path in order: the ones now watched, and the ones that failed."""
    newly: set[Path] = set()
    failed: list[Path] = []
    for path in sorted(paths):
        (newly.add if add(path) else failed.append)(path)
    return newly, failed


def forbidden(home: Path | None, own: Iterable[Path]) -> Callable[[Path], bool]:
    """The directories never to watch: ``/`` and its children, $HOME, and any that
    holds (or is) one of venv-doctor's own directories."""
    own_dirs = [Path(os.path.realpath(p)) for p in own]
    home_dir = Path(os.path.realpath(home)) if home else None

    def never(path: Path) -> bool:
        real = Path(os.path.realpath(path))
        if len(real.parts) <= 2 or real == home_dir:  # "/", "/home", "/opt", ...
            return True
        return any(d == real or real in d.parents for d in own_dirs)

    return never


@dataclass(frozen=True)
class WatchSpec:
    path: Path  # an existing directory, watched non-recursively
    kinds: frozenset[str]  # "interpreter", "store", "site-packages", "pending"
    venvs: frozenset[Path]  # venvs whose health depends on it
    wanted: frozenset[Path] = frozenset()  # missing paths this stands in for

    @property
    def pending(self) -> bool:
        return "pending" in self.kinds


def nearest_existing(path: Path) -> Path:
    current = path
    while not current.is_dir() and current != current.parent:
        current = current.parent
    return current


def _link_dirs(path: Path) -> Iterable[Path]:
    """Directories that hold a symlink on the way to ``path`` (e.g. ``opt/``)."""
    current = Path(path.anchor)
    for part in path.parts[1:]:
        current = current / part
        if current.is_symlink():
            yield Path(os.path.realpath(current.parent))


def _add_bin_dir(dirs: set[Path], bin_dir: Path) -> None:
    """An interpreter's bin directory and the directory of installs above it
    (``Cellar/python@3.12``, ``pyenv/versions``) where upgrades swap versions."""
    dirs.add(bin_dir)
    prefix = bin_dir.parent
    if str(prefix) not in SYSTEM_PREFIXES:
        dirs.add(prefix.parent)


def _interpreter_dirs(venv: Venv) -> set[Path]:
    dirs: set[Path] = set()
    for py in venv.pythons:
        for hop in py.chain.hops:
            if hop.parent != venv.path / "bin":
                _add_bin_dir(dirs, Path(os.path.realpath(hop.parent)))
                dirs.update(_link_dirs(hop))
        real = py.chain.resolved
        if real is not None:
            _add_bin_dir(dirs, real.parent)
    home = venv.cfg.home if venv.cfg else None
    if home:
        _add_bin_dir(dirs, Path(home))
        dirs.update(_link_dirs(Path(home)))
    return dirs


def plan(
    venvs: Iterable[Venv],
    store_roots: Iterable[Path],
    never: Callable[[Path], bool] = lambda _: False,
) -> list[WatchSpec]:
    """Deduplicated watch specs for ``venvs`` and the stores that hold them, leaving
    out what ``never`` forbids (see ``forbidden``)."""
    kinds: dict[Path, set[str]] = defaultdict(set)
    deps: dict[Path, set[Path]] = defaultdict(set)
    wanted: dict[Path, set[Path]] = defaultdict(set)

    def add(path: Path, kind: str, venv: Path | None = None) -> None:
        target = nearest_existing(path)
        if never(target):
            return  # the next full scan notices what only it would have shown
        kinds[target].add(kind)
        if target != path:
            kinds[target].add("pending")
            wanted[target].add(path)
        if venv is not None:
            deps[target].add(venv)

    for root in store_roots:
        add(root, "store")
    for venv in venvs:
        for d in _interpreter_dirs(venv):
            add(d, "interpreter", venv.path)
        for site in venv.site_packages:
            add(site, "site-packages", venv.path)
    return [
        WatchSpec(p, frozenset(kinds[p]), frozenset(deps.get(p, ())), frozenset(wanted.get(p, ())))
        for p in sorted(kinds)
    ]


def covered(by_path: Mapping[Path, WatchSpec], venv: Venv, never: Callable[[Path], bool]) -> bool:
    """Whether the plan already watches what ``venv`` depends on. A venv planned while
    it was being made (its links and pyvenv.cfg not written yet) is not covered."""
    needed = [*_interpreter_dirs(venv), *venv.site_packages]
    return all((target := nearest_existing(d)) in by_path or never(target) for d in needed)


def affected(specs: Sequence[WatchSpec], changed: Iterable[Path]) -> tuple[set[Path], bool]:
    """The venvs a batch of changed paths may affect, and whether to re-plan.

    A change in a store directory (a venv made or deleted) or one that makes a
    pending path appear or a watched directory vanish means the plan is stale.
    """
    by_path = {s.path: s for s in specs}
    venvs: set[Path] = set()
    replan = False
    for path in changed:
        for candidate in (path, path.parent):
            spec = by_path.get(candidate)
            if spec is None:
                continue
            venvs |= spec.venvs
            if spec.kinds & {"store", "pending"} or not spec.path.is_dir():
                replan = True
    return venvs, replan


def relevant(by_path: Mapping[Path, WatchSpec], path: Path, is_dir: bool) -> bool:
    """Can an event on ``path`` matter? (Anything else, a log file say, is ignored.)"""
    if path in by_path:
        return True  # the watched directory itself: deleted, moved
    spec = by_path.get(path.parent)
    if spec is None or "site-packages" in spec.kinds or is_dir:
        return True
    if any(w == path or path in w.parents for w in spec.wanted):
        return True
    return INTERPRETER_ENTRY.match(path.name) is not None or path.is_dir()
