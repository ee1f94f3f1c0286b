from __future__ import annotations

import dataclasses
import os
import plistlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.service_stubs import install_stubs, systemd_analyze
from tests.support import FakeHomebrew, make_venv, real_python
from venv_doctor import config, paths
from venv_doctor.context import Context
from venv_doctor.errors import VenvDoctorError
from venv_doctor.notify.bus import session_bus
from venv_doctor.service import manage as service
from venv_doctor.service import units as unit_files
from venv_doctor.service.base import Availability, Manager
from venv_doctor.service.interpreter import ServicePython, check_service_python

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = REPO / "src" / "venv_doctor" / "service" / "templates"


def _ctx(repair_auto: str = "relink") -> Context:
    return Context(
        config=config.Config(repair_auto=repair_auto),
        dirs=paths.app_dirs(os.environ),
        env=os.environ,
    )


def _stub_program(directory: Path) -> Path:
    """An executable for ExecStart (systemd-analyze verify wants one that exists)."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "venv-doctor"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    return program


def _values(command: tuple[str, ...], **kw: object) -> unit_files.UnitValues:
    return dataclasses.replace(service.unit_values(_ctx(), command), **kw)  # type: ignore[arg-type]


# --- the templates -------------------------------------------------------------------


def test_top_level_folders_hold_exactly_the_packaged_templates() -> None:
    packaged = {p.name: p.read_bytes() for p in TEMPLATE_DIR.iterdir() if p.is_file()}
    top = {
        p.name: p.read_bytes()
        for folder in (REPO / "systemd", REPO / "launchd")
        for p in folder.iterdir()
        if p.is_file() and p.name != "README.md"
    }
    assert set(packaged) == set(unit_files.TEMPLATES)
    assert top.keys() == packaged.keys()
    drifted = [name for name in packaged if packaged[name] != top[name]]
    assert drifted == [], f"systemd/ or launchd/ differ from service_templates/: {drifted}"


def test_wheel_carries_the_templates(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    out = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in unit_files.TEMPLATES:
        assert f"venv_doctor/service/templates/{name}" in names


@pytest.mark.parametrize("name", unit_files.TEMPLATES)
def test_every_placeholder_of_every_template_is_filled(tmp_path: Path, name: str) -> None:
    program = _stub_program(tmp_path / "bin")
    values = _values((str(program),), environment=(("WORKON_HOME", "/srv/envs"),))
    text = unit_files.template_bytes(name).decode()
    rendered = unit_files.render(name, values).decode()
    assert unit_files.PLACEHOLDER.search(rendered) is None, rendered
    if name == unit_files.SCAN_TIMER:  # names a unit, runs nothing itself
        assert rendered == text
    else:
        assert str(program) in rendered
        assert "/srv/envs" in rendered


def test_unknown_placeholder_is_an_error(tmp_path: Path) -> None:
    values = _values((str(_stub_program(tmp_path)),))
    with pytest.raises(unit_files.TemplateError, match="@NOPE@"):
        unit_files.render_systemd("[Service]\nExecStart=@VENV_DOCTOR@ @NOPE@\n", values)


def test_daemon_unit_sets_directories_and_service_behaviour(tmp_path: Path) -> None:
    program = _stub_program(tmp_path / "bin")
    text = unit_files.render(unit_files.DAEMON_UNIT, _values((str(program),))).decode()
    dirs = paths.app_dirs(os.environ)
    lines = set(text.splitlines())
    assert f"ExecStart={program} daemon" in lines
    for var, value in (
        ("CONFIG", dirs.config),
        ("STATE", dirs.state),
        ("CACHE", dirs.cache),
        ("LOG", dirs.log),
    ):
        assert value.is_absolute()
        assert f'Environment="VENV_DOCTOR_{var}_DIR={value}"' in lines
    runtime = os.environ["XDG_RUNTIME_DIR"]
    assert f'Environment="DBUS_SESSION_BUS_ADDRESS=unix:path={runtime}/bus"' in lines
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "Restart=on-failure",
        "Environment=PYTHONUNBUFFERED=1",
        "WantedBy=default.target",
        "NoNewPrivileges=yes",
    ):
        assert line in lines
    assert not any(line.startswith(("ProtectHome=", "PrivateTmp=")) for line in lines)


@pytest.mark.parametrize("policy", ["off", "relink", "rebuild"])
def test_scan_unit_runs_one_daemon_pass(tmp_path: Path, policy: str) -> None:
    """The policy is read from config.toml at each run, as the daemon reads it."""
    program = _stub_program(tmp_path / "bin")
    values = service.unit_values(_ctx(policy), (str(program),))
    text = unit_files.render(unit_files.SCAN_UNIT, values).decode()
    execs = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    assert execs == [f"ExecStart={program} daemon --once"]
    assert "SuccessExitStatus=1" in text.splitlines()


def test_odd_characters_survive_systemd_quoting() -> None:
    assert unit_files.systemd_word("/opt/vd/bin/venv-doctor") == "/opt/vd/bin/venv-doctor"
    assert unit_files.systemd_word('/a b/"q"\\%$x') == '"/a b/\\"q\\"\\\\%%$$x"'
    assert unit_files.systemd_word("/a/$x", program=True) == '"/a/$x"'
    assert unit_files.systemd_env_value('/a b/"q"\\%$x') == '/a b/\\"q\\"\\\\%%$x'
    with pytest.raises(VenvDoctorError, match="line break"):
        unit_files.systemd_word("/a\nb")


# --- systemd-analyze verify ----------------------------------------------------------


def _verify(tmp_path: Path, units: dict[str, bytes]) -> subprocess.CompletedProcess[str]:
    analyze = systemd_analyze()
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    for name, content in units.items():
        (unit_dir / name).write_bytes(content)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"}
    return subprocess.run(
        [analyze, "verify", "--user", "--man=no", *(str(unit_dir / n) for n in units)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    "names",
    [(unit_files.DAEMON_UNIT,), (unit_files.SCAN_UNIT, unit_files.SCAN_TIMER)],
)
def test_rendered_units_pass_systemd_analyze_verify(tmp_path: Path, names: tuple[str]) -> None:
    # A space, % and $ in the path prove the Exec line's quoting: verify resolves
    # the program and fails when it does not exist.
    program = _stub_program(tmp_path / "odd dir %h $HOME")
    values = _values((str(program),), environment=(("WORKON_HOME", "/srv/a b %i"),))
    done = _verify(tmp_path, {n: unit_files.render(n, values) for n in names})
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


def test_verify_rejects_a_unit_whose_program_is_missing(tmp_path: Path) -> None:
    values = _values((str(tmp_path / "missing" / "venv-doctor"),))
    done = _verify(
        tmp_path, {"venv-doctor.service": unit_files.render(unit_files.DAEMON_UNIT, values)}
    )
    assert done.returncode != 0
    assert "is not executable" in done.stderr


# --- launchd -------------------------------------------------------------------------


def test_plist_renders_to_a_valid_launch_agent(tmp_path: Path, isolated_home: Path) -> None:
    python = tmp_path / "py" / "bin" / "python3"
    values = _values(
        (str(python), "-m", "venv_doctor"),
        path=service.service_path({"PATH": "/usr/bin:relative/bin"}, macos=True),
        environment=(("PIPX_HOME", "/x/pipx"),),
    )
    data = unit_files.render(unit_files.AGENT_PLIST, values)
    agent = plistlib.loads(data)
    assert agent["Label"] == unit_files.AGENT_LABEL
    assert agent["ProgramArguments"] == [str(python), "-m", "venv_doctor", "daemon"]
    assert all(Path(a).is_absolute() for a in agent["ProgramArguments"][:1])
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["ProcessType"] == "Background"
    env = agent["EnvironmentVariables"]
    path_dirs = env["PATH"].split(":")
    assert "/opt/homebrew/bin" in path_dirs
    assert "/usr/local/bin" in path_dirs
    assert "relative/bin" not in path_dirs
    assert env["PIPX_HOME"] == "/x/pipx"
    dirs = paths.app_dirs(os.environ)
    assert env["VENV_DOCTOR_STATE_DIR"] == str(dirs.state)
    assert env["VENV_DOCTOR_CONFIG_DIR"] == str(dirs.config)
    logs = isolated_home / "Library" / "Logs" / "venv-doctor"
    assert agent["StandardErrorPath"] == str(logs / "daemon.err.log")
    assert agent["StandardOutPath"] == str(logs / "daemon.out.log")
    assert unit_files.PLACEHOLDER.search(data.decode()) is None
    plutil = shutil.which("plutil")
    if plutil:
        target = tmp_path / "agent.plist"
        target.write_bytes(data)
        assert subprocess.run([plutil, "-lint", str(target)], check=False).returncode == 0


def test_plist_values_are_xml_escaped_not_spliced(tmp_path: Path) -> None:
    odd = str(tmp_path / "a <b> & 'c'" / "venv-doctor")
    data = unit_files.render(unit_files.AGENT_PLIST, _values((odd,)))
    assert plistlib.loads(data)["ProgramArguments"][0] == odd


# --- what the service is given ----------------------------------------------------------


def test_session_bus_address() -> None:
    assert (
        session_bus({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/5/bus"}).lasting
        == "unix:path=/run/user/5/bus"
    )
    stale = {
        "DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/dbus-x,guid=1",
        "XDG_RUNTIME_DIR": "/r",
    }
    assert session_bus(stale).lasting == "unix:path=/r/bus"
    assert session_bus({}).lasting == f"unix:path=/run/user/{os.getuid()}/bus"


def test_service_path_drops_venv_bins_and_keeps_order(tmp_path: Path) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    env = {"PATH": f"{venv_bin}:/home/u/.local/bin:/usr/bin:.", "HOMEBREW_PREFIX": "/hb"}
    assert (
        service.service_path(env, macos=False)
        == "/home/u/.local/bin:/usr/bin:/hb/bin:/usr/local/bin:/bin"
    )


def test_every_store_variable_is_passed_to_the_service() -> None:
    """The daemon must find the stores the CLI finds, and the links pipx and uv make to
    their apps: no variable stores.py, owners.py or owner_records.py reads is left out."""
    import venv_doctor.record.owner_records  # noqa: F401  (read below)

    source = "".join(
        Path(m.__file__).read_text()  # type: ignore[arg-type]
        for m in (
            sys.modules["venv_doctor.discover.stores"],
            sys.modules["venv_doctor.discover.owners"],
            sys.modules["venv_doctor.record.owner_records"],
            paths,
        )
    )
    read = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', source))
    expected = {v for v in read if v != "HOME" and not v.startswith("VENV_DOCTOR_")}
    assert expected <= set(service.PASSED_ENVIRONMENT)
    env = {"WORKON_HOME": "/w", "PIPX_HOME": "", "PIP_INDEX_URL": "https://u:secret@x"}
    assert service.passed_environment(env) == (("WORKON_HOME", "/w"),)


# --- the service manager ----------------------------------------------------------------


def test_detect_systemd_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stubs = install_stubs(tmp_path, monkeypatch)
    found = service.detect(os.environ)
    assert (found.manager, found.available) == (Manager.SYSTEMD, True)
    assert stubs.commands() == ["systemctl --user is-system-running"]


def test_detect_container_without_user_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_stubs(tmp_path, monkeypatch)
    monkeypatch.setenv("STUB_MODE", "container")
    found = service.detect(os.environ)
    assert not found.available
    assert "offline" in found.reason


def test_detect_without_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = service.detect(os.environ)
    assert not found.available
    assert "systemctl is not on PATH" in found.reason


def test_detect_launchd_on_macos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_stubs(tmp_path, monkeypatch)
    monkeypatch.setattr(paths, "is_macos", lambda: True)
    assert service.detect(os.environ) == Availability(Manager.LAUNCHD, True, "launchd")


# --- self-protection --------------------------------------------------------------------


def _service_python(venv: Path) -> ServicePython:
    return ServicePython((str(venv / "bin" / "venv-doctor"),), venv / "bin" / "python")


def test_cellar_interpreter_shared_with_another_venv_warns(
    homebrew: FakeHomebrew, tmp_path: Path, isolated_home: Path
) -> None:
    keg_python = homebrew.install("3.12", "3.12.1")
    own = make_venv(keg_python, tmp_path / "tools" / "venv-doctor")
    make_venv(keg_python, isolated_home / ".virtualenvs" / "webapp")
    findings = check_service_python(_ctx(), _service_python(own))
    codes = [f.code for f in findings]
    assert codes[0] == "service-python-homebrew"
    keg = findings[0]
    assert str(homebrew.keg("3.12", "3.12.1")) in keg.message
    assert "1 other venvs use it too: webapp" in keg.message
    assert keg.hint is not None
    assert "--python" in keg.hint
    assert "uv tool install" in keg.hint
    # its own venv links straight into the keg: degraded, said as well
    assert "service-venv-unhealthy" in codes


def test_pyenv_version_warns_only_when_other_venvs_use_it(
    tmp_path: Path, isolated_home: Path
) -> None:
    python = real_python("3.12")
    own = make_venv(python, tmp_path / "tools" / "venv-doctor")
    assert check_service_python(_ctx(), _service_python(own)) == ()
    make_venv(python, isolated_home / ".virtualenvs" / "api")
    (finding,) = check_service_python(_ctx(), _service_python(own))
    assert finding.code == "service-python-pyenv"
    assert "api" in finding.message
    assert f"pyenv uninstall {python.parent.parent.name}" in finding.message


# --- hardening ----------------------------------------------------------------------

SHIPPED_EXPOSURE = 6.0  # README "Run it in the background"; 6.2 before the namespaces, 9.1 at first


def _exposure(unit: Path, runtime: Path) -> float:
    runtime.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--user", "--no-pager", str(unit)],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


@pytest.mark.parametrize("name", [unit_files.DAEMON_UNIT, unit_files.SCAN_UNIT])
def test_units_score_no_worse_than_the_shipped_exposure(tmp_path: Path, name: str) -> None:
    program = _stub_program(tmp_path / "bin")
    values = service.unit_values(_ctx(), (str(program),))
    unit = tmp_path / "units" / name
    unit.parent.mkdir()
    unit.write_bytes(unit_files.render(name, values))
    assert _exposure(unit, tmp_path / "run") <= SHIPPED_EXPOSURE
