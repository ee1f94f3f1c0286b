"""Statuses, findings and the diagnosis of one venv: the values the core returns."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from venv_doctor.model.venv import Location
from venv_doctor.render.sanitize import command


class Status(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # works now, but will break or misbehave
    BROKEN = "broken"  # cannot work as it should
    UNKNOWN = "unknown"  # cannot be read
    REMOVED = "removed"  # deleted on purpose while its interpreter stays: history kept


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Code(enum.StrEnum):
    """What a finding is about: stable, kebab-case, documented in the README."""

    # the venv as a whole
    VENV_MISSING = "venv-missing"
    VENV_REMOVED = "venv-removed"  # gone on purpose: its interpreter is still there
    VENV_UNREADABLE = "venv-unreadable"
    PERMISSION_DENIED = "permission-denied"  # this user may not read part of it
    # pyvenv.cfg
    CFG_MISSING = "cfg-missing"
    CFG_UNREADABLE = "cfg-unreadable"
    CFG_GARBAGE = "cfg-garbage"
    CFG_MISSING_KEY = "cfg-missing-key"
    LEGACY_VIRTUALENV = "legacy-virtualenv"
    # the interpreter links and what they reach
    NO_INTERPRETER = "no-interpreter"
    INTERPRETER_DANGLING = "interpreter-dangling"
    INTERPRETER_LOOP = "interpreter-loop"
    INTERPRETER_FAILS = "interpreter-fails"
    INTERPRETER_LIBRARY_MISSING = "interpreter-library-missing"
    HOME_MISSING = "home-missing"
    CELLAR_PINNED = "cellar-pinned"
    # versions
    MINOR_MISMATCH = "minor-mismatch"
    VERSION_MISMATCH = "version-mismatch"
    PATCH_CHANGED = "patch-changed"
    # site-packages and console scripts
    SITE_PACKAGES_MISSING = "site-packages-missing"
    SITE_PACKAGES_INVISIBLE = "site-packages-invisible"
    DEAD_SHEBANG = "dead-shebang"
    FOREIGN_SHEBANG = "foreign-shebang"
    # the project's declared dependencies (`check -v`)
    UNDECLARED_PACKAGES = "undeclared-packages"
    # the interpreter the service would run on (`service install`)
    SERVICE_PYTHON_HOMEBREW = "service-python-homebrew"
    SERVICE_PYTHON_PYENV = "service-python-pyenv"
    SERVICE_PYTHON_VERSION = "service-python-version"
    SERVICE_VENV_UNHEALTHY = "service-venv-unhealthy"


class Cure(enum.StrEnum):
    """What repair does about a finding."""

    RELINK = "relink"  # repointing the links at an interpreter of the venv's minor (or a rebuild)
    REBUILD = "rebuild"  # only a new venv with the packages reinstalled
    RECREATE = "recreate"  # the venv is gone: built again from its recorded snapshot
    NOTHING = "nothing"  # no repair touches it (the user's or another command's to fix)


# The one table of what cures each code: the plan, the daemon and the check after a
# repair all read it.
CURES: Mapping[Code, Cure] = MappingProxyType(
    {
        Code.VENV_MISSING: Cure.RECREATE,
        Code.VENV_REMOVED: Cure.RECREATE,
        Code.VENV_UNREADABLE: Cure.NOTHING,
        Code.PERMISSION_DENIED: Cure.NOTHING,
        Code.CFG_MISSING: Cure.REBUILD,
        Code.CFG_UNREADABLE: Cure.REBUILD,
        Code.CFG_GARBAGE: Cure.NOTHING,
        Code.CFG_MISSING_KEY: Cure.NOTHING,
        Code.LEGACY_VIRTUALENV: Cure.REBUILD,
        Code.NO_INTERPRETER: Cure.RELINK,
        Code.INTERPRETER_DANGLING: Cure.RELINK,
        Code.INTERPRETER_LOOP: Cure.RELINK,
        Code.INTERPRETER_FAILS: Cure.RELINK,
        Code.INTERPRETER_LIBRARY_MISSING: Cure.RELINK,
        Code.HOME_MISSING: Cure.RELINK,
        Code.CELLAR_PINNED: Cure.RELINK,
        Code.MINOR_MISMATCH: Cure.RELINK,
        Code.VERSION_MISMATCH: Cure.REBUILD,
        Code.PATCH_CHANGED: Cure.RELINK,
        Code.SITE_PACKAGES_MISSING: Cure.REBUILD,
        Code.SITE_PACKAGES_INVISIBLE: Cure.REBUILD,
        Code.DEAD_SHEBANG: Cure.RELINK,
        Code.FOREIGN_SHEBANG: Cure.REBUILD,
        Code.UNDECLARED_PACKAGES: Cure.NOTHING,
        Code.SERVICE_PYTHON_HOMEBREW: Cure.NOTHING,
        Code.SERVICE_PYTHON_PYENV: Cure.NOTHING,
        Code.SERVICE_PYTHON_VERSION: Cure.NOTHING,
        Code.SERVICE_VENV_UNHEALTHY: Cure.NOTHING,
    }
)


def cured_by(*cures: Cure) -> frozenset[Code]:
    """The codes one of ``cures`` repairs."""
    return frozenset(code for code, cure in CURES.items() if cure in cures)


@dataclass(frozen=True)
class Finding:
    code: Code
    severity: Severity
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": str(self.code),
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


# Codes that mean "venv-doctor could not read enough to judge".
UNKNOWN_CODES = frozenset({Code.VENV_UNREADABLE, Code.CFG_UNREADABLE, Code.PERMISSION_DENIED})


@dataclass(frozen=True)
class PythonInfo:
    version: str | None  # the version the venv was made for
    minor: str | None  # the venv's X.Y (model.venv.Venv.minor: its packages' minor)
    home: str | None  # pyvenv.cfg's home
    resolved: Path | None  # the real interpreter file bin/python reaches now


@dataclass(frozen=True)
class Diagnosis:
    location: Location
    status: Status
    creator: str
    python: PythonInfo
    findings: tuple[Finding, ...]

    @property
    def path(self) -> Path:
        return self.location.path

    @property
    def name(self) -> str:
        return self.location.name

    def codes(self) -> set[Code]:
        return {f.code for f in self.findings}


def status_counts(statuses: Iterable[Status | str | None]) -> dict[str, int]:
    """How many venvs have each status: every status, in ``Status`` order, zero or more.

    The one count behind ``check``'s summary, the daemon's and ``status``'s. Text that
    names no status (a value read back from the state DB, or none) is not counted.
    """
    counts = dict.fromkeys((s.value for s in Status), 0)
    for status in statuses:
        if status in counts:
            counts[status] += 1
    return counts


def status_of(findings: tuple[Finding, ...]) -> Status:
    if not findings:
        return Status.HEALTHY  # most venvs: no generator to make
    if any(f.code in UNKNOWN_CODES for f in findings):
        return Status.UNKNOWN
    if any(f.severity is Severity.ERROR for f in findings):
        return Status.BROKEN
    if any(f.severity is Severity.WARNING for f in findings):
        return Status.DEGRADED
    return Status.HEALTHY


def repair_hint(location: Location) -> str:
    """The hint most findings carry."""
    return f"run `{command('venv-doctor', 'repair', str(location.path))}`"
