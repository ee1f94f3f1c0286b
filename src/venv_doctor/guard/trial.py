"""A trial venv: the stable venv's packages on another Python, built beside it to try.

``NAME-trial`` in the same store, made the way the stable venv was made, filled with
the pins preflight resolved, verified as a rebuild is, optionally put to work with the
user's command, then removed (unless kept). The stable venv is never touched, and
only a directory this module made is ever removed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from venv_doctor.errors import VenvDoctorError
from venv_doctor.install import installers
from venv_doctor.interpreters.inventory import Interpreter
from venv_doctor.model.venv import Location, load
from venv_doctor.repair.execute import DEFAULT_OPTIONS
from venv_doctor.repair.verify import verify_rebuilt
from venv_doctor.runner import Runner

RUN_TIMEOUT = 1800.0
TAIL = 2000


@dataclass(frozen=True)
class Trial:
    path: Path
    ok: bool
    step: str  # the last step reached: "create", "install", "verify", "run" or "done"
    message: str
    command_status: int | None = None
    output_tail: str = ""
    kept: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "step": self.step,
            "message": self.message,
            "command_status": self.command_status,
            "output": self.output_tail,
            "kept": self.kept,
        }


def trial_path(location: Location) -> Path:
    return location.path.parent / f"{location.name}-trial"


def _options(location: Location) -> installers.VenvOptions:
    venv = load(location)
    if venv.cfg is None:
        return DEFAULT_OPTIONS
    return installers.VenvOptions.from_cfg(venv.cfg, copies=any(p.is_copy for p in venv.pythons))


def _expected(pins: Sequence[str]) -> frozenset[tuple[str, str]]:
    pairs = []
    for pin in pins:
        name, sep, version = pin.partition("==")
        if sep:
            pairs.append(
                (name.strip().lower().replace("_", "-").replace(".", "-"), version.strip())
            )
    return frozenset(pairs)


@dataclass(frozen=True)
class TrialSpec:
    location: Location
    python: Interpreter
    pins: tuple[str, ...]
    command: str | None
    keep: bool


def run_trial(
    spec: TrialSpec,
    installer: installers.Installer,
    scratch: Path,
    env: Mapping[str, str],
    runner: Runner,
) -> Trial:
    path = trial_path(spec.location)
    if os.path.lexists(path):  # never touch what is there (a kept trial, or the user's)
        message = f"{path} already exists (a kept trial?); remove it to try again"
        return Trial(path, False, "create", message)
    try:
        result = _build_and_try(spec, path, installer, scratch, env, runner)
    except VenvDoctorError as exc:
        result = Trial(path, False, "create" if not path.exists() else "install", exc.message)
    if spec.keep and path.exists():
        return replace(result, kept=True)
    shutil.rmtree(path, ignore_errors=True)  # made by us a moment ago, nothing else
    return result


def _build_and_try(
    spec: TrialSpec,
    path: Path,
    installer: installers.Installer,
    scratch: Path,
    env: Mapping[str, str],
    runner: Runner,
) -> Trial:
    installers.create_venv(
        spec.python, path, _options(spec.location), with_pip=installer.name == "pip", env=env
    )
    requirements = scratch / "trial-requirements.txt"
    requirements.write_text("\n".join(spec.pins) + "\n", encoding="utf-8")
    installer.install(path, requirements)
    problem = verify_rebuilt(path, _expected(spec.pins), frozenset(), env).problem
    if problem:
        return Trial(path, False, "verify", problem)
    if not spec.command:
        return Trial(path, True, "done", f"built and verified on Python {spec.python.version}")
    activated = {
        "VIRTUAL_ENV": str(path),
        "PATH": f"{path / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    }
    command = ["/bin/sh", "-c", spec.command]
    done = runner(command, env=env, extra=activated, cwd=path, timeout=RUN_TIMEOUT)
    output = (done.stdout + done.stderr)[-TAIL:]
    message = "the command succeeded" if done.ok else f"the command exited with {done.returncode}"
    return Trial(path, done.ok, "run", message, done.returncode, output)
