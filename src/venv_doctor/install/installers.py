"""Installing a venv's requirements: uv when it is there, pip otherwise.

Both honour the user's package-index settings: pip reads its own
configuration; for uv those settings are translated (``pip_config``), and a
setting uv cannot honour sends the install to pip. When a package is
neither in the cache nor in a reachable index (offline, cold cache), the
install fails with an InstallError naming it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from venv_doctor import runner as runner_module
from venv_doctor.config import Config
from venv_doctor.errors import ConfigError, VenvDoctorError
from venv_doctor.install.creators import VenvOptions, create_venv
from venv_doctor.install.pip_config import UvOptions, read_settings, uv_options
from venv_doctor.install.tools import find_uv
from venv_doctor.model import distributions, pyvenv_cfg
from venv_doctor.render.sanitize import command, redact
from venv_doctor.runner import TAIL_LINES, CommandError, Completed, Runner

__all__ = [
    "InstallError",
    "Installer",
    "PipInstaller",
    "UvInstaller",
    "VenvOptions",
    "choose_installer",
    "create_venv",
    "missing_package",
]

INSTALL_TIMEOUT = 3600.0
InstallProgress = Callable[[str], None]

_PIP_MISSING = re.compile(r"No matching distribution found for (\S+)")
_UV_NOT_FOUND = re.compile(r"Because (\S+) was not found in ")
_UV_NO_VERSION = re.compile(r"there is no version of ([^\s,]+)")
_UV_ONLY = re.compile(r"Because only \S.*? (?:is|are) available and you require ([^\s,]+)")
_UV_DOWNLOAD = re.compile(r"Failed to (?:download|fetch|build)(?: and build)? `([^`]+)`")


class InstallError(VenvDoctorError):
    """The requirements could not be installed; ``missing`` names the package not found."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        missing: str | None = None,
        output: str = "",
    ) -> None:
        super().__init__(message, hint)
        self.missing = missing
        self.output = output


class Installer(Protocol):
    @property
    def name(self) -> str: ...  # "uv" | "pip"

    def install(
        self, venv: Path, requirements: Path, *, on_progress: InstallProgress | None = None
    ) -> None: ...


def missing_package(output: str) -> str | None:
    """The requirement uv or pip could not find, as the tool names it (``tinyleaf==1.0``)."""
    match = _PIP_MISSING.search(output)
    if match:
        return match.group(1)
    match = _UV_NOT_FOUND.search(output)
    if match:
        name = match.group(1)
        required = re.search(rf"you require {re.escape(name)}([^\s,]*)", output)
        return name + (required.group(1) if required else "")
    for pattern in (_UV_NO_VERSION, _UV_ONLY, _UV_DOWNLOAD):
        match = pattern.search(output)
        if match and "://" not in match.group(1):
            return match.group(1)
    return None


def count_requirements(requirements: Path) -> int:
    try:
        lines = requirements.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    return sum(1 for ln in lines if ln.strip() and not ln.lstrip().startswith(("#", "-")))


def _packages(count: int) -> str:
    return f"{count} package" if count == 1 else f"{count} packages"


def _say(on_progress: InstallProgress | None, line: str) -> None:
    if on_progress is not None:
        on_progress(line)


def _install_error(tool: str, venv: Path, done: Completed) -> InstallError:
    output = (done.stdout + "\n" + done.stderr).strip()
    missing = missing_package(output)
    if missing:
        return InstallError(
            f"{tool} could not install the requirements of {venv}: {missing} was not found"
            " in the cache, the find-links directories or any reachable index",
            hint="connect to the network, or put a wheel of it in a find-links directory,"
            " then repair again",
            missing=missing,
            output=output,
        )
    tail = redact("\n".join(output.splitlines()[-TAIL_LINES:]))
    return InstallError(
        f"{tool} could not install the requirements of {venv} (exit code {done.returncode})"
        + (f"\n{tail}" if tail else "")
        + f"\ncommand: {redact(command(*done.args))}",
        output=output,
    )


def _run(
    runner: Runner,
    args: list[str | Path],
    env: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
) -> Completed:
    try:
        return runner(args, env=env, extra=extra, timeout=INSTALL_TIMEOUT)
    except CommandError as exc:  # could not start, or timed out
        raise InstallError(exc.message, output=exc.output) from exc


