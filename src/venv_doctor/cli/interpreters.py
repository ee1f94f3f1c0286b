"""``interpreters``: every CPython venv-doctor can relink or rebuild a venv onto."""

from __future__ import annotations

from pathlib import Path

import click

from venv_doctor.cli.base import (
    command_options,
    echo_json,
    echo_lines,
    get_context,
    terminal_out,
)
from venv_doctor.context import Context
from venv_doctor.diagnose.scan import read_venvs
from venv_doctor.errors import ExitCode, UsageError
from venv_doctor.interpreters.inventory import Interpreter, inventory
from venv_doctor.interpreters.usage import Usage, dependents, usage
from venv_doctor.model.venv import Venv
from venv_doctor.paths import home
from venv_doctor.render.documents import envelope
from venv_doctor.render.layout import INDENT, Out, aligned
from venv_doctor.render.words import plural
from venv_doctor.targets import all_locations


def _as_dict(i: Interpreter) -> dict[str, str]:
    return {"path": str(i.path), "real": str(i.real), "version": i.version, "source": i.source}


def _row(i: Interpreter, counts: dict[Path, int], out: Out) -> list[str]:
    where = out.tilde(i.path)
    if i.real != i.path:
        where += f" -> {out.tilde(i.real)}"
    return [i.version, i.source, plural(counts[i.path], "venv"), where]


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


def _show_usage(spec: str, use: Usage, list_venvs: bool, out: Out) -> None:
    n = len(use.venvs)
    names = ", ".join(out.tilde(i.path) for i in use.interpreters) or spec
    if not n:
        click.echo(f"No venv depends on {names}.")
        return
    click.echo(f"{plural(n, 'venv')} depend{'s' if n == 1 else ''} on {names}.")
    if list_venvs:
        rows = [[d.venv.name, d.venv.location.store, out.tilde(d.venv.path)] for d in use.venvs]
        echo_lines([INDENT + line for line in aligned(rows, out.inner())])
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
@command_options
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
    found = inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache)
    venvs = _venvs(ctx)
    if python is not None:
        use = usage(python, found, venvs, home_dir=home(ctx.env))
        if use is None:
            raise UsageError(
                f"{python}: no interpreter matches",
                hint="venv-doctor interpreters lists those found",
            )
        if as_json:
            echo_json(envelope(python=python, **_usage_dict(use)))
        else:
            _show_usage(python, use, list_venvs, terminal_out(ctx))
        return ExitCode.PROBLEMS if use.venvs else ExitCode.OK
    counts = {p: len(d) for p, d in dependents(found, venvs).items()}
    if as_json:
        echo_json(envelope(interpreters=[{**_as_dict(i), "venvs": counts[i.path]} for i in found]))
    elif not found:
        click.echo(
            "no CPython found: install one (python.org, Homebrew, pyenv, uv python install), "
            "or name it under [interpreters] extra in config.toml"
        )
    else:
        out = terminal_out(ctx)
        echo_lines(aligned([_row(i, counts, out) for i in found], out))
    return ExitCode.OK


COMMANDS = [interpreters_command]
