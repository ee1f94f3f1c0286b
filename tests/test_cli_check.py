"""The CLI of issue 3: check, list, paths, track and untrack, exit codes and output."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    FakeHomebrew,
    make_venv,
    no_processes,
    pip_install,
    real_python,
)
from tests.terminal import cut_at_a_space, run_in_terminal
from venv_doctor.cli import run
from venv_doctor.discover import stores
from venv_doctor.paths import app_dirs

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code, out, err = cli(capsys, *args, "--json")
    assert err == ""
    return code, json.loads(out)


def write_config(text: str) -> Path:
    file = app_dirs(os.environ).config_file
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


@pytest.fixture
def wrapper_store(isolated_home: Path) -> Path:
    return isolated_home / ".virtualenvs"


@pytest.fixture
def three_states(wrapper_store: Path, homebrew: FakeHomebrew, tmp_path: Path) -> dict[str, Path]:
    """A healthy, a degraded (Cellar-pinned) and a broken (pyenv version gone) venv."""
    healthy = make_venv(real_python("3.12"), wrapper_store / "good")
    pinned = make_venv(homebrew.install("3.11", "3.11.7"), wrapper_store / "pinned")
    base = tmp_path / "pyenv" / "versions" / "3.12.1" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    broken = make_venv(base / "python3.12", wrapper_store / "gone")
    shutil.rmtree(tmp_path / "pyenv" / "versions" / "3.12.1")
    return {"good": healthy, "pinned": pinned, "gone": broken}


# --- check --json: the contract ---------------------------------------------------------


def test_check_json_contract(
    capsys: pytest.CaptureFixture[str], three_states: dict[str, Path]
) -> None:
    code, data = cli_json(capsys, "check")
    assert code == 1
    assert set(data) == {"schema_version", "venvs", "summary"}
    assert data["schema_version"] == 1
    assert data["summary"] == {"healthy": 1, "degraded": 1, "broken": 1, "unknown": 0, "removed": 0}
    by_name = {v["name"]: v for v in data["venvs"]}
    assert set(by_name) == {"good", "pinned", "gone"}
    for name, venv in by_name.items():
        assert {"name", "path", "store", "status", "creator", "python", "findings"} <= set(venv)
        assert venv["path"] == str(three_states[name])
        assert Path(venv["path"]).is_absolute()
        assert venv["store"] == "virtualenvwrapper"
        assert venv["creator"] == "venv"
        assert set(venv["python"]) >= {"version", "home", "resolved"}
        for finding in venv["findings"]:
            assert set(finding) >= {"code", "severity", "message", "hint"}
            assert finding["severity"] in ("info", "warning", "error")

    good = by_name["good"]
    assert good["status"] == "healthy"
    assert good["findings"] == []
    assert good["python"] == {
        "version": "3.12.1",
        "home": str(real_python("3.12").parent),
        "resolved": str(real_python("3.12").resolve()),
    }
    pinned = by_name["pinned"]
    assert pinned["status"] == "degraded"
    assert [f["code"] for f in pinned["findings"]] == ["cellar-pinned"]
    assert pinned["findings"][0]["severity"] == "warning"
    gone = by_name["gone"]
    assert gone["status"] == "broken"
    assert gone["python"]["resolved"] is None
    assert gone["python"]["version"] == "3.12.1"
    [dangling] = gone["findings"]
    assert dangling["code"] == "interpreter-dangling"
    assert dangling["severity"] == "error"
    assert "pyenv uninstall 3.12.1" in dangling["message"]
    assert dangling["hint"] == f"run `venv-doctor repair {three_states['gone']}`"


def test_static_check_starts_no_process(
    capsys: pytest.CaptureFixture[str], three_states: dict[str, Path]
) -> None:
    with no_processes():
        code, data = cli_json(capsys, "check")
    assert code == 1
    assert data["summary"]["broken"] == 1


def test_no_venvs_at_all(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = cli_json(capsys, "check")
    assert code == 0
    assert data == {
        "schema_version": 1,
        "venvs": [],
        "summary": {"healthy": 0, "degraded": 0, "broken": 0, "unknown": 0, "removed": 0},
    }


# --- exit codes ------------------------------------------------------------------------------


def test_exit_0_when_only_degraded(
    capsys: pytest.CaptureFixture[str], wrapper_store: Path, homebrew: FakeHomebrew
) -> None:
    make_venv(real_python("3.12"), wrapper_store / "good")
    make_venv(homebrew.install("3.12", "3.12.1"), wrapper_store / "pinned")
    code, out, err = cli(capsys, "check")
    assert code == 0
    assert "degraded  pinned" in out
    assert "cellar-pinned" not in out  # codes with -v
    assert "cellar-pinned" in cli(capsys, "check", "-v")[1]
    assert "cellar-pinned" in cli(capsys, "-v", "check")[1]
    assert err == ""


def test_exit_1_when_unknown(capsys: pytest.CaptureFixture[str], wrapper_store: Path) -> None:
    venv = make_venv(real_python("3.12"), wrapper_store / "odd")
    (venv / "pyvenv.cfg").unlink()
    (venv / "pyvenv.cfg").mkdir()
    code, data = cli_json(capsys, "check")
    assert code == 1
    assert data["summary"] == {"healthy": 0, "degraded": 0, "broken": 0, "unknown": 1, "removed": 0}
    assert data["venvs"][0]["findings"][0]["code"] == "cfg-unreadable"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[stores]\nextra = "/srv/envs"\n', ["stores.extra", "expected a list of directory paths"]),
        ("[stores]\nextras = []\n", ["unknown key stores.extras"]),
        ("[storez]\n", ["unknown section [storez]"]),
        ('[repair]\nauto = "sometimes"\n', ["repair.auto", 'one of "off", "relink", "rebuild"']),
        ("[stores\nextra = [", ["not valid TOML"]),
    ],
)
def test_invalid_config_is_exit_2(
    capsys: pytest.CaptureFixture[str], text: str, words: list[str]
) -> None:
    file = write_config(text)
    for command in (["check"], ["list"], ["paths"]):
        code, out, err = cli(capsys, *command)
        assert code == 2
        assert out == ""
        assert err.startswith(f"venv-doctor: error: {file}: ")
        for word in words:
            assert word in err
        assert "Traceback" not in err


def test_bad_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "check", "--no-such-option")
    assert code == 2
    assert "--no-such-option" in err


def test_internal_error_exit_70_with_a_debug_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("venv_doctor.cli.checking.check", explode)
    code, out, err = cli(capsys, "check")
    assert code == 70
    assert out == ""
    assert "Traceback" not in err
    assert "internal error: RuntimeError: boom" in err
    log = app_dirs(os.environ).debug_log
    assert f"details in {log}" in err
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError: boom" in text


def test_interrupted_is_exit_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("venv_doctor.cli.checking.check", interrupt)
    code, _, err = cli(capsys, "check")
    assert code == 130
    assert err.strip() == "venv-doctor: interrupted"


def test_help_is_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--help")
    assert code == 0
    assert "--deep" in out and "--store NAME" in out and "Exit status" in out


def test_console_script_exit_codes(wrapper_store: Path, tmp_path: Path) -> None:
    """The real entry point (python -m venv_doctor) exits with the documented code."""
    base = tmp_path / "base" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    make_venv(base / "python3.12", wrapper_store / "v")
    command = [sys.executable, "-m", "venv_doctor", "check"]
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    shutil.rmtree(tmp_path / "base")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "bin/python3.12 points to" in done.stdout


# --- targets and --store ---------------------------------------------------------------------


def test_target_by_name_and_by_path(
    capsys: pytest.CaptureFixture[str], three_states: dict[str, Path]
) -> None:
    code, data = cli_json(capsys, "check", "good")
    assert code == 0
    assert [v["name"] for v in data["venvs"]] == ["good"]
    code, data = cli_json(capsys, "check", str(three_states["gone"]), "good")
    assert code == 1
    assert {v["name"] for v in data["venvs"]} == {"gone", "good"}
    assert data["summary"]["broken"] == 1


def test_target_path_outside_every_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "proj" / ".venv")
    code, data = cli_json(capsys, "check", str(venv))
    assert code == 0
    assert [(v["store"], v["path"]) for v in data["venvs"]] == [("path", str(venv))]
    monkeypatch.chdir(tmp_path / "proj")
    code, data = cli_json(capsys, "check", ".venv")
    assert [v["path"] for v in data["venvs"]] == [str(venv)]


def test_target_through_a_symlink_is_the_store_venv(
    capsys: pytest.CaptureFixture[str], three_states: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "link").symlink_to(three_states["good"])
    code, data = cli_json(capsys, "check", str(tmp_path / "link"))
    assert code == 0
    assert [(v["name"], v["store"]) for v in data["venvs"]] == [("good", "virtualenvwrapper")]


def test_one_venv_by_path_or_recorded_name_lists_no_store(
    capsys: pytest.CaptureFixture[str],
    three_states: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command about one venv does one venv's work: a path, or a name the registry
    holds, is answered without listing the stores (and so as fast among 20,000 venvs)."""
    cli_json(capsys, "check")  # records every venv in the registry

    def listing(*args: object) -> None:
        raise AssertionError("a store was listed")

    monkeypatch.setattr(stores, "discover", listing)
    code, data = cli_json(capsys, "check", str(three_states["good"]))
    assert [(v["name"], v["store"]) for v in data["venvs"]] == [("good", "virtualenvwrapper")]
    code, data = cli_json(capsys, "check", "gone", "pinned")
    assert code == 1
    assert [v["name"] for v in data["venvs"]] == ["gone", "pinned"]
    code, out, err = cli(capsys, "requirements", "good")
    assert (code, err) == (0, "")
    code, out, err = cli(capsys, "history", "good")
    assert (code, err) == (0, "")
    assert "good" in out


