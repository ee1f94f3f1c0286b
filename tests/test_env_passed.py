"""The environment is passed, not fetched: core code takes it from the Context.

``os.environ`` is read only at the front doors (the CLI entry, the daemon's start)
and in the few places that must touch the process environment itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "venv_doctor"
# module -> why it may name os.environ
ALLOWED = {
    "cli/base.py": "the CLI entry reads it once into the Context",
    "cli/__init__.py": "the CLI entry: crash recovery and the debug log before a Context exists",
    "cli/background/daemon.py": "the daemon's start builds its Context",
    "daemon/loop.py": "the daemon's start takes systemd's variables out so children do not inherit them",
    "cli/shell/completion.py": "shell completion is a front door of its own (no Context is built)",
    "cli/repair.py": "the CLI's spinner asks the terminal (TERM)",
    "runner.py": "children inherit the process environment, scrubbed (not yet passed in)",
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