@dataclass(frozen=True)
class PipInstaller:
    """``<venv>/bin/python -m pip install``: pip reads the user's configuration itself.

    A venv without pip of its own is installed into by the pip its interpreter
    bundles for ensurepip, run from its wheel as ensurepip runs it: no seeding
    (seconds of CPU) and no pip left in a venv that had none.
    """

    note: str | None = None  # why pip rather than uv
    # the environment pip runs in (the Context's: pip reads its PIP_* settings there)
    env: Mapping[str, str] = field(kw_only=True, repr=False)
    runner: Runner = runner_module.run
    name: str = field(default="pip", init=False)

    def install(
        self, venv: Path, requirements: Path, *, on_progress: InstallProgress | None = None
    ) -> None:
        count = count_requirements(requirements)
        why = f" ({self.note})" if self.note else ""
        _say(on_progress, f"installing {_packages(count)} with pip{why}")
        python = venv / "bin" / "python"
        args: list[str | Path] = [python, *_pip_of(venv), "install", "--no-input"]
        # no bytecode for every module of every distribution (uv writes none either): the
        # verification's imports write it for the modules the venv's programs start with
        args += ["--no-compile", "--disable-pip-version-check", "-r", requirements]
        done = _run(self.runner, args, self.env)
        if not done.ok:
            if "No module named pip" in done.stderr:
                raise InstallError(
                    f"{venv} has no pip to install its requirements with",
                    hint="create the venv with pip (with_pip=True): its interpreter bundles"
                    " no pip wheel to run pip from",
                    output=done.stderr,
                )
            raise _install_error("pip", venv, done)
        _say(on_progress, f"installed {_packages(count)} with pip")


def _pip_of(venv: Path) -> list[str | Path]:
    """How the venv's interpreter runs pip: its own, else the bundled wheel's (looked
    for above the real interpreter, then above pyvenv.cfg's ``home``: a copied binary)."""
    lib = glob.escape(str(venv / "lib"))
    if glob.glob(lib + "/python*/site-packages/pip/__init__.py"):
        return ["-m", "pip"]
    names = [os.path.basename(p) for p in glob.glob(lib + "/python*")]
    if len(names) != 1:
        return ["-m", "pip"]
    prefixes = [Path(os.path.realpath(venv / "bin" / "python")).parent.parent]
    with contextlib.suppress(OSError, ValueError):
        home = pyvenv_cfg.read(venv / "pyvenv.cfg").home
        prefixes += [Path(home).parent] if home else []
    for prefix in prefixes:
        wheel = pip_wheel(prefix, names[0].removeprefix("python"))
        if wheel is not None:
            return [wheel / "pip"]
    return ["-m", "pip"]  # no pip at all: said when it fails


def pip_wheel(prefix: Path, minor: str) -> Path | None:
    """The pip wheel ensurepip installs for Python ``minor`` at ``prefix``, to run pip
    from. Not for Python 2, whose venvs virtualenv seeds."""
    if minor.startswith("2."):
        return None
    found = distributions.bundled_wheel_files([prefix], minor).get("pip")
    return found[1] if found else None


@dataclass(frozen=True)
class UvInstaller:
    """``uv pip install --python <venv>/bin/python`` with the user's pip index settings."""

    uv: Path
    options: UvOptions = field(default_factory=UvOptions)
    note: str | None = None
    env: Mapping[str, str] = field(kw_only=True, repr=False)  # uv runs in it (the Context's)
    runner: Runner = runner_module.run
    name: str = field(default="uv", init=False)

    def install(
        self, venv: Path, requirements: Path, *, on_progress: InstallProgress | None = None
    ) -> None:
        if glob.glob(glob.escape(str(venv / "lib")) + "/python2.*"):
            pip = PipInstaller("uv does not support Python 2", env=self.env, runner=self.runner)
            pip.install(venv, requirements, on_progress=on_progress)
            return
        count = count_requirements(requirements)
        why = f" ({self.note})" if self.note else ""
        _say(on_progress, f"installing {_packages(count)} with uv{why}")
        args: list[str | Path] = [self.uv, "pip", "install", "--python", venv / "bin" / "python"]
        args += [*self.options.args, "-r", requirements]
        done = _run(self.runner, args, self.env, dict(self.options.env))
        if not done.ok:
            raise _install_error("uv", venv, done)
        _say(on_progress, f"installed {_packages(count)} with uv")


def choose_installer(
    config: Config,
    env: Mapping[str, str],
    runner: Runner = runner_module.run,
) -> Installer:
    """``[repair] installer``: "auto" takes uv when found and able, "uv" insists, "pip" never."""
    if config.installer == "pip":
        return PipInstaller('[repair] installer = "pip"', env=env, runner=runner)
    uv = find_uv(env)
    if uv is None:
        if config.installer == "uv":
            raise ConfigError(
                f'{config.path or "config.toml"}: [repair] installer = "uv", but uv was not found',
                hint='install venv-doctor[uv] or put uv on PATH, or set installer = "auto"',
            )
        return PipInstaller("uv was not found", env=env, runner=runner)
    options = uv_options(read_settings(env))
    if not options.unsupported:
        return UvInstaller(uv, options, None, env=env, runner=runner)
    reason = "pip settings uv cannot honour: " + "; ".join(options.unsupported)
    if config.installer == "auto":
        return PipInstaller(reason, env=env, runner=runner)
    return UvInstaller(
        uv, options, reason + ', ignored as installer = "uv"', env=env, runner=runner
    )