def test_unknown_target(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "check", "nosuchvenv")
    assert code == 1
    assert out == ""
    assert "nosuchvenv: no venv of that name in any store" in err
    code, out, err = cli(capsys, "check", str(tmp_path))
    assert code == 1
    assert f"{tmp_path}: no virtual environment there" in err


def test_store_option(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "a")
    make_venv(real_python("3.12"), isolated_home / ".local" / "share" / "pipx" / "venvs" / "b")
    code, data = cli_json(capsys, "check", "--store", "pipx")
    assert code == 0
    assert [(v["name"], v["store"]) for v in data["venvs"]] == [("b", "pipx")]
    code, data = cli_json(capsys, "list", "--store", "virtualenvwrapper")
    assert [v["name"] for v in data["venvs"]] == ["a"]
    code, out, err = cli(capsys, "check", "--store", "nope")
    assert out == ""
    assert code == 2
    assert "--store nope: no such store" in err
    assert "pipx" in err


# --- list, paths, track, untrack ---------------------------------------------------------------


def test_list_json(capsys: pytest.CaptureFixture[str], three_states: dict[str, Path]) -> None:
    code, data = cli_json(capsys, "list")
    assert code == 0
    assert set(data) == {"schema_version", "venvs"}
    assert sorted(data["venvs"], key=lambda v: v["name"]) == [
        {"name": name, "path": str(three_states[name]), "store": "virtualenvwrapper"}
        for name in ("gone", "good", "pinned")
    ]
    code, out, _ = cli(capsys, "list")
    assert "good    virtualenvwrapper  ~/.virtualenvs/good" in out.splitlines()


