"""``interpreters``: every CPython venv-doctor can relink or rebuild a venv onto."""

from __future__ import annotations

import sys

import click

from venv_doctor import render
from venv_doctor.cli.base import echo_json, get_context, json_option
from venv_doctor.interpreters.inventory import Interpreter, inventory


def _as_dict(i: Interpreter) -> dict[str, str]:
    return {"path": str(i.path), "real": str(i.real), "version": i.version, "source": i.source}


def _table(found: list[Interpreter]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for column in ("version", "source", "path"):
        table.add_column(column, no_wrap=column != "path", overflow="fold")
    for i in found:
        where = Text(str(i.path))
        if i.real != i.path:
            where.append(f"\n→ {i.real}", style="dim")
        table.add_row(Text(i.version), Text(i.source), where)
    Console(file=sys.stdout, highlight=False).print(table)


@click.command("interpreters")
@json_option
def interpreters_command(as_json: bool) -> None:
    """List every CPython found on this machine, by the path a venv should use.

    Sources: PATH, Homebrew (opt/ paths rather than Cellar kegs), pyenv,
    uv-managed Pythons, /usr/bin, /usr/local/bin, the python.org framework
    and [interpreters] extra in config.toml.
    """
    ctx = get_context()
    found = inventory(ctx.config, ctx.env, ctx.dirs.cache / "interpreters.json")
    if as_json:
        echo_json(render.envelope(interpreters=[_as_dict(i) for i in found]))
    elif render.use_rich(sys.stdout):
        _table(found)
    else:
        for i in found:
            suffix = f"  -> {i.real}" if i.real != i.path else ""
            click.echo(f"{i.version:<9} {i.source:<9} {i.path}{suffix}")


COMMANDS = [interpreters_command]
