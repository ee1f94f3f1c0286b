from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support import FakeHomebrew, make_venv, pyenv_version_dir, real_python
from venv_doctor import runner
from venv_doctor.cli import run
from venv_doctor.config import Config
from venv_doctor.errors import UsageError
from venv_doctor.interpreters.inventory import (
    Interpreter,
    best_for,
    inventory,
    resolve_spec,
)
from venv_doctor.interpreters.layouts import stability, stable_path_for
from venv_doctor.interpreters.probe import ProbeCache
from venv_doctor.paths import app_dirs

SAFE_PATH = "/usr/bin:/bin"  # no directory under the real home


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": SAFE_PATH, **extra}


def _version(minor: str) -> str:
    real_python(minor)
    found = pyenv_version_dir(minor)
    assert found is not None
    return found.name


def _paths(found: list[Interpreter]) -> list[Path]:
    return [i.path for i in found]


def _interp(path: str, version: str, source: str = "pyenv") -> Interpreter:
    return Interpreter(Path(path), Path(path), version, source)


# --- Homebrew --------------------------------------------------------------------------


def test_inventory_lists_homebrew_opt_path_not_cellar(
    homebrew: FakeHomebrew, tmp_path: Path
) -> None:
    version = _version("3.12")
    keg_python = homebrew.install("3.12", version)
    found = inventory(Config(), _env(HOMEBREW_PREFIX=str(homebrew.prefix)), tmp_path / "c.json")
    brewed = [i for i in found if i.source == "homebrew"]
    assert [i.path for i in brewed] == [homebrew.opt_python("3.12")]
    assert brewed[0].version == version
    assert brewed[0].real == real_python("3.12").resolve()
    assert all("Cellar" not in i.path.parts for i in found)
    assert keg_python not in _paths(found)


def test_inventory_finds_homebrew_without_the_prefix_variable_via_extra(
    homebrew: FakeHomebrew, tmp_path: Path
) -> None:
    keg_python = homebrew.install("3.12", _version("3.12"))
    config = Config(extra_interpreters=(keg_python,))
    found = inventory(config, _env(), tmp_path / "c.json")
    # the keg is listed through opt/, found by inferring the prefix from the Cellar path
    assert homebrew.opt_python("3.12") in _paths(found)
    assert keg_python not in _paths(found)


@pytest.mark.parametrize("macos_keg", [False, True])
def test_inventory_on_a_keg_holding_the_real_binary(tmp_path: Path, macos_keg: bool) -> None:
    """Real Homebrew: the keg holds the binary (macOS: inside a framework), opt/ links the keg."""
    prefix = tmp_path / "brew"
    keg = prefix / "Cellar" / "python@3.12" / "3.12.99_1"
    (keg / "bin").mkdir(parents=True)
    if macos_keg:
        fw_bin = keg / "Frameworks" / "Python.framework" / "Versions" / "3.12" / "bin"
        fw_bin.mkdir(parents=True)
        shutil.copy2(real_python("3.12"), fw_bin / "python3.12")
        (keg / "bin" / "python3.12").symlink_to(
            Path("..", *fw_bin.relative_to(keg).parts, "python3.12")
        )
        real = fw_bin / "python3.12"
    else:
        shutil.copy2(real_python("3.12"), keg / "bin" / "python3.12")
        real = keg / "bin" / "python3.12"
    (keg / "bin" / "python3").symlink_to("python3.12")
    (prefix / "opt").mkdir()
    (prefix / "opt" / "python@3.12").symlink_to(Path("..", "Cellar", "python@3.12", "3.12.99_1"))
    (prefix / "bin").mkdir()
    (prefix / "bin" / "python3").symlink_to(Path("..", "opt", "python@3.12", "bin", "python3"))
    env = _env(HOMEBREW_PREFIX=str(prefix), PATH=f"{prefix / 'bin'}:{SAFE_PATH}")
    found = [i for i in inventory(Config(), env, tmp_path / "c.json") if i.real == real]
    assert found == [
        Interpreter(
            prefix / "opt" / "python@3.12" / "bin" / "python3.12", real, "3.12.99", "homebrew"
        )
    ]
    assert stable_path_for(prefix / "bin" / "python3", env) == found[0].path


def test_stable_path_for_cellar_path_is_opt(homebrew: FakeHomebrew) -> None:
    keg_python = homebrew.install("3.12", _version("3.12"))
    env = _env(HOMEBREW_PREFIX=str(homebrew.prefix))
    assert stable_path_for(keg_python, env) == homebrew.opt_python("3.12")
    unversioned = keg_python.with_name("python3")
    assert stable_path_for(unversioned, env) == homebrew.opt_python("3.12")


