"""Statuses, findings and the diagnosis of one venv: the values the core returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.model.venv import Location


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


@dataclass(frozen=True)
class Finding:
    code: str  # stable, kebab-case; documented in the README
    severity: Severity
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


# Codes that mean "venv-doctor could not read enough to judge".
UNKNOWN_CODES = frozenset({"venv-unreadable", "cfg-unreadable"})


@dataclass(frozen=True)
class PythonInfo:
    version: str | None  # the version the venv was made for
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

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}


def status_of(findings: tuple[Finding, ...]) -> Status:
    if any(f.code in UNKNOWN_CODES for f in findings):
        return Status.UNKNOWN
    if any(f.severity is Severity.ERROR for f in findings):
        return Status.BROKEN
    if any(f.severity is Severity.WARNING for f in findings):
        return Status.DEGRADED
    return Status.HEALTHY
