"""Bursts become one notification: "12 venvs broke after python@3.12 changed: 12 relinked".

A ``brew upgrade`` breaks every venv built on the old keg in the same second;
the user wants one message naming the cause and the outcome, not twelve.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from venv_doctor.diagnose.findings import Severity
from venv_doctor.interpreters.layouts import InstallKind, installation_of
from venv_doctor.notify.message import Kind, Notification, VenvEvent

# The kind a mixed batch gets: whatever most needs the user's attention.
KIND_PRIORITY: tuple[Kind, ...] = ("repair_failed", "broken", "vanished", "repaired")
MAX_NAMED = 3  # venvs named in a "run `venv-doctor repair ...`" line

_PATH = re.compile(r"(?<![\w./])(/[^\s,;:()'\"`]+)")


def cause_label(path: str) -> str:
    """Name the installation ``path`` belongs to, the way its user knows it."""
    owner = installation_of(path)
    match owner.kind:
        case InstallKind.HOMEBREW:
            return owner.name
        case InstallKind.UV:
            return f"uv's {owner.name}"
        case InstallKind.PYENV:
            return f"pyenv {owner.name}"
        case InstallKind.FRAMEWORK:
            return f"python.org Python {owner.name}".rstrip()
        case InstallKind.SYSTEM:
            return "the system Python"
    return str(owner.prefix)


def _outside(path: str, venv: Path) -> bool:
    return path != str(venv) and not path.startswith(str(venv) + "/")


def event_cause(event: VenvEvent) -> str | None:
    """The installation whose change broke this venv, from the event or its findings."""
    if event.interpreter:
        return cause_label(event.interpreter)
    ranked = sorted(event.findings, key=lambda f: f.severity is not Severity.ERROR)
    for finding in ranked:
        for path in _PATH.findall(finding.message):
            if _outside(path, event.path):
                return cause_label(path)
    return None


def common_cause(events: Sequence[VenvEvent]) -> str | None:
    causes = {event_cause(e) for e in events}
    return causes.pop() if len(causes) == 1 else None


def _verb(events: Sequence[VenvEvent]) -> str:
    vanished = sum(e.kind == "vanished" for e in events)
    if vanished == len(events):
        return "vanished"
    return "broke" if vanished == 0 else "broke or vanished"


def _title(events: Sequence[VenvEvent]) -> str:
    subject = f"venv {events[0].name}" if len(events) == 1 else f"{len(events)} venvs"
    cause = common_cause(events)
    return f"{subject} {_verb(events)}" + (f" after {cause} changed" if cause else "")


def _outcome(event: VenvEvent) -> str:
    if event.kind == "repaired":
        return event.repair or "repaired"
    return {
        "repair_failed": "could not be repaired",
        "broken": "need repair",
        "vanished": "vanished",
    }[event.kind]


def _outcomes(events: Sequence[VenvEvent]) -> str:
    counts = Counter(_outcome(e) for e in events)
    if len(events) == 1:
        return next(iter(counts)).replace("need repair", "needs repair")
    return ", ".join(f"{n} {what}" for what, n in counts.items())


def _detail(event: VenvEvent) -> str | None:
    """For a single venv: the one fact that explains it."""
    if event.kind == "repair_failed" and event.error:
        return event.error
    errors = [f for f in event.findings if f.severity is Severity.ERROR]
    return errors[0].message if errors and event.kind != "repaired" else None


def _action(events: Sequence[VenvEvent]) -> str | None:
    pending = [e for e in events if e.kind != "repaired"]
    if not pending:
        return None
    if len(pending) > MAX_NAMED:
        return "run `venv-doctor check` to list them and `venv-doctor repair TARGET` to fix each"
    targets = " ".join(shlex.quote(str(e.path)) for e in pending)
    return f"run `venv-doctor repair {targets}`"


def _kind(events: Sequence[VenvEvent]) -> Kind:
    kinds = {e.kind for e in events}
    return next(k for k in KIND_PRIORITY if k in kinds)


def group(events: Sequence[VenvEvent]) -> Notification:
    """One notification for a batch of per-venv status changes."""
    if not events:
        raise ValueError("group() needs at least one event")
    lines = [_outcomes(events)]
    if len(events) == 1 and (detail := _detail(events[0])):
        lines.append(detail)
    if action := _action(events):
        lines.append(action)
    return Notification(
        kind=_kind(events),
        title=_title(events),
        body="\n".join(lines),
        venvs=[e.as_venv() for e in events],
    )
