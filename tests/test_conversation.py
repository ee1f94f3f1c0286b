"""Notifications as a conversation, against a real notification server (dunst).

Each test drives ``Conversation`` (what the daemon and the timer use) with the real
desktop backend over a private D-Bus session, and reads back from dunst what is
still on screen and what was closed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dunst_server import Dunst
from venv_doctor.diagnose.findings import Code, Finding, Severity
from venv_doctor.notify import VenvEvent
from venv_doctor.notify.backends import LogNotifier
from venv_doctor.notify.conversation import Conversation
from venv_doctor.notify.desktop import DesktopNotifier

KEG = "bin/python3.12 points to /opt/homebrew/Cellar/python@3.12/3.12.1/bin/python3.12, which no longer exists"


def event(kind: str, store: Path, name: str, **kw: object) -> VenvEvent:
    finding = Finding(Code.INTERPRETER_DANGLING, Severity.ERROR, KEG, "run repair")
    status = "healthy" if kind in ("repaired", "healed") else "broken"
    return VenvEvent(kind, name, store / name, status, (finding,), store="multivenv", **kw)  # type: ignore[arg-type]


@pytest.fixture
def desktop(dunst: Dunst) -> Iterator[DesktopNotifier]:
    notifier = DesktopNotifier({"DBUS_SESSION_BUS_ADDRESS": dunst.address})
    try:
        yield notifier
    finally:
        notifier.close()


def test_broken_then_repaired_leaves_one_bubble_that_says_repaired(
    dunst: Dunst, desktop: DesktopNotifier, isolated_home: Path, tmp_path: Path
) -> None:
    store = isolated_home / ".multivenv"
    names = ["api", "web", "etl", "ml"]
    talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    talk.tell([event("broken", store, n) for n in names], [desktop, LogNotifier()])
    talk.save()
    dunst.wait_for(1)
    assert dunst.displayed() == 1

    # a restart in between: the next run knows the bubble by its id from the state file
    talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    repaired = [event("repaired", store, n, repair="relinked") for n in names]
    talk.tell(repaired, [desktop, LogNotifier()])
    talk.save()

    assert dunst.history() == []  # replaced in place, never closed
    (shown,) = dunst.open_notifications()
    assert shown["urgency"] == "normal"
    assert shown["summary"] == "4 venvs repaired after python@3.12 changed"
    assert shown["body"].splitlines() == [
        "4 relinked",
        "api in ~/.multivenv, etl in ~/.multivenv, ml in ~/.multivenv and 1 more",
    ]
    assert talk.threads == []


def test_a_partial_repair_keeps_naming_what_is_left_and_stays_critical(
    dunst: Dunst, desktop: DesktopNotifier, isolated_home: Path, tmp_path: Path
) -> None:
    store = isolated_home / ".multivenv"
    talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    talk.tell([event("broken", store, n) for n in ("a", "b", "c")], [desktop])
    talk.tell([event("repaired", store, "a", repair="rebuilt")], [desktop])
    dunst.wait_for(1)
    assert dunst.displayed() == 1
    talk.tell([event("healed", store, n) for n in ("b", "c")], [desktop])

    (shown,) = dunst.open_notifications()
    assert shown["urgency"] == "normal"
    assert shown["summary"] == "2 venvs work again after python@3.12 changed"
    assert dunst.history() == [shown]  # the only notification ever shown, replaced twice


def test_between_two_replacements_the_bubble_names_what_is_left(
    dunst: Dunst, desktop: DesktopNotifier, isolated_home: Path, tmp_path: Path
) -> None:
    store = isolated_home / ".multivenv"
    talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    talk.tell([event("broken", store, n) for n in ("a", "b", "c")], [desktop])
    talk.tell([event("repaired", store, "a", repair="rebuilt")], [desktop])

    (shown,) = dunst.open_notifications()
    assert shown["urgency"] == "critical"
    assert shown["summary"] == "venv a repaired after python@3.12 changed"
    assert shown["body"].splitlines() == [
        "rebuilt",
        "still to repair from before: b in ~/.multivenv, c in ~/.multivenv",
        "Run: venv-doctor repair b c",
    ]


def test_forgotten_venvs_withdraw_their_notification(
    dunst: Dunst, desktop: DesktopNotifier, isolated_home: Path, tmp_path: Path
) -> None:
    store = isolated_home / ".multivenv"
    talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    talk.tell([event("vanished", store, "old")], [desktop])
    talk.tell([event("broken", store, "other")], [desktop])
    dunst.wait_for(2)
    talk.prune([store / "other"], [desktop])  # `venv-doctor forget old`

    (closed,) = dunst.history()
    assert closed["summary"] == "venv old vanished after python@3.12 changed"
    (still,) = dunst.open_notifications()
    assert still["summary"] == "venv other broke after python@3.12 changed"
    assert still["urgency"] == "critical"


def test_a_problem_is_told_once(
    dunst: Dunst, desktop: DesktopNotifier, isolated_home: Path, tmp_path: Path
) -> None:
    store = isolated_home / ".multivenv"
    talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    told = []
    for _ in range(3):
        told.append(talk.tell([event("broken", store, "a")], [desktop]))
        talk.save()
        talk = Conversation(tmp_path / "notified.json", str(isolated_home))
    assert [len(t) for t in told] == [1, 0, 0]  # told once, not replaced with the same news
    assert len(dunst.open_notifications()) == 1
    assert oct((tmp_path / "notified.json").stat().st_mode & 0o777) == "0o600"
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS") is None
