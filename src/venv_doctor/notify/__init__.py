"""Notifications: tell the user when venvs break, are repaired or vanish.

Events in (``VenvEvent``), one grouped ``Notification`` per batch (``group``),
deduplicated per venv and problem (``Deduper``), sent through every configured
backend (``build_notifiers`` + ``dispatch``): desktop (D-Bus), osascript,
notify-send, the user's command, and always the log.
"""

from __future__ import annotations

from venv_doctor.notify.base import Delivery, Notifier, NotifyError
from venv_doctor.notify.dedup import Deduper, problem_key
from venv_doctor.notify.dispatch import build_notifiers, close, delivered, dispatch
from venv_doctor.notify.grouping import group
from venv_doctor.notify.message import TEST_NOTIFICATION, Notification, VenvEvent

__all__ = [
    "TEST_NOTIFICATION",
    "Deduper",
    "Delivery",
    "Notification",
    "Notifier",
    "NotifyError",
    "VenvEvent",
    "build_notifiers",
    "close",
    "delivered",
    "dispatch",
    "group",
    "problem_key",
]
