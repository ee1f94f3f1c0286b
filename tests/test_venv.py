"""The venv model's one answers (model/venv.py): what lib/pythonX.Y says, what is a venv."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import make_legacy_virtualenv, make_venv, real_python
from venv_doctor.model.venv import is_conda_dir, is_venv_dir, lib_dir_minor, venv_of


@pytest.mark.parametrize(
    ("name", "minor"),
    [("python3.12", "3.12"), ("python3.13t", "3.13"), ("python2.7", "2.7"), ("python3", None)],
)
def test_lib_dir_minor(name: str, minor: str | None) -> None:
    assert lib_dir_minor(name) == minor


def test_a_venvs_interpreter_belongs_to_it_and_a_base_one_to_none(tmp_path: Path) -> None:
    base = real_python("3.12")
    venv = make_venv(base, tmp_path / "v")
    assert venv_of(venv / "bin" / "python") == venv
    assert venv_of(base) is None


def test_a_legacy_virtualenv_is_a_venv_and_conda_is_not(tmp_path: Path) -> None:
    legacy = make_legacy_virtualenv(real_python("2.7"), tmp_path / "old")
    assert is_venv_dir(legacy) and venv_of(legacy / "bin" / "python") == legacy
    conda = tmp_path / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "bin").mkdir()
    (conda / "bin" / "activate").write_text("# conda's activate\n")
    assert is_conda_dir(conda) and not is_venv_dir(conda)
