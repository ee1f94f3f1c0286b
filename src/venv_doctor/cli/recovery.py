"""Before any command runs: finish the repairs a crash or kill -9 interrupted.

Both front doors (click's group and ``cli.front``) call it first. Most runs have
neither leftovers nor an open journal entry, and pay two ``stat``s for knowing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from venv_doctor.context import Context
from venv_doctor.errors import ConfigError, VenvDoctorError
from venv_doctor.fsutil import check_regular
from venv_doctor.paths import app_dirs
from venv_doctor.render.sanitize import printable


def _journal_has_open_entries(database: Path) -> bool:
    """Most runs have no state DB yet or no open entry: a read-only look, without
    importing the repair machinery."""
    if not database.exists():
        return False
    from venv_doctor.record.state import has_open_journal_entries

    return has_open_journal_entries(database)


def _has_entries(directory: Path) -> bool:
    try:
        with os.scandir(directory) as entries:
            return any(entries)
    except OSError:
        return False


def recover_interrupted(get_context: Callable[[], Context]) -> None:
    """Finish repairs a crash or kill -9 interrupted, before anything else runs."""
    dirs = app_dirs(os.environ)
    try:
        usable = check_regular(dirs.database)
    except OSError:
        usable = False  # not a file SQLite can open: the command says so when it needs it
    leftovers = _has_entries(dirs.tmp)
    open_entries = usable and _journal_has_open_entries(dirs.database)
    if not leftovers and not open_entries:
        return
    import click

    from venv_doctor.repair.execute import recover

    try:
        done = recover(get_context())
    except ConfigError:
        return  # the command itself reports a bad config
    except (VenvDoctorError, sqlite3.Error) as exc:
        # a broken state DB must not stop `check`
        message = exc.message if isinstance(exc, VenvDoctorError) else str(exc)
        click.echo(f"venv-doctor: warning: interrupted repairs not checked: {message}", err=True)
        return
    for line in done:
        click.echo(f"venv-doctor: recovered an interrupted repair: {printable(line)}", err=True)
