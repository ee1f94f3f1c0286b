from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.support import pyenv_version_dir, real_python, run
from venv_doctor.errors import VenvDoctorError
from venv_doctor.install import creators
from venv_doctor.install.creators import VenvOptions, create_venv
from venv_doctor.interpreters.inventory import Interpreter
from venv_doctor.model import links, pyvenv_cfg
from venv_doctor.runner import Completed

SAFE_ENV = {**os.environ, "PATH": "/usr/bin:/bin"}


def _interpreter(minor: str) -> Interpreter:
    python = real_python(minor)
    version_dir = pyenv_version_dir(minor)
    assert version_dir is not None
    return Interpreter(python, python.resolve(), version_dir.name, "pyenv")


@pytest.mark.parametrize("minor", ["3.8", "3.12", "3.13"])
@pytest.mark.parametrize("creator", ["venv", "virtualenv", "uv"])
def test_each_creator_keeps_prompt_and_system_site(
    creator: str, minor: str, tmp_path: Path
) -> None:
    base = _interpreter(minor)
    path = tmp_path / "new"
    options = VenvOptions(creator, system_site_packages=True, prompt="my proj", copies=False)
    note = create_venv(base, path, options, with_pip=False, env=SAFE_ENV)
    assert note is None
    cfg = pyvenv_cfg.read(path / "pyvenv.cfg")
    assert cfg.creator == creator
    assert cfg.prompt == "my proj"
    assert cfg.include_system_site_packages
    assert cfg.minor == minor
    assert (path / "bin" / "python").is_symlink()
    assert (path / "bin" / "python").resolve() == base.real
    assert not list(path.glob("lib/python*/site-packages/pip"))
    done = run([path / "bin" / "python", "-c", "import sys; print(sys.prefix != sys.base_prefix)"])
    assert done.stdout.strip() == "True"


@pytest.mark.parametrize("creator", ["venv", "virtualenv"])
def test_copies_and_defaults_are_kept(creator: str, tmp_path: Path) -> None:
    path = tmp_path / "new"
    options = VenvOptions(creator, system_site_packages=False, prompt=None, copies=True)
    assert create_venv(real_python("3.12"), path, options, with_pip=False, env=SAFE_ENV) is None
    cfg = pyvenv_cfg.read(path / "pyvenv.cfg")
    assert cfg.creator == creator
    assert not cfg.include_system_site_packages
    assert cfg.get("prompt") is None
    assert not (path / "bin" / "python").is_symlink()
    assert run([path / "bin" / "python", "-c", "print(1)"]).stdout.strip() == "1"


def test_uv_cannot_copy_so_stdlib_venv_is_used_and_said(tmp_path: Path) -> None:
    path = tmp_path / "new"
    options = VenvOptions("uv", system_site_packages=False, prompt="p", copies=True)
    note = create_venv(_interpreter("3.12"), path, options, with_pip=False, env=SAFE_ENV)
    assert note is not None and "uv cannot make a venv with copies" in note
    cfg = pyvenv_cfg.read(path / "pyvenv.cfg")
    assert cfg.creator == "venv"
    assert cfg.prompt == "p"
    assert not (path / "bin" / "python").is_symlink()


def test_missing_tools_fall_back_to_stdlib_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(creators, "find_uv", lambda env: None)
    monkeypatch.setattr(creators, "virtualenv_command", lambda env, prefer_path=False: None)
    for creator in ("uv", "virtualenv"):
        path = tmp_path / creator
        options = VenvOptions(creator, system_site_packages=True, prompt="x", copies=False)
        note = create_venv(_interpreter("3.12"), path, options, with_pip=False, env=SAFE_ENV)
        assert (
            note == f"{creator} was not found: made {path} with the standard library's venv instead"
        )
        cfg = pyvenv_cfg.read(path / "pyvenv.cfg")
        assert (cfg.creator, cfg.prompt, cfg.include_system_site_packages) == ("venv", "x", True)


@pytest.mark.parametrize("creator", ["venv", "uv"])
def test_with_pip_seeds_pip_offline(creator: str, tmp_path: Path) -> None:
    path = tmp_path / "new"
    options = VenvOptions(creator, system_site_packages=False, prompt=None, copies=False)
    create_venv(_interpreter("3.12"), path, options, with_pip=True, env=SAFE_ENV)
    assert pyvenv_cfg.read(path / "pyvenv.cfg").creator == creator
    done = run([path / "bin" / "python", "-m", "pip", "--version"])
    assert str(path) in done.stdout


def test_base_given_as_a_path_links_to_that_path(tmp_path: Path) -> None:
    link_dir = tmp_path / "stable" / "bin"
    link_dir.mkdir(parents=True)
    (link_dir / "python3.12").symlink_to(real_python("3.12"))
    path = tmp_path / "new"
    options = VenvOptions("venv", system_site_packages=False, prompt=None, copies=False)
    create_venv(link_dir / "python3.12", path, options, with_pip=False, env=SAFE_ENV)
    assert pyvenv_cfg.read(path / "pyvenv.cfg").home == str(link_dir)
    assert link_dir / "python3.12" in links.follow(path / "bin" / "python").hops


def test_refuses_a_non_empty_target(tmp_path: Path) -> None:
    path = tmp_path / "new"
    path.mkdir()
    (path / "keep.txt").write_text("user data")
    options = VenvOptions("venv", system_site_packages=False, prompt=None, copies=False)
    with pytest.raises(VenvDoctorError, match="not empty"):
        create_venv(_interpreter("3.12"), path, options, with_pip=False, env=SAFE_ENV)
    assert (path / "keep.txt").read_text() == "user data"
    empty = tmp_path / "empty"
    empty.mkdir()
    create_venv(_interpreter("3.12"), empty, options, with_pip=False, env=SAFE_ENV)
    assert (empty / "pyvenv.cfg").is_file()


def test_python2_needs_a_virtualenv_that_supports_it(tmp_path: Path) -> None:
    options = VenvOptions("venv", system_site_packages=False, prompt=None, copies=False)
    with pytest.raises(VenvDoctorError, match="cannot make a Python 2 venv") as err:
        create_venv(_interpreter("2.7"), tmp_path / "new", options, with_pip=False, env=SAFE_ENV)
    assert err.value.hint is not None and "virtualenv" in err.value.hint


def test_python2_uses_virtualenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_runner(args: Sequence[str | Path], /, **kwargs: object) -> Completed:
        calls.append([str(a) for a in args])
        return Completed(tuple(calls[-1]), 0, "", "")

    monkeypatch.setattr(
        creators, "virtualenv_command", lambda env, prefer_path=False: ["virtualenv"]
    )
    options = VenvOptions("venv", system_site_packages=True, prompt="old", copies=False)
    target = tmp_path / "new"
    create_venv(
        _interpreter("2.7"),
        target,
        options,
        with_pip=True,
        runner=fake_runner,
        env=os.environ,
    )
    assert calls == [
        [
            "virtualenv",
            "--quiet",
            "--no-periodic-update",
            "--python",
            str(real_python("2.7")),
            "--system-site-packages",
            "--prompt",
            "old",
            "--no-download",
            str(target),
        ]
    ]
