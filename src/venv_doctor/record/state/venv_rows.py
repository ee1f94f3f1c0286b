"""The registry of venvs venv-doctor has seen (the ``venvs`` table)."""

from __future__ import annotations

import enum
import json
import os
import sqlite3
from collections.abc import Container, Iterable
from dataclasses import dataclass, field, replace
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
from venv_doctor.record.state.snapshot_rows import delete_snapshots


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
    base: str | None = None  # the interpreter it ran on when last seen


class Evidence(enum.StrEnum):
    """How a sighting's status was found: the recorded status keeps the worst evidence."""

    STATIC = "static"  # files and links only: cannot see what only running shows
    DEEP = "deep"  # the interpreter was started: its status replaces the kept one
    REPAIR = "repair"  # right after a repair: what was kept is cleared


# worse statuses rank higher; "removed" and anything unknown to this table do not rank
_RANK = {"healthy": 0, "degraded": 1, "unknown": 2, "broken": 3}


@dataclass(frozen=True)
class Sighting:
    """What one check saw of a venv; ``status``/``fingerprint``/``base`` None keep the old value."""

    path: Path
    name: str
    store: str
    creator: str | None
    python_version: str | None
    status: str | None = None
    fingerprint: str | None = None
    base: str | None = None
    evidence: Evidence = field(default_factory=lambda: Evidence.STATIC)

    @property
    def tail(self) -> tuple[str | None, str | None, str | None]:
        return self.status, self.fingerprint, self.base


def _venv_record(row: sqlite3.Row | tuple[Any, ...]) -> VenvRecord:
    path, name, store, creator, version, first, last, status, fp, base = row
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
        text_or_none(base),
    )


_SELECT_VENVS = (
    "SELECT path, name, store, creator, python_version, first_seen, last_seen, last_status, "
    "fingerprint, base FROM venvs"
)


_SELECT_BY_ROWID = (
    _SELECT_VENVS + " WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY rowid"  # noqa: S608
)


def venv_records(db: Database, skip: Container[str] = ()) -> dict[Path, VenvRecord]:
    """Every registry entry, but those whose path is in ``skip`` (a check that found
    thousands of venvs asks only about the others: paths are compared first, and only
    the other rows are read whole)."""
    rows: Iterable[Any]
    if skip:
        ids = [
            i for i, path in db.conn.execute("SELECT rowid, path FROM venvs") if path not in skip
        ]
        if not ids:
            return {}
        rows = db.conn.execute(_SELECT_BY_ROWID, (json.dumps(ids),))
    else:
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
        last_seen, last_status, fingerprint, base, deep_status)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (path) DO UPDATE SET
        name = excluded.name, store = excluded.store, creator = excluded.creator,
        python_version = coalesce(excluded.python_version, venvs.python_version),
        last_seen = excluded.last_seen,
        last_status = coalesce(excluded.last_status, venvs.last_status),
        fingerprint = coalesce(excluded.fingerprint, venvs.fingerprint),
        base = coalesce(excluded.base, venvs.base),
        deep_status = excluded.deep_status"""


def record_venvs(db: Database, sightings: Iterable[Sighting], at: datetime | None = None) -> int:
    """Upsert the registry; a new venv or a changed status also appends an event.

    Returns the number of events appended.
    """
    when = ts(at or now())
    rows = list(sightings)
    with db.transaction() as conn:
        # path -> (last status, the last deep check's status kept)
        known = {
            path: (status, kept)
            for path, status, kept in conn.execute(
                "SELECT path, last_status, deep_status FROM venvs"
            )
        }
        values = []
        events = []
        for sighting in rows:
            path = str(sighting.path)
            old_status, kept = known.get(path, (None, None))
            s = _with_evidence(sighting, kept)
            values.append(_row(s, path, when, kept))
            if event := _status_event(s, path in known, old_status):
                events.append((path, event))
        conn.executemany(_UPSERT_VENV, values)
        for path, event in events:
            insert_event(conn, when, path, *event)
    return len(events)


def _with_evidence(s: Sighting, kept: str | None) -> Sighting:
    """A static sighting never records a venv healthier than the last deep check saw it."""
    if s.evidence is not Evidence.STATIC or s.status is None or kept is None:
        return s
    if _RANK.get(kept, -1) > _RANK.get(s.status, -1):
        return replace(s, status=kept)
    return s


def _row(s: Sighting, path: str, when: str, kept: str | None) -> tuple[Any, ...]:
    """The upsert's values; the last is what is kept of the last deep check's verdict."""
    if s.evidence is Evidence.DEEP:
        deep = s.status
    else:
        deep = None if s.evidence is Evidence.REPAIR else kept
    return (path, s.name, s.store, s.creator, s.python_version, when, when, *s.tail, deep)


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
        ids = [
            r[0] for r in conn.execute("SELECT id FROM snapshots WHERE venv_path = ?", (str(path),))
        ]
        count = delete_snapshots(db, ids)
        conn.execute("DELETE FROM venvs WHERE path = ?", (str(path),))
        conn.execute("DELETE FROM owner_records WHERE venv_path = ?", (str(path),))
        insert_event(
            conn, ts(now()), str(path), "forgotten", "forgotten at the user's request", None
        )
    return int(count)


def move_venv(db: Database, old: Path, new: Path, name: str, why: str) -> bool:
    """The registry's venv at ``old`` is now at ``new`` (a rebuild gave it the name its
    owner uses for the new minor): its row, snapshots and events follow it, so its
    history goes on and ``old`` is not reported missing. Idempotent: False when there
    was nothing at ``old`` to move."""
    columns = [r[1] for r in db.conn.execute("PRAGMA table_info(venvs)")]
    rest = ", ".join(c for c in columns if c not in ("path", "name"))
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM venvs WHERE path = ?", (str(old),)).fetchone() is None:
            return False
        # seen there meanwhile (a check between the commit and this): the old history wins
        stale = [
            r[0] for r in conn.execute("SELECT id FROM snapshots WHERE venv_path = ?", (str(new),))
        ]
        delete_snapshots(db, stale)
        conn.execute("DELETE FROM venvs WHERE path = ?", (str(new),))
        conn.execute(
            f"INSERT INTO venvs (path, name, {rest}) SELECT ?, ?, {rest} FROM venvs"  # noqa: S608
            " WHERE path = ?",
            (str(new), name, str(old)),
        )
        conn.execute("UPDATE snapshots SET venv_path = ? WHERE venv_path = ?", (str(new), str(old)))
        conn.execute("UPDATE events SET venv_path = ? WHERE venv_path = ?", (str(new), str(old)))
        conn.execute("DELETE FROM owner_records WHERE venv_path = ?", (str(new),))
        conn.execute(
            "UPDATE owner_records SET venv_path = ? WHERE venv_path = ?", (str(new), str(old))
        )
        conn.execute("DELETE FROM venvs WHERE path = ?", (str(old),))
        insert_event(conn, ts(now()), str(new), "moved", why, {"from": str(old)})
    return True
