from __future__ import annotations

import errno
import queue
import shutil
import time
from pathlib import Path
from typing import Any

from watchdog.observers import Observer

from venv_doctor.daemon.watching.observer import Watcher
from venv_doctor.daemon.watching.watch import WatchSpec


def _spec(path: Path) -> WatchSpec:
    return WatchSpec(path, frozenset({"interpreter"}), frozenset())


def _touch_until_seen(q: queue.Queue[Path], path: Path, tries: int = 40) -> None:
    """watchdog arms a new watch in its emitter thread after schedule() returns:
    keep changing the file until an event for it arrives."""
    for i in range(tries):
        path.write_text(str(i))
        try:
            while q.get(timeout=0.25) != path:
                pass
            return
        except queue.Empty:
            continue
    raise AssertionError(f"no event for {path}")


def _events_until(q: queue.Queue[Path], wanted: Path, timeout: float = 10) -> set[Path]:
    seen: set[Path] = set()
    while wanted not in seen:
        seen.add(q.get(timeout=timeout))
    return seen


def test_events_arrive_and_a_deleted_dir_is_rewatched_when_recreated(tmp_path: Path) -> None:
    q: queue.Queue[Path] = queue.Queue()
    watched = tmp_path / "bin"
    watched.mkdir()
    w = Watcher(q.put)
    try:
        assert w.apply([_spec(watched)]) == []
        _touch_until_seen(q, watched / "python3.12")
        shutil.rmtree(watched)
        deadline = time.monotonic() + 10
        while not w.stale():  # the daemon re-plans once the watcher says so, as here
            assert time.monotonic() < deadline, "the deletion was never noticed"
            time.sleep(0.02)
        watched.mkdir()  # same path, new directory: the old emitter is dead
        assert w.apply([_spec(watched)]) == []
        _touch_until_seen(q, watched / "python3.13")
        assert w.watched() == [(watched, "native")]
    finally:
        w.stop()


def test_missing_path_is_reported_not_raised(tmp_path: Path) -> None:
    w = Watcher(lambda p: None)
    try:
        assert w.apply([_spec(tmp_path / "absent")]) == [tmp_path / "absent"]
        assert w.alive()
    finally:
        w.stop()


class _FullInotify(Observer):  # type: ignore[misc,valid-type]
    def schedule(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


def test_inotify_limit_falls_back_to_polling(tmp_path: Path) -> None:
    q: queue.Queue[Path] = queue.Queue()
    (tmp_path / "d").mkdir()
    w = Watcher(q.put, native=_FullInotify())
    try:
        assert w.apply([_spec(tmp_path / "d")]) == []
        assert w.watched() == [(tmp_path / "d", "polling")]
        (tmp_path / "d" / "new").write_text("x")
        _events_until(q, tmp_path / "d" / "new")
    finally:
        w.stop()


def test_handler_exception_does_not_kill_the_observer(tmp_path: Path) -> None:
    calls: list[Path] = []

    def sink(p: Path) -> None:
        calls.append(p)
        raise RuntimeError("boom")

    (tmp_path / "d").mkdir()
    w = Watcher(sink)
    try:
        w.apply([_spec(tmp_path / "d")])
        (tmp_path / "d" / "a").write_text("x")
        (tmp_path / "d" / "b").write_text("x")
        import time

        deadline = time.monotonic() + 10
        while tmp_path / "d" / "b" not in calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tmp_path / "d" / "b" in calls
        assert w.alive()
    finally:
        w.stop()


def test_reading_or_starting_a_watched_interpreter_wakes_nothing(tmp_path: Path) -> None:
    """Only changes are asked of the kernel: opening and reading a file in a watched
    bin directory (every start of python3.12) never reaches watchdog's handler."""
    q: queue.Queue[Path] = queue.Queue()
    watched = tmp_path / "bin"
    watched.mkdir()
    python = watched / "python3.12"
    python.write_text("#!/bin/sh\n")
    w = Watcher(q.put)
    seen_types: list[str] = []
    forward = w.handler.on_any_event

    def record(event: Any) -> None:
        seen_types.append(event.event_type)
        forward(event)

    w.handler.on_any_event = record  # type: ignore[method-assign]
    try:
        assert w.apply([_spec(watched)]) == []
        _touch_until_seen(q, watched / "armed")
        seen_types.clear()
        for _ in range(20):
            assert python.read_text() == "#!/bin/sh\n"
        (watched / "sentinel").write_text("x")  # events arrive in order: this one comes last
        _events_until(q, watched / "sentinel")
        assert "opened" not in seen_types and "closed_no_write" not in seen_types, seen_types
        assert "created" in seen_types
    finally:
        w.stop()
