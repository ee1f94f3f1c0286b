"""Declared versus installed: the "track every dependency as you install it" discipline.

A project declares its dependencies in ``requirements.txt`` or ``pyproject.toml``
(PEP 621 ``dependencies`` and ``optional-dependencies``, PEP 735 ``dependency-groups``,
Poetry's ``[tool.poetry.*dependencies]``). Against what its venv holds, read from disk:
installed but not declared (and needed by nothing declared), and declared but not
installed (for the venv's Python). Names are normalised, extras and markers understood
with ``packaging``.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Code, Diagnosis, Finding, Severity
from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import SMALL_FILE, read_bounded
from venv_doctor.model import distributions
from venv_doctor.model.venv import Venv
from venv_doctor.record.requirements import Requirements
from venv_doctor.render.sanitize import command
from venv_doctor.render.words import listed

log = logging.getLogger(__name__)

MAX_INCLUDES = 20
TOOLING = frozenset({"pip", "setuptools", "wheel"})  # a venv's own tooling, declared or not
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Declared:
    """What a project file asks for: requirements, and the project's own name."""

    source: Path
    requirements: tuple[Requirement, ...]
    project: str | None = None


@dataclass(frozen=True)
class Comparison:
    undeclared: tuple[str, ...]  # installed, declared by nothing, needed by nothing declared
    missing: tuple[str, ...]  # declared (for this Python), not installed
    warnings: tuple[str, ...] = ()  # metadata that could not be read

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "undeclared": list(self.undeclared),
            "missing": list(self.missing),
            "warnings": list(self.warnings),
        }


def _read(path: Path) -> str:
    """A project file, read as every other file is: never blocking on a FIFO, bounded."""
    try:
        data = read_bounded(path, SMALL_FILE)
    except OSError as exc:
        raise VenvDoctorError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VenvDoctorError(f"{path}: not UTF-8 text") from exc


def _parse(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _requirements_txt(path: Path, depth: int = 0) -> Iterator[Requirement]:
    for raw in _read(path).splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        option, _, rest = line.partition(" ")
        if option in ("-r", "--requirement") and depth < MAX_INCLUDES:
            yield from _requirements_txt(path.parent / rest.strip(), depth + 1)
        elif option in ("-e", "--editable"):
            egg = _EGG.search(rest)
            if egg and (req := _parse(egg.group(1))):
                yield req
        elif not line.startswith("-") and (req := _parse(line)):
            yield req


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, str))


