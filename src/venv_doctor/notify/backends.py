"""The simple backends: osascript, notify-send, a user command, and the log.

Each runs its program through ``runner.run`` with the text as separate
arguments (or JSON on stdin), never spliced into a script or a shell line.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence

from venv_doctor import runner
from venv_doctor.notify.base import (
    APP_NAME,
    SEND_TIMEOUT,
    NotifyError,
)
from venv_doctor.notify.bus import BUS_VARIABLE, NO_BUS, session_bus
from venv_doctor.notify.message import SETTLED, Notification

log = logging.getLogger("venv_doctor.notify")
COMMAND_TIMEOUT = 30.0  # a user's command may post to a web service
# The script only reads its arguments: no text from a notification is ever AppleScript.
OSASCRIPT_PROGRAM = (
    "-e",
    "on run argv",
    "-e",
    "display notification (item 2 of argv) with title (item 1 of argv)",
    "-e",
    "end run",
)


def which(program: str, env: Mapping[str, str]) -> str | None:
    if "/" in program:
        return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
    return shutil.which(program, path=env.get("PATH", os.defpath))


def _run(
    argv: Sequence[str],
    timeout: float,
    *,
    env: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> None:
    """Run a notifier program; any failure becomes a NotifyError with its output."""
    try:
        runner.run(argv, env=env, extra=extra, timeout=timeout, check=True, stdin=stdin)
    except runner.CommandError as exc:
        raise NotifyError(exc.message) from exc


class OsascriptNotifier:
    """macOS Notification Center through ``osascript`` (no app bundle needed).

    It cannot replace nor withdraw a notification: each batch gets one, with its final
    state (after the repairs) and what is still left from before."""

    name = "osascript"

    def __init__(self, env: Mapping[str, str], timeout: float = SEND_TIMEOUT) -> None:
        self._exe = which("osascript", env)
        self._env = env
        self._timeout = timeout

    def available(self) -> bool | str:
        return True if self._exe else "osascript not found (it ships with macOS only)"

    def argv(self, notification: Notification) -> list[str]:
        if self._exe is None:
            raise NotifyError("osascript not found")
        return [self._exe, *OSASCRIPT_PROGRAM, notification.title, notification.body]

    def send(self, notification: Notification) -> None:
        _run(self.argv(notification), self._timeout, env=self._env)


class NotifySendNotifier:
    """libnotify's ``notify-send``: the fallback when the D-Bus backend cannot be used."""

    name = "notify-send"

    def __init__(self, env: Mapping[str, str], timeout: float = SEND_TIMEOUT) -> None:
        self._exe = which("notify-send", env)
        self._env = env
        self._bus = session_bus(env).address
        self._timeout = timeout

    def available(self) -> bool | str:
        if self._exe is None:
            return "notify-send not found (install libnotify-bin or libnotify)"
        return True if self._bus else NO_BUS

    def argv(self, notification: Notification) -> list[str]:
        if self._exe is None:
            raise NotifyError("notify-send not found")
        return [
            self._exe,
            f"--app-name={APP_NAME}",
            f"--urgency={notification.urgency}",
            "--",
            notification.title,
            notification.body,
        ]

    def send(self, notification: Notification) -> None:
        bus = {BUS_VARIABLE: self._bus} if self._bus else None
        _run(self.argv(notification), self._timeout, env=self._env, extra=bus)


class CommandNotifier:
    """``[notify] command``: the user's program gets each event as one JSON object on stdin.

    A batch of several kinds (vanished and broken venvs) runs the program once per kind.
    """

    name = "command"

    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], timeout: float = COMMAND_TIMEOUT
    ) -> None:
        self.argv = tuple(argv)
        self._env = env
        self._timeout = timeout

    def available(self) -> bool | str:
        if not self.argv:
            return "no [notify] command is configured"
        if which(self.argv[0], self._env) is None:
            return f"[notify] command: {self.argv[0]} is not an executable file"
        return True

    def send(self, notification: Notification) -> None:
        if not self.argv:
            raise NotifyError("no [notify] command is configured")
        for event in notification.events():
            _run(self.argv, self._timeout, env=self._env, stdin=event.to_json() + "\n")


class LogNotifier:
    """Every event goes to the log too: journald, the daemon's log file, or stderr."""

    name = "log"

    def __init__(self, logger: logging.Logger = log) -> None:
        self._logger = logger

    def available(self) -> bool | str:
        return True

    def send(self, notification: Notification) -> None:
        quiet = notification.kind in SETTLED or notification.kind == "test"
        level = logging.INFO if quiet else logging.WARNING
        paths = ", ".join(str(v.get("path")) for v in notification.venvs)
        body = notification.body.replace("\n", "; ")
        self._logger.log(
            level,
            "%s: %s: %s%s",
            notification.kind,
            notification.title,
            body,
            f" [{paths}]" if paths else "",
        )
