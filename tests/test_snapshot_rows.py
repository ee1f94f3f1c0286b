"""Snapshots stored as shared package rows: what goes in comes out exactly, a database
of schema 4 (each package list as JSON text) converts without losing a row, and a
migration killed half way leaves the old database as it was."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import make_venv, real_python
from venv_doctor.cli import run
from venv_doctor.model.distributions import KINDS, Package, Snapshot
from venv_doctor.paths import app_dirs
from venv_doctor.record import state
from venv_doctor.record.state import schema, snapshot_rows

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, tzinfo=UTC)
VENV = Path("/v/one")

names = st.sampled_from(["pip", "setuptools", "requests", "ünïcode", "a.b_c", "x" * 60])
packages = st.builds(
    Package,
    name=names,
    version=st.text(max_size=12),
    requested=st.booleans(),
    kind=st.sampled_from(sorted(KINDS)),
    url=st.one_of(st.none(), st.sampled_from(["file:///p", "git+https://u:t@h/r@abc"])),
    installer=st.one_of(st.none(), st.sampled_from(["pip", "uv"])),
    seeded=st.booleans(),
)
package_lists = st.lists(st.lists(packages, max_size=8), min_size=1, max_size=8)


def old_rows(shots: list[Snapshot]) -> list[tuple[str, str, str, str | None, str]]:
    """What venv-doctor before schema 5 stored for these snapshots (its INSERT's values)."""
    return [
        (
            str(s.venv),
            s.taken_at.isoformat(timespec="microseconds"),
            s.content_hash,
            s.python_version,
            json.dumps([p.to_record() for p in s.packages], separators=(",", ":")),
        )
        for s in shots
    ]


def schema_4(path: Path, rows: list[tuple[str, str, str, str | None, str]]) -> None:
    """A state DB as venv-doctor left it at schema 4, holding ``rows``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for statement in (s for migration in schema.MIGRATIONS[:4] for s in migration):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.executemany(
        "INSERT INTO venvs (path, name, store, first_seen, last_seen) VALUES (?, ?, 's', ?, ?)",
        [(v, Path(v).name, T0.isoformat(), T0.isoformat()) for v in {r[0] for r in rows}],
    )
    conn.executemany(
        "INSERT INTO snapshots (venv_path, taken_at, content_hash, python_version, packages) "
        "VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    conn.close()


def distinct_in_a_row(lists: list[list[Package]]) -> list[Snapshot]:
    shots: list[Snapshot] = []
    for i, items in enumerate(lists):
        shot = Snapshot(VENV, T0 + timedelta(hours=i), "3.12.1", tuple(items), "disk")
        if not shots or shots[-1].content_hash != shot.content_hash:
            shots.append(shot)
    return shots


def recorded(shot: Snapshot) -> Snapshot:
    return Snapshot(shot.venv, shot.taken_at, shot.python_version, shot.packages, "recorded")


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lists=package_lists)
def test_what_is_recorded_reads_back_exactly(tmp_path: Path, lists: list[list[Package]]) -> None:
    """Any sequence of package lists (repeated names, unicode, credentials, empty lists)
    comes back equal, in order; written as schema 4 and converted, too."""
    shots = [s for s in distinct_in_a_row(lists) if s.content_hash not in _seen_twice(lists)]
    for name in ("new.db", "old.db"):
        (tmp_path / name).unlink(missing_ok=True)
    with state.open_at(tmp_path / "new.db") as db:
        state.record_venvs(db, [_sighting()], at=T0)
        for shot in shots:
            assert state.record_snapshot(db, shot)
        assert state.snapshots(db, VENV) == [recorded(s) for s in shots]
        assert state.latest_snapshot(db, VENV) == recorded(shots[-1])
    schema_4(tmp_path / "old.db", old_rows(shots))
    with state.open_at(tmp_path / "old.db") as db:
        assert state.snapshots(db, VENV) == [recorded(s) for s in shots]
        assert db.warnings == ()


def _seen_twice(lists: list[list[Package]]) -> set[str]:
    """Contents a venv went back to move their row to the later time (tested in
    test_state); leave them out here, where each snapshot keeps its own time."""
    hashes = [s.content_hash for s in distinct_in_a_row(lists)]
    return {h for h in hashes if hashes.count(h) > 1}


def test_rows_that_did_not_decode_before_stay_as_they_were(tmp_path: Path) -> None:
    good = Snapshot(VENV, T0, "3.12.1", (Package("a", "1", True, "index"),), "disk")
    damaged: list[tuple[str, str, str, str | None, str]] = [
        (str(VENV), "2026-01-02", "h1", None, "{"),
        (str(VENV), "2026-01-03", "h2", None, "[" * 5000),
        (str(VENV), "2026-01-04", "h3", None, "[1, 2]"),
        (str(VENV), "2026-01-05", "h4", None, '[{"version": "1"}]'),  # no name
    ]
    schema_4(tmp_path / "state.db", old_rows([good]) + damaged)
    with state.open_at(tmp_path / "state.db") as db:
        assert state.snapshots(db, VENV) == [recorded(good)]
        assert "4 damaged rows of snapshots skipped" in db.warnings[0]
        kept = [r[0] for r in db.conn.execute("SELECT packages FROM snapshots ORDER BY taken_at")]
    assert kept == [None, *(row[4] for row in damaged[:3]), None]  # the last converted


def test_shared_package_rows_are_stored_once(tmp_path: Path) -> None:
    """Ten venvs holding the same 20 packages, each changing one package ten times:
    20 + 10 x 10 package rows, not 10 x 11 x 20; each change stored as one row."""
    base = [Package(f"p{i:02d}", "1.0", True, "index") for i in range(20)]
    with state.open_at(tmp_path / "state.db") as db:
        for v in range(10):
            venv = Path(f"/v/{v}")
            state.record_venvs(db, [_sighting(venv)], at=T0)
            for change in range(11):
                items = [Package("p00", f"2.{change}", True, "index"), *base[1:]]
                state.record_snapshot(
                    db, Snapshot(venv, T0 + timedelta(hours=change), None, tuple(items), "disk")
                )
        (count,) = db.conn.execute("SELECT count(*) FROM packages").fetchone()
        (members,) = db.conn.execute("SELECT count(*) FROM snapshot_packages").fetchone()
        (changes,) = db.conn.execute(
            "SELECT count(*) FROM snapshots WHERE base_id IS NOT NULL"
        ).fetchone()
        assert state.latest_snapshot(db, Path("/v/9")) is not None
    assert count == 19 + 11
    assert members == 10 * (20 + 10)  # a whole list each, then one package per change
    assert changes == 10 * 10


# --- snapshots stored as changes --------------------------------------------------------------

sorted_lists = st.lists(packages, max_size=8, unique_by=lambda p: p.name).map(
    lambda items: sorted(items, key=lambda p: p.name)  # as distributions.read returns them
)


@st.composite
def histories(draw: st.DrawFn) -> list[list[Package]]:
    """A venv's package lists over time: each one a few installs, upgrades and removals
    away from the one before, as a real venv changes."""
    lists = [draw(sorted_lists)]
    for _ in range(draw(st.integers(1, 12))):
        held = {p.name: p for p in lists[-1]}
        for name in draw(st.lists(names, max_size=2)):
            held.pop(name, None)
        for package in draw(st.lists(packages, max_size=2)):
            held[package.name] = package
        lists.append(sorted(held.values(), key=lambda p: p.name))
    return lists


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lists=histories(), doomed=st.sets(st.integers(0, 12)))
def test_changes_read_back_exactly_and_survive_deleting_any_snapshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lists: list[list[Package]], doomed: set[int]
) -> None:
    """Stored as changes (chains cut every 4 here), every snapshot reads back as it was
    recorded; after deleting any of them (those based on one re-stored whole), the rest
    still do, and no package row is left that no snapshot uses."""
    monkeypatch.setattr(snapshot_rows, "MAX_CHAIN", 4)
    shots = [s for s in distinct_in_a_row(lists) if s.content_hash not in _seen_twice(lists)]
    (tmp_path / "state.db").unlink(missing_ok=True)
    with state.open_at(tmp_path / "state.db") as db:
        state.record_venvs(db, [_sighting()], at=T0)
        for shot in shots:
            assert state.record_snapshot(db, shot)
        assert state.snapshots(db, VENV) == [recorded(s) for s in shots]
        ids = [id_ for id_, _ in state.snapshot_times(db, VENV)]
        gone = {ids[i] for i in doomed if i < len(ids)}
        assert state.delete_snapshots(db, gone) == len(gone)
        left = [recorded(s) for i, s in enumerate(shots) if ids[i] not in gone]
        assert state.snapshots(db, VENV) == left
        if left:
            assert state.latest_snapshot(db, VENV) == left[-1]
        unused = db.conn.execute(
            "SELECT count(*) FROM packages WHERE id NOT IN "
            "(SELECT package_id FROM snapshot_packages)"
        ).fetchone()[0]
        assert unused == 0
        assert db.warnings == ()


def test_a_snapshot_whose_base_goes_becomes_the_change_from_the_one_before_that(
    tmp_path: Path,
) -> None:
    """Nine packages; p01 upgraded, then p02. When the middle snapshot goes, the last is
    stored as the change from the first: two packages put in, not nine."""

    def held(*upgraded: str) -> list[Package]:
        names = [f"p{i:02d}" for i in range(9)]
        return [Package(n, "2.0" if n in upgraded else "1.0", True, "index") for n in names]

    shots = distinct_in_a_row([held(), held("p01"), held("p01", "p02")])
    with state.open_at(tmp_path / "state.db") as db:
        state.record_venvs(db, [_sighting()], at=T0)
        for shot in shots:
            state.record_snapshot(db, shot)
        first, middle, last = (id_ for id_, _ in state.snapshot_times(db, VENV))
        assert state.delete_snapshots(db, [middle]) == 1
        (base,) = db.conn.execute("SELECT base_id FROM snapshots WHERE id = ?", (last,)).fetchone()
        (rows,) = db.conn.execute(
            "SELECT count(*) FROM snapshot_packages WHERE snapshot_id = ?", (last,)
        ).fetchone()
        assert state.snapshots(db, VENV) == [recorded(shots[0]), recorded(shots[2])]
    assert (base, rows) == (first, 2)


# --- a migration killed half way ---------------------------------------------------------

CHILD = """
import sqlite3, sys
from pathlib import Path

real = sqlite3.connect

def connect(*args, **kwargs):
    conn = real(*args, **kwargs)
    def trace(sql):
        if sql.lstrip().startswith("INSERT INTO snapshot_packages"):
            print("converting", flush=True)
    conn.set_trace_callback(trace)
    return conn

sqlite3.connect = connect
from venv_doctor.record import state
state.open_at(Path(sys.argv[1])).close()
print("done", flush=True)
"""


def test_a_migration_killed_half_way_leaves_the_old_database_usable(tmp_path: Path) -> None:
    """A real process converts a database of 3,000 snapshots of 150 packages each and
    is killed (SIGKILL) while it fills ``snapshot_packages``: the database is still at
    schema 4 with every row, and the next open converts it completely."""
    lists = [
        tuple(Package(f"pkg{i}", f"1.{(i + n) % 50}", True, "index") for i in range(150))
        for n in range(30)
    ]
    shots = [
        Snapshot(Path(f"/v/{n % 100}"), T0 + timedelta(minutes=n), "3.12.1", lists[n // 100], "d")
        for n in range(3000)
    ]
    text = {id(items): old_rows([shots[n * 100]])[0][2:] for n, items in enumerate(lists)}
    rows = [
        (str(s.venv), s.taken_at.isoformat(timespec="microseconds"), *text[id(s.packages)])
        for s in shots
    ]
    database = tmp_path / "state.db"
    schema_4(database, rows)
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(database)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "converting\n"
        child.send_signal(signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 3000
    assert conn.execute("SELECT count(*) FROM snapshots WHERE packages LIKE '[{%'").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "snapshot_packages" not in tables
    conn.close()
    with state.open_at(database) as db:
        for n in (0, 1234, 2999):
            venv = Path(f"/v/{n % 100}")
            found = state.latest_snapshot(db, venv, shots[n].taken_at)
            assert found == recorded(shots[n])
        assert len(state.snapshots(db, Path("/v/7"))) == 30


def _sighting(path: Path = VENV) -> state.Sighting:
    return state.Sighting(path, path.name, "multivenv", "venv", "3.12.1", "healthy")


# --- what the commands print ------------------------------------------------------------------


def _install(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("")
    (info / "INSTALLER").write_text("pip\n")
    (info / "REQUESTED").write_text("")


def _uninstall(site: Path, name: str, version: str) -> None:
    shutil.rmtree(site / f"{name}-{version}.dist-info")


def as_schema_4(database: Path) -> None:
    """Turn a state DB back into the layout before schema 5: each snapshot's package list
    as JSON text (what venv-doctor wrote until then), everything else as it is."""
    with state.open_at(database) as db:
        shots = [s for venv in state.venv_records(db) for s in state.snapshots(db, venv)]
    create = [s for s in schema.MIGRATIONS[0] if "snapshots" in s.split("(")[0]]
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("BEGIN")
    for table in ("snapshot_packages", "packages", "snapshots"):
        conn.execute(f"DROP TABLE {table}")
    for statement in create:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO snapshots (venv_path, taken_at, content_hash, python_version, packages) "
        "VALUES (?, ?, ?, ?, ?)",
        old_rows(shots),
    )
    # a later migration's column and table outside the snapshot tables go too: migrating
    # again adds them
    conn.execute("ALTER TABLE journal DROP COLUMN dest")
    conn.execute("DROP TABLE owner_records")
    conn.execute("PRAGMA user_version = 4")
    conn.execute("COMMIT")
    conn.close()


def test_commands_print_the_same_from_stored_changes_as_from_the_lists_before(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real venv changes five times (installs, an upgrade, a removal), each recorded by
    `check`; `history` and `requirements --at` print the same from the snapshots stored
    as changes as from the same snapshots stored the old way (whole JSON lists) and
    converted."""
    venv = make_venv(real_python("3.12"), isolated_home / ".multivenv" / "proj")
    site = next(venv.glob("lib/python*/site-packages"))
    steps: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = [  # (installs, removals)
        ([], []),
        ([("alpha", "1.0"), ("beta", "1.0"), ("gamma", "1.0")], []),
        ([("beta", "2.0")], [("beta", "1.0")]),
        ([], [("alpha", "1.0")]),
        ([("delta", "0.1")], []),
    ]
    for installs, removals in steps:
        for name, version in removals:
            _uninstall(site, name, version)
        for name, version in installs:
            _install(site, name, version)
        assert run(["check"]) == 0
    capsys.readouterr()
    database = app_dirs(os.environ).database
    with state.open_at(database) as db:
        times = [s.taken_at for s in state.snapshots(db, venv)]
        (changes,) = db.conn.execute("SELECT count(*) FROM snapshots WHERE base_id IS NOT NULL")
    assert len(times) == len(steps) and changes[0] >= 3

    def outputs() -> list[str]:
        printed = []
        commands = [["history", "proj", "--json"], ["history", "proj"]]
        commands += [
            ["requirements", "proj", "--source", "recorded", "--at", t.isoformat()] for t in times
        ]
        for command in commands:
            assert run(command) == 0, command
            printed.append(capsys.readouterr().out)
        return printed

    stored_as_changes = outputs()
    as_schema_4(database)
    assert outputs() == stored_as_changes
    assert "beta==2.0" in stored_as_changes[-2] and "alpha" not in stored_as_changes[-1]
