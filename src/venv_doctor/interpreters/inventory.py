"""What a path to a Python interpreter tells about its version, without running it.

The inventory of every interpreter on the machine (for repair) builds on these.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from venv_doctor import runner
from venv_doctor.config import Config
from venv_doctor.errors import UsageError
from venv_doctor.fsutil import SMALL_FILE, atomic_write, read_bounded, read_json
from venv_doctor.model import links
from venv_doctor.model.venv import Venv
from venv_doctor.paths import app_dirs, pyenv_root, xdg_dir
from venv_doctor.runner import CommandError

_VERSIONED_NAME = re.compile(r"^python(\d+)\.(\d+)[a-z]*$")
_PATCH = re.compile(r"(?<![\d.])(\d+)\.(\d+)\.(\d+)(?![\d.]*\d)")
_LIB_DIR = re.compile(r"^python(\d+)\.(\d+)t?$")


@dataclass(frozen=True)
class PathVersion:
    minor: str | None  # "3.12", from the binary's name or its prefix's lib/pythonX.Y
    full: str | None  # "3.12.1", when a path component names the patch release


def lib_minors(prefix: Path) -> list[str]:
    """Minor versions whose standard library lives under ``prefix/lib``."""
    try:
        names = os.listdir(prefix / "lib")
    except OSError:
        return []
    found = []
    for name in names:
        match = _LIB_DIR.match(name)
        if match and os.path.exists(prefix / "lib" / name / "os.py"):
            found.append(f"{match.group(1)}.{match.group(2)}")
    return sorted(found)


def version_from_path(real: Path) -> PathVersion:
    """Read the version from a resolved interpreter file's name and location.

    ``python3.12`` names its minor; a bare ``python3`` is placed by the
    standard library beside it (``../lib/python3.12/os.py``). The patch level
    comes from a directory such as ``Cellar/python@3.12/3.12.1`` or
    ``versions/3.12.1`` when one is on the path.
    """
    minor = None
    match = _VERSIONED_NAME.match(real.name)
    if match:
        minor = f"{match.group(1)}.{match.group(2)}"
    else:
        minors = lib_minors(real.parent.parent)
        if len(minors) == 1:
            minor = minors[0]
    full = None
    if minor:
        for part in reversed(real.parent.parts):
            for m in _PATCH.finditer(part):
                if f"{m.group(1)}.{m.group(2)}" == minor:
                    full = f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
                    break
            if full:
                break
    return PathVersion(minor=minor, full=full)


# --- the inventory of every CPython on the machine (for repair) ----------------------

SOURCES = ("homebrew", "pyenv", "uv", "framework", "system", "extra", "path")
_CANDIDATE_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
_EXACT = re.compile(r"^(\d+)\.(\d+)\.(\d+)")
_SPEC = re.compile(r"^(?:c?python-?|py)?(\d+)\.(\d+)(?:\.(\d+))?$")
_FORMULA = re.compile(r"^python(?:@(\d+)\.(\d+))?$")
_UV_DIR = re.compile(
    r"^cpython-(?P<version>\d+\.\d+)(?P<patch>\.\d+)?(?P<variant>[+a-z][^-]*)?-(?P<platform>.+)$"
)
_MINOR_DIR = re.compile(r"^(python@\d+\.\d+|\d+\.\d+|cpython-\d+\.\d+-.+)$")
_PY_VERSION = re.compile(rb'#define\s+PY_VERSION\s+"(\d+\.\d+\.\d+)')
_PROBE_CODE = (
    "import sys\n"
    "n = getattr(getattr(sys, 'implementation', None), 'name', None)\n"
    "if n is None:\n"
    "    import platform\n"
    "    n = platform.python_implementation().lower()\n"
    "v = sys.version_info\n"
    "sys.stdout.write('%s %d.%d.%d\\n' % (n, v[0], v[1], v[2]))\n"
)
PROBE_TIMEOUT = 15.0
CACHE_NAME = "interpreters.json"
DEFAULT_HOMEBREW_PREFIXES = ("/opt/homebrew", "/usr/local", "/home/linuxbrew/.linuxbrew")
FRAMEWORK_VERSIONS = Path("/Library/Frameworks/Python.framework/Versions")
SYSTEM_DIRS = (Path("/usr/bin"), Path("/usr/local/bin"))


@dataclass(frozen=True)
class Interpreter:
    """A CPython on this machine and the most stable path that reaches it."""

    path: Path  # what a venv should link to
    real: Path  # os.path.realpath of path
    version: str  # "3.12.1"
    source: str  # one of SOURCES

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.version.split("."))


def stability(path: Path) -> tuple[int, int]:
    """How long ``path`` keeps reaching the same interpreter; higher is better.

    0: a Homebrew keg or a uv patch directory, gone at the next patch upgrade;
    1: an unversioned name in a shared directory (``/usr/bin/python3``), which
    may move to another minor; 2: a directory naming the patch release
    (pyenv's ``versions/3.12.1``), gone when uninstalled; 3: a path tied to the
    minor only (``opt/python@3.12``, uv's ``cpython-3.12-*``, ``/usr/bin/python3.12``).
    The second number prefers ``python3.12`` over ``python3`` in the same place.
    """
    dirs = path.parts[:-1]
    versioned = 1 if _VERSIONED_NAME.match(path.name) else 0
    if "Cellar" in dirs or any(_is_uv_patch_dir(d) for d in dirs):
        return (0, versioned)
    if any(_PATCH.search(d) for d in dirs):
        return (2, versioned)
    if versioned or any(_MINOR_DIR.match(d) for d in dirs):
        return (3, versioned)
    return (1, versioned)


def _is_uv_patch_dir(name: str) -> bool:
    match = _UV_DIR.match(name)
    return bool(match and match.group("patch"))


def _minor_named_by(path: Path) -> str | None:
    """The minor version a path names, without looking at the disk."""
    match = _VERSIONED_NAME.match(path.name)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    for part in reversed(path.parts[:-1]):
        formula = _FORMULA.match(part)
        if formula and formula.group(1):
            return f"{formula.group(1)}.{formula.group(2)}"
        uv = _UV_DIR.match(part)
        if uv:
            return uv.group("version")
        exact = _EXACT.match(part)
        if exact:
            return f"{exact.group(1)}.{exact.group(2)}"
    return None


def _minor_reached(path: Path) -> str | None:
    """The minor version of the interpreter ``path`` reaches on disk now."""
    real = Path(os.path.realpath(path))
    return version_from_path(real).minor or _minor_named_by(path)


def _homebrew_dirs(env: Mapping[str, str]) -> list[tuple[Path, Path]]:
    """(Cellar, opt) directory pairs: ``$HOMEBREW_PREFIX`` first, then the defaults."""
    pairs = []
    prefix = env.get("HOMEBREW_PREFIX")
    if prefix:
        cellar = env.get("HOMEBREW_CELLAR") or os.path.join(prefix, "Cellar")
        pairs.append((Path(cellar), Path(prefix) / "opt"))
    pairs += [(Path(p) / "Cellar", Path(p) / "opt") for p in DEFAULT_HOMEBREW_PREFIXES]
    return pairs


def _opt_forms(path: Path, env: Mapping[str, str]) -> list[Path]:
    """``opt/<formula>`` paths for a path inside a Homebrew keg (``Cellar/<formula>/<version>``)."""
    parts = path.parts
    pairs = _homebrew_dirs(env)
    for i in range(len(parts) - 3):
        if parts[i] == "Cellar":  # the Cellar's own parent is a prefix with opt/ beside it
            pairs.append((Path(*parts[: i + 1]), Path(*parts[:i]) / "opt"))
    forms = []
    for cellar, opt in pairs:
        try:
            rest = path.relative_to(cellar).parts
        except ValueError:
            continue
        if len(rest) >= 3 and _FORMULA.match(rest[0]):
            keg = opt / rest[0]
            forms += [keg / "bin" / path.name, keg.joinpath(*rest[2:])]
    return forms


def _uv_minor_form(path: Path) -> Path | None:
    """``cpython-3.12-<platform>/...`` for a path in ``cpython-3.12.1-<platform>/...``."""
    parts = path.parts
    for i, part in enumerate(parts):
        match = _UV_DIR.match(part)
        if match and match.group("patch"):
            variant = match.group("variant") or ""
            minor_dir = f"cpython-{match.group('version')}{variant}-{match.group('platform')}"
            return Path(*parts[:i], minor_dir, *parts[i + 1 :])
    return None


def _versioned_sibling(path: Path) -> Path | None:
    minor = version_from_path(Path(os.path.realpath(path))).minor
    if minor and not _VERSIONED_NAME.match(path.name):
        return path.with_name(f"python{minor}")
    return None


def stable_path_for(real_or_link: Path, env: Mapping[str, str]) -> Path:
    """The most stable path that reaches an interpreter of the same minor version.

    A Homebrew keg path becomes ``$PREFIX/opt/python@X.Y/bin/pythonX.Y`` when
    that reaches the same minor; a uv patch directory becomes its minor-version
    link directory; ``python3`` becomes ``python3.12`` beside it. Every hop of
    a link chain is considered. A dangling path (a keg removed by an upgrade)
    maps to the stable path of its successor; with nothing better the path is
    returned unchanged.
    """
    path = Path(os.path.abspath(real_or_link))
    minor = _minor_named_by(path) if not os.path.exists(path) else _minor_reached(path)
    options: list[Path] = []
    for hop in (path, *links.follow(path).hops):
        forms = [*_opt_forms(hop, env), *filter(None, [_uv_minor_form(hop)]), hop]
        for form in forms:
            options += filter(None, [form, _versioned_sibling(form)])
    usable = [
        p
        for p in options
        if os.path.isfile(p)
        and not _inside_venv(p)
        and (minor is None or _minor_reached(p) == minor)
    ]
    return max(usable, key=stability) if usable else path


def _inside_venv(path: Path) -> bool:
    return os.path.exists(path.parent.parent / "pyvenv.cfg")


# --- reading a version cheaply --------------------------------------------------------


def _patchlevel_version(real: Path, minor: str) -> str | None:
    """PY_VERSION from ``include/pythonX.Y*/patchlevel.h`` beside the stdlib, if both exist."""
    prefix = real.parent.parent
    if minor not in lib_minors(prefix):
        return None
    for name in (f"python{minor}", f"python{minor}m", f"python{minor}d"):
        try:
            head = read_bounded(prefix / "include" / name / "patchlevel.h", SMALL_FILE)
        except OSError:
            continue
        if b"PYPY_VERSION" in head:
            return None
        match = _PY_VERSION.search(head)
        if match and match.group(1).decode().startswith(minor + "."):
            return match.group(1).decode()
    return None


def _looks_like_binary(real: Path) -> bool:
    """A real interpreter is an executable binary; pyenv shims and wrappers are scripts."""
    try:
        head = read_bounded(real, 2, truncate=True)
    except OSError:
        return False
    return head != b"#!" and os.access(real, os.X_OK)


class ProbeCache:
    """Probe results kept in a JSON file, keyed by real path, mtime and size."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.changed = False
        try:
            data = read_json(path, follow_symlinks=False)
            entries = data["entries"] if isinstance(data, dict) else {}
        except (OSError, ValueError, KeyError):
            entries = {}
        self.entries: dict[str, Any] = entries if isinstance(entries, dict) else {}

    @staticmethod
    def _stamp(real: Path) -> list[int] | None:
        try:
            st = os.stat(real)
        except OSError:
            return None
        return [st.st_mtime_ns, st.st_size]

    def get(self, real: Path) -> tuple[str, str] | None:
        entry = self.entries.get(str(real))
        if isinstance(entry, dict) and entry.get("stamp") == self._stamp(real):
            return str(entry.get("implementation")), str(entry.get("version"))
        return None

    def put(self, real: Path, implementation: str, version: str) -> None:
        self.entries[str(real)] = {
            "stamp": self._stamp(real),
            "implementation": implementation,
            "version": version,
        }
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        kept = {k: v for k, v in self.entries.items() if os.path.exists(k)}
        # a cache that cannot be written costs one probe next time
        with contextlib.suppress(OSError):
            atomic_write(self.path, json.dumps({"schema_version": 1, "entries": kept}, indent=1))


def _probe(path: Path, real: Path, cache: ProbeCache) -> str | None:
    """The CPython version from one run of the interpreter (cached), else None."""
    known = cache.get(real)
    if known is None:
        try:
            done = runner.run([path, "-E", "-s", "-c", _PROBE_CODE], timeout=PROBE_TIMEOUT)
        except CommandError:
            return None
        fields = done.stdout.split()
        if not done.ok or len(fields) != 2 or not _EXACT.match(fields[1]):
            return None
        known = (fields[0], fields[1])
        cache.put(real, *known)
    implementation, version = known
    return version if implementation == "cpython" else None


def _read_version(path: Path, real: Path, cache: ProbeCache) -> str | None:
    guess = version_from_path(real)
    if guess.full:
        return guess.full
    if guess.minor:
        found = _patchlevel_version(real, guess.minor)
        if found:
            return found
    version = _probe(path, real, cache)
    if version and guess.minor and not version.startswith(guess.minor + "."):
        return None  # the name says another minor than the binary: not to be trusted
    return version


def describe(
    path: Path,
    source: str = "path",
    env: Mapping[str, str] | None = None,
    cache: ProbeCache | None = None,
) -> Interpreter | None:
    """The Interpreter at ``path``, or None when it is not a working CPython."""
    env = os.environ if env is None else env
    if not os.path.isfile(path) or _inside_venv(path):
        return None
    real = Path(os.path.realpath(path))
    if not _CANDIDATE_NAME.match(real.name) or not _looks_like_binary(real):
        return None
    cache = cache or ProbeCache(app_dirs(env).cache / CACHE_NAME)
    version = _read_version(Path(path), real, cache)
    if version is None:
        return None
    stable = stable_path_for(Path(path), env)
    if os.path.realpath(stable) != str(real):
        stable = Path(os.path.abspath(path))  # e.g. an old keg kept beside a newer one
    return Interpreter(path=stable, real=real, version=version, source=source)


# --- where interpreters live ----------------------------------------------------------


def _pythons_in(directory: Path) -> list[Path]:
    """Files named python, python3 or pythonX.Y in ``directory`` (never raises)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / n for n in sorted(names) if _CANDIDATE_NAME.match(n)]


def _subdirs(directory: Path) -> list[Path]:
    try:
        return [directory / n for n in sorted(os.listdir(directory))]
    except OSError:
        return []


def _homebrew_candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for cellar, opt in _homebrew_dirs(env):
        for formula in _subdirs(opt) + _subdirs(cellar):
            if not _FORMULA.match(formula.name):
                continue
            kegs = [formula] if formula.parent == opt else _subdirs(formula)
            for keg in kegs:
                found += _pythons_in(keg / "bin")
                for fw in _subdirs(keg / "Frameworks" / "Python.framework" / "Versions"):
                    found += _pythons_in(fw / "bin")
    return found


def _pyenv_candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for version_dir in _subdirs(pyenv_root(env) / "versions"):
        # pyenv-virtualenv puts env links (and env dirs) beside the versions: skip them
        if os.path.exists(version_dir / "pyvenv.cfg") or os.path.exists(
            version_dir / "bin" / "activate"
        ):
            continue
        found += _pythons_in(version_dir / "bin")
    return found


def uv_python_dir(env: Mapping[str, str]) -> Path:
    value = env.get("UV_PYTHON_INSTALL_DIR")
    if value:
        return Path(value).expanduser()
    return xdg_dir(env, "XDG_DATA_HOME", ".local/share") / "uv" / "python"


def _uv_candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for install in _subdirs(uv_python_dir(env)):
        if _UV_DIR.match(install.name):
            found += _pythons_in(install / "bin") + _pythons_in(install / "install" / "bin")
    return found


def _framework_candidates() -> list[Path]:
    found: list[Path] = []
    for version in _subdirs(FRAMEWORK_VERSIONS):
        found += _pythons_in(version / "bin")
    return found


def _extra_candidates(config: Config) -> list[Path]:
    found: list[Path] = []
    for path in config.extra_interpreters:
        if os.path.isdir(path):
            found += _pythons_in(path / "bin") + _pythons_in(path)
        else:
            found.append(path)
    return found


def _path_candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry and os.path.isabs(entry):
            found += _pythons_in(Path(entry))
    return found


def _candidates(config: Config, env: Mapping[str, str]) -> list[tuple[Path, str]]:
    """Every path that may be an interpreter, with its source, most specific source first."""
    system: list[Path] = []
    for directory in SYSTEM_DIRS:
        system += _pythons_in(directory)
    groups = {
        "homebrew": _homebrew_candidates(env),
        "pyenv": _pyenv_candidates(env),
        "uv": _uv_candidates(env),
        "framework": _framework_candidates(),
        "system": system,
        "extra": _extra_candidates(config),
        "path": _path_candidates(env),
    }
    return [(path, source) for source, paths in groups.items() for path in paths]


def inventory(
    config: Config, env: Mapping[str, str] | None = None, probe_cache: Path | None = None
) -> list[Interpreter]:
    """Every CPython on the machine, once each (by file identity), by version."""
    env = os.environ if env is None else env
    cache = ProbeCache(probe_cache or app_dirs(env).cache / CACHE_NAME)
    best: dict[tuple[int, int], Interpreter] = {}
    seen: set[str] = set()
    for path, source in _candidates(config, env):
        if str(path) in seen:
            continue
        seen.add(str(path))
        found = describe(path, source, env, cache)
        identity = _identity(found.real) if found else None
        if found is None or identity is None:
            continue
        kept = best.get(identity)
        if kept is None or stability(found.path) > stability(kept.path):
            best[identity] = found
    cache.save()
    return sorted(best.values(), key=lambda i: (i.version_tuple, str(i.path)))


def _identity(real: Path) -> tuple[int, int] | None:
    """Device and inode: hard links (python3.7 / python3.7m) are one interpreter."""
    try:
        st = os.stat(real)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


# --- choosing one ---------------------------------------------------------------------


def best_for(interpreters: Sequence[Interpreter], minor: str) -> Interpreter | None:
    """The interpreter of ``minor`` with the most stable path, then the newest patch."""
    same = [i for i in interpreters if i.minor == minor]
    if not same:
        return None
    return max(same, key=lambda i: (stability(i.path), i.version_tuple))


def resolve_spec(spec: str, interpreters: Sequence[Interpreter]) -> Interpreter:
    """``--python``: "3.13", "3.13.0", "python3.13" or a path to an interpreter."""
    text = spec.strip()
    if os.sep in text or text.startswith(("~", ".")):
        return _resolve_path(Path(text).expanduser(), interpreters)
    match = _SPEC.match(text)
    if not match:
        raise UsageError(
            f"--python {spec}: expected a version such as 3.12 or 3.12.1, or a path",
            hint=_what_exists(interpreters),
        )
    major, minor, patch = match.groups()
    wanted = f"{major}.{minor}"
    if patch is None:
        found = best_for(interpreters, wanted)
    else:
        wanted = f"{wanted}.{patch}"
        exact = [i for i in interpreters if i.version == wanted]
        found = max(exact, key=lambda i: stability(i.path)) if exact else None
    if found is None:
        raise UsageError(
            f"no CPython {wanted} found on this machine", hint=_what_exists(interpreters)
        )
    return found


def _resolve_path(path: Path, interpreters: Sequence[Interpreter]) -> Interpreter:
    real = os.path.realpath(path)
    for interpreter in interpreters:
        if str(interpreter.real) == real:
            return interpreter  # reached by its most stable path
    if _inside_venv(Path(os.path.abspath(path))):
        raise UsageError(
            f"{path} is the interpreter of a virtual environment",
            hint="give the base interpreter it was made from (`venv-doctor interpreters` lists them)",
        )
    found = describe(path, "path")
    if found is None:
        raise UsageError(
            f"{path}: not a working CPython interpreter", hint=_what_exists(interpreters)
        )
    return found


def _what_exists(interpreters: Sequence[Interpreter]) -> str:
    if not interpreters:
        return "no CPython interpreter was found; add one to [interpreters] extra in config.toml"
    listed = ", ".join(f"{i.version} ({i.path})" for i in interpreters)
    return f"found: {listed}"


Neighbourhood = dict[Path, Interpreter | None]


def neighbours(
    venv: Venv, env: Mapping[str, str] | None = None, memo: Neighbourhood | None = None
) -> list[Interpreter]:
    """Interpreters found from where a venv's links lead, even dangling ones.

    A keg removed by ``brew upgrade`` still names its prefix, and
    ``$PREFIX/opt/python@X.Y`` reaches the upgraded keg, whether or not
    HOMEBREW_PREFIX is set (a Homebrew in a custom prefix, the daemon under
    systemd); the same goes for uv's minor-version directories.

    ``memo`` (hop -> what it leads to) is shared by the venvs of one command or
    one batch: a hundred venvs broken by one upgrade share their dangling link.
    """
    env = os.environ if env is None else env
    memo = {} if memo is None else memo
    found: dict[Path, Interpreter] = {}
    for py in venv.pythons:
        for hop in py.chain.hops:
            if hop.parent == venv.path / "bin":
                continue
            if hop not in memo:
                memo[hop] = _neighbour(hop, env)
            described = memo[hop]
            if described is not None and described.path not in found:
                found[described.path] = described
    return list(found.values())


def _neighbour(hop: Path, env: Mapping[str, str]) -> Interpreter | None:
    stable = stable_path_for(hop, env)
    if stable == hop or not stable.exists():
        return None
    return describe(stable, "stable", env)
