"""What every command shares: the Context and output helpers."""

from __future__ import annotations

import os

import click

from venv_doctor import config
from venv_doctor.context import Context
from venv_doctor.paths import app_dirs


def get_context() -> Context:
    """Load config and directories once per invocation (stored on click's context)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, Context):
        env = os.environ  # read once, here: every core function takes it from the Context
        dirs = app_dirs(env)
        root.obj = Context(config=config.load(dirs, env), dirs=dirs, env=env)
    return root.obj


def echo_json(text: str) -> None:
    click.echo(text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
