"""Which venvs depend on which interpreter: the question to ask before removing a Python.

A venv depends on the real interpreter files it reaches: through its ``bin/python*``
links, through ``home`` when its interpreter is a copy (the copy needs the base's
libpython and standard library), and through console scripts whose shebang names an
interpreter outside the venv. All of it is read from disk; nothing is started.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.interpreters.inventory import Interpreter
from venv_doctor.interpreters.layouts import InstallKind, installation_of
from venv_doctor.model.venv import Venv
from venv_doctor.paths import expand_user

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
_FORMULA = re.compile(r"^python@(\d+\.\d+)$")


@dataclass(frozen=True)
class Dependency:
    """One venv's reason to need an interpreter file."""

    venv: Venv
    through: str  # "link", "home" or "shebang"


def _real(path: str | Path) -> str | None:
    real = os.path.realpath(path)
    return real if os.path.isfile(real) else None


def _home_binaries(venv: Venv) -> Iterable[str]:
    home = venv.cfg.home if venv.cfg else None
    if not home:
        return
    for python in venv.pythons:
        real = _real(os.path.join(home, python.name))
        if real:
            yield real


def reached(venv: Venv) -> dict[str, str]:
    """Every real interpreter file the venv needs, with how it is reached."""
    found: dict[str, str] = {}
    inside = str(venv.path) + os.sep
    for python in venv.pythons:
        end = python.chain.resolved
        if end is not None and not str(end).startswith(inside):
            found.setdefault(str(end), "link")
        elif python.is_copy:
            for real in _home_binaries(venv):
                found.setdefault(real, "home")
    for script in venv.scripts:
        if not script.interpreter.startswith(inside) and os.path.isabs(script.interpreter):
            target = _real(script.interpreter)
            if target:
                found.setdefault(target, "shebang")
    return found


def route(venv: Venv) -> set[str]:
    """Every path a venv's interpreter links pass through (each hop, as written) and
    ``home``: removing a directory on the way breaks the venv wherever the real file is."""
    hops = {str(hop) for python in venv.pythons for hop in python.chain.hops}
    home = venv.cfg.home if venv.cfg else None
    return hops | ({os.path.normpath(home)} if home else set())


def dependents(
    interpreters: Sequence[Interpreter], venvs: Iterable[Venv]
) -> dict[Path, list[Dependency]]:
    """For each interpreter (by its stable path), the venvs that need it."""
    by_real: dict[str, list[Interpreter]] = {}
    for interpreter in interpreters:
        by_real.setdefault(str(interpreter.real), []).append(interpreter)
    out: dict[Path, list[Dependency]] = {i.path: [] for i in interpreters}
    for venv in venvs:
        for real, through in reached(venv).items():
            for interpreter in by_real.get(real, ()):
                out[interpreter.path].append(Dependency(venv, through))
    return out


def matches(spec: str, interpreter: Interpreter) -> bool:
    """``spec`` names this interpreter: a path (of it, of its real file, or of an
    installation directory holding it; ``~`` already expanded), a version (``3.12`` or
    ``3.12.1``, which is also a pyenv version name) or a Homebrew formula (``python@3.12``)."""
    formula = _FORMULA.match(spec)
    if formula:
        owners = (installation_of(interpreter.real), installation_of(interpreter.path))
        return interpreter.minor == formula.group(1) and any(
            o.kind is InstallKind.HOMEBREW and o.name == spec for o in owners
        )
    if _VERSION.match(spec):
        return spec in (interpreter.version, interpreter.minor)
    return _path_matches(Path(spec), interpreter)


def _path_matches(path: Path, interpreter: Interpreter) -> bool:
    spec = os.path.realpath(path)
    real = str(interpreter.real)
    if spec == real or os.path.abspath(path) == str(interpreter.path):
        return True
    return os.path.isdir(spec) and real.startswith(spec.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class Usage:
    """The interpreters a spec names and the venvs that need any of them."""

    interpreters: tuple[Interpreter, ...]
    venvs: tuple[Dependency, ...]


def usage(
    spec: str, interpreters: Sequence[Interpreter], venvs: Iterable[Venv], *, home_dir: Path
) -> Usage | None:
    """What depends on ``spec``; None when it names no interpreter and no existing path.
    A ``~`` in ``spec`` is ``home_dir`` (the Context's HOME)."""
    if spec.startswith("~"):
        with contextlib.suppress(RuntimeError):  # ~user of no such user: matches nothing
            spec = str(expand_user(spec, home_dir))
    named = tuple(i for i in interpreters if matches(spec, i))
    reals = {str(i.real) for i in named}
    as_path = os.path.realpath(spec) if os.sep in spec else None
    if not named and not (as_path and os.path.exists(as_path)):
        return None
    found = []
    for venv in venvs:
        through = _needs(venv, reals, as_path, spec)
        if through:
            found.append(Dependency(venv, through))
    return Usage(named, tuple(found))


def _needs(venv: Venv, reals: set[str], as_path: str | None, spec: str) -> str | None:
    for real, through in reached(venv).items():
        if real in reals or (as_path and _under(real, as_path)):
            return through
    if as_path is None:
        return None
    written = os.path.abspath(spec)
    if any(_under(p, written) or _under(p, as_path) for p in route(venv)):
        return "link"
    return None


def _under(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def reached_by(d: Diagnosis) -> set[str]:
    """The real interpreter files a diagnosed venv needs, as far as its diagnosis says:
    the file its ``bin/python`` reaches, or for a copied binary, ``home``'s."""
    resolved = d.python.resolved
    if resolved is not None and not _under(str(resolved), str(d.path)):
        return {str(resolved)}
    home, minor = d.python.home, d.python.minor or ""
    if resolved is None or not home:
        return set()
    for name in (f"python{minor}", "python3", "python"):
        real = _real(os.path.join(home, name))
        if real:
            return {real}
    return set()
