from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from venv_doctor.daemon import sdnotify


@pytest.fixture
def systemd_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """What systemd listens on: an AF_UNIX datagram socket in a directory."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield sock, str(path)


@pytest.fixture
def abstract_socket() -> Iterator[tuple[socket.socket, str]]:
    """systemd's usual choice: an abstract socket, named "@..." in $NOTIFY_SOCKET."""
    name = f"venv-doctor-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        yield sock, "@" + name


def test_ready_with_status_is_one_datagram(
    systemd_socket: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, address = systemd_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    assert sdnotify.ready("watching 12 directories\n(3 polled)", env=os.environ)
    assert sock.recv(4096) == b"READY=1\nSTATUS=watching 12 directories (3 polled)"


def test_every_message_reaches_an_abstract_socket(
    abstract_socket: tuple[socket.socket, str],
) -> None:
    sock, address = abstract_socket
    env = {"NOTIFY_SOCKET": address}
    assert sdnotify.send_status("checking 4 venvs", env=env)
    assert sdnotify.watchdog(env=env)
    assert sdnotify.stopping(env=env)
    assert sdnotify.notify("RELOADING=1", "STATUS=reloading", env=env)
    received = [sock.recv(4096) for _ in range(4)]
    assert received == [
        b"STATUS=checking 4 venvs",
        b"WATCHDOG=1",
        b"STOPPING=1",
        b"RELOADING=1\nSTATUS=reloading",
    ]


def test_without_notify_socket_nothing_happens() -> None:
    assert "NOTIFY_SOCKET" not in os.environ
    assert sdnotify.ready(env=os.environ) is False
    assert sdnotify.watchdog(env={}) is False
    assert sdnotify.stopping(env={"NOTIFY_SOCKET": ""}) is False


def test_a_vanished_socket_is_not_an_error(tmp_path: Path) -> None:
    assert sdnotify.ready(env={"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "20000000"}, 20.0),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": str(os.getpid())}, 0.5),
        ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert sdnotify.watchdog_interval(env) == expected
