"""What every click command shares: the Context, the global options and their settings.

The settings and the writers are in ``cli.output`` (no click: the front door for
``check`` uses them too); this module adds the click options that set them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from venv_doctor import config
from venv_doctor.cli.output import (
    COLOR_CHOICES,
    Settings,
    echo_json,
    echo_lines,
    home_of,
    load_context,
    reset_settings,
    settings,
    terminal_out,
    wants_color,
)
from venv_doctor.context import Context
from venv_doctor.errors import ConfigError
from venv_doctor.paths import app_dirs

F = TypeVar("F", bound=Callable[..., Any])


def get_context() -> Context:
    """Load config and directories once per invocation (stored on click's context)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, Context):
        root.obj = load_context(os.environ)  # read once, here, into the Context
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
        root.obj = Context(config=config.Config(), dirs=app_dirs(os.environ), env=os.environ)
        return root.obj, exc.message


def info(message: str, err: bool = False) -> None:
    """A confirmation or a note: silent under -q."""
    if not settings().quiet:
        click.echo(message, err=err)


# --- the options every command takes -------------------------------------------------------


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        settings().quiet = True


def _add_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        settings().verbose += value
    if settings().verbose >= 2:
        import logging

        from venv_doctor.render.sanitize import StderrHandler

        handler = StderrHandler(fmt="venv-doctor: %(name)s: %(message)s")
        logging.basicConfig(level=logging.DEBUG, handlers=[handler])


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        settings().color = value


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        settings().json = True
    return value


quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    callback=_set_quiet,
    help="Only problems: nothing at all when every venv is healthy.",
)
verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    expose_value=False,
    callback=_add_verbose,
    help="More detail: -v informational findings, -vv also debug logging. Repeatable.",
)
color_option = click.option(
    "--color",
    type=click.Choice(COLOR_CHOICES),
    default=None,
    envvar="VENV_DOCTOR_COLOR",
    show_envvar=True,
    expose_value=False,
    callback=_set_color,
    help="Colour the output: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always or never.",
)
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=_set_json,
    help="Print one JSON document for scripts (an error too: {'error': ...}).",
)


def common_options(func: F) -> F:
    """-q and -v after the subcommand too (``venv-doctor check -v``)."""
    return quiet_option(verbose_option(func))


def command_options(func: F) -> F:
    """What every leaf command takes: -q, -v and --json."""
    return common_options(json_option(func))


__all__ = [
    "COLOR_CHOICES",
    "Settings",
    "color_option",
    "command_options",
    "common_options",
    "echo_json",
    "echo_lines",
    "get_context",
    "get_context_or_defaults",
    "home_of",
    "info",
    "json_option",
    "quiet_option",
    "reset_settings",
    "settings",
    "terminal_out",
    "verbose_option",
    "wants_color",
]
