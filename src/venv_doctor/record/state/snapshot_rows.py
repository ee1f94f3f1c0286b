"""Recorded requirement snapshots (the ``snapshots``, ``snapshot_packages`` and
``packages`` tables).

A package record (name, version, source... as JSON) is stored once, in ``packages``,
and shared by every snapshot of every venv that holds it. A snapshot is stored as the
change from the venv's snapshot before it (``base_id``): the packages put in (added
or changed) and the names taken out, in ``snapshot_packages`` (``removed`` = 1 for a
name taken out), so recording a change costs about what changed. Every
``MAX_CHAIN``-th snapshot of a venv, the first one, and one whose list is not sorted
by name (so a change by name could not give it back exactly) store their whole list
instead (``base_id`` NULL, the rows in order). Deleting a snapshot others are based on
first stores those again, as the change from their nearest ancestor left or whole.

``snapshots.packages`` is NULL, except in a row from before schema 5 that did not
convert (damaged text, kept as it was and skipped on reading).
"""

from __future__ import annotations

import itertools
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

MAX_CHAIN = 32  # snapshots read to rebuild one, at most: a bound on reading the newest
_CHUNK = 500  # ids per IN (...): within SQLite's limit of bound parameters


def record_snapshot(db: Database, snapshot: Snapshot) -> bool:
    """Store ``snapshot`` unless it equals the venv's newest one; True when stored.

    Content seen before (the venv went back to an earlier state) moves that row to
    the new time: the newest snapshot always describes the venv as it is now.
    """
    digest = snapshot.content_hash
    venv = str(snapshot.venv)
    with db.transaction() as conn:
        latest = conn.execute(
            "SELECT id, content_hash FROM snapshots WHERE venv_path = ? "
            "ORDER BY taken_at DESC, id DESC LIMIT 1",
            (venv,),
        ).fetchone()
        if latest and latest[1] == digest:
            return False
        moved = conn.execute(
            "UPDATE snapshots SET taken_at = ? WHERE venv_path = ? AND content_hash = ?",
            (ts(snapshot.taken_at), venv, digest),
        )
        if moved.rowcount:
            return True
        base = _Lists(conn).base_for(latest[0] if latest else None, snapshot.packages)
        row = conn.execute(
            "INSERT INTO snapshots (venv_path, taken_at, content_hash, python_version, base_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                venv,
                ts(snapshot.taken_at),
                digest,
                snapshot.python_version,
                base[0] if base else None,
            ),
        )
        if base is None:
            _write_whole(conn, int(row.lastrowid or 0), snapshot.packages)
        else:
            _write_change(conn, int(row.lastrowid or 0), base[1], snapshot.packages)
    return True


def _write_whole(conn: sqlite3.Connection, snapshot_id: int, packages: Sequence[Package]) -> None:
    ids = _package_ids(conn, packages)
    conn.executemany(
        "INSERT INTO snapshot_packages (snapshot_id, position, package_id) VALUES (?, ?, ?)",
        [(snapshot_id, position, id_) for position, id_ in enumerate(ids)],
    )


def _write_change(
    conn: sqlite3.Connection,
    snapshot_id: int,
    before: Sequence[Package],
    after: Sequence[Package],
) -> None:
    put, taken_out = _change(before, after)
    rows = [(id_, 0) for id_ in _package_ids(conn, put)]
    rows += [(id_, 1) for id_ in _package_ids(conn, taken_out)]
    conn.executemany(
        "INSERT INTO snapshot_packages (snapshot_id, position, package_id, removed) "
        "VALUES (?, ?, ?, ?)",
        [(snapshot_id, position, id_, removed) for position, (id_, removed) in enumerate(rows)],
    )


def _change(
    before: Sequence[Package], after: Sequence[Package]
) -> tuple[list[Package], list[Package]]:
    """The packages ``after`` puts in (new or different) and the ones it takes out, by name."""
    old = {p.name: p for p in before}
    new = {p.name: p for p in after}
    put = [p for p in after if old.get(p.name) != p]
    taken_out = [p for name, p in old.items() if name not in new]
    return put, taken_out


def _apply(
    before: Sequence[Package], put: Iterable[Package], taken_out: Iterable[str]
) -> tuple[Package, ...]:
    held = {p.name: p for p in before}
    for name in taken_out:
        held.pop(name, None)
    held.update((p.name, p) for p in put)
    return tuple(held[name] for name in sorted(held))


def _sorted_by_name(packages: Sequence[Package]) -> bool:
    """Whether ``_apply`` can give this list back exactly: names sorted and unique (as
    ``distributions.read`` returns them)."""
    return all(a.name < b.name for a, b in itertools.pairwise(packages))


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


