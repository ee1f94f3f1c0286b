"""`venv-doctor interpreters [PYTHON] [--venvs]`: which venvs depend on which Python."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import FakeHomebrew, add_console_script, make_venv, real_python
from venv_doctor.cli import run
from venv_doctor.interpreters.inventory import Interpreter
from venv_doctor.interpreters.usage import usage


def _config(*pythons: Path) -> None:
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    extra = ", ".join(json.dumps(str(p)) for p in pythons)
    (config_dir / "config.toml").write_text(f"[interpreters]\nextra = [{extra}]\n")


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = run(["interpreters", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_links_home_and_shebangs_are_counted_and_the_exit_code_answers_safe_to_remove(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    py311, py312, py313 = real_python("3.11"), real_python("3.12"), real_python("3.13")
    _config(py311, py312, py313)
    store = isolated_home / ".virtualenvs"
    make_venv(py312, store / "linked")
    make_venv(py311, store / "copied", copies=True)  # needs 3.11 through home
    shebang = make_venv(py313, store / "shebang")
    add_console_script(shebang, "tool", interpreter=str(py312))  # a script run by the base

    code, listing = _json(capsys)
    assert code == 0
    counts = {i["version"].rsplit(".", 1)[0]: i["venvs"] for i in listing["interpreters"]}
    assert counts["3.12"] == 2 and counts["3.11"] == 1 and counts["3.13"] == 1

    code, used = _json(capsys, "3.12")
    assert code == 1
    assert sorted(v["name"] for v in used["venvs"]) == ["linked", "shebang"]
    assert {v["through"] for v in used["venvs"]} == {"link", "shebang"}
    code, used = _json(capsys, str(py311.parent.parent))  # the installation directory
    assert code == 1
    assert [(v["name"], v["through"]) for v in used["venvs"]] == [("copied", "home")]
    assert run(["interpreters", "3.9"]) == 2  # none installed here: not "safe", an error
    assert "3.9: no interpreter matches" in capsys.readouterr().err


def test_a_homebrew_formula_names_its_kegs_and_the_text_lists_venvs(
    homebrew: FakeHomebrew, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["HOMEBREW_PREFIX"] = str(homebrew.prefix)
    try:
        homebrew.install("3.12", "3.12.1")
        make_venv(homebrew.opt_python("3.12"), isolated_home / ".virtualenvs" / "brewed")
        assert run(["interpreters", "python@3.12", "--venvs"]) == 1
        out = capsys.readouterr().out
        assert "1 venv depends on" in out and "brewed" in out
        assert run(["interpreters", "python@3.11"]) == 2  # no such formula installed
        assert "no interpreter matches" in capsys.readouterr().err
    finally:
        del os.environ["HOMEBREW_PREFIX"]


def test_nothing_depends_on_an_unused_python(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    py310 = real_python("3.10")
    _config(py310)
    assert run(["interpreters", str(py310)]) == 0
    assert "No venv depends on" in capsys.readouterr().out


def test_a_tilde_in_the_spec_is_the_passed_home(tmp_path: Path) -> None:
    """``~`` means the Context's HOME (``home_dir``), not the process's."""
    passed = tmp_path / "passed-home"
    bindir = passed / "py" / "bin"
    bindir.mkdir(parents=True)
    python = bindir / "python3.12"
    python.symlink_to(real_python("3.12"))
    found = Interpreter(python, python.resolve(), "3.12.0", "extra")
    use = usage("~/py/bin/python3.12", [found], [], home_dir=passed)
    assert use is not None and use.interpreters == (found,)
    assert usage("~/py/bin/python3.12", [found], [], home_dir=tmp_path / "elsewhere") is None
    assert usage("~no-such-user-of-venv-doctor/py", [found], [], home_dir=passed) is None
