"""Real daemon processes: temporary HOME, a `command` notifier writing to a file."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    FakeHomebrew,
    clone_venv,
    make_venv,
    pip_install,
    real_python,
    tree_digest,
)

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class DaemonRun:
    def __init__(self, tmp: Path, auto: str = "relink", env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.notes = tmp / "notifications.jsonl"
        sink = tmp / "sink.py"
        sink.write_text(
            "import sys\nwith open(sys.argv[1], 'a') as fh:\n    fh.write(sys.stdin.read().strip() + '\\n')\n"
        )
        config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "config.toml").write_text(
            textwrap.dedent(
                f"""
                [watch]
                debounce_seconds = 0.3
                [repair]
                auto = "{auto}"
                [notify]
                backends = ["command"]
                command = [{json.dumps(sys.executable)}, {json.dumps(str(sink))}, {json.dumps(str(self.notes))}]
                """
            )
        )
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.log = tmp / "daemon-stderr.log"  # a file, so a test can wait for a line
        # a store that exists: the daemon never watches $HOME itself, so a home without
        # any store gives it nothing to watch until one appears
        (Path(os.environ["HOME"]) / ".virtualenvs").mkdir(exist_ok=True)

    def start(self) -> subprocess.Popen[str]:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "venv_doctor", "daemon"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
        status = Path(os.environ["VENV_DOCTOR_STATE_DIR"]) / "daemon.json"
        wait_for(
            lambda: status.exists() and json.loads(status.read_text()).get("watched"),
            30,
            "the daemon to watch",
        )
        return self.proc

    def notifications(self) -> list[dict[str, Any]]:
        if not self.notes.exists():
            return []
        return [json.loads(line) for line in self.notes.read_text().splitlines() if line.strip()]

    def stop(self) -> tuple[int, str]:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode, self.stderr()

    def stderr(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonRun]]:
    runs: list[DaemonRun] = []

    def make(**kw: Any) -> DaemonRun:
        run = DaemonRun(tmp_path, **kw)
        runs.append(run)
        return run

    yield make
    for run in runs:
        if run.proc is not None:
            run.stop()


def _cellar_venvs(homebrew: FakeHomebrew, home: Path, count: int) -> list[Path]:
    cellar_python = homebrew.install("3.12", "3.12.1")
    first = make_venv(cellar_python, home / ".virtualenvs" / "app0")
    venvs = [first]
    for i in range(1, count):
        clone = home / ".virtualenvs" / f"app{i}"
        shutil.copytree(first, clone, symlinks=True)
        venvs.append(clone)
    return venvs


def test_homebrew_upgrade_is_noticed_relinked_and_notified(
    daemon: Callable[..., DaemonRun], homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    venvs = _cellar_venvs(homebrew, isolated_home, 20)
    run = daemon(auto="relink")
    run.start()
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")  # the keg the venvs point into is gone
    notes = wait_for(run.notifications, 10, "a notification")
    assert len(notes) == 1, notes  # a burst of 20 broken venvs: one notification
    assert notes[0]["kind"] == "repaired"
    assert len(notes[0]["venvs"]) == 20
    assert "python@3.12" in notes[0]["title"], notes
    for venv in venvs:
        out = subprocess.run(
            args=[venv / "bin" / "python", "-c", "import sys; print(sys.prefix)"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == str(venv)
        assert os.readlink(venv / "bin" / "python3.12") == str(homebrew.opt_python("3.12"))
    code, _ = run.stop()
    assert code == 0


def test_auto_off_notifies_broken_with_the_command_to_run(
    daemon: Callable[..., DaemonRun], homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    (venv,) = _cellar_venvs(homebrew, isolated_home, 1)
    run = daemon(auto="off")
    run.start()
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    notes = wait_for(run.notifications, 10, "a notification")
    assert notes[0]["kind"] == "broken"
    assert notes[0]["venvs"][0]["path"] == str(venv)
    assert "venv-doctor repair" in notes[0]["body"]
    assert any(f["code"] == "interpreter-dangling" for f in notes[0]["venvs"][0]["findings"])


def test_pyenv_uninstall_with_env_deleted_is_reported_vanished(
    daemon: Callable[..., DaemonRun], tmp_path: Path, isolated_home: Path
) -> None:
    pyenv = Path(os.environ["PYENV_ROOT"])
    version_bin = pyenv / "versions" / "3.11.99" / "bin"
    version_bin.mkdir(parents=True)
    (version_bin / "python3.11").symlink_to(real_python("3.11"))
    env = make_venv(version_bin / "python3.11", pyenv / "versions" / "3.11.99" / "envs" / "tool")
    (pyenv / "versions" / "tool").symlink_to(env)
    outside = make_venv(version_bin / "python3.11", isolated_home / ".virtualenvs" / "app")
    run = daemon(auto="off")
    run.start()
    shutil.rmtree(pyenv / "versions" / "3.11.99")  # what `pyenv uninstall 3.11.99` does
    (pyenv / "versions" / "tool").unlink()
    notes = wait_for(lambda: len(run.notifications()) >= 2 and run.notifications(), 10, "2 events")
    # one batch, one event per kind: a script listening for "vanished" hears it
    assert sorted((n["kind"], n["venvs"][0]["path"]) for n in notes) == [
        ("broken", str(outside)),
        ("vanished", str(env)),
    ]


def _once(run: DaemonRun) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "venv_doctor", "daemon", "--once"],
        env=run.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_timer_run_notifies_like_the_daemon_and_logs_one_line(
    daemon: Callable[..., DaemonRun], homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    venvs = _cellar_venvs(homebrew, isolated_home, 5)
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    run = daemon(auto="off")

    first = _once(run)
    assert first.returncode == 1, first.stderr
    (note,) = run.notifications()
    assert note["kind"] == "broken"
    assert len(note["venvs"]) == 5
    assert note["body"].splitlines()[-1] == "Run: venv-doctor repair --all"
    lines = first.stderr.splitlines()
    assert lines[-1] == "INFO venv_doctor.daemon: checked 5 venvs: 5 broken"
    assert len(lines) == 2, lines  # the notification, logged, and the summary: no line per venv

    again = _once(run)  # state kept between runs: the user heard it already
    assert again.returncode == 1
    assert len(run.notifications()) == 1

    relink = daemon(auto="relink")  # the next run may relink: the conversation goes on
    fixed = _once(relink)
    assert fixed.returncode == 0, fixed.stderr
    last = relink.notifications()[-1]
    assert last["kind"] == "repaired"
    assert last["title"] == "5 venvs repaired after python@3.12 changed"
    assert fixed.stderr.splitlines()[-1] == "INFO venv_doctor.daemon: checked 5 venvs: 5 healthy"
    assert all(
        os.readlink(v / "bin" / "python3.12") == str(homebrew.opt_python("3.12")) for v in venvs
    )


def test_a_venv_removed_while_its_python_stays_is_not_announced(
    daemon: Callable[..., DaemonRun], homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    """`rmvirtualenv x` with the daemon running: no "vanished" alarm, while a venv that
    broke at the same time is still announced."""
    removed = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "old")
    (broken,) = _cellar_venvs(homebrew, isolated_home, 1)
    run = daemon(auto="off")
    run.start()
    shutil.rmtree(removed)
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    notes = wait_for(run.notifications, 10, "a notification")
    assert [n["kind"] for n in notes] == ["broken"]
    assert [v["path"] for v in notes[0]["venvs"]] == [str(broken)]


def test_second_daemon_refuses_to_start(daemon: Callable[..., DaemonRun]) -> None:
    first = daemon()
    first.start()
    second = subprocess.run(
        check=False,
        args=[sys.executable, "-m", "venv_doctor", "daemon"],
        env=first.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "another venv-doctor daemon is running" in second.stderr


def test_sigterm_during_rebuild_leaves_the_old_venv_intact(
    daemon: Callable[..., DaemonRun],
    homebrew: FakeHomebrew,
    isolated_home: Path,
    wheelhouse: Path,
    tmp_path: Path,
) -> None:
    # a 3.10 venv whose only 3.10 interpreter vanishes: only a rebuild can help
    pyenv_bin = tmp_path / "fakepy" / "3.10.13" / "bin"
    pyenv_bin.mkdir(parents=True)
    (pyenv_bin / "python3.10").symlink_to(real_python("3.10"))
    venv = make_venv(pyenv_bin / "python3.10", isolated_home / ".virtualenvs" / "proj")
    pip_install(venv, wheelhouse, "tinytop")
    marker = tmp_path / "paused"
    run = daemon(
        auto="rebuild",
        env={
            "VENV_DOCTOR_TEST_PAUSE_AT": "installing",
            "VENV_DOCTOR_TEST_PAUSE_AT_FILE": str(marker),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse),
        },
    )
    run.start()
    before_break = tree_digest(venv)
    shutil.rmtree(tmp_path / "fakepy")
    wait_for(marker.exists, 20, "the rebuild to reach the install step")
    code, err = run.stop()
    assert code == 0, err
    assert tree_digest(venv) == before_break


def test_systemd_protocol_ready_and_watchdog_pings(
    daemon: Callable[..., DaemonRun], tmp_path: Path
) -> None:
    import socket

    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(20)
    try:
        run = daemon(env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "1000000"})
        run.start()
        seen: list[str] = []
        while not ("READY=1" in seen and "WATCHDOG=1" in seen):
            seen.extend(sock.recv(4096).decode().splitlines())
        # every STATUS= names the venv counts, READY's too
        statuses = [line for line in seen if line.startswith("STATUS=")]
        assert statuses
        assert all(re.fullmatch(r"STATUS=no venvs; watching \d+ directories", s) for s in statuses)
        run.stop()
        seen.extend(sock.recv(4096).decode().splitlines())
        assert "STOPPING=1" in seen
    finally:
        sock.close()


def test_status_json_while_the_daemon_runs(
    daemon: Callable[..., DaemonRun], isolated_home: Path
) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "ok")
    run = daemon()
    proc = run.start()
    out = subprocess.run(
        [sys.executable, "-m", "venv_doctor", "status", "--json"],
        env=run.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(out.stdout)
    assert report["schema_version"] == 1
    assert report["daemon"]["running"] is True and report["daemon"]["pid"] == proc.pid
    assert report["last_scan"] is not None
    assert report["summary"]["healthy"] == 1
    assert report["watched"] and {w["mode"] for w in report["watched"]} == {"native"}
    assert str(isolated_home / ".virtualenvs") in {w["path"] for w in report["watched"]}
    run.stop()
    stopped = subprocess.run(
        [sys.executable, "-m", "venv_doctor", "status", "--json"],
        env=run.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(stopped.stdout)["daemon"] == {
        "running": False,
        "pid": None,
        "since": None,
        "service": None,
    }


def test_bad_config_on_start_exits_2_and_on_sighup_is_ignored(
    daemon: Callable[..., DaemonRun],
) -> None:
    run = daemon()
    config = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"]) / "config.toml"
    good = config.read_text()
    config.write_text("[repair]\nauto = 'sometimes'\n")
    bad = subprocess.run(
        [sys.executable, "-m", "venv_doctor", "daemon"],
        env=run.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "repair.auto" in bad.stderr
    config.write_text(good)
    proc = run.start()
    config.write_text("[repair]\nauto = 'sometimes'\n")
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config not reloaded, keeping the old one" in run.stderr(), 30, "the reload")
    assert proc.poll() is None  # still running, with the old config
    code, _ = run.stop()
    assert code == 0


def test_a_restart_does_not_repeat_a_notification(
    daemon: Callable[..., DaemonRun], homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    _cellar_venvs(homebrew, isolated_home, 1)
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")  # broken before the daemon ever runs
    first = daemon(auto="off")
    first.start()
    wait_for(first.notifications, 10, "the first notification")
    first.stop()
    second = daemon(auto="off")
    second.start()
    time.sleep(1.0)
    assert len(second.notifications()) == 1  # the same problem, told once


def test_status_works_with_a_broken_config(capsys: pytest.CaptureFixture[str]) -> None:
    from venv_doctor.cli import run as cli

    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text("[repair\n")
    assert cli(["status", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["daemon"]["running"] is False
    assert "not valid TOML" in captured.err


def test_the_daemon_does_not_feed_on_its_own_log(
    daemon: Callable[..., DaemonRun], homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    """`daemon -v` with its stderr written into every directory it watches (those under the
    test's tmp dir: the real pyenv root is only read): its own writes must not wake it
    (they once made 212,515 lines in 8 s)."""
    import threading

    local_bin = isolated_home / ".local" / "bin"
    local_bin.mkdir(parents=True)
    (local_bin / "python3.12").symlink_to(real_python("3.12"))
    make_venv(local_bin / "python3.12", isolated_home / ".virtualenvs" / "local")
    make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "brew")
    run = daemon()
    proc = subprocess.Popen(
        [sys.executable, "-m", "venv_doctor", "daemon", "-v"],
        env=run.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    run.proc = proc
    heartbeat = Path(os.environ["VENV_DOCTOR_STATE_DIR"]) / "daemon.json"
    watched = wait_for(
        lambda: heartbeat.exists() and json.loads(heartbeat.read_text()).get("watched"),
        30,
        "the daemon to watch",
    )
    every = [Path(w["path"]) for w in watched]
    assert isolated_home not in every
    # the real pyenv interpreters the venvs link to are watched too, but tests only read them
    dirs = [d for d in every if d.is_relative_to(isolated_home.parent)]
    assert len(dirs) >= 2, every
    lines: list[str] = []

    def copy() -> None:
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                lines.append(line)
                for d in dirs:
                    with (d / "venv-doctor-daemon.log").open("a") as fh:
                        fh.write(line)
        except ValueError:  # stderr closed by stop()
            return

    reader = threading.Thread(target=copy, daemon=True)
    reader.start()
    time.sleep(6)
    code, _ = run.stop()
    reader.join(10)
    assert proc.stderr is not None
    proc.stderr.close()
    assert code == 0
    assert len(lines) < 40, "".join(lines[-20:])


def _threads(pid: int) -> int:
    found = re.search(r"^Threads:\s+(\d+)$", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert found
    return int(found.group(1))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and inotify: Linux")
def test_a_pip_install_among_many_venvs_is_snapshotted_by_a_daemon_of_few_threads(
    daemon: Callable[..., DaemonRun], isolated_home: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    """Every venv's site-packages is watched through one inotify descriptor: the
    threads do not grow with the venvs (watchdog ran one per watched directory)."""
    template = make_venv(real_python("3.12"), tmp_path / "template")
    store = isolated_home / ".virtualenvs"
    venvs = [clone_venv(template, store / f"env{i:02d}") for i in range(40)]
    run = daemon()
    proc = run.start()
    report = json.loads((Path(os.environ["VENV_DOCTOR_STATE_DIR"]) / "daemon.json").read_text())
    assert len(report["watched"]) > 40  # every site-packages, and more
    assert _threads(proc.pid) <= 10

    pip_install(venvs[17], wheelhouse, "tinytop")

    def recorded() -> bool:
        out = subprocess.run(
            [sys.executable, "-m", "venv_doctor", "requirements", "env17", "--source", "recorded"],
            env=run.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return "tinytop==3.0.0" in out.stdout

    wait_for(recorded, 30, "the snapshot of env17 after the install")
    assert _threads(proc.pid) <= 10
    code, err = run.stop()
    assert code == 0, err


def test_a_venv_repaired_by_the_cli_meanwhile_is_not_reported_as_failed(
    homebrew: FakeHomebrew, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon planned a relink; a CLI repair got the lock first. No "could not be
    repaired": the daemon diagnoses again and says nothing."""
    from venv_doctor import config as config_module
    from venv_doctor import paths
    from venv_doctor.context import Context
    from venv_doctor.daemon.loop import Daemon
    from venv_doctor.diagnose.diagnosis import diagnose
    from venv_doctor.model.venv import Location, load
    from venv_doctor.repair import relink

    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    venv = make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "d")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    dirs = paths.app_dirs(os.environ)
    ctx = Context(config_module.load(dirs, os.environ), dirs, os.environ)
    location = Location("d", venv, "virtualenvwrapper")
    broken = diagnose(load(location), env=ctx.env)
    daemon = Daemon(ctx)
    target = relink.RelinkTarget(homebrew.opt_python("3.12"), "3.12.2")
    assert relink.relink(load(location), target, env=os.environ).ok  # the CLI, first to the lock

    results = daemon.respond.auto_repair([broken])
    assert results[venv].outcome != "failed"
    assert daemon.respond.repair_event(broken, results[venv]) is None
    assert daemon.known[venv].status.value == "healthy"


