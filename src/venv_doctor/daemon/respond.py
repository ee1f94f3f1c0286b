"""What the daemon does about the venvs it checks: diagnose, record, repair by
policy, notify. Runs on the daemon's worker thread only (state is touched by one
thread); ``loop`` decides when and which venvs.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from venv_doctor.check import diagnose_missing
from venv_doctor.context import Context
from venv_doctor.daemon import heartbeat
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Code, Diagnosis, PythonInfo, Status, status_counts
from venv_doctor.diagnose.probe import probe
from venv_doctor.diagnose.scan import read_venvs
from venv_doctor.errors import VenvDoctorError
from venv_doctor.model.venv import Location, Venv, load
from venv_doctor.notify import VenvEvent, build_notifiers, close
from venv_doctor.notify.conversation import Conversation
from venv_doctor.paths import home
from venv_doctor.record import registry
from venv_doctor.repair.plan import GONE, Action
from venv_doctor.repair.result import Outcome, RepairResult
from venv_doctor.repair.run import Policy, repair
from venv_doctor.targets import Match, Where

log = logging.getLogger("venv_doctor.daemon")
BAD = (Status.BROKEN, Status.UNKNOWN)
CHUNK = 200  # venvs read, diagnosed and recorded at a time


class Responder:
    """The venvs the daemon knows, and what it told the user about them."""

    def __init__(
        self, ctx: Context, beat: heartbeat.Heartbeat, on_change: Callable[[], None]
    ) -> None:
        self.ctx = ctx
        self.heartbeat = beat
        self.on_change = on_change  # writes the heartbeat file and systemd's status line
        self.known: dict[Path, Diagnosis] = {}
        self.conversation = Conversation(ctx.dirs.state / "notified.json", str(home(ctx.env)))
        self.notifiers = build_notifiers(ctx.config, ctx.env)

    def reconfigure(self, ctx: Context) -> None:
        """A reloaded config: new notifiers; venvs already broken get the new policy at
        the next check (what the user was told is not told again)."""
        self.ctx = ctx
        close(self.notifiers)
        self.notifiers = build_notifiers(ctx.config, ctx.env)
        self.known = {p: d for p, d in self.known.items() if d.status not in BAD}

    def close(self) -> None:
        close(self.notifiers)

    def remember(self) -> None:
        """Every registered venv, taken as fine (the timer's start): each run then
        repairs every broken venv by policy and sees a vanished one, while what the
        user was already told (kept by the Conversation between runs) is not told again."""
        for record in registry.records(self.ctx):
            location = Location(record.name, record.path, record.store)
            python = PythonInfo(record.python_version, None, None, None)
            self.known[record.path] = Diagnosis(
                location, Status.HEALTHY, record.creator or "unknown", python, ()
            )

    def settle(self) -> None:
        """After a full scan: forget what was told about venvs no longer registered."""
        self.conversation.prune(registry.registered(self.ctx), self.notifiers)
        self.conversation.save()

    def any_bad(self) -> bool:
        return any(d.status in BAD for d in self.known.values())

    # --- checking ---------------------------------------------------------------------------

    def check(self, locations: list[Location]) -> None:
        """Check ``locations``, record them, and act on what changed (one notification
        for the whole batch). Read a chunk at a time: a full scan of 2,000 venvs then
        holds 200 venv models at once, not 2,000 (the daemon's RSS stays near its peak)."""
        if not locations:
            return
        started = time.time()
        happened: list[tuple[str, Diagnosis]] = []
        for i in range(0, len(locations), CHUNK):
            happened += self._check_chunk(locations[i : i + CHUNK])
        if happened:
            self._act(happened)
        self.heartbeat.summary = status_counts(d.status for d in self.known.values())
        self.on_change()
        self._export(started)

    def _check_chunk(self, locations: list[Location]) -> list[tuple[str, Diagnosis]]:
        venvs = read_venvs(locations)
        diagnoses = [self._diagnose(v) for v in venvs]
        registry.record_check(self.ctx, venvs, diagnoses)
        changes = [self._transition(d) for d in diagnoses]
        for d in diagnoses:
            if d.codes() & GONE:
                self.known.pop(d.path, None)
            else:
                self.known[d.path] = d
        return [e for e in changes if e is not None]

    def _export(self, started: float) -> None:
        """The Prometheus textfile, after every scan and batch, when configured."""
        from venv_doctor.export import textfile

        path = textfile.configured_path(self.ctx)
        if path is None:
            return
        try:
            textfile.export(self.ctx, path, list(self.known.values()), started)
        except VenvDoctorError as exc:
            log.warning("cannot write the Prometheus textfile: %s", exc.message)

    def _diagnose(self, venv: Venv) -> Diagnosis:
        if not os.path.lexists(venv.path):  # removed on purpose, or vanished with its Python
            return diagnose_missing(self.ctx, [Match(venv.location, Where.RECORDED)])[0]
        d = diagnose(venv, env=self.ctx.env)
        unsure = Code.HOME_MISSING in d.codes() or any(p.is_copy for p in venv.pythons)
        if unsure and venv.pythons and d.status is not Status.HEALTHY:
            python = venv.path / "bin" / venv.pythons[0].name
            result = probe(python, venv.site_packages, env=self.ctx.env)
            d = diagnose(venv, result, env=self.ctx.env)
        return d

    def _transition(self, d: Diagnosis) -> tuple[str, Diagnosis] | None:
        before = self.known.get(d.path)
        if Code.VENV_REMOVED in d.codes():
            # deleted on purpose (its interpreter is still there): no alarm, but what the
            # user was told about it is settled
            return ("removed", d) if self.conversation.told(d.path) else None
        if Code.VENV_MISSING in d.codes():
            return ("vanished", d) if before is not None else None
        if d.status in BAD and (before is None or before.status not in BAD):
            return ("broken", d)
        if d.status not in BAD and self.conversation.told(d.path):
            return ("healed", d)  # the user heard it broke; it works again, not by our hand
        return None

    # --- repairing and notifying -------------------------------------------------------------

    def _act(self, changes: list[tuple[str, Diagnosis]]) -> None:
        events: list[tuple[Path, str, str]] = []  # logged together once the batch is done
        broken = [d for kind, d in changes if kind == "broken"]
        repaired = self.auto_repair(broken) if broken else {}
        out: list[VenvEvent] = []
        for kind, d in changes:
            events.append((d.path, kind, _first_message(d)))
            result = repaired.get(d.path) if kind == "broken" else None
            out.append(self.repair_event(d, result) or VenvEvent.from_diagnosis(kind, d))  # type: ignore[arg-type]
        registry.record_events(self.ctx, events)
        self.conversation.tell(out, self.notifiers)
        self.conversation.save()

    def policy(self) -> Policy | None:
        """``[repair] auto``: off, relinks only, or rebuilds too (no one to ask a yes)."""
        auto = self.ctx.config.repair_auto
        if auto == "off":
            return None
        return Policy(
            yes=auto == "rebuild",
            rebuild_fallback=auto == "rebuild",
            allow_other_owner=True,  # the daemon runs as the venvs' user
            progress=lambda name, step: log.info("%s: %s", name, step),
        )

    def auto_repair(self, broken: list[Diagnosis]) -> dict[Path, RepairResult]:
        policy = self.policy()
        if policy is None:
            return {}
        self.heartbeat.pending_repairs = [str(d.path) for d in broken]
        self.on_change()
        try:
            results = repair(self.ctx, broken, policy)
        finally:
            self.heartbeat.pending_repairs = []
        return {d.path: r for d, r in zip(broken, results, strict=True)}

    def repair_event(self, d: Diagnosis, result: RepairResult | None) -> VenvEvent | None:
        """The notification for a repair that ran; None when none ran."""
        if result is None or not result.attempted:
            return None
        log.info("%s: %s %s", d.name, result.outcome, result.message)
        if result.outcome is not Outcome.REPAIRED and self._healthy_now(d):
            return None  # another process repaired it: nothing failed, nothing to tell
        if result.outcome is Outcome.REPAIRED:
            self.known[d.path] = result.now or diagnose(load(d.location), env=self.ctx.env)
            word = "relinked" if result.action is Action.RELINK else "rebuilt"
            return VenvEvent.from_diagnosis("repaired", d, status="healthy", repair=word)
        return VenvEvent.from_diagnosis("repair_failed", d, error=result.message)

    def _healthy_now(self, d: Diagnosis) -> bool:
        """Diagnose again before saying "could not be repaired": a CLI run may have
        repaired the venv while this repair waited for its lock, or failed on it."""
        fresh = diagnose(load(d.location), env=self.ctx.env)
        if fresh.status is not Status.HEALTHY:
            return False
        log.info("%s: healthy now (repaired by another process)", d.name)
        self.known[d.path] = fresh
        return True

    def check_own_venv(self) -> None:
        """Warn (log and ``status``) when venv-doctor's own venv is at risk."""
        if sys.prefix == sys.base_prefix:
            return
        own = load(Location("venv-doctor", Path(sys.prefix), "self"))
        d = diagnose(own, env=self.ctx.env)
        if d.status is Status.HEALTHY:
            self.heartbeat.own_venv = None
            return
        message = "; ".join(f.message for f in d.findings if f.severity.value != "info")
        self.heartbeat.own_venv = (
            f"venv-doctor's own venv {sys.prefix} is {d.status.value}: {message}"
        )
        log.error("%s (see `venv-doctor service install --python`)", self.heartbeat.own_venv)


def _first_message(d: Diagnosis) -> str:
    for f in d.findings:
        if f.severity.value == "error":
            return f.message
    return d.status.value
