"""``track`` and ``untrack``: single venvs outside any store (project ``.venv``s)."""

from __future__ import annotations

from pathlib import Path

import click

from venv_doctor.cli.base import command_options, echo_json, get_context, home_of, info
from venv_doctor.cli.shell.completion import complete_venv
from venv_doctor.discover import tracking
from venv_doctor.errors import TargetNotFoundError
from venv_doctor.model.venv import Location
from venv_doctor.render.documents import envelope
from venv_doctor.render.words import plural, tilde
from venv_doctor.targets import Match, Where, one


def _location_json(location: Location, **extra: object) -> str:
    return envelope(venv={"name": location.name, "path": str(location.path)}, **extra)


@click.command("track")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="Name to show and to use as TARGET (default: the project's name).")
@command_options
def track_command(path: Path, name: str | None, as_json: bool) -> None:
    """Watch the venv at PATH too (e.g. a project's .venv)."""
    ctx = get_context()
    location = tracking.track(ctx.dirs.tracked_file, path, name, own=ctx.dirs.own)
    if as_json:
        echo_json(_location_json(location, tracked=True))
    else:
        info(f"tracking {location.name}: {tilde(location.path, home_of(ctx))}")


@click.command("untrack")
@click.argument("target", metavar="PATH|NAME", shell_complete=complete_venv)
@command_options
def untrack_command(target: str, as_json: bool) -> None:
    """Stop tracking a venv added with `track` (nothing is deleted)."""
    ctx = get_context()
    location = tracking.untrack(ctx.dirs.tracked_file, target)
    if as_json:
        echo_json(_location_json(location, tracked=False))
    else:
        info(f"no longer tracking {location.name}: {tilde(location.path, home_of(ctx))}")


@click.command("forget")
@click.argument("target", metavar="PATH|NAME", shell_complete=complete_venv)
@command_options
def forget_command(target: str, as_json: bool) -> None:
    """Drop a venv venv-doctor remembers but that is gone on purpose.

    Its recorded snapshots go too (the event log keeps its history), so
    `check` stops reporting it missing and `repair` can no longer recreate it.
    A venv that still exists is registered again by the next `check`.
    """
    from venv_doctor.record import state

    ctx = get_context()
    with state.open_db(ctx.dirs) as db:
        records = state.find_venvs(db, target)
        if not records:
            raise TargetNotFoundError(f"{target}: venv-doctor has no record of it")
        matches = [Match(Location(r.name, r.path, r.store), Where.RECORDED) for r in records]
        record = records[matches.index(one(target, matches))]
        removed = state.forget_venv(db, record.path)
    if any(x.path == record.path for x in ctx.tracked()):
        tracking.untrack(ctx.dirs.tracked_file, str(record.path))
    exists = record.path.exists()
    if as_json:
        echo_json(
            envelope(
                venv={"name": record.name, "path": str(record.path)},
                snapshots_removed=removed,
                still_exists=exists,
            )
        )
        return
    still = " (it still exists: the next `check` records it again)" if exists else ""
    snapshots = plural(removed, "snapshot")
    info(f"forgot {record.name}: {tilde(record.path, home_of(ctx))}, {snapshots}{still}")


COMMANDS = [track_command, untrack_command, forget_command]
