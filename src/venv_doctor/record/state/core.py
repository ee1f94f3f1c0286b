"""Opening the state database: connections, transactions, migrations, and moving
a damaged file aside (see the package's docstring for the rules)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import ensure_private_dir
from venv_doctor.paths import AppDirs
from venv_doctor.record.state import schema

T = TypeVar("T")
BUSY_TIMEOUT_SECONDS = 10.0
_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN})


class StateError(VenvDoctorError):
    """The state database cannot be used (locked too long, unwritable, too new)."""


def now() -> datetime:
    return datetime.now(UTC)


def ts(when: datetime) -> str:
    """Stored timestamps: UTC ISO 8601 with microseconds, so text order is time order."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def parse_ts(text: str) -> datetime:
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
    if _user_version(conn) == len(schema.MIGRATIONS):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # another process may have migrated meanwhile
        if version > len(schema.MIGRATIONS):
            raise StateError(
                f"{path} has schema version {version}; this venv-doctor knows up to "
                f"{len(schema.MIGRATIONS)} (a newer venv-doctor wrote it)",
                hint="upgrade venv-doctor",
            )
        for number, statements in enumerate(schema.MIGRATIONS[version:], start=version + 1):
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