def test_stable_path_for_dangling_cellar_path_after_upgrade(homebrew: FakeHomebrew) -> None:
    version = _version("3.12")
    old_keg_python = homebrew.install("3.12", version)
    homebrew.upgrade("3.12", version, version + "_1")
    assert not old_keg_python.exists()
    assert stable_path_for(old_keg_python, _env()) == homebrew.opt_python("3.12")
    old_python3 = old_keg_python.with_name("python3")
    assert stable_path_for(old_python3, _env()) == homebrew.opt_python("3.12")


def test_stable_path_for_keeps_cellar_path_when_opt_reaches_another_minor(tmp_path: Path) -> None:
    prefix = tmp_path / "brew"
    old = prefix / "Cellar" / "python" / _version("3.11")
    new = prefix / "Cellar" / "python" / _version("3.12")
    for keg, minor in ((old, "3.11"), (new, "3.12")):
        (keg / "bin").mkdir(parents=True)
        shutil.copy2(real_python(minor), keg / "bin" / f"python{minor}")  # real files, as in a keg
        (keg / "bin" / "python3").symlink_to(f"python{minor}")
    (prefix / "opt").mkdir()
    (prefix / "opt" / "python").symlink_to(new)  # the unversioned formula moved on to 3.12
    old_python3 = old / "bin" / "python3"
    assert stable_path_for(old_python3, _env()) == old / "bin" / "python3.11"


# --- pyenv and uv layouts ----------------------------------------------------------------


def _pyenv_version(root: Path, minor: str) -> Path:
    bindir = root / "versions" / _version(minor) / "bin"
    bindir.mkdir(parents=True)
    (bindir / f"python{minor}").symlink_to(real_python(minor))
    (bindir / "python3").symlink_to(f"python{minor}")
    (bindir / "python3-config").write_text("#!/bin/sh\n")
    return bindir / f"python{minor}"


def test_inventory_reads_pyenv_root_and_skips_virtualenv_envs(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    py312 = _pyenv_version(root, "3.12")
    py38 = _pyenv_version(root, "3.8")
    env_dir = make_venv(real_python("3.12"), py312.parent.parent / "envs" / "proj")
    (root / "versions" / "proj").symlink_to(env_dir)  # pyenv-virtualenv's link
    make_venv(real_python("3.12"), root / "versions" / "plainenv")
    (root / "versions" / "broken").mkdir()
    (root / "versions" / "broken" / "bin").mkdir()
    (root / "versions" / "broken" / "bin" / "python3.12").symlink_to(tmp_path / "gone")
    found = inventory(Config(), _env(PYENV_ROOT=str(root)), tmp_path / "c.json")
    pyenv = {i.path: i for i in found if i.source == "pyenv"}
    assert set(pyenv) == {py312, py38}
    assert pyenv[py312].version == _version("3.12")
    assert pyenv[py38].minor == "3.8"
    assert not any("envs" in i.path.parts or "proj" in i.path.parts for i in found)


def _uv_layout(base: Path, minor: str) -> tuple[Path, Path]:
    version = _version(minor)
    patch_dir = base / f"cpython-{version}-linux-x86_64-gnu"
    (patch_dir / "bin").mkdir(parents=True)
    (patch_dir / "bin" / f"python{minor}").symlink_to(real_python(minor))
    (patch_dir / "bin" / "python3").symlink_to(f"python{minor}")
    minor_dir = base / f"cpython-{minor}-linux-x86_64-gnu"
    minor_dir.symlink_to(patch_dir.name)
    return patch_dir / "bin" / f"python{minor}", minor_dir / "bin" / f"python{minor}"


def test_inventory_prefers_uv_minor_link_directory(tmp_path: Path) -> None:
    patch_python, minor_python = _uv_layout(tmp_path / "uvpy", "3.12")
    env = _env(UV_PYTHON_INSTALL_DIR=str(tmp_path / "uvpy"))
    found = inventory(Config(), env, tmp_path / "c.json")
    uv = [i for i in found if i.source == "uv"]
    assert [i.path for i in uv] == [minor_python]
    assert uv[0].version == _version("3.12")
    assert stable_path_for(patch_python, env) == minor_python


def test_inventory_uses_default_uv_dir_under_xdg_data_home(
    isolated_home: Path, tmp_path: Path
) -> None:
    _, minor_python = _uv_layout(isolated_home / ".local" / "share" / "uv" / "python", "3.13")
    found = inventory(Config(), _env(), tmp_path / "c.json")
    assert minor_python in [i.path for i in found if i.source == "uv"]


def test_dedupe_keeps_the_most_stable_path_of_one_interpreter(tmp_path: Path) -> None:
    patch_python, minor_python = _uv_layout(tmp_path / "uvpy", "3.12")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(patch_python)
    env = _env(UV_PYTHON_INSTALL_DIR=str(tmp_path / "uvpy"), PATH=f"{bindir}:{SAFE_PATH}")
    found = inventory(Config(), env, tmp_path / "c.json")
    same = [i for i in found if i.real == real_python("3.12").resolve()]
    assert [i.path for i in same] == [minor_python]


# --- reading versions: the probe and its cache ---------------------------------------------


def _copied_python(tmp_path: Path, minor: str) -> Path:
    """A copy of the binary where no path component names the patch release."""
    bindir = tmp_path / "custom" / "bin"
    bindir.mkdir(parents=True)
    shutil.copy2(real_python(minor), bindir / f"python{minor}")
    return bindir / f"python{minor}"


def test_version_is_probed_once_then_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copied_python(tmp_path, "3.12")
    cache = tmp_path / "cache" / "interpreters.json"
    config = Config(extra_interpreters=(copy,))
    first = [i for i in inventory(config, _env(), cache) if i.path == copy]
    assert [i.version for i in first] == [_version("3.12")]
    assert first[0].source == "extra"
    assert str(copy) in json.loads(cache.read_text())["entries"]

    def no_run(*args: object, **kwargs: object) -> runner.Completed:
        raise AssertionError("the cached version should have been used")

    monkeypatch.setattr(runner, "run", no_run)
    second = [i for i in inventory(config, _env(), cache) if i.path == copy]
    assert second == first


def test_without_a_cache_path_the_app_dirs_one_is_used(tmp_path: Path) -> None:
    copy = _copied_python(tmp_path, "3.12")
    env = _env(VENV_DOCTOR_CACHE_DIR=str(tmp_path / "cache-dir"))
    inventory(Config(extra_interpreters=(copy,)), env)
    cache = app_dirs(env).interpreters_cache
    assert cache == tmp_path / "cache-dir" / "interpreters.json"
    assert str(copy) in json.loads(cache.read_text())["entries"]


def test_probe_result_other_than_cpython_is_skipped(tmp_path: Path) -> None:
    copy = _copied_python(tmp_path, "3.12")
    cache = ProbeCache(tmp_path / "c.json")
    cache.put(copy, "pypy", "3.12.1")
    cache.save()
    found = inventory(Config(extra_interpreters=(copy,)), _env(), tmp_path / "c.json")
    assert copy not in _paths(found)


def test_scripts_broken_links_and_odd_entries_are_skipped_silently(tmp_path: Path) -> None:
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "python3").write_text('#!/bin/sh\nexec /usr/bin/python3 "$@"\n')  # a shim
    (odd / "python3").chmod(0o755)
    (odd / "python3.12").symlink_to(tmp_path / "missing")
    (odd / "python3.9").write_text("not a program")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    config = Config(extra_interpreters=(odd, not_a_dir / "python3"))
    env = _env(PATH=f"{odd}:{not_a_dir}:relative:{SAFE_PATH}", PYENV_ROOT=str(not_a_dir))
    found = inventory(config, env, tmp_path / "c.json")
    assert not [i for i in found if str(i.path).startswith(str(tmp_path))]


def test_python27_is_listed(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    py27 = _pyenv_version(root, "2.7")
    found = inventory(Config(), _env(PYENV_ROOT=str(root)), tmp_path / "c.json")
    assert [i.version for i in found if i.path == py27] == [_version("2.7")]


def test_venv_interpreters_on_path_are_not_listed(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "venv")
    found = inventory(Config(), _env(PATH=f"{venv / 'bin'}:{SAFE_PATH}"), tmp_path / "c.json")
    assert not [i for i in found if str(i.path).startswith(str(venv))]


# --- choosing ------------------------------------------------------------------------------

LISTED = [
    _interp("/opt/homebrew/Cellar/python@3.12/3.12.9/bin/python3.12", "3.12.9", "homebrew"),
    _interp("/root/.pyenv/versions/3.12.1/bin/python3.12", "3.12.1"),
    _interp("/root/.pyenv/versions/3.12.4/bin/python3.12", "3.12.4"),
    _interp("/opt/homebrew/opt/python@3.13/bin/python3.13", "3.13.1", "homebrew"),
    _interp("/root/.pyenv/versions/3.13.0/bin/python3.13", "3.13.0"),
    _interp("/usr/bin/python3", "3.11.2", "system"),
]


def test_stability_order() -> None:
    ranks = [
        stability(Path(p))
        for p in (
            "/opt/homebrew/Cellar/python@3.12/3.12.1/bin/python3.12",
            "/home/u/.local/share/uv/python/cpython-3.12.1-linux-x86_64-gnu/bin/python3.12",
            "/usr/bin/python3",
            "/root/.pyenv/versions/3.12.1/bin/python3",
            "/root/.pyenv/versions/3.12.1/bin/python3.12",
            "/opt/homebrew/opt/python@3.12/bin/python3",
            "/opt/homebrew/opt/python@3.12/bin/python3.12",
        )
    ]
    assert ranks == sorted(ranks)
    assert ranks[0] < ranks[2] < ranks[3] < ranks[5]
    assert stability(
        Path("/home/u/.local/share/uv/python/cpython-3.12-linux-x86_64-gnu/bin/python3.12")
    ) == (3, 1)


def test_best_for_prefers_stable_path_then_newest_patch() -> None:
    assert best_for(LISTED, "3.12") == LISTED[2]  # pyenv 3.12.4 beats a Cellar keg 3.12.9
    assert best_for(LISTED, "3.13") == LISTED[3]
    assert best_for(LISTED, "3.10") is None


def test_resolve_spec_by_version() -> None:
    assert resolve_spec("3.13", LISTED, os.environ) == LISTED[3]
    assert resolve_spec("3.12.1", LISTED, os.environ) == LISTED[1]
    assert resolve_spec("python3.11", LISTED, os.environ) == LISTED[5]


def test_resolve_spec_missing_version_lists_what_exists() -> None:
    with pytest.raises(UsageError) as err:
        resolve_spec("3.14", LISTED, os.environ)
    assert "3.14" in err.value.message
    assert err.value.hint is not None
    assert "3.12.1 (/root/.pyenv/versions/3.12.1/bin/python3.12)" in err.value.hint
    assert "3.13.1" in err.value.hint
    with pytest.raises(UsageError, match=r"3\.12\.2"):
        resolve_spec("3.12.2", LISTED, os.environ)
    with pytest.raises(UsageError, match="expected a version"):
        resolve_spec("latest", LISTED, os.environ)


def test_resolve_spec_by_path(homebrew: FakeHomebrew, tmp_path: Path) -> None:
    keg_python = homebrew.install("3.12", _version("3.12"))
    env = _env(HOMEBREW_PREFIX=str(homebrew.prefix))
    found = inventory(Config(), env, tmp_path / "c.json")
    # a Cellar path given by the user resolves to the same interpreter by its stable path
    assert resolve_spec(str(keg_python), found, os.environ).path == homebrew.opt_python("3.12")
    # a path venv-doctor did not list is read on the spot
    outside = resolve_spec(str(real_python("3.13")), [], os.environ)
    assert outside.version == _version("3.13")
    assert outside.source == "path"


def test_resolve_spec_rejects_non_interpreters(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "venv")
    with pytest.raises(UsageError, match="virtual environment"):
        resolve_spec(str(venv / "bin" / "python"), [], os.environ)
    # a venv's interpreter that reaches a listed one means that base interpreter
    base = _interp(str(real_python("3.12").resolve()), _version("3.12"))
    assert resolve_spec(str(venv / "bin" / "python"), [base], os.environ) == base
    with pytest.raises(UsageError, match="not a working CPython"):
        resolve_spec(str(tmp_path / "nothing" / "python3"), LISTED, os.environ)


# --- CLI -------------------------------------------------------------------------------------


def test_interpreters_json(
    homebrew: FakeHomebrew, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    homebrew.install("3.13", _version("3.13"))
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    monkeypatch.setenv("PATH", SAFE_PATH)
    assert run(["interpreters", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    entry = next(i for i in data["interpreters"] if i["source"] == "homebrew")
    assert entry == {
        "path": str(homebrew.opt_python("3.13")),
        "real": str(real_python("3.13").resolve()),
        "version": _version("3.13"),
        "source": "homebrew",
        "venvs": 0,  # no venv depends on it yet
    }
    assert run(["interpreters"]) == 0
    assert str(homebrew.opt_python("3.13")) in capsys.readouterr().out
