"""The import checker CI runs (.ci/check_imports.py): it finds cycles, counting
imports inside functions, and imports against the layers; the tree has none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT / ".ci" / "check_imports.py"


def run_checker(src: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(CHECKER), *([str(src)] if src else [])]
    return subprocess.run(args, capture_output=True, text=True, check=False)


def write(root: Path, name: str, text: str) -> None:
    path = root / "venv_doctor" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_source_tree_has_no_cycle_and_no_upward_import() -> None:
    done = run_checker()
    assert done.returncode == 0, done.stdout
    assert "no cycle, no upward import" in done.stdout


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    write(tmp_path, "__init__.py", "")
    write(tmp_path, "errors.py", "def f():\n    from venv_doctor import paths\n")
    write(tmp_path, "paths.py", "from venv_doctor.errors import f\n")
    done = run_checker(tmp_path)
    assert done.returncode == 1
    assert "import cycle among 2 modules: venv_doctor.errors (line 2) -> venv_doctor.paths" in (
        done.stdout
    )


def test_a_lower_layer_importing_a_higher_one_is_found(tmp_path: Path) -> None:
    write(tmp_path, "__init__.py", "")
    write(tmp_path, "record/__init__.py", "")
    write(tmp_path, "record/state.py", "from . import registry\n")
    write(tmp_path, "record/registry.py", "")
    write(tmp_path, "repair/__init__.py", "")
    write(tmp_path, "repair/plan.py", "")
    write(tmp_path, "model/venv.py", "import venv_doctor.repair.plan\n")
    write(tmp_path, "extra.py", "")
    done = run_checker(tmp_path)
    assert done.returncode == 1
    assert "venv_doctor.record.state:1 imports venv_doctor.record.registry, a higher layer" in (
        done.stdout
    )
    assert "venv_doctor.model.venv:1 imports venv_doctor.repair.plan, a higher layer" in done.stdout
    assert "venv_doctor.extra: in no layer" in done.stdout