def _pep621(data: Mapping[str, object]) -> Iterator[str]:
    project = data.get("project")
    if isinstance(project, dict):
        yield from _strings(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group in optional.values():
                yield from _strings(group)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group in groups.values():
            yield from _strings(group)


def _poetry(data: Mapping[str, object]) -> Iterator[str]:
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if not isinstance(poetry, dict):
        return
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [g.get("dependencies") for g in groups.values() if isinstance(g, dict)]
    for table in tables:
        if isinstance(table, dict):
            yield from (name for name in table if name.lower() != "python")


def _pyproject(path: Path) -> Declared:
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise VenvDoctorError(f"{path}: not valid TOML: {exc}") from exc
    found = [r for text in [*_pep621(data), *_poetry(data)] if (r := _parse(text))]
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return Declared(path, tuple(found), name if isinstance(name, str) else None)


def read_declared(path: Path) -> Declared:
    """``requirements*.txt`` or ``pyproject.toml``; errors name the file."""
    if not os.path.lexists(path):
        raise VenvDoctorError(f"{path}: no such file")
    if path.name == "pyproject.toml":
        return _pyproject(path)
    return Declared(path, tuple(_requirements_txt(path)))


def project_file(project: Path) -> Path | None:
    """The file a project declares its dependencies in, by convention."""
    for name in ("pyproject.toml", "requirements.txt"):
        candidate = project / name
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class _Dist:
    name: str
    requires: tuple[str, ...]


def installed(site_packages: Sequence[Path]) -> tuple[dict[str, _Dist], tuple[str, ...]]:
    """Every distribution in the venv with its Requires-Dist, read without running it
    (and through the bounded readers), and the warnings of reading them."""
    found = distributions.dependencies(site_packages)
    dists = {n: _Dist(n, requires) for n, requires in found.by_name.items()}
    return dists, found.warnings


def _environment(python_minor: str | None) -> dict[str, str]:
    from packaging.markers import default_environment

    env = {k: str(v) for k, v in default_environment().items()}
    if python_minor:
        env["python_version"] = python_minor
        env["python_full_version"] = python_minor + ".0"
    return env


def _applies(req: Requirement, env: Mapping[str, str], extras: Iterable[str] = ("",)) -> bool:
    if req.marker is None:
        return True
    try:
        return any(req.marker.evaluate({**env, "extra": e}) for e in extras)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True  # when in doubt, the requirement counts


def _closure(
    roots: Iterable[Requirement], dists: Mapping[str, _Dist], env: Mapping[str, str]
) -> set[str]:
    needed: set[str] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in roots if _applies(r, env)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        needed.add(name)
        dist = dists.get(name)
        for text in dist.requires if dist else ():
            req = _parse(text)
            if req and _applies(req, env, ("", *extras)):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return needed


def compare(
    declared: Declared, site_packages: Sequence[Path], python_minor: str | None
) -> Comparison:
    dists, warnings = installed(site_packages)
    env = _environment(python_minor)
    roots = list(declared.requirements)
    if declared.project and (own := _parse(declared.project)):
        roots.append(own)  # the project itself, often installed editable
    needed = _closure(roots, dists, env)
    undeclared = sorted(n for n in dists if n not in needed and n not in TOOLING)
    missing = sorted(
        {canonicalize_name(r.name) for r in declared.requirements if _applies(r, env)} - set(dists)
    )
    return Comparison(tuple(undeclared), tuple(missing), warnings)


def venv_project(venv_path: Path, store: str) -> Path | None:
    """The project a venv belongs to: virtualenvwrapper's ``.project`` file, or the
    directory holding a tracked project ``.venv``."""
    marker = venv_path / ".project"
    if marker.is_file():
        try:
            text = _read(marker).strip()
        except VenvDoctorError:
            return None
        return Path(text) if text and os.path.isdir(text) else None
    if store == "tracked" and venv_path.name in (".venv", "venv", ".env", "env"):
        return venv_path.parent
    return None


def finding(venv: Venv) -> Finding | None:
    """``undeclared-packages`` (info) for a project venv whose contents and declared
    dependencies differ; None when they agree or the venv has no project."""
    project = venv_project(venv.path, venv.location.store)
    source = project_file(project) if project else None
    if source is None or not venv.site_packages:
        return None
    try:
        result = compare(read_declared(source), venv.site_packages, venv.minor)
    except VenvDoctorError:
        return None
    parts = []
    if result.undeclared:
        parts.append(f"installed but not declared in {source}: {listed(result.undeclared, 8)}")
    if result.missing:
        parts.append(f"declared in {source} but not installed: {listed(result.missing, 8)}")
    if not parts:
        return None
    shown = command("venv-doctor", "requirements", str(venv.path), "--against", str(source))
    hint = f"`{shown}` lists them"
    return Finding(Code.UNDECLARED_PACKAGES, Severity.INFO, "; ".join(parts), hint)


def with_declared(diagnosis: Diagnosis, venv: Venv) -> Diagnosis:
    """The diagnosis, with the ``undeclared-packages`` finding when there is one."""
    from dataclasses import replace

    extra = finding(venv)
    return replace(diagnosis, findings=(*diagnosis.findings, extra)) if extra else diagnosis


def requirements_for(ctx: Context, path: Path) -> Requirements | None:
    """What ``repair --from-declared`` installs: the project's declared dependencies
    (resolved afresh by the installer) instead of the recorded pins."""
    tracked = {x.path for x in ctx.tracked()}
    project = venv_project(path, "tracked" if path in tracked else "")
    source = project_file(project) if project else None
    if source is None:
        log.warning(
            "%s: no project file declares its dependencies (a virtualenvwrapper .project, "
            "or a tracked .venv beside pyproject.toml or requirements.txt)",
            path,
        )
        return None
    try:
        found = read_declared(source)
    except VenvDoctorError as exc:
        log.warning("%s", exc.message)
        return None
    lines = [str(r) for r in found.requirements]
    return Requirements(
        text="\n".join(lines) + "\n",
        expected=frozenset(),
        had_pip=False,
        exact=False,
        requested=frozenset(canonicalize_name(r.name) for r in found.requirements),
    )
