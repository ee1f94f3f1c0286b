"""Desktop notifications over D-Bus (Linux): org.freedesktop.Notifications.

Talks to the notification server through dbus-fast directly: desktop-notifier (6.x)
always sends ``replaces_id`` 0 and can close only what the same process sent, while
the daemon replaces and withdraws notifications across batches and restarts, and
the timer across runs, by the server's id kept in its state.

dbus-fast is asyncio-based: one dedicated thread owns an event loop and the
connection; every call is handed to it and waited for with a timeout. On any
failure the connection is dropped so the next call reconnects (the bus or the
notification server may have restarted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Coroutine, Mapping
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, TypeVar

from venv_doctor.notify.base import (
    APP_NAME,
    SEND_TIMEOUT,
    NotifyError,
)
from venv_doctor.notify.bus import NO_BUS, session_bus
from venv_doctor.notify.message import Notification

if TYPE_CHECKING:
    from dbus_fast.aio import MessageBus

log = logging.getLogger("venv_doctor.notify")
T = TypeVar("T")
CLOSE_TIMEOUT = 2.0
SERVICE = "org.freedesktop.Notifications"
OBJECT = "/org/freedesktop/Notifications"
URGENCY = {"low": 0, "normal": 1, "critical": 2}


class _LoopThread:
    """One daemon thread running one event loop; coroutines are submitted to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="venv-doctor-notify", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CLOSE_TIMEOUT)
        if not self._thread.is_alive():
            self.loop.close()


class DesktopNotifier:
    """org.freedesktop.Notifications on the user's session bus."""

    name = "desktop"

    def __init__(self, env: Mapping[str, str], timeout: float = SEND_TIMEOUT) -> None:
        self._bus_address = session_bus(env).address
        self._timeout = timeout
        self._lock = threading.Lock()
        self._worker: _LoopThread | None = None
        self._bus: MessageBus | None = None  # touched only on the worker's loop

    def available(self) -> bool | str:
        if not sys.platform.startswith("linux"):
            return "desktop notifications go through D-Bus on Linux (macOS uses osascript)"
        if find_spec("dbus_fast") is None:
            return "the dbus-fast package is not installed"
        return True if self._bus_address else NO_BUS

    def send(self, notification: Notification) -> None:
        self.send_replacing(notification, 0)

    def send_replacing(self, notification: Notification, replaces: int) -> int:
        """Show ``notification`` in place of notification ``replaces``; its id."""
        body = [
            APP_NAME,
            replaces,
            "",
            notification.title,
            notification.body,
            [],
            {"urgency": ("y", URGENCY[notification.urgency])},
            -1,
        ]
        answer = self._call("Notify", "susssasa{sv}i", body)
        return int(answer[0])

    def withdraw(self, ref: int) -> None:
        """CloseNotification; one already closed (by the user, a timeout) is no error."""
        try:
            self._call("CloseNotification", "u", [ref])
        except NotifyError as exc:
            log.debug("closing notification %d: %s", ref, exc.message)

    def close(self) -> None:
        """Disconnect from the bus and stop the worker thread."""
        with self._lock:
            worker, self._worker = self._worker, None
            if worker is not None:
                with contextlib.suppress(TimeoutError):
                    worker.run(self._drop_bus(), CLOSE_TIMEOUT)
                worker.stop()

    def _call(self, member: str, signature: str, body: list[Any]) -> list[Any]:
        if self._bus_address is None:
            raise NotifyError(NO_BUS)
        with self._lock:
            if self._worker is None:
                self._worker = _LoopThread()
            try:
                return self._worker.run(self._ask(member, signature, body), self._timeout)
            except TimeoutError:
                with contextlib.suppress(TimeoutError):
                    self._worker.run(self._drop_bus(), CLOSE_TIMEOUT)
                raise NotifyError(
                    f"the D-Bus notification service at {self._bus_address} did not answer "
                    f"within {self._timeout:g} s"
                ) from None

    async def _ask(self, member: str, signature: str, body: list[Any]) -> list[Any]:
        from dbus_fast import Message, MessageType, Variant
        from dbus_fast.aio import MessageBus

        args = [{k: Variant(*v) for k, v in a.items()} if isinstance(a, dict) else a for a in body]
        try:
            if self._bus is None:
                self._bus = await MessageBus(bus_address=self._bus_address).connect()
            reply = await self._bus.call(
                Message(
                    destination=SERVICE,
                    path=OBJECT,
                    interface=SERVICE,
                    member=member,
                    signature=signature,
                    body=args,
                )
            )
        except Exception as exc:
            await self._drop_bus()
            raise NotifyError(
                f"sending over the D-Bus session bus at {self._bus_address} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if reply is None or reply.message_type is MessageType.ERROR:
            detail = reply.body[0] if reply and reply.body else "no answer"
            name = reply.error_name if reply else "no reply"
            raise NotifyError(f"{SERVICE}.{member} on {self._bus_address} failed: {name}: {detail}")
        return list(reply.body)

    async def _drop_bus(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.disconnect()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.wait_for_disconnect(), CLOSE_TIMEOUT)  # type: ignore[no-untyped-call]
