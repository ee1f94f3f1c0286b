"""``interpreters``: every CPython venv-doctor can relink or rebuild a venv onto."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from venv_doctor import render
from venv_doctor.cli.base import echo_json, get_context, json_option
from venv_doctor.context import Context
from venv_doctor.diagnose.scan import read_venvs
from venv_doctor.errors import ExitCode, UsageError
from venv_doctor.interpreters.inventory import Interpreter, inventory
from venv_doctor.interpreters.usage import Usage, dependents, usage
from venv_doctor.model.venv import Venv
from venv_doctor.targets import all_locations


def _as_dict(i: Interpreter) -> dict[str, str]:
    return {"path": str(i.path), "real": str(i.real), "version": i.version, "source": i.source}


def _table(found: list[Interpreter], counts: dict[Path, int]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for column in ("version", "source", "venvs", "path"):
        table.add_column(column, no_wrap=column != "path", overflow="fold")
    for i in found:
        where = Text(str(i.path))
        if i.real != i.path:
            where.append(f"\n→ {i.real}", style="dim")
        table.add_row(Text(i.version), Text(i.source), Text(str(counts[i.path])), where)
    Console(file=sys.stdout, highlight=False).print(table)


def _venvs(ctx: Context) -> list[Venv]:
    return read_venvs(all_locations(ctx))


def _usage_dict(use: Usage) -> dict[str, object]:
    return {
        "interpreters": [_as_dict(i) for i in use.interpreters],
        "venvs": [
            {
                "name": d.venv.name,
                "store": d.venv.location.store,
                "path": str(d.venv.path),
                "through": d.through,
            }
            for d in use.venvs
        ],
    }


def _show_usage(spec: str, use: Usage, list_venvs: bool) -> None:
    n = len(use.venvs)
    names = ", ".join(str(i.path) for i in use.interpreters) or spec
    if not n:
        click.echo(f"No venv depends on {names}.")
        return
    click.echo(f"{n} venv{'s' if n != 1 else ''} depend{'s' if n == 1 else ''} on {names}.")
    if list_venvs:
        for d in use.venvs:
            click.echo(f"  {d.venv.name:<24} {d.venv.location.store:<18} {d.venv.path}")
    else:
        click.echo(f"List them with: venv-doctor interpreters {spec} --venvs")


@click.command("interpreters")
@click.argument("python", required=False, metavar="[PYTHON]")
@click.option(
    "--venvs",
    "list_venvs",
    is_flag=True,
    help="With PYTHON: list the venvs that depend on it, not just how many.",
)
@json_option
def interpreters_command(python: str | None, list_venvs: bool, as_json: bool) -> int:
    """List every CPython on this machine and how many venvs depend on each.

    With PYTHON (a path, a version such as 3.12 or 3.12.1, a pyenv version name
    or a Homebrew formula such as python@3.12), say which venvs depend on it:
    exit status 0 when none does (safe to remove), 1 when some do.

    Sources: PATH, Homebrew (opt/ paths rather than Cellar kegs), pyenv,
    uv-managed Pythons, /usr/bin, /usr/local/bin, the python.org framework
    and [interpreters] extra in config.toml.
    """
    ctx = get_context()
    found = inventory(ctx.config, ctx.env, ctx.dirs.cache / "interpreters.json")
    venvs = _venvs(ctx)
    if python is not None:
        use = usage(python, found, venvs)
        if use is None:
            raise UsageError(
                f"{python}: no interpreter matches",
                hint="venv-doctor interpreters lists those found",
            )
        if as_json:
            echo_json(render.envelope(python=python, **_usage_dict(use)))
        else:
            _show_usage(python, use, list_venvs)
        return ExitCode.PROBLEMS if use.venvs else ExitCode.OK
    counts = {p: len(d) for p, d in dependents(found, venvs).items()}
    if as_json:
        echo_json(
            render.envelope(interpreters=[{**_as_dict(i), "venvs": counts[i.path]} for i in found])
        )
    elif render.use_rich(sys.stdout, ctx.env):
        _table(found, counts)
    else:
        for i in found:
            suffix = f"  -> {i.real}" if i.real != i.path else ""
            click.echo(f"{i.version:<9} {i.source:<9} {counts[i.path]:>5}  {i.path}{suffix}")
    return ExitCode.OK


COMMANDS = [interpreters_command]
