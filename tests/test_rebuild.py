from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import make_venv, pip_install, real_python, run, tree_digest
from venv_doctor.errors import VenvDoctorError
from venv_doctor.record import state
from venv_doctor.repair.rebuild import (
    PAUSE_ENV,
    RebuildError,
    RebuildSteps,
    rebuild,
    recover,
)
from venv_doctor.repair.transaction.backups import backup_path
from venv_doctor.repair.transaction.journal import STEPS, Journal

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def old_venv(tmp_path: Path, wheelhouse: Path) -> Path:
    venv = make_venv(real_python("3.11"), tmp_path / "store" / "proj")
    pip_install(venv, wheelhouse, "tinytop==3.0.0")
    (venv / "bin" / "postactivate").write_text("export FOO=1\n")
    (venv / ".project").write_text("/home/me/src/proj\n")
    return venv


def steps_for(python: Path, wheelhouse: Path, verify: str | None = None) -> RebuildSteps:
    def install(venv: Path) -> None:
        try:
            pip_install(venv, wheelhouse, "tinytop==3.0.0")
        except AssertionError as exc:  # what a real installer raises
            raise VenvDoctorError(f"install failed: {exc}") from exc

    def create(venv: Path) -> None:
        make_venv(python, venv)

    return RebuildSteps(create=create, install=install, verify=lambda p: verify)


