"""The state DB's schema: migrations, appended to and never edited.

Each migration is a list of statements run in one transaction; its position + 1 is the
schema version (``PRAGMA user_version``) it brings the database to.
"""

from __future__ import annotations

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
    (
        # the interpreter a venv ran on when last seen: a venv that vanished while it is
        # still installed was removed on purpose; one that vanished with it is broken
        "ALTER TABLE venvs ADD COLUMN base TEXT",
        # the status the last deep check saw: a static check that cannot see what it saw (a
        # copied binary that will not start) does not record the venv healthier
        "ALTER TABLE venvs ADD COLUMN deep_status TEXT",
    ),
    (
        # where a rebuild makes the new venv when that is not the old venv's path: poetry
        # and pdm name an env for its minor, so a rebuild onto another minor moves it
        "ALTER TABLE journal ADD COLUMN dest TEXT",
    ),
]
