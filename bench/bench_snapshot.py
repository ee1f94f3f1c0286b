"""What snapshot recording adds to `check`, on a store of N venvs (default 500).

Builds one real venv with P tiny packages (installed by uv from a local
wheelhouse), copies it N times into a virtualenvwrapper-style store under a
temporary HOME, then times `check.check` in-process with and without recording:

- unchanged: every later check (two stats per venv, no snapshot written);
- changed: 10% of the venvs got a new package since the last check;
- first: the first check, which reads every venv and writes N snapshots.

Recording is timed on its own (it is the last step of `check`) and compared
with the rest of `check` (find, read and diagnose the venvs).

    .venv/bin/python bench/bench_snapshot.py [--venvs 500] [--packages 20] [--rounds 7]

Nothing outside the temporary directory is touched (HOME, XDG_* and
VENV_DOCTOR_* point into it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import make_wheel  # noqa: E402


def isolate(root: Path) -> None:
    home = root / "home"
    home.mkdir()
    for name in (
        "WORKON_HOME",
        "PIPX_HOME",
        "PYENV_ROOT",
        "POETRY_VIRTUALENVS_PATH",
        "HATCH_DATA_DIR",
    ):
        os.environ.pop(name, None)
    os.environ["HOME"] = str(home)
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        os.environ[var] = str(home / sub)
    for var in ("CONFIG", "STATE", "CACHE", "LOG"):
        os.environ[f"VENV_DOCTOR_{var}_DIR"] = str(root / "vd" / var.lower())
    os.environ["PYENV_ROOT"] = str(root / "pyenv")


def build(root: Path, venvs: int, packages: int, python: str) -> None:
    house = root / "wheels"
    names = [f"benchpkg{i:02d}" for i in range(packages)]
    for i, name in enumerate(names):
        requires = [names[i + 1]] if i + 1 < len(names) and i % 3 == 0 else []
        make_wheel(house, name, f"1.{i}.0", requires=requires)
    template = root / "template"
    subprocess.run([python, "-m", "venv", "--without-pip", template], check=True)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--no-config",
            "--offline",
            "--no-index",
            "--find-links",
            house,
            "--python",
            template / "bin" / "python",
            *names,
        ],
        check=True,
        env={**os.environ, "UV_NO_CACHE": "1"},
    )
    store = Path(os.environ["HOME"]) / ".virtualenvs"
    for i in range(venvs):
        shutil.copytree(template, store / f"venv{i:03d}", symlinks=True)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def change(store: Path, count: int, round_no: int) -> None:
    """Simulate an install in ``count`` venvs: a new dist-info appears."""
    for i in range(count):
        sp = next((store / f"venv{i:03d}" / "lib").glob("python*/site-packages"))
        info = sp / f"extra{round_no}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: extra{round_no}\nVersion: 1.0\n"
        )
        (info / "RECORD").write_text("")
        (info / "INSTALLER").write_text("pip\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venvs", type=int, default=500)
    parser.add_argument("--packages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vd-bench-snapshot-") as tmp:
        root = Path(tmp)
        isolate(root)
        build(root, args.venvs, args.packages, args.python)

        from venv_doctor import check, config, targets
        from venv_doctor.context import Context
        from venv_doctor.diagnose import scan
        from venv_doctor.paths import app_dirs
        from venv_doctor.record import snapshots, state

        dirs = app_dirs(os.environ)
        ctx = Context(config=config.load(dirs, os.environ), dirs=dirs, env=os.environ)
        assert len(check.check(ctx, record=False)) == args.venvs  # warm the page cache

        def diagnose() -> tuple[list[Any], list[Any]]:
            venvs = scan.read_venvs(targets.all_locations(ctx))
            return venvs, scan.diagnose_all(venvs, os.environ)

        def record() -> float:
            venvs, diagnoses = diagnose()
            return timed(lambda: snapshots.record(dirs, ctx.config, venvs, diagnoses, env=ctx.env))

        first = record()
        plain, steady, full = [], [], []
        for _ in range(args.rounds):
            plain.append(timed(diagnose))
            steady.append(record())
            full.append(timed(lambda: check.check(ctx)))
        changed = []
        store = Path(os.environ["HOME"]) / ".virtualenvs"
        for n in range(args.rounds):
            change(store, args.venvs // 10, n)
            changed.append(record())
        with state.open_db(dirs) as db:
            rows = db.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]

    base = statistics.median(plain)
    print(f"{args.venvs} venvs x {args.packages} packages, medians of {args.rounds} rounds")
    print(f"check without recording (find, read, diagnose)  {base * 1000:7.1f} ms")
    print(
        f"check with recording, unchanged venvs           {statistics.median(full) * 1000:7.1f} ms"
    )
    print("recording alone:")
    for label, value in (
        ("unchanged venvs (every later check)", statistics.median(steady)),
        (f"{args.venvs // 10} venvs changed since the last check", statistics.median(changed)),
        ("first check, empty database", first),
    ):
        print(f"  {label:<44} {value * 1000:7.1f} ms  = {value / base * 100:5.1f}% of check")
    print(f"snapshots stored: {rows}")


if __name__ == "__main__":
    main()