def test_rebuild_to_new_minor_carries_user_files_and_keeps_backup(
    old_venv: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    journal = Journal(state.open_at(tmp_path / "state.db"))
    result = rebuild(
        old_venv, tmp_path / "backups", journal, steps_for(real_python("3.12"), wheelhouse)
    )
    assert (old_venv / "lib" / "python3.12" / "site-packages").is_dir()
    assert (old_venv / "bin" / "postactivate").read_text() == "export FOO=1\n"
    assert (old_venv / ".project").exists()
    assert sorted(Path(p).name for p in result.carried_over) == [".project", "postactivate"]
    assert (result.backup / "lib" / "python3.11").is_dir()  # the old venv, kept
    assert run([old_venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"
    assert journal.open_entries() == []


def test_failed_verification_puts_the_old_venv_back_byte_for_byte(
    old_venv: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    before = tree_digest(old_venv)
    journal = Journal(state.open_at(tmp_path / "state.db"))
    with pytest.raises(RebuildError, match="does not verify: nope"):
        rebuild(
            old_venv,
            tmp_path / "backups",
            journal,
            steps_for(real_python("3.12"), wheelhouse, verify="nope"),
        )
    assert tree_digest(old_venv) == before
    assert list((tmp_path / "backups").iterdir()) == []


def test_failed_install_rolls_back(old_venv: Path, tmp_path: Path) -> None:
    before = tree_digest(old_venv)
    journal = Journal(state.open_at(tmp_path / "state.db"))
    empty = tmp_path / "empty-wheelhouse"
    empty.mkdir()
    with pytest.raises(RebuildError, match="rolled back: install failed"):
        rebuild(old_venv, tmp_path / "backups", journal, steps_for(real_python("3.12"), empty))
    assert tree_digest(old_venv) == before


@pytest.mark.parametrize(
    "step", [s for s in STEPS if s not in ("begin", "committed", "preparing", "swapping")]
)
def test_sigkill_at_every_step_then_recovery(
    step: str, old_venv: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    before = tree_digest(old_venv)
    db = tmp_path / "state.db"
    _kill_at(step, old_venv, tmp_path, wheelhouse)

    outcomes = recover(Journal(state.open_at(db)))

    assert [r.outcome for r in outcomes] == ["committed" if step == "verified" else "rolled_back"]
    if step == "verified":
        assert (old_venv / "lib" / "python3.12" / "site-packages").is_dir()
        assert (old_venv / "bin" / "postactivate").exists()
    else:
        assert tree_digest(old_venv) == before
        backups = tmp_path / "backups"
        assert not backups.exists() or list(backups.iterdir()) == []
    assert Journal(state.open_at(db)).open_entries() == []


def _kill_at(
    step: str, venv: Path, tmp_path: Path, wheelhouse: Path, dest: Path | None = None
) -> None:
    """Run a rebuild in a child process and SIGKILL it once it reaches ``step``."""
    marker = tmp_path / "paused"
    env = {**os.environ, PAUSE_ENV: step, PAUSE_ENV + "_FILE": str(marker), "PYTHONPATH": str(ROOT)}
    args = [venv, tmp_path / "backups", tmp_path / "state.db", real_python("3.12"), wheelhouse]
    args += [dest] if dest is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.rebuild_driver", *map(str, args)], env=env, cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, f"driver exited {proc.returncode} before reaching {step}"
        assert time.monotonic() < deadline, f"never reached {step}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_recovery_moves_aside_a_venv_it_did_not_make(
    old_venv: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    """After a crash the user made a venv of their own at the path: recovery keeps it."""
    before = tree_digest(old_venv)
    _kill_at("installing", old_venv, tmp_path, wheelhouse)
    shutil.rmtree(old_venv)  # the half-made one, removed by the user...
    make_venv(real_python("3.12"), old_venv)  # ... who made their own
    (old_venv / "mine.txt").write_text("keep me\n")

    [done] = recover(Journal(state.open_at(tmp_path / "state.db")))

    assert done.outcome == "rolled_back"
    assert tree_digest(old_venv) == before
    moved = Path(done.note.rsplit(" was moved to ", 1)[1])
    assert moved.parent == tmp_path / "backups" and "found-at-proj" in moved.name
    assert (moved / "mine.txt").read_text() == "keep me\n"


def test_two_rebuilds_in_the_same_second_get_their_own_backup_slots(tmp_path: Path) -> None:
    backups, venv = tmp_path / "backups", tmp_path / "store" / "proj"
    venv.mkdir(parents=True)
    first = backup_path(backups, venv, "rebuild")
    first.mkdir()  # the first rebuild's backup, taken this very second
    (first.parent / f"{first.name}.json").write_text("{}")
    second = backup_path(backups, venv, "rebuild")
    assert second != first and not second.exists()
    assert second.parent == backups and second.name.startswith(first.name)


@pytest.mark.parametrize("step", ["installing", "verified"])
def test_a_rebuild_under_the_owners_new_name_killed_then_recovered(
    step: str, tmp_path: Path, wheelhouse: Path
) -> None:
    """poetry's `proj-AbCd1234-py3.11` rebuilt as `...-py3.12`: killed before "verified",
    the old env and poetry's envs.toml are as they were and nothing is left at the new
    name; killed after, recovery finishes it: the new env, envs.toml naming 3.12."""
    store = tmp_path / "virtualenvs"
    venv = make_venv(real_python("3.11"), store / "proj-AbCd1234-py3.11")
    envs = store / "envs.toml"
    envs.write_text('[proj-AbCd1234]\nminor = "3.11"\npatch = "3.11.7"\n', encoding="utf-8")
    dest = store / "proj-AbCd1234-py3.12"
    before, envs_before = tree_digest(venv), envs.read_bytes()
    _kill_at(step, venv, tmp_path, wheelhouse, dest)

    (recovered,) = recover(Journal(state.open_at(tmp_path / "state.db")))

    if step == "verified":
        assert recovered.outcome == "committed"
        assert not venv.exists() and (dest / "lib" / "python3.12").is_dir()
        assert run([dest / "bin" / "tinytop"]).stdout.strip() == "tinytop"
        text = envs.read_text(encoding="utf-8")
        assert text.startswith('[proj-AbCd1234]\nminor = "3.12"\npatch = "3.12.')
    else:
        assert recovered.outcome == "rolled_back"
        assert tree_digest(venv) == before and not dest.exists()
        assert envs.read_bytes() == envs_before
