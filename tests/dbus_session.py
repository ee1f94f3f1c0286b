"""A private D-Bus session bus and a fake notification service, for the desktop backend.

The tests start their own ``dbus-daemon`` (never the user's bus) listening on a
socket in the test's tmp dir, and run ``fake_notification_service.py`` on it.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import IN_CI

FAKE_SERVICE = Path(__file__).with_name("fake_notification_service.py")
START_TIMEOUT = 10.0
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon() -> str:
    """The dbus-daemon executable: fails under CI=true when missing, else skips."""
    exe = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
    if not os.access(exe, os.X_OK):
        message = "dbus-daemon is not installed (Debian: apt-get install dbus)"
        if IN_CI:
            pytest.fail(message + " (CI=true needs it)")
        pytest.skip(message)
    return exe


def _first_line(proc: subprocess.Popen[str], what: str) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    line = proc.stdout.readline().strip() if ready else ""
    if not line:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"{what} did not start: {err}")
    return line


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


@contextmanager
def session_bus(socket: Path) -> Iterator[str]:
    """A dbus-daemon listening on ``socket``; yields its address."""
    exe = dbus_daemon()
    socket.parent.mkdir(parents=True, exist_ok=True)
    config = socket.parent / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=socket), encoding="utf-8")
    proc = subprocess.Popen(
        [exe, f"--config-file={config}", "--print-address", "--nofork"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield _first_line(proc, "dbus-daemon")
    finally:
        _stop(proc)


class FakeNotifications:
    """The fake service's record of Notify calls."""

    def __init__(self, record: Path) -> None:
        self.record = record

    def received(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


@contextmanager
def notification_service(address: str, workdir: Path) -> Iterator[FakeNotifications]:
    """org.freedesktop.Notifications on the bus at ``address``, recording every Notify."""
    record = workdir / "notifications.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_SERVICE), address, str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _first_line(proc, "the fake notification service") == "READY"
        yield FakeNotifications(record)
    finally:
        _stop(proc)
