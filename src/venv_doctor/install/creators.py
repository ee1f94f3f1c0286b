"""Making a new venv the way the old one was made: same creator, same options.

The creator (CPython's venv, virtualenv or uv) and the options that show in
``pyvenv.cfg`` and ``bin/`` (system site-packages, prompt, copies) are carried
over. ``python -m venv --upgrade`` is never used: it leaves dangling links.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from venv_doctor import runner as runner_module
from venv_doctor.errors import VenvDoctorError
from venv_doctor.install.tools import find_uv, virtualenv_command
from venv_doctor.interpreters.inventory import Interpreter, describe
from venv_doctor.interpreters.versions import version_from_path
from venv_doctor.model.pyvenv_cfg import PyvenvCfg
from venv_doctor.runner import CommandError, Runner

CREATORS = ("venv", "virtualenv", "uv")
CREATE_TIMEOUT = 600.0


@dataclass(frozen=True)
class VenvOptions:
    creator: str  # one of CREATORS, from the old venv's pyvenv.cfg
    system_site_packages: bool
    prompt: str | None
    copies: bool

    @classmethod
    def from_cfg(cls, cfg: PyvenvCfg, copies: bool) -> VenvOptions:
        return cls(cfg.creator, cfg.include_system_site_packages, cfg.prompt, copies)

    def flags(self, copies: bool = True) -> list[str | Path]:
        """The flags venv, virtualenv and uv venv spell alike (uv has no --copies)."""
        args: list[str | Path] = ["--copies"] if copies and self.copies else []
        if self.system_site_packages:
            args.append("--system-site-packages")
        if self.prompt is not None:
            args += ["--prompt", self.prompt]
        return args


def _base_python(base: Interpreter | Path, env: Mapping[str, str]) -> tuple[Path, str]:
    """The path to invoke (it ends up in the venv's links) and its minor version."""
    if isinstance(base, Interpreter):
        return base.path, base.minor
    minor = version_from_path(Path(os.path.realpath(base))).minor
    if minor is None:
        found = describe(base, env=env)
        if found is None:
            raise VenvDoctorError(f"{base}: not a working CPython interpreter")
        minor = found.minor
    return Path(base), minor


def _refuse_existing(path: Path) -> None:
    try:
        entries = os.listdir(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise VenvDoctorError(f"{path}: cannot be read: {exc.strerror}") from exc
    if entries:
        raise VenvDoctorError(
            f"{path} already exists and is not empty; a new venv is only made in its place",
            hint="move the old venv aside first",
        )


def create_venv(
    base: Interpreter | Path,
    path: Path,
    options: VenvOptions,
    *,
    with_pip: bool,
    runner: Runner = runner_module.run,
    env: Mapping[str, str],
) -> str | None:
    """Make a venv at ``path`` with ``base``; returns a note when another creator was used.

    ``with_pip`` seeds pip (offline: from ensurepip or virtualenv's bundled
    wheels), which the pip installer backend needs. Python 2 bases need
    virtualenv, and one old enough to support them.
    """
    python, minor = _base_python(base, env)
    _refuse_existing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if minor.startswith("2."):
        _python2_venv(python, path, options, with_pip, runner, env)
        return None
    if options.creator == "uv":
        uv = find_uv(env)
        if uv is not None and not options.copies:
            _uv_venv(uv, python, path, options, with_pip, runner, env)
            return None
        why = "uv cannot make a venv with copies" if uv else "uv was not found"
        _stdlib_venv(python, path, options, with_pip, runner, env)
        return f"{why}: made {path} with the standard library's venv instead"
    if options.creator == "virtualenv":
        command = virtualenv_command(env)
        if command is not None:
            runner(
                _virtualenv_args(command, python, path, options, with_pip),
                env=env,
                timeout=CREATE_TIMEOUT,
                check=True,
            )
            return None
        _stdlib_venv(python, path, options, with_pip, runner, env)
        return f"virtualenv was not found: made {path} with the standard library's venv instead"
    _stdlib_venv(python, path, options, with_pip, runner, env)
    return None


def _stdlib_venv(
    python: Path,
    path: Path,
    options: VenvOptions,
    with_pip: bool,
    runner: Runner,
    env: Mapping[str, str],
) -> None:
    args: list[str | Path] = [python, "-m", "venv", *options.flags()]
    if not with_pip:
        args.append("--without-pip")
    runner([*args, path], env=env, timeout=CREATE_TIMEOUT, check=True)


def _virtualenv_args(
    command: list[str], python: Path, path: Path, options: VenvOptions, with_pip: bool
) -> list[str | Path]:
    args: list[str | Path] = [*command, "--quiet", "--no-periodic-update", "--python", python]
    args += options.flags()
    args += ["--no-download"] if with_pip else ["--no-seed"]
    return [*args, path]


def _uv_venv(
    uv: Path,
    python: Path,
    path: Path,
    options: VenvOptions,
    with_pip: bool,
    runner: Runner,
    env: Mapping[str, str],
) -> None:
    args: list[str | Path] = [uv, "venv", "--quiet", "--python", python]
    args += options.flags(copies=False)
    runner([*args, path], env=env, timeout=CREATE_TIMEOUT, check=True)
    if with_pip:  # uv's --seed downloads pip; ensurepip has it on disk
        runner(
            [path / "bin" / "python", "-m", "ensurepip", "--upgrade", "--default-pip"],
            env=env,
            timeout=CREATE_TIMEOUT,
            check=True,
        )


def _python2_venv(
    python: Path,
    path: Path,
    options: VenvOptions,
    with_pip: bool,
    runner: Runner,
    env: Mapping[str, str],
) -> None:
    """Python 2 has no ``venv`` module and uv does not support it: only virtualenv can."""
    command = virtualenv_command(env, prefer_path=True)
    hint = "install a virtualenv that still supports Python 2 (20.21 or older) on PATH"
    if command is None:
        raise VenvDoctorError(
            f"cannot make a Python 2 venv at {path}: virtualenv was not found", hint=hint
        )
    try:
        runner(
            _virtualenv_args(command, python, path, options, with_pip),
            env=env,
            timeout=CREATE_TIMEOUT,
            check=True,
        )
    except CommandError as exc:
        raise VenvDoctorError(
            f"cannot make a Python 2 venv at {path}: {exc.message}", hint=hint
        ) from exc
