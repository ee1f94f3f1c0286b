"""``venv-doctor daemon``: watch the interpreters, check what changed, repair by
policy, notify, and stay alive.

Threads: watchdog's observer threads only queue paths into the Debouncer; one
worker thread turns batches into checks, repairs and notifications (so state
is touched by one thread); APScheduler's single-threaded scheduler only asks the
worker for full scans and prunes. The main thread handles signals, pings the
systemd watchdog while all three are alive, and reloads config on SIGHUP.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from venv_doctor import config as config_mod
from venv_doctor.check import diagnose_missing
from venv_doctor.context import Context
from venv_doctor.daemon import heartbeat, logs, sdnotify, watch
from venv_doctor.daemon.debounce import Debouncer
from venv_doctor.daemon.observer import Watcher
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Code, Diagnosis, PythonInfo, Status, status_counts
from venv_doctor.diagnose.probe import probe
from venv_doctor.diagnose.scan import read_venvs
from venv_doctor.errors import ConfigError, VenvDoctorError
from venv_doctor.fsutil import ensure_private_dir
from venv_doctor.model.venv import Location, Venv, load
from venv_doctor.notify import VenvEvent, build_notifiers, close
from venv_doctor.notify.conversation import Conversation
from venv_doctor.record import registry
from venv_doctor.repair import execute
from venv_doctor.repair.plan import GONE, Action
from venv_doctor.repair.result import Outcome, RepairResult
from venv_doctor.repair.run import Policy, repair
from venv_doctor.runner import CANCEL
from venv_doctor.targets import Match, Where, all_locations

log = logging.getLogger("venv_doctor.daemon")
BAD = (Status.BROKEN, Status.UNKNOWN)


class DaemonRunningError(VenvDoctorError):
    """Another daemon of this user holds the instance lock."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Daemon:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.wake = threading.Event()  # set by signals so the main loop acts at once
        self.full_scan = threading.Event()
        self.debouncer = Debouncer(ctx.config.debounce_seconds, ctx.config.max_wait_seconds)
        self.known: dict[Path, Diagnosis] = {}
        self.locations: dict[Path, Location] = {}
        self.specs: list[watch.WatchSpec] = []
        self._by_path: dict[Path, watch.WatchSpec] = {}
        self.conversation = Conversation(self._notified_file())
        self.notifiers = build_notifiers(ctx.config, ctx.env)
        self.heartbeat = heartbeat.Heartbeat(pid=os.getpid(), since=now_iso())
        self.watcher: Watcher | None = None
        self.worker: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._last_status_line = ""
        # systemd's variables are ours alone: no child may inherit NOTIFY_SOCKET
        self.sd_env = {
            k: os.environ.pop(k)
            for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
            if k in os.environ
        }

    # --- process life ------------------------------------------------------------

    def acquire_instance_lock(self) -> None:
        ensure_private_dir(self.ctx.dirs.state)
        fd = os.open(heartbeat.lock_file(self.ctx.dirs), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            running = heartbeat.read(self.ctx.dirs) or {}
            raise DaemonRunningError(
                f"another venv-doctor daemon is running (pid {running.get('pid', '?')})",
                hint="`venv-doctor status` shows it; stop it before starting another",
            ) from None
        self._lock_fd = fd

    def request_scan(self) -> None:
        """Ask the worker for a full scan (the scheduler's job; SIGHUP)."""
        self.full_scan.set()
        self.debouncer.poke()

    def _signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload.set()
        else:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stop.set()
            CANCEL.set()  # a running rebuild is cancelled and rolled back
            self.debouncer.poke()
        self.wake.set()

    def run(self) -> int:
        self.acquire_instance_lock()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._signal)
        for line in execute.recover(self.ctx):
            log.warning("recovered an interrupted repair: %s", line)
        self.watcher = Watcher(self.debouncer.add, accept=self._relevant)
        self.scan_all()
        scheduler = self._scheduler()
        self.worker = threading.Thread(target=self._work, name="venv-doctor-worker", daemon=True)
        self.worker.start()
        # READY carries the same status line as every later update (venv counts first):
        # a STATUS= of its own would replace the counts until the next change
        sdnotify.ready(self._status_line(), env=self.sd_env)
        log.info("watching %d directories for %d venvs", len(self.specs), len(self.known))
        try:
            self._main_loop(scheduler)
        finally:
            self._shutdown(scheduler)
        return 0

    def run_once(self) -> int:
        """The timer's run: check every venv, repair by policy, notify like the daemon
        (the same grouping, and what was told kept in the same state file), log one line.

        Exits 1 when a venv is left broken, 0 otherwise."""
        self.acquire_instance_lock()
        for line in execute.recover(self.ctx):
            log.warning("recovered an interrupted repair: %s", line)
        self.known = self._remembered()
        try:
            self.scan_all()
        finally:
            close(self.notifiers)
        counts = ", ".join(f"{n} {s}" for s, n in self.heartbeat.summary.items() if n)
        log.info("checked %d venvs: %s", len(self.known), counts or "none found")
        return 1 if any(d.status in BAD for d in self.known.values()) else 0

    def _remembered(self) -> dict[Path, Diagnosis]:
        """Every registered venv, taken as fine: each run then repairs every broken venv by
        policy and sees a vanished one, while what the user was already told (kept by
        the Conversation between runs) is not told again."""
        out: dict[Path, Diagnosis] = {}
        for record in registry.records(self.ctx):
            location = Location(record.name, record.path, record.store)
            python = PythonInfo(record.python_version, None, None, None)
            out[record.path] = Diagnosis(
                location, Status.HEALTHY, record.creator or "unknown", python, ()
            )
        return out

    def _main_loop(self, scheduler: object) -> None:
        interval = sdnotify.watchdog_interval(self.sd_env)
        tick = interval / 2 if interval else None  # idle: no wake-ups without a watchdog
        while not self.stop.is_set():
            self.wake.wait(tick)
            self.wake.clear()
            if self.reload.is_set():
                self.reload.clear()
                self.reload_config()
            if interval and not self.stop.is_set() and self.alive(scheduler):
                sdnotify.watchdog(env=self.sd_env)

    def alive(self, scheduler: object) -> bool:
        return bool(
            self.watcher
            and self.watcher.alive()
            and self.worker
            and self.worker.is_alive()
            and getattr(scheduler, "running", False)
        )

    def _shutdown(self, scheduler: object) -> None:
        sdnotify.stopping(env=self.sd_env)
        self.stop.set()
        CANCEL.set()
        self.debouncer.poke()
        if self.worker:
            self.worker.join(timeout=60)
        shutdown = getattr(scheduler, "shutdown", None)
        if shutdown:
            shutdown(wait=False)
        if self.watcher:
            self.watcher.stop()
        close(self.notifiers)
        log.info("stopped")

    def reload_config(self) -> None:
        try:
            config = config_mod.load(self.ctx.dirs, self.ctx.env)
        except ConfigError as exc:
            log.error("config not reloaded, keeping the old one: %s", exc.message)
            return
        self.ctx = replace(self.ctx, config=config)
        close(self.notifiers)
        self.notifiers = build_notifiers(config, self.ctx.env)
        self.debouncer.quiet = config.debounce_seconds
        self.debouncer.max_wait = config.max_wait_seconds
        log.info("config reloaded")
        # venvs already broken get the new policy at the scan that follows (e.g. `auto`
        # turned from "off" to "relink"); what the user was told is not told again
        self.known = {p: d for p, d in self.known.items() if d.status not in BAD}
        self.request_scan()

    def _scheduler(self) -> object:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        hours = self.ctx.config.scan_interval_hours
        if hours > 0:
            jitter = int(min(900, hours * 3600 / 20))
            scheduler.add_job(self.request_scan, "interval", hours=hours, jitter=jitter, id="scan")
        scheduler.add_job(self.prune, "interval", days=1, id="prune")
        scheduler.start()
        return scheduler

    # --- the worker ------------------------------------------------------------------

    def _work(self) -> None:
        while not self.stop.is_set():
            try:
                if self.full_scan.is_set():
                    self.full_scan.clear()
                    self.scan_all()
                batch = self.debouncer.next_batch()  # blocks until events, a scan request or stop
                if batch:
                    self.handle(batch)
            except Exception:  # the worker must outlive any one bad batch
                log.exception("error while handling changes; continuing")

    def prune(self) -> None:
        from venv_doctor.repair import backups
        from venv_doctor.repair.journal import open_journal

        with open_journal(self.ctx) as journal:
            done = backups.prune(journal, self.ctx.config.keep_backups_days)
        for b in done.removed:
            log.info("pruned the backup of %s from %s", b.venv, b.path)
        for b, files in done.holding:
            log.warning(
                "kept the backup of %s at %s: it holds %d file(s) the venv lacks (%s)",
                *(b.venv, b.path, len(files), ", ".join(files[:5])),
            )
        for b, why in done.failed:
            log.warning("could not prune the backup of %s at %s: %s", b.venv, b.path, why)

    def scan_all(self) -> None:
        """Discover every venv, check them all, and re-plan the watches."""
        locations = all_locations(self.ctx)
        self.locations = {x.path: x for x in locations}
        gone = [p for p in self.known if p not in self.locations]
        self.check(list(self.locations.values()) + [self._gone(p) for p in gone])
        self.heartbeat.last_scan = now_iso()
        self.conversation.prune(registry.registered(self.ctx), self.notifiers)
        self.conversation.save()
        self._check_own_venv()
        self.replan()

    def _gone(self, path: Path) -> Location:
        old = self.known[path].location
        return Location(old.name, old.path, old.store)

    def handle(self, batch: Iterable[Path]) -> None:
        paths = set(batch)
        venvs, replan = watch.affected(self.specs, paths)
        log.debug("%d changed paths affect %d venvs (replan: %s)", len(paths), len(venvs), replan)
        if replan:
            fresh = {x.path: x for x in all_locations(self.ctx)}
            venvs |= set(fresh) ^ set(self.locations)
            venvs |= {p for p in self.known if p not in fresh}
            self.locations = fresh
        targets = [
            self.locations.get(p) or self._gone(p)
            for p in venvs
            if p in self.locations or p in self.known
        ]
        self.check(targets)
        if (
            replan
            or (self.watcher is not None and self.watcher.stale())
            or any(not s.path.is_dir() for s in self.specs)
        ):
            self.replan()

    def replan(self) -> None:
        if self.watcher is None:
            return
        venvs = [load(x) for x in self.locations.values()]
        roots = [s.root for s in self.ctx.stores()]
        home = self.ctx.env.get("HOME")
        never = watch.forbidden(Path(home) if home else None, self.ctx.dirs.own)
        self.specs = watch.plan(venvs, roots, never)
        self._by_path = {s.path: s for s in self.specs}
        failed = self.watcher.apply(self.specs)
        for path in failed:
            log.warning("cannot watch %s; it will be retried at the next scan", path)
        # a change racing the arming of a new watch is caught by checking again
        if self.known:
            behind = {v for s in self.specs if s.path in self.watcher.newly for v in s.venvs}
            self.check([self.locations[p] for p in behind if p in self.locations])
        # written last: a heartbeat listing watches means they are armed and checked
        self.heartbeat.watched = [{"path": str(p), "mode": m} for p, m in self.watcher.watched()]
        self._write_heartbeat()

    def _relevant(self, path: Path, is_dir: bool) -> bool:
        """Called on the observer's threads: only reads the current plan."""
        return watch.relevant(self._by_path, path, is_dir)

    # --- checking, repairing, notifying -------------------------------------------------

    def check(self, locations: list[Location]) -> None:
        if not locations:
            return
        started = time.time()
        venvs = read_venvs(locations)
        diagnoses = [self._diagnose(v) for v in venvs]
        registry.record_check(self.ctx, venvs, diagnoses)
        changes = [self._transition(d) for d in diagnoses]
        happened = [e for e in changes if e is not None]
        for d in diagnoses:
            if d.codes() & GONE:
                self.known.pop(d.path, None)
            else:
                self.known[d.path] = d
        if happened:
            self._act(happened)
        self.heartbeat.summary = status_counts(d.status for d in self.known.values())
        self._write_heartbeat()
        self._export(started)

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

    def _act(self, changes: list[tuple[str, Diagnosis]]) -> None:
        events: list[tuple[Path, str, str]] = []  # logged together once the batch is done
        broken = [d for kind, d in changes if kind == "broken"]
        repaired = self._auto_repair(broken) if broken else {}
        out: list[VenvEvent] = []
        for kind, d in changes:
            events.append((d.path, kind, _first_message(d)))
            result = repaired.get(d.path) if kind == "broken" else None
            out.append(self._repair_event(d, result) or VenvEvent.from_diagnosis(kind, d))  # type: ignore[arg-type]
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

    def _auto_repair(self, broken: list[Diagnosis]) -> dict[Path, RepairResult]:
        policy = self.policy()
        if policy is None:
            return {}
        self.heartbeat.pending_repairs = [str(d.path) for d in broken]
        self._write_heartbeat()
        try:
            results = repair(self.ctx, broken, policy)
        finally:
            self.heartbeat.pending_repairs = []
        return {d.path: r for d, r in zip(broken, results, strict=True)}

    def _repair_event(self, d: Diagnosis, result: RepairResult | None) -> VenvEvent | None:
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

    def _check_own_venv(self) -> None:
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

    def _notified_file(self) -> Path:
        return self.ctx.dirs.state / "notified.json"

    def _write_heartbeat(self) -> None:
        try:
            heartbeat.write(self.ctx.dirs, self.heartbeat)
        except OSError as exc:
            log.warning("cannot write the heartbeat file: %s", exc)
        line = self._status_line()
        if line != self._last_status_line:  # `systemctl --user status` shows it
            self._last_status_line = line
            sdnotify.send_status(line, env=self.sd_env)

    def _status_line(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.heartbeat.summary.items() if n) or "no venvs"
        return f"{counts}; watching {len(self.heartbeat.watched)} directories"


def _first_message(d: Diagnosis) -> str:
    for f in d.findings:
        if f.severity.value == "error":
            return f.message
    return d.status.value


def configure_logging(ctx: Context, verbose: bool = False) -> None:
    logs.configure(sys.stderr, ctx.env, verbose)
