"""The one process seam: children die with venv-doctor, and what a dead run left is ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from venv_doctor import runner
from venv_doctor.runner import RUN_ENV, CommandError, Group, end_group, live_members

# A child that starts a grandchild and records the grandchild's pid, as
# `python -m venv` starts the pip that seeds pip.
SPAWNER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(300)
"""

DRIVER = """
import os, sys
from venv_doctor import runner
runner.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], env=os.environ, timeout=300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_for(path: Path, proc: subprocess.Popen[bytes] | None = None) -> int:
    deadline = time.monotonic() + 30
    while not path.exists() or not path.read_text():
        assert proc is None or proc.poll() is None, "the driver ended early"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return int(path.read_text())


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_grandchildren_die_when_venv_doctor_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, SPAWNER, str(pidfile)])
    grandchild = _wait_for(pidfile, driver)
    assert _alive(grandchild)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert _gone(grandchild), "a child of the killed venv-doctor is still running"


def test_a_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    with pytest.raises(CommandError, match="timed out"):
        runner.run([sys.executable, "-c", SPAWNER, pidfile], env=os.environ, timeout=2)
    assert _gone(int(pidfile.read_text()), within=2)


def test_children_carry_the_run_token_and_the_scoped_tmpdir(tmp_path: Path) -> None:
    code = "import os, tempfile; print(os.environ['VENV_DOCTOR_RUN']); print(tempfile.gettempdir())"
    with runner.temp_scope(tmp_path):
        done = runner.run([sys.executable, "-c", code], env=os.environ, check=True)
    token, tmpdir = done.stdout.split()
    assert token == runner.group().token and tmpdir == str(tmp_path)
    outside = runner.run([sys.executable, "-c", code], env=os.environ, check=True)
    assert outside.stdout.split()[1] != str(tmp_path)


def test_end_group_kills_what_a_dead_run_left_and_waits() -> None:
    run_id = "4242-deadrun"
    straggler = subprocess.Popen(
        ["sleep", "300"], process_group=0, env={**os.environ, RUN_ENV: run_id}
    )
    stranger = subprocess.Popen(["sleep", "300"], process_group=0)
    try:
        assert end_group(Group(straggler.pid, run_id)) == [straggler.pid]
        straggler.wait(timeout=5)
        assert live_members(Group(straggler.pid, run_id)) == []
        # a group whose leader is not the dead run's watchdog is someone else's
        assert end_group(Group(stranger.pid, run_id)) == []
        assert stranger.poll() is None
    finally:
        for proc in (straggler, stranger):
            proc.kill()
            proc.wait()


def test_this_process_never_ends_its_own_group() -> None:
    assert end_group(runner.group()) == []
    assert runner.run(["true"], env=os.environ).ok


def test_a_command_that_cannot_start_is_shown_as_it_can_be_pasted(tmp_path: Path) -> None:
    """A venv's path with an escape sequence and a line break: the error shows the command
    quoted for bash ($'...'), nothing raw, and pasting it names that very program."""
    missing = tmp_path / "ev\x1bil\nname" / "bin" / "python"
    with pytest.raises(CommandError) as caught:
        runner.run([str(missing), "-c", "pass"], env=dict(os.environ))
    shown = caught.value.message.split("`")[1]
    assert shown.isprintable() and "$'" in shown, shown
    program = "printf '%s\\0' " + shown
    done = subprocess.run(["bash", "-c", program], capture_output=True, check=True, timeout=30)
    assert done.stdout.split(b"\0")[:-1] == [os.fsencode(missing), b"-c", b"pass"]