def test_paths(capsys: pytest.CaptureFixture[str], isolated_home: Path, tmp_path: Path) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "a")
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "b")
    code, data = cli_json(capsys, "paths")
    assert code == 0
    dirs = app_dirs(os.environ)
    assert data["directories"] == {
        "config": str(dirs.config_file),
        "state": str(dirs.state),
        "cache": str(dirs.cache),
        "log": str(dirs.log),
        "backups": str(dirs.backups),
    }
    assert data["backups_elsewhere"] == "<the venv's directory>/.venv-doctor-backups"
    assert all(v.startswith(str(tmp_path)) for v in data["directories"].values())
    stores = {s["path"]: s for s in data["stores"]}
    wrapper = stores[str(isolated_home / ".virtualenvs")]
    assert wrapper == {
        "store": "virtualenvwrapper",
        "path": str(isolated_home / ".virtualenvs"),
        "exists": True,
        "venvs": 2,
    }
    assert stores[str(isolated_home / ".multivenv")]["exists"] is False
    assert {s["store"] for s in data["stores"]} >= {
        "multivenv", "virtualenvwrapper", "pipx", "pyenv-virtualenv", "poetry", "hatch",
        "uv-tools", "pdm",
    }  # fmt: skip
    assert data["tracked"] == 0

    code, out, _ = cli(capsys, "paths")
    assert code == 0
    assert re.search(rf"^config: +{re.escape(str(dirs.config_file))}$", out, re.M)
    assert re.search(r"virtualenvwrapper +2 venvs +~/\.virtualenvs$", out, re.M)
    assert re.search(r"multivenv +missing +~/\.multivenv$", out, re.M)


