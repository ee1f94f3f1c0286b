"""One lock per venv, kept in venv-doctor's state directory (never inside the venv).

``flock`` locks vanish with the process that held them, so a repair killed with
SIGKILL never leaves a venv locked. The lock file says who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import ensure_private_dir, kind_of


class LockedError(VenvDoctorError):
    """Another venv-doctor process is repairing this venv."""


class LockFileError(VenvDoctorError):
    """The venv's lock file cannot be made (full disk, permissions, something in its way)."""


def lock_file(locks_dir: Path, venv: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(venv))).hexdigest()[:20]
    return locks_dir / f"{key}.lock"


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096) or b"{}")
        return f"pid {info.get('pid')} ({info.get('command', '?')}, since {info.get('since', '?')})"
    except (OSError, ValueError):
        return "another venv-doctor process"


def _open_lock(locks_dir: Path, venv: Path) -> int:
    """The lock file's descriptor; a full disk or a FIFO in its place is a clear error."""
    path = lock_file(locks_dir, venv)
    try:
        ensure_private_dir(locks_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise LockFileError(
            f"{exc.filename or path}: the lock for {venv} cannot be created: {exc.strerror or exc}",
            hint=f"venv-doctor keeps its locks in {locks_dir}; make room or fix its permissions",
        ) from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise LockFileError(f"{path} is {kind_of(mode)}, not a lock file", hint=f"remove {path}")
    return fd


@contextlib.contextmanager
def venv_lock(
    locks_dir: Path,
    venv: Path,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    poll: float = 0.2,
) -> Iterator[None]:
    """Hold ``venv``'s lock for the block; wait for it, or raise LockedError."""
    fd = _open_lock(locks_dir, venv)
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if not wait:
                    raise LockedError(
                        f"{venv} is being repaired by {holder}",
                        hint="wait for it to finish, or run again without --no-wait",
                    ) from None
                if on_wait and not told:
                    on_wait(f"waiting for {holder} to finish with {venv}")
                    told = True
                time.sleep(poll)
        info = {
            "pid": os.getpid(),
            "command": " ".join(sys.argv[:3]),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "venv": str(venv),
        }
        with contextlib.suppress(OSError):  # who holds it is a courtesy (the disk may be full)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock
