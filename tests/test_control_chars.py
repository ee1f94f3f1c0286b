"""Control characters are data: venv names and paths with line breaks, carriage returns
and escape sequences are shown escaped, never obeyed, and never become a line of a
requirements file a rebuild installs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support import FakeHomebrew, make_venv, real_python
from venv_doctor.cli import run
from venv_doctor.model.distributions import Package, Snapshot
from venv_doctor.record import requirements
from venv_doctor.render.sanitize import command as shell_command

HOSTILE_NAMES = (
    "nl\nhealthy   fake  [multivenv]  ",
    "cr\rhealthy",
    "esc\x1b[32mhealthy\x1b[0m",
    "bidi\u202egnp.exe",
)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202e]")  # what must never reach a terminal


@pytest.fixture
def hostile_store(isolated_home: Path) -> list[Path]:
    store = isolated_home / ".multivenv"
    first = make_venv(real_python("3.12"), store / "plain")
    made = [first]
    for name in HOSTILE_NAMES:
        made.append(Path(shutil.copytree(first, store / name, symlinks=True)))
    return made


def test_check_list_and_history_show_names_escaped(
    hostile_store: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["check"], ["check", "-v"], ["list"], ["history"]):
        run(command)
        out, err = capsys.readouterr()
        assert not RAW.search(out + err), (command, out)
        assert "nl\\nhealthy" in out and "esc\\x1b[32mhealthy" in out, out
    run(["check"])
    out = capsys.readouterr().out
    # one line per venv and the summary: a line break in a name forges no line
    assert len(out.splitlines()) == len(hostile_store) + 1, out


def test_json_keeps_names_exact(
    hostile_store: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run(["check", "--json"])
    names = {v["name"] for v in json.loads(capsys.readouterr().out)["venvs"]}
    assert set(HOSTILE_NAMES) <= names  # JSON escapes; the data is not altered


def test_a_newline_in_a_path_never_becomes_a_requirement_line(
    hostile_store: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    venv = hostile_store[1]  # "nl\n..." in its path
    (site,) = venv.glob("lib/python*/site-packages")
    for name, url, editable in (
        ("proj", "file:///src/proj%0Aevilpkg==6.6.6", True),
        ("arch", "https://example.invalid/arch-1.0.tar.gz\nevilpkg==6.6.6", False),
    ):
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
        (info / "RECORD").write_text("")
        (info / "REQUESTED").write_text("")
        kind = {"dir_info": {"editable": True}} if editable else {"archive_info": {}}
        (info / "direct_url.json").write_text(json.dumps({"url": url, **kind}))
    assert run(["requirements", str(venv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith(("#", "proj", "arch")) for line in lines), lines
    assert not any(
        "evilpkg" in line and not line.startswith("#") and "#" not in line for line in lines
    )
    assert lines[0].startswith("# requirements of ") and "\\n" in lines[0]


@pytest.mark.parametrize(
    "package",
    [
        Package("evil\nrequests", "1.0", True, "index"),
        Package("ok", "1.0 --index-url https://evil.example/simple", True, "index"),
        Package("ok", "1.0", True, "archive", url="https://h/x.whl\r\nevil==1"),
        Package("ok", "1.0", True, "vcs", url="git+https://h/r.git@abc evil"),
    ],
)
def test_a_hostile_snapshot_entry_is_written_as_a_comment(package: Package) -> None:
    snapshot = Snapshot(Path("/v"), datetime.now(UTC), "3.12.1", (package,), "recorded")
    text = requirements.render(snapshot)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == [], text
    assert len(text.splitlines()) == 3  # two header lines and one comment


def test_deep_check_reads_a_prefix_holding_separators_and_a_line_break(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The probe prints JSON: a prefix with "|" and a line break stays one value."""
    venv = make_venv(real_python("3.12"), isolated_home / ".multivenv" / "a|b\nc")
    run(["check", "--deep", "--json"])
    (found,) = json.loads(capsys.readouterr().out)["venvs"]
    assert found["path"] == str(venv)
    # `python -m venv` writes the path into pyvenv.cfg's `command` line, so the line break
    # makes a stray line there (cfg-garbage); the probe itself found nothing wrong
    assert {f["code"] for f in found["findings"]} <= {"cfg-garbage"}, found["findings"]


