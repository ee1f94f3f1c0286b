"""The rebuild journal's rows (the ``journal`` table); ``repair.transaction.journal`` gives them meaning."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from venv_doctor.record.state.core import (
    Database,
    StateError,
    integer,
    path_param,
    stored_path,
    text,
    text_or_none,
)
from venv_doctor.render.sanitize import redact


@dataclass(frozen=True)
class JournalRow:
    """One journal entry as stored; ``repair.transaction.journal`` reads ``action``/``step`` as enums."""

    id: int
    venv: Path
    backup: Path
    action: str
    step: str
    started_at: float
    pgid: int | None = None
    run_token: str | None = None
    made: tuple[int, int] | None = None  # (st_dev, st_ino) of the directory the repair made
    dest: Path | None = None  # where the new venv is made, when not at ``venv``


def journal_begin(
    db: Database,
    venv: Path,
    backup: Path,
    action: str,
    step: str,
    group: tuple[int, str] | None = None,
    dest: Path | None = None,
) -> int:
    """A new entry; ``group`` (pgid, run token) is written before any child starts."""
    at = time.time()
    pgid, token = group if group else (None, None)
    where = path_param(dest) if dest is not None else None
    with db.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO journal (venv, backup, action, step, started_at, updated_at, pgid,"
            " run_token, dest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (path_param(venv), path_param(backup), action, step, at, at, pgid, token, where),
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
            (outcome, redact(message), time.time(), entry_id),
        )


_SELECT_JOURNAL = (
    "SELECT id, venv, backup, action, step, started_at, pgid, run_token, made_dev, made_ino,"
    " dest FROM journal"
)


def _journal_row(r: tuple[Any, ...]) -> JournalRow:
    """A journal row fit for recovery, else ValueError: its paths are absolute and
    non-empty (recovery renames them) and its process group is a real one (recovery
    kills it: a damaged 0 or 1 must never reach ``killpg``)."""
    made = (integer(r[8]), integer(r[9])) if r[8] is not None and r[9] is not None else None
    pgid = integer(r[6]) if r[6] is not None else None
    if pgid is not None and pgid <= 1:
        raise ValueError(f"not a process group: {pgid}")
    return JournalRow(
        integer(r[0]),
        stored_path(r[1]),
        stored_path(r[2]),
        text(r[3]),
        text(r[4]),
        float(r[5]),
        pgid,
        text_or_none(r[7]),
        made,
        stored_path(r[10]) if r[10] is not None else None,
    )


def journal_get(db: Database, entry_id: int) -> JournalRow | None:
    row = db.conn.execute(_SELECT_JOURNAL + " WHERE id = ?", (entry_id,)).fetchone()
    found = db.decoded([row], _journal_row, "journal") if row else []
    return found[0] if found else None


def journal_open(db: Database) -> list[JournalRow]:
    """Entries with no outcome yet: a repair running now, or one that was interrupted."""
    rows = db.conn.execute(_SELECT_JOURNAL + " WHERE outcome IS NULL ORDER BY id")
    return db.decoded(rows, _journal_row, "journal")


def journal_with_outcome(db: Database, outcome: str) -> list[JournalRow]:
    rows = db.conn.execute(_SELECT_JOURNAL + " WHERE outcome = ? ORDER BY id", (outcome,))
    return db.decoded(rows, _journal_row, "journal")


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
