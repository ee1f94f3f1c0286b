"""Bursts become one notification: "12 venvs repaired after python@3.12 changed".

A ``brew upgrade`` breaks every venv built on the old keg in the same second;
the user wants one message naming the cause and the outcome, not twelve.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from venv_doctor.diagnose.findings import Severity
from venv_doctor.interpreters.layouts import InstallKind, installation_of
from venv_doctor.notify.message import (
    PROBLEMS,
    SETTLED,
    URGENT,
    Kind,
    Notification,
    Urgency,
    VenvEvent,
)
from venv_doctor.render import sanitize
from venv_doctor.render.words import listed, tilde

# The kind a mixed batch gets: whatever most needs the user's attention.
KIND_PRIORITY: tuple[Kind, ...] = (
    "repair_failed",
    "broken",
    "vanished",
    "repaired",
    "healed",
    "removed",
)
MAX_NAMED = 3  # venvs named in a body before "and N more"

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


# What a batch did, as the title's verb; a mixed batch takes its most pressing kind's.
VERBS: dict[str, str] = {
    "repair_failed": "broke",
    "broken": "broke",
    "vanished": "vanished",
    "repaired": "repaired",
    "healed": "work again",
    "removed": "removed",
}
OUTCOMES: dict[str, str] = {
    "repair_failed": "could not be repaired",
    "broken": "need repair",
    "vanished": "vanished",
    "healed": "work again",
    "removed": "removed",
}


def _kind(events: Sequence[VenvEvent]) -> Kind:
    kinds = {e.kind for e in events}
    return next(k for k in KIND_PRIORITY if k in kinds)


def _verb(events: Sequence[VenvEvent]) -> str:
    kinds = {e.kind for e in events}
    if "vanished" in kinds and kinds & {"broken", "repair_failed"}:
        return "broke or vanished"
    if kinds <= SETTLED and len(kinds) > 1:
        return "are fine again"
    verb = VERBS[_kind(events)]
    return verb.replace("work again", "works again") if len(events) == 1 else verb


def _title(events: Sequence[VenvEvent]) -> str:
    subject = f"venv {events[0].name}" if len(events) == 1 else f"{len(events)} venvs"
    cause = common_cause(events)
    return f"{subject} {_verb(events)}" + (f" after {cause} changed" if cause else "")


def _outcome(event: VenvEvent) -> str:
    if event.kind == "repaired":
        return event.repair or "repaired"
    return OUTCOMES[event.kind]


def _outcomes(events: Sequence[VenvEvent]) -> str:
    counts = Counter(_outcome(e) for e in events)
    if len(events) == 1:
        text = next(iter(counts))
        return text.replace("need repair", "needs repair").replace("work again", "works again")
    return ", ".join(f"{n} {what}" for what, n in counts.items())


def _detail(event: VenvEvent) -> str | None:
    """For a single venv: the one fact that explains it."""
    if event.kind == "repair_failed" and event.error:
        return event.error
    errors = [f for f in event.findings if f.severity is Severity.ERROR]
    return errors[0].message if errors and event.kind in PROBLEMS else None


def venv_label(event: VenvEvent, home: str) -> str:
    """The venv as its owner knows it: its name and where it lives ("web in ~/.virtualenvs",
    ``~`` for ``home``: the Context's, not the process's)."""
    return f"{event.name} in {tilde(event.path.parent, home)}"


def named(events: Sequence[VenvEvent], home: str, most: int = MAX_NAMED) -> str:
    """ "a in ~/x, b in ~/y and 9 more" (at most ``most`` named)."""
    return listed([venv_label(e, home) for e in events], most)


def command(pending: Sequence[VenvEvent]) -> str | None:
    """The one command that deals with what is left: by name for a few, else --all."""
    if not pending:
        return None
    names = [e.name for e in pending]
    if len(names) > MAX_NAMED or len(set(names)) < len(names):
        return "venv-doctor repair --all"
    targets = [str(e.path) if e.name.startswith("-") else e.name for e in pending]
    return sanitize.command("venv-doctor", "repair", *targets)


def _urgency(events: Sequence[VenvEvent]) -> Urgency:
    return "critical" if any(e.kind in URGENT for e in events) else "normal"


def _body(events: Sequence[VenvEvent], earlier: Sequence[VenvEvent], home: str) -> str:
    lines = [_outcomes(events)]
    if len(events) == 1 and (detail := _detail(events[0])):
        lines.append(detail)
    elif len(events) > 1:
        lines.append(named(events, home))
    if earlier:
        lines.append(f"still to repair from before: {named(earlier, home)}")
    pending = [e for e in events if e.kind in PROBLEMS] + list(earlier)
    if run := command(pending):
        lines.append(f"Run: {run}")
    return "\n".join(lines)


def _single(events: Sequence[VenvEvent], earlier: Sequence[VenvEvent], home: str) -> Notification:
    return Notification(
        kind=_kind(events),
        title=_title(events),
        body=_body(events, earlier, home),
        venvs=[e.as_venv() for e in events],
        urgency=_urgency([*events, *earlier]),
    )


def group(
    events: Sequence[VenvEvent], earlier: Sequence[VenvEvent] = (), *, home: str
) -> Notification:
    """One notification for a batch of per-venv status changes.

    ``earlier``: venvs an earlier notification of the same conversation still asks the
    user to repair (not in this batch); the new one, which replaces it, names them too.
    A batch of several kinds carries one part per kind (the command backend's events).
    ``home``: the Context's home directory, shown as ``~`` in where each venv lives.
    """
    if not events:
        raise ValueError("group() needs at least one event")
    whole = _single(events, earlier, home)
    kinds = [k for k in KIND_PRIORITY if any(e.kind == k for e in events)]
    if len(kinds) == 1:
        return whole
    parts = tuple(_single([e for e in events if e.kind == k], (), home) for k in kinds)
    return replace(whole, parts=parts)
