"""Never block on a file: FIFOs, /dev/zero, directories and dangling links in place of
every file venv-doctor reads, through the real CLI (a subprocess with a timeout, so a
hang fails the test instead of stalling the suite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import make_venv, real_python
from venv_doctor import fsutil
from venv_doctor.fsutil import UnreadableFileError
from venv_doctor.paths import app_dirs

TIMEOUT = 30  # seconds; a run takes well under one


def venv_doctor(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process (the isolated environment is inherited)."""
    return subprocess.run(
        [sys.executable, "-m", "venv_doctor", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def assert_no_crash(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode != 70, done.stderr
    assert "Traceback" not in done.stdout + done.stderr


# --- what stands where a file should be ---------------------------------------------------


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def directory(path: Path) -> None:
    path.mkdir()


def dangling(path: Path) -> None:
    path.symlink_to(path.parent / "nothing-here")


HOSTILE: dict[str, Callable[[Path], None]] = {
    "fifo": fifo,
    "dev-zero": dev_zero,
    "directory": directory,
    "dangling-link": dangling,
}
# how each is described in a message
SAID = {
    "fifo": "is a FIFO (named pipe), not a regular file",
    "dev-zero": "is a character device, not a regular file",
    "directory": "is a directory",
    "dangling-link": "nothing-here",
}


def put(path: Path, kind: str) -> Path:
    if os.path.lexists(path):
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    HOSTILE[kind](path)
    return path


# --- fsutil ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_read_bounded_refuses_what_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = put(tmp_path / "file", kind)
    with pytest.raises(UnreadableFileError) as caught:
        fsutil.read_bounded(path, fsutil.SMALL_FILE)
    assert SAID[kind] in str(caught.value)
    assert str(path) in str(caught.value)


def test_read_bounded_reads_up_to_its_limit_and_no_more(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x" * 100)
    assert fsutil.read_bounded(path, 100) == b"x" * 100
    assert fsutil.read_bounded(path, 10, truncate=True) == b"x" * 10
    with pytest.raises(UnreadableFileError, match="larger than"):
        fsutil.read_bounded(path, 99)


def test_own_state_files_are_not_followed_through_links(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert fsutil.read_json(link) == {}
    with pytest.raises(UnreadableFileError, match="is a symbolic link"):
        fsutil.read_json(link, follow_symlinks=False)


def test_check_regular_names_a_dangling_link(tmp_path: Path) -> None:
    assert fsutil.check_regular(tmp_path / "absent") is False
    path = put(tmp_path / "state.db", "dangling-link")
    with pytest.raises(UnreadableFileError, match="which does not exist"):
        fsutil.check_regular(path)


def test_json_nested_too_deeply_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        fsutil.loads_json("[" * 100_000 + "]" * 100_000)


# --- the CLI -------------------------------------------------------------------------------


@pytest.fixture
def venv(isolated_home: Path) -> Path:
    """A real venv in the multivenv store with five small distributions."""
    path = make_venv(real_python("3.12"), isolated_home / ".multivenv" / "target")
    site = path / "lib" / "python3.12" / "site-packages"
    for name in ("alpha", "beta", "gamma", "delta", "eps"):
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
        (info / "RECORD").write_text(f"{name}/__init__.py,,\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "direct_url.json").write_text(
            json.dumps({"url": f"file:///src/{name}", "dir_info": {}})
        )
    return path


DIST_FILES = {
    "alpha": "METADATA",
    "beta": "RECORD",
    "gamma": "INSTALLER",
    "delta": "direct_url.json",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_files_in_a_venv(venv: Path, kind: str) -> None:
    """One venv with a hostile METADATA, RECORD, INSTALLER and direct_url.json: `check`
    and `requirements` finish, and each warning names its file."""
    site = venv / "lib" / "python3.12" / "site-packages"
    hostile = {
        name: put(site / f"{name}-1.0.dist-info" / file, kind) for name, file in DIST_FILES.items()
    }
    done = venv_doctor("check", "target")
    assert_no_crash(done)
    assert done.returncode == 0, done.stdout + done.stderr
    done = venv_doctor("requirements", "target", "--source", "disk")
    assert_no_crash(done)
    assert done.returncode == 0, done.stderr
    for name in ("alpha", "beta", "delta"):
        assert str(hostile[name]) in done.stderr
    assert "gamma==1.0" in done.stdout or "gamma @" in done.stdout  # an unreadable INSTALLER
    assert "eps" in done.stdout


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_owner_records_leave_the_owner_unread(isolated_home: Path, kind: str) -> None:
    """pipx_metadata.json and uv-receipt.toml are read bounded: `check` finishes, both
    venvs are found and healthy, their owners known by store but without records."""
    python = real_python("3.12")
    pipx_app = make_venv(python, isolated_home / ".local/share/pipx/venvs/app")
    uv_tool = make_venv(python, isolated_home / ".local/share/uv/tools/tool")
    put(pipx_app / "pipx_metadata.json", kind)
    put(uv_tool / "uv-receipt.toml", kind)
    done = venv_doctor("check", "--json")
    assert_no_crash(done)
    assert done.returncode == 0, done.stdout + done.stderr
    found = {Path(v["path"]).name: v for v in json.loads(done.stdout)["venvs"]}
    assert {"app", "tool"} <= set(found)
    assert found["app"]["status"] == found["tool"]["status"] == "healthy"


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_pyvenv_cfg_is_a_finding(venv: Path, kind: str) -> None:
    cfg = put(venv / "pyvenv.cfg", kind)
    done = venv_doctor("check", "--json")
    assert_no_crash(done)
    assert done.returncode == 1
    (found,) = json.loads(done.stdout)["venvs"]
    (finding,) = [f for f in found["findings"] if f["code"] == "cfg-unreadable"]
    assert str(cfg) in finding["message"]
    assert SAID[kind] in finding["message"]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_config_toml_is_an_error_naming_it(isolated_home: Path, kind: str) -> None:
    config = put(app_dirs(os.environ).config_file, kind)
    done = venv_doctor("check")
    assert_no_crash(done)
    assert done.returncode == 2
    assert f"{config}: cannot be read" in done.stderr
    assert SAID[kind] in done.stderr


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_state_db_is_an_error_naming_it(venv: Path, kind: str) -> None:
    database = put(app_dirs(os.environ).database, kind)
    done = venv_doctor("check")  # checking works without a database: a warning
    assert_no_crash(done)
    assert done.returncode == 0
    assert f"snapshots were not recorded: {database}" in done.stderr
    done = venv_doctor("history")  # nothing to show without one: an error
    assert_no_crash(done)
    assert done.returncode == 1
    assert f"error: {database}" in done.stderr
    assert SAID[kind] in done.stderr
    assert os.path.lexists(database)  # left for the user, not moved aside
    assert not list(database.parent.glob("state.db.corrupt-*"))


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_tracked_file_is_an_error_naming_it(venv: Path, kind: str) -> None:
    tracked = put(app_dirs(os.environ).tracked_file, kind)
    done = venv_doctor("list")
    assert_no_crash(done)
    assert done.returncode == 2
    assert f"{tracked}: cannot be read" in done.stderr


def test_a_huge_config_is_refused_not_read(isolated_home: Path) -> None:
    config = app_dirs(os.environ).config_file
    config.parent.mkdir(parents=True)
    with config.open("wb") as fh:
        fh.truncate(64 * fsutil.MiB)  # sparse: no disk used
    done = venv_doctor("check")
    assert done.returncode == 2
    assert f"{config}: cannot be read: is larger than 1 MiB" in done.stderr


# --- lock files -----------------------------------------------------------------------------


def test_a_fifo_in_place_of_a_lock_file_is_an_error_naming_it(tmp_path: Path) -> None:
    from venv_doctor.repair.transaction import locks

    venv = tmp_path / "venv"
    venv.mkdir()
    path = locks.lock_file(tmp_path / "locks", venv)
    put(path, "fifo")
    with pytest.raises(locks.LockFileError, match="is a FIFO"), locks.venv_lock(path.parent, venv):
        pass


def test_a_full_disk_while_writing_the_lock_holder_still_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC cannot be had on demand without mounting a file system, so the one write
    that hits it is made to fail: the lock (flock) holds, the courtesy note is skipped."""
    import errno

    from venv_doctor.repair.transaction import locks

    def full(*args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    venv = tmp_path / "venv"
    venv.mkdir()
    with (
        locks.venv_lock(tmp_path / "locks", venv),
        pytest.raises(locks.LockedError),
        locks.venv_lock(tmp_path / "locks", venv, wait=False),
    ):
        pass
