"""The state database: known venvs, their requirement snapshots and an event log.

One SQLite file (``state.db`` in the state directory; file 0600, directory 0700)
shared by the CLI and the daemon: WAL mode so readers never block the writer, a
busy timeout so two writers wait for each other instead of failing with
"database is locked", and every write inside a transaction. The schema version
is ``PRAGMA user_version``: later issues append to MIGRATIONS, never edit one.

A database SQLite cannot read (corrupt, half written, not a database) is moved
aside as ``state.db.corrupt-<timestamp>`` and a fresh one started, with a
warning for the caller: recording must never stop ``check`` from working.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import ensure_private_dir
from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.paths import AppDirs

T = TypeVar("T")
BUSY_TIMEOUT_SECONDS = 10.0
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN})

# Each migration is a list of statements run in one transaction; its position + 1
# is the schema version it brings the database to.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE venvs (
            path TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            store TEXT NOT NULL,
            creator TEXT,
            python_version TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_status TEXT,
            fingerprint TEXT
        )""",
        "CREATE INDEX venvs_by_name ON venvs (name)",
        """CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            venv_path TEXT NOT NULL REFERENCES venvs (path) ON DELETE CASCADE,
            taken_at TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            python_version TEXT,
            packages TEXT NOT NULL,
            UNIQUE (venv_path, content_hash)
        )""",
        "CREATE INDEX snapshots_by_time ON snapshots (venv_path, taken_at)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            venv_path TEXT,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            data TEXT
        )""",
        "CREATE INDEX events_by_venv ON events (venv_path, at)",
    ),
    (
        # the rebuild journal; IF NOT EXISTS: before it was a migration, the journal
        # created its own table in databases at version 1
        """CREATE TABLE IF NOT EXISTS journal (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            venv TEXT NOT NULL,
            backup TEXT NOT NULL,
            action TEXT NOT NULL,
            step TEXT NOT NULL,
            started_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            outcome TEXT,
            message TEXT
        )""",
    ),
    (
        # the process group of the repair's children (recovery ends it before rolling
        # back), and the identity of the directory the repair made at the venv's path
        "ALTER TABLE journal ADD COLUMN pgid INTEGER",
        "ALTER TABLE journal ADD COLUMN run_token TEXT",
        "ALTER TABLE journal ADD COLUMN made_dev INTEGER",
        "ALTER TABLE journal ADD COLUMN made_ino INTEGER",
    ),
]


class StateError(VenvDoctorError):
    """The state database cannot be used (locked too long, unwritable, too new)."""


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


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    venv_path: Path | None
    kind: str  # e.g. "discovered", "status"; repair and daemon add their own
    message: str
    data: dict[str, Any] | None


def now() -> datetime:
    return datetime.now(UTC)


def _ts(when: datetime) -> str:
    """Stored timestamps: UTC ISO 8601 with microseconds, so text order is time order."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Database:
    """An open state database; use as a context manager or call ``close``."""

    def __init__(self, conn: sqlite3.Connection, path: Path, warnings: Sequence[str]) -> None:
        self.conn = conn
        self.path = path
        self.warnings: tuple[str, ...] = tuple(warnings)
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; nested uses join the outermost transaction.

        IMMEDIATE takes the write lock up front, so a concurrent writer waits for
        the busy timeout instead of failing when a read turns into a write.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- opening, migrating, recovering ------------------------------------------------------


