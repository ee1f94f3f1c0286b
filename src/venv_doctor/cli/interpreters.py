"""``interpreters``: every CPython venv-doctor can relink or rebuild a venv onto."""

from __future__ import annotations

import click

from venv_doctor import render
from venv_doctor.cli.base import command_options, echo_json, echo_lines, get_context, terminal_out
from venv_doctor.interpreters.inventory import Interpreter, inventory


def _as_dict(i: Interpreter) -> dict[str, str]:
    return {"path": str(i.path), "real": str(i.real), "version": i.version, "source": i.source}


def _row(i: Interpreter) -> list[str]:
    where = render.tilde(i.path)
    if i.real != i.path:
        where += f" -> {render.tilde(i.real)}"
    return [i.version, i.source, where]


@click.command("interpreters")
@command_options
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
    elif not found:
        click.echo(
            "no CPython found: install one (python.org, Homebrew, pyenv, uv python install), "
            "or name it under [interpreters] extra in config.toml"
        )
    else:
        echo_lines(render.aligned([_row(i) for i in found], terminal_out()))


COMMANDS = [interpreters_command]
