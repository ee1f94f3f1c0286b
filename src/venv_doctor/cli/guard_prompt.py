"""The words and the question of the pyenv uninstall guard (the hook calls this)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from venv_doctor.context import Context
from venv_doctor.errors import ExitCode
from venv_doctor.guard.uninstall import Impact, impact, restore_command
from venv_doctor.model.venv import Venv
from venv_doctor.render.words import display


def _names(venvs: tuple[Venv, ...]) -> str:
    return ", ".join(f"{display(v.name)} ({v.location.store})" for v in venvs)


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
