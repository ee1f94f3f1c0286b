"""The snapshot-store benchmark runs in a quick mode and prints its two tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_snapshot_store.py"


def test_quick_bench_prints_sizes_and_history_times() -> None:
    cmd = [sys.executable, str(BENCH), "--venvs", "12", "--packages", "5", "--others", "0,20"]
    cmd += ["--own", "10,15"]
    done = subprocess.run(
        [*cmd, "--runs", "1"], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    sizes = [r for r in rows if r[:2] == ["5", "after"] or r[:2] == ["5", "after,"]]
    assert len(sizes) == 2, done.stdout
    assert sizes[0][2] == str(12 + 50 * 10)  # every change stored once, nothing pruned
    assert int(sizes[1][8]) < 12 + 50 * 10  # checks a day apart: retention let some go
    assert float(sizes[0][5]) >= float(sizes[0][3]) > 0  # MB at the end, after the first check
    history = [r[:2] for r in rows if len(r) == 4 and r[-1] == "ms"]
    assert history == [["10", "0"], ["10", "20"], ["15", "0"]], done.stdout
    assert all(float(r[2]) > 0 for r in rows if len(r) == 4 and r[-1] == "ms")