def test_a_check_read_in_chunks_acts_once_for_the_whole_batch(
    homebrew: FakeHomebrew, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon reads venvs a chunk at a time (its memory stays flat at 2,000 venvs),
    but what broke in one batch is still acted on, and told, once."""
    from venv_doctor import config as config_module
    from venv_doctor import paths
    from venv_doctor.context import Context
    from venv_doctor.daemon import respond
    from venv_doctor.daemon.loop import Daemon
    from venv_doctor.model.venv import Location

    monkeypatch.setattr(respond, "CHUNK", 2)
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    python = homebrew.install("3.12", "3.12.1")
    venvs = [make_venv(python, isolated_home / ".virtualenvs" / f"v{i}") for i in range(5)]
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    dirs = paths.app_dirs(os.environ)
    ctx = Context(config_module.load(dirs, os.environ), dirs, os.environ)
    daemon = Daemon(ctx)
    acted: list[list[Any]] = []
    monkeypatch.setattr(daemon.respond, "_act", acted.append)
    daemon.respond.check([Location(v.name, v, "virtualenvwrapper") for v in venvs])
    assert [sorted(d.path for _, d in batch) for batch in acted] == [sorted(venvs)]
    assert {kind for kind, _ in acted[0]} == {"broken"}
    assert len(daemon.known) == 5
