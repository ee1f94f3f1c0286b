"""Backups are complete or absent: the completion flag, gc's trash, restore's refusals,
track's refusal, and the backup area on the venv's own file system."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import IN_CI, make_venv, pip_install, real_python, tree_digest
from tests.test_rebuild import steps_for
from venv_doctor.discover import tracking
from venv_doctor.errors import UsageError
from venv_doctor.paths import BACKUP_AREA_BESIDE
from venv_doctor.record import state
from venv_doctor.repair.rebuild import RebuildError, rebuild, restore
from venv_doctor.repair.transaction import backups
from venv_doctor.repair.transaction.journal import Journal, JournalAction, JournalOutcome


@pytest.fixture
def rebuilt(tmp_path: Path, wheelhouse: Path) -> tuple[Journal, Path, Path]:
    """A venv rebuilt from 3.11 to 3.12 (its backup kept), a user file in the backup only."""
    venv = make_venv(real_python("3.11"), tmp_path / "store" / "proj")
    pip_install(venv, wheelhouse, "tinytop==3.0.0")
    journal = Journal(state.open_at(tmp_path / "state.db"))
    done = rebuild(venv, tmp_path / "backups", journal, steps_for(real_python("3.12"), wheelhouse))
    return journal, venv, done.backup


def test_a_backup_is_listed_once_its_rebuild_committed(rebuilt: tuple[Journal, Path, Path]) -> None:
    journal, _venv, backup = rebuilt
    assert [b.path for b in backups.kept(journal)] == [backup]
    assert backups.only_copies(backups.kept(journal)[0]) == ()  # nothing only it holds


def test_gc_keeps_a_backup_holding_files_the_venv_lacks_unless_forced(
    rebuilt: tuple[Journal, Path, Path],
) -> None:
    journal, _venv, backup = rebuilt
    (backup / "notes.txt").write_text("only here\n")  # e.g. added after the rebuild
    dry = backups.prune(journal, 0, dry_run=True)
    assert [(b.path, files) for b, files in dry.holding] == [(backup, ("notes.txt",))]
    assert dry.removed == [] and backup.exists()
    kept = backups.prune(journal, 0)
    assert kept.removed == [] and backup.exists()
    forced = backups.prune(journal, 0, force=True)
    assert [b.path for b in forced.removed] == [backup]
    assert not backup.exists() and not backups.manifest_of(backup).exists()
    assert list((backup.parent / backups.TRASH).iterdir()) == []


def test_a_gc_cut_short_leaves_nothing_restorable(rebuilt: tuple[Journal, Path, Path]) -> None:
    journal, venv, backup = rebuilt
    live = tree_digest(venv)
    backups.manifest_of(backup).unlink()  # gc's first step, then it was killed
    assert backups.kept(journal) == []
    with pytest.raises(RebuildError, match="not a complete backup"):
        restore(venv, backup, backup.parent, journal)
    assert tree_digest(venv) == live


def test_restore_never_puts_an_emptied_backup_in_place_of_a_live_venv(
    rebuilt: tuple[Journal, Path, Path],
) -> None:
    journal, venv, backup = rebuilt
    live = tree_digest(venv)
    for entry in list(backup.iterdir()):  # emptied by hand (or an old gc) but still flagged
        subprocess.run(["rm", "-rf", str(entry)], check=True)
    assert backups.kept(journal) == []
    with pytest.raises(RebuildError, match="not a complete backup"):
        restore(venv, backup, backup.parent, journal)
    assert tree_digest(venv) == live


def test_restore_swaps_and_keeps_the_replaced_venv_restorable(
    rebuilt: tuple[Journal, Path, Path],
) -> None:
    journal, venv, backup = rebuilt
    aside = restore(venv, backup, backup.parent, journal)
    assert (venv / "lib" / "python3.11").is_dir()
    assert aside is not None and backups.is_complete(aside)


def test_track_refuses_venv_doctor_s_own_directories(tmp_path: Path) -> None:
    state = tmp_path / "state"
    inside = make_venv(real_python("3.12"), state / "backups" / "20260101-rebuild-x")
    beside = make_venv(real_python("3.12"), tmp_path / "store" / BACKUP_AREA_BESIDE / "old")
    for path in (inside, beside):
        with pytest.raises(UsageError, match="inside venv-doctor's own directory"):
            tracking.track(tmp_path / "tracked.json", path, None, own=(state,))


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted for the test: a store on another device than the state dir."""
    mount = tmp_path / "otherfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs (root needed): {done.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_venv_on_another_file_system_is_backed_up_beside_itself(
    other_filesystem: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    venv = make_venv(real_python("3.11"), other_filesystem / "store" / "proj")
    pip_install(venv, wheelhouse, "tinytop==3.0.0")
    (venv / "bin" / "postactivate").write_text("export A=1\n")
    state_backups = tmp_path / "state" / "backups"
    state_backups.mkdir(parents=True)
    assert os.stat(state_backups).st_dev != os.stat(venv).st_dev
    journal = Journal(state.open_at(tmp_path / "state.db"))

    done = rebuild(venv, state_backups, journal, steps_for(real_python("3.12"), wheelhouse))

    assert done.backup.parent == venv.parent / BACKUP_AREA_BESIDE
    assert (done.backup / "lib" / "python3.11").is_dir()
    assert (venv / "bin" / "postactivate").read_text() == "export A=1\n"
    assert [b.path for b in backups.kept(journal)] == [done.backup]


def test_a_pipx_app_on_another_file_system_is_backed_up_out_of_pipx_venvs(
    other_filesystem: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    """`pipx list` takes every directory in venvs/ for an app (and fails on the area)."""
    venv = make_venv(real_python("3.11"), other_filesystem / "pipx" / "venvs" / "app")
    (venv / "pipx_metadata.json").write_text("{}\n")
    state_backups = tmp_path / "state" / "backups"
    state_backups.mkdir(parents=True)
    journal = Journal(state.open_at(tmp_path / "state.db"))

    done = rebuild(venv, state_backups, journal, steps_for(real_python("3.12"), wheelhouse))

    assert done.backup.parent == other_filesystem / "pipx" / BACKUP_AREA_BESIDE
    assert sorted(p.name for p in (other_filesystem / "pipx" / "venvs").iterdir()) == ["app"]
    assert [b.path for b in backups.kept(journal)] == [done.backup]


def test_gc_cli_dry_run_names_what_only_a_backup_holds(
    rebuilt: tuple[Journal, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI, with the backup registered in the real state DB."""
    from venv_doctor.cli import run as cli
    from venv_doctor.paths import app_dirs

    journal, _venv, backup = rebuilt
    with state.open_at(app_dirs(os.environ).database) as db:
        real = Journal(db)
        for b in backups.kept(journal):
            entry = real.begin(b.venv, b.path, JournalAction.REBUILD)
            real.finish(entry, JournalOutcome.COMMITTED)
    (backup / "notes.txt").write_text("only here\n")
    assert cli(["gc", "--days", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "holds files the venv lacks: notes.txt; kept (--force removes it)" in out
    assert "would remove 0 backups" in out and backup.exists()
    assert cli(["gc", "--days", "0", "--force"]) == 0
    assert "removed 1 backup" in capsys.readouterr().out and not backup.exists()
