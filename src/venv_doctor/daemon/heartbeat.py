"""The daemon's heartbeat: the file that says what it is doing, and its lock.

The daemon keeps a small JSON file current (pid, start time, last scan,
watched directories and their mode, pending repairs, venv counts);
``venv-doctor status`` reads it with the state DB and works whether or not the
daemon runs. (A venv's health is ``diagnose.findings.Status``; the line systemd
shows is ``sdnotify.send_status``.)
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import atomic_write, read_json
from venv_doctor.paths import AppDirs


@dataclass
class Heartbeat:
    pid: int
    since: str
    last_scan: str | None = None
    watched: list[dict[str, str]] = field(default_factory=list)
    pending_repairs: list[str] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    polling_reason: str | None = None
    own_venv: str | None = None  # a warning when venv-doctor's own venv is at risk


def heartbeat_file(dirs: AppDirs) -> Path:
    return dirs.state / "daemon.json"


def lock_file(dirs: AppDirs) -> Path:
    return dirs.state / "daemon.lock"


def write(dirs: AppDirs, heartbeat: Heartbeat) -> None:
    atomic_write(heartbeat_file(dirs), json.dumps(asdict(heartbeat), indent=2) + "\n", mode=0o600)


def read(dirs: AppDirs) -> dict[str, Any] | None:
    try:
        data = read_json(heartbeat_file(dirs), follow_symlinks=False)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def daemon_running(dirs: AppDirs) -> bool:
    """True while some process holds the daemon lock (it dies with its holder)."""
    path = lock_file(dirs)
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False  # not a lock file anyone could hold
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
