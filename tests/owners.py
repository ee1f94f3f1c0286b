"""The real tools that own venvs (pipx, uv tool, virtualenvwrapper, poetry, pdm, hatch),
driven offline from a local wheelhouse, each in the test's isolated home."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.support import IN_CI, TOOLS_BIN, make_wheel, run

OFFLINE = {
    "PIP_NO_INDEX": "1",
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "UV_OFFLINE": "1",
    "UV_NO_CACHE": "1",
    "UV_NO_CONFIG": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    "PIPX_DISABLE_SHARED_LIBS_AUTO_UPGRADE": "1",
    "NO_COLOR": "1",
}


def tool(name: str) -> Path:
    """A tool from the test extras: fails under CI=true when missing, else skips."""
    exe = TOOLS_BIN / name
    if not exe.exists():
        if IN_CI:
            pytest.fail(f"{exe} is missing: install the test extras")
        pytest.skip(f"{name} is not installed")
    return exe


def owner_wheels(house: Path) -> Path:
    """Tiny wheels for owner scenarios: an app named ``wheel`` (as `pipx install wheel`
    makes it), and ``tinyblack`` whose ``tinyblackd`` module needs an extra."""
    make_wheel(house, "wheel", "0.45.1", console_scripts={"wheel": "wheel:main"})
    make_wheel(house, "tinyextra", "1.0.0")
    make_wheel(
        house,
        "tinyblack",
        "24.1.0",
        requires=["tinyleaf", 'tinyextra; extra == "d"'],
        console_scripts={"tinyblack": "tinyblack:main"},
    )
    # blackd's pattern: a second top-level module that needs the extra's distribution and
    # says so in an ImportError of its own, raised `from None`
    blackd = (
        "try:\n"
        "    import tinyextra\n"
        "except ImportError as ie:\n"
        "    raise ImportError(f'tinyextra is not installed: {ie}. Install tinyblack[d]') from None\n"
    )
    _add_module(house / "tinyblack-24.1.0-py3-none-any.whl", "tinyblackd.py", blackd)
    return house


def _add_module(wheel: Path, name: str, source: str) -> None:
    """Add a top-level module to a wheel made by make_wheel (RECORD updated)."""
    import zipfile

    from tests.support import _record_hash

    with zipfile.ZipFile(wheel) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    record_name = next(n for n in files if n.endswith("/RECORD"))
    files[name] = source.encode()
    lines = files[record_name].decode().splitlines()
    lines.insert(0, f"{name},{_record_hash(source.encode())},{len(source)}")
    files[record_name] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in files.items():
            zf.writestr(n, data)


class Pipx:
    """pipx with its default homes under the test's HOME (~/.local/share/pipx)."""

    def __init__(self, home: Path, wheelhouse: Path) -> None:
        self.exe = tool("pipx")
        self.home = home / ".local" / "share" / "pipx"
        self.bin = home / ".local" / "bin"
        self.wheelhouse = wheelhouse

    def __call__(
        self, *args: str | Path, check: bool = True, env: dict[str, str] | None = None
    ) -> str:
        return run([self.exe, *args], env={**OFFLINE, **(env or {})}, check=check).stdout

    def install(self, python: Path, spec: str, backend: str = "uv") -> Path:
        pip_args = f"--no-index --find-links {self.wheelhouse}"
        self("install", "--backend", backend, "--python", python, f"--pip-args={pip_args}", spec)
        return self.home / "venvs" / spec

    def inject(self, app: str, *packages: str) -> None:
        pip_args = f"--no-index --find-links {self.wheelhouse}"
        self("inject", f"--pip-args={pip_args}", app, *packages)

    def list_json(self) -> dict[str, Any]:
        return dict(json.loads(self("list", "--json")))


def uv_tool(wheelhouse: Path, *args: str | Path) -> str:
    uv = tool("uv")
    return run([uv, "tool", *args], env=OFFLINE).stdout


def uv_tool_install(wheelhouse: Path, python: Path, spec: str) -> None:
    uv_tool(
        wheelhouse, "install", "--no-index", "--find-links", wheelhouse, "--python", python, spec
    )


def virtualenvwrapper(workon_home: Path, python: Path, script: str) -> str:
    """Run ``script`` in bash after sourcing the real virtualenvwrapper.sh."""
    wrapper = tool("virtualenvwrapper.sh")
    env = {
        **OFFLINE,
        "WORKON_HOME": str(workon_home),
        "VIRTUALENVWRAPPER_PYTHON": str(TOOLS_BIN / "python"),
        "VIRTUALENVWRAPPER_VIRTUALENV": str(TOOLS_BIN / "virtualenv"),
        "VIRTUALENVWRAPPER_HOOK_DIR": str(workon_home),
        "VIRTUALENV_PYTHON": str(python),
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        "PATH": f"{TOOLS_BIN}:{os.environ['PATH']}",
    }
    return run(["bash", "-c", f"source {wrapper} && {script}"], env=env).stdout


def copy_wheels(sources: Iterable[Path], house: Path) -> Path:
    house.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy(source, house)
    return house
