"""How a run prints, without click: the settings, the Context and the writers.

``check`` starts through the front door (``cli.front``), which imports no click,
and the click commands use the same functions, so both write the same bytes.

The settings (``-q``, ``-v``, ``--color``, ``--json``) live in one object per run,
set by the command line's options (``venv-doctor check -v`` and ``venv-doctor -v
check`` mean the same). ``run`` reads it after a failure to know whether stdout
owes a script a JSON document.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO

from venv_doctor import config
from venv_doctor.context import Context
from venv_doctor.paths import app_dirs
from venv_doctor.render.layout import Out

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


def load_context(env: Mapping[str, str]) -> Context:
    """The config and directories of one invocation (``env`` is read here, once: every
    core function takes it from the Context)."""
    dirs = app_dirs(env)
    return Context(config=config.load(dirs, env), dirs=dirs, env=env)


def terminal_out(ctx: Context, stream: IO[str] | None = None) -> Out:
    """How human output looks on ``stream``: wrapped to the terminal's width (on a pipe,
    to ``COLUMNS`` when that is set, as most tools do; else whole lines), coloured per
    --color, NO_COLOR and FORCE_COLOR, paths under the home directory shown as ``~``."""
    stream = stream or sys.stdout
    terminal = stream.isatty()
    if terminal:
        import shutil  # its other imports (compression modules) serve no pipe

        width: int | None = shutil.get_terminal_size().columns
    else:
        width = _columns(ctx.env)
    color = settings().color_for(stream, ctx.env)
    return Out(width, color, home=home_of(ctx), terminal=terminal)


def home_of(ctx: Context) -> str:
    """The home directory that paths are shown under as ``~`` (the Context's HOME)."""
    return ctx.env.get("HOME", "")


def _columns(env: Mapping[str, str]) -> int | None:
    value = env.get("COLUMNS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def misconfigured(stream: IO[str] | None) -> bool:
    """A stream whose encoding is ASCII (``PYTHONIOENCODING=ascii``): click re-wraps such a
    stream to write UTF-8, so output to it goes through click (``write``, ``cli.front``)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name == "ascii"
    except LookupError:
        return False


def write(text: str, err: bool = False) -> None:
    """``text`` as it is, flushed: what ``click.echo(text, nl=False, color=True)`` writes,
    without importing click (on a misconfigured stream, click itself writes it). Only
    for text whose colour codes were decided already (``terminal_out``) or that holds
    none (JSON escapes every control character)."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    if misconfigured(stream):
        import click

        click.echo(text, nl=False, err=err, color=True)
        return
    if text:
        stream.write(text)
    stream.flush()


def echo_json(text: str) -> None:
    write(text + "\n")


def echo_lines(lines: list[str], err: bool = False) -> None:
    """Human lines; colour codes in them were decided by ``terminal_out``, so they are
    written as they are (on a pipe, --color=always and FORCE_COLOR want them)."""
    if lines:
        write("\n".join(lines) + "\n", err=err)