class _Lists:
    """Package lists of snapshots, rebuilt from their rows (and their bases' rows),
    fetched as needed; a record several lists share is decoded once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows: dict[int, tuple[object, object]] = {}  # id -> (base_id, legacy text)
        self.members: dict[int, list[tuple[object, object, object]]] = {}
        self.lists: dict[int, tuple[Package, ...]] = {}
        self.depth: dict[int, int] = {}
        self.cache: dict[int, Package] = {}

    def base_for(
        self, latest: int | None, packages: Sequence[Package]
    ) -> tuple[int, tuple[Package, ...]] | None:
        """What a new snapshot holding ``packages`` is stored as a change from: the
        venv's newest (id, list), or None to store it whole."""
        if latest is None or not _sorted_by_name(packages):
            return None
        try:
            before = self.packages(latest)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # a damaged newest snapshot: start afresh
        if self.depth[latest] + 1 >= MAX_CHAIN:
            return None
        put, taken_out = _change(before, packages)
        if len(put) + len(taken_out) >= len(packages):
            return None  # the change is no smaller than the list
        return latest, before

    def load(self, ids: Iterable[int]) -> None:
        """Fetch the rows of ``ids`` and of the snapshots they are based on."""
        todo = sorted(i for i in set(ids) if i not in self.rows)
        if not todo:
            return
        chain = self.conn.execute(
            "WITH RECURSIVE chain (id, n) AS (SELECT value, 0 FROM json_each(?) UNION "
            "SELECT s.base_id, n + 1 FROM chain JOIN snapshots s ON s.id = chain.id "
            "WHERE s.base_id IS NOT NULL AND n < ?) "
            "SELECT s.id, s.base_id, s.packages FROM snapshots s "
            "WHERE s.id IN (SELECT id FROM chain)",
            (json.dumps(todo), MAX_CHAIN * 2),
        ).fetchall()
        fresh = [int(r[0]) for r in chain if int(r[0]) not in self.rows]
        for id_, base, legacy in chain:
            self.rows[int(id_)] = (base, legacy)
        self._load_members(fresh)

    def _load_members(self, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT sp.snapshot_id, sp.package_id, p.record, sp.removed "  # noqa: S608
                "FROM snapshot_packages sp LEFT JOIN packages p ON p.id = sp.package_id "
                f"WHERE sp.snapshot_id IN ({marks}) ORDER BY sp.snapshot_id, sp.position",
                chunk,
            )
            for snapshot_id, package_id, record, removed in rows:
                self.members.setdefault(snapshot_id, []).append((package_id, record, removed))

    def packages(self, id_: int, hops: int = 0) -> tuple[Package, ...]:
        """The package list of snapshot ``id_``; ValueError when it cannot be rebuilt
        (a damaged row, a missing base, a chain that loops)."""
        found = self.lists.get(id_)
        if found is not None:
            return found
        if hops > MAX_CHAIN * 2:
            raise ValueError("its chain of changes is too long or loops")
        if id_ not in self.rows:
            self.load([id_])
        if id_ not in self.rows:
            raise ValueError(f"snapshot {id_} it is based on is missing")
        base, legacy = self.rows[id_]
        members = self.members.get(id_, [])
        if legacy is not None:  # a row from before schema 5 that did not convert
            if not isinstance(legacy, str | bytes):
                raise ValueError(f"not JSON text: {legacy!r:.80}")
            out = tuple(Package.from_record(p) for p in loads_json(legacy))
            depth = 0
        elif base is None:
            out = tuple(self._package(p, r) for p, r, _ in members)
            depth = 0
        else:
            before = self.packages(integer(base), hops + 1)
            put = [self._package(p, r) for p, r, gone in members if not gone]
            taken_out = [self._package(p, r).name for p, r, gone in members if gone]
            out = _apply(before, put, taken_out)
            depth = self.depth[integer(base)] + 1
        self.lists[id_] = out
        self.depth[id_] = depth
        return out

    def _package(self, package_id: object, record: object) -> Package:
        key = integer(package_id)
        found = self.cache.get(key)
        if found is None:
            if not isinstance(record, str):
                raise ValueError(f"package row {key} is missing or not text")
            found = self.cache[key] = Package.from_record(loads_json(record))
        return found


_SELECT_SNAPSHOTS = "SELECT id, venv_path, taken_at, python_version FROM snapshots"


def latest_snapshot(db: Database, venv: Path, at: datetime | None = None) -> Snapshot | None:
    """The newest snapshot of ``venv`` (taken at or before ``at`` when given)."""
    limit = ts(at) if at else "9999"
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS
        + " WHERE venv_path = ? AND taken_at <= ? ORDER BY taken_at DESC, id DESC",
        (str(venv), limit),
    )
    lists = _Lists(db.conn)
    for row in rows:  # the newest that is not damaged
        found = _decoded(db, lists, [row])
        if found:
            return found[0]
    return None


