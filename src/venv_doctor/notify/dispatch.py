"""Choosing the backends from the config, and sending one notification through all of them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from venv_doctor.config import Config
from venv_doctor.notify.backends import (
    CommandNotifier,
    LogNotifier,
    NotifySendNotifier,
    OsascriptNotifier,
)
from venv_doctor.notify.base import (
    Delivery,
    Notifier,
    NotifyError,
    Replacing,
    unavailable_reason,
)
from venv_doctor.notify.desktop import DesktopNotifier
from venv_doctor.notify.message import Notification
from venv_doctor.paths import is_macos
from venv_doctor.render.sanitize import printable, printable_lines, redact, redact_data

log = logging.getLogger("venv_doctor.notify")
LOG = "log"


def make(name: str, config: Config, env: Mapping[str, str]) -> Notifier:
    """The backend called ``name`` in ``[notify] backends``."""
    if name == "desktop":
        return DesktopNotifier(env)
    if name == "osascript":
        return OsascriptNotifier(env)
    if name == "notify-send":
        return NotifySendNotifier(env)
    if name == "command":
        return CommandNotifier(config.notify_command, env)
    if name == LOG:
        return LogNotifier()
    raise ValueError(f"unknown notify backend {name!r}")


def _auto(config: Config, env: Mapping[str, str]) -> list[Notifier]:
    """The first desktop backend that works here (all of them, to say why, if none does)."""
    first = "osascript" if is_macos() else "desktop"
    candidates = [make(first, config, env), make("notify-send", config, env)]
    usable = [n for n in candidates if n.available() is True]
    chosen = usable[:1] or candidates
    if config.notify_command:
        chosen.append(make("command", config, env))
    return chosen


def build_notifiers(config: Config, env: Mapping[str, str]) -> list[Notifier]:
    """The notifiers ``[notify] backends`` asks for, in order; the log always comes last."""
    out: list[Notifier] = []
    for name in config.notify_backends:
        out += _auto(config, env) if name == "auto" else [make(name, config, env)]
    out.append(LogNotifier())
    unique: dict[str, Notifier] = {}
    for notifier in out:
        unique.setdefault(notifier.name, notifier)
    return list(unique.values())


def _deliver(notification: Notification, notifier: Notifier, replaces: int) -> Delivery:
    reason = unavailable_reason(notifier.available())
    if reason is not None:
        log.info("notify: %s is not available: %s", notifier.name, reason)
        return Delivery(notifier.name, False, f"not available: {reason}")
    ref = None
    try:
        if isinstance(notifier, Replacing):
            ref = notifier.send_replacing(notification, replaces)
        else:
            notifier.send(notification)
    except NotifyError as exc:
        log.warning("notify: %s failed: %s", notifier.name, exc.message)
        return Delivery(notifier.name, False, exc.message)
    except Exception as exc:
        log.exception("notify: %s failed unexpectedly", notifier.name)
        return Delivery(notifier.name, False, f"{type(exc).__name__}: {exc}")
    return Delivery(notifier.name, True, ref=ref)


def dispatch(
    notification: Notification,
    notifiers: Iterable[Notifier],
    replaces: Mapping[str, int] | None = None,
) -> list[Delivery]:
    """Send through every notifier; never raises (a failing backend is logged and reported).

    ``replaces``: per backend, the id of an earlier notification this one takes the
    place of (only backends that can replace use it). Every backend gets the notification
    with credentials redacted (a failed repair's message can hold an index URL) and the
    title and body free of control characters.
    """
    safe = _safe(notification)
    return [_deliver(safe, n, (replaces or {}).get(n.name, 0)) for n in notifiers]


def _safe(n: Notification) -> Notification:
    return replace(
        n,
        title=printable(redact(n.title)),
        body=printable_lines(redact(n.body)),
        venvs=redact_data(list(n.venvs)),
        parts=tuple(_safe(p) for p in n.parts),
    )


def withdraw(refs: Mapping[str, int], notifiers: Iterable[Notifier]) -> None:
    """Close earlier notifications (per backend, by id) that no longer say anything true."""
    for notifier in notifiers:
        ref = refs.get(notifier.name)
        if ref and isinstance(notifier, Replacing) and notifier.available() is True:
            notifier.withdraw(ref)


def delivered(deliveries: Sequence[Delivery]) -> bool:
    """Did a backend other than the log reach the user?"""
    return any(d.ok and d.backend != LOG for d in deliveries)


def close(notifiers: Iterable[Notifier]) -> None:
    """Release what backends hold (the desktop backend's thread and bus connection)."""
    for notifier in notifiers:
        closer = getattr(notifier, "close", None)
        if callable(closer):
            closer()
