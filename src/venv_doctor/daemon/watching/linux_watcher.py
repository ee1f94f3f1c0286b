"""Watching on Linux: one inotify descriptor, one reader thread, for any number of venvs.

The reader blocks in ``poll(2)`` without a timeout on the inotify descriptor and
a pipe that ``stop`` writes to: an idle daemon wakes for nothing. Per watched
directory the cost is one kernel watch (about 1 KB of kernel memory) and a dict
entry, not a thread.

Two paths to one directory (``opt/python@3.12/bin`` and the keg's ``bin``) get
the same watch descriptor from the kernel, so a descriptor maps to every path
it stands for, and is removed only when none is wanted any more.

Limits: with no inotify instance left (``fs.inotify.max_user_instances``), or
once the watches run out (``fs.inotify.max_user_watches``), the directories that
could not be watched are swept instead: one thread ``stat``s each of them every
``SWEEP_SECONDS`` (a directory's inode, mtime and ctime change when an entry is
added, removed or renamed: a package installed, an interpreter replaced).
``status`` counts them as polled and the log says which limit to raise.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from venv_doctor.daemon.watching import inotify
from venv_doctor.daemon.watching.watch import WatchSpec, add_each, identity

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0  # a package installed into a swept venv is seen within a minute
Accept = Callable[[Path, bool], bool]  # (path, is_directory) -> does the event matter?
Fingerprint = tuple[int, int, int, int] | None  # dev, inode, mtime, ctime (None: missing)

LIMIT_HINTS = {
    "instances": "raise it with `sysctl fs.inotify.max_user_instances=512`",
    "watches": "raise it with `sysctl fs.inotify.max_user_watches=524288`",
}


def fingerprint(path: Path) -> Fingerprint:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


class Sweep:
    """The fallback: one thread that stats the directories inotify could not take."""

    def __init__(self, report: Callable[[Path], None], seconds: float | None = None) -> None:
        self.report = report
        self.seconds = SWEEP_SECONDS if seconds is None else seconds
        self.paths: dict[Path, Fingerprint] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, path: Path) -> None:
        with self._lock:
            self.paths[path] = fingerprint(path)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="venv-doctor-sweep", daemon=True)
            self._thread.start()

    def discard(self, path: Path) -> None:
        with self._lock:
            self.paths.pop(path, None)

    def sweep(self) -> None:
        with self._lock:
            items = list(self.paths.items())
        for path, before in items:
            now = fingerprint(path)
            if now != before:
                with self._lock:
                    if path in self.paths:
                        self.paths[path] = now
                self.report(path)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.sweep()
            except Exception:  # the sweep must outlive anything
                log.exception("error while sweeping watched directories; continuing")

    def alive(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class InotifyWatcher:
    """Applies watch plans to one inotify instance, falling back to a sweep."""

    def __init__(self, sink: Callable[[Path], None], accept: Accept | None = None) -> None:
        self.sink = sink
        self.accept = accept
        self.roots_gone: set[Path] = set()
        self.newly: set[Path] = set()
        self.polling_reason: str | None = None
        self.active: dict[Path, tuple[int, tuple[int, int]]] = {}  # path -> (wd, inode)
        self._paths: dict[int, set[Path]] = {}  # wd -> the paths it stands for
        self._lock = threading.Lock()
        self.sweep = Sweep(self._swept)
        self.inotify: inotify.Inotify | None = None
        try:
            self.inotify = inotify.Inotify()
        except OSError as exc:
            self._limit("instances", exc)
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._read, name="venv-doctor-inotify", daemon=True)
        self._thread.start()

    # --- the plan (the daemon's worker thread) ----------------------------------------------

    def apply(self, specs: Sequence[WatchSpec]) -> list[Path]:
        """Make the watches match ``specs``; returns the paths that could not be watched.

        ``newly`` afterwards holds the paths watched by this call: the caller checks
        again what depends on them (a change before the watch was armed is missed).
        """
        wanted = {s.path for s in specs}
        with self._lock:
            gone, self.roots_gone = set(self.roots_gone), set()
        for path in list(self.active):
            stale = path in gone or identity(path) != self.active[path][1]
            if path not in wanted or stale:
                self._unwatch(path)
        for path in list(self.sweep.paths):
            if path not in wanted or identity(path) is None:
                self.sweep.discard(path)
        self.newly, failed = add_each(
            wanted - set(self.active) - set(self.sweep.paths), self._watch
        )
        return failed

    def _watch(self, path: Path) -> bool:
        inode = identity(path)
        if inode is None:
            return False
        if self.inotify is None:
            self.sweep.add(path)
            return True
        try:
            wd = self.inotify.add(str(path))
        except OSError as exc:
            if exc.errno not in inotify.LIMIT_ERRORS:
                log.warning("cannot watch %s: %s", path, exc.strerror)
                return False
            self._limit("watches", exc)
            self.sweep.add(path)
            return True
        with self._lock:
            self._paths.setdefault(wd, set()).add(path)
        self.active[path] = (wd, inode)
        return True

    def _limit(self, which: str, exc: OSError) -> None:
        if self.polling_reason is None:
            log.warning(
                "inotify has no %s left (%s): checking the rest of the watched directories"
                " every %g s instead; %s",
                *(which, exc.strerror, SWEEP_SECONDS, LIMIT_HINTS[which]),
            )
        self.polling_reason = f"inotify {which} exhausted ({exc.strerror})"

    def _unwatch(self, path: Path) -> None:
        wd, _ = self.active.pop(path)
        with self._lock:
            paths = self._paths.get(wd, set())
            paths.discard(path)
            last = not paths
            if last:
                self._paths.pop(wd, None)
        if last and self.inotify is not None:
            with contextlib.suppress(OSError):  # the kernel dropped it with its directory
                self.inotify.remove(wd)

    def stale(self) -> bool:
        """A watched directory was deleted or moved: re-apply the plan."""
        with self._lock:
            return bool(self.roots_gone & (set(self.active) | set(self.sweep.paths)))

    def watched(self) -> list[tuple[Path, str]]:
        native = [(p, "native") for p in self.active]
        return sorted(native + [(p, "polling") for p in self.sweep.paths])

    def alive(self) -> bool:
        return self._thread.is_alive() and self.sweep.alive()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        self.sweep.stop()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        if self.inotify is not None:
            self.inotify.close()

    # --- events (the reader thread) ----------------------------------------------------------

    def _read(self) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        if self.inotify is not None:
            poller.register(self.inotify.fd, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}  # no timeout: idle means asleep
            if self._wake_r in ready:
                return
            try:
                self._dispatch(self.inotify.read() if self.inotify else [])
            except Exception:  # the reader must survive anything
                log.exception("ignoring a failure while reading inotify events")

    def _dispatch(self, events: list[inotify.Event]) -> None:
        for event in events:
            if event.overflow:
                log.warning("inotify dropped events (queue overflow): checking every watched venv")
                with self._lock:
                    everything = [p for paths in self._paths.values() for p in paths]
                for path in everything:
                    self.sink(path)
                continue
            with self._lock:
                paths = sorted(self._paths.get(event.wd, ()))
                if event.mask & inotify.SELF_GONE and not event.name:
                    self.roots_gone.update(paths)
            for watched in paths:
                path = watched / os.fsdecode(event.name) if event.name else watched
                self._deliver(path, event.is_dir or not event.name)

    def _deliver(self, path: Path, is_dir: bool) -> None:
        try:
            if self.accept is None or self.accept(path, is_dir):
                self.sink(path)
        except Exception:  # a failing sink or filter must not end the reader
            log.exception("ignoring a failure while queueing %s", path)

    def _swept(self, path: Path) -> None:
        """Called on the sweep thread when a swept directory changed or vanished."""
        if identity(path) is None:
            with self._lock:
                self.roots_gone.add(path)
        self._deliver(path, True)