def test_track_untrack_round_trip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "src" / "shop" / ".venv")
    code, out, err = cli(capsys, "track", str(venv))
    assert (code, err) == (0, "")
    assert out == f"tracking shop: {venv}\n"
    code, data = cli_json(capsys, "list")
    assert data["venvs"] == [{"name": "shop", "path": str(venv), "store": "tracked"}]
    code, data = cli_json(capsys, "check", "shop")
    assert code == 0
    assert [v["status"] for v in data["venvs"]] == ["healthy"]
    code, data = cli_json(capsys, "check", "--store", "tracked")
    assert [v["name"] for v in data["venvs"]] == ["shop"]

    code, out, _ = cli(capsys, "untrack", "shop")
    assert code == 0
    assert out == f"no longer tracking shop: {venv}\n"
    assert venv.is_dir()  # nothing deleted
    assert cli_json(capsys, "list")[1]["venvs"] == []

    assert cli(capsys, "track", str(venv), "--name", "web")[0] == 0
    assert cli_json(capsys, "list")[1]["venvs"][0]["name"] == "web"
    code, out, _ = cli(capsys, "untrack", str(venv))
    assert code == 0
    assert out == f"no longer tracking web: {venv}\n"
    assert json.loads(app_dirs(os.environ).tracked_file.read_text())["venvs"] == []


def test_tracked_venv_that_was_deleted_is_broken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "proj" / ".venv")
    assert cli(capsys, "track", str(venv))[0] == 0
    shutil.rmtree(venv)
    code, data = cli_json(capsys, "check")
    assert code == 1
    [entry] = data["venvs"]
    assert entry["status"] == "broken"
    assert [f["code"] for f in entry["findings"]] == ["venv-missing"]


def test_track_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "track", str(tmp_path))
    assert out == ""
    assert code == 2
    assert f"{tmp_path} is not a virtual environment" in err
    code, out, err = cli(capsys, "track", str(tmp_path / "nonexistent"))
    assert (code, out) == (1, "")  # not found, like every other "not found"
    assert f"{tmp_path / 'nonexistent'} does not exist" in err
    code, out, err = cli(capsys, "track", str(tmp_path / "nonexistent"), "--json")
    assert code == 1
    assert json.loads(out)["error"]["message"] == f"{tmp_path / 'nonexistent'} does not exist"
    a = make_venv(real_python("3.12"), tmp_path / "a" / ".venv")
    b = make_venv(real_python("3.12"), tmp_path / "b" / ".venv")
    assert cli(capsys, "track", str(a), "--name", "same")[0] == 0
    code, _, err = cli(capsys, "track", str(b), "--name", "same")
    assert code == 2
    assert "'same' is already tracked" in err
    assert "--name" in err
    code, _, err = cli(capsys, "untrack", "other")
    assert code == 1
    assert "other is not tracked" in err


