"""Recorded requirement snapshots (the ``snapshots``, ``snapshot_packages`` and
``packages`` tables).

A package record (name, version, source... as JSON) is stored once, in ``packages``,
and shared by every snapshot of every venv that holds it; ``snapshot_packages`` lists a
snapshot's records in order. ``snapshots.packages`` is NULL, except in a row from before
schema 5 that did not convert (damaged text, kept as it was and skipped on reading).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import loads_json
from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.record.state.core import (
    Database,
    integer,
    parse_ts,
    stored_path,
    text_or_none,
    ts,
)


def record_snapshot(db: Database, snapshot: Snapshot) -> bool:
    """Store ``snapshot`` unless it equals the venv's newest one; True when stored.

    Content seen before (the venv went back to an earlier state) moves that row to
    the new time: the newest snapshot always describes the venv as it is now.
    """
    digest = snapshot.content_hash
    venv = str(snapshot.venv)
    with db.transaction() as conn:
        latest = conn.execute(
            "SELECT content_hash FROM snapshots WHERE venv_path = ? "
            "ORDER BY taken_at DESC, id DESC LIMIT 1",
            (venv,),
        ).fetchone()
        if latest and latest[0] == digest:
            return False
        moved = conn.execute(
            "UPDATE snapshots SET taken_at = ? WHERE venv_path = ? AND content_hash = ?",
            (ts(snapshot.taken_at), venv, digest),
        )
        if moved.rowcount:
            return True
        row = conn.execute(
            "INSERT INTO snapshots (venv_path, taken_at, content_hash, python_version) "
            "VALUES (?, ?, ?, ?)",
            (venv, ts(snapshot.taken_at), digest, snapshot.python_version),
        )
        ids = _package_ids(conn, snapshot.packages)
        conn.executemany(
            "INSERT INTO snapshot_packages (snapshot_id, position, package_id) VALUES (?, ?, ?)",
            [(row.lastrowid, position, id_) for position, id_ in enumerate(ids)],
        )
    return True


def _package_ids(conn: sqlite3.Connection, packages: Sequence[Package]) -> list[int]:
    """The ``packages`` row of each package, added where there is none yet."""
    ids = []
    for package in packages:
        record = json.dumps(package.to_record(), separators=(",", ":"))
        found = conn.execute("SELECT id FROM packages WHERE record = ?", (record,)).fetchone()
        if found is None:
            found = (conn.execute("INSERT INTO packages (record) VALUES (?)", (record,)).lastrowid,)
        ids.append(int(found[0]))
    return ids


_SELECT_SNAPSHOTS = "SELECT id, venv_path, taken_at, python_version, packages FROM snapshots"


def latest_snapshot(db: Database, venv: Path, at: datetime | None = None) -> Snapshot | None:
    """The newest snapshot of ``venv`` (taken at or before ``at`` when given)."""
    limit = ts(at) if at else "9999"
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS
        + " WHERE venv_path = ? AND taken_at <= ? ORDER BY taken_at DESC, id DESC",
        (str(venv), limit),
    )
    for row in rows:  # the newest that is not damaged
        found = _decoded(db, [row])
        if found:
            return found[0]
    return None


def snapshots(db: Database, venv: Path) -> list[Snapshot]:
    """Every snapshot of ``venv``, oldest first."""
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS + " WHERE venv_path = ? ORDER BY taken_at, id", (str(venv),)
    ).fetchall()
    return _decoded(db, rows)


def _decoded(db: Database, rows: Sequence[tuple[Any, ...]]) -> list[Snapshot]:
    """The snapshots of ``rows``, their package lists read in one query; a record shared
    by several of them is decoded once."""
    lists = _package_lists(db.conn, [row[0] for row in rows if row[4] is None])
    cache: dict[int, Package] = {}

    def decode(row: tuple[Any, ...]) -> Snapshot:
        id_, venv, taken_at, version, legacy = row
        try:
            if legacy is not None:  # a row from before schema 5 that did not convert
                packages = tuple(Package.from_record(p) for p in loads_json(legacy))
            else:
                packages = tuple(_package(cache, p, r) for p, r in lists.get(id_, ()))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(
                f"the snapshot of {venv} taken at {taken_at} is damaged: {exc}"
            ) from exc
        return Snapshot(
            stored_path(venv), parse_ts(taken_at), text_or_none(version), packages, "recorded"
        )

    return db.decoded(rows, decode, "snapshots")


def _package_lists(
    conn: sqlite3.Connection, ids: Sequence[int]
) -> dict[int, list[tuple[object, object]]]:
    """Snapshot id -> its (package id, record) pairs in order; a record that is missing
    (a damaged database) comes as None, and its snapshot does not decode."""
    out: dict[int, list[tuple[object, object]]] = {}
    for start in range(0, len(ids), 500):  # within SQLite's limit of bound parameters
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT sp.snapshot_id, sp.package_id, p.record FROM snapshot_packages sp "  # noqa: S608
            f"LEFT JOIN packages p ON p.id = sp.package_id WHERE sp.snapshot_id IN ({marks}) "
            "ORDER BY sp.snapshot_id, sp.position",
            chunk,
        )
        for snapshot_id, package_id, record in rows:
            out.setdefault(snapshot_id, []).append((package_id, record))
    return out


def _package(cache: dict[int, Package], package_id: object, record: object) -> Package:
    key = integer(package_id)
    found = cache.get(key)
    if found is None:
        if not isinstance(record, str):
            raise ValueError(f"package row {key} is missing or not text")
        found = cache[key] = Package.from_record(loads_json(record))
    return found


# --- retention: which snapshots a venv has, and deleting some ------------------------------


def snapshot_times(db: Database, venv: Path) -> list[tuple[int, datetime]]:
    """(id, taken_at) of every snapshot of ``venv``, oldest first."""
    rows = db.conn.execute(
        "SELECT id, taken_at FROM snapshots WHERE venv_path = ? ORDER BY taken_at, id",
        (str(venv),),
    )
    return db.decoded(rows, lambda r: (integer(r[0]), parse_ts(r[1])), "snapshots")


def delete_snapshots(db: Database, ids: Iterable[int]) -> int:
    """Delete these snapshots and every package row only they used; returns how many went."""
    chosen = sorted(set(ids))
    deleted = 0
    with db.transaction() as conn:
        for start in range(0, len(chosen), 500):
            chunk = chosen[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            used = [
                r[0]
                for r in conn.execute(
                    f"SELECT DISTINCT package_id FROM snapshot_packages WHERE snapshot_id IN ({marks})",  # noqa: S608
                    chunk,
                )
            ]
            deleted += conn.execute(
                f"DELETE FROM snapshots WHERE id IN ({marks})",  # noqa: S608
                chunk,
            ).rowcount
            _sweep_packages(conn, used)
    return deleted


def _sweep_packages(conn: sqlite3.Connection, candidates: Sequence[int]) -> None:
    """Delete the package rows among ``candidates`` that no snapshot uses any more."""
    conn.executemany(
        "DELETE FROM packages WHERE id = ? AND NOT EXISTS "
        "(SELECT 1 FROM snapshot_packages WHERE package_id = packages.id)",
        [(c,) for c in candidates],
    )
