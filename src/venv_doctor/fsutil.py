"""Small file-system helpers shared by every module that writes state."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if missing; venv-doctor's own directories are private."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


OWNER_LOCK = ".owner.lock"


@contextlib.contextmanager
def run_temp_dir(parent: Path) -> Iterator[Path]:
    """A private temp directory under ``parent`` (venv-doctor's cache, not /tmp),
    removed at the end. It holds a lock while its run lives, so
    ``remove_dead_temp_dirs`` can tell a killed run's leftovers from a live one's."""
    ensure_private_dir(parent)
    path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=parent))
    fd = os.open(path / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def remove_dead_temp_dirs(parent: Path) -> list[Path]:
    """Remove the temp directories of runs that died (their lock is free)."""
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith("run-")]
    except OSError:
        return []
    removed = []
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) and not _in_use(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _in_use(path: Path) -> bool:
    try:
        fd = os.open(path / OWNER_LOCK, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:  # a live run between mkdtemp and taking its lock, or long dead
        with contextlib.suppress(OSError):
            return time.time() - path.stat().st_mtime < 60
        return False
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
