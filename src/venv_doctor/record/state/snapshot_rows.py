"""Recorded requirement snapshots (the ``snapshots`` table)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import loads_json
from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.record.state.core import Database, parse_ts, stored_path, text_or_none, ts


def record_snapshot(db: Database, snapshot: Snapshot) -> bool:
    """Store ``snapshot`` unless it equals the venv's newest one; True when stored.

    Content seen before (the venv went back to an earlier state) moves that row to
    the new time: the newest snapshot always describes the venv as it is now.
    """
    digest = snapshot.content_hash
    packages = json.dumps([p.to_record() for p in snapshot.packages], separators=(",", ":"))
    with db.transaction() as conn:
        latest = conn.execute(
            "SELECT content_hash FROM snapshots WHERE venv_path = ? "
            "ORDER BY taken_at DESC, id DESC LIMIT 1",
            (str(snapshot.venv),),
        ).fetchone()
        if latest and latest[0] == digest:
            return False
        conn.execute(
            """INSERT INTO snapshots (venv_path, taken_at, content_hash, python_version, packages)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (venv_path, content_hash) DO UPDATE SET taken_at = excluded.taken_at""",
            (str(snapshot.venv), ts(snapshot.taken_at), digest, snapshot.python_version, packages),
        )
    return True


def _snapshot(row: tuple[Any, ...]) -> Snapshot:
    venv, taken_at, version, packages = row
    try:
        items = loads_json(packages)
        parsed = tuple(Package.from_record(p) for p in items)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"the snapshot of {venv} taken at {taken_at} is damaged: {exc}") from exc
    return Snapshot(
        stored_path(venv), parse_ts(taken_at), text_or_none(version), parsed, "recorded"
    )


_SELECT_SNAPSHOTS = "SELECT venv_path, taken_at, python_version, packages FROM snapshots"


def latest_snapshot(db: Database, venv: Path, at: datetime | None = None) -> Snapshot | None:
    """The newest snapshot of ``venv`` (taken at or before ``at`` when given)."""
    limit = ts(at) if at else "9999"
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS
        + " WHERE venv_path = ? AND taken_at <= ? ORDER BY taken_at DESC, id DESC",
        (str(venv), limit),
    )
    for row in rows:  # the newest that is not damaged
        found = db.decoded([row], _snapshot, "snapshots")
        if found:
            return found[0]
    return None


def snapshots(db: Database, venv: Path) -> list[Snapshot]:
    """Every snapshot of ``venv``, oldest first."""
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS + " WHERE venv_path = ? ORDER BY taken_at, id",
        (str(venv),),
    )
    return db.decoded(rows, _snapshot, "snapshots")
