"""The environment is passed, not fetched: core code takes it from the Context.

``os.environ`` is read only at the front doors (the CLI entry, the daemon's start)
and in the few places that must touch the process environment itself.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import pytest

from venv_doctor import runner
from venv_doctor.config import Config
from venv_doctor.context import Context
from venv_doctor.notify import TEST_NOTIFICATION, build_notifiers, dispatch
from venv_doctor.paths import app_dirs

SRC = Path(__file__).resolve().parents[1] / "src" / "venv_doctor"
# module -> why it may name os.environ
ALLOWED = {
    "cli/base.py": "the CLI entry reads it once into the Context",
    "cli/__init__.py": "the CLI entry: which front door takes the command line",
    "cli/app.py": "the CLI entry: the debug log, before or without a Context",
    "cli/front.py": "the front door for check reads it once into the Context",
    "cli/recovery.py": "the CLI entry: crash recovery before a Context exists",
    "cli/output.py": "a Settings asked about colour without a Context's environment",
    "cli/background/daemon.py": "the daemon's start builds its Context",
    "daemon/loop.py": "the daemon's start takes systemd's variables out so children do not inherit them",
    "cli/shell/completion.py": "shell completion is a front door of its own (no Context is built)",
    "cli/repair.py": "the CLI's spinner asks the terminal (TERM)",
}


def _names_environ(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        for node in ast.walk(tree)
    )


def test_only_the_front_doors_read_os_environ() -> None:
    readers = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if _names_environ(p)}
    assert readers <= set(ALLOWED), sorted(readers - set(ALLOWED))
    assert "cli/base.py" in readers  # the guard sees what it should


DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


def _passed_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment unlike the process's: one variable only here, one only there,
    and every variable the runner scrubs, set to something a child must not see."""
    monkeypatch.setenv("VD_ONLY_IN_PROCESS", "process")
    monkeypatch.delenv("VD_ONLY_PASSED", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "VD_ONLY_IN_PROCESS"}
    env.update(dict.fromkeys(runner.SCRUBBED, "/leaked"), VD_ONLY_PASSED="passed")
    env[runner.RUN_ENV] = "someone-elses-run"
    return env


def _assert_child_saw(seen: dict[str, str]) -> None:
    assert seen["VD_ONLY_PASSED"] == "passed"
    assert "VD_ONLY_IN_PROCESS" not in seen  # no fallback to os.environ
    assert not set(runner.SCRUBBED) & set(seen), sorted(set(runner.SCRUBBED) & set(seen))
    assert seen[runner.RUN_ENV] == runner.group().token


def test_the_runner_starts_children_in_the_passed_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _passed_env(monkeypatch)
    out = tmp_path / "env.json"
    extra = {"VIRTUAL_ENV": "/meant/for/the/child"}  # extra is the caller's own: not scrubbed
    runner.run([sys.executable, "-c", DUMP_ENV, out], env=env, extra=extra, check=True)
    seen = json.loads(out.read_text())
    assert seen.pop("VIRTUAL_ENV") == "/meant/for/the/child"
    _assert_child_saw(seen)


def test_a_variable_only_in_the_context_reaches_a_child_a_core_function_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the [notify] command backend: the daemon's notifiers start it with the
    Context's environment, whatever the process's holds."""
    out = tmp_path / "env.json"
    script = tmp_path / "notifier"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{DUMP_ENV}" {out}\n')
    script.chmod(0o755)
    config = Config(notify_backends=("command",), notify_command=(str(script),))
    ctx = Context(config, app_dirs(os.environ), _passed_env(monkeypatch))
    command, _log = dispatch(TEST_NOTIFICATION, build_notifiers(ctx.config, ctx.env))
    assert command.ok, command.error
    _assert_child_saw(json.loads(out.read_text()))
