"""A fake org.freedesktop.Notifications service for the desktop backend's tests.

Run as ``python fake_notification_service.py BUS_ADDRESS RECORD_FILE``: it owns
the name on that bus, appends every Notify call to RECORD_FILE as one JSON line
(before replying, so the caller's send has been recorded when it returns) and
prints READY once it serves.

The method annotations are D-Bus signatures, as dbus-fast reads them (so no
``from __future__ import annotations`` here, and ruff must not read them as names).
To a type checker they are names that do not exist (``s``) or no type at all
(``as``, ``a{sv}``): each such line says so with a targeted ``type: ignore``
naming the error, the one known false alarm in the type-checked tests.
"""

# ruff: noqa: F722, F821

import asyncio
import json
import sys
from typing import Any

from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal


class Notifications(ServiceInterface):
    def __init__(self, record: str) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.record = record
        self.next_id = 0

    @method()
    def Notify(
        self,
        app_name: "s",  # type: ignore[name-defined]
        replaces_id: "u",  # type: ignore[name-defined]
        app_icon: "s",  # type: ignore[name-defined]
        summary: "s",  # type: ignore[name-defined]
        body: "s",  # type: ignore[name-defined]
        actions: "as",  # type: ignore[valid-type]
        hints: "a{sv}",  # type: ignore[valid-type]
        expire_timeout: "i",  # type: ignore[name-defined]
    ) -> "u":  # type: ignore[name-defined]
        self.next_id += 1
        urgency: Any = hints["urgency"].value if "urgency" in hints else None
        entry = {"app_name": app_name, "summary": summary, "body": body, "urgency": urgency}
        with open(self.record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
        return self.next_id

    @method()
    def GetCapabilities(self) -> "as":  # type: ignore[valid-type]
        return ["body"]

    @method()
    def GetServerInformation(self) -> "ssss":  # type: ignore[name-defined]
        return ["fake-notifications", "venv-doctor tests", "1.0", "1.2"]

    @method()
    def CloseNotification(self, notification_id: "u") -> None:  # type: ignore[name-defined]
        return None

    @signal()
    def NotificationClosed(self) -> "uu":  # type: ignore[name-defined]
        return [0, 0]

    @signal()
    def ActionInvoked(self) -> "us":  # type: ignore[name-defined]
        return [0, ""]


async def serve(address: str, record: str) -> None:
    bus = await MessageBus(bus_address=address).connect()
    bus.export("/org/freedesktop/Notifications", Notifications(record))
    await bus.request_name("org.freedesktop.Notifications")
    print("READY", flush=True)
    await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]  # dbus-fast leaves it unannotated


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
