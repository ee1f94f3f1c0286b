from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

import pytest

from tests.support import TOOLS_BIN, make_venv, pyenv_version_dir, real_python, run
from venv_doctor.config import Config
from venv_doctor.errors import ConfigError
from venv_doctor.install import installers
from venv_doctor.install.creators import VenvOptions, create_venv
from venv_doctor.install.installers import (
    InstallError,
    PipInstaller,
    UvInstaller,
    choose_installer,
    missing_package,
)
from venv_doctor.interpreters.inventory import Interpreter
from venv_doctor.runner import Completed

REQUIREMENTS = "tinytop==3.0.0\ntinymid==2.0.0\ntinyleaf==1.1.0\n"


# --- naming the missing package -----------------------------------------------------------

UV_NOT_IN_FIND_LINKS = """Using Python 3.12.1 environment at: v1
error: No solution found when resolving dependencies
  cause: Because tinyzzz was not found in the provided package locations and you require tinyzzz==1.0, we can conclude that your requirements are unsatisfiable.
"""
UV_NOT_IN_CACHE = """  \u00d7 No solution found when resolving dependencies:
  ╰─▶ Because tinyleaf was not found in the cache and you require tinyleaf==1.0.0, we can conclude that your requirements are unsatisfiable.

      hint: Packages were unavailable because the network was disabled. When the network is disabled, registry packages may only be read from the cache.
"""
UV_MISSING_DEPENDENCY = """error: No solution found when resolving dependencies
  cause: Because tinymissing was not found in the package registry and all versions of tinymid depend on tinymissing, we can conclude that all versions of tinymid cannot be used.
         And because you require tinymid==2.0.0, we can conclude that your requirements are unsatisfiable.
"""
UV_NO_VERSION = "  cause: Because there is no version of tinyleaf==9.0 and you require tinyleaf==9.0, we can conclude that your requirements are unsatisfiable.\n"
UV_DOWNLOAD = "error: Failed to download `tinyleaf==1.0.0`\n  Caused by: Network connectivity is disabled, but the requested data wasn't found in the cache for: `https://files.example/tinyleaf-1.0.0-py3-none-any.whl`\n"
PIP_MISSING = """Looking in links: wh
Processing ./wh/tinyleaf-1.0.0-py3-none-any.whl (from -r r1.txt (line 1))
ERROR: Could not find a version that satisfies the requirement tinyzzz==1.0 (from versions: none)
ERROR: No matching distribution found for tinyzzz==1.0
"""
OLD_PIP_MISSING = """  Could not find a version that satisfies the requirement tinymissing (from tinymid==2.0.0) (from versions: )
No matching distribution found for tinymissing (from tinymid==2.0.0)
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (UV_NOT_IN_FIND_LINKS, "tinyzzz==1.0"),
        (UV_NOT_IN_CACHE, "tinyleaf==1.0.0"),
        (UV_MISSING_DEPENDENCY, "tinymissing"),
        (UV_NO_VERSION, "tinyleaf==9.0"),
        (UV_DOWNLOAD, "tinyleaf==1.0.0"),
        (PIP_MISSING, "tinyzzz==1.0"),
        (OLD_PIP_MISSING, "tinymissing"),
        ("error: Failed to fetch: `https://pypi.org/simple/tinyleaf/`\n", None),
        ("ERROR: tinyleaf-1.0.0.whl is not a supported wheel on this platform.\n", None),
    ],
)
def test_missing_package(output: str, expected: str | None) -> None:
    assert missing_package(output) == expected


# --- choosing ----------------------------------------------------------------------------------


@pytest.fixture
def no_pip_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore the machine's pip.conf files and PIP_* variables."""
    for key in list(os.environ):
        if key.startswith("PIP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


def _uv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{TOOLS_BIN}:/usr/bin:/bin")


def test_auto_takes_uv_with_translated_settings(
    no_pip_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _uv_on_path(monkeypatch)
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    chosen = choose_installer(Config(installer="auto"), os.environ)
    assert isinstance(chosen, UvInstaller)
    assert chosen.name == "uv"
    assert chosen.uv == TOOLS_BIN / "uv"
    assert chosen.options.args == ("--index-url", "https://mirror.example/simple")
    assert chosen.note is None


def test_uv_from_the_extra_when_not_on_path(
    no_pip_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    chosen = choose_installer(Config(), os.environ)
    assert isinstance(chosen, UvInstaller)
    import uv

    assert chosen.uv == Path(uv.find_uv_bin())


def test_uv_of_the_extra_is_found_beside_the_interpreter_without_importing_it() -> None:
    """The extra's wheel puts uv in venv-doctor's own bin/: found there, the ``uv``
    package (and sysconfig, which it asks) is not imported."""
    code = (
        "import sys\n"
        "from venv_doctor.install.tools import find_uv\n"
        "print(find_uv({'PATH': '/usr/bin:/bin'}))\n"
        "print('uv' in sys.modules, 'sysconfig' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import uv

    assert done.stdout.splitlines() == [uv.find_uv_bin(), "False False"]


def test_auto_falls_back_to_pip_and_says_why(
    no_pip_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _uv_on_path(monkeypatch)
    monkeypatch.setenv("PIP_TARGET", "/opt/site")
    chosen = choose_installer(Config(installer="auto"), os.environ)
    assert isinstance(chosen, PipInstaller)
    assert chosen.note == "pip settings uv cannot honour: target (PIP_TARGET)"
    forced = choose_installer(Config(installer="uv"), os.environ)
    assert isinstance(forced, UvInstaller)
    assert forced.note is not None and "target (PIP_TARGET)" in forced.note
    assert "/opt/site" not in forced.note


def test_pip_when_configured_or_uv_missing(
    no_pip_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _uv_on_path(monkeypatch)
    assert choose_installer(Config(installer="pip"), os.environ).name == "pip"
    monkeypatch.setattr(installers, "find_uv", lambda env: None)
    fallback = choose_installer(Config(installer="auto"), os.environ)
    assert isinstance(fallback, PipInstaller)
    assert fallback.note == "uv was not found"
    with pytest.raises(ConfigError, match='installer = "uv", but uv was not found'):
        choose_installer(Config(path=Path("/x/config.toml"), installer="uv"), os.environ)


def test_python2_venv_goes_to_pip(tmp_path: Path) -> None:
    calls: list[tuple[str, ...]] = []

    def fake_runner(args: Sequence[str | Path], /, **kwargs: object) -> Completed:
        calls.append(tuple(str(a) for a in args))
        return Completed(tuple(calls[-1]), 0, "", "")

    venv = tmp_path / "old27"
    (venv / "lib" / "python2.7" / "site-packages").mkdir(parents=True)
    req = tmp_path / "req.txt"
    req.write_text("six==1.16.0\n")
    lines: list[str] = []
    uv = UvInstaller(Path("/bin/uv"), env=os.environ, runner=fake_runner)
    uv.install(venv, req, on_progress=lines.append)
    assert calls == [
        (
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-input",
            "--no-compile",
            "--disable-pip-version-check",
            "-r",
            str(req),
        )
    ]
    assert lines[0] == "installing 1 package with pip (uv does not support Python 2)"


# --- installing offline from the wheelhouse ----------------------------------------------------


def _interpreter(minor: str) -> Interpreter:
    python = real_python(minor)
    version_dir = pyenv_version_dir(minor)
    assert version_dir is not None
    return Interpreter(python, python.resolve(), version_dir.name, "pyenv")


@pytest.fixture
def offline_wheelhouse(
    no_pip_config: None, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No index, the wheelhouse as find-links: given to both tools as pip settings."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("UV_OFFLINE", "1")
    return wheelhouse


@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 3.12 venv with pip (ensurepip works offline), shared by the pip backend tests."""
    path = tmp_path_factory.mktemp("pipvenv") / "venv"
    options = VenvOptions("venv", system_site_packages=False, prompt=None, copies=False)
    create_venv(_interpreter("3.12"), path, options, with_pip=True, env=os.environ)
    yield path


def _installed(venv: Path) -> dict[str, str]:
    site = next(venv.glob("lib/python*/site-packages"))
    return {d.metadata["Name"]: d.version for d in metadata.distributions(path=[str(site)])}


def _requirements(tmp_path: Path, text: str) -> Path:
    req = tmp_path / "requirements.txt"
    req.write_text(text)
    return req


@pytest.mark.parametrize("minor", ["3.8", "3.13"])
def test_uv_installs_offline_from_find_links(
    offline_wheelhouse: Path, tmp_path: Path, minor: str
) -> None:
    venv = make_venv(real_python(minor), tmp_path / "venv", creator="uv")
    chosen = choose_installer(Config(installer="auto"), os.environ)
    assert chosen.name == "uv"
    lines: list[str] = []
    chosen.install(venv, _requirements(tmp_path, REQUIREMENTS), on_progress=lines.append)
    assert lines == ["installing 3 packages with uv", "installed 3 packages with uv"]
    assert _installed(venv) == {"tinytop": "3.0.0", "tinymid": "2.0.0", "tinyleaf": "1.1.0"}
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def test_uv_reads_find_links_from_pip_conf(
    no_pip_config: None, wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nno-index = true\n[install]\nfind-links = {wheelhouse}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.setenv("UV_OFFLINE", "1")
    venv = make_venv(real_python("3.12"), tmp_path / "venv")
    choose_installer(Config(), os.environ).install(
        venv, _requirements(tmp_path, "tinyleaf==1.0.0\n")
    )
    assert _installed(venv) == {"tinyleaf": "1.0.0"}


def test_pip_installs_offline_from_find_links(
    offline_wheelhouse: Path, pip_venv: Path, tmp_path: Path
) -> None:
    chosen = choose_installer(Config(installer="pip"), os.environ)
    lines: list[str] = []
    chosen.install(pip_venv, _requirements(tmp_path, REQUIREMENTS), on_progress=lines.append)
    assert lines == [
        'installing 3 packages with pip ([repair] installer = "pip")',
        "installed 3 packages with pip",
    ]
    installed = _installed(pip_venv)
    assert {k: installed[k] for k in ("tinytop", "tinymid", "tinyleaf")} == {
        "tinytop": "3.0.0",
        "tinymid": "2.0.0",
        "tinyleaf": "1.1.0",
    }


@pytest.mark.parametrize("backend", ["uv", "pip"])
def test_missing_package_offline_is_named(
    backend: str, offline_wheelhouse: Path, pip_venv: Path, tmp_path: Path
) -> None:
    venv = pip_venv if backend == "pip" else make_venv(real_python("3.12"), tmp_path / "venv")
    chosen = choose_installer(Config(installer=backend), os.environ)
    assert chosen.name == backend
    req = _requirements(tmp_path, "tinyleaf==1.0.0\ntinyzzz==1.0\n")
    with pytest.raises(InstallError) as err:
        chosen.install(venv, req)
    assert err.value.missing == "tinyzzz==1.0"
    assert f"{backend} could not install the requirements of {venv}" in err.value.message
    assert "tinyzzz==1.0 was not found" in err.value.message


def test_pip_installs_into_a_venv_without_pip_with_the_interpreters_own_wheel(
    offline_wheelhouse: Path, tmp_path: Path
) -> None:
    """pip run from the wheel the interpreter bundles for ensurepip: the venv keeps no pip
    it did not have, and no seconds go to seeding one."""
    venv = make_venv(real_python("3.12"), tmp_path / "venv")
    choose_installer(Config(installer="pip"), os.environ).install(
        venv, _requirements(tmp_path, "tinyleaf==1.0.0\n")
    )
    assert _installed(venv) == {"tinyleaf": "1.0.0"}
    assert not list(venv.glob("lib/python3.12/site-packages/pip*"))
    assert not (venv / "bin" / "pip").exists()
