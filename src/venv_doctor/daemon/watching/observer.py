"""Keeping watchdog's watches in line with the watch plan (the portable layer:
macOS FSEvents, and polling), and choosing the watcher for this platform.

On Linux the daemon uses ``linux_watcher`` instead (one inotify descriptor and
one thread for every watch; watchdog runs a thread per watched directory).

Lessons from BRIEF.md: scheduling a missing path raises FileNotFoundError; a
deleted watched directory leaves a dead emitter, and a renamed one keeps
reporting under its old path, so both are unscheduled before anything is
scheduled again (we remember each directory's inode to notice); an exception in
the handler kills the observer thread, so the handler only hands paths on; when
inotify runs out of watches (ENOSPC) or descriptors (EMFILE), the rest are
polled and ``status`` says so.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from venv_doctor.daemon.watching.watch import WatchSpec, add_each, identity

log = logging.getLogger(__name__)
LIMIT_ERRORS = (errno.ENOSPC, errno.EMFILE)
# Changes only. Without a filter inotify also reports every open and read-only
# close: each start of a watched interpreter (``python3.12`` in a watched bin
# directory, anything in /usr/bin) would wake three watchdog threads and the
# handler, which drops those events anyway. With the filter the kernel never
# sends them (watchdog builds the inotify mask from it).
CHANGES = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileDeletedEvent,
    DirDeletedEvent,
    FileMovedEvent,
    DirMovedEvent,
    FileModifiedEvent,
    DirModifiedEvent,
    FileClosedEvent,
]


Accept = Callable[[Path, bool], bool]  # (path, is_directory) -> does the event matter?


class DirWatcher(Protocol):
    """What the daemon asks of a watcher (``Watcher`` here, ``InotifyWatcher`` on Linux)."""

    newly: set[Path]
    polling_reason: str | None

    def apply(self, specs: Sequence[WatchSpec]) -> list[Path]: ...
    def stale(self) -> bool: ...
    def watched(self) -> list[tuple[Path, str]]: ...
    def alive(self) -> bool: ...
    def stop(self) -> None: ...


def make_watcher(sink: Callable[[Path], None], accept: Accept | None = None) -> DirWatcher:
    """One inotify descriptor and one thread on Linux; watchdog elsewhere."""
    platform: str = sys.platform  # (a plain str: mypy would drop the other branch)
    if platform.startswith("linux"):
        from venv_doctor.daemon.watching.linux_watcher import InotifyWatcher

        return InotifyWatcher(sink, accept)
    return Watcher(sink, accept=accept)


class _Handler(FileSystemEventHandler):
    def __init__(
        self, sink: Callable[[Path], None], roots_gone: set[Path], accept: Accept | None = None
    ) -> None:
        self.sink = sink
        self.roots_gone = roots_gone
        self.accept = accept

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type in ("opened", "closed_no_write"):
                return  # reads never break a venv
            path = Path(os.fsdecode(event.src_path))
            if event.is_directory and event.event_type in ("deleted", "moved"):
                self.roots_gone.add(path)  # if it is a watched root, its emitter is dead
            paths = [path]
            if getattr(event, "dest_path", ""):
                paths.append(Path(os.fsdecode(event.dest_path)))
            for p in paths:
                if self.accept is None or self.accept(p, event.is_directory):
                    self.sink(p)
        except Exception:  # the observer thread must survive anything
            log.exception("ignoring a failure while queueing %s", event)


@dataclass
class _Active:
    watch: ObservedWatch
    mode: str  # "native" or "polling"
    inode: tuple[int, int]


class Watcher:
    """Applies watch plans to a native observer, falling back to polling."""

    def __init__(
        self,
        sink: Callable[[Path], None],
        native: BaseObserver | None = None,
        accept: Accept | None = None,
    ) -> None:
        self.roots_gone: set[Path] = set()
        self.handler = _Handler(sink, self.roots_gone, accept)
        self.native = native or Observer()
        self.polling: BaseObserver | None = None  # started only when needed
        self.active: dict[Path, _Active] = {}
        self.newly: set[Path] = set()
        self.polling_reason: str | None = None
        self.native.start()

    def _observer(self, mode: str) -> BaseObserver:
        if mode == "native":
            return self.native
        if self.polling is None:
            self.polling = PollingObserver(timeout=2)
            self.polling.start()
        return self.polling

    def apply(self, specs: Sequence[WatchSpec]) -> list[Path]:
        """Make the watches match ``specs``; returns paths that could not be watched.

        ``newly`` afterwards holds the paths scheduled by this call: watchdog arms
        a watch in its own thread, so a change in the first moments can be
        missed, and the caller re-checks what depends on them.
        """
        wanted = {s.path for s in specs}
        gone, self.roots_gone = set(self.roots_gone), set()
        self.handler.roots_gone = self.roots_gone
        for path, active in list(self.active.items()):
            stale = path in gone or identity(path) != active.inode or not self._emitting(active)
            if path not in wanted or stale:
                self._unschedule(path)  # gone, renamed or replaced: its emitter is dead
        self.newly, failed = add_each(wanted - set(self.active), self._schedule)
        return failed

    def _schedule(self, path: Path) -> bool:
        inode = identity(path)
        if inode is None:
            return False
        mode = "polling" if self.polling_only else "native"
        try:
            watch = self._observer(mode).schedule(
                self.handler, str(path), recursive=False, event_filter=CHANGES
            )
        except FileNotFoundError:
            return False
        except OSError as exc:
            if exc.errno not in LIMIT_ERRORS:
                log.warning("cannot watch %s: %s", path, exc)
                return False
            log.warning("inotify limit reached (%s): polling %s and the rest", exc.strerror, path)
            self.polling_only = True
            self.polling_reason = f"inotify limit reached ({exc.strerror})"
            mode = "polling"
            watch = self._observer(mode).schedule(
                self.handler, str(path), recursive=False, event_filter=CHANGES
            )
        self.active[path] = _Active(watch, mode, inode)
        return True

    polling_only = False

    def _emitting(self, active: _Active) -> bool:
        """Whether the emitter behind a watch still runs (it ends with its directory)."""
        observer = self._observer(active.mode)
        return any(e.watch == active.watch and e.is_alive() for e in observer.emitters)

    def _unschedule(self, path: Path) -> None:
        active = self.active.pop(path)
        with contextlib.suppress(KeyError, OSError):  # its emitter died with the directory
            self._observer(active.mode).unschedule(active.watch)

    def stale(self) -> bool:
        """A watched root was deleted or moved, or an emitter died: re-apply the plan."""
        if self.roots_gone & set(self.active):
            return True
        return any(not self._emitting(a) for a in self.active.values())

    def watched(self) -> list[tuple[Path, str]]:
        return [(p, a.mode) for p, a in sorted(self.active.items())]

    def alive(self) -> bool:
        if not self.native.is_alive():
            return False
        return self.polling is None or self.polling.is_alive()

    def stop(self) -> None:
        for observer in (self.native, self.polling):
            if observer is not None:
                observer.stop()
        for observer in (self.native, self.polling):
            if observer is not None and observer.is_alive():
                observer.join(timeout=5)
