"""``hooks``: guards venv-doctor puts into other tools (``pyenv uninstall``), and what the
guard says and asks when the hook calls it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from venv_doctor.cli.base import (
    command_options,
    common_options,
    echo_json,
    get_context,
    home_of,
    info,
)
from venv_doctor.context import Context
from venv_doctor.errors import ExitCode
from venv_doctor.guard import pyenv_hook
from venv_doctor.guard.uninstall import Impact, impact, restore_command
from venv_doctor.model.venv import Venv
from venv_doctor.render.documents import envelope
from venv_doctor.render.sanitize import printable
from venv_doctor.render.words import tilde

TOOLS = click.Choice(["pyenv"])


def _own_command() -> list[str]:
    """How the hook starts this venv-doctor: its own interpreter, by absolute path."""
    return [sys.executable, "-m", "venv_doctor"]


@click.group("hooks")
def hooks_group() -> None:
    """Guards in other tools: before `pyenv uninstall` removes a version, venv-doctor
    records every venv built on it, says which will break or vanish, and asks."""


@hooks_group.command("install")
@click.argument("tool", type=TOOLS)
@command_options
def install_command(tool: str, as_json: bool) -> None:
    """Put the hook in place ($PYENV_ROOT/pyenv.d/uninstall/venv-doctor.bash)."""
    ctx = get_context()
    path = pyenv_hook.install(ctx.env, _own_command())
    if as_json:
        echo_json(envelope(tool=tool, path=str(path), installed=True))
    else:
        info(f"installed the {tool} uninstall guard: {tilde(path, home_of(ctx))}")


@hooks_group.command("uninstall")
@click.argument("tool", type=TOOLS)
@command_options
def uninstall_command(tool: str, as_json: bool) -> None:
    """Remove the hook (only the file venv-doctor wrote)."""
    ctx = get_context()
    path = pyenv_hook.uninstall(ctx.env)
    if as_json:
        echo_json(envelope(tool=tool, removed=str(path) if path else None))
    else:
        info(
            f"removed {tilde(path, home_of(ctx))}"
            if path
            else f"no {tool} hook of venv-doctor's was installed"
        )


@hooks_group.command("status")
@command_options
def status_command(as_json: bool) -> None:
    """Which hooks are installed."""
    ctx = get_context()
    path = pyenv_hook.hook_file(ctx.env)
    installed = pyenv_hook.is_ours(path)
    if as_json:
        echo_json(envelope(hooks=[{"tool": "pyenv", "path": str(path), "installed": installed}]))
    else:
        click.echo(
            f"pyenv  {'installed' if installed else 'not installed'}  {tilde(path, home_of(ctx))}"
        )


@hooks_group.command("run", hidden=True)
@click.argument("event", type=click.Choice(["pyenv-uninstall"]))
@click.argument("version")
@click.argument("prefix", type=click.Path(path_type=Path))
@common_options
def run_command(event: str, version: str, prefix: Path) -> int:
    """Called by the pyenv hook; exit 0 lets the uninstall go on, 1 stops it."""
    return guard_pyenv_uninstall(get_context(), version, prefix)


# --- the guard: what the hook's `run` says and asks ---------------------------------------


def _names(venvs: tuple[Venv, ...]) -> str:
    return ", ".join(f"{printable(v.name)} ({v.location.store})" for v in venvs)


def _say(text: str) -> None:
    click.echo(text, err=True)  # pyenv's own messages go to stderr too


def _report(version: str, found: Impact) -> None:
    n, k = len(found.venvs), found.recorded
    _say(f"venv-doctor: pyenv uninstall {version} affects {n} venv{'s' if n != 1 else ''}:")
    if found.vanish:
        _say(f"  will vanish with it: {_names(found.vanish)}")
    if found.broken:
        _say(f"  will break: {_names(found.broken)}")
    _say(f"Their contents are recorded ({k} snapshot{'s' if k != 1 else ''}).")
    _say("To bring them back afterwards (add --python X.Y to choose the Python):")
    _say(f"  {restore_command(found)}")
    for warning in found.warnings:
        _say(f"venv-doctor: warning: {warning}")


def guard_pyenv_uninstall(ctx: Context, version: str, prefix: Path) -> int:
    """0 lets the uninstall go on, 1 stops it. On a terminal (and without pyenv's -f)
    the user decides; otherwise it goes on with the warning unless [guard] block."""
    found = impact(ctx, prefix)
    if not found.venvs:
        return ExitCode.OK
    _report(version, found)
    interactive = sys.stdin.isatty() and not ctx.env.get("VENV_DOCTOR_PYENV_FORCE")
    if interactive:
        go_on = click.confirm(f"Uninstall {version} anyway?", default=False, err=True)
    else:
        go_on = not ctx.config.guard_block
    if not go_on:
        why = "" if interactive else ": [guard] block = true in config.toml"
        _say(f"venv-doctor: {version} not uninstalled{why}")
        return ExitCode.PROBLEMS
    return ExitCode.OK


COMMANDS = [hooks_group]
