"""One resolver for every command's TARGETs: live venvs, then recorded ones whose
directory is gone, then ones a running repair has renamed aside; one ambiguity rule."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import make_venv, real_python
from venv_doctor import config, paths
from venv_doctor.check import check
from venv_doctor.context import Context
from venv_doctor.discover import tracking
from venv_doctor.errors import TargetNotFoundError, UsageError
from venv_doctor.record import state
from venv_doctor.targets import Where, resolve, resolve_one


def context() -> Context:
    dirs = paths.app_dirs(os.environ)
    return Context(config.load(dirs, os.environ), dirs, os.environ)


def test_a_name_in_two_places_is_refused_by_the_one_rule(isolated_home: Path) -> None:
    stored = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "tool")
    project = make_venv(real_python("3.12"), isolated_home / "proj" / ".venv")
    ctx = context()
    tracking.track(ctx.dirs.tracked_file, project, "tool")

    both = resolve(ctx, ["tool"])
    with pytest.raises(UsageError, match=r"tool names 2 venvs \(") as refused:
        resolve(ctx, ["tool"], unique=True)
    with pytest.raises(UsageError, match="tool names 2 venvs"):
        resolve_one(ctx, "tool")

    assert sorted(m.path for m in both) == sorted([stored, project])
    assert {m.where for m in both} == {Where.LIVE}
    assert refused.value.hint == "give the venv's path instead"
    assert resolve_one(ctx, str(project)).path == project  # a path is never ambiguous


def test_a_recorded_venv_whose_directory_is_gone_is_found_by_name(isolated_home: Path) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "gone")
    ctx = context()
    check(ctx)  # records it
    shutil.rmtree(venv)

    (match,) = resolve(ctx, ["gone"])

    assert (match.path, match.where, match.location.store) == (
        venv,
        Where.RECORDED,
        "virtualenvwrapper",
    )


def test_a_venv_renamed_aside_by_a_running_repair_is_found_last(isolated_home: Path) -> None:
    ctx = context()
    venv = isolated_home / ".virtualenvs" / "busy"
    with state.open_db(ctx.dirs) as db:
        state.journal_begin(db, venv, isolated_home / "backup", "rebuild", "moved")

    (match,) = resolve(ctx, ["busy"])

    assert (match.path, match.where) == (venv, Where.REPAIRING)
    with pytest.raises(TargetNotFoundError, match="nothing: no venv of that name in any store"):
        resolve(ctx, ["nothing"])
