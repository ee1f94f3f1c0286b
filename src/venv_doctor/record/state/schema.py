"""The state DB's schema: migrations, appended to and never edited.

Each migration is a list of statements run in one transaction; its position + 1 is the
schema version (``PRAGMA user_version``) it brings the database to.
"""

from __future__ import annotations

# Which snapshot rows of schema 4 (the package list as JSON text in ``packages``) convert
# to package rows: a JSON array of objects. Any other text (a damaged row, which reading
# skips with a warning) stays as it was, so the conversion loses nothing.
_CONVERTIBLE = """CASE WHEN typeof(packages) = 'text' AND json_valid(packages) THEN
    json_type(packages) = 'array'
    AND NOT EXISTS (SELECT 1 FROM json_each(packages) WHERE type != 'object')
    ELSE 0 END"""
_CONVERTED_LIST = "json_each(CASE WHEN s.unconverted IS NULL THEN s.packages ELSE '[]' END) j"

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
        # Deduplicated package lists: one ``packages`` row per distinct package record
        # (name, version, source...: the JSON a snapshot held for it), shared by every
        # snapshot of every venv that holds it; a snapshot lists its rows in order. A
        # changed venv then costs one small row per package it holds, not the whole list
        # again as text. A package row no snapshot uses any more goes with the last
        # snapshot that did (found through ``snapshot_packages_by_package``).
        "CREATE TABLE packages (id INTEGER PRIMARY KEY, record TEXT NOT NULL UNIQUE)",
        """CREATE TABLE snapshot_packages (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            package_id INTEGER NOT NULL REFERENCES packages (id),
            PRIMARY KEY (snapshot_id, position)
        ) WITHOUT ROWID""",
        # ``snapshots.packages`` becomes NULL (the list is in snapshot_packages) or, for a
        # row that did not convert, the text it held
        "ALTER TABLE snapshots ADD COLUMN unconverted TEXT",
        # (the f-strings below join constants of this module: no outside text)
        f"UPDATE snapshots SET unconverted = packages WHERE NOT ({_CONVERTIBLE})",  # noqa: S608
        f"INSERT OR IGNORE INTO packages (record) SELECT j.value FROM snapshots s, {_CONVERTED_LIST}",  # noqa: S608
        f"""INSERT INTO snapshot_packages (snapshot_id, position, package_id)
            SELECT s.id, j.key, p.id FROM snapshots s, {_CONVERTED_LIST}
            JOIN packages p ON p.record = j.value""",  # noqa: S608
        "CREATE INDEX snapshot_packages_by_package ON snapshot_packages (package_id)",
        "ALTER TABLE snapshots DROP COLUMN packages",
        "ALTER TABLE snapshots RENAME COLUMN unconverted TO packages",
    ),
    (
        # A snapshot stored as the change from the venv's snapshot before it (base_id):
        # its snapshot_packages rows are the packages put in, and (removed = 1) the
        # ones taken out. Rows of schema 5 hold whole lists (base_id NULL) and stay so.
        "ALTER TABLE snapshots ADD COLUMN base_id INTEGER REFERENCES snapshots (id)",
        "CREATE INDEX snapshots_by_base ON snapshots (base_id)",
        "ALTER TABLE snapshot_packages ADD COLUMN removed INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # where a rebuild makes the new venv when that is not the old venv's path: poetry
        # and pdm name an env for its minor, so a rebuild onto another minor moves it
        "ALTER TABLE journal ADD COLUMN dest TEXT",
    ),
    (
        # what pipx and uv record about a tool venv (``files``: JSON, name -> text of
        # pipx_metadata.json, uv-receipt.toml...) and the links to its apps they made
        # outside it (``links``: JSON [link, target] pairs), kept while the venv is there:
        # a venv its owner uninstalled is recreated with its records and links
        """CREATE TABLE owner_records (
            venv_path TEXT PRIMARY KEY,
            taken_at TEXT NOT NULL,
            files TEXT NOT NULL,
            links TEXT NOT NULL
        )""",
    ),
]
