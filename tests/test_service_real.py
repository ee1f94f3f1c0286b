"""The shipped daemon unit under a real ``systemd --user`` (tests/user_manager.py), with a
real notification server (dunst): what a user lives with, in one scenario.

venv-doctor runs inside the manager's mount namespace (``nsenter``), as the user would
run it in a session: ``service install`` writes the unit where this manager reads it
(its ``XDG_CONFIG_HOME``), the unit gets the test's directories and store variable,
and the session bus is dunst's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dunst_server import Dunst
from tests.support import FakeHomebrew, make_venv, pip_install, real_python
from tests.user_manager import UserManager

UNIT = "venv-doctor.service"
SCRIPT = str(Path(sys.executable).parent / "venv-doctor")


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Session:
    """venv-doctor commands as the user of ``manager`` runs them."""

    def __init__(self, manager: UserManager, bus: str) -> None:
        self.manager = manager
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
            "XDG_CONFIG_HOME": str(manager.home / ".config"),
            "DBUS_SESSION_BUS_ADDRESS": bus,
        }

    def vd(self, *args: str, check: bool = True) -> Any:
        return self.manager.run([SCRIPT, *args], env=self.env, check=check, timeout=120)

    def show(self, *props: str) -> dict[str, str]:
        return self.manager.show(UNIT, *props)


@pytest.fixture
def session(
    user_manager: UserManager, dunst: Dunst, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Session]:
    monkeypatch.setenv("WORKON_HOME", str(tmp_path / "venvs"))
    config = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        textwrap.dedent(
            """
            [watch]
            debounce_seconds = 0.3
            [repair]
            auto = "off"
            """
        )
    )
    s = Session(user_manager, dunst.address)
    try:
        yield s
    finally:  # the manager outlives the test: leave it as found
        s.vd("service", "uninstall", check=False)
        user_manager.systemctl("reset-failed", check=False)


def test_the_daemon_unit_under_a_real_user_manager(
    session: Session, dunst: Dunst, homebrew: FakeHomebrew, tmp_path: Path, wheelhouse: Path
) -> None:
    python = homebrew.install("3.12", "3.12.1")
    for name in ("api", "web", "etl"):
        make_venv(python, tmp_path / "venvs" / name)

    # install enables and starts it; active means READY=1 came (Type=notify)
    session.vd("service", "install")
    session.manager.wait_for(UNIT, {"ActiveState": "active", "SubState": "running"})
    assert session.show("UnitFileState")["UnitFileState"] == "enabled"
    try:
        status = wait_for(
            lambda: (t := session.show("StatusText")["StatusText"]).startswith("3 ") and t,
            60,
            "StatusText with the venv counts",
        )
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {session.show('StatusText')}\n{session.manager.journal('venv-doctor')}"
        ) from None
    # Cellar links: they work, but break at the next patch upgrade
    assert re.fullmatch(r"3 degraded; watching \d+ directories", status)
    assert re.search(r"^daemon:\s+running", session.vd("status").stdout, re.M)

    # a broken venv produces one critical notification naming them
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    wait_for(lambda: dunst.displayed() == 1, 60, "a notification")
    (note,) = dunst.open_notifications()
    assert note["summary"] == "3 venvs broke after python@3.12 changed"
    assert note["urgency"] == "critical"
    assert note["body"].splitlines()[-1] == "Run: venv-doctor repair api etl web"
    # its warning reaches the journal as a warning
    warnings = wait_for(
        lambda: "broke" in (j := session.manager.journal("venv-doctor", "-p", "warning")) and j,
        30,
        "the warning in the journal",
    )
    assert "3 venvs broke after python@3.12 changed" in warnings

    # the hardened unit still relinks (SIGHUP reloads the config) and the notification
    # that said "broke" is replaced by one that says "repaired"
    config = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"]) / "config.toml"
    config.write_text(config.read_text().replace('auto = "off"', 'auto = "relink"'))
    session.manager.systemctl("reload", UNIT)
    wait_for(
        lambda: "repaired" in session.manager.journal("venv-doctor"),
        90,
        "the relink: " + session.manager.journal("venv-doctor"),
    )
    wait_for(lambda: dunst.displayed() == 1, 30, "the replacement")
    (note,) = dunst.open_notifications()
    assert note["summary"] == "3 venvs repaired after python@3.12 changed"
    assert note["urgency"] == "normal"
    assert len(dunst.history()) == 2  # the "broke" one (closed to read it above) and this one
    for name in ("api", "web", "etl"):
        link = tmp_path / "venvs" / name / "bin" / "python3.12"
        assert os.readlink(link) == str(homebrew.opt_python("3.12"))

    # ... and still rebuilds: a 3.10 venv whose only 3.10 vanishes is made again on the
    # Python the service finds (pip.conf points pip and uv at the wheelhouse), packages
    # and all
    fake = tmp_path / "fakepy" / "3.10.13" / "bin"
    fake.mkdir(parents=True)
    (fake / "python3.10").symlink_to(real_python("3.10"))
    proj = make_venv(fake / "python3.10", tmp_path / "venvs" / "proj")
    pip_install(proj, wheelhouse, "tinytop")
    wait_for(
        lambda: "tinytop==3.0.0" in session.vd("requirements", "proj", check=False).stdout,
        60,
        "the snapshot of proj",
    )
    pip_conf = session.manager.home / ".config" / "pip" / "pip.conf"
    pip_conf.parent.mkdir(parents=True, exist_ok=True)
    pip_conf.write_text(f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    config.write_text(config.read_text().replace('auto = "relink"', 'auto = "rebuild"'))
    session.manager.systemctl("reload", UNIT)
    wait_for(
        lambda: session.manager.journal("venv-doctor").count("config reloaded") >= 2, 30, "reload"
    )
    beat = Path(os.environ["VENV_DOCTOR_STATE_DIR"]) / "daemon.json"
    wait_for(
        lambda: str(fake) in {w["path"] for w in json.loads(beat.read_text())["watched"]},
        60,
        "the watch on proj's interpreter",
    )
    shutil.rmtree(tmp_path / "fakepy")
    try:
        wait_for(lambda: "proj: repaired" in session.manager.journal("venv-doctor"), 120, "")
    except AssertionError as exc:
        journal = session.manager.journal("venv-doctor")
        raise AssertionError(f"{exc}the rebuild:\n{journal}") from None
    assert not (proj / "bin" / "python3.10").is_symlink()  # another minor now
    checked = json.loads(session.vd("check", "proj", "--json").stdout)
    assert [v["status"] for v in checked["venvs"]] == ["healthy"], checked
    assert "tinytop==3.0.0" in session.vd("requirements", "proj").stdout

    # kill -9: restarted (RestartSec=10s)
    pid = int(session.show("MainPID")["MainPID"])
    os.kill(pid, signal.SIGKILL)
    session.manager.wait_for(
        UNIT, {"NRestarts": "1", "ActiveState": "active", "SubState": "running"}, timeout=90
    )
    assert int(session.show("MainPID")["MainPID"]) not in (0, pid)

    # stop: a clean exit on SIGTERM
    session.manager.systemctl("stop", UNIT)
    assert session.show("Result", "ActiveState") == {"Result": "success", "ActiveState": "inactive"}

    # a bad config: failed at once, no restart loop, and said so by every command
    config.write_text("[repair]\nauto = 'sometimes'\n")
    session.manager.systemctl("start", UNIT, check=False)
    # failed/failed, not activating/auto-restart: no restart is scheduled (exit 2 prevents it)
    session.manager.wait_for(UNIT, {"ActiveState": "failed", "SubState": "failed"})
    after = session.show("NRestarts", "ExecMainStatus", "Result")
    assert after == {"NRestarts": "0", "ExecMainStatus": "2", "Result": "exit-code"}
    said = session.vd("status").stdout
    assert re.search(rf"^daemon:\s+failed: {re.escape(str(config))}: ", said, re.M), said
    service_status = session.vd("service", "status", "--json")
    assert str(config) in json.loads(service_status.stdout)["config_error"]

    # uninstall leaves nothing: no file, no failed unit, no link
    session.vd("service", "uninstall")
    assert session.show("LoadState")["LoadState"] == "not-found"
    listed = session.manager.systemctl("list-units", "--all", "--plain", "venv-doctor*").stdout
    assert "venv-doctor" not in listed
    leftovers = [p for p in session.manager.unit_dir.rglob("*") if "venv-doctor" in p.name]
    assert leftovers == []
