"""The event log (the ``events`` table)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.record.state.core import Database, now, parse_ts, ts


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
    conn.execute(
        "INSERT INTO events (at, venv_path, kind, message, data) VALUES (?, ?, ?, ?, ?)",
        (when, venv_path, kind, message, json.dumps(data) if data is not None else None),
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
    return [_event(r) for r in rows]


def _event(row: tuple[Any, ...]) -> Event:
    id_, at, venv, kind, message, data = row
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return Event(
        int(id_),
        parse_ts(at),
        Path(venv) if venv else None,
        kind,
        message,
        parsed if isinstance(parsed, dict) else None,
    )