def snapshots(db: Database, venv: Path) -> list[Snapshot]:
    """Every snapshot of ``venv``, oldest first."""
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS + " WHERE venv_path = ? ORDER BY taken_at, id", (str(venv),)
    ).fetchall()
    lists = _Lists(db.conn)
    lists.load(int(r[0]) for r in rows if isinstance(r[0], int))
    return _decoded(db, lists, rows)


def _decoded(db: Database, lists: _Lists, rows: Sequence[tuple[Any, ...]]) -> list[Snapshot]:
    def decode(row: tuple[Any, ...]) -> Snapshot:
        id_, venv, taken_at, version = row
        try:
            packages = lists.packages(integer(id_))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise ValueError(
                f"the snapshot of {venv} taken at {taken_at} is damaged: {exc}"
            ) from exc
        return Snapshot(
            stored_path(venv), parse_ts(taken_at), text_or_none(version), packages, "recorded"
        )

    return db.decoded(rows, decode, "snapshots")


# --- retention: which snapshots a venv has, and deleting some ------------------------------


def snapshot_times(db: Database, venv: Path) -> list[tuple[int, datetime]]:
    """(id, taken_at) of every snapshot of ``venv``, oldest first."""
    rows = db.conn.execute(
        "SELECT id, taken_at FROM snapshots WHERE venv_path = ? ORDER BY taken_at, id",
        (str(venv),),
    )
    return db.decoded(rows, lambda r: (integer(r[0]), parse_ts(r[1])), "snapshots")


def delete_snapshots(db: Database, ids: Iterable[int]) -> int:
    """Delete these snapshots and every package row only they used; returns how many
    went. A snapshot left that was stored as a change from one of them is stored again
    first: as the change from its nearest ancestor left, or whole (one that cannot be
    rebuilt goes too: it was unreadable already)."""
    doomed = set(ids)
    with db.transaction() as conn:
        lists = _Lists(conn)
        orphans = _based_on(conn, doomed)
        lists.load([*doomed, *orphans])
        rebuilt = {}
        for id_ in orphans:
            try:
                rebuilt[id_] = lists.packages(id_)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                doomed.add(id_)
        used = _package_ids_of(conn, sorted(doomed | set(rebuilt)))
        for id_, packages in rebuilt.items():
            conn.execute("DELETE FROM snapshot_packages WHERE snapshot_id = ?", (id_,))
            base = lists.base_for(_survivor(lists, id_, doomed), packages)
            conn.execute(
                "UPDATE snapshots SET base_id = ? WHERE id = ?", (base[0] if base else None, id_)
            )
            if base is None:
                _write_whole(conn, id_, packages)
            else:
                _write_change(conn, id_, base[1], packages)
        # a snapshot and the one it is based on may go in different statements
        conn.execute("PRAGMA defer_foreign_keys = ON")
        deleted = 0
        ordered = sorted(doomed)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            deleted += conn.execute(
                f"DELETE FROM snapshots WHERE id IN ({marks})",  # noqa: S608
                chunk,
            ).rowcount
        _sweep_packages(conn, used)
    return deleted


def _survivor(lists: _Lists, id_: int, doomed: set[int]) -> int | None:
    """The nearest snapshot ``id_`` is based on (through its base's bases) that stays."""
    base = lists.rows[id_][0]
    for _ in range(MAX_CHAIN * 2):
        if not isinstance(base, int) or base not in lists.rows:
            return None
        if base not in doomed:
            return base
        base = lists.rows[base][0]
    return None


def _based_on(conn: sqlite3.Connection, doomed: set[int]) -> list[int]:
    """The snapshots not in ``doomed`` stored as a change from one in it."""
    ordered = sorted(doomed)
    out = []
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        out += [
            int(r[0])
            for r in conn.execute(
                f"SELECT id FROM snapshots WHERE base_id IN ({marks})",  # noqa: S608
                chunk,
            )
            if int(r[0]) not in doomed
        ]
    return out


def _package_ids_of(conn: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
    out: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        out += [
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT package_id FROM snapshot_packages WHERE snapshot_id IN ({marks})",  # noqa: S608
                chunk,
            )
        ]
    return out


def _sweep_packages(conn: sqlite3.Connection, candidates: Sequence[int]) -> None:
    """Delete the package rows among ``candidates`` that no snapshot uses any more."""
    conn.executemany(
        "DELETE FROM packages WHERE id = ? AND NOT EXISTS "
        "(SELECT 1 FROM snapshot_packages WHERE package_id = packages.id)",
        [(c,) for c in candidates],
    )
