"""Daemon log lines carry their syslog priority when stderr is the journal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from venv_doctor.daemon import logs

CHILD = """
import logging, sys
from venv_doctor.daemon import logs
logs.configure(sys.stderr, __import__("os").environ, verbose=True)
log = logging.getLogger("venv_doctor.daemon")
log.debug("d"); log.info("i"); log.warning("w"); log.error("e")
try:
    raise ValueError("boom")
except ValueError:
    log.exception("x")
"""


def _run_child(stderr_file: Path, journal_stream: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    if journal_stream is not None:
        env["JOURNAL_STREAM"] = journal_stream
    with stderr_file.open("w") as err:
        subprocess.run([sys.executable, "-c", CHILD], stderr=err, env=env, check=True)
    return stderr_file.read_text().splitlines()


def test_lines_carry_the_priority_when_journal_stream_names_stderr(tmp_path: Path) -> None:
    target = tmp_path / "journal"
    target.touch()
    st = target.stat()
    lines = _run_child(target, f"{st.st_dev}:{st.st_ino}")
    assert lines[:4] == [
        "<7>DEBUG venv_doctor.daemon: d",
        "<6>INFO venv_doctor.daemon: i",
        "<4>WARNING venv_doctor.daemon: w",
        "<3>ERROR venv_doctor.daemon: e",
    ]
    assert lines[4] == "<3>ERROR venv_doctor.daemon: x"
    assert all(line.startswith("<3>") for line in lines[5:])  # the traceback stays an error
    assert any("ValueError: boom" in line for line in lines[5:])


def test_plain_lines_when_stderr_is_something_else(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.touch()
    st = other.stat()
    lines = _run_child(tmp_path / "stderr", f"{st.st_dev}:{st.st_ino}")
    assert lines[:2] == ["DEBUG venv_doctor.daemon: d", "INFO venv_doctor.daemon: i"]
    assert _run_child(tmp_path / "none", None)[2] == "WARNING venv_doctor.daemon: w"
    assert _run_child(tmp_path / "junk", "not:a-number")[3] == "ERROR venv_doctor.daemon: e"


def test_priority_bands() -> None:
    assert [logs.priority(n) for n in (5, 10, 20, 25, 30, 40, 50)] == [7, 7, 6, 6, 4, 3, 2]
    assert logs.priority(logging.CRITICAL) == 2
