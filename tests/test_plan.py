"""Planning a repair (repair/plan.py): pure decisions over a diagnosis and interpreters."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import make_venv, real_python
from tests.test_diagnosis import set_cfg, static
from venv_doctor.diagnose.findings import Code
from venv_doctor.interpreters.inventory import Interpreter
from venv_doctor.repair.plan import Action, plan_for


def interpreter(minor: str) -> Interpreter:
    path = real_python(minor)
    real = Path(os.path.realpath(path))
    return Interpreter(path, real, f"{minor}.99", "pyenv")


def test_a_version_mismatch_venv_is_rebuilt_for_the_minor_its_packages_are_in(
    tmp_path: Path,
) -> None:
    """pyvenv.cfg says 3.11, the packages are in lib/python3.12: diagnosis and plan
    both take the venv for a 3.12 one (model.venv.Venv.minor), so the rebuild
    keeps 3.12 instead of moving the packages to 3.11."""
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    set_cfg(venv, version="3.11.7")
    d = static(venv)
    assert d.codes() == {Code.VERSION_MISMATCH}
    assert d.python.minor == "3.12"
    assert d.python.version == "3.11.7"
    plan = plan_for(
        d, [interpreter("3.11"), interpreter("3.12")], has_snapshot=False, env=os.environ
    )
    assert plan.action is Action.REBUILD
    assert plan.chosen.minor == "3.12"
    assert plan.reason == "its contents need reinstalling (version-mismatch)"


def test_a_venv_with_several_lib_dirs_takes_its_minor_from_pyvenv_cfg(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "lib" / "python3.13" / "site-packages").mkdir(parents=True)
    d = static(venv)
    assert d.python.minor == "3.12"
