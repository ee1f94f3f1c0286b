"""systemd's sd_notify, by hand: READY=1, STATUS=..., WATCHDOG=1, STOPPING=1.

The protocol is one datagram of newline-separated ``KEY=VALUE`` lines sent to
the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` means Linux's
abstract namespace). Without the variable (not under systemd, or not
``Type=notify``) every call is a no-op. Every function takes ``env`` so the
daemon can take the variable out of ``os.environ`` (children must not inherit
it) and keep its own copy.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def notify(*assignments: str, env: Mapping[str, str]) -> bool:
    """Send ``assignments`` to systemd; False when there is no socket or it is gone."""
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(target)
            sock.sendall("\n".join(assignments).encode("utf-8"))
    except OSError as exc:
        log.debug("sd_notify to %s failed: %s", address, exc)
        return False
    return True


def _one_line(text: str) -> str:
    return " ".join(text.split())


def ready(status: str | None = None, *, env: Mapping[str, str]) -> bool:
    lines = ["READY=1"] + ([f"STATUS={_one_line(status)}"] if status else [])
    return notify(*lines, env=env)


def send_status(text: str, env: Mapping[str, str]) -> bool:
    return notify(f"STATUS={_one_line(text)}", env=env)


def watchdog(env: Mapping[str, str]) -> bool:
    return notify("WATCHDOG=1", env=env)


def stopping(env: Mapping[str, str]) -> bool:
    return notify("STOPPING=1", env=env)


def watchdog_interval(env: Mapping[str, str]) -> float | None:
    """systemd's watchdog timeout in seconds (ping at least twice as often), or None.

    None when ``WATCHDOG_USEC`` is unset or invalid, or ``WATCHDOG_PID`` names
    another process (the variables were inherited, as sd_watchdog_enabled checks).
    """
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None
