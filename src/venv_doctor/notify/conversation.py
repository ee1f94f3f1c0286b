"""A notification is a conversation about a set of venvs.

"3 venvs broke" stays on screen until something true replaces it: when some of
those venvs are repaired, heal by themselves or are forgotten, the next
notification takes its place (D-Bus ``replaces_id``) and says what happened and
what is still left; a notification whose venvs are all gone from the registry
is withdrawn (``CloseNotification``). Backends that cannot replace (osascript,
notify-send, the command) get one notification per batch with its final state.

What was told (the Deduper's marks) and which notifications are still open
(the server's ids and the venvs each one asks the user to repair) are kept in
one JSON file, so the daemon remembers across restarts and the timer across runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import atomic_write, read_json
from venv_doctor.notify.base import Delivery, Notifier
from venv_doctor.notify.dedup import Deduper
from venv_doctor.notify.dispatch import dispatch, withdraw
from venv_doctor.notify.grouping import group
from venv_doctor.notify.message import PROBLEMS, SETTLED, EventKind, VenvEvent

log = logging.getLogger("venv_doctor.notify")
FORMAT = 2


@dataclass
class Thread:
    """One notification still on screen: its id per backend, and the venvs it names as
    needing the user (path -> name, store, kind)."""

    ids: dict[str, int]
    open: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ids": self.ids, "open": self.open}

    @classmethod
    def from_dict(cls, data: Any) -> Thread | None:
        if not isinstance(data, dict):
            return None
        ids, venvs = data.get("ids"), data.get("open")
        if not isinstance(ids, dict) or not isinstance(venvs, dict):
            return None
        return cls(
            {str(k): int(v) for k, v in ids.items() if isinstance(v, int)},
            {str(p): dict(v) for p, v in venvs.items() if isinstance(v, dict)},
        )

    def earlier(self, exclude: set[str]) -> list[VenvEvent]:
        """The venvs this notification still names, as events (but those in ``exclude``)."""
        out = []
        for path, v in self.open.items():
            kind: EventKind = v.get("kind", "broken")  # type: ignore[assignment]
            if path not in exclude and kind in PROBLEMS:
                out.append(
                    VenvEvent(
                        kind,
                        v.get("name", Path(path).name),
                        Path(path),
                        "broken",
                        store=v.get("store"),
                    )
                )
        return out


class Conversation:
    """What the user has been told, and the notifications still open."""

    def __init__(self, path: Path, home: str) -> None:
        self.path = path
        self.home = home  # the Context's home: where venvs live is shown under ``~``
        data = _load(path)
        if data.get("format") == FORMAT:
            seen = data.get("seen") or {}
            threads = [Thread.from_dict(t) for t in data.get("threads") or []]
        else:  # the first format: only the Deduper's marks
            seen, threads = data, []
        self.deduper = Deduper(seen if isinstance(seen, dict) else {})
        self.threads = [t for t in threads if t is not None]

    def told(self, path: Path | str) -> bool:
        """Was the user told of a problem with this venv that is not settled yet?"""
        return str(path) in self.deduper.to_dict()

    def tell(self, events: Sequence[VenvEvent], notifiers: Sequence[Notifier]) -> list[Delivery]:
        """Notify what is news in ``events``, in place of the notifications it makes stale."""
        fresh = sorted(self.deduper.fresh(events), key=lambda e: (e.name, str(e.path)))
        if not fresh:
            return []
        paths = {str(e.path) for e in fresh}
        touched = [t for t in self.threads if t.open.keys() & paths]
        earlier = _unique(e for t in touched for e in t.earlier(paths))
        notification = group(fresh, earlier, home=self.home)
        deliveries = dispatch(notification, notifiers, touched[0].ids if touched else None)
        for stale in touched[1:]:
            withdraw(stale.ids, notifiers)
        self.threads = [t for t in self.threads if t not in touched]
        still = [e for e in fresh if e.kind in PROBLEMS] + earlier
        ids = {d.backend: d.ref for d in deliveries if d.ok and d.ref}
        if still and ids:
            self.threads.append(Thread(ids, {str(e.path): _entry(e) for e in still}))
        for e in fresh:
            if e.kind in SETTLED:  # its next breakage is news, even if identical
                self.deduper.forget(e.path)
        for d in deliveries:
            if not d.ok:
                log.warning("notification via %s failed: %s", d.backend, d.error)
        return deliveries

    def prune(self, known: Iterable[Path | str], notifiers: Sequence[Notifier]) -> None:
        """Forget venvs no longer registered; withdraw notifications that named only them."""
        keep = {str(p) for p in known}
        self.deduper.prune(keep)
        for thread in list(self.threads):
            thread.open = {p: v for p, v in thread.open.items() if p in keep}
            if not thread.open:
                withdraw(thread.ids, notifiers)
                self.threads.remove(thread)

    def save(self) -> None:
        data = {
            "format": FORMAT,
            "seen": self.deduper.to_dict(),
            "threads": [t.as_dict() for t in self.threads],
        }
        try:
            atomic_write(self.path, json.dumps(data) + "\n", mode=0o600)
        except OSError as exc:
            log.warning("cannot remember what was notified: %s", exc)


def _entry(event: VenvEvent) -> dict[str, str]:
    out = {"name": event.name, "kind": event.kind}
    if event.store:
        out["store"] = event.store
    return out


def _unique(events: Iterable[VenvEvent]) -> list[VenvEvent]:
    seen: dict[Path, VenvEvent] = {}
    for e in events:
        seen.setdefault(e.path, e)
    return list(seen.values())


def _load(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path, follow_symlinks=False)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
