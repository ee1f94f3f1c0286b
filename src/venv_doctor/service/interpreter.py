"""Which interpreter the service runs on, and whether that is a safe choice.

venv-doctor's own venv can break in the very upgrade it watches: a venv whose
Python lives in a Homebrew keg dies with the next ``brew upgrade``, one on a
pyenv version that other venvs use dies with the ``pyenv uninstall`` that
breaks them. ``service install`` warns about both, and about an unhealthy own
venv, before it writes anything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from venv_doctor import __version__
from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Code, Finding, Severity, Status
from venv_doctor.diagnose.scan import read_venvs
from venv_doctor.errors import UsageError, VenvDoctorError
from venv_doctor.interpreters.layouts import Installation, InstallKind, installation_of
from venv_doctor.model import links
from venv_doctor.model.links import LinkChain
from venv_doctor.model.venv import Location, load, venv_of
from venv_doctor.render.sanitize import command
from venv_doctor.render.words import listed
from venv_doctor.runner import Runner, run
from venv_doctor.targets import all_locations

SCRIPT_NAME = "venv-doctor"
STABLE_HINT = (
    "run the service on an interpreter no upgrade removes: reinstall venv-doctor with "
    "`uv tool install --managed-python --python 3.12 venv-doctor` or `pipx install --python "
    "/usr/bin/python3 venv-doctor` and run `venv-doctor service install` again from there, "
    "or pass `--python /usr/bin/python3` (venv-doctor must be installed for it)"
)


@dataclass(frozen=True)
class ServicePython:
    """How the service starts venv-doctor, and the interpreter that runs it."""

    command: tuple[str, ...]  # (script,) or (python, "-m", "venv_doctor"), absolute
    interpreter: Path  # as invoked, not resolved: a venv's bin/python stays itself
    version: str = __version__  # the venv-doctor version that interpreter runs


def running_python(argv0: str | None = None, executable: str | None = None) -> ServicePython:
    """The venv-doctor running now, by absolute path: its script, else ``-m venv_doctor``."""
    exe = Path(os.path.abspath(executable or sys.executable))
    script = Path(sys.argv[0] if argv0 is None else argv0)
    if script.name == SCRIPT_NAME and script.is_file():
        return ServicePython((str(script.resolve()),), exe)
    beside = exe.parent / SCRIPT_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return ServicePython((str(beside),), exe)
    return ServicePython((str(exe), "-m", "venv_doctor"), exe)


def explicit_python(python: Path, env: Mapping[str, str], runner: Runner = run) -> ServicePython:
    """``--python PATH``: it must exist and be able to run ``-m venv_doctor``."""
    path = Path(os.path.abspath(python))
    if not path.is_file() or not os.access(path, os.X_OK):
        raise UsageError(f"--python {python}: no executable file at {path}")
    done = runner([path, "-m", "venv_doctor", "--version"], env=env, timeout=60)
    if not done.ok:
        output = (done.stderr or done.stdout).strip().splitlines()
        raise VenvDoctorError(
            f"{path} cannot run venv-doctor: `{path} -m venv_doctor --version` exited "
            f"{done.returncode}" + (f": {output[-1]}" if output else ""),
            hint="install it for that interpreter first "
            f"(`{command('uv', 'pip', 'install', '--python', str(path), 'venv-doctor')}`), or "
            f"`{command('uv', 'tool', 'install', '--python', str(path), 'venv-doctor')}` and run "
            "`venv-doctor service install` from the tool",
        )
    words = done.stdout.split()
    return ServicePython((str(path), "-m", "venv_doctor"), path, words[-1] if words else "")


def chain_paths(chain: LinkChain) -> list[Path]:
    """The chain's start, every link it passes through and the real file it reaches."""
    found = [chain.start, *chain.hops]
    return [*found, chain.resolved] if chain.resolved else found


def roots(path_list: Iterable[Path], env: Mapping[str, str]) -> set[Installation]:
    """The Homebrew kegs and pyenv versions the paths lie in: what an upgrade removes."""
    found = {installation_of(p, env) for p in path_list}
    return {i for i in found if i.keg or i.kind is InstallKind.PYENV}


def _own_venv(interpreter: Path) -> Path | None:
    return venv_of(interpreter)


def _sharing(
    ctx: Context, mine: set[Installation], own: Path | None
) -> dict[Installation, list[str]]:
    """For each of ``mine``, the names of the other known venvs built on it."""
    users: dict[Installation, list[str]] = {r: [] for r in mine}
    own_real = os.path.realpath(own) if own else None
    for venv in read_venvs(all_locations(ctx)):
        main = venv.main_python
        if main is None or os.path.realpath(venv.path) == own_real:
            continue
        for root in roots(chain_paths(main.chain), ctx.env) & mine:
            users[root].append(venv.name)
    return users


def _root_finding(interpreter: Path, root: Installation, users: list[str]) -> Finding:
    if root.kind is InstallKind.HOMEBREW:
        shared = (
            f" ({len(users)} other venvs use it too: {listed(sorted(users), 5)})" if users else ""
        )
        message = (
            f"the service would run on {interpreter}, which lives in the Homebrew keg "
            f"{root.prefix}{shared}: Homebrew deletes the keg when it upgrades {root.name}, "
            "and the service would break with the venvs it should repair"
        )
        return Finding(Code.SERVICE_PYTHON_HOMEBREW, Severity.WARNING, message, STABLE_HINT)
    message = (
        f"the service would run on {interpreter}, from pyenv's Python {root.name} "
        f"({root.prefix}), which {len(users)} other venvs use too ({listed(sorted(users), 5)}): the "
        f"`{command('pyenv', 'uninstall', root.name)}` that breaks them breaks the service"
    )
    return Finding(Code.SERVICE_PYTHON_PYENV, Severity.WARNING, message, STABLE_HINT)


def _venv_findings(own: Path, env: Mapping[str, str]) -> list[Finding]:
    diagnosis = diagnose(load(Location(SCRIPT_NAME, own, "self")), env=env)
    if diagnosis.status is Status.HEALTHY:
        return []
    return [
        Finding(
            Code.SERVICE_VENV_UNHEALTHY,
            Severity.WARNING,
            f"venv-doctor's own venv {own} is {diagnosis.status.value}: {f.message}",
            f.hint,
        )
        for f in diagnosis.findings
        if f.severity is not Severity.INFO
    ]


def check_service_python(ctx: Context, service: ServicePython) -> tuple[Finding, ...]:
    """Warnings about running the service on ``service.interpreter``; empty when safe."""
    interpreter = service.interpreter
    own = _own_venv(interpreter)
    mine = roots(chain_paths(links.follow(interpreter)), ctx.env)
    users = _sharing(ctx, mine, own)
    kegs = [r for r in mine if r.kind is InstallKind.HOMEBREW]
    # A keg is always a risk; a pyenv version only when other venvs share it (and no
    # keg warning already covers the same interpreter).
    risky = kegs or [r for r in mine if r.kind is InstallKind.PYENV and users[r]]
    findings = [_root_finding(interpreter, r, users[r]) for r in sorted(risky, key=str)]
    if own is not None:
        findings += _venv_findings(own, ctx.env)
    if service.version != __version__:
        findings.append(
            Finding(
                Code.SERVICE_PYTHON_VERSION,
                Severity.WARNING,
                f"{interpreter} runs venv-doctor {service.version or '(unknown)'}, "
                f"this command is {__version__}",
                "install the same version for both, or the daemon and the CLI may disagree",
            )
        )
    return tuple(findings)
