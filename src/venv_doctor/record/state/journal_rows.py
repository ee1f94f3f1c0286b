"""The rebuild journal's rows (the ``journal`` table); ``repair.journal`` gives them meaning."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from venv_doctor.record.state.core import Database, StateError


@dataclass(frozen=True)
class JournalRow:
    """One journal entry as stored; ``repair.journal`` reads ``action``/``step`` as enums."""

    id: int
    venv: Path
    backup: Path
    action: str
    step: str
    started_at: float
    pgid: int | None = None
    run_token: str | None = None
    made: tuple[int, int] | None = None  # (st_dev, st_ino) of the directory the repair made


def journal_begin(
    db: Database,
    venv: Path,
    backup: Path,
    action: str,
    step: str,
    group: tuple[int, str] | None = None,
) -> int:
    """A new entry; ``group`` (pgid, run token) is written before any child starts."""
    at = time.time()
    pgid, token = group if group else (None, None)
    with db.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO journal (venv, backup, action, step, started_at, updated_at, pgid,"
            " run_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (str(venv), str(backup), action, step, at, at, pgid, token),
        )
    if cur.lastrowid is None:
        raise StateError("sqlite did not return the journal entry's id")
    return cur.lastrowid


def journal_step(db: Database, entry_id: int, step: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            "UPDATE journal SET step = ?, updated_at = ? WHERE id = ?",
            (step, time.time(), entry_id),
        )


def journal_made(db: Database, entry_id: int, dev: int, ino: int) -> None:
    """Record the identity of the directory the repair just made at the venv's path."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE journal SET made_dev = ?, made_ino = ?, updated_at = ? WHERE id = ?",
            (dev, ino, time.time(), entry_id),
        )


def journal_finish(db: Database, entry_id: int, outcome: str, message: str = "") -> None:
    with db.transaction() as conn:
        conn.execute(
            "UPDATE journal SET outcome = ?, message = ?, updated_at = ? WHERE id = ?",
            (outcome, message, time.time(), entry_id),
        )


_SELECT_JOURNAL = (
    "SELECT id, venv, backup, action, step, started_at, pgid, run_token, made_dev, made_ino"
    " FROM journal"
)


def _journal_row(r: tuple[Any, ...]) -> JournalRow:
    made = (int(r[8]), int(r[9])) if r[8] is not None and r[9] is not None else None
    pgid = int(r[6]) if r[6] is not None else None
    return JournalRow(r[0], Path(r[1]), Path(r[2]), r[3], r[4], r[5], pgid, r[7], made)


def journal_get(db: Database, entry_id: int) -> JournalRow | None:
    row = db.conn.execute(_SELECT_JOURNAL + " WHERE id = ?", (entry_id,)).fetchone()
    return _journal_row(row) if row else None


def journal_open(db: Database) -> list[JournalRow]:
    """Entries with no outcome yet: a repair running now, or one that was interrupted."""
    rows = db.conn.execute(_SELECT_JOURNAL + " WHERE outcome IS NULL ORDER BY id")
    return [_journal_row(r) for r in rows]


def journal_with_outcome(db: Database, outcome: str) -> list[JournalRow]:
    rows = db.conn.execute(_SELECT_JOURNAL + " WHERE outcome = ? ORDER BY id", (outcome,))
    return [_journal_row(r) for r in rows]


def has_open_journal_entries(database: Path) -> bool:
    """A read-only look at the journal, cheap enough for every command's start: True
    when an entry has no outcome (or the database cannot be read: recovery says why)."""
    try:
        conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT 1 FROM journal WHERE outcome IS NULL LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        return "no such table" not in str(exc)  # no repair ever ran
    except sqlite3.Error:
        return True  # a damaged DB: let recovery say so and move it aside
    return row is not None
