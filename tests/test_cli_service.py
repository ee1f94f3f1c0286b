from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service_stubs import Stubs, install_stubs, systemd_analyze
from tests.support import FakeHomebrew, make_venv, real_python
from venv_doctor import paths
from venv_doctor.cli import run

UNIT_DIR = ".config/systemd/user"
AGENT = "io.github.venv-doctor.daemon"


@pytest.fixture
def stubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stubs:
    return install_stubs(tmp_path, monkeypatch)


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under ``root``: kind, mode, and the bytes or the link target."""
    out: dict[str, tuple[object, ...]] = {}
    if not root.exists():
        return out
    out["."] = ("dir", stat.S_IMODE(root.stat().st_mode))
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = str(p.relative_to(root))
            mode = stat.S_IMODE(p.lstat().st_mode)
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", mode)
            else:
                out[rel] = ("file", mode, p.read_bytes())
    return out


def _everything(tmp_path: Path, home: Path) -> dict[str, object]:
    return {"home": tree(home), "vd": tree(tmp_path / "vd")}


def _populate(home: Path) -> None:
    """A lived-in HOME: another user unit, an enabled one, other config."""
    units = home / UNIT_DIR
    (units / "default.target.wants").mkdir(parents=True)
    (units / "syncthing.service").write_text("[Service]\nExecStart=/usr/bin/syncthing\n")
    (units / "default.target.wants" / "syncthing.service").symlink_to(units / "syncthing.service")
    (home / ".config" / "git").mkdir()
    (home / ".config" / "git" / "config").write_text("[user]\n\tname = x\n")


def _script() -> str:
    return str(Path(sys.executable).parent / "venv-doctor")


# --- systemd --------------------------------------------------------------------------


@pytest.mark.parametrize("lived_in", [False, True])
def test_install_uninstall_round_trip_leaves_home_as_it_was(
    stubs: Stubs,
    tmp_path: Path,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
    lived_in: bool,
) -> None:
    if lived_in:
        _populate(isolated_home)
    before = _everything(tmp_path, isolated_home)

    assert run(["service", "install"]) == 0
    out = capsys.readouterr().out
    unit = isolated_home / UNIT_DIR / "venv-doctor.service"
    assert stubs.commands() == [
        "systemctl --user is-system-running",
        "systemctl --user daemon-reload",
        "systemctl --user enable --now venv-doctor.service",
    ]
    assert (
        "$ systemctl --user daemon-reload\n$ systemctl --user enable --now venv-doctor.service"
        in out
    )
    assert f"wrote {unit}" in out
    assert f"ExecStart={_script()} daemon" in unit.read_text().splitlines()
    assert (isolated_home / UNIT_DIR / "default.target.wants" / "venv-doctor.service").is_symlink()
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644

    stubs.clear()
    assert run(["service", "uninstall"]) == 0
    out = capsys.readouterr().out
    assert stubs.commands() == [
        "systemctl --user is-system-running",
        "systemctl --user disable --now venv-doctor.service",
        "systemctl --user reset-failed venv-doctor.service",
        "systemctl --user daemon-reload",
    ]
    assert f"removed {unit}" in out
    assert _everything(tmp_path, isolated_home) == before


def test_service_commands_work_with_a_broken_config(
    stubs: Stubs, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["service", "install"]) == 0
    config = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[repair]\nauto = 'sometimes'\n")
    capsys.readouterr()

    assert run(["service", "status"]) == 0
    out = capsys.readouterr().out
    assert f"config:    {config}: " in out
    assert "venv-doctor.service: enabled, active" in out
    assert run(["service", "status", "--json"]) == 0
    assert str(config) in json.loads(capsys.readouterr().out)["config_error"]

    assert run(["service", "uninstall"]) == 0
    captured = capsys.readouterr()
    assert "uninstalled the venv-doctor service" in captured.out
    assert f"note: {config}: " in captured.err
    assert not (isolated_home / UNIT_DIR / "venv-doctor.service").exists()


def test_install_print_writes_and_runs_nothing(
    stubs: Stubs, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _everything(tmp_path, isolated_home)
    assert run(["service", "install", "--print"]) == 0
    captured = capsys.readouterr()
    assert _everything(tmp_path, isolated_home) == before
    assert stubs.calls() == []
    unit = isolated_home / UNIT_DIR / "venv-doctor.service"
    assert f"would write {unit}:" in captured.err
    assert "  systemctl --user enable --now venv-doctor.service" in captured.err
    # stdout is exactly the unit, so `--print > file` gives a file systemd accepts
    assert captured.out.startswith("# venv-doctor's background daemon")
    assert f"ExecStart={_script()} daemon" in captured.out.splitlines()


def test_install_print_timer(
    stubs: Stubs, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["service", "install", "--print", "--timer"]) == 0
    captured = capsys.readouterr()
    for name in ("venv-doctor-scan.service", "venv-doctor-scan.timer"):
        assert f"would write {isolated_home / UNIT_DIR / name}:" in captured.err
    assert "  systemctl --user enable --now venv-doctor-scan.timer" in captured.err
    assert f"ExecStart={_script()} daemon --once" in captured.out.splitlines()
    assert "OnCalendar=*-*-* 00/6:00:00" in captured.out.splitlines()
    # two units on stdout, each after a `# ---- PATH` line (a comment to systemd), a blank
    # line between them, so they do not run together
    lines = captured.out.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("# ---- ")]
    assert [lines[i] for i in heads] == [
        f"# ---- {isolated_home / UNIT_DIR / name}"
        for name in ("venv-doctor-scan.service", "venv-doctor-scan.timer")
    ]
    assert heads[0] == 0 and lines[heads[1] - 1] == ""
    assert run(["service", "install", "--print", "--timer", "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert [Path(f["path"]).name for f in files] == [
        "venv-doctor-scan.service",
        "venv-doctor-scan.timer",
    ]


def test_timer_install_round_trip(
    stubs: Stubs, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _everything(tmp_path, isolated_home)
    assert run(["service", "install", "--timer"]) == 0
    units = isolated_home / UNIT_DIR
    assert (units / "venv-doctor-scan.service").is_file()
    assert (units / "timers.target.wants" / "venv-doctor-scan.timer").is_symlink()
    assert not (units / "venv-doctor.service").exists()
    assert stubs.commands()[-1] == "systemctl --user enable --now venv-doctor-scan.timer"
    assert run(["service", "uninstall"]) == 0
    assert "systemctl --user disable --now venv-doctor-scan.timer" in stubs.commands()
    assert _everything(tmp_path, isolated_home) == before


def test_reinstall_switching_mode_replaces_the_old_units(
    stubs: Stubs, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _everything(tmp_path, isolated_home)
    assert run(["service", "install", "--timer"]) == 0
    stubs.clear()
    assert run(["service", "install"]) == 0
    assert stubs.commands() == [
        "systemctl --user is-system-running",
        "systemctl --user disable --now venv-doctor-scan.timer",
        "systemctl --user daemon-reload",
        "systemctl --user enable --now venv-doctor.service",
    ]
    units = isolated_home / UNIT_DIR
    assert sorted(p.name for p in units.iterdir() if p.is_file()) == ["venv-doctor.service"]
    stubs.clear()
    assert run(["service", "install"]) == 0  # same mode again: restart onto the new file
    assert stubs.commands()[1:] == [
        "systemctl --user daemon-reload",
        "systemctl --user enable venv-doctor.service",
        "systemctl --user restart venv-doctor.service",
    ]
    assert run(["service", "uninstall"]) == 0
    assert _everything(tmp_path, isolated_home) == before


def test_not_available_in_a_container(
    stubs: Stubs,
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STUB_MODE", "container")
    before = _everything(tmp_path, isolated_home)
    assert run(["service", "install"]) == 1
    err = capsys.readouterr().err
    assert "no systemd user instance answers" in err
    assert "nothing was written" in err
    assert "venv-doctor daemon" in err
    assert stubs.commands() == ["systemctl --user is-system-running"]
    assert _everything(tmp_path, isolated_home) == before


def test_a_failed_start_leaves_an_uninstallable_service(
    stubs: Stubs,
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _everything(tmp_path, isolated_home)
    monkeypatch.setenv("STUB_FAIL", "--now")
    assert run(["service", "install"]) == 1
    err = capsys.readouterr().err
    assert "enable --now venv-doctor.service` failed with exit code 1" in err
    assert "stub: --now failed" in err
    assert "hint: the files are in place" in err
    monkeypatch.delenv("STUB_FAIL")
    assert run(["service", "uninstall"]) == 0
    assert _everything(tmp_path, isolated_home) == before


def test_uninstall_without_a_reachable_systemd_still_removes_everything(
    stubs: Stubs,
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _everything(tmp_path, isolated_home)
    assert run(["service", "install"]) == 0
    unit = isolated_home / UNIT_DIR / "venv-doctor.service"
    unit.write_text(unit.read_text() + "# edited by the user\n")
    monkeypatch.setenv("STUB_MODE", "container")
    capsys.readouterr()
    assert run(["service", "uninstall"]) == 0
    err = capsys.readouterr().err
    assert "note: the service was not stopped: no systemd user instance answers" in err
    assert f"note: {unit} had been edited since install; removed anyway" in err
    # the enable link systemctl could not remove is gone too
    assert _everything(tmp_path, isolated_home) == before


def test_a_unit_file_not_written_by_venv_doctor_is_not_overwritten(
    stubs: Stubs, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = isolated_home / UNIT_DIR / "venv-doctor.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("# hand-made\n")
    assert run(["service", "install"]) == 1
    assert "already exists and was not written by venv-doctor" in capsys.readouterr().err
    assert unit.read_text() == "# hand-made\n"
    assert run(["service", "uninstall"]) == 0
    assert "was not written by `venv-doctor service install`" in capsys.readouterr().err
    assert unit.read_text() == "# hand-made\n"


def test_status_json_after_install(
    stubs: Stubs, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["service", "install"]) == 0
    capsys.readouterr()
    stubs.clear()
    assert run(["service", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    assert (data["manager"], data["available"], data["installed"], data["mode"]) == (
        "systemd",
        True,
        True,
        "daemon",
    )
    (unit,) = data["units"]
    assert unit == {
        "name": "venv-doctor.service",
        "path": str(isolated_home / UNIT_DIR / "venv-doctor.service"),
        "installed": True,
        "enabled": "enabled",
        "active": "active (running)",
        "pid": 4242,
    }
    assert data["command"] == [_script()]
    assert data["command_missing"] is False
    assert data["log"]["source"] == "journalctl --user -u venv-doctor.service -n 20 --no-pager"
    assert data["log"]["lines"][-1].endswith("full scan: 3 venvs, 3 healthy")
    assert stubs.commands()[1:] == [
        "systemctl --user show venv-doctor.service "
        "--property=LoadState,UnitFileState,ActiveState,SubState,MainPID",
        "journalctl --user -u venv-doctor.service -n 20 --no-pager",
    ]


def test_status_when_nothing_is_installed(stubs: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["service", "status"]) == 0
    out = capsys.readouterr().out
    assert "installed: no" in out
    assert "venv-doctor.service: not installed" in out


def test_status_notices_an_edited_unit(
    stubs: Stubs, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["service", "install"]) == 0
    unit = isolated_home / UNIT_DIR / "venv-doctor.service"
    unit.write_text(unit.read_text() + "# edited\n")
    capsys.readouterr()
    assert run(["service", "status"]) == 0
    assert f"modified:  {unit} was edited since install" in capsys.readouterr().out


# --- macOS ----------------------------------------------------------------------------


def test_launchd_round_trip_on_macos(
    stubs: Stubs,
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(paths, "is_macos", lambda: True)
    before = _everything(tmp_path, isolated_home)
    uid = os.getuid()
    plist = isolated_home / "Library" / "LaunchAgents" / f"{AGENT}.plist"

    assert run(["service", "install"]) == 0
    out = capsys.readouterr().out
    assert stubs.commands() == [f"launchctl bootstrap gui/{uid} {plist}"]
    assert f"$ launchctl bootstrap gui/{uid} {plist}" in out
    assert (isolated_home / "Library" / "Logs" / "venv-doctor").is_dir()
    assert "Library/Logs/venv-doctor/daemon.err.log" in out

    stubs.clear()
    assert run(["service", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["manager"] == "launchd"
    assert data["units"][0]["active"] == "running"
    assert data["units"][0]["pid"] == 777
    assert data["log"]["source"].endswith("Library/Logs/venv-doctor/daemon.err.log")

    stubs.clear()
    assert run(["service", "uninstall"]) == 0
    assert stubs.commands() == [f"launchctl bootout gui/{uid}/{AGENT}"]
    assert _everything(tmp_path, isolated_home) == before


def test_timer_is_refused_on_macos(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(paths, "is_macos", lambda: True)
    assert run(["service", "install", "--timer"]) == 2
    assert "--timer is for systemd" in capsys.readouterr().err


# --- --python and self-protection ---------------------------------------------------------


def _with_venv_doctor(venv: Path) -> Path:
    """Make venv-doctor importable in ``venv`` (a .pth to this checkout and its deps)."""
    here = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    src = Path(__file__).resolve().parents[1] / "src"
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    (site / "zz_venv_doctor_checkout.pth").write_text(f"{src}\n{here}\n")
    return venv / "bin" / "python"


def test_cellar_interpreter_used_by_another_venv_warns(
    stubs: Stubs,
    homebrew: FakeHomebrew,
    tmp_path: Path,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"  # the .pth needs the same minor
    keg_python = homebrew.install(minor, f"{minor}.1")
    python = _with_venv_doctor(make_venv(keg_python, tmp_path / "tools" / "venv-doctor"))
    make_venv(keg_python, isolated_home / ".virtualenvs" / "webapp")
    assert run(["service", "install", "--print", "--python", str(python)]) == 0
    captured = capsys.readouterr()
    assert f"which lives in the Homebrew keg {homebrew.keg(minor, f'{minor}.1')}" in captured.err
    assert "1 other venvs use it too: webapp" in captured.err
    assert "hint: run the service on an interpreter no upgrade removes" in captured.err
    assert f"ExecStart={python} -m venv_doctor daemon" in captured.out.splitlines()


def test_python_without_venv_doctor_is_refused(
    stubs: Stubs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = make_venv(real_python("3.12"), tmp_path / "plain") / "bin" / "python"
    assert run(["service", "install", "--python", str(python)]) == 1
    err = capsys.readouterr().err
    assert f"{python} cannot run venv-doctor" in err
    assert "No module named venv_doctor" in err
    assert "uv tool install" in err
    assert stubs.calls() == []


def test_python_that_does_not_exist_is_a_usage_error(
    stubs: Stubs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["service", "install", "--python", str(tmp_path / "nope")]) == 2
    assert "no executable file" in capsys.readouterr().err


def test_print_output_passes_systemd_analyze_verify(
    stubs: Stubs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Done-when of issue 7: `service install --print` shows a unit verify accepts."""
    analyze = systemd_analyze()
    assert run(["service", "install", "--print"]) == 0
    unit = tmp_path / "venv-doctor.service"
    unit.write_text(capsys.readouterr().out)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(
        [analyze, "verify", "--user", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
