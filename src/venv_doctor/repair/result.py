"""What a repair returns: one typed result per venv, whatever the front door."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.render.sanitize import redact
from venv_doctor.repair.plan import Action, Plan, Reason

RepairProgress = Callable[[str, str], None]  # (venv name, step)


class Outcome(enum.StrEnum):
    REPAIRED = "repaired"
    ALREADY_REPAIRED = "already_repaired"  # another process repaired it while we waited
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing done: ``reason`` says why
    PLANNED = "planned"  # a dry run's plan


@dataclass(frozen=True)
class RepairResult:
    name: str
    path: Path
    action: Action
    outcome: Outcome
    message: str  # for people: never read by a decision
    before: str | None = None
    after: str | None = None
    backup: Path | None = None
    carried_over: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    reason: Reason | None = None  # why it was skipped
    status: Status | None = None  # the venv's status when the repair was planned
    attempted: bool = False  # a repair ran (under the venv's lock), whatever came of it
    now: Diagnosis | None = None  # the repaired venv, diagnosed (and recorded) afterwards

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED

    @property
    def problem(self) -> bool:
        """A repair that failed, one that needed a yes, or a broken venv left as it was.
        A degraded venv with nothing to repair, and a dry run's plan, are not problems."""
        if self.outcome is Outcome.FAILED:
            return True
        if self.outcome is not Outcome.SKIPPED:
            return False
        if self.reason in (Reason.NEEDS_CONFIRMATION, Reason.NO_OWNER_RECORDS):
            return True
        return self.status in (
            Status.BROKEN,
            Status.UNKNOWN,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": str(self.path),
            "action": self.action.value,
            "outcome": self.outcome.value,
            "message": self.message,
            "python": {"before": self.before, "after": self.after},
            "backup": str(self.backup) if self.backup else None,
            "carried_over": list(self.carried_over),
            "notes": list(self.notes),
        }


def result_of(
    plan: Plan,
    outcome: Outcome,
    message: str,
    *,
    reason: Reason | None = None,
    backup: Path | None = None,
    carried_over: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
) -> RepairResult:
    d = plan.diagnosis
    if reason is None and outcome is Outcome.SKIPPED:
        reason = plan.why
    return RepairResult(
        d.name,
        d.path,
        plan.action,
        outcome,
        redact(message),  # a failed install's command line and output may hold a password
        plan.before,
        plan.after,
        backup,
        carried_over,
        tuple(map(redact, notes)),
        reason,
        d.status,
    )
