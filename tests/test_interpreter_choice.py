"""Which interpreter of a minor a repair uses, and the plan saying why (issue 14):
the same kind of installation as the venv had, then the newest patch; never a path
the next upgrade deletes when another exists."""

from __future__ import annotations

from pathlib import Path

from venv_doctor.diagnose.findings import Code, Diagnosis, Finding, PythonInfo, Severity, Status
from venv_doctor.interpreters.inventory import Interpreter, choose
from venv_doctor.model.venv import Location
from venv_doctor.repair.plan import Action, plan_for

DEBIAN = Interpreter(Path("/usr/bin/python3.11"), Path("/usr/bin/python3.11"), "3.11.2", "system")
PYENV = Interpreter(
    Path("/home/me/.pyenv/versions/3.11.7/bin/python3.11"),
    Path("/home/me/.pyenv/versions/3.11.7/bin/python3.11"),
    "3.11.7",
    "pyenv",
)
KEG = Interpreter(
    Path("/opt/homebrew/Cellar/python@3.11/3.11.9/bin/python3.11"),
    Path("/opt/homebrew/Cellar/python@3.11/3.11.9/bin/python3.11"),
    "3.11.9",
    "homebrew",
)


def test_a_pyenv_venv_stays_on_pyenv_and_the_plan_says_why() -> None:
    choice = choose([DEBIAN, PYENV], "3.11", "/home/me/.pyenv/versions/3.11.1/bin")
    assert choice is not None
    assert choice.interpreter == PYENV
    assert "a pyenv Python, as the venv had" in choice.why
    assert "the newest 3.11" in choice.why
    assert "also found: /usr/bin/python3.11 (3.11.2)" in choice.why


def test_a_system_venv_stays_on_the_system_python_though_older() -> None:
    choice = choose([PYENV, DEBIAN], "3.11", "/usr/bin")
    assert choice is not None
    assert choice.interpreter == DEBIAN
    assert choice.why.startswith("a system Python, as the venv had")


def test_without_a_kind_to_keep_the_newest_patch_wins() -> None:
    choice = choose([DEBIAN, PYENV], "3.11")
    assert choice is not None
    assert choice.interpreter == PYENV
    assert choice.why.startswith("the newest 3.11")


def test_a_keg_path_loses_even_when_newer_and_of_the_same_kind() -> None:
    choice = choose([KEG, DEBIAN], "3.11", "/opt/homebrew/Cellar/python@3.11/3.11.1/bin")
    assert choice is not None
    assert choice.interpreter == DEBIAN


def test_one_candidate_needs_no_explanation() -> None:
    choice = choose([DEBIAN], "3.11", "/usr/bin")
    assert choice is not None and choice.why == ""
    assert choose([DEBIAN], "3.12") is None


def test_the_relink_plan_names_the_choice_and_the_others() -> None:
    location = Location("proj", Path("/home/me/.virtualenvs/proj"), "virtualenvwrapper")
    dangling = Finding(Code.INTERPRETER_DANGLING, Severity.ERROR, "bin/python3.11 points to ...")
    info = PythonInfo("3.11.1", "3.11", "/home/me/.pyenv/versions/3.11.1/bin", None)
    d = Diagnosis(location, Status.BROKEN, "venv", info, (dangling,))
    plan = plan_for(d, [DEBIAN, PYENV], has_snapshot=True, env={})
    assert plan.action is Action.RELINK
    assert plan.chosen == PYENV
    assert plan.reason.startswith(
        f"Python 3.11 is at {PYENV.path}; a pyenv Python, as the venv had"
    )
    assert "/usr/bin/python3.11 (3.11.2)" in plan.reason


def test_the_plan_relinks_onto_the_interpreter_its_explanation_names() -> None:
    """One rule: a Homebrew venv with only an old keg of its own kind left and Debian's
    3.11 goes to Debian (the keg goes at the next `brew cleanup`), asks a yes for the
    vendor change, and its reason explains that choice, not another."""
    location = Location("api", Path("/home/me/.virtualenvs/api"), "virtualenvwrapper")
    dangling = Finding(Code.INTERPRETER_DANGLING, Severity.ERROR, "bin/python3.11 points to ...")
    home = "/opt/homebrew/Cellar/python@3.11/3.11.1/bin"
    info = PythonInfo("3.11.1", "3.11", home, None)
    d = Diagnosis(location, Status.BROKEN, "venv", info, (dangling,))
    choice = choose([KEG, DEBIAN], "3.11", home)
    plan = plan_for(d, [KEG, DEBIAN], has_snapshot=True, env={})
    assert choice is not None
    assert plan.chosen == choice.interpreter == DEBIAN
    assert plan.reason == f"Python 3.11 is at {DEBIAN.path}; {choice.why}"
    assert choice.why.startswith("a path the next upgrade keeps")
    assert plan.confirm is not None and "from a homebrew Python to a system one" in plan.confirm


def test_a_rebuild_onto_another_minor_stays_with_the_vendor_and_says_so() -> None:
    location = Location("tool", Path("/home/me/.virtualenvs/tool"), "virtualenvwrapper")
    dangling = Finding(Code.INTERPRETER_DANGLING, Severity.ERROR, "bin/python3.10 points to ...")
    info = PythonInfo("3.10.4", "3.10", "/home/me/.pyenv/versions/3.10.4/bin", None)
    d = Diagnosis(location, Status.BROKEN, "venv", info, (dangling,))
    plan = plan_for(d, [DEBIAN, PYENV], has_snapshot=True, env={})
    assert (plan.action, plan.chosen) == (Action.REBUILD, PYENV)
    assert "a pyenv Python, as the venv had" in plan.reason
