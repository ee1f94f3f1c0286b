"""Failed repairs, as a later check tells them: a venv whose last repair failed gets
no blind "run repair" hint (it would fail the same way), but what failed and how to
see why, unless the interpreters changed since (then trying again is worth it).

The repair events are the state DB's (``registry.last_repairs``); each records the
interpreters there were (``inventory.fingerprint``) when it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.record import registry
from venv_doctor.record.state import Event

_SETTLED = (Status.HEALTHY, Status.REMOVED)


@dataclass(frozen=True)
class LastFailure:
    """A venv's latest repair, which failed."""

    at: datetime
    action: str  # relink, rebuild, recreate
    message: str  # what the repair said (credentials already removed)
    # installed, upgraded or removed since (a retry may work); None: not known (a failure
    # recorded before repairs noted the interpreters)
    interpreters_changed: bool | None


def last_failures(ctx: Context, diagnoses: Sequence[Diagnosis]) -> dict[Path, LastFailure]:
    """The venvs still not well whose latest repair failed. The interpreters are taken
    stock of only when there is such a venv (a check of healthy venvs costs nothing)."""
    unwell = [d.path for d in diagnoses if d.status not in _SETTLED]
    repairs = registry.last_repairs(ctx, unwell)
    if not repairs:
        return {}
    # the repair modules (which start processes) only for venvs a repair was tried on
    from venv_doctor.interpreters import inventory as interpreters

    failed = {p: e for p, e in repairs.items() if _failed(e)}
    if not failed:
        return {}
    now = interpreters.fingerprint(
        interpreters.inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache)
    )
    return {path: _failure(e, now) for path, e in failed.items()}


def _failed(event: Event) -> bool:
    from venv_doctor.repair.result import Outcome

    return (event.data or {}).get("outcome") == Outcome.FAILED


def _failure(event: Event, interpreters_now: str) -> LastFailure:
    from venv_doctor.repair.result import Outcome

    data = event.data or {}
    message = event.message.removeprefix(f"{Outcome.FAILED}: ")
    seen = data.get("interpreters")
    changed = None if seen is None else seen != interpreters_now
    return LastFailure(event.at, str(data.get("action", "repair")), message, changed)
