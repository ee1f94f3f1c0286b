"""What a notification says: per-venv events in, one Notification out.

The daemon turns each venv whose status changed into a ``VenvEvent``; a batch
of them becomes one ``Notification`` (see ``grouping``). ``to_json`` is the
contract of the ``command`` backend: one JSON object on the program's stdin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from venv_doctor.diagnose.findings import Diagnosis, Finding

SCHEMA_VERSION = 1
Kind = Literal["broken", "repaired", "repair_failed", "vanished", "healed", "removed", "test"]
KINDS: tuple[Kind, ...] = (
    "broken",
    "repaired",
    "repair_failed",
    "vanished",
    "healed",
    "removed",
    "test",
)
EventKind = Literal["broken", "repaired", "repair_failed", "vanished", "healed", "removed"]
# What leaves the user something to do, and what ends that.
PROBLEMS: frozenset[str] = frozenset({"broken", "repair_failed", "vanished"})
SETTLED: frozenset[str] = frozenset({"repaired", "healed", "removed"})
# Critical urgency only while something is broken (a vanished venv is news, not an alarm).
URGENT: frozenset[str] = frozenset({"broken", "repair_failed"})
Urgency = Literal["low", "normal", "critical"]


def finding_dicts(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [dict(f.as_dict()) for f in findings]


@dataclass(frozen=True)
class VenvEvent:
    """One venv whose status changed in a batch, and what the daemon did about it."""

    kind: EventKind
    name: str
    path: Path
    status: str  # the venv's status now: healthy, degraded, broken, unknown
    findings: tuple[Finding, ...] = ()  # the problem found (for "repaired": the one fixed)
    repair: str | None = None  # "relinked" or "rebuilt" when kind == "repaired"
    error: str | None = None  # why the repair failed, when kind == "repair_failed"
    interpreter: str | None = None  # the interpreter path that changed, when known
    store: str | None = None  # the store that holds it (virtualenvwrapper, pipx, ...)

    @classmethod
    def from_diagnosis(
        cls,
        kind: EventKind,
        diagnosis: Diagnosis,
        *,
        status: str | None = None,
        repair: str | None = None,
        error: str | None = None,
    ) -> VenvEvent:
        """An event for ``diagnosis`` (the broken state); ``status`` overrides it after a repair."""
        python = diagnosis.python
        interpreter = str(python.resolved) if python.resolved else python.home
        return cls(
            kind=kind,
            name=diagnosis.name,
            path=diagnosis.path,
            status=status or diagnosis.status.value,
            findings=diagnosis.findings,
            repair=repair,
            error=error,
            interpreter=interpreter,
            store=diagnosis.location.store,
        )

    def as_venv(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "store": self.store,
            "status": self.status,
            "findings": finding_dicts(self.findings),
        }


def _freeze_venvs(venvs: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(dict(v) for v in venvs)


@dataclass(frozen=True)
class Notification:
    """One message to the user, whatever backend carries it."""

    kind: Kind
    title: str
    body: str
    venvs: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    urgency: Urgency = "normal"
    # One notification per event kind of a mixed batch: what the command backend sends,
    # so a script listening for "vanished" hears it even beside "broken" venvs.
    parts: tuple[Notification, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown notification kind {self.kind!r}")
        object.__setattr__(self, "venvs", _freeze_venvs(self.venvs))

    def events(self) -> tuple[Notification, ...]:
        """The single-kind events this notification stands for (itself when it has one kind)."""
        return self.parts or (self,)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "venvs": [dict(v) for v in self.venvs],
            "title": self.title,
            "body": self.body,
        }

    def to_json(self) -> str:
        """The event as one line of JSON (the ``command`` backend's stdin)."""
        return json.dumps(self.as_dict(), ensure_ascii=False)


TEST_NOTIFICATION = Notification(
    kind="test",
    title="venv-doctor test notification",
    body="If you can read this, venv-doctor can reach you here.",
)
