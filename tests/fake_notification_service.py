"""A fake org.freedesktop.Notifications service for the desktop backend's tests.

Run as ``python fake_notification_service.py BUS_ADDRESS RECORD_FILE``: it owns
the name on that bus, appends every Notify call to RECORD_FILE as one JSON line
(before replying, so the caller's send has been recorded when it returns) and
prints READY once it serves.

The method annotations are D-Bus signatures, as dbus-fast reads them (so no
``from __future__ import annotations`` here, and ruff must not read them as names).
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
        app_name: "s",
        replaces_id: "u",
        app_icon: "s",
        summary: "s",
        body: "s",
        actions: "as",
        hints: "a{sv}",
        expire_timeout: "i",
    ) -> "u":
        self.next_id += 1
        urgency: Any = hints["urgency"].value if "urgency" in hints else None
        entry = {"app_name": app_name, "summary": summary, "body": body, "urgency": urgency}
        with open(self.record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
        return self.next_id

    @method()
    def GetCapabilities(self) -> "as":
        return ["body"]

    @method()
    def GetServerInformation(self) -> "ssss":
        return ["fake-notifications", "venv-doctor tests", "1.0", "1.2"]

    @method()
    def CloseNotification(self, notification_id: "u") -> None:
        return None

    @signal()
    def NotificationClosed(self) -> "uu":
        return [0, 0]

    @signal()
    def ActionInvoked(self) -> "us":
        return [0, ""]


async def serve(address: str, record: str) -> None:
    bus = await MessageBus(bus_address=address).connect()
    bus.export("/org/freedesktop/Notifications", Notifications(record))
    await bus.request_name("org.freedesktop.Notifications")
    print("READY", flush=True)
    await bus.wait_for_disconnect()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
