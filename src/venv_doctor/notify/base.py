"""The notifier interface every backend implements, and what they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from venv_doctor.errors import VenvDoctorError
from venv_doctor.notify.message import Notification

APP_NAME = "venv-doctor"
SEND_TIMEOUT = 10.0  # seconds for a desktop notification to be handed over


class NotifyError(VenvDoctorError):
    """A backend could not deliver a notification."""


class Notifier(Protocol):
    """A way to reach the user. ``available`` is True or the reason it is not."""

    @property
    def name(self) -> str: ...

    def available(self) -> bool | str: ...

    def send(self, notification: Notification) -> None:
        """Deliver ``notification`` or raise NotifyError saying why not."""


@runtime_checkable
class Replacing(Protocol):
    """A backend whose notifications can be replaced and withdrawn (D-Bus: replaces_id,
    CloseNotification). Ids are the server's, kept by the caller across batches."""

    def send_replacing(self, notification: Notification, replaces: int) -> int:
        """Show ``notification`` in place of ``replaces`` (0: none); return its id."""

    def withdraw(self, ref: int) -> None:
        """Close notification ``ref`` if it is still on screen."""


@dataclass(frozen=True)
class Delivery:
    backend: str
    ok: bool
    error: str | None = None
    ref: int | None = None  # the server's id of what was shown, for replacing it later

    def as_dict(self) -> dict[str, str | bool | None]:
        return {"backend": self.backend, "ok": self.ok, "error": self.error}


def unavailable_reason(answer: bool | str) -> str | None:
    """None when ``available()`` said yes, else its reason in words."""
    if answer is True:
        return None
    return answer if isinstance(answer, str) and answer else "not available"
