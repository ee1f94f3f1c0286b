"""Fault bench: SIGKILL real repairs at instants spread over their whole run, many times.

    python bench/bench_faults.py                 # 100 kills, shared among the cases
    python bench/bench_faults.py --trials 20 --cases relink

Cases (see tests/faults.py): a rebuild 3.11 -> 3.12 of a venv with 3 packages
and user files, with uv and with pip, and a relink after a Homebrew-style patch
upgrade. Each trial restores the broken venv byte for byte, starts
``venv-doctor repair``, SIGKILLs venv-doctor alone at the next instant of an
even spread from 0 to just past an uninterrupted run's duration, runs
``venv-doctor check``, and judges the venv (byte-identical to before, or
rebuilt healthy with every package and user file, else lost), the processes of
the killed run still alive, and the temp dirs left. Everything happens in a
throwaway directory; the real interpreters under the real pyenv root are only
read; no network (a local wheelhouse).

Exit status: 0 when nothing was lost, orphaned or leaked; 1 otherwise.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fault machinery lives with the tests (tests/faults.py)

from tests.faults import CASES, COMMITTED, LOST, ROLLED_BACK, Case, instants  # noqa: E402
from tests.support import tiny_wheels  # noqa: E402

COLUMNS = ("case", "trials", ROLLED_BACK, COMMITTED, LOST, "orphans", "temp dirs left")


def wheelhouse(root: Path) -> Path:
    house = root / "wheelhouse"
    house.mkdir()
    return tiny_wheels(house)


def run_case(root: Path, kind: str, house: Path, trials: int) -> tuple[list[object], list[str]]:
    case = Case(root / kind, kind, house)
    duration = case.duration()
    counts: Counter[str] = Counter()
    orphans = temp_left = 0
    problems = []
    for at in instants(duration, trials):
        verdict = case.trial(at)
        counts[verdict.outcome] += 1
        orphans += verdict.orphans
        temp_left += verdict.temp_left
        if verdict.outcome == LOST or verdict.orphans or verdict.temp_left:
            problems.append(f"{kind} killed at {at:.2f}s of {duration:.2f}s: {verdict}")
    print(f"  {kind}: uninterrupted run {duration:.2f}s, {trials} kills spread over it", flush=True)
    row = [kind, trials, counts[ROLLED_BACK], counts[COMMITTED], counts[LOST], orphans, temp_left]
    return row, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trials", type=int, default=100, help="kills in all, shared among the cases (100)"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES)
    )
    args = parser.parse_args()
    kinds = [k for k in args.cases.split(",") if k]
    unknown = set(kinds) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    root = Path(tempfile.mkdtemp(prefix="venv-doctor-bench-faults-"))
    rows, problems = [], []
    try:
        house = wheelhouse(root)
        for i, kind in enumerate(kinds):
            share = args.trials // len(kinds) + (1 if i < args.trials % len(kinds) else 0)
            row, bad = run_case(root, kind, house, share)
            rows.append(row)
            problems += bad
    finally:
        shutil.rmtree(root, ignore_errors=True)
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("  ".join(str(c).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    total = [sum(int(str(r[i])) for r in rows) for i in range(1, len(COLUMNS))]
    print("  ".join(str(v).ljust(w) for v, w in zip(["all", *total], widths, strict=True)))
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
