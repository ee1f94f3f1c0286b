"""The repair and daemon benchmarks still run: quick mode, one run, their own checks.

No timing is asserted (the figures belong in the README, not in a test); what
is asserted is that each script finished its own verification (every repaired
venv healthy, every console script running, every notification as expected)
and printed its table.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REAL_PYENV_ROOT, real_python

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run_bench(script: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    tmp.mkdir()
    env = {
        **os.environ,
        "PYENV_ROOT": str(REAL_PYENV_ROOT),  # the bench links to the real interpreters, read only
        "TMPDIR": str(tmp),  # its throwaway homes land in the test's tmp dir
    }
    return subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--runs", "1", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_repair_benchmark_quick_mode_verifies_and_prints_its_tables(tmp_path: Path) -> None:
    real_python("3.12")
    pytest.importorskip("pipx")  # the test extras install it
    done = run_bench("bench_repair.py", tmp_path / "bench")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFICATION FAILED" not in done.stderr
    assert "all results verified" in done.stdout
    assert "relink 10 venvs (repair --all)" in done.stdout
    for case in (
        "venv-doctor rebuild (uv)",
        "venv-doctor rebuild (pip)",
        "pipx reinstall (pip backend)",
        "pipx reinstall (uv backend)",
    ):
        assert case in done.stdout
    assert not list((tmp_path / "bench").iterdir()), "the benchmark left its throwaway home behind"


def test_daemon_benchmark_quick_mode_verifies_and_prints_its_tables(tmp_path: Path) -> None:
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        real_python(minor)
    done = run_bench(
        "bench_daemon.py", tmp_path / "bench", "--idle-seconds", "3", "--scale-seconds", "2"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFICATION FAILED" not in done.stderr
    assert "all results verified" in done.stdout
    assert "detection latency (keg renamed -> notification)" in done.stdout
    assert "time to healthy, auto relink of 5 venvs" in done.stdout
    assert "idle daemon over 3 s with 20 venvs registered" in done.stdout
    assert "RSS" in done.stdout and "CPU per idle minute" in done.stdout
    # the scale case: threads and RSS by number of venvs, and pip install -> snapshot
    assert "idle daemon by number of venvs" in done.stdout
    assert re.search(r"^20 +after +\d+ ", done.stdout, re.M), done.stdout
    assert "pip exit -> snapshot" in done.stdout
    assert not list((tmp_path / "bench").iterdir()), "the benchmark left its throwaway home behind"


def test_a_failed_verification_exits_non_zero(tmp_path: Path) -> None:
    """The benchmark's exit status means something: no interpreter, no figures."""
    env = {**os.environ, "PYENV_ROOT": str(tmp_path / "no-pyenv"), "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_repair.py"), "--quick", "--runs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "all results verified" not in done.stdout
    assert "is not installed" in done.stdout + done.stderr
