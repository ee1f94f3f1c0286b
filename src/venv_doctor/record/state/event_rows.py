"""The event log (the ``events`` table)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import loads_json
from venv_doctor.record.state.core import Database, now, parse_ts, stored_path, text, ts
from venv_doctor.render.sanitize import encodable, redact, redact_data


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    venv_path: Path | None
    kind: str  # e.g. "discovered", "status"; repair and daemon add their own
    message: str
    data: dict[str, Any] | None


def insert_event(
    conn: sqlite3.Connection,
    when: str,
    venv_path: str | None,
    kind: str,
    message: str,
    data: dict[str, Any] | None,
) -> None:
    # the event log outlives every run: no credential goes into it
    stored = json.dumps(redact_data(data)) if data is not None else None
    path = encodable(venv_path) if venv_path else None
    conn.execute(
        "INSERT INTO events (at, venv_path, kind, message, data) VALUES (?, ?, ?, ?, ?)",
        (when, path, kind, encodable(redact(message)), stored),
    )


def append_event(
    db: Database,
    kind: str,
    message: str,
    venv_path: Path | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Log what happened (a repair, a daemon action); never put credentials in it."""
    with db.transaction() as conn:
        path = str(venv_path) if venv_path else None
        insert_event(conn, ts(at or now()), path, kind, message, data)


def events(
    db: Database, venv_path: Path | None = None, since: datetime | None = None
) -> list[Event]:
    """Events oldest first: one venv's, or every event when ``venv_path`` is None."""
    sql = "SELECT id, at, venv_path, kind, message, data FROM events WHERE at >= ?"
    args: list[Any] = [ts(since) if since else ""]
    if venv_path is not None:
        sql += " AND venv_path = ?"
        args.append(str(venv_path))
    rows = db.conn.execute(sql + " ORDER BY at, id", args)
    return db.decoded(rows, _event, "events")


def _event(row: tuple[Any, ...]) -> Event:
    id_, at, venv, kind, message, data = row
    try:
        parsed = loads_json(data) if isinstance(data, str) and data else None
    except ValueError:
        parsed = None
    return Event(
        int(id_),
        parse_ts(at),
        stored_path(venv) if venv else None,
        text(kind),
        text(message),
        parsed if isinstance(parsed, dict) else None,
    )


def event_times(db: Database, venv_path: Path, kinds: Iterable[str]) -> list[datetime]:
    """When ``venv_path`` had an event of one of ``kinds``, oldest first."""
    chosen = sorted(set(kinds))
    marks = ", ".join("?" * len(chosen))
    rows = db.conn.execute(
        f"SELECT at FROM events WHERE venv_path = ? AND kind IN ({marks}) ORDER BY at",  # noqa: S608
        (str(venv_path), *chosen),
    )
    return db.decoded(rows, lambda r: parse_ts(r[0]), "events")


def latest_events(db: Database, kind: str, paths: Iterable[Path]) -> dict[Path, Event]:
    """Each of ``paths``' latest event of ``kind`` (a venv without one is left out)."""
    wanted = {encodable(str(p)): p for p in paths}  # as insert_event stored them
    keys = list(wanted)
    found: dict[Path, Event] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.conn.execute(
            "SELECT id, at, venv_path, kind, message, data, venv_path FROM events"  # noqa: S608
            f" WHERE kind = ? AND venv_path IN ({marks}) ORDER BY at, id",
            (kind, *chunk),
        )
        for stored, event in db.decoded(rows, lambda r: (r[6], _event(r[:6])), "events"):
            found[wanted[stored]] = event  # oldest first: the latest stays
    return found


_CHUNK = 500  # paths per query: well under SQLite's limit on bound parameters
