"""The conventions every command keeps (issue 14): the usual flags, help text on every
option, --json everywhere and for failures too, one exit code for "not found"."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from venv_doctor import __version__
from venv_doctor.cli import run
from venv_doctor.cli.app import cli


def leaf_commands() -> Iterator[tuple[str, click.Command]]:
    group = cli
    assert isinstance(group, click.Group)
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                leaf = command.get_command(ctx, sub)
                assert leaf is not None
                yield f"{name} {sub}", leaf
        else:
            yield name, command


def test_every_option_has_help_text() -> None:
    missing = [
        f"{name} {param.opts}"
        for name, command in [("", cli), *leaf_commands()]
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []


def test_every_command_takes_json_quiet_and_verbose() -> None:
    for name, command in leaf_commands():
        opts = {o for p in command.params for o in p.opts}
        assert {"-q", "-v"} <= opts, name
        # the daemon logs (`status --json` reports on it); a hidden command is a tool's hook
        if name != "daemon" and not command.hidden:
            assert "--json" in opts, name


def test_options_reading_a_variable_say_which() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["--help"]).output
    assert "--color [auto|always|never]" in out
    assert "[env var: VENV_DOCTOR_COLOR]" in out


def cli_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_short_and_long(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("-V", "--version"):
        code, out, _ = cli_run(capsys, flag)
        assert (code, out.strip()) == (0, f"venv-doctor, version {__version__}")


def test_verbose_and_quiet_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    for args in (["-v", "check"], ["check", "-v"], ["-vv", "list"], ["list", "-v", "-v"]):
        assert cli_run(capsys, *args)[0] == 0, args
    for args in (["-q", "check"], ["check", "--quiet"]):
        assert cli_run(capsys, *args)[:2] == (0, ""), args


def error_document(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert set(data) == {"schema_version", "error"}
    assert data["schema_version"] == 1
    assert set(data["error"]) == {"message", "hint", "exit_code"}
    return data["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["check", "nosuch"], 1, "no venv of that name"),
        (["requirements", "nosuch"], 1, "nosuch"),
        (["history", "nosuch"], 1, "nosuch"),
        (["untrack", "nosuch"], 1, "nosuch is not tracked"),
        (["forget", "nosuch"], 1, "no record"),
        (["restore", "nosuch"], 1, "nosuch"),
        (["repair", "nosuch"], 1, "nosuch"),
        (["check", "--store", "nosuch"], 2, "no such store"),
        (["check", "--no-such-option"], 2, "No such option"),
    ],
)
def test_a_failing_json_command_still_writes_one_document(
    capsys: pytest.CaptureFixture[str],
    isolated_home: Path,
    args: list[str],
    code: int,
    words: str,
) -> None:
    got, out, err = cli_run(capsys, *args, "--json")
    assert got == code
    error = error_document(out)
    assert error["exit_code"] == code
    assert words in error["message"]
    assert error["message"] in err  # the message on stderr too
    assert cli_run(capsys, *args)[1] == ""  # without --json, stdout stays empty


def test_a_broken_config_is_a_json_error(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    from venv_doctor.paths import app_dirs

    file = app_dirs(os.environ).config_file
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text('[repair]\nauto = "sometimes"\n')
    code, out, _ = cli_run(capsys, "list", "--json")
    assert code == 2
    assert "repair.auto" in error_document(out)["message"]


def test_gc_restore_track_and_service_status_speak_json(
    capsys: pytest.CaptureFixture[str], isolated_home: Path, tmp_path: Path
) -> None:
    from tests.support import make_venv, real_python

    code, out, _ = cli_run(capsys, "gc", "--json")
    assert (code, json.loads(out)["removed"]) == (0, [])
    venv = make_venv(real_python("3.12"), tmp_path / "proj" / ".venv")
    code, out, _ = cli_run(capsys, "track", str(venv), "--json")
    assert json.loads(out)["venv"] == {"name": "proj", "path": str(venv)}
    code, out, _ = cli_run(capsys, "restore", "proj", "--list", "--json")
    assert (code, json.loads(out)["backups"]) == (0, [])
    code, out, _ = cli_run(capsys, "untrack", "proj", "--json")
    assert json.loads(out)["tracked"] is False
    code, out, _ = cli_run(capsys, "service", "status", "--json")
    assert "installed" in json.loads(out)
