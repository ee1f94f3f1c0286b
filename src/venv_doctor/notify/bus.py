"""Where the user's D-Bus session bus is: one answer for a notification sent now and for
the address a service file is given.

A ``unix:path=`` address in ``$DBUS_SESSION_BUS_ADDRESS`` is used as it is. Else
the systemd user bus (``$XDG_RUNTIME_DIR/bus``, else ``/run/user/UID/bus``),
which systemd user services and cron jobs can reach though they lack the
variable, when its socket is there. Else whatever the variable holds (an
abstract or per-login address from ``dbus-launch``): it works now but not after
the next login, so a service file is given the systemd user bus's place instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BUS_VARIABLE = "DBUS_SESSION_BUS_ADDRESS"
NO_BUS = "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist"


@dataclass(frozen=True)
class SessionBus:
    address: str | None  # the bus to talk to now; None when there is none
    lasting: str  # for a service file: ``address`` when it outlives the login, else the user bus


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def user_bus_path(env: Mapping[str, str]) -> Path:
    """Where systemd puts the user's bus socket."""
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if not runtime.startswith("/"):
        runtime = f"/run/user/{os.getuid()}"
    return Path(runtime) / "bus"


def session_bus(env: Mapping[str, str]) -> SessionBus:
    """The user's session bus, preferring an address that outlives a login."""
    current = env.get(BUS_VARIABLE, "")
    if current.startswith("unix:path=") and ";" not in current:
        return SessionBus(current, current)
    user_bus = user_bus_path(env)
    lasting = f"unix:path={user_bus}"
    if _is_socket(user_bus):
        return SessionBus(lasting, lasting)
    return SessionBus(current or None, lasting)
