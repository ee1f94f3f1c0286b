"""Venvs this user may not read are `unknown` with a "permission denied" finding that
names the path and its owner: never a missing file, never a planned rebuild, never
skipped by the scan (issue 14, item 5).

The tests run as root, which reads everything, so the CLI runs through ``setpriv``
without the two capabilities that let root ignore file modes (CAP_DAC_OVERRIDE,
CAP_DAC_READ_SEARCH): for file access it is then an ordinary user who owns nothing
of the venvs, which belong to ``nobody``. (Switching to uid nobody instead is not
possible here: the interpreters live under /root, which nobody may not enter.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import IN_CI, make_venv, real_python

NOBODY = 65534
DROP = "-dac_override,-dac_read_search"


def unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        message = "needs root and setpriv (util-linux) to run the CLI without DAC capabilities"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    without_caps = [setpriv, f"--bounding-set={DROP}", f"--inh-caps={DROP}"]
    return subprocess.run(
        [*without_caps, sys.executable, "-m", "venv_doctor", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def give_to_nobody(path: Path, mode: int) -> None:
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    path.chmod(mode)


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    done = unprivileged("check", "--json", *args)
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def store(isolated_home: Path) -> Path:
    return isolated_home / ".virtualenvs"


def assert_denied(entry: dict[str, Any], path: Path) -> None:
    assert entry["status"] == "unknown"
    [finding] = entry["findings"]
    assert finding["code"] == "permission-denied"
    assert f"cannot read the directory {path} " in finding["message"] or (
        f"cannot read the file {path} " in finding["message"]
    )
    assert "(owner nobody" in finding["message"]
    assert "chmod" in finding["hint"] and "sudo -u nobody" in finding["hint"]


def test_a_0700_venv_of_another_user_is_reported_not_skipped(store: Path) -> None:
    make_venv(real_python("3.12"), store / "mine")
    theirs = make_venv(real_python("3.12"), store / "theirs")
    give_to_nobody(theirs, 0o700)
    code, data = check_json()
    assert code == 1  # unknown counts as a problem
    by_name = {v["name"]: v for v in data["venvs"]}
    assert set(by_name) == {"mine", "theirs"}  # listed by the scan
    assert by_name["mine"]["status"] == "healthy"
    assert_denied(by_name["theirs"], theirs)
    code, data = check_json(str(theirs))  # by path: not "no virtual environment there"
    assert code == 1
    assert_denied(data["venvs"][0], theirs)


def test_an_unreadable_lib_is_unknown_not_missing_and_not_rebuilt(store: Path) -> None:
    venv = make_venv(real_python("3.12"), store / "v")
    give_to_nobody(venv / "lib", 0o700)
    code, data = check_json()
    assert code == 1
    assert_denied(data["venvs"][0], venv / "lib")
    assert "site-packages-missing" not in json.dumps(data)
    done = unprivileged("repair", "v", "--dry-run", "--json")
    [result] = json.loads(done.stdout)["results"]
    assert result["action"] == "none"
    assert "permission denied" in result["message"]


def test_an_unreadable_pyvenv_cfg_hints_at_permissions(store: Path) -> None:
    venv = make_venv(real_python("3.12"), store / "v")
    give_to_nobody(venv / "pyvenv.cfg", 0o600)
    done = unprivileged("check")
    assert done.returncode == 1
    text = done.stdout.replace("\n    ", " ")  # findings wrap at spaces
    assert "unknown" in text.splitlines()[0]
    assert f"cannot read the file {venv}/pyvenv.cfg" in text or (
        "cannot read the file pyvenv.cfg" in text  # the venv's own path is left out
    )
    assert "recreate pyvenv.cfg" not in text
    assert "chmod -R a+rX" in text
    assert check_json()[0] == 1
    assert_denied(check_json()[1]["venvs"][0], venv / "pyvenv.cfg")
