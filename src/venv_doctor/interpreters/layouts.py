"""Where interpreters are installed, and which installation owns a path.

Homebrew (kegs ``Cellar/<formula>/<version>`` and their stable ``opt/<formula>``
links), pyenv (``$PYENV_ROOT/versions/<version>``), uv (``cpython-X.Y.Z-<platform>``
beside a ``cpython-X.Y-<platform>`` minor-version link), python.org frameworks and
the system's ``/usr/bin``. Diagnosis asks who removed a missing interpreter,
notifications name the installation that changed, the service check asks
whether an upgrade can take the service's interpreter away: all through
:func:`installation_of`. Nothing here starts a process.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from venv_doctor.config import Config
from venv_doctor.interpreters.versions import EXACT, PATCH, VERSIONED_NAME, version_from_path
from venv_doctor.model import links
from venv_doctor.model.venv import is_conda_dir, is_venv_dir, venv_of
from venv_doctor.paths import expand_user, home, pyenv_root, xdg_dir

CANDIDATE_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
FORMULA = re.compile(r"^python(?:@(\d+)\.(\d+))?$")
UV_DIR = re.compile(
    r"^cpython-(?P<version>\d+\.\d+)(?P<patch>\.\d+)?(?P<variant>[+a-z][^-]*)?-(?P<platform>.+)$"
)
_MINOR_DIR = re.compile(r"^(python@\d+\.\d+|\d+\.\d+|cpython-\d+\.\d+-.+)$")
_CELLAR = re.compile(r"/Cellar/([^/]+)(?:/([^/]+))?(?:/|$)")
_OPT = re.compile(r"/opt/(python@[^/]+)(?:/|$)")
_VERSIONS = re.compile(r"/versions/([^/]+)(?:/|$)")
_FRAMEWORK = re.compile(r"(/Python\.framework)(?:/Versions/([^/]+))?(?:/|$)")
_PYTHON_FILE = re.compile(r"^python\d*(\.\d+)?[a-z]?$")
DEFAULT_HOMEBREW_PREFIXES = ("/opt/homebrew", "/usr/local", "/home/linuxbrew/.linuxbrew")
FRAMEWORK_VERSIONS = Path("/Library/Frameworks/Python.framework/Versions")
SYSTEM_DIRS = (Path("/usr/bin"), Path("/usr/local/bin"))
SYSTEM_PREFIXES = ("/usr", "/usr/local", "/")


# --- which installation owns a path ---------------------------------------------------


class InstallKind(enum.StrEnum):
    HOMEBREW = "homebrew"
    PYENV = "pyenv"
    UV = "uv"
    FRAMEWORK = "framework"
    SYSTEM = "system"
    OTHER = "other"  # a prefix no tool is known to manage


@dataclass(frozen=True)
class Installation:
    """The installation a path lies in, and the directory that goes when it goes."""

    kind: InstallKind
    prefix: Path  # the keg or opt/<formula>, versions/<v>, the uv directory, Versions/<v>, /usr
    name: str = ""  # the formula, pyenv version, uv directory or framework version
    keg: str | None = None  # the keg's version, for a path inside Cellar/<formula>/<version>


def installation_of(path: Path | str, env: Mapping[str, str] | None = None) -> Installation:
    """Which installation owns ``path``, whether or not it still exists.

    ``env`` says where pyenv's root is when it is not named ``pyenv``; without
    it a pyenv version is recognised by a ``pyenv`` directory above ``versions/``.
    """
    text = str(path)
    return _homebrew(text) or _uv(text) or _pyenv(text, env) or _framework(text) or _by_prefix(text)


def _homebrew(text: str) -> Installation | None:
    if m := _CELLAR.search(text):
        formula, keg = m.group(1), m.group(2)
        prefix = text[: m.end(2) if keg else m.end(1)]
        return Installation(InstallKind.HOMEBREW, Path(prefix), formula, keg)
    if m := _OPT.search(text):
        return Installation(InstallKind.HOMEBREW, Path(text[: m.end(1)]), m.group(1))
    return None


def _uv(text: str) -> Installation | None:
    parts = PurePosixPath(text).parts
    for i, part in enumerate(parts):
        if UV_DIR.match(part):
            return Installation(InstallKind.UV, Path(*parts[: i + 1]), part)
    return None


def _pyenv(text: str, env: Mapping[str, str] | None) -> Installation | None:
    if env is not None:
        versions = f"{pyenv_root(env)}/versions/"
        version = text[len(versions) :].split("/", 1)[0] if text.startswith(versions) else ""
        if version:
            return Installation(InstallKind.PYENV, Path(versions + version), version)
    for m in _VERSIONS.finditer(text):
        if "pyenv" in text[: m.start()]:
            return Installation(InstallKind.PYENV, Path(text[: m.end(1)]), m.group(1))
    return None


def _framework(text: str) -> Installation | None:
    if m := _FRAMEWORK.search(text):
        version = m.group(2) or ""
        prefix = text[: m.end(2) if version else m.end(1)]
        return Installation(InstallKind.FRAMEWORK, Path(prefix), version)
    return None


def _by_prefix(text: str) -> Installation:
    """The prefix an interpreter path lies in (``/usr`` for ``/usr/bin/python3``)."""
    prefix = PurePosixPath(text.rstrip("/") or "/")
    if _PYTHON_FILE.match(prefix.name) or prefix.parent.name == "bin":
        prefix = prefix.parent
    if prefix.name == "bin":
        prefix = prefix.parent
    kind = InstallKind.SYSTEM if str(prefix) in SYSTEM_PREFIXES else InstallKind.OTHER
    return Installation(kind, Path(prefix))


# --- how long a path keeps reaching the same interpreter ------------------------------


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
    versioned = 1 if VERSIONED_NAME.match(path.name) else 0
    if "Cellar" in dirs or any(_is_uv_patch_dir(d) for d in dirs):
        return (0, versioned)
    if any(PATCH.search(d) for d in dirs):
        return (2, versioned)
    if versioned or any(_MINOR_DIR.match(d) for d in dirs):
        return (3, versioned)
    return (1, versioned)


def _is_uv_patch_dir(name: str) -> bool:
    match = UV_DIR.match(name)
    return bool(match and match.group("patch"))


def _minor_named_by(path: Path) -> str | None:
    """The minor version a path names, without looking at the disk."""
    match = VERSIONED_NAME.match(path.name)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    for part in reversed(path.parts[:-1]):
        formula = FORMULA.match(part)
        if formula and formula.group(1):
            return f"{formula.group(1)}.{formula.group(2)}"
        uv = UV_DIR.match(part)
        if uv:
            return uv.group("version")
        exact = EXACT.match(part)
        if exact:
            return f"{exact.group(1)}.{exact.group(2)}"
    return None


def _minor_reached(path: Path) -> str | None:
    """The minor version of the interpreter ``path`` reaches on disk now."""
    real = Path(os.path.realpath(path))
    return version_from_path(real).minor or _minor_named_by(path)


def homebrew_dirs(env: Mapping[str, str]) -> list[tuple[Path, Path]]:
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
    pairs = homebrew_dirs(env)
    for i in range(len(parts) - 3):
        if parts[i] == "Cellar":  # the Cellar's own parent is a prefix with opt/ beside it
            pairs.append((Path(*parts[: i + 1]), Path(*parts[:i]) / "opt"))
    forms = []
    for cellar, opt in pairs:
        try:
            rest = path.relative_to(cellar).parts
        except ValueError:
            continue
        if len(rest) >= 3 and FORMULA.match(rest[0]):
            keg = opt / rest[0]
            forms += [keg / "bin" / path.name, keg.joinpath(*rest[2:])]
    return forms


def _uv_minor_form(path: Path) -> Path | None:
    """``cpython-3.12-<platform>/...`` for a path in ``cpython-3.12.1-<platform>/...``."""
    parts = path.parts
    for i, part in enumerate(parts):
        match = UV_DIR.match(part)
        if match and match.group("patch"):
            variant = match.group("variant") or ""
            minor_dir = f"cpython-{match.group('version')}{variant}-{match.group('platform')}"
            return Path(*parts[:i], minor_dir, *parts[i + 1 :])
    return None


def _versioned_sibling(path: Path) -> Path | None:
    minor = version_from_path(Path(os.path.realpath(path))).minor
    if minor and not VERSIONED_NAME.match(path.name):
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
        and not inside_venv(p)
        and (minor is None or _minor_reached(p) == minor)
    ]
    return max(usable, key=stability) if usable else path


def inside_venv(path: Path) -> bool:
    return venv_of(path) is not None


# --- where interpreters live ----------------------------------------------------------


def _pythons_in(directory: Path) -> list[Path]:
    """Files named python, python3 or pythonX.Y in ``directory`` (never raises)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / n for n in sorted(names) if CANDIDATE_NAME.match(n)]


def _subdirs(directory: Path) -> list[Path]:
    try:
        return [directory / n for n in sorted(os.listdir(directory))]
    except OSError:
        return []


def _homebrew_candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for cellar, opt in homebrew_dirs(env):
        for formula in _subdirs(opt) + _subdirs(cellar):
            if not FORMULA.match(formula.name):
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
        # pyenv-virtualenv puts env links (and env dirs) beside the versions: skip them,
        # and pyenv's conda installations (miniconda3-latest), which are not bases for venvs
        if is_venv_dir(version_dir) or is_conda_dir(version_dir):
            continue
        found += _pythons_in(version_dir / "bin")
    return found


def uv_python_dir(env: Mapping[str, str]) -> Path:
    value = env.get("UV_PYTHON_INSTALL_DIR")
    if value:
        return expand_user(value, home(env))
    return xdg_dir(env, "XDG_DATA_HOME", ".local/share") / "uv" / "python"


def _uv_candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for install in _subdirs(uv_python_dir(env)):
        if UV_DIR.match(install.name):
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


def candidates(config: Config, env: Mapping[str, str]) -> list[tuple[Path, str]]:
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
