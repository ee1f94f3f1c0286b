"""What recorded snapshots cost in the state DB, and how fast ``history NAME`` reads them.

Size: V venvs (default 100) of P packages each (default 20 and 200). A first check
records every venv, then 50 checks each find 10 venvs changed (one package upgraded
in each). Recorded with the code under test ("after"; twice: with ``keep = "all"``, and
with the default retention policy with the checks a day apart) and, with ``--before
SRC``, with another source tree ("before", e.g. the commit before shared package
rows: ``git archive f6e5ee5 src | tar -x -C /tmp/before``). Prints the database's
file size (after a WAL checkpoint) after the first check and at the end, and what
each change added on average.

History: ``venv-doctor history NAME --json`` (the CLI, in-process, stdout to
/dev/null) for a venv of 10 snapshots of 200 packages while N other venvs hold 10
snapshots each (default N = 0 and 2,000), and for a venv of S snapshots alone
(default S = 300); "before" and "after" run interleaved in fresh processes, medians
of ``--runs``.

Each side runs in its own process (``--worker``) importing venv_doctor from its
tree; it records through the state module's functions what a check records
(``record_venvs`` for every venv, ``record_snapshot`` for the changed ones, and after
``prune`` where the code has it). Nothing outside a temporary directory is touched.

    .venv/bin/python bench/bench_snapshot_store.py [--before /tmp/before/src] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKS, CHANGED = 50, 10
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# --- the worker: runs with one tree's venv_doctor ---------------------------------------------


def _packages(count: int, bumps: dict[int, int]) -> tuple[Any, ...]:
    from venv_doctor.model.distributions import Package

    return tuple(
        Package(f"package-{i:03d}", f"1.{bumps.get(i, 0)}.0", i % 4 == 0, "index", None, "pip")
        for i in range(count)
    )


def _sighting(path: Path) -> Any:
    from venv_doctor.record import state

    return state.Sighting(path, path.name, "virtualenvwrapper", "venv", "3.12.8", "healthy")


def _record_check(db: Any, paths: list[Path], changed: dict[Path, Any], at: datetime) -> None:
    """What ``snapshots.record`` writes for one check (without reading venvs)."""
    from venv_doctor.config import Config
    from venv_doctor.model.distributions import Snapshot
    from venv_doctor.record import snapshots, state

    with db.transaction():
        state.record_venvs(db, [_sighting(p) for p in paths], at)
        stored = []
        for path, packages in changed.items():
            if state.record_snapshot(db, Snapshot(path, at, "3.12.8", packages, "disk")):
                stored.append(path)
        keep = getattr(Config(), "snapshot_keep", None)
        if keep is not None and hasattr(snapshots, "prune") and os.environ.get("BENCH_KEEP"):
            snapshots.prune(db, keep, stored, at)


def worker_size(workdir: Path, venvs: int, packages: int, daily: bool) -> dict[str, Any]:
    from venv_doctor.record import state

    database = workdir / "state.db"
    paths = [Path(f"/home/u/.virtualenvs/venv{i:04d}") for i in range(venvs)]
    bumps: dict[Path, dict[int, int]] = {p: {} for p in paths}
    step = timedelta(days=1) if daily else timedelta(minutes=10)
    start = datetime.now(UTC) - step * CHECKS
    with state.open_at(database) as db:
        _record_check(db, paths, {p: _packages(packages, {}) for p in paths}, start)
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        first = database.stat().st_size
        for check in range(CHECKS):
            changed = {}
            for n in range(CHANGED):
                path = paths[(check * CHANGED + n) % venvs]
                which = (check * 7 + n) % packages
                bumps[path][which] = bumps[path].get(which, 0) + 1
                changed[path] = _packages(packages, bumps[path])
            _record_check(db, paths, changed, start + step * (check + 1))
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (snaps,) = db.conn.execute("SELECT count(*) FROM snapshots").fetchone()
    return {"bytes": database.stat().st_size, "first": first, "snapshots": snaps}


def worker_history(workdir: Path, others: int, own: int, runs: int) -> dict[str, Any]:
    """Time ``history venv-target --json`` (building the database on the first call):
    the target has ``own`` snapshots of 200 packages, ``others`` venvs 10 of 20 each."""
    os.environ["VENV_DOCTOR_STATE_DIR"] = str(workdir)
    from venv_doctor.cli import run
    from venv_doctor.record import state

    database = workdir / "state.db"
    if not database.exists():
        paths = [Path(f"/home/u/.virtualenvs/other{i:05d}") for i in range(others)]
        target = Path("/home/u/.virtualenvs/venv-target")
        with state.open_at(database) as db, db.transaction():
            for n in range(max(own, 10)):
                at = T0 + timedelta(hours=n)
                shots = {p: _packages(20, {n % 20: n}) for p in paths if n < 10}
                if n < own:
                    shots[target] = _packages(200, {n % 200: n})
                _record_check(db, [*paths, target], shots, at)
    times = []
    for _ in range(runs):
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            start = time.perf_counter()
            code = run(["history", "venv-target", "--json"])
            times.append(time.perf_counter() - start)
        assert code == 0, code
    return {"seconds": times}


# --- the driver ---------------------------------------------------------------------------


def _isolated_env(root: Path, src: Path) -> dict[str, str]:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VENV_DOCTOR_", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(src), XDG_CONFIG_HOME=str(home / ".config"))
    for var in ("CONFIG", "STATE", "CACHE", "LOG"):
        env[f"VENV_DOCTOR_{var}_DIR"] = str(root / "vd" / var.lower())
    for var in ("WORKON_HOME", "PIPX_HOME", "PYENV_ROOT", "POETRY_VIRTUALENVS_PATH"):
        env.pop(var, None)
    return env


def _work(src: Path, workdir: Path, args: list[str], keep: bool = False) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = _isolated_env(workdir, src)
    if keep:
        env["BENCH_KEEP"] = "1"
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args, "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"worker {args} with {src} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another tree's src/ to compare with")
    parser.add_argument("--venvs", type=int, default=100)
    parser.add_argument("--packages", default="20,200")
    parser.add_argument("--others", default="0,2000")
    parser.add_argument("--own", default="10,300")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--worker", nargs="*")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.worker is not None:
        kind, *rest = args.worker
        if kind == "size":
            out = worker_size(args.workdir, int(rest[0]), int(rest[1]), rest[2] == "daily")
        else:
            out = worker_history(args.workdir, *(int(r) for r in rest[:3]))
        print(json.dumps(out))
        return
    sides = {"after": ROOT / "src"}
    if args.before:
        sides = {"before": args.before, **sides}
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="vd-bench-store-") as tmp:
        _sizes(Path(tmp), sides, args)
        _history(Path(tmp), sides, args)
    print(f"load {os.getloadavg()[0]:.2f} at the end")


def _sizes(tmp: Path, sides: dict[str, Path], args: argparse.Namespace) -> None:
    changes = CHECKS * CHANGED
    print(
        f"\nstate DB after a first check of {args.venvs} venvs, then {CHECKS} checks "
        f"with {CHANGED} changed venvs each ({changes} changes)"
    )
    print(
        f"{'packages/venv':>13}  {'code':<41} {'snapshots':>9} {'first check':>11} "
        f"{'at the end':>10} {'growth per change':>17}"
    )
    for count in (int(p) for p in args.packages.split(",")):
        runs: list[tuple[str, dict[str, Any]]] = []
        for side, src in sides.items():
            work = tmp / f"size-{side}-{count}"
            runs.append((side, _work(src, work, ["size", str(args.venvs), str(count), "-"])))
        work = tmp / f"size-keep-{count}"
        daily = _work(sides["after"], work, ["size", str(args.venvs), str(count), "daily"], True)
        runs.append(("after, default keep, checks a day apart", daily))
        growth = {label: (out["bytes"] - out["first"]) / changes for label, out in runs}
        reference = growth[runs[0][0]]
        for label, out in runs:
            ratio = f" {reference / growth[label]:6.1f}x less" if growth[label] < reference else ""
            print(
                f"{count:>13}  {label:<41} {out['snapshots']:>9} {out['first'] / 1e6:>8.2f} MB "
                f"{out['bytes'] / 1e6:>7.2f} MB {growth[label]:>12,.0f} B{ratio}"
            )


def _history(tmp: Path, sides: dict[str, Path], args: argparse.Namespace) -> None:
    print(
        "\nhistory NAME --json: a venv of S snapshots of 200 packages among N other venvs of "
        f"10 snapshots each; medians of {args.runs} fresh processes (best of 3 calls each), "
        "interleaved"
    )
    print(f"{'S own':>6} {'N others':>9}  " + "  ".join(f"{side:>12}" for side in sides))
    cases = [(10, int(n)) for n in args.others.split(",")]
    cases += [(int(n), 0) for n in args.own.split(",") if int(n) != 10]
    for own, others in cases:
        times: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(args.runs):
            for side, src in sides.items():
                work = tmp / f"history-{side}-{own}-{others}"
                out = _work(src, work, ["history", str(others), str(own), "3"])
                times[side].append(min(out["seconds"]))
        medians = {side: statistics.median(t) for side, t in times.items()}
        cells = "  ".join(f"{m * 1000:>9.1f} ms" for m in medians.values())
        ratio = ""
        if "before" in medians:
            ratio = f"   before/after {medians['before'] / medians['after']:.2f}x"
        print(f"{own:>6} {others:>9}  {cells}{ratio}")


if __name__ == "__main__":
    main()
