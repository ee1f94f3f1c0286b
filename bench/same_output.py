"""Check that a change leaves venv-doctor's output byte-identical on a bench world.

    python bench/same_output.py --before /tmp/old/src [--venvs 200] [--workdir DIR]

Builds the world `bench_check.py` builds (every store, half the venvs broken the
ways BRIEF.md describes), then runs each command in COMMANDS twice in a row,
once with the code in SRC (``PYTHONPATH``: the code before a change, e.g. ``git
archive main src | tar -x -C /tmp/old``) and once with this checkout's, and
compares stdout, stderr and the exit status byte for byte. Every command runs
once untimed first, so both sides see a state DB that already holds every venv.
Exit 0 when everything matches, 1 with the first differing lines otherwise.
A speed-up must not change a single finding: this is how to tell.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

# every command whose output comes from finding, reading and diagnosing venvs
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("check",),
    ("check", "-v"),
    ("check", "--json"),
    ("check", "-v", "--json"),
    ("check", "-q"),
    ("list",),
    ("list", "--json"),
    ("paths",),
    ("paths", "--json"),
    ("interpreters",),
    ("interpreters", "--json"),
    ("repair", "--all", "--dry-run"),
    ("repair", "--all", "--dry-run", "--json"),
)


def _bench_check() -> ModuleType:
    path = Path(__file__).resolve().parent / "bench_check.py"
    spec = importlib.util.spec_from_file_location("bench_check", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run(cmd: Sequence[str], env: Mapping[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(list(cmd), capture_output=True, text=True, env=dict(env), check=False)
    return done.returncode, done.stdout, done.stderr


def _env(base: Mapping[str, str], src: Path | None) -> dict[str, str]:
    env = dict(base)
    env.pop("PYTHONPATH", None)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def compare(world_env: Mapping[str, str], before: Path, python: str) -> list[str]:
    """The differences between the code in ``before`` and this checkout, per command."""
    problems = []
    for args in COMMANDS:
        cmd = [python, "-m", "venv_doctor", *args]
        run(cmd, _env(world_env, None))  # the state DB holds every venv from here on
        old = run(cmd, _env(world_env, before))
        new = run(cmd, _env(world_env, None))
        if old == new:
            print(f"same: venv-doctor {' '.join(args)} ({len(new[1])} bytes, exit {new[0]})")
            continue
        what = [f"exit {old[0]} before, {new[0]} now"] if old[0] != new[0] else []
        for name, a, b in (("stdout", old[1], new[1]), ("stderr", old[2], new[2])):
            if a != b:
                diff = difflib.unified_diff(
                    a.splitlines(), b.splitlines(), "before", "now", n=0, lineterm=""
                )
                what.append(f"{name}:\n  " + "\n  ".join(list(diff)[:12]))
        problems.append(f"venv-doctor {' '.join(args)} differs: " + "\n".join(what))
    return problems


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--before", type=Path, required=True, help="the source tree (src/) to compare")
    p.add_argument("--venvs", type=int, default=200, help="venvs in the world (default 200)")
    p.add_argument("--pyenv-root", type=Path, help="where the real CPythons are (pyenv root)")
    p.add_argument("--workdir", type=Path, help="build here (default: a new temp dir)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench = _bench_check()
    if not (args.before / "venv_doctor" / "__init__.py").is_file():
        print(f"same_output: error: {args.before} holds no venv_doctor package", file=sys.stderr)
        return 2
    root = (args.workdir or Path(tempfile.mkdtemp(prefix="venv-doctor-same-"))).resolve()
    try:
        real = bench.find_interpreters(args.pyenv_root or bench.real_pyenv_root())
        world = bench.build_world(root / "world", real, args.venvs)
        problems = compare(world.env(), args.before.resolve(), sys.executable)
    except bench.BenchError as exc:
        print(f"same_output: error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root if args.workdir is None else root / "world", ignore_errors=True)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
