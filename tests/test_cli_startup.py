"""What `venv-doctor check` loads and leaves behind: it must start fast and stay harmless."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import make_venv, real_python
from venv_doctor.cli import run

PROBE_IMPORTS = """\
import json, sys
from venv_doctor.cli import run
code = run(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith(("venv_doctor.cli.", "rich", "click")))
core = sorted(
    m for m in sys.modules
    if m.startswith(("venv_doctor.interpreters.", "venv_doctor.diagnose.", "venv_doctor.runner"))
    or m in ("subprocess", "concurrent.futures")
)
print(json.dumps({"code": code, "loaded": loaded, "core": core}), file=sys.stderr)
"""


def _fresh_run(*args: str) -> tuple[dict[str, Any], str]:
    """Run the CLI in a new interpreter; the modules it loaded and what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE_IMPORTS, *args], capture_output=True, text=True, check=False
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report, done.stdout


def test_check_loads_no_click(isolated_home: Path) -> None:
    report, stdout = _fresh_run("check", "--json")
    assert report["code"] == 0
    assert json.loads(stdout)["venvs"] == []
    # the front door (cli/front.py) takes it: neither click nor rich nor a command tree
    assert report["loaded"] == [
        "venv_doctor.cli.checking",
        "venv_doctor.cli.front",
        "venv_doctor.cli.output",
        "venv_doctor.cli.recovery",
    ]


def test_check_through_click_loads_only_its_own_command_module(
    isolated_home: Path, tmp_path: Path
) -> None:
    report, _ = _fresh_run("check", "--json", "--prometheus", str(tmp_path / "check.prom"))
    assert report["code"] == 0
    loaded = [m for m in report["loaded"] if m.startswith("venv_doctor.")]
    # no rich; completion callbacks are a small module of their own
    assert loaded == [
        "venv_doctor.cli.app",
        "venv_doctor.cli.base",
        "venv_doctor.cli.check",
        "venv_doctor.cli.checking",
        "venv_doctor.cli.front",
        "venv_doctor.cli.output",
        "venv_doctor.cli.recovery",
        "venv_doctor.cli.shell",
        "venv_doctor.cli.shell.completion",
    ]
    assert not [m for m in report["loaded"] if m.startswith("rich")]


@pytest.mark.parametrize("args", [("check", "--json"), ("check",)])
def test_static_check_never_loads_what_runs_interpreters(
    isolated_home: Path, args: tuple[str, ...]
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "good")
    report, _ = _fresh_run(*args)
    assert report["code"] == 0
    # versions and layouts are read from paths; the probe and the inventory start processes
    loaded = report["core"]
    assert isinstance(loaded, list)
    assert "venv_doctor.interpreters.versions" in loaded  # what diagnosis reads
    assert "venv_doctor.interpreters.probe" not in loaded
    assert "venv_doctor.interpreters.inventory" not in loaded
    assert "venv_doctor.diagnose.diagnosis" in loaded
    for running in ("venv_doctor.diagnose.probe", "venv_doctor.runner", "subprocess"):
        assert running not in loaded  # nothing a static check never uses
    assert "concurrent.futures" not in loaded


def test_help_and_other_commands_still_see_every_command(isolated_home: Path) -> None:
    _, stdout = _fresh_run("--help")
    listed = stdout.split("Commands:", 1)[1].split()
    for name in ("check", "list", "paths", "track", "untrack"):
        assert name in listed
    report, stdout = _fresh_run("untrack", "nothing-tracked")
    assert report["code"] == 1  # "not tracked" from the untrack command itself
    assert "venv_doctor.cli.track" in report["loaded"]


def test_every_command_is_where_the_map_says() -> None:
    """COMMAND_MODULES (what `get_command` imports for a name) names each command's
    own module, and every command is in it."""
    from importlib import import_module

    from venv_doctor.cli.app import COMMAND_MODULES

    found = {}
    for module in set(COMMAND_MODULES.values()):
        for command in import_module(f"venv_doctor.cli.{module}").COMMANDS:
            found[command.name] = module
    assert found == COMMAND_MODULES


def test_list_loads_only_its_own_command_module(isolated_home: Path) -> None:
    report, _ = _fresh_run("list")
    assert report["code"] == 0
    assert "venv_doctor.cli.check" in report["loaded"]
    assert "venv_doctor.cli.repair" not in report["loaded"]


def test_a_mistyped_command_is_still_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["chek"]) == 2
    assert "Did you mean 'check'?" in capsys.readouterr().err


def test_check_gives_the_garbage_collector_back(isolated_home: Path) -> None:
    assert gc.isenabled()
    assert run(["check", "--json"]) == 0
    assert gc.isenabled()
