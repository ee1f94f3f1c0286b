"""``track`` and ``untrack``: single venvs outside any store (project ``.venv``s)."""

from __future__ import annotations

from pathlib import Path

import click

from venv_doctor import tracking
from venv_doctor.cli.base import get_context


@click.command("track")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="Name to show and to use as TARGET (default: the project's name).")
def track_command(path: Path, name: str | None) -> None:
    """Watch the venv at PATH too (e.g. a project's .venv)."""
    location = tracking.track(get_context().dirs.tracked_file, path, name)
    click.echo(f"tracking {location.name}: {location.path}")


@click.command("untrack")
@click.argument("target", metavar="PATH|NAME")
def untrack_command(target: str) -> None:
    """Stop tracking a venv added with `track` (nothing is deleted)."""
    location = tracking.untrack(get_context().dirs.tracked_file, target)
    click.echo(f"no longer tracking {location.name}: {location.path}")


COMMANDS = [track_command, untrack_command]
