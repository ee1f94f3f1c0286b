"""Relink stays with the vendor: Homebrew to Homebrew, pyenv to pyenv; another vendor's
Python or an older patch needs a yes (or `[repair] allow_vendor_change`)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import FakeHomebrew, make_venv, real_python, run
from tests.test_repair import fake_pyenv_version
from venv_doctor.cli import run as cli


def repair_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = cli(["repair", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)["results"]


@pytest.fixture
def brew_venv(homebrew: FakeHomebrew, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    homebrew.install("3.12", "3.12.1")
    return make_venv(homebrew.opt_python("3.12"), isolated_home / ".virtualenvs" / "api")


def test_the_same_vendor_is_preferred_over_a_more_stable_path_of_another(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pyenv venv whose 3.12.1 was uninstalled goes to pyenv's 3.12.3, not to
    Homebrew's opt/python@3.12 (which would otherwise win as the more stable path)."""
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    homebrew.install("3.12", "3.12.2")
    old = fake_pyenv_version("3.12", "3.12.1")
    venv = make_venv(old, isolated_home / ".virtualenvs" / "tool")
    shutil.rmtree(old.parent.parent)  # pyenv uninstall 3.12.1
    # pyenv install 3.12.3: its own binary (a link to the real one would be the same
    # interpreter as Homebrew's, and counted once)
    newer = Path(os.environ["PYENV_ROOT"]) / "versions" / "3.12.3" / "bin" / "python3.12"
    newer.parent.mkdir(parents=True)
    shutil.copy2(real_python("3.12").resolve(), newer)

    code, results = repair_json(capsys, "--all")

    assert code == 0, results[0]["message"]
    assert (results[0]["action"], results[0]["outcome"]) == ("relink", "repaired")
    assert os.readlink(venv / "bin" / "python3.12") == str(newer)


def test_a_relink_onto_another_vendor_needs_a_yes(
    homebrew: FakeHomebrew, brew_venv: Path, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    pyenv_python = fake_pyenv_version("3.12", "3.12.1")
    shutil.rmtree(homebrew.prefix / "Cellar" / "python@3.12")  # brew uninstall python@3.12
    (homebrew.opt("3.12")).unlink()

    code, results = repair_json(capsys, "--all")  # no terminal, no --yes

    assert code == 1
    assert (results[0]["action"], results[0]["outcome"]) == ("relink", "skipped")
    assert "from a homebrew Python to a pyenv one" in results[0]["message"]
    assert "--yes" in results[0]["message"]
    code, results = repair_json(capsys, "--all", "--dry-run")
    assert (code, results[0]["outcome"]) == (0, "planned")
    assert "needs a yes" in results[0]["message"]

    code, results = repair_json(capsys, "--all", "--yes")
    assert code == 0, results
    assert os.readlink(brew_venv / "bin" / "python3.12") == str(pyenv_python)
    assert run([brew_venv / "bin" / "python", "-c", "print(1)"]).stdout.strip() == "1"


def test_allow_vendor_change_relinks_without_asking(
    homebrew: FakeHomebrew, brew_venv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pyenv_version("3.12", "3.12.1")
    shutil.rmtree(homebrew.prefix / "Cellar" / "python@3.12")
    config = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[repair]\nallow_vendor_change = true\n", encoding="utf-8")

    code, results = repair_json(capsys, "--all")

    assert code == 0, results
    assert (results[0]["action"], results[0]["outcome"]) == ("relink", "repaired")
