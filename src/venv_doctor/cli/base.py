"""What every command shares: the Context, the global output settings and their options.

The settings (``-q``, ``-v``, ``--color``, ``--json``) live in one object per run,
set by the group's options and again by the same options after a subcommand
(``venv-doctor check -v`` and ``venv-doctor -v check`` mean the same). ``run``
reads it after a failure to know whether stdout owes a script a JSON document.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import click

from venv_doctor import config
from venv_doctor.context import Context
from venv_doctor.errors import ConfigError
from venv_doctor.paths import app_dirs
from venv_doctor.render.layout import Out

F = TypeVar("F", bound=Callable[..., Any])
COLOR_CHOICES = ("auto", "always", "never")


@dataclass
class Settings:
    """How this run prints: set while the command line is parsed, read by every command."""

    quiet: bool = False
    verbose: int = 0
    color: str = "auto"
    json: bool = False

    def color_for(self, stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
        return wants_color(self.color, stream, os.environ if env is None else env)


_SETTINGS: ContextVar[Settings] = ContextVar("venv_doctor_settings")


def settings() -> Settings:
    try:
        return _SETTINGS.get()
    except LookupError:
        fresh = Settings()
        _SETTINGS.set(fresh)
        return fresh


def reset_settings() -> Settings:
    """A fresh Settings for one run (``run`` calls it; tests run many in one process)."""
    fresh = Settings()
    _SETTINGS.set(fresh)
    return fresh


def wants_color(choice: str, stream: IO[str], env: Mapping[str, str]) -> bool:
    """--color wins; then NO_COLOR (non-empty, no-color.org), then FORCE_COLOR
    (non-empty, force-color.org); otherwise colour only on a terminal that is not dumb."""
    if choice == "always":
        return True
    if choice == "never" or env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


def get_context() -> Context:
    """Load config and directories once per invocation (stored on click's context)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, Context):
        env = os.environ  # read once, here: every core function takes it from the Context
        dirs = app_dirs(env)
        root.obj = Context(config=config.load(dirs, env), dirs=dirs, env=env)
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


def echo_json(text: str) -> None:
    click.echo(text)


def terminal_out(ctx: Context, stream: IO[str] | None = None) -> Out:
    """How human output looks on ``stream``: wrapped to the terminal's width (on a pipe,
    to ``COLUMNS`` when that is set, as most tools do; else whole lines), coloured per
    --color, NO_COLOR and FORCE_COLOR, paths under the home directory shown as ``~``."""
    stream = stream or sys.stdout
    terminal = stream.isatty()
    width = shutil.get_terminal_size().columns if terminal else _columns(ctx.env)
    color = settings().color_for(stream, ctx.env)
    return Out(width, color, home=home_of(ctx), terminal=terminal)


def home_of(ctx: Context) -> str:
    """The home directory that paths are shown under as ``~`` (the Context's HOME)."""
    return ctx.env.get("HOME", "")


def _columns(env: Mapping[str, str]) -> int | None:
    value = env.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def echo_lines(lines: list[str], err: bool = False) -> None:
    """Human lines; colour codes in them were decided by ``terminal_out``, so click must
    not strip them (it would on a pipe, where --color=always and FORCE_COLOR want them)."""
    if lines:
        click.echo("\n".join(lines), err=err, color=True)


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
