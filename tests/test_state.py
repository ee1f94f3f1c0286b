from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.paths import AppDirs, app_dirs
from venv_doctor.record import state
from venv_doctor.record.state import Sighting, StateError, schema

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def dirs() -> AppDirs:
    return app_dirs(os.environ)


def sighting(path: str = "/v/one", status: str | None = "healthy", **kw: str) -> Sighting:
    return Sighting(
        Path(path),
        kw.get("name", Path(path).name),
        kw.get("store", "multivenv"),
        "venv",
        "3.12.1",
        status,
    )


def snap(path: str, when: datetime, *packages: tuple[str, str]) -> Snapshot:
    pkgs = tuple(Package(n, v, True, "index") for n, v in packages)
    return Snapshot(Path(path), when, "3.12.1", pkgs, "disk")


def test_new_database_is_private_wal_and_migrated(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db:
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(state.MIGRATIONS)
        assert db.warnings == ()
    assert stat.S_IMODE(dirs.database.stat().st_mode) == 0o600
    assert stat.S_IMODE(dirs.state.stat().st_mode) == 0o700


def test_registry_upsert_and_status_events(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db:
        assert state.record_venvs(db, [sighting(), sighting("/v/two")], at=T0) == 2
        assert state.record_venvs(db, [sighting()], at=T0 + timedelta(hours=1)) == 0
        assert state.record_venvs(db, [sighting(status="broken")], at=T0 + timedelta(hours=2)) == 1
        assert state.record_venvs(db, [sighting(status=None)], at=T0 + timedelta(hours=3)) == 0
        record = state.venv_records(db)[Path("/v/one")]
        assert (record.first_seen, record.last_seen) == (T0, T0 + timedelta(hours=3))
        assert record.last_status == "broken"
        kinds = [(e.kind, e.message) for e in state.events(db, Path("/v/one"))]
        assert kinds == [
            ("discovered", "first seen in multivenv (healthy)"),
            ("status", "healthy -> broken"),
        ]
        assert len(state.events(db)) == 3


def test_registry_but_the_venvs_a_check_found(dirs: AppDirs) -> None:
    """``skip`` leaves out the found paths and nothing else: same records, same order,
    and a damaged row is still skipped with its warning."""
    paths = [f"/v/{n}" for n in ("m", "b", "z", "a", "q")]
    with state.open_db(dirs) as db:
        state.record_venvs(db, [sighting(p) for p in paths], at=T0)
        db.conn.execute(
            "INSERT INTO venvs (path, name, store, first_seen, last_seen) VALUES (?, 'x', 's', ?, ?)",
            (b"/v/\xff", "t", "t"),  # a BLOB where a path belongs
        )
        every = state.venv_records(db)
        assert db.warnings and "1 damaged row of venvs" in db.warnings[0]
    for skip in ({"/v/b", "/v/a"}, set(paths), {"/v/none"}):
        with state.open_db(dirs) as db:
            some = state.venv_records(db, skip)
            assert list(some.items()) == [(k, v) for k, v in every.items() if str(k) not in skip]
            assert db.warnings and "1 damaged row of venvs" in db.warnings[0]


def test_find_venvs_by_path_or_name(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db:
        state.record_venvs(db, [sighting("/v/a/proj"), sighting("/v/b/proj", store="pipx")])
        assert [r.path for r in state.find_venvs(db, "/v/a/proj")] == [Path("/v/a/proj")]
        assert [r.path for r in state.find_venvs(db, "proj")] == [
            Path("/v/a/proj"),
            Path("/v/b/proj"),
        ]
        assert state.find_venvs(db, "nothing") == []


def test_unchanged_snapshot_adds_no_row_and_newest_wins(dirs: AppDirs) -> None:
    a1 = snap("/v/one", T0, ("tinyleaf", "1.0.0"))
    b = snap("/v/one", T0 + timedelta(days=1), ("tinyleaf", "1.1.0"))
    a2 = snap("/v/one", T0 + timedelta(days=2), ("tinyleaf", "1.0.0"))
    with state.open_db(dirs) as db:
        state.record_venvs(db, [sighting()])
        assert state.record_snapshot(db, a1)
        assert not state.record_snapshot(
            db, snap("/v/one", T0 + timedelta(hours=1), ("tinyleaf", "1.0.0"))
        )
        assert state.record_snapshot(db, b)
        assert state.record_snapshot(db, a2)  # back to the first content
        rows = db.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        assert rows == 2
        latest = state.latest_snapshot(db, Path("/v/one"))
        assert latest is not None
        assert latest.packages == a2.packages
        assert latest.taken_at == a2.taken_at
        assert latest.source == "recorded"
        middle = state.latest_snapshot(db, Path("/v/one"), at=T0 + timedelta(days=1, hours=1))
        assert middle is not None
        assert middle.packages == b.packages
        assert state.latest_snapshot(db, Path("/v/one"), at=T0 - timedelta(days=1)) is None
        assert [s.taken_at for s in state.snapshots(db, Path("/v/one"))] == [
            b.taken_at,
            a2.taken_at,
        ]


def test_snapshot_needs_a_registered_venv(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db, pytest.raises(sqlite3.IntegrityError):
        state.record_snapshot(db, snap("/v/unknown", T0))


def test_events_with_and_without_a_venv(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db:
        state.append_event(db, "daemon", "watching 3 directories", at=T0)
        state.append_event(db, "repair", "relinked", Path("/v/one"), {"to": "3.12.2"}, at=T0)
        every = state.events(db)
        assert [(e.kind, e.venv_path, e.data) for e in every] == [
            ("daemon", None, None),
            ("repair", Path("/v/one"), {"to": "3.12.2"}),
        ]
        assert [e.kind for e in state.events(db, Path("/v/one"))] == ["repair"]
        assert state.events(db, since=T0 + timedelta(seconds=1)) == []


def test_garbage_database_is_moved_aside_and_a_new_one_started(dirs: AppDirs) -> None:
    dirs.state.mkdir(parents=True)
    dirs.database.write_bytes(b"this is not sqlite " * 300)
    with state.open_db(dirs) as db:
        (warning,) = db.warnings
        state.record_venvs(db, [sighting()])
    (aside,) = dirs.state.glob("state.db.corrupt-*")
    assert warning.startswith(f"{dirs.database} could not be read (file is not a database)")
    assert f"moved to {aside}" in warning
    assert aside.read_bytes().startswith(b"this is not sqlite")
    with state.open_db(dirs) as db:
        assert db.warnings == ()
        assert Path("/v/one") in state.venv_records(db)


def test_half_written_database_is_recovered_mid_action(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db:
        state.record_venvs(db, [sighting(f"/v/{i}") for i in range(400)])
        for i in range(400):
            state.record_snapshot(db, snap(f"/v/{i}", T0, ("pkg", f"1.{i}")))
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = dirs.database.read_bytes()
    dirs.database.write_bytes(data[: len(data) // 2])

    def count(db: state.Database) -> int:
        state.record_venvs(db, [sighting("/v/new")])
        return len(state.venv_records(db))

    result, warnings = state.using(dirs, count)
    assert result == 1  # a fresh database holding only what was just written
    assert any("moved to" in w for w in warnings)
    assert list(dirs.state.glob("state.db.corrupt-*"))


def test_a_directory_in_the_way_is_an_error_naming_it_and_left_alone(dirs: AppDirs) -> None:
    dirs.database.mkdir(parents=True)
    with pytest.raises(StateError, match=f"{dirs.database} is a directory, not a regular file"):
        state.open_db(dirs)
    assert dirs.database.is_dir()
    assert not list(dirs.state.glob("state.db.corrupt-*"))


def test_newer_schema_is_refused_and_left_alone(dirs: AppDirs) -> None:
    with state.open_db(dirs) as db:
        db.conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="schema version 99"):
        state.open_db(dirs)
    assert not list(dirs.state.glob("state.db.corrupt-*"))


def test_later_migrations_are_applied_on_open(
    dirs: AppDirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    with state.open_db(dirs) as db:
        state.record_venvs(db, [sighting()])
    extra = ("CREATE TABLE later (id INTEGER PRIMARY KEY, venv_path TEXT)",)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    with state.open_db(dirs) as db:
        assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
        assert db.conn.execute("SELECT count(*) FROM later").fetchone()[0] == 0
        assert Path("/v/one") in state.venv_records(db)


def test_a_writer_waits_for_another_instead_of_failing(dirs: AppDirs) -> None:
    holder = state.open_db(dirs)
    holder.conn.execute("BEGIN IMMEDIATE")
    holder.conn.execute(
        "INSERT INTO events (at, kind, message) VALUES (?, 'hold', 'm')", (T0.isoformat(),)
    )
    released = threading.Timer(0.5, lambda: holder.conn.execute("COMMIT"))
    released.start()
    try:
        with state.open_db(dirs) as db:
            state.append_event(db, "after", "waited")
            assert [e.kind for e in state.events(db)] == ["hold", "after"]
    finally:
        released.join()
        holder.close()


WRITER = """
import os
import sys
from pathlib import Path
from venv_doctor.record import state
from venv_doctor.paths import app_dirs
with state.open_db(app_dirs(os.environ)) as db:
    for i in range(40):
        state.record_venvs(db, [state.Sighting(Path(f"/v/{sys.argv[1]}/{i}"), "n", "s", None, None, "healthy")])
        state.append_event(db, "tick", sys.argv[1])
"""


def test_concurrent_processes_never_see_database_is_locked(dirs: AppDirs) -> None:
    state.open_db(dirs).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(n)], stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with state.open_db(dirs) as db:
        assert len(state.venv_records(db)) == 120
        assert len(state.events(db)) == 120 + 120  # discovered + tick


def test_a_static_check_keeps_the_worse_status_a_deep_check_saw(dirs: AppDirs) -> None:
    """A copied binary that only a deep check could see fail is not recorded healthy
    by the next static check; a new deep check or a repair clears what was kept."""
    from dataclasses import replace

    from venv_doctor.record.state import Evidence

    def status_after(*sightings: Sighting) -> str | None:
        with state.open_db(dirs) as db:
            state.record_venvs(db, list(sightings))
            return state.venv_records(db)[Path("/v/one")].last_status

    broken = replace(sighting(status="broken"), evidence=Evidence.DEEP)
    assert status_after(broken) == "broken"
    assert status_after(sighting(status="healthy")) == "broken"  # static: cannot see it
    assert status_after(sighting(status="degraded")) == "broken"
    assert status_after(replace(sighting(status="healthy"), evidence=Evidence.REPAIR)) == "healthy"
    assert status_after(sighting(status="healthy")) == "healthy"  # nothing kept any more
    assert status_after(broken) == "broken"
    assert status_after(replace(sighting(status="healthy"), evidence=Evidence.DEEP)) == "healthy"
    assert status_after(sighting(status="healthy")) == "healthy"


def test_a_held_connection_defers_the_checkpoint_to_its_close(dirs: AppDirs) -> None:
    """SQLite copies the WAL into the database (three fdatasyncs) when the last connection
    closes: ``kept_open`` makes that once per command, not once per open_db."""
    wal = Path(f"{dirs.database}-wal")
    with state.open_db(dirs) as db:
        state.append_event(db, "note", "plain")
    assert not wal.exists()  # the last close checkpointed it and removed the WAL
    with state.kept_open(dirs):
        with state.open_db(dirs) as db:
            state.append_event(db, "note", "held")
        assert wal.stat().st_size > 0  # written, not yet checkpointed
        with state.open_db(dirs) as db:  # yet every connection reads it
            assert [e.message for e in state.events(db)] == ["plain", "held"]
    assert not wal.exists()
    with state.open_db(dirs) as db:
        assert [e.message for e in state.events(db)] == ["plain", "held"]


def test_held_connection_on_an_unusable_database_is_no_error(dirs: AppDirs) -> None:
    dirs.database.parent.mkdir(parents=True, exist_ok=True)
    dirs.database.mkdir()  # a directory in its place: every call that needs it says so
    with state.kept_open(dirs), pytest.raises(StateError):
        state.open_db(dirs)


def test_owner_records_keep_the_latest_follow_a_move_and_go_when_forgotten(dirs: AppDirs) -> None:
    kept = state.OwnerRecord(Path("/v/one"), {"pipx_metadata.json": "{}"}, (("/b/x", "/v/one/x"),))
    newer = state.OwnerRecord(Path("/v/one"), {"pipx_metadata.json": '{"a": 1}'})
    with state.open_db(dirs) as db:
        state.record_venvs(db, [sighting()], at=T0)
        state.record_owner_records(db, [kept], at=T0)
        assert state.owner_record(db, Path("/v/one")) == kept
        state.record_owner_records(db, [newer], at=T0)
        assert state.owner_record(db, Path("/v/one")) == newer
        # the same records, and no link seen (a daemon looking elsewhere): links found stay
        state.record_owner_records(db, [kept], at=T0)
        state.record_owner_records(db, [replace(kept, links=())], at=T0)
        assert state.owner_record(db, Path("/v/one")) == kept
        state.record_owner_records(db, [newer], at=T0)
        state.move_venv(db, Path("/v/one"), Path("/v/two"), "two", "moved")
        assert state.owner_record(db, Path("/v/one")) is None
        assert state.owner_record(db, Path("/v/two")) == state.OwnerRecord(
            Path("/v/two"), newer.files
        )
        db.conn.execute("UPDATE owner_records SET links = '[1]'")  # damaged: skipped
        assert state.owner_record(db, Path("/v/two")) is None
        state.forget_venv(db, Path("/v/two"))
        assert db.conn.execute("SELECT count(*) FROM owner_records").fetchone()[0] == 0
