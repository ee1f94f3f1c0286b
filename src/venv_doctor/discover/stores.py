"""Where each tool keeps its venvs, and finding the venvs in them.

Every root comes from the tool's own override variable first, then the
platform default (see BRIEF.md's table). A store that does not exist is empty.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.config import Config
from venv_doctor.model.venv import Location, is_venv_dir, unlistable_dir
from venv_doctor.paths import expand_user, home, is_macos, mac_app_support, pyenv_root, xdg_dir


@dataclass(frozen=True)
class Store:
    """A directory of venvs. ``depth`` is how many directory levels below
    ``root`` a venv sits (hatch nests project/hash/env); ``single`` marks a
    store root that is itself one venv (pipx's shared libraries)."""

    name: str
    root: Path
    depth: int = 1
    single: bool = False
    subdir: str | None = None  # pyenv-virtualenv: versions/*/<subdir>/*


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    if not value:
        return None
    p = expand_user(value, home(env))
    return p if p.is_absolute() else home(env) / p


def _workon_home(env: Mapping[str, str]) -> Path:
    return _env_path(env, "WORKON_HOME") or home(env) / ".virtualenvs"


def _pipx_home(env: Mapping[str, str]) -> Path:
    explicit = _env_path(env, "PIPX_HOME")
    if explicit:
        return explicit
    legacy = home(env) / ".local" / "pipx"
    if legacy.is_dir():
        return legacy
    if is_macos():
        return mac_app_support(env) / "pipx"
    return xdg_dir(env, "XDG_DATA_HOME", ".local/share") / "pipx"


def _poetry_venvs(env: Mapping[str, str]) -> Path:
    explicit = _env_path(env, "POETRY_VIRTUALENVS_PATH")
    if explicit:
        return explicit
    cache = _env_path(env, "POETRY_CACHE_DIR")
    if cache:
        return cache / "virtualenvs"
    if is_macos():
        return home(env) / "Library" / "Caches" / "pypoetry" / "virtualenvs"
    return xdg_dir(env, "XDG_CACHE_HOME", ".cache") / "pypoetry" / "virtualenvs"


def _data_dir(env: Mapping[str, str], app: str) -> Path:
    if is_macos():
        return mac_app_support(env) / app
    return xdg_dir(env, "XDG_DATA_HOME", ".local/share") / app


def _uv_tools(env: Mapping[str, str]) -> Path:
    explicit = _env_path(env, "UV_TOOL_DIR")
    if explicit:
        return explicit
    return xdg_dir(env, "XDG_DATA_HOME", ".local/share") / "uv" / "tools"


def known_stores(config: Config, env: Mapping[str, str]) -> list[Store]:
    """Every store searched, in a stable order, tool defaults before user extras."""
    pipx = _pipx_home(env)
    hatch = _env_path(env, "HATCH_DATA_DIR") or _data_dir(env, "hatch")
    stores = [
        Store("multivenv", home(env) / ".multivenv"),
        Store("virtualenvwrapper", _workon_home(env)),
        Store("pipx", pipx / "venvs"),
        Store("pipx", pipx / "shared", single=True),
        Store("pyenv-virtualenv", pyenv_root(env) / "versions", depth=2, subdir="envs"),
        Store("poetry", _poetry_venvs(env)),
        Store("hatch", hatch / "env" / "virtual", depth=3),
        Store("uv-tools", _uv_tools(env)),
        Store("pdm", _data_dir(env, "pdm") / "venvs"),
    ]
    if is_macos():
        stores.append(Store("uv-tools", mac_app_support(env) / "uv" / "tools"))
    stores.extend(Store("extra", root) for root in config.extra_stores)
    return stores


def _subdirs(path: Path | str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError:
        return []
    return sorted(
        (e for e in entries if not e.name.startswith(".") and _is_dir(e)), key=lambda e: e.name
    )


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows links: a linked venv counts, a dangling link not
    except OSError:
        return False


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()  # the directory listing's answer: no system call
    except OSError:
        return False


def _candidates(store: Store) -> Iterator[tuple[str, str, bool, bool]]:
    """(name, path, is a link, plain) of each directory where ``store`` may hold a venv;
    paths as text, as a store may list thousands. ``plain``: no directory between the
    store's root and the path's own directory is a link (the listings say so), so its
    real path is the root's real path and the rest as listed."""
    if store.single:
        if store.root.is_dir():
            yield store.root.name, str(store.root), store.root.is_symlink(), False
        return
    if store.subdir:  # pyenv: versions/<ver>/envs/<env>
        for version in _subdirs(store.root):
            if _is_link(version):
                continue  # pyenv-virtualenv's versions/<env> link to versions/<ver>/envs/<env>
            for env_entry in _subdirs(os.path.join(version.path, store.subdir)):
                yield env_entry.name, env_entry.path, _is_link(env_entry), False
        return
    yield from _walk(str(store.root), store.depth, (), True)


def _walk(
    root: str, depth: int, prefix: tuple[str, ...], plain: bool
) -> Iterator[tuple[str, str, bool, bool]]:
    for entry in _subdirs(root):
        parts = (*prefix, entry.name)
        if depth == 1:
            # hatch nests <project>/<hash>/<env>: the name a user knows is project/env
            name = parts[0] if len(parts) == 1 else f"{parts[0]}/{parts[-1]}"
            yield name, entry.path, _is_link(entry), plain
        else:
            yield from _walk(entry.path, depth - 1, parts, plain and not _is_link(entry))


class _RealPaths:
    """``realpath`` of the venvs of one store, with what the listings said: the store's
    root is resolved once, and a path under it through no link is the rest as listed
    (hatch's thousands of project/hash/ directories cost no system call each)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._real_root: str | None = None
        self._dirs: dict[str, str] = {}  # a directory's real path
        self._paths: dict[str, Path] = {}  # the Path of each real directory of venvs

    def of(self, path: str, is_link: bool, plain: bool) -> Path:
        parent, name = path.rpartition("/")[::2]
        if not parent or not name or name in (".", "..") or is_link:
            return Path(os.path.realpath(path))
        if (real_parent := self._dirs.get(parent)) is None:
            real_parent = self._dirs[parent] = self._real_dir(parent, plain)
        if (base := self._paths.get(real_parent)) is None:
            base = self._paths[real_parent] = Path(real_parent)
        return base / name  # one component: cheaper than parsing the whole path again

    def _real_dir(self, directory: str, plain: bool) -> str:
        root = self.root
        if plain and root != "/" and (directory == root or directory.startswith(root + "/")):
            if self._real_root is None:
                self._real_root = os.path.realpath(root)
            return self._real_root + directory[len(root) :]
        return os.path.realpath(directory)


def _entries(store: Store) -> Iterator[tuple[Location, bool]]:
    """Each venv of ``store`` at its real path, and whether the entry is a symlink."""
    reals = _RealPaths(str(store.root))
    for name, path, is_link, plain in _candidates(store):
        if is_venv_dir(path) or unlistable_dir(path):
            yield (
                Location(name=name, path=reals.of(path, is_link, plain), store=store.name),
                is_link,
            )


def store_venvs(store: Store) -> list[Location]:
    """The venvs in one store, each at its real path."""
    return [location for location, _ in _entries(store)]


def discover(stores: Iterable[Store], tracked: Iterable[Location] = ()) -> list[Location]:
    """Every venv once, by real path.

    The store that holds the venv itself names it: a symlinked entry that reaches
    a venv of another store (``~/.multivenv/x -> ~/.virtualenvs/x``) only counts
    when nothing holds it directly. Tracked venvs come last.
    """
    seen: dict[Path, Location] = {}
    linked: set[Path] = set()
    for store in stores:
        for location, is_link in _entries(store):
            if location.path not in seen or (location.path in linked and not is_link):
                seen[location.path] = location
                linked.discard(location.path)
                if is_link:
                    linked.add(location.path)
    for location in tracked:
        seen.setdefault(location.path, location)
    return list(seen.values())
