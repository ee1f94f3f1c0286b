"""The Linux watcher: one real inotify descriptor and one thread for every watch.

The limits (no instance or no watch left) are per user and machine-wide: a test
that exhausted them would break every other process of the user meanwhile, so
those two tests make the one libc call fail with the kernel's errno instead.
"""

from __future__ import annotations

import errno
import queue
import shutil
import threading
import time
from pathlib import Path

import pytest

from venv_doctor.daemon.watching import inotify, linux_watcher
from venv_doctor.daemon.watching.linux_watcher import InotifyWatcher
from venv_doctor.daemon.watching.watch import WatchSpec


def _spec(path: Path) -> WatchSpec:
    return WatchSpec(path, frozenset({"interpreter"}), frozenset())


def _until(q: queue.Queue[Path], wanted: Path, timeout: float = 10) -> set[Path]:
    seen: set[Path] = set()
    while wanted not in seen:
        seen.add(q.get(timeout=timeout))
    return seen


def _wait(predicate: object, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_hundreds_of_directories_cost_one_thread(tmp_path: Path) -> None:
    dirs = [tmp_path / f"venv{i:03d}" / "site-packages" for i in range(300)]
    for d in dirs:
        d.mkdir(parents=True)
    q: queue.Queue[Path] = queue.Queue()
    before = threading.active_count()
    w = InotifyWatcher(q.put)
    try:
        assert w.apply([_spec(d) for d in dirs]) == []
        assert threading.active_count() == before + 1
        assert w.watched() == [(d, "native") for d in dirs]
        (dirs[123] / "tinytop-3.0.0.dist-info").mkdir()  # armed when apply returned
        _until(q, dirs[123] / "tinytop-3.0.0.dist-info")
    finally:
        w.stop()
    assert threading.active_count() == before


def test_a_deleted_directory_is_stale_then_watched_again_when_recreated(tmp_path: Path) -> None:
    q: queue.Queue[Path] = queue.Queue()
    watched = tmp_path / "bin"
    watched.mkdir()
    w = InotifyWatcher(q.put)
    try:
        w.apply([_spec(watched)])
        (watched / "python3.12").write_text("x")
        _until(q, watched / "python3.12")
        shutil.rmtree(watched)
        _wait(w.stale, "the deletion")
        watched.mkdir()  # same path, new inode
        assert w.apply([_spec(watched)]) == []
        assert w.newly == {watched}
        assert not w.stale()
        (watched / "python3.13").write_text("x")
        _until(q, watched / "python3.13")
    finally:
        w.stop()


def test_a_moved_directory_is_stale(tmp_path: Path) -> None:
    watched = tmp_path / "3.12.1"
    watched.mkdir()
    w = InotifyWatcher(lambda p: None)
    try:
        w.apply([_spec(watched)])
        watched.rename(tmp_path / "3.12.1.old")
        _wait(w.stale, "the move")
        assert w.apply([_spec(watched)]) == [watched]  # nothing there any more
        assert w.watched() == []
    finally:
        w.stop()


def test_two_paths_to_one_directory_both_report_and_outlive_each_other(tmp_path: Path) -> None:
    """``opt/python@3.12/bin`` and the keg's ``bin`` are one directory: the kernel gives
    both paths one watch descriptor; dropping one path keeps the other watched."""
    real = tmp_path / "Cellar" / "bin"
    real.mkdir(parents=True)
    (tmp_path / "opt").symlink_to(tmp_path / "Cellar")
    via_link = tmp_path / "opt" / "bin"
    q: queue.Queue[Path] = queue.Queue()
    w = InotifyWatcher(q.put)
    try:
        w.apply([_spec(real), _spec(via_link)])
        (real / "python3.12").write_text("x")
        assert {real / "python3.12", via_link / "python3.12"} <= _until(q, via_link / "python3.12")
        w.apply([_spec(real)])
        (real / "python3.13").write_text("x")
        _until(q, real / "python3.13")
    finally:
        w.stop()


def test_reading_or_starting_a_watched_interpreter_sends_nothing(tmp_path: Path) -> None:
    watched = tmp_path / "bin"
    watched.mkdir()
    python = watched / "python3.12"
    python.write_text("#!/bin/sh\n")
    raw: list[inotify.Event] = []
    q: queue.Queue[Path] = queue.Queue()
    w = InotifyWatcher(q.put)
    forward = w._dispatch

    def record(events: list[inotify.Event]) -> None:
        raw.extend(events)
        forward(events)

    w._dispatch = record  # type: ignore[method-assign]
    try:
        w.apply([_spec(watched)])
        for _ in range(20):
            assert python.read_text() == "#!/bin/sh\n"
        (watched / "sentinel").write_text("x")  # events arrive in order: this one comes last
        _until(q, watched / "sentinel")
        assert {e.name for e in raw} == {b"sentinel"}, raw
    finally:
        w.stop()


def test_a_failing_sink_does_not_end_the_reader(tmp_path: Path) -> None:
    calls: list[Path] = []

    def sink(p: Path) -> None:
        calls.append(p)
        raise RuntimeError("boom")

    (tmp_path / "d").mkdir()
    w = InotifyWatcher(sink)
    try:
        w.apply([_spec(tmp_path / "d")])
        (tmp_path / "d" / "a").write_text("x")
        (tmp_path / "d" / "b").write_text("x")
        _wait(lambda: tmp_path / "d" / "b" in calls, "the second event")
        assert w.alive()
    finally:
        w.stop()


def test_a_queue_overflow_reports_every_watched_directory(tmp_path: Path) -> None:
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
    seen: list[Path] = []
    w = InotifyWatcher(seen.append)
    try:
        w.apply([_spec(d) for d in dirs])
        w._dispatch([inotify.Event(-1, inotify.IN_Q_OVERFLOW, b"")])
        assert sorted(seen) == dirs
    finally:
        w.stop()


def _failing_add(code: int) -> object:
    def add(self: inotify.Inotify, path: str, mask: int = inotify.CHANGES) -> int:
        raise OSError(code, "No space left on device")

    return add


def test_out_of_watches_the_rest_is_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(linux_watcher, "SWEEP_SECONDS", 0.05)
    (tmp_path / "d").mkdir()
    q: queue.Queue[Path] = queue.Queue()
    w = InotifyWatcher(q.put)
    monkeypatch.setattr(inotify.Inotify, "add", _failing_add(errno.ENOSPC))
    try:
        assert w.apply([_spec(tmp_path / "d")]) == []
        assert w.watched() == [(tmp_path / "d", "polling")]
        assert w.polling_reason is not None and "watches" in w.polling_reason
        assert "max_user_watches" in caplog.text
        (tmp_path / "d" / "tinytop-3.0.0.dist-info").mkdir()
        _until(q, tmp_path / "d")  # the directory changed: its venvs are checked
        shutil.rmtree(tmp_path / "d")
        _wait(w.stale, "the swept directory's removal")
        assert w.alive()
    finally:
        w.stop()


def test_no_inotify_instance_left_everything_is_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(self: inotify.Inotify) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(linux_watcher, "SWEEP_SECONDS", 0.05)
    monkeypatch.setattr(inotify.Inotify, "__init__", refuse)
    (tmp_path / "d").mkdir()
    q: queue.Queue[Path] = queue.Queue()
    w = InotifyWatcher(q.put)
    try:
        assert w.apply([_spec(tmp_path / "d")]) == []
        assert w.watched() == [(tmp_path / "d", "polling")]
        assert "max_user_instances" in caplog.text
        (tmp_path / "d" / "new").mkdir()
        _until(q, tmp_path / "d")
    finally:
        w.stop()


def test_events_parse_back_from_the_kernels_layout() -> None:
    import struct

    name = b"python3.12\0\0"
    data = struct.pack("iIII", 3, inotify.IN_CREATE, 0, len(name)) + name
    data += struct.pack("iIII", 3, inotify.IN_DELETE_SELF, 0, 0)
    first, second = inotify.parse(data)
    assert (first.wd, first.name, first.is_dir) == (3, b"python3.12", False)
    assert second.mask & inotify.SELF_GONE and second.name == b""
