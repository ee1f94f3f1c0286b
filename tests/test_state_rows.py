"""Reading the state DB never crashes a command: damaged rows are skipped with one
warning per table; a database another user owns is an error naming the owner and the
fix, and is left where it is."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support import IN_CI, make_venv, real_python
from venv_doctor.cli import run
from venv_doctor.paths import app_dirs
from venv_doctor.record import state

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (
    ["check"],
    ["check", "--json"],
    ["history"],
    ["history", "--json"],
    ["history", "proj"],
    ["requirements", "proj", "--source", "recorded"],
    ["restore", "proj", "--list"],
    ["gc", "--dry-run"],
    ["status"],
)


@pytest.fixture
def recorded(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    venv = make_venv(real_python("3.12"), isolated_home / ".multivenv" / "proj")
    assert run(["check"]) == 0
    capsys.readouterr()
    return venv


def damage(rows: list[tuple[str, tuple[object, ...]]]) -> None:
    conn = sqlite3.connect(app_dirs(os.environ).database)
    with conn:
        for sql, args in rows:
            conn.execute(sql, args)
    conn.close()


DAMAGED = [
    # the registry: an empty path, a timestamp that is no time, a name that is a number
    (
        "INSERT INTO venvs VALUES (?, ?, ?, NULL, NULL, ?, ?, NULL, NULL, NULL, NULL)",
        ("", "empty", "multivenv", "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00"),
    ),
    (
        "INSERT INTO venvs VALUES (?, ?, ?, NULL, NULL, ?, ?, NULL, NULL, NULL, NULL)",
        ("/gone/one", "one", "multivenv", "yesterday", "2024-01-01T00:00:00+00:00"),
    ),
    (
        "INSERT INTO venvs VALUES (?, ?, ?, NULL, NULL, ?, ?, NULL, NULL, NULL, NULL)",
        ("/gone/two", 42, "multivenv", "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00"),
    ),
    # invalid UTF-8 in a text column (a byte flip)
    (
        "INSERT INTO venvs VALUES (CAST(? AS TEXT), ?, ?, NULL, NULL, ?, ?, NULL, NULL, NULL, NULL)",
        (b"/gone/\xff", "flip", "multivenv", "2024-01-01T00:00:00+00:00", "2024-01-01"),
    ),
    # snapshots: packages that are not JSON, or JSON nested 5,000 deep
    ("INSERT INTO snapshots VALUES (NULL, ?, ?, 'h1', NULL, ?, NULL)", (None, "2999-01-01", "{")),
    (
        "INSERT INTO snapshots VALUES (NULL, ?, ?, 'h2', NULL, ?, NULL)",
        (None, "2999-01-02", "[" * 5000),
    ),
    # a snapshot stored as a change from one that does not exist, and one based on itself
    ("INSERT INTO snapshots VALUES (NULL, ?, ?, 'h3', NULL, NULL, 99999)", (None, "2999-01-03")),
    ("INSERT INTO snapshots VALUES (77777, ?, ?, 'h4', NULL, NULL, 77777)", (None, "2999-01-04")),
    # a package row that is not JSON, and a snapshot listing it and a package row that is gone
    ("INSERT INTO packages VALUES (99999, '{not json')", ()),
    ("INSERT INTO snapshots VALUES (88888, ?, ?, 'h5', NULL, NULL, NULL)", (None, "2999-01-05")),
    ("INSERT INTO snapshot_packages VALUES (88888, 0, 99999, 0)", ()),
    ("INSERT INTO snapshot_packages VALUES (88888, 1, 123456, 0)", ()),
    # events: a time that is no time, a kind that is a number
    ("INSERT INTO events VALUES (NULL, 'never', NULL, 'repair', 'x', NULL)", ()),
    ("INSERT INTO events VALUES (NULL, '2024-01-01', NULL, 7, 'x', '[[[')", ()),
    # the journal: an unknown step, an empty backup path, a process group of 1
    (
        "INSERT INTO journal (venv, backup, action, step, started_at, updated_at)"
        " VALUES (?, ?, 'rebuild', 'teleporting', 0, 0)",
        ("/gone/three", "/gone/three.bak"),
    ),
    (
        "INSERT INTO journal (venv, backup, action, step, started_at, updated_at, outcome)"
        " VALUES (?, '', 'restore', 'moving', 0, 0, 'committed')",
        ("/gone/four",),
    ),
    (
        "INSERT INTO journal (venv, backup, action, step, started_at, updated_at, pgid)"
        " VALUES (?, ?, 'rebuild', 'creating', 0, 0, 1)",
        ("/gone/five", "/gone/five.bak"),
    ),
]


def test_damaged_rows_are_skipped_with_a_warning_by_every_command(
    recorded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage([(sql, tuple(str(recorded) if a is None else a for a in args)) for sql, args in DAMAGED])
    for command in COMMANDS:
        code = run(command)
        out, err = capsys.readouterr()
        assert code not in (2, 70), (command, out, err)
        assert "Traceback" not in out + err
    run(["history"])
    out, err = capsys.readouterr()
    assert "damaged row" in err and "proj" in out  # the good rows are still shown
    assert run(["requirements", "proj", "--source", "recorded"]) == 0  # the good snapshot
    assert app_dirs(os.environ).database.exists()  # not moved aside: the database is not damaged
    assert not list(app_dirs(os.environ).state.glob("state.db.corrupt-*"))


def test_a_database_another_user_owns_is_named_with_the_fix_and_left_alone(
    tmp_path: Path,
) -> None:
    """After `sudo -E venv-doctor ...` the state DB belongs to root. Run as root here,
    so the "other user" is nobody (uid 65534), with setpriv; as another user, the
    database is made unwritable instead (the message then says so)."""
    base = Path(tempfile.mkdtemp(prefix="vd-owner-", dir="/tmp"))  # readable by nobody
    try:
        dirs = {name: base / name for name in ("config", "state", "cache", "log", "home")}
        for path in dirs.values():
            path.mkdir()
        with state.open_db(app_dirs({"VENV_DOCTOR_STATE_DIR": str(dirs["state"])})):
            pass
        database = dirs["state"] / "state.db"
        done = _run_as_other_user(base, dirs, database)
        assert done.returncode == 1, (
            done.stdout,
            done.stderr,
            oct(database.stat().st_mode),
            database.stat().st_uid,
        )
        assert f"{database}: the state database belongs to" in done.stderr, done.stderr
        assert "chown" in done.stderr or "chmod" in done.stderr
        assert database.exists() and not list(dirs["state"].glob("state.db.corrupt-*"))
    finally:
        shutil.rmtree(base)


def _run_as_other_user(
    base: Path, dirs: dict[str, Path], database: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(dirs["home"]),
        **{f"VENV_DOCTOR_{k.upper()}_DIR": str(v) for k, v in dirs.items() if k != "home"},
    }
    if os.geteuid() != 0:
        database.chmod(0o400)
        cmd = [sys.executable, "-m", "venv_doctor", "history"]
        return subprocess.run(
            cmd, env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
    python = _python_for_nobody()
    for path in [base, *dirs.values()]:
        path.chmod(0o755)
    os.chown(dirs["state"], 65534, 65534)  # the directory is the user's, the file root's
    site = next((ROOT / ".venv" / "lib").glob("python*/site-packages"))
    env["PYTHONPATH"] = f"{ROOT / 'src'}:{site}"
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*cmd, str(python), "-m", "venv_doctor", "history"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _python_for_nobody() -> Path:
    """An interpreter of this minor that another user can run (pyenv's lives in /root)."""
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (Path(f"/usr/bin/python{minor}"), Path(f"/usr/local/bin/python{minor}")):
        if candidate.exists() and shutil.which("setpriv"):
            return candidate
    message = f"no python{minor} outside /root and no setpriv to run as another user"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable
