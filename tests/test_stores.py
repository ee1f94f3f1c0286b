"""Store discovery: every store of BRIEF.md's table, by its variable and its default."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support import FakePyenv, make_legacy_virtualenv, make_venv, real_python
from venv_doctor import config, targets
from venv_doctor.config import Config
from venv_doctor.context import Context
from venv_doctor.discover import stores, tracking
from venv_doctor.discover.stores import Store, known_stores, store_venvs
from venv_doctor.paths import app_dirs
from venv_doctor.targets import all_locations


def fake_venv(path: Path, minor: str = "3.12") -> Path:
    """Enough of a venv for discovery: a pyvenv.cfg (diagnosis tests use real ones)."""
    path.mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {minor}.1\n")
    return path


def found(cfg: Config | None = None) -> dict[str, tuple[str, str]]:
    """Real path -> (store, name) of every venv venv-doctor finds now."""
    dirs = app_dirs(os.environ)
    ctx = Context(cfg or config.load(dirs, os.environ), dirs, os.environ)
    locations = all_locations(ctx)
    paths = [str(x.path) for x in locations]
    assert len(paths) == len(set(paths)), "a venv was reported twice"
    for x in locations:  # a venv named by its path is placed as discovery places it
        assert targets.locate(ctx, str(x.path)) == x
    return {str(x.path): (x.store, x.name) for x in locations}


def roots(store_name: str) -> list[Path]:
    return [s.root for s in known_stores(Config(), os.environ) if s.name == store_name]


# --- each store: default location and override variable -------------------------------


@pytest.mark.parametrize(
    ("store", "where", "name"),
    [
        ("multivenv", ".multivenv/tools", "tools"),
        ("virtualenvwrapper", ".virtualenvs/web", "web"),
        ("pipx", ".local/share/pipx/venvs/black", "black"),
        ("pipx", ".local/share/pipx/shared", "shared"),
        ("poetry", ".cache/pypoetry/virtualenvs/app-AbC123-py3.12", "app-AbC123-py3.12"),
        ("hatch", ".local/share/hatch/env/virtual/proj/kX9aQ2/test", "proj/test"),
        ("hatch", ".local/share/hatch/env/virtual/proj/kX9aQ2/proj", "proj/proj"),
        ("uv-tools", ".local/share/uv/tools/ruff", "ruff"),
        ("pdm", ".local/share/pdm/venvs/app-x1-3.12", "app-x1-3.12"),
    ],
)
def test_default_locations(isolated_home: Path, store: str, where: str, name: str) -> None:
    venv = fake_venv(isolated_home / where)
    assert found() == {str(venv): (store, name)}


def test_defaults_follow_xdg_variables(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    pipx = fake_venv(tmp_path / "data" / "pipx" / "venvs" / "black")
    uv = fake_venv(tmp_path / "data" / "uv" / "tools" / "ruff")
    pdm = fake_venv(tmp_path / "data" / "pdm" / "venvs" / "app")
    hatch = fake_venv(tmp_path / "data" / "hatch" / "env" / "virtual" / "p" / "h" / "e")
    poetry = fake_venv(tmp_path / "cache" / "pypoetry" / "virtualenvs" / "app")
    fake_venv(isolated_home / ".local" / "share" / "pipx" / "venvs" / "stale")  # not looked at
    assert found() == {
        str(pipx): ("pipx", "black"),
        str(poetry): ("poetry", "app"),
        str(hatch): ("hatch", "p/e"),
        str(uv): ("uv-tools", "ruff"),
        str(pdm): ("pdm", "app"),
    }


def test_relative_xdg_variable_is_ignored(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # invalid per the XDG spec
    venv = fake_venv(isolated_home / ".local" / "share" / "uv" / "tools" / "ruff")
    assert found() == {str(venv): ("uv-tools", "ruff")}


DEFAULTS = {
    "virtualenvwrapper": ".virtualenvs",
    "pipx": ".local/share/pipx/venvs",
    "poetry": ".cache/pypoetry/virtualenvs",
    "hatch": ".local/share/hatch/env/virtual/p/h",
    "uv-tools": ".local/share/uv/tools",
}


@pytest.mark.parametrize(
    ("variable", "store", "where", "name"),
    [
        ("WORKON_HOME", "virtualenvwrapper", "web", "web"),
        ("PIPX_HOME", "pipx", "venvs/black", "black"),
        ("PIPX_HOME", "pipx", "shared", "shared"),
        ("POETRY_VIRTUALENVS_PATH", "poetry", "app-py3.12", "app-py3.12"),
        ("POETRY_CACHE_DIR", "poetry", "virtualenvs/app-py3.12", "app-py3.12"),
        ("HATCH_DATA_DIR", "hatch", "env/virtual/proj/h4sh/lint", "proj/lint"),
        ("UV_TOOL_DIR", "uv-tools", "ruff", "ruff"),
    ],
)
def test_override_variables(
    isolated_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    store: str,
    where: str,
    name: str,
) -> None:
    root = tmp_path / "custom"
    monkeypatch.setenv(variable, str(root))
    venv = fake_venv(root / where)
    fake_venv(isolated_home / DEFAULTS[store] / "decoy")  # the default is no longer searched
    assert found() == {str(venv): (store, name)}


def test_poetry_virtualenvs_path_wins_over_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POETRY_VIRTUALENVS_PATH", str(tmp_path / "venvs"))
    monkeypatch.setenv("POETRY_CACHE_DIR", str(tmp_path / "cache"))
    assert roots("poetry") == [tmp_path / "venvs"]


def test_relative_workon_home_is_under_home(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKON_HOME", "envs/wrapper")
    venv = fake_venv(isolated_home / "envs" / "wrapper" / "web")
    assert roots("virtualenvwrapper") == [isolated_home / "envs" / "wrapper"]
    assert found() == {str(venv): ("virtualenvwrapper", "web")}


def test_tilde_in_an_override(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKON_HOME", "~/wrapped")
    assert roots("virtualenvwrapper") == [isolated_home / "wrapped"]


def test_pipx_legacy_home_is_used_when_present(isolated_home: Path) -> None:
    legacy = fake_venv(isolated_home / ".local" / "pipx" / "venvs" / "black")
    shared = fake_venv(isolated_home / ".local" / "pipx" / "shared")
    assert found() == {str(legacy): ("pipx", "black"), str(shared): ("pipx", "shared")}
    assert roots("pipx") == [
        isolated_home / ".local" / "pipx" / "venvs",
        isolated_home / ".local" / "pipx" / "shared",
    ]


def test_pyenv_virtualenv_envs_and_their_version_links_count_once(tmp_path: Path) -> None:
    pyenv = FakePyenv(tmp_path / "pyenv")  # PYENV_ROOT points here (isolated_home)
    pyenv.install("3.12", "3.12.1")
    env = pyenv.virtualenv("3.12.1", "proj", "3.12")
    assert (tmp_path / "pyenv" / "versions" / "proj").is_symlink()
    assert found() == {str(env): ("pyenv-virtualenv", "proj")}


def test_pyenv_default_root(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYENV_ROOT")
    env = fake_venv(isolated_home / ".pyenv" / "versions" / "3.11.7" / "envs" / "tools")
    fake_venv(isolated_home / ".pyenv" / "versions" / "3.11.7" / "lib" / "notanenv")
    assert found() == {str(env): ("pyenv-virtualenv", "tools")}


def test_pyenv_uninstall_takes_its_envs_along(tmp_path: Path) -> None:
    pyenv = FakePyenv(tmp_path / "pyenv")
    pyenv.install("3.12", "3.12.1")
    pyenv.virtualenv("3.12.1", "proj", "3.12")
    pyenv.uninstall("3.12.1")
    assert found() == {}  # the dangling versions/proj link is not a venv


@pytest.mark.parametrize(
    ("store", "where", "name"),
    [
        ("pipx", "Library/Application Support/pipx/venvs/black", "black"),
        ("poetry", "Library/Caches/pypoetry/virtualenvs/app", "app"),
        ("hatch", "Library/Application Support/hatch/env/virtual/p/h/e", "p/e"),
        ("pdm", "Library/Application Support/pdm/venvs/app", "app"),
        ("uv-tools", "Library/Application Support/uv/tools/ruff", "ruff"),
        ("uv-tools", ".local/share/uv/tools/ruff", "ruff"),
        ("pipx", ".local/pipx/venvs/black", "black"),
    ],
)
def test_macos_defaults(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, store: str, where: str, name: str
) -> None:
    monkeypatch.setattr(stores, "is_macos", lambda: True)
    venv = fake_venv(isolated_home / where)
    assert found() == {str(venv): (store, name)}


# --- config extras and tracked venvs ------------------------------------------------------


def test_extra_stores_from_config(isolated_home: Path, tmp_path: Path) -> None:
    dirs = app_dirs(os.environ)
    dirs.config.mkdir(parents=True)
    absolute = tmp_path / "srv" / "envs"
    dirs.config_file.write_text(f'[stores]\nextra = ["{absolute}", "~/work/envs", "rel/envs"]\n')
    a = fake_venv(absolute / "one")
    b = fake_venv(isolated_home / "work" / "envs" / "two")
    c = fake_venv(isolated_home / "rel" / "envs" / "three")
    fake_venv(absolute / "group" / "deeper")  # one level deep only
    assert found() == {
        str(a): ("extra", "one"),
        str(b): ("extra", "two"),
        str(c): ("extra", "three"),
    }


def test_tracked_venvs(tmp_path: Path) -> None:
    project = fake_venv(tmp_path / "src" / "myproject" / ".venv")
    tracking.track(app_dirs(os.environ).tracked_file, project, None)
    assert found() == {str(project): ("tracked", "myproject")}


def test_tracked_venv_inside_a_store_is_named_by_the_store(isolated_home: Path) -> None:
    venv = fake_venv(isolated_home / ".virtualenvs" / "web")
    tracking.track(app_dirs(os.environ).tracked_file, venv, "mine")
    assert found() == {str(venv): ("virtualenvwrapper", "web")}


# --- what is and is not a venv ---------------------------------------------------------------


def test_missing_stores_are_empty(isolated_home: Path) -> None:
    assert not (isolated_home / ".virtualenvs").exists()
    assert found() == {}
    for store in known_stores(Config(), os.environ):
        assert store_venvs(store) == []


def test_store_root_that_is_a_file(isolated_home: Path) -> None:
    (isolated_home / ".virtualenvs").write_text("not a directory")
    assert found() == {}


def test_only_venvs_are_reported(isolated_home: Path, tmp_path: Path) -> None:
    store = isolated_home / ".virtualenvs"
    venv = fake_venv(store / "real")
    (store / "hooks").mkdir()  # virtualenvwrapper keeps hook scripts beside the envs
    (store / "postactivate").write_text("#!/bin/sh\n")
    fake_venv(store / ".hidden")
    conda = store / "condaenv"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "bin").mkdir()
    (conda / "bin" / "activate").write_text("")
    (conda / "bin" / "python").symlink_to(real_python("3.12"))
    (conda / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    (store / "dangling").symlink_to(tmp_path / "nowhere")
    assert found() == {str(venv): ("virtualenvwrapper", "real")}


def test_venv_without_pyvenv_cfg_but_with_activate_is_reported(isolated_home: Path) -> None:
    broken = isolated_home / ".virtualenvs" / "nocfg"
    (broken / "bin").mkdir(parents=True)
    (broken / "bin" / "activate").write_text("")
    assert found() == {str(broken): ("virtualenvwrapper", "nocfg")}


def test_venv_whose_cfg_is_a_dangling_link_is_reported(isolated_home: Path, tmp_path: Path) -> None:
    venv = isolated_home / ".virtualenvs" / "odd"
    venv.mkdir(parents=True)
    (venv / "pyvenv.cfg").symlink_to(tmp_path / "gone.cfg")
    assert found() == {str(venv): ("virtualenvwrapper", "odd")}


def test_legacy_virtualenv_is_reported(isolated_home: Path) -> None:
    legacy = make_legacy_virtualenv(real_python("2.7"), isolated_home / ".virtualenvs" / "py2")
    assert found() == {str(legacy): ("virtualenvwrapper", "py2")}


def test_real_venvs_of_every_creator(isolated_home: Path) -> None:
    python = real_python("3.12")
    made = {
        make_venv(python, isolated_home / ".virtualenvs" / "a"),
        make_venv(python, isolated_home / ".virtualenvs" / "b", creator="virtualenv"),
        make_venv(python, isolated_home / ".virtualenvs" / "c", creator="uv"),
    }
    assert set(found()) == {str(p) for p in made}


# --- symlinks: each venv once, by its real path ---------------------------------------------


def test_symlinked_entry_to_a_venv_of_another_store(isolated_home: Path) -> None:
    venv = fake_venv(isolated_home / ".virtualenvs" / "web")
    (isolated_home / ".multivenv").mkdir()
    (isolated_home / ".multivenv" / "alias").symlink_to(venv)  # multivenv is searched first
    assert found() == {str(venv): ("virtualenvwrapper", "web")}


def test_symlinked_entry_to_a_venv_outside_every_store(isolated_home: Path, tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "elsewhere" / "web")
    (isolated_home / ".virtualenvs").mkdir()
    (isolated_home / ".virtualenvs" / "web").symlink_to(venv)
    assert found() == {str(venv): ("virtualenvwrapper", "web")}


def test_two_links_to_one_venv_in_one_store(isolated_home: Path) -> None:
    venv = fake_venv(isolated_home / ".virtualenvs" / "web")
    (isolated_home / ".virtualenvs" / "web2").symlink_to("web")
    (isolated_home / ".virtualenvs" / "a-web").symlink_to("web")  # sorts first
    assert found() == {str(venv): ("virtualenvwrapper", "web")}


def test_symlinked_store_root(isolated_home: Path, tmp_path: Path) -> None:
    data = tmp_path / "data" / "venvs"
    venv = fake_venv(data / "web")
    (isolated_home / ".virtualenvs").symlink_to(data)
    assert found() == {str(venv): ("virtualenvwrapper", "web")}


def test_nested_store_through_a_linked_directory_on_the_way(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hatch's <project>/<hash>/<env>: a project directory that is a link gives the real
    path through it; plain ones are placed from the listings, with one realpath for the
    store's root (itself a link here) and none per venv."""
    data = tmp_path / "data" / "hatch"
    hatch_root = isolated_home / ".local" / "share" / "hatch" / "env" / "virtual"
    hatch_root.parent.mkdir(parents=True)
    hatch_root.symlink_to(data, target_is_directory=True)
    plain = [fake_venv(data / f"proj{i}" / "kX9aQ2" / "default") for i in range(3)]
    moved = fake_venv(tmp_path / "moved" / "kX9aQ2" / "test")
    (data / "linked").symlink_to(tmp_path / "moved")
    resolved: list[str] = []
    real_realpath = os.path.realpath

    def counting(path: str) -> str:
        if sys._getframe(1).f_globals["__name__"] == stores.__name__:  # not the home audit's
            resolved.append(os.fspath(path))
        return real_realpath(path)

    monkeypatch.setattr(os.path, "realpath", counting)
    [store] = [s for s in known_stores(Config(), os.environ) if s.name == "hatch"]
    assert {str(x.path): x.name for x in store_venvs(store)} == {
        **{str(v): f"{v.parent.parent.name}/default" for v in plain},
        str(moved): "linked/test",
    }
    hatch = [p for p in resolved if p.startswith(str(hatch_root))]
    assert sorted(hatch) == [str(hatch_root), str(hatch_root / "linked" / "kX9aQ2")]


def test_store_list_is_stable_and_complete(isolated_home: Path) -> None:
    names = [s.name for s in known_stores(Config(extra_stores=(Path("/x"),)), os.environ)]
    assert names == [
        "multivenv",
        "virtualenvwrapper",
        "pipx",
        "pipx",
        "pyenv-virtualenv",
        "poetry",
        "hatch",
        "uv-tools",
        "pdm",
        "extra",
    ]
    hatch = [s for s in known_stores(Config(), os.environ) if s.name == "hatch"]
    assert hatch == [Store("hatch", isolated_home / ".local/share/hatch/env/virtual", depth=3)]
