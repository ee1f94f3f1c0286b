"""The rebuild journal: one row per transaction, its last step written before
each action, so an interrupted rebuild can be rolled back (or forward) later."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    venv TEXT NOT NULL,
    backup TEXT NOT NULL,
    action TEXT NOT NULL,
    step TEXT NOT NULL,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    outcome TEXT,
    message TEXT
)
"""
# The order of a rebuild's steps. Recovery rolls back anything before "verified".
STEPS = (
    "begin",
    "moving",
    "moved",
    "creating",
    "installing",
    "carrying",
    "verifying",
    "verified",
    "committed",
)


@dataclass(frozen=True)
class Entry:
    id: int
    venv: Path
    backup: Path
    action: str
    step: str
    started_at: float


class Journal:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        with conn:
            conn.execute(SCHEMA)

    def begin(self, venv: Path, backup: Path, action: str) -> int:
        now = time.time()
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO journal (venv, backup, action, step, started_at, updated_at) VALUES (?, ?, ?, 'begin', ?, ?)",
                (str(venv), str(backup), action, now, now),
            )
        if cur.lastrowid is None:
            raise RuntimeError("sqlite did not return the journal entry's id")
        return cur.lastrowid

    def step(self, entry_id: int, step: str) -> None:
        if step not in STEPS:
            raise ValueError(step)
        with self.conn:
            self.conn.execute(
                "UPDATE journal SET step = ?, updated_at = ? WHERE id = ?",
                (step, time.time(), entry_id),
            )

    def finish(self, entry_id: int, outcome: str, message: str = "") -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE journal SET outcome = ?, message = ?, updated_at = ? WHERE id = ?",
                (outcome, message, time.time(), entry_id),
            )

    def open_entries(self) -> list[Entry]:
        rows = self.conn.execute(
            "SELECT id, venv, backup, action, step, started_at FROM journal WHERE outcome IS NULL ORDER BY id"
        ).fetchall()
        return [Entry(r[0], Path(r[1]), Path(r[2]), r[3], r[4], r[5]) for r in rows]

    def kept_backups(self) -> list[Entry]:
        rows = self.conn.execute(
            "SELECT id, venv, backup, action, step, started_at FROM journal WHERE outcome = 'committed' ORDER BY id"
        ).fetchall()
        return [Entry(r[0], Path(r[1]), Path(r[2]), r[3], r[4], r[5]) for r in rows]
