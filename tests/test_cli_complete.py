"""Shell completion (bash, zsh, fish) of venv names and store names, through the real
console entry point with the variables each shell's completion script sets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import make_venv, real_python
from venv_doctor.cli import run


def complete(shell: str, words: list[str], env: dict[str, str] | None = None) -> list[str]:
    """What `venv-doctor` offers for the last of ``words`` (the one being typed)."""
    line = " ".join(["venv-doctor", *words])
    variables = {
        "_VENV_DOCTOR_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": line,
        # bash and zsh pass the index of the word being typed, fish the word itself
        "COMP_CWORD": words[-1] if shell == "fish" else str(len(words)),
    }
    done = subprocess.run(
        [sys.executable, "-m", "venv_doctor"],
        env={**os.environ, **(env or {}), **variables},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return [line for line in done.stdout.splitlines() if line]


def names(shell: str, output: list[str]) -> list[str]:
    """The completed words out of each shell's format."""
    if shell == "zsh":  # type, value, help: three lines each
        return [output[i + 1] for i in range(0, len(output), 3)]
    if shell == "fish":  # type,value<TAB>help
        return [line.split(",", 1)[1].split("\t")[0] for line in output]
    return [line.split(",", 1)[1] for line in output]  # bash: type,value


@pytest.fixture
def known(isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two venvs in virtualenvwrapper's store (recorded by a check) and a tracked one."""
    store = isolated_home / ".virtualenvs"
    make_venv(real_python("3.12"), store / "api-server")
    make_venv(real_python("3.12"), store / "api-client")
    make_venv(real_python("3.12"), store / "docs")
    project = make_venv(real_python("3.12"), tmp_path / "shop" / ".venv")
    assert run(["track", str(project)]) == 0
    assert run(["check"]) == 0  # the registry completion reads
    capsys.readouterr()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_target_completes_venv_names(known: None, shell: str) -> None:
    assert names(shell, complete(shell, ["check", "api"])) == ["api-client", "api-server"]
    assert names(shell, complete(shell, ["repair", "sh"])) == ["shop"]  # tracked
    assert names(shell, complete(shell, ["requirements", "d"])) == ["docs"]
    assert names(shell, complete(shell, ["check", "zzz"])) == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_store_completes_store_names(known: None, shell: str) -> None:
    got = names(shell, complete(shell, ["check", "--store", "p"]))
    assert {"pipx", "pdm", "poetry", "pyenv-virtualenv"} <= set(got)
    assert all(n.startswith("p") for n in got)
    assert names(shell, complete(shell, ["list", "--store", "virt"])) == ["virtualenvwrapper"]
    assert names(shell, complete(shell, ["list", "--store", "tra"])) == ["tracked"]


def test_a_path_completes_as_a_path(known: None) -> None:
    assert complete("bash", ["check", "./sh"]) == ["file,./sh"]


def test_nothing_recorded_yet_completes_nothing_without_an_error(isolated_home: Path) -> None:
    assert complete("bash", ["check", "a"]) == []  # no state database yet


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_for_each_shell(isolated_home: Path, shell: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "venv_doctor"],
        env={**os.environ, "_VENV_DOCTOR_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "_VENV_DOCTOR_COMPLETE" in done.stdout
