"""The registry of venvs venv-doctor has seen (the ``venvs`` table)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.record.state.core import (
    Database,
    now,
    parse_ts,
    stored_path,
    text,
    text_or_none,
    ts,
)
from venv_doctor.record.state.event_rows import insert_event


@dataclass(frozen=True)
class VenvRecord:
    """A venv venv-doctor has seen, as the registry remembers it."""

    path: Path
    name: str
    store: str
    creator: str | None
    python_version: str | None
    first_seen: datetime
    last_seen: datetime
    last_status: str | None
    fingerprint: str | None = None


@dataclass(frozen=True)
class Sighting:
    """What one check saw of a venv; ``status``/``fingerprint`` None keep the old value."""

    path: Path
    name: str
    store: str
    creator: str | None
    python_version: str | None
    status: str | None = None
    fingerprint: str | None = None

    @property
    def tail(self) -> tuple[str | None, str | None]:
        return self.status, self.fingerprint


def _venv_record(row: sqlite3.Row | tuple[Any, ...]) -> VenvRecord:
    path, name, store, creator, version, first, last, status, fp = row
    return VenvRecord(
        stored_path(path),
        text(name),
        text(store),
        text_or_none(creator),
        text_or_none(version),
        parse_ts(first),
        parse_ts(last),
        text_or_none(status),
        text_or_none(fp),
    )


_SELECT_VENVS = (
    "SELECT path, name, store, creator, python_version, first_seen, last_seen, last_status, "
    "fingerprint FROM venvs"
)


def venv_records(db: Database) -> dict[Path, VenvRecord]:
    rows = db.conn.execute(_SELECT_VENVS)
    return {r.path: r for r in db.decoded(rows, _venv_record, "venvs")}


def find_venvs(db: Database, path_or_name: str | Path) -> list[VenvRecord]:
    """Registry entries whose path (given as is or made real) or name matches."""
    key = str(path_or_name)
    paths = (key, os.path.abspath(key), os.path.realpath(key))
    rows = db.conn.execute(
        _SELECT_VENVS + " WHERE path IN (?, ?, ?) OR name = ? ORDER BY path", (*paths, key)
    )
    found = db.decoded(rows, _venv_record, "venvs")
    by_path = [r for r in found if str(r.path) in paths]
    return by_path or found


def fingerprints(db: Database) -> dict[str, str | None]:
    """Each known venv's last site-packages fingerprint, by path (the snapshot skip test)."""
    return dict(db.conn.execute("SELECT path, fingerprint FROM venvs").fetchall())


_UPSERT_VENV = """INSERT INTO venvs (path, name, store, creator, python_version, first_seen,
        last_seen, last_status, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (path) DO UPDATE SET
        name = excluded.name, store = excluded.store, creator = excluded.creator,
        python_version = coalesce(excluded.python_version, venvs.python_version),
        last_seen = excluded.last_seen,
        last_status = coalesce(excluded.last_status, venvs.last_status),
        fingerprint = coalesce(excluded.fingerprint, venvs.fingerprint)"""


def record_venvs(db: Database, sightings: Iterable[Sighting], at: datetime | None = None) -> int:
    """Upsert the registry; a new venv or a changed status also appends an event.

    Returns the number of events appended.
    """
    when = ts(at or now())
    rows = list(sightings)
    with db.transaction() as conn:
        known = dict(conn.execute("SELECT path, last_status FROM venvs").fetchall())
        conn.executemany(
            _UPSERT_VENV,
            [
                (str(s.path), s.name, s.store, s.creator, s.python_version, when, when, *s.tail)
                for s in rows
            ],
        )
        events = [
            (str(s.path), event)
            for s in rows
            if (event := _status_event(s, str(s.path) in known, known.get(str(s.path))))
        ]
        for path, event in events:
            insert_event(conn, when, path, *event)
    return len(events)


def _status_event(
    s: Sighting, was_known: bool, old: str | None
) -> tuple[str, str, dict[str, Any]] | None:
    if not was_known:
        status = f" ({s.status})" if s.status else ""
        return "discovered", f"first seen in {s.store}{status}", {"status": s.status}
    if s.status and old != s.status:
        return "status", f"{old or 'unknown'} -> {s.status}", {"from": old, "to": s.status}
    return None


def forget_venv(db: Database, path: Path) -> int:
    """Drop a venv from the registry with its snapshots; returns how many snapshots went.
    The event log keeps its history, plus a "forgotten" event."""
    with db.transaction() as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM snapshots WHERE venv_path = ?", (str(path),)
        ).fetchone()
        conn.execute("DELETE FROM snapshots WHERE venv_path = ?", (str(path),))
        conn.execute("DELETE FROM venvs WHERE path = ?", (str(path),))
        insert_event(
            conn, ts(now()), str(path), "forgotten", "forgotten at the user's request", None
        )
    return int(count)
