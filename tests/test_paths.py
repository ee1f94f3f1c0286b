"""Where venv-doctor's paths come from: the passed environment, never the process's."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from venv_doctor.discover.stores import _workon_home
from venv_doctor.interpreters.layouts import uv_python_dir
from venv_doctor.paths import app_dirs, expand_user, home, pyenv_root


def test_tilde_means_the_passed_home_not_the_process_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "process-home"))
    passed = tmp_path / "passed-home"
    env = {
        "HOME": str(passed),
        "VENV_DOCTOR_STATE_DIR": "~/state",
        "PYENV_ROOT": "~/pyenv",
        "WORKON_HOME": "~/envs",
        "UV_PYTHON_INSTALL_DIR": "~/uv-python",
    }
    assert app_dirs(env).state == passed / "state"
    assert pyenv_root(env) == passed / "pyenv"
    assert _workon_home(env) == passed / "envs"
    assert uv_python_dir(env) == passed / "uv-python"


def test_expand_user_forms() -> None:
    base = Path("/passed/home")
    assert expand_user("~", base) == base
    assert expand_user("~/a/b", base) == base / "a" / "b"
    assert expand_user("/abs/~x", base) == Path("/abs/~x")
    assert expand_user("relative", base) == Path("relative")
    me = pwd.getpwuid(os.getuid())
    assert expand_user(f"~{me.pw_name}/x", base) == Path(me.pw_dir) / "x"  # the password database
    with pytest.raises(RuntimeError):
        expand_user("~no-such-user-of-venv-doctor/x", base)


def test_without_home_the_password_database_answers() -> None:
    assert home({}) == Path(pwd.getpwuid(os.getuid()).pw_dir)


def test_a_relative_home_is_no_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """HOME=relative (as platformdirs took it): the password database's home, not a state
    database and stores that move with the cwd. Through `paths --json`."""
    import json

    from venv_doctor.cli import run as cli

    user = tmp_path / "user-home"
    entry = pwd.getpwuid(os.getuid())
    fake = pwd.struct_passwd((*entry[:5], str(user), entry[6]))
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: fake)
    for name in ("CONFIG", "STATE", "CACHE", "LOG"):
        monkeypatch.delenv(f"VENV_DOCTOR_{name}_DIR", raising=False)
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "relative-home")
    monkeypatch.chdir(tmp_path)

    assert cli(["paths", "--json"]) == 0

    shown = json.loads(capsys.readouterr().out)
    assert shown["directories"]["state"] == str(user / ".local/state/venv-doctor")
    assert shown["directories"]["config"] == str(user / ".config/venv-doctor/config.toml")
    assert {s["path"] for s in shown["stores"] if s["store"] == "virtualenvwrapper"} == {
        str(user / ".virtualenvs")
    }
    assert home({"HOME": "relative-home"}) == user
    assert not (tmp_path / "relative-home").exists()


def test_app_directories_come_from_the_passed_environment_not_the_processs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "process-home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "process-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "process-state"))
    env = {"HOME": "/h", "XDG_STATE_HOME": "/x/state", "XDG_CACHE_HOME": "relative/ignored"}
    dirs = app_dirs(env)
    assert dirs.config == Path("/h/.config/venv-doctor")
    assert dirs.state == Path("/x/state/venv-doctor")
    assert dirs.log == Path("/x/state/venv-doctor/log")
    assert dirs.cache == Path("/h/.cache/venv-doctor")  # a relative XDG value is not one


def test_app_directories_on_macos_from_the_passed_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fake at the platform seam: macOS cannot run here
    monkeypatch.setattr("venv_doctor.paths.is_macos", lambda: True)
    dirs = app_dirs({"HOME": "/Users/me", "XDG_CONFIG_HOME": "/cfg"})
    assert dirs.config == Path("/cfg/venv-doctor")
    assert dirs.state == Path("/Users/me/Library/Application Support/venv-doctor")
    assert dirs.cache == Path("/Users/me/Library/Caches/venv-doctor")
    assert dirs.log == Path("/Users/me/Library/Logs/venv-doctor")
