"""What every command shares: the Context and output helpers."""

from __future__ import annotations

import os

import click

from venv_doctor import config
from venv_doctor.context import Context
from venv_doctor.errors import ConfigError
from venv_doctor.paths import app_dirs


def get_context() -> Context:
    """Load config and directories once per invocation (stored on click's context)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, Context):
        dirs = app_dirs()
        root.obj = Context(config=config.load(dirs), dirs=dirs, env=os.environ)
    return root.obj


def get_context_or_defaults() -> tuple[Context, str | None]:
    """The Context, or one with the default config and the config error in words.

    For the commands that must work exactly when config.toml is broken: a service
    that failed on it has to be inspected and removed.
    """
    try:
        return get_context(), None
    except ConfigError as exc:
        root = click.get_current_context().find_root()
        root.obj = Context(config=config.Config(), dirs=app_dirs(), env=os.environ)
        return root.obj, exc.message


def echo_json(text: str) -> None:
    click.echo(text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
