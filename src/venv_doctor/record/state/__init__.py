"""The state database: known venvs, their requirement snapshots, an event log and
the rebuild journal. This package is its one owner: every table, its migrations,
its SQL and its connections (each closed by a context manager) live here.

One SQLite file (``state.db`` in the state directory; file 0600, directory 0700)
shared by the CLI and the daemon: WAL mode so readers never block the writer, a
busy timeout so two writers wait for each other instead of failing with
"database is locked", and every write inside a transaction. The schema version
is ``PRAGMA user_version``: later issues append to ``schema.MIGRATIONS``, never
edit one.

A database SQLite cannot read (corrupt, half written, not a database) is moved
aside as ``state.db.corrupt-<timestamp>`` and a fresh one started, with a
warning for the caller: recording must never stop ``check`` from working.

- ``core``: opening, transactions, migrating, moving a damaged file aside
- ``schema``: the migrations
- ``venv_rows``, ``snapshot_rows``, ``event_rows``, ``journal_rows``, ``owner_rows``: one
  concern each
  (snapshot_rows: snapshots and the package rows they share)
"""

from __future__ import annotations

from venv_doctor.record.state.core import (
    BUSY_TIMEOUT_SECONDS,
    Database,
    StateError,
    is_damaged,
    kept_open,
    move_aside,
    now,
    open_at,
    open_db,
    using,
)
from venv_doctor.record.state.event_rows import (
    Event,
    append_event,
    event_times,
    events,
    latest_events,
)
from venv_doctor.record.state.journal_rows import (
    JournalRow,
    has_open_journal_entries,
    journal_begin,
    journal_finish,
    journal_get,
    journal_made,
    journal_open,
    journal_step,
    journal_with_outcome,
)
from venv_doctor.record.state.owner_rows import OwnerRecord, owner_record, record_owner_records
from venv_doctor.record.state.schema import MIGRATIONS
from venv_doctor.record.state.snapshot_rows import (
    delete_snapshots,
    latest_snapshot,
    record_snapshot,
    snapshot_times,
    snapshots,
)
from venv_doctor.record.state.venv_rows import (
    Evidence,
    Sighting,
    VenvRecord,
    find_venvs,
    fingerprints,
    forget_venv,
    move_venv,
    record_venvs,
    venv_records,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "MIGRATIONS",
    "Database",
    "Event",
    "Evidence",
    "JournalRow",
    "OwnerRecord",
    "Sighting",
    "StateError",
    "VenvRecord",
    "append_event",
    "delete_snapshots",
    "event_times",
    "events",
    "find_venvs",
    "fingerprints",
    "forget_venv",
    "has_open_journal_entries",
    "is_damaged",
    "journal_begin",
    "journal_finish",
    "journal_get",
    "journal_made",
    "journal_open",
    "journal_step",
    "journal_with_outcome",
    "kept_open",
    "latest_events",
    "latest_snapshot",
    "move_aside",
    "move_venv",
    "now",
    "open_at",
    "open_db",
    "owner_record",
    "record_owner_records",
    "record_snapshot",
    "record_venvs",
    "snapshot_times",
    "snapshots",
    "using",
    "venv_records",
]