def is_damaged(exc: sqlite3.Error) -> bool:
    """SQLite says the file is not a readable database (rather than busy or full)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.DatabaseError) and code is not None and code & 0xFF in _DAMAGED


def _create_private(path: Path) -> None:
    if not os.path.lexists(path):
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def _connect(path: Path) -> sqlite3.Connection:
    _create_private(path)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    if _user_version(conn) == len(MIGRATIONS):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # another process may have migrated meanwhile
        if version > len(MIGRATIONS):
            raise StateError(
                f"{path} has schema version {version}; this venv-doctor knows up to "
                f"{len(MIGRATIONS)} (a newer venv-doctor wrote it)",
                hint="upgrade venv-doctor",
            )
        for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def move_aside(path: Path, reason: str) -> str:
    """Rename a damaged database (and its WAL/SHM) out of the way; return the warning."""
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        os.replace(path, target)
        for suffix in ("-wal", "-shm"):
            if os.path.lexists(f"{path}{suffix}"):
                os.replace(f"{path}{suffix}", f"{target}{suffix}")
    except OSError as exc:
        raise StateError(
            f"{path} cannot be read ({reason}) and cannot be moved aside: {exc.strerror or exc}",
            hint=f"move or delete {path} by hand",
        ) from exc
    return (
        f"{path} could not be read ({reason}); it was moved to {target} "
        "and a new state database started (earlier snapshots are in the moved file)"
    )


def _state_error(path: Path, exc: sqlite3.Error) -> StateError:
    return StateError(
        f"{path}: {exc}",
        hint="another venv-doctor may hold the database; try again"
        if "locked" in str(exc)
        else None,
    )


def open_db(dirs: AppDirs) -> Database:
    """Open (creating or migrating) the state database; a damaged one is replaced."""
    return open_at(dirs.database)


def open_at(path: Path) -> Database:
    """``open_db`` for a database file named directly (tests, tools)."""
    try:
        ensure_private_dir(path.parent)
    except OSError as exc:
        raise StateError(f"{path.parent} cannot be created: {exc.strerror or exc}") from exc
    warnings: list[str] = []
    for attempt in (1, 2):
        try:
            return Database(_connect(path), path, warnings)
        except sqlite3.Error as exc:
            if attempt == 2 or not is_damaged(exc) or not os.path.lexists(path):
                raise _state_error(path, exc) from exc
            warnings.append(move_aside(path, str(exc)))
        except OSError as exc:
            raise StateError(f"{path} cannot be created: {exc.strerror or exc}") from exc
    raise AssertionError("unreachable")


def using(dirs: AppDirs, action: Callable[[Database], T]) -> tuple[T, tuple[str, ...]]:
    """Run ``action`` on the database; if SQLite finds it damaged mid-way, start afresh once.

    Returns the action's result and the warnings to show. Raises StateError when
    the database cannot be used at all.
    """
    db = open_db(dirs)
    try:
        return action(db), db.warnings
    except sqlite3.Error as exc:
        if not is_damaged(exc):
            raise _state_error(db.path, exc) from exc
        db.close()
        warning = move_aside(db.path, str(exc))
        db = open_db(dirs)
        try:
            return action(db), (*db.warnings, warning)
        except sqlite3.Error as again:
            raise _state_error(db.path, again) from again
    finally:
        db.close()


# --- the registry -------------------------------------------------------------------------


def _venv_record(row: sqlite3.Row | tuple[Any, ...]) -> VenvRecord:
    path, name, store, creator, version, first, last, status, fp = row
    return VenvRecord(
        Path(path), name, store, creator, version, _parse_ts(first), _parse_ts(last), status, fp
    )


_SELECT_VENVS = (
    "SELECT path, name, store, creator, python_version, first_seen, last_seen, last_status, "
    "fingerprint FROM venvs"
)


def venv_records(db: Database) -> dict[Path, VenvRecord]:
    rows = db.conn.execute(_SELECT_VENVS)
    return {r.path: r for r in map(_venv_record, rows)}


def find_venvs(db: Database, path_or_name: str | Path) -> list[VenvRecord]:
    """Registry entries whose path (given as is or made real) or name matches."""
    key = str(path_or_name)
    paths = (key, os.path.abspath(key), os.path.realpath(key))
    rows = db.conn.execute(
        _SELECT_VENVS + " WHERE path IN (?, ?, ?) OR name = ? ORDER BY path", (*paths, key)
    )
    found = [_venv_record(r) for r in rows]
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
    when = _ts(at or now())
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
            _insert_event(conn, when, path, *event)
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


# --- snapshots -----------------------------------------------------------------------------


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
            (str(snapshot.venv), _ts(snapshot.taken_at), digest, snapshot.python_version, packages),
        )
    return True


def _snapshot(row: tuple[Any, ...]) -> Snapshot:
    venv, taken_at, version, packages = row
    try:
        items = json.loads(packages)
        parsed = tuple(Package.from_record(p) for p in items)
    except (ValueError, TypeError, KeyError) as exc:
        raise StateError(f"the snapshot of {venv} taken at {taken_at} is damaged: {exc}") from exc
    return Snapshot(Path(venv), _parse_ts(taken_at), version, parsed, "recorded")


_SELECT_SNAPSHOTS = "SELECT venv_path, taken_at, python_version, packages FROM snapshots"


def latest_snapshot(db: Database, venv: Path, at: datetime | None = None) -> Snapshot | None:
    """The newest snapshot of ``venv`` (taken at or before ``at`` when given)."""
    limit = _ts(at) if at else "9999"
    row = db.conn.execute(
        _SELECT_SNAPSHOTS + " WHERE venv_path = ? AND taken_at <= ? "
        "ORDER BY taken_at DESC, id DESC LIMIT 1",
        (str(venv), limit),
    ).fetchone()
    return _snapshot(row) if row else None


def snapshots(db: Database, venv: Path) -> list[Snapshot]:
    """Every snapshot of ``venv``, oldest first."""
    rows = db.conn.execute(
        _SELECT_SNAPSHOTS + " WHERE venv_path = ? ORDER BY taken_at, id",
        (str(venv),),
    )
    return [_snapshot(r) for r in rows]


# --- events ----------------------------------------------------------------------------------


def _insert_event(
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
        _insert_event(conn, _ts(at or now()), path, kind, message, data)


def events(
    db: Database, venv_path: Path | None = None, since: datetime | None = None
) -> list[Event]:
    """Events oldest first: one venv's, or every event when ``venv_path`` is None."""
    sql = "SELECT id, at, venv_path, kind, message, data FROM events WHERE at >= ?"
    args: list[Any] = [_ts(since) if since else ""]
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
        _parse_ts(at),
        Path(venv) if venv else None,
        kind,
        message,
        parsed if isinstance(parsed, dict) else None,
    )


def forget_venv(db: Database, path: Path) -> int:
    """Drop a venv from the registry with its snapshots; returns how many snapshots went.
    The event log keeps its history, plus a "forgotten" event."""
    with db.transaction() as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM snapshots WHERE venv_path = ?", (str(path),)
        ).fetchone()
        conn.execute("DELETE FROM snapshots WHERE venv_path = ?", (str(path),))
        conn.execute("DELETE FROM venvs WHERE path = ?", (str(path),))
        _insert_event(
            conn, _ts(now()), str(path), "forgotten", "forgotten at the user's request", None
        )
    return int(count)


# --- the rebuild journal ---------------------------------------------------------------------


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
