from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.dbus_session import notification_service, session_bus
from venv_doctor.cli import run
from venv_doctor.paths import app_dirs


def write_config(text: str) -> None:
    path = app_dirs(os.environ).config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def sink_script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "sink"
    script.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_notify_test_through_a_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "got.json"
    script = sink_script(tmp_path, 'cat > "$1"\n')
    write_config(f'[notify]\nbackends = ["command"]\ncommand = ["{script}", "{out}"]\n')

    assert run(["notify", "--test", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data == {
        "schema_version": 1,
        "delivered": True,
        "deliveries": [
            {"backend": "command", "ok": True, "error": None},
            {"backend": "log", "ok": True, "error": None},
        ],
    }
    event = json.loads(out.read_text(encoding="utf-8"))
    assert event["kind"] == "test"
    assert event["venvs"] == []
    assert event["title"] == "venv-doctor test notification"


def test_notify_test_fails_when_only_the_log_delivered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = sink_script(tmp_path, "echo 'no route to ntfy.sh' >&2\nexit 7\n")
    write_config(f'[notify]\nbackends = ["command"]\ncommand = ["{script}"]\n')

    assert run(["notify", "--test"]) == 1

    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("command      failed: ")
    assert "exit code 7" in lines[0]
    assert "no route to ntfy.sh" in captured.out
    assert lines[-1] == "log          logged"
    assert "notify: command failed" not in captured.err  # printed once, not logged too
    assert "no backend delivered the test notification" in captured.err
    assert str(app_dirs(os.environ).config_file) in captured.err


def test_notify_lists_backends_and_why_they_are_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    write_config(
        '[notify]\nbackends = ["notify-send", "command"]\ncommand = ["/nonexistent/notifier"]\n'
    )

    assert run(["notify", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["backends"][0] == {
        "backend": "notify-send",
        "available": False,
        "reason": "notify-send not found (install libnotify-bin or libnotify)",
    }
    assert data["backends"][1]["backend"] == "command"
    assert data["backends"][-1] == {"backend": "log", "available": True, "reason": None}


def test_command_backend_without_a_command_is_a_config_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config('[notify]\nbackends = ["command"]\n')
    assert run(["notify", "--json"]) == 2
    assert "notify.command is missing or empty" in capsys.readouterr().err


def test_notify_test_reaches_a_real_desktop_bus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        session_bus(tmp_path / "dbus" / "bus") as address,
        notification_service(address, tmp_path) as service,
    ):
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        assert run(["notify", "--test"]) == 0
        received = service.received()
    assert capsys.readouterr().out.splitlines() == [
        "desktop      delivered",
        "log          logged",
    ]
    assert [r["summary"] for r in received] == ["venv-doctor test notification"]
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == address


def test_bad_notify_config_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    write_config('[notify]\nbackends = ["carrier-pigeon"]\n')
    assert run(["notify", "--test"]) == 2
    assert "notify.backends" in capsys.readouterr().err
