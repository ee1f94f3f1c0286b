"""The check benchmark runs in its quick mode and checks venv-doctor's answers itself."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import REAL_PYENV_ROOT, real_python

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_check.py"


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_check", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_quick_bench_prints_the_table_and_verifies_the_broken_count(tmp_path: Path) -> None:
    for minor in ("3.10", "3.11", "3.12"):
        real_python(minor)  # the bench's interpreters: fail in CI, skip elsewhere
    cmd = [sys.executable, BENCH, "--venvs", "20", "--runs", "1", "--venvs-large", "0"]
    cmd += ["--skip-pipx", "--pyenv-root", REAL_PYENV_ROOT, "--workdir", tmp_path / "bench"]
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "20 venvs: 20 venvs, 10 broken or unknown = 10 broken by the bench" in done.stderr
    assert "20 venvs --deep: 20 venvs, 10 broken or unknown = 10 broken by the bench" in done.stderr
    # tool, venvs, median s, min, max, cpu s, rss MB, CPU ratio to the syscall floor
    rows = {line.split("  ")[0]: line.split()[-7:] for line in done.stdout.splitlines()}
    assert rows["venv-doctor check --json"][0] == "20"
    assert rows["syscall floor (plain script)"][-1] == "1.00x"
    assert float(rows["venv-doctor check --json"][-1].rstrip("x")) > 1
    assert float(rows["venv-doctor check --json"][-2]) > 0  # peak RSS, MB
    assert "verified floor script: 20 venvs" in done.stderr
    assert "verified check PATH: " in done.stderr
    assert "requirements PATH (one venv)" in done.stdout
    assert "venv-doctor check --json --deep" in rows
    assert "sh loop: bin/python -c pass" in rows
    assert done.stdout.startswith("machine: ")
    assert not (tmp_path / "bench" / "main").exists()  # the work directory is cleaned up


def _report(*venvs: tuple[str, str | None]) -> str:
    """A `check --json` answer: one (status, finding code) per venv, at /v/0, /v/1, ..."""
    body = [
        {"path": f"/v/{i}", "status": status, "findings": [{"code": code}] if code else []}
        for i, (status, code) in enumerate(venvs)
    ]
    statuses = [status for status, _ in venvs]
    summary = {s: statuses.count(s) for s in ("healthy", "degraded", "broken", "unknown")}
    return json.dumps({"schema_version": 1, "venvs": body, "summary": summary})


def test_bench_accepts_an_answer_that_matches_what_it_broke() -> None:
    bench = _bench_module()
    expected = {"/v/0": "healthy", "/v/1": "garbage-cfg", "/v/2": "keg-upgrade"}
    answer = _report(
        ("healthy", None), ("unknown", "cfg-unreadable"), ("broken", "interpreter-dangling")
    )
    summary = bench.verify_check(answer, expected, "three")
    assert summary == "three: 3 venvs, 2 broken or unknown = 2 broken by the bench"


def test_bench_fails_when_venv_doctor_misses_a_broken_venv() -> None:
    bench = _bench_module()
    expected = {"/v/0": "healthy", "/v/1": "garbage-cfg"}
    with pytest.raises(bench.BenchError, match="0 broken or unknown, the bench broke 1"):
        bench.verify_check(_report(("healthy", None), ("healthy", None)), expected, "missed")


def test_bench_fails_on_the_wrong_finding_or_a_missing_venv() -> None:
    bench = _bench_module()
    expected = {"/v/0": "minor-drift", "/v/1": "healthy", "/v/2": "healthy"}
    answer = _report(("broken", "dead-shebang"), ("healthy", None))
    with pytest.raises(bench.BenchError, match="not reported: /v/2") as failure:
        bench.verify_check(answer, expected, "wrong")
    assert "expected broken minor-mismatch" in str(failure.value)
