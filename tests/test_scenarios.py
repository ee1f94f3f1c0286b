"""The acceptance scenario of issue 3, end to end through the CLI.

A user keeps 200 venvs in five stores. Three were made straight from a Homebrew
Cellar keg and break when ``brew upgrade`` removes it; one was made from a
pyenv version that is then uninstalled. ``venv-doctor check`` must report
exactly those four as broken, each saying what happened, and flag nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    FakeHomebrew,
    FakePyenv,
    clone_venv,
    make_venv,
    no_processes,
    pip_install,
    real_python,
)
from venv_doctor.cli import run

TOTAL = 200


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = run(["check", "--json", *args])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def build_stores(
    home: Path, tmp_path: Path, homebrew: FakeHomebrew, wheelhouse: Path
) -> dict[str, list[Path]]:
    """200 venvs: a few real ones per store, the rest cloned from real templates."""
    templates = [
        make_venv(real_python("3.12"), tmp_path / "templates" / "venv312"),
        make_venv(real_python("3.11"), tmp_path / "templates" / "venv311"),
        make_venv(real_python("3.8"), tmp_path / "templates" / "venv38"),
        make_venv(real_python("3.12"), tmp_path / "templates" / "ve312", creator="virtualenv"),
        make_venv(real_python("3.13"), tmp_path / "templates" / "uv313", creator="uv"),
    ]
    stores = {
        "virtualenvwrapper": home / ".virtualenvs",
        "multivenv": home / ".multivenv",
        "pipx": home / ".local" / "share" / "pipx" / "venvs",
        "poetry": home / ".cache" / "pypoetry" / "virtualenvs",
        "uv-tools": home / ".local" / "share" / "uv" / "tools",
    }
    made: dict[str, list[Path]] = {name: [] for name in stores}

    # real venvs with console scripts (pipx and uv tools hold installed apps)
    for store in ("pipx", "uv-tools"):
        for i in range(2):
            venv = make_venv(real_python("3.12"), stores[store] / f"app{i}")
            pip_install(venv, wheelhouse, "tinytop")
            made[store].append(venv)

    # Homebrew: two venvs through the stable opt/ link, three pinned to the keg
    keg_python = homebrew.install("3.12", "3.12.1")
    for i in range(2):
        made["multivenv"].append(
            make_venv(homebrew.opt_python("3.12"), stores["multivenv"] / f"brew-opt{i}")
        )
    for i in range(3):
        made["virtualenvwrapper"].append(
            make_venv(keg_python, stores["virtualenvwrapper"] / f"brew-keg{i}")
        )

    # pyenv: one venv on a version that will be uninstalled
    pyenv = FakePyenv(tmp_path / "pyenv")
    made["poetry"].append(
        make_venv(pyenv.install("3.11", "3.11.7"), stores["poetry"] / "legacy-app-py3.11")
    )

    names = list(stores)
    i = 0
    while sum(len(v) for v in made.values()) < TOTAL:
        store = names[i % len(names)]
        made[store].append(clone_venv(templates[i % len(templates)], stores[store] / f"env{i:03d}"))
        i += 1
    return made


def test_two_hundred_venvs_four_broken(
    capsys: pytest.CaptureFixture[str],
    isolated_home: Path,
    tmp_path: Path,
    homebrew: FakeHomebrew,
    wheelhouse: Path,
) -> None:
    made = build_stores(isolated_home, tmp_path, homebrew, wheelhouse)
    assert sum(len(v) for v in made.values()) == TOTAL
    assert all(len(v) >= 30 for v in made.values())

    code, before = check_json(capsys)
    assert code == 0
    assert before["summary"] == {"healthy": 197, "degraded": 3, "broken": 0, "unknown": 0}

    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    FakePyenv(tmp_path / "pyenv").uninstall("3.11.7")

    with no_processes():
        code, report = check_json(capsys)
    assert code == 1
    assert report["summary"] == {"healthy": 196, "degraded": 0, "broken": 4, "unknown": 0}
    venvs = report["venvs"]
    assert isinstance(venvs, list)
    assert len(venvs) == TOTAL
    assert len({v["path"] for v in venvs}) == TOTAL
    broken = {v["name"]: v for v in venvs if v["status"] != "healthy"}
    assert set(broken) == {"brew-keg0", "brew-keg1", "brew-keg2", "legacy-app-py3.11"}
    flagged = [v["name"] for v in venvs if v["findings"] and v["name"] not in broken]
    assert flagged == []  # not even an informational finding elsewhere

    keg = homebrew.keg("3.12", "3.12.1")
    for name in ("brew-keg0", "brew-keg1", "brew-keg2"):
        [finding] = broken[name]["findings"]
        assert finding["code"] == "interpreter-dangling"
        assert str(keg) in finding["message"]
        assert "Homebrew removed the python@3.12 3.12.1 keg" in finding["message"]
        assert finding["hint"] == f"run `venv-doctor repair {broken[name]['path']}`"
    [finding] = broken["legacy-app-py3.11"]["findings"]
    assert finding["code"] == "interpreter-dangling"
    assert "`pyenv uninstall 3.11.7`" in finding["message"]
    assert broken["legacy-app-py3.11"]["store"] == "poetry"

    code, deep = check_json(capsys, "--deep")
    assert code == 1
    assert deep["summary"] == report["summary"]
    assert [v["findings"] for v in deep["venvs"]] == [v["findings"] for v in venvs]

    code = run(["check"])
    text = capsys.readouterr().out
    assert code == 1
    lines = text.splitlines()
    assert sorted(ln.split()[1] for ln in lines if ln.startswith("broken")) == sorted(broken)
    assert lines[-1] == f"{TOTAL} venvs: 196 healthy, 4 broken"
