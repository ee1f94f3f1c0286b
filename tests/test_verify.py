"""Verification of a rebuilt venv (repair/verify.py), on real venvs.

What it must still catch, and what it must not fail on, now that it imports only
the modules of the distributions the user asked for: a real package (black) whose
``blackd`` module needs an extra nobody installed passes with a note; a module that
fails for lack of a distribution that *is* installed, or a console script that
starts another interpreter or is gone, fails it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import IN_CI, make_venv, make_wheel, pip_install, real_python
from venv_doctor.model import distributions
from venv_doctor.repair.verify import Verification, modules_by_distribution, to_import
from venv_doctor.repair.verify import verify_rebuilt as verify

REAL_WHEELS = Path(__file__).resolve().parents[1] / "build" / "real-wheels"


def real_wheels() -> Path:
    """black and its dependencies for 3.12, from .ci/setup.d/60-real-wheels.sh."""
    if not list(REAL_WHEELS.glob("black-*.whl")):
        message = f"no black wheel in {REAL_WHEELS}: run .ci/setup.d/60-real-wheels.sh"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REAL_WHEELS


def verify_as_rebuilt(venv: Path, *requested: str) -> Verification:
    """Verify ``venv`` against what it holds (as a rebuild that installed exactly that)."""
    site = sorted(venv.glob("lib/python*/site-packages"))
    held = frozenset((p.name, p.version) for p in distributions.read(site).packages)
    return verify(venv, held, frozenset(), dict(os.environ), requested=frozenset(requested))


@pytest.fixture
def black_venv(tmp_path: Path) -> Path:
    venv = make_venv(real_python("3.12"), tmp_path / "fmt", creator="uv")
    pip_install(venv, real_wheels(), "black")
    return venv


def test_black_without_its_d_extra_verifies_with_a_note(black_venv: Path) -> None:
    done = verify_as_rebuilt(black_venv, "black")

    assert done.problem is None
    assert [n.split(",")[0] for n in done.notes] == ["blackd does not import without aiohttp"], (
        done.notes
    )


def test_a_console_script_that_starts_another_interpreter_fails(black_venv: Path) -> None:
    script = black_venv / "bin" / "black"
    lines = script.read_text(encoding="utf-8").splitlines(keepends=True)
    script.write_text("#!/usr/bin/python3\n" + "".join(lines[1:]), encoding="utf-8")

    done = verify_as_rebuilt(black_venv, "black")

    assert done.problem is not None
    assert done.problem.startswith("foreign-shebang: 1 console script in bin/ (black) starts ")


def test_a_missing_console_script_fails(black_venv: Path) -> None:
    (black_venv / "bin" / "blackd").unlink()

    assert verify_as_rebuilt(black_venv, "black").problem == (
        "console scripts missing from bin/: blackd"
    )


def test_a_requested_module_that_needs_a_broken_installed_one_fails(tmp_path: Path) -> None:
    """Only the requested distribution's module is imported, and what it imports is
    checked with it: a dependency that is installed but cannot be imported fails."""
    house = tmp_path / "house"
    make_wheel(house, "appdep", "1.0", module_source="raise RuntimeError('half installed')\n")
    make_wheel(house, "app", "1.0", requires=["appdep"], module_source="import appdep\n")
    venv = make_venv(real_python("3.12"), tmp_path / "app", creator="uv")
    pip_install(venv, house, "app")

    done = verify_as_rebuilt(venv, "app")

    assert done.problem is not None
    assert done.problem.startswith("cannot import: app (RuntimeError: half installed)")


def test_only_the_requested_distributions_modules_are_imported(black_venv: Path) -> None:
    site = list(black_venv.glob("lib/python*/site-packages"))

    assert to_import(site, ["Black"]) == {"black", "blackd", "blib2to3", "_black_version"}
    # only the requested distribution's RECORD is read for that
    assert list(modules_by_distribution(site, {"black"})) == ["black"]
    everything = set().union(*modules_by_distribution(site).values())
    assert {"click", "pathspec", "packaging"} <= everything
    # an old record without requested distributions, or a meta-package: every module
    assert to_import(site, []) == everything
    assert to_import(site, ["not-installed"]) == everything
