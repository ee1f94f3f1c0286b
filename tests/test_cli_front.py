"""The front door for `check` (cli/front.py) says and exits exactly what click's path does.

Every command line form it takes is run through it and through click (``front.parse``
replaced by one that takes nothing), on the same venvs, and the two outputs and exit
statuses compared; the forms it must leave to click are checked to reach click.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import FakeHomebrew, make_venv, real_python
from tests.terminal import run_in_terminal
from venv_doctor.cli import front, run
from venv_doctor.paths import app_dirs

TAKEN = [
    ["check"],
    ["check", "--json"],
    ["check", "-v"],
    ["check", "--verbose", "--json"],
    ["check", "-q"],
    ["--quiet", "check", "--json"],
    ["-v", "check"],
    ["-q", "check", "-v"],
    ["--color", "always", "check"],
    ["--color=never", "-v", "check"],
    ["check", "--store", "virtualenvwrapper"],
    ["check", "--store=pipx", "--json"],
    ["check", "--store", "no-such-store"],
    ["check", "good"],
    ["check", "--json", "good", "gone"],
    ["check", "good", "--json", "--", "pinned"],
    ["check", "no-such-venv"],
    ["check", "--json", "no-such-venv"],
    ["check", "--deep", "good", "--json"],
]
LEFT_TO_CLICK = [
    ["--help"],
    ["check", "--help"],
    ["check", "-h"],
    ["--version"],
    ["list"],
    ["check", "-vv"],
    ["-v", "check", "-v"],
    ["check", "-qv"],
    ["check", "--prometheus", "x.prom"],
    ["check", "--color", "never"],
    ["--json", "check"],
    ["--color", "red", "check"],
    ["--color", "never", "--color", "always", "check"],
    ["check", "--store"],
    ["check", "--store", "--json"],
    ["check", "--store", "a", "--store", "b"],
    ["check", "--jsn"],
    ["check", "--json=1"],
    ["check", "-"],
    ["check", "--", "-x"],
    ["chek"],
    [],
]


@pytest.fixture
def venvs(isolated_home: Path, homebrew: FakeHomebrew, tmp_path: Path) -> dict[str, Path]:
    """A healthy, a degraded (Cellar-pinned) and a broken (pyenv version gone) venv."""
    store = isolated_home / ".virtualenvs"
    good = make_venv(real_python("3.12"), store / "good")
    pinned = make_venv(homebrew.install("3.11", "3.11.7"), store / "pinned")
    base = tmp_path / "pyenv" / "versions" / "3.12.1" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    gone = make_venv(base / "python3.12", store / "gone")
    shutil.rmtree(tmp_path / "pyenv" / "versions" / "3.12.1")
    return {"good": good, "pinned": pinned, "gone": gone}


def _both(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """(exit, stdout, stderr) through the front door, then through click."""
    assert front.parse(argv, os.environ) is not None, argv
    fast = (run(argv), *capsys.readouterr())
    with monkeypatch.context() as patch:
        patch.setattr(front, "parse", lambda argv, env: None)
        slow = (run(argv), *capsys.readouterr())
    return fast, slow


@pytest.mark.usefixtures("venvs")
def test_every_form_taken_says_what_click_says(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = set()
    for argv in TAKEN:
        fast, slow = _both(capsys, monkeypatch, argv)
        assert fast == slow, argv
        statuses.add(fast[0])
    assert statuses == {0, 1, 2}  # healthy only, broken, and an unknown store
    fast, _ = _both(capsys, monkeypatch, ["check", "--json"])
    assert {v["name"] for v in json.loads(fast[1])["venvs"]} == {"good", "pinned", "gone"}


@pytest.mark.usefixtures("venvs")
@pytest.mark.parametrize(
    "variables",
    [{"VENV_DOCTOR_COLOR": "always"}, {"FORCE_COLOR": "1"}, {"COLUMNS": "50"}, {"NO_COLOR": "1"}],
)
def test_the_environment_weighs_the_same(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    for argv in (["check"], ["check", "-v"], ["--color", "never", "check"], ["check", "--json"]):
        fast, slow = _both(capsys, monkeypatch, argv)
        assert fast == slow, (variables, argv)


@pytest.mark.usefixtures("venvs")
def test_a_broken_config_fails_the_same(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = app_dirs(os.environ).config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[stores\n")
    for argv in (["check"], ["check", "--json"]):
        fast, slow = _both(capsys, monkeypatch, argv)
        assert fast == slow
        assert fast[0] == 2


def test_what_it_does_not_take_goes_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in LEFT_TO_CLICK:
        assert front.parse(argv, os.environ) is None, argv
    monkeypatch.setenv("VENV_DOCTOR_COLOR", "purple")  # click says it is not a choice
    assert front.parse(["check"], os.environ) is None
    monkeypatch.setenv("VENV_DOCTOR_COLOR", "")
    assert front.parse(["check"], os.environ) is None
    monkeypatch.delenv("VENV_DOCTOR_COLOR")
    monkeypatch.setenv("_VENV_DOCTOR_COMPLETE", "bash_complete")  # completion is click's
    assert front.parse(["check"], os.environ) is None


# a fresh interpreter: the console script's own streams (pipes or a terminal), and
# whether click was imported; argv[1] says which door
DOOR = """\
import atexit, sys
from venv_doctor.cli import front, main
if sys.argv.pop(1) == "click":
    front.parse = lambda argv, env: None
atexit.register(lambda: print("click" in sys.modules, file=sys.stderr))
main()
"""


def _door(door: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", DOOR, door, *args], capture_output=True, check=False
    )


@pytest.mark.usefixtures("venvs")
def test_the_same_bytes_on_pipes_without_click() -> None:
    for args in (("check", "--json"), ("check", "-v")):
        fast, slow = _door("front", *args), _door("click", *args)
        assert fast.returncode == slow.returncode == 1
        assert fast.stdout == slow.stdout
        assert fast.stderr.endswith(b"False\n")  # the front door imported no click
        assert slow.stderr.endswith(b"True\n")
        assert fast.stderr[: -len(b"False\n")] == slow.stderr[: -len(b"True\n")]


@pytest.mark.usefixtures("venvs")
def test_the_same_text_on_a_terminal() -> None:
    for args in (["check"], ["check", "--json"]):
        fast = run_in_terminal(["-c", DOOR, "front", *args], os.environ, module=None)
        slow = run_in_terminal(["-c", DOOR, "click", *args], os.environ, module=None)
        assert fast.removesuffix("False\n") == slow.removesuffix("True\n")
        assert "gone" in fast
