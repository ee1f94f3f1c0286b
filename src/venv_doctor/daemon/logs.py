"""The daemon's log: stderr (the journal under systemd), plus a file on macOS.

When systemd connects stderr to the journal it says so in ``JOURNAL_STREAM``
("<device>:<inode>" of that stream). Then every line starts with its syslog
priority (``<2>`` critical, ``<3>`` error, ``<4>`` warning, ``<6>`` info, ``<7>`` debug), so
``journalctl -p warning`` shows the warnings; elsewhere lines stay plain.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import IO

from venv_doctor.paths import is_macos, mac_logs_dir
from venv_doctor.render.sanitize import SafeFormatter

FORMAT = "%(levelname)s %(name)s: %(message)s"
PRIORITIES = (  # the lowest level first: a record gets the priority of its band
    (logging.CRITICAL, 2),
    (logging.ERROR, 3),
    (logging.WARNING, 4),
    (logging.INFO, 6),
)
DEBUG_PRIORITY = 7


def priority(level: int) -> int:
    return next((p for floor, p in PRIORITIES if level >= floor), DEBUG_PRIORITY)


class JournalFormatter(SafeFormatter):
    """Each line (a traceback's too) prefixed with the record's syslog priority."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def is_journal(stream: IO[str], env: Mapping[str, str]) -> bool:
    """Is ``stream`` the journal's stream systemd names in JOURNAL_STREAM?"""
    device, _, inode = env.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (OSError, ValueError, AttributeError):
        return False


def stderr_handler(stream: IO[str], env: Mapping[str, str]) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    journal = is_journal(stream, env)
    handler.setFormatter(JournalFormatter(FORMAT) if journal else SafeFormatter(FORMAT))
    return handler


def configure(stream: IO[str], env: Mapping[str, str], verbose: bool = False) -> None:
    handlers: list[logging.Handler] = [stderr_handler(stream, env)]
    if is_macos():
        from logging.handlers import RotatingFileHandler

        logs = mac_logs_dir(env)
        logs.mkdir(parents=True, exist_ok=True)
        rotating = RotatingFileHandler(logs / "daemon.log", maxBytes=2_000_000, backupCount=3)
        rotating.setFormatter(SafeFormatter(FORMAT))
        handlers.append(rotating)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # watchdog logs every inotify event at DEBUG: with -v and the log in a watched
    # directory, each logged event would be the next event (a loop without end)
    logging.getLogger("watchdog").setLevel(logging.INFO)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=handlers, force=True
    )
