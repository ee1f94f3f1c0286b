"""Desktop notifications over D-Bus, through desktop-notifier (Linux).

desktop-notifier is asyncio-based and not thread-safe, and it swallows a
failed send (it only logs a warning). So one dedicated thread owns an event
loop and the notifier; every send is handed to it and waited for with a
timeout. Success is known from the ``on_dispatched`` callback; on failure the
warning it logged becomes the reason, and the connection is dropped so the
next send reconnects (the bus or the notification daemon may have restarted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Coroutine, Iterator, Mapping
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, TypeVar

from venv_doctor.notify.base import (
    APP_NAME,
    SEND_TIMEOUT,
    NotifyError,
    urgency,
)
from venv_doctor.notify.bus import BUS_VARIABLE, NO_BUS, session_bus
from venv_doctor.notify.message import Notification

if TYPE_CHECKING:
    from desktop_notifier import DesktopNotifier as Client

log = logging.getLogger("venv_doctor.notify")
T = TypeVar("T")
CLOSE_TIMEOUT = 2.0


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


class _Failures(logging.Handler):
    """Collects the warnings desktop-notifier logs instead of raising."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.reasons.append(f"{type(exc).__name__}: {exc}" if exc else record.getMessage())


@contextlib.contextmanager
def _capture_failures() -> Iterator[_Failures]:
    """Turn desktop-notifier's logged failure into our reason (and keep it off stderr)."""
    logger = logging.getLogger("desktop_notifier")
    handler, propagate = _Failures(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


class DesktopNotifier:
    """org.freedesktop.Notifications on the user's session bus."""

    name = "desktop"

    def __init__(self, env: Mapping[str, str], timeout: float = SEND_TIMEOUT) -> None:
        self._bus = session_bus(env).address
        self._timeout = timeout
        self._lock = threading.Lock()
        self._worker: _LoopThread | None = None
        self._client: Client | None = None  # touched only on the worker's loop

    def available(self) -> bool | str:
        if not sys.platform.startswith("linux"):
            return "desktop notifications go through D-Bus on Linux (macOS uses osascript)"
        if find_spec("desktop_notifier") is None:
            return "the desktop-notifier package is not installed"
        return True if self._bus else NO_BUS

    def send(self, notification: Notification) -> None:
        if self._bus is None:
            raise NotifyError(NO_BUS)
        with self._lock:
            _export_bus_address(self._bus)
            if self._worker is None:
                self._worker = _LoopThread()
            try:
                self._worker.run(self._send(notification), self._timeout)
            except TimeoutError:
                with contextlib.suppress(TimeoutError):
                    self._worker.run(self._drop_client(), CLOSE_TIMEOUT)
                raise NotifyError(
                    f"the D-Bus notification service at {self._bus} did not answer "
                    f"within {self._timeout:g} s"
                ) from None

    def close(self) -> None:
        """Disconnect from the bus and stop the worker thread."""
        with self._lock:
            worker, self._worker = self._worker, None
            if worker is not None:
                with contextlib.suppress(TimeoutError):
                    worker.run(self._drop_client(), CLOSE_TIMEOUT)
                worker.stop()

    async def _send(self, notification: Notification) -> None:
        from desktop_notifier import DesktopNotifier as Client
        from desktop_notifier import Urgency

        if self._client is None:
            self._client = Client(app_name=APP_NAME)
        dispatched: list[bool] = []
        with _capture_failures() as failures:
            await self._client.send(
                title=notification.title,
                message=notification.body,
                urgency=Urgency(urgency(notification.kind)),
                on_dispatched=lambda: dispatched.append(True),
            )
        if not dispatched:
            await self._drop_client()
            reason = "; ".join(failures.reasons) or "no reason given"
            raise NotifyError(f"sending over the D-Bus session bus at {self._bus} failed: {reason}")

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        # desktop-notifier offers no close(); its D-Bus backend keeps the connection here.
        bus = getattr(getattr(client, "_backend", None), "bus", None)
        if bus is not None:
            bus.disconnect()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bus.wait_for_disconnect(), CLOSE_TIMEOUT)


def _export_bus_address(address: str) -> None:
    """desktop-notifier's D-Bus library reads the address from os.environ only."""
    if os.environ.get(BUS_VARIABLE) != address:
        log.info("using the D-Bus session bus at %s", address)
        os.environ[BUS_VARIABLE] = address
