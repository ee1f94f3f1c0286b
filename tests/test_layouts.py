"""Which installation owns a path: one answer for diagnosis, notifications and the service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from venv_doctor.diagnose.interpreter_findings import guess_cause
from venv_doctor.interpreters.layouts import Installation, InstallKind, installation_of
from venv_doctor.notify.grouping import cause_label
from venv_doctor.service.interpreter import roots

K = InstallKind


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        (
            "/opt/homebrew/Cellar/python@3.12/3.12.1/bin/python3.12",
            Installation(
                K.HOMEBREW, Path("/opt/homebrew/Cellar/python@3.12/3.12.1"), "python@3.12", "3.12.1"
            ),
        ),
        (
            # a framework keg is Homebrew's, not python.org's
            "/opt/homebrew/Cellar/python@3.12/3.12.1/Frameworks/Python.framework/Versions/3.12/bin/python3.12",
            Installation(
                K.HOMEBREW, Path("/opt/homebrew/Cellar/python@3.12/3.12.1"), "python@3.12", "3.12.1"
            ),
        ),
        (
            "/usr/local/opt/python@3.10/bin/python3.10",
            Installation(K.HOMEBREW, Path("/usr/local/opt/python@3.10"), "python@3.10"),
        ),
        (
            "/home/u/.pyenv/versions/3.11.4/envs/tools/bin/python",
            Installation(K.PYENV, Path("/home/u/.pyenv/versions/3.11.4"), "3.11.4"),
        ),
        (
            "/home/u/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu/bin/python3.12",
            Installation(
                K.UV,
                Path("/home/u/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu"),
                "cpython-3.12.4-linux-x86_64-gnu",
            ),
        ),
        (
            "/Library/Frameworks/Python.framework/Versions/3.9/bin/python3.9",
            Installation(
                K.FRAMEWORK, Path("/Library/Frameworks/Python.framework/Versions/3.9"), "3.9"
            ),
        ),
        ("/usr/bin/python3.11", Installation(K.SYSTEM, Path("/usr"))),
        ("/usr/local/bin/", Installation(K.SYSTEM, Path("/usr/local"))),
        ("/srv/py/3.10/bin/python3.10", Installation(K.OTHER, Path("/srv/py/3.10"))),
        ("/srv/app/versions/2/bin/python3", Installation(K.OTHER, Path("/srv/app/versions/2"))),
    ],
)
def test_installation_of(path: str, owner: Installation) -> None:
    assert installation_of(path) == owner


def test_a_pyenv_root_not_named_pyenv_is_known_from_the_environment() -> None:
    root = Path("/srv/interpreters")
    path = root / "versions" / "3.9.18" / "bin" / "python3.9"
    assert installation_of(path).kind is InstallKind.OTHER
    owner = installation_of(path, {"PYENV_ROOT": str(root)})
    assert owner == Installation(K.PYENV, root / "versions" / "3.9.18", "3.9.18")


def test_diagnosis_notifications_and_the_service_name_the_same_installation() -> None:
    keg_python = Path("/opt/homebrew/Cellar/python@3.12/3.12.1/bin/python3.12")
    pyenv_python = Path("/root/.pyenv/versions/3.11.4/bin/python3.11")
    opt_python = Path("/opt/homebrew/opt/python@3.12/bin/python3.12")
    assert "python@3.12 3.12.1 keg" in guess_cause(keg_python, os.environ)
    assert cause_label(str(keg_python)) == "python@3.12"
    assert "`pyenv uninstall 3.11.4`" in guess_cause(pyenv_python, os.environ)
    assert cause_label(str(pyenv_python)) == "pyenv 3.11.4"
    # the service worries about what an upgrade deletes: kegs and pyenv versions, not opt/
    found = roots([keg_python, pyenv_python, opt_python], {})
    assert {(r.kind, r.prefix) for r in found} == {
        (K.HOMEBREW, keg_python.parent.parent),
        (K.PYENV, pyenv_python.parent.parent),
    }