def test_corrupt_tracked_file(capsys: pytest.CaptureFixture[str]) -> None:
    file = app_dirs(os.environ).tracked_file
    file.parent.mkdir(parents=True)
    file.write_text("{not json")
    code, _, err = cli(capsys, "check")
    assert code == 2
    assert str(file) in err


# --- human output ------------------------------------------------------------------------------


def test_piped_output_is_plain_with_full_paths(
    capsys: pytest.CaptureFixture[str], isolated_home: Path, tmp_path: Path
) -> None:
    long_dir = isolated_home / ".virtualenvs" / ("a-very-long-venv-name-" * 8)
    base = tmp_path / "base" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    venv = make_venv(base / "python3.12", long_dir)
    shutil.rmtree(tmp_path / "base")
    code, out, _ = cli(capsys, "check")
    assert code == 1
    assert "…" not in out
    assert not ANSI.search(out)
    assert f"~/.virtualenvs/{venv.name}" in out  # whole, one line
    assert str(base / "python3.12") in out  # the finding names the missing file in full
    assert out.splitlines()[-1] == "1 venv: 1 broken"


def test_markup_in_a_path_is_printed_literally(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "[red]x[bold]")
    (venv / "lib" / "python3.12" / "site-packages").rmdir()
    code, out, _ = cli(capsys, "check")
    assert code == 1
    assert f"broken  {venv.name}  virtualenvwrapper  3.12.1  ~/.virtualenvs/{venv.name}" in out
    assert f"hint: run `venv-doctor repair '{venv.name}'`" in out


def test_verbose_shows_information(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "v")
    cfg = (venv / "pyvenv.cfg").read_text().splitlines()
    kept = [ln for ln in cfg if not ln.startswith("version =")]
    (venv / "pyvenv.cfg").write_text("\n".join(kept) + "\n")
    assert "cfg-missing-key" not in cli(capsys, "check")[1]
    assert "info: cfg-missing-key" in cli(capsys, "check", "-v")[1]


def test_deep_option(
    capsys: pytest.CaptureFixture[str], isolated_home: Path, tmp_path: Path
) -> None:
    base = tmp_path / "base" / "bin"
    base.mkdir(parents=True)
    (base / "python3.11").symlink_to(real_python("3.11"))
    make_venv(base / "python3.11", isolated_home / ".virtualenvs" / "copied", copies=True)
    shutil.rmtree(tmp_path / "base")
    code, data = cli_json(capsys, "check")
    assert (code, data["venvs"][0]["status"]) == (1, "broken")
    code, data = cli_json(capsys, "check", "--deep")
    assert (code, data["venvs"][0]["status"]) == (0, "degraded")
    assert [f["code"] for f in data["venvs"][0]["findings"]] == ["home-missing"]


def test_terminal_lines_colours_and_never_cuts_paths(isolated_home: Path, tmp_path: Path) -> None:
    store = isolated_home / ".virtualenvs"
    make_venv(real_python("3.12"), store / "fine")
    long_name = "[red]" + "deep-" * 30 + "[bold]"
    base = tmp_path / "base" / "bin"
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    make_venv(base / "python3.12", store / long_name)
    shutil.rmtree(tmp_path / "base")

    out = run_in_terminal(["check"], dict(os.environ))
    assert ANSI.search(out), "a terminal gets colours"
    text = ANSI.sub("", out)
    assert "…" not in text
    lines = text.splitlines()
    assert cut_at_a_space(lines, 80) == []
    assert any(line.startswith("broken") and long_name in line for line in lines)  # whole
    assert str(base / "python3.12") in text  # a path longer than the line: whole, alone
    joined = text.replace("\n    ", " ")  # the hint wraps at its spaces
    assert f"hint: run `venv-doctor repair {shlex.quote(long_name)}`" in joined
    assert lines[-1] == "2 venvs: 1 healthy, 1 broken"


