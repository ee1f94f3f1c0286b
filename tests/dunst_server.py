"""A real notification server for the tests: dunst on Xvfb, on a D-Bus session of its own.

``Xvfb -displayfd`` picks a free display; ``dbus-daemon --session`` gives a
private session bus (``--nofork`` under Popen rather than ``--fork``, so the
test reaps it); dunst serves org.freedesktop.Notifications on it. What dunst
showed is read back with ``dunstctl``: ``history`` (JSON) lists the
notifications that were closed (by the sender, by timeout or by ``close-all``),
``count displayed`` those on screen.

Needs the Debian packages dunst and xvfb (see .ci/debian-packages.d/daemon.txt);
fails under CI=true when missing, skips elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.dbus_session import _first_line, _stop
from tests.support import IN_CI

START_TIMEOUT = 10.0
PROGRAMS = {"Xvfb": "xvfb", "dbus-daemon": "dbus", "dunst": "dunst", "dunstctl": "dunst"}
# Keep every notification on screen until it is closed: what is open at the end is
# exactly what the sender left open.
# The urgency goes into the shown text ("message" in the history), where it can be read back.
DUNSTRC = """[global]
    history_length = 100
    markup = no
[urgency_low]
    timeout = 0
    format = "low: %s\\n%b"
[urgency_normal]
    timeout = 0
    format = "normal: %s\\n%b"
[urgency_critical]
    timeout = 0
    format = "critical: %s\\n%b"
"""


def require_programs() -> None:
    missing = [f"{exe} (Debian: {pkg})" for exe, pkg in PROGRAMS.items() if not shutil.which(exe)]
    if missing:
        message = "no real notification server: missing " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message + " (CI=true needs it)")
        pytest.skip(message)


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """An X server on a free display; yields DISPLAY."""
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "800x600x24"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield ":" + _first_line(proc, "Xvfb")
    finally:
        _stop(proc)


@dataclass
class Dunst:
    address: str  # the session bus dunst serves on
    env: dict[str, str]

    def _ctl(self, *args: str) -> str:
        return subprocess.run(
            ["dunstctl", *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout

    def history(self) -> list[dict[str, Any]]:
        """The closed notifications, newest first, as plain values (plus "urgency")."""
        data = json.loads(self._ctl("history"))["data"][0]
        out = [{k: v.get("data") for k, v in entry.items()} for entry in data]
        for n in out:
            n["urgency"] = str(n.get("message", "")).split(":", 1)[0]
        return out

    def displayed(self) -> int:
        return int(self._ctl("count", "displayed").strip() or 0)

    def open_notifications(self) -> list[dict[str, Any]]:
        """What is still on screen: closes it all (into the history) to read it."""
        before = len(self.history())
        self._ctl("close-all")
        deadline = time.monotonic() + START_TIMEOUT
        while self.displayed() and time.monotonic() < deadline:
            time.sleep(0.05)
        after = self.history()  # newest first; a replacement may reuse a closed one's id
        return after[: len(after) - before]

    def wait_for(self, count: int, timeout: float = START_TIMEOUT) -> None:
        """Wait until dunst has handled ``count`` notifications (shown or closed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.displayed() + len(self.history()) >= count:
                return
            time.sleep(0.05)


@contextlib.contextmanager
def dunst(display: str, workdir: Path) -> Iterator[Dunst]:
    """dbus-daemon --session plus dunst on ``display``; yields the way to ask dunst."""
    require_programs()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "dunstrc").write_text(DUNSTRC, encoding="utf-8")
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        address = _first_line(bus, "dbus-daemon")
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(workdir),
            "DISPLAY": display,
            "DBUS_SESSION_BUS_ADDRESS": address,
        }
        server = subprocess.Popen(
            ["dunst", "-config", str(workdir / "dunstrc")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            handle = Dunst(address, env)
            _wait_serving(handle, server)
            yield handle
        finally:
            _stop(server)
    finally:
        _stop(bus)


def _wait_serving(handle: Dunst, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"dunst exited {server.returncode}: {server.communicate()[0]}")
        probe = subprocess.run(
            ["dunstctl", "is-paused"], env=handle.env, capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return
        time.sleep(0.05)
    raise AssertionError("dunst did not take org.freedesktop.Notifications")