# --- commands to paste (hints) and the repair progress ---------------------------------

PASTED = "ev\x1bil\n it$x'é"  # ESC, a newline, a space, $, a quote, a non-ASCII letter


def _pasted_args(line: str) -> list[bytes]:
    """What bash runs when the command between the backticks of ``line`` is pasted:
    its arguments after ``venv-doctor``."""
    (shown,) = re.findall(r"`(venv-doctor [^`]*)`", line)
    program = "printf '%s\\0' " + shown.removeprefix("venv-doctor ")
    done = subprocess.run(["bash", "-c", program], capture_output=True, check=True, timeout=30)
    return done.stdout.split(b"\0")[:-1]


def _broken_in(homebrew: FakeHomebrew, store: Path, *names: str) -> list[Path]:
    """Venvs on Homebrew's 3.12.1, broken by its upgrade to 3.12.2 (dangling links)."""
    first = make_venv(homebrew.install("3.12", "3.12.1"), store / names[0])
    made = [first] + [Path(shutil.copytree(first, store / n, symlinks=True)) for n in names[1:]]
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    return made


@pytest.mark.parametrize("columns", ["40", "80", None])
def test_a_hint_pasted_into_bash_names_exactly_that_venv(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    columns: str | None,
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    long = "a venv with a rather long name, $HOME and 'quotes' in it"
    _broken_in(homebrew, isolated_home / ".virtualenvs", PASTED, long)
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    for name in (PASTED, long):
        assert run(["check", name]) == 1
        out = capsys.readouterr().out
        assert not RAW.search(out), out
        # the command is never split across lines, however narrow the terminal
        (line,) = [ln for ln in out.splitlines() if "`venv-doctor repair" in ln]
        assert _pasted_args(line) == [b"repair", name.encode()], line


def test_shell_word_round_trips_through_bash() -> None:
    words = [PASTED, "plain", "", "-dash", "back\\slash\x01", "c1\x85", "bidi\u202eexe"]
    words += ["bad\udcffname", "tab\tand\u00a0nbsp", "emoji \U0001f600", "\U000e0001tag"]
    shown = shell_command("printf", "%s\\0", *words)
    assert not RAW.search(shown) and shown.isprintable(), shown
    done = subprocess.run(["bash", "-c", shown], capture_output=True, check=True, timeout=30)
    assert done.stdout.split(b"\0")[:-1] == [os.fsencode(w) for w in words]


def test_the_repair_progress_escapes_a_name_rather_than_obeying_or_stripping_it(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    _broken_in(homebrew, isolated_home / ".virtualenvs", "evil", "ev\x1b[31mil")
    assert run(["repair", "--all"]) == 0
    captured = capsys.readouterr()
    assert not RAW.search(captured.out + captured.err), captured
    said = {line.split("] ", 2)[-1] for line in captured.err.splitlines() if "relinking" in line}
    # two venvs, two names: the escape sequence is shown, so they do not look the same
    assert {s.split(":")[0] for s in said} == {"evil", "ev\\x1b[31mil"}, captured.err


def test_a_venv_whose_path_holds_a_line_break_is_relinked(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The check after a relink reads the venv's sys.prefix back whole (it read a line
    break as a space, so such a venv failed every relink: "does not run inside the venv")."""
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    (venv,) = _broken_in(homebrew, isolated_home / ".virtualenvs", "nl\nand\\back\rslash")
    assert run(["repair", str(venv), "--json"]) == 0, capsys.readouterr()
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert (result["action"], result["outcome"]) == ("relink", "repaired"), result