def test_no_color_on_a_terminal(isolated_home: Path) -> None:
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "[bold]v")
    out = run_in_terminal(["check"], {**os.environ, "NO_COLOR": "1"})
    assert not ANSI.search(out)
    assert f"healthy  [bold]v  virtualenvwrapper  3.12.1  ~/.virtualenvs/{venv.name}" in out


def test_after_a_failed_repair_check_says_what_failed_not_repair_again(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    wheelhouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A `repair --all` that failed for want of a package fails the same way again: check
    tells what failed and where the attempts are, until the interpreters change."""
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    store = isolated_home / ".virtualenvs"
    first = make_venv(homebrew.install("3.12", "3.12.1"), store / "web")
    pip_install(first, wheelhouse, "tinytop")
    shutil.copytree(first, store / "api", symlinks=True)
    assert run(["check"]) == 0  # records what each holds
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    empty = tmp_path / "empty"
    empty.mkdir()
    for name, value in (("PIP_NO_INDEX", "1"), ("PIP_FIND_LINKS", empty), ("UV_OFFLINE", "1")):
        monkeypatch.setenv(name, str(value))
    capsys.readouterr()
    assert run(["repair", "--all", "--strategy", "rebuild", "--yes"]) == 1
    said = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("failed") for line in said) == 2, said

    code, out, _ = cli(capsys, "check")
    assert code == 1
    assert "--all" not in out and "run `venv-doctor repair" not in out, out
    hints = [line.strip() for line in out.splitlines() if "hint:" in line]
    assert len(hints) == 2 and all("the last repair (rebuild" in h for h in hints), out
    assert "tinytop" in out and "`venv-doctor history web`" in out, out

    homebrew.install("3.13", "3.13.0")  # another interpreter: the outcome may differ now
    code, out, _ = cli(capsys, "check")
    assert "interpreters changed since" in out and "`venv-doctor repair --all`" in out, out


def test_a_check_of_some_venvs_hints_a_repair_of_those_not_all(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`repair --all` would repair venvs this check did not look at: the hint names these."""
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    store = isolated_home / ".virtualenvs"
    first = make_venv(homebrew.install("3.12", "3.12.1"), store / "a b")
    for name in ("c", "d"):
        shutil.copytree(first, store / name, symlinks=True)
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    _, out, _ = cli(capsys, "check", "a b", "c")
    (hint,) = [line for line in out.splitlines() if line.startswith("hint:")]
    assert hint == "hint: `venv-doctor repair 'a b' c` repairs these 2 venvs", out
    _, out, _ = cli(capsys, "check")
    assert "hint: `venv-doctor repair --all` repairs these 3 venvs" in out, out


def test_a_check_of_one_path_names_it_in_its_hint_by_what_names_it_alone(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check PATH` of one of two venvs named tool: its hint gives the path, since
    `repair tool` would be refused as naming 2 venvs (only one was checked)."""
    from tests.test_repair import fake_pyenv_version

    python = fake_pyenv_version("3.12", "3.12.1")
    one = isolated_home / ".virtualenvs" / "tool"
    for where in (one, isolated_home / ".multivenv" / "tool"):
        subprocess.run([python, "-m", "venv", "--without-pip", where], check=True)
    shutil.rmtree(python.parent.parent)  # the interpreter went: both broken

    assert run(["check", str(one)]) == 1
    said = capsys.readouterr().out
    pasted = re.findall(r"`(venv-doctor repair [^`]*)`", said)
    assert pasted == ["venv-doctor repair ~/.virtualenvs/tool"], said
    words = [os.path.expanduser(w) for w in shlex.split(pasted[0])[1:]]
    assert run([*words, "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["path"] == str(one)
