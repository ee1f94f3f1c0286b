"""The wording every message shares: plurals, lists cut short, ``~`` for the home
directory, times for people. (Untrusted text is shown by ``render.sanitize.printable``,
and commands to paste are quoted by ``render.sanitize.command``.)

The home directory is always the caller's (from its Context's environment): this
module never reads the process environment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 venv``, ``2 venvs``, ``0 packages``."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def listed(items: Sequence[str], most: int) -> str:
    """``a, b, c`` or, past ``most`` items, ``a, b and 7 more``: the one way a long list
    is cut short in a message, a notification or a hint."""
    if len(items) <= most:
        return ", ".join(items)
    return ", ".join(items[:most]) + f" and {len(items) - most} more"


def tilde(path: Path | str, home: str) -> str:
    """``~/...`` for a path under ``home`` (display only; JSON keeps it whole)."""
    text = str(path)
    home = home.rstrip("/")
    if home and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home) :]
    return text


def tilde_in(text: str, home: str) -> str:
    """Every absolute path under ``home`` inside a message, shortened to ``~``."""
    home = home.rstrip("/")
    if not home or home + "/" not in text:
        return text
    # not inside shell quotes, where ~ would not expand: `repair '/home/me/a b'`
    return re.sub(r"(?<!['\"])" + re.escape(home + "/"), "~/", text)


# --- times -----------------------------------------------------------------------------------


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """``3 hours ago``, for times within a week; older ones as a local date."""
    now = now or datetime.now(UTC)
    seconds = (now - _aware(when)).total_seconds()
    if seconds < 0:
        return local_time(when)
    for limit, unit, size in (
        (60, "second", 1),
        (3600, "minute", 60),
        (86400, "hour", 3600),
        (7 * 86400, "day", 86400),
    ):
        if seconds < limit:
            n = int(seconds // size)
            return "just now" if unit == "second" and n < 10 else f"{plural(n, unit)} ago"
    return local_time(when)


def local_time(when: datetime) -> str:
    """``2026-12-01 16:20 +0100``: the local time, with its offset."""
    return _aware(when).astimezone().strftime("%Y-%m-%d %H:%M %z")


def human_time(when: datetime, relative: bool, now: datetime | None = None) -> str:
    return relative_time(when, now) if relative else local_time(when)


def iso_utc(when: datetime) -> str:
    """Times in JSON: ISO 8601 in UTC (a naive time is taken as UTC)."""
    return _aware(when).astimezone(UTC).isoformat(timespec="seconds")


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when
