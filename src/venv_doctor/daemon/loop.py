"""``venv-doctor daemon``: watch the interpreters, check what changed, repair by
policy, notify, and stay alive.

Threads, whatever the number of venvs: the watcher's reader (one on Linux:
``linux_watcher``) only queues paths into the Debouncer; one worker thread turns
batches into checks, repairs and notifications (``respond``: state is touched by
one thread); APScheduler's single-threaded scheduler (``schedule``) only asks the
worker for full scans and prunes backups. The main thread handles signals, pings
the systemd watchdog while all three are alive, and reloads config on SIGHUP.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from venv_doctor import config as config_mod
from venv_doctor.context import Context
from venv_doctor.daemon import heartbeat, logs, schedule, sdnotify
from venv_doctor.daemon.respond import Responder
from venv_doctor.daemon.watching import watch
from venv_doctor.daemon.watching.debounce import Debouncer
from venv_doctor.daemon.watching.observer import DirWatcher, make_watcher
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.errors import ConfigError, VenvDoctorError
from venv_doctor.fsutil import ensure_private_dir
from venv_doctor.model.venv import Location, load
from venv_doctor.repair import execute
from venv_doctor.runner import CANCEL
from venv_doctor.targets import all_locations

log = logging.getLogger("venv_doctor.daemon")


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
        self.locations: dict[Path, Location] = {}
        self.specs: list[watch.WatchSpec] = []
        self._by_path: dict[Path, watch.WatchSpec] = {}
        self._never: Callable[[Path], bool] = lambda _: False
        self.heartbeat = heartbeat.Heartbeat(pid=os.getpid(), since=now_iso())
        self.respond = Responder(ctx, self.heartbeat, self._write_heartbeat)
        self.watcher: DirWatcher | None = None
        self.worker: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._last_status_line = ""
        # systemd's variables are ours alone: no child may inherit NOTIFY_SOCKET
        self.sd_env = {
            k: os.environ.pop(k)
            for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
            if k in os.environ
        }

    @property
    def known(self) -> dict[Path, Diagnosis]:
        return self.respond.known

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
        self.watcher = make_watcher(self.debouncer.add, accept=self._relevant)
        self.scan_all()
        scheduler = schedule.start(self.ctx, self.request_scan, self.prune)
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
        self.respond.remember()
        try:
            self.scan_all()
        finally:
            self.respond.close()
        counts = ", ".join(f"{n} {s}" for s, n in self.heartbeat.summary.items() if n)
        log.info("checked %d venvs: %s", len(self.known), counts or "none found")
        return 1 if self.respond.any_bad() else 0

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
        self.respond.close()
        log.info("stopped")

    def reload_config(self) -> None:
        try:
            config = config_mod.load(self.ctx.dirs, self.ctx.env)
        except ConfigError as exc:
            log.error("config not reloaded, keeping the old one: %s", exc.message)
            return
        self.ctx = replace(self.ctx, config=config)
        self.respond.reconfigure(self.ctx)
        self.debouncer.quiet = config.debounce_seconds
        self.debouncer.max_wait = config.max_wait_seconds
        log.info("config reloaded")
        self.request_scan()

    def prune(self) -> None:
        schedule.prune_backups(self.ctx)

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

    def scan_all(self) -> None:
        """Discover every venv, check them all, and re-plan the watches."""
        locations = all_locations(self.ctx)
        self.locations = {x.path: x for x in locations}
        gone = [p for p in self.known if p not in self.locations]
        self.respond.check(list(self.locations.values()) + [self._gone(p) for p in gone])
        self.heartbeat.last_scan = now_iso()
        self.respond.settle()
        self.respond.check_own_venv()
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
        self.respond.check(targets)
        if (
            replan
            or (self.watcher is not None and self.watcher.stale())
            or any(not s.path.is_dir() for s in self.specs)
            or not all(self._covered(p) for p in venvs)
        ):
            self.replan()

    def _covered(self, path: Path) -> bool:
        location = self.locations.get(path)
        return location is None or watch.covered(self._by_path, load(location), self._never)

    def replan(self) -> None:
        if self.watcher is None:
            return
        venvs = (load(x) for x in self.locations.values())  # one at a time, as check reads
        roots = [s.root for s in self.ctx.stores()]
        home = self.ctx.env.get("HOME")
        self._never = watch.forbidden(Path(home) if home else None, self.ctx.dirs.own)
        self.specs = watch.plan(venvs, roots, self._never)
        before, self._by_path = self._by_path, {s.path: s for s in self.specs}
        failed = self.watcher.apply(self.specs)
        for path in failed:
            log.warning("cannot watch %s; it will be retried at the next scan", path)
        # a change racing the arming of a new watch is caught by checking again; so is a
        # watched directory that vanished while a scan ran (its queued events find no
        # spec in the new plan)
        if self.known:
            behind = {v for s in self.specs if s.path in self.watcher.newly for v in s.venvs}
            behind |= {
                v
                for p, s in before.items()
                if p not in self._by_path and not p.is_dir()
                for v in s.venvs
            }
            self.respond.check([self.locations[p] for p in behind if p in self.locations])
        # written last: a heartbeat listing watches means they are armed and checked
        self.heartbeat.watched = [{"path": str(p), "mode": m} for p, m in self.watcher.watched()]
        self.heartbeat.polling_reason = self.watcher.polling_reason
        self._write_heartbeat()

    def _relevant(self, path: Path, is_dir: bool) -> bool:
        """Called on the watcher's thread: only reads the current plan."""
        return watch.relevant(self._by_path, path, is_dir)

    # --- what the user and systemd see ------------------------------------------------

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


def configure_logging(ctx: Context, verbose: bool = False) -> None:
    logs.configure(sys.stderr, ctx.env, verbose)
