"""Opening the state database: connections, transactions, migrations, and moving
a damaged file aside (see the package's docstring for the rules)."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import UnreadableFileError, check_regular, ensure_private_dir
from venv_doctor.paths import AppDirs
from venv_doctor.record.state import schema
from venv_doctor.render.sanitize import command, printable

T = TypeVar("T")
log = logging.getLogger(__name__)
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


# --- reading rows that may be damaged: each raises ValueError, and ``Database.decoded``
# skips the row ---------------------------------------------------------------------------


def stored_path(value: object) -> Path:
    """A path column as venv-doctor writes it: a non-empty absolute UTF-8 path."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValueError(f"not an absolute path: {value!r:.80}")
    value.encode("utf-8")  # a byte flip made it undecodable: UnicodeEncodeError, a ValueError
    return Path(value)


def text_or_none(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"not text: {value!r:.80}")
    return value


def text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not text: {value!r:.80}")
    return value


def integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r:.80}")
    return value


def path_param(path: Path | str) -> str:
    """A path to store; one that is not UTF-8 (an undecodable file name) cannot be."""
    value = str(path)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise StateError(
            f"{printable(value)}: the path is not UTF-8 text, so the state database cannot "
            "record it",
            hint="rename the venv (or its directory) to a UTF-8 name",
        ) from None
    return value


def _decode_text(raw: bytes) -> str:
    """TEXT columns as str even when a byte flip made them invalid UTF-8."""
    return raw.decode("utf-8", "surrogateescape")


class Database:
    """An open state database; use as a context manager or call ``close``."""

    def __init__(self, conn: sqlite3.Connection, path: Path, warnings: Sequence[str]) -> None:
        self.conn = conn
        self.path = path
        self._warnings = list(warnings)
        self._skipped: dict[str, tuple[int, str]] = {}  # table -> (rows skipped, first reason)
        self._depth = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the caller should show: a database moved aside, damaged rows skipped."""
        skipped = [
            f"{self.path}: {count} damaged row{'s' if count > 1 else ''} of {table} skipped "
            f"({reason})"
            for table, (count, reason) in self._skipped.items()
        ]
        return (*self._warnings, *skipped)

    def decoded(self, rows: Iterable[Any], decode: Callable[[Any], T], table: str) -> list[T]:
        """``decode`` applied to each row; a row that does not decode is skipped, and the
        table gets one warning: a damaged row must not stop any command."""
        out = []
        for row in rows:
            try:
                out.append(decode(row))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                count, reason = self._skipped.get(table, (0, f"{type(exc).__name__}: {exc}"))
                self._skipped[table] = (count + 1, reason)
                if count == 0 and table == "journal":
                    log.warning("%s", self.warnings[-1])  # the journal is read outside `using`
        return out

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
    check_usable(path)
    _create_private(path)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    conn.text_factory = _decode_text
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


def check_usable(path: Path) -> None:
    """Refuse, naming the file, what SQLite would block on or must not replace.

    A FIFO, a device, a directory or a dangling link in place of the database is
    the user's to sort out (SQLite would hang on a FIFO, or create the link's
    target); so is a database another user owns (``sudo -E venv-doctor ...``),
    which is not damaged and must not be moved aside.
    """
    try:
        check_regular(path)
    except UnreadableFileError as exc:
        raise StateError(
            f"{path} {exc.strerror}: venv-doctor keeps its state database there",
            hint=f"move {path} away; venv-doctor then starts a new database",
        ) from exc
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        _check_access(file)
    _check_access(path.parent, directory=True)


def _check_access(path: Path, directory: bool = False) -> None:
    if not os.path.exists(path) or os.access(path, os.R_OK | os.W_OK):
        return
    try:
        st = os.stat(path)
    except OSError:
        return
    what = "directory" if directory else "state database"
    me = _user_name(os.geteuid())
    if st.st_uid != os.geteuid():
        message = (
            f"{path}: the {what} belongs to {_user_name(st.st_uid)}, and you ({me}) cannot write it"
        )
        where = path if directory else path.parent
        give = command("sudo", "chown", "-R", me.split()[0], str(where))
        hint = f"an earlier `sudo venv-doctor` made it; give it back: `{give}`"
    else:
        message = f"{path}: the {what} is not writable (mode {st.st_mode & 0o777:o})"
        mode = "u+rwx" if directory else "u+rw"
        hint = f"make it writable again: `{command('chmod', mode, str(path))}`"
    raise StateError(message, hint=hint)


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (KeyError, ImportError):
        return f"uid {uid}"


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
    _reclaim(conn, path)


def _reclaim(conn: sqlite3.Connection, path: Path) -> None:
    """Give the space a migration freed back to the file system (schema 5 replaced every
    package list by shared rows) when over a quarter of the file is free. Best effort: a
    failure leaves a larger file, which SQLite fills again before it grows."""
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    if free * 4 <= pages:
        return
    try:
        conn.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        log.info("%s: not compacted after the migration: %s", path, exc)


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


@contextlib.contextmanager
def kept_open(dirs: AppDirs) -> Iterator[None]:
    """Hold a connection open for the length of a command that opens the database
    several times (a repair: the journal, the pins, the events, the new status).

    SQLite checkpoints the WAL into the database, with three ``fdatasync`` calls, when
    the last connection to it closes: without a connection held, every ``open_db``
    and close pays that (~20 ms of wall clock and ~1.5 ms of CPU each). With one,
    the WAL is checkpointed once, when this one closes. Nothing is less durable
    against a kill: a commit is in the WAL (``synchronous = NORMAL``) either way.
    Best effort: a database that cannot be opened is left to the calls that need it.
    """
    try:
        held: Database | None = open_db(dirs)
    except StateError:
        held = None
    for warning in held.warnings if held else ():
        log.warning("%s", warning)  # a damaged file moved aside: said once, here
    try:
        yield
    finally:
        if held is not None:
            held.close()


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
