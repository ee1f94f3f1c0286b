"""The manual page: generated from the click commands, kept in step, installed by the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import IN_CI
from venv_doctor.cli.app import cli
from venv_doctor.cli.shell.manpage import render

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "man" / "venv-doctor.1"


def test_the_committed_page_matches_the_commands() -> None:
    assert PAGE.read_text() == render(cli), (
        "man/venv-doctor.1 is stale: run "
        "`.venv/bin/python -m venv_doctor.cli.shell.manpage > man/venv-doctor.1`"
    )


def test_man_formats_it_without_warnings_and_it_names_every_command() -> None:
    man = shutil.which("man")
    if man is None:
        if IN_CI:
            pytest.fail("man is not installed")
        pytest.skip("man is not installed")
    done = subprocess.run(
        [man, "--warnings", "-l", str(PAGE)],
        capture_output=True,
        text=True,
        env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    text = done.stdout
    for command in ("check", "list", "repair", "restore", "gc", "service install", "history"):
        assert f"venv-doctor {command}" in text
    for section in ("EXIT STATUS", "ENVIRONMENT", "NO_COLOR", "--color"):
        assert section in text


def test_the_wheel_installs_it_as_share_man_man1(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".data/data/share/man/man1/venv-doctor.1") for n in names)
