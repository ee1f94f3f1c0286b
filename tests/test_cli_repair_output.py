"""What `repair` says while and after it works (issue 14, item 6): the live line's
elapsed time ticks, Ctrl-C during a rebuild says it was rolled back, results read
well at 80 columns."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support import make_venv, real_python, tree_digest
from tests.terminal import cut_at_a_space, plain, run_in_terminal
from tests.test_repair import fake_pyenv_version
from venv_doctor.cli import run as cli
from venv_doctor.cli.repair import _Elapsed


def test_the_live_line_elapsed_time_ticks_while_a_step_runs() -> None:
    elapsed = _Elapsed(start=100.0)
    elapsed.text = "proj: installing 20 packages with uv"
    # the spinner renders the line anew at every refresh: the same step, a later time
    assert elapsed.line(now=101.2) == "proj: installing 20 packages with uv  (1s)"
    assert elapsed.line(now=163.9) == "proj: installing 20 packages with uv  (64s)"


TICKING = """
import time
from venv_doctor.cli.repair import _Progress
with _Progress() as progress:
    progress.start(1)
    progress.say("proj", "installing 3 packages with uv")
    time.sleep(2.3)  # one long step, no new message
"""


def test_the_spinner_on_a_terminal_shows_the_time_ticking(isolated_home: Path) -> None:
    out = run_in_terminal(["-c", TICKING], dict(os.environ), module=None)
    seconds = set(re.findall(r"proj: installing 3 packages with uv  \((\d+)s\)", plain(out)))
    assert {"1", "2"} <= seconds, out


def test_ctrl_c_during_a_rebuild_rolls_back_and_says_so(
    isolated_home: Path,
    wheelhouse: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "proj")
    (venv / "notes.txt").write_text("mine\n")
    before = tree_digest(venv)

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if pressed while the new venv is half made

    monkeypatch.setattr("venv_doctor.repair.rebuild.carryover.plan", ctrl_c)
    code = cli(["repair", "proj", "--python", "3.12", "--yes"])
    err = capsys.readouterr().err
    assert code == 130
    assert "interrupted while repairing proj: rolled back, proj is as it was before" in err
    assert err.rstrip().endswith("venv-doctor: interrupted")
    assert tree_digest(venv) == before  # the old venv is back in place


def test_dry_run_of_every_repair_at_80_columns(isolated_home: Path) -> None:
    store = isolated_home / ".virtualenvs"
    base = isolated_home / ".pyenv" / "versions" / "3.12.1" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    for name in ("api-server-with-a-long-name", "docs"):
        make_venv(base / "python3.12", store / name)
    (base / "python3.12").unlink()
    out = plain(run_in_terminal(["repair", "--all", "--dry-run"], dict(os.environ)))
    lines = out.rstrip("\n").splitlines()
    assert cut_at_a_space(lines, 80) == []
    heads = [line for line in lines if not line.startswith(" ")]
    assert len(heads) == 2 and all(" api-server" in h or " docs" in h for h in heads)
    assert "~/" in out or "/" not in out  # paths under home shortened


def test_an_unknown_old_version_reads_unknown_not_none() -> None:
    from venv_doctor.cli.repair import _versions
    from venv_doctor.repair.plan import Action
    from venv_doctor.repair.result import Outcome, RepairResult

    unknown = RepairResult("v", Path("/v"), Action.REBUILD, Outcome.FAILED, "", None, "3.13.0")
    assert _versions(unknown) == " (unknown -> 3.13.0)"
    known = RepairResult("v", Path("/v"), Action.REBUILD, Outcome.REPAIRED, "", "3.12.1", "3.13.0")
    assert _versions(known) == " (3.12.1 -> 3.13.0)"
