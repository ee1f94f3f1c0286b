"""``check``, ``list`` and ``paths``: reporting what is where and how it is."""

from __future__ import annotations

from pathlib import Path

import click

from venv_doctor.cli.base import (
    command_options,
    echo_json,
    echo_lines,
    get_context,
    settings,
    terminal_out,
)
from venv_doctor.cli.checking import empty, report
from venv_doctor.cli.shell.completion import complete_store, complete_venv
from venv_doctor.discover.stores import store_venvs
from venv_doctor.paths import BACKUP_AREA_BESIDE
from venv_doctor.render.documents import envelope, list_json
from venv_doctor.render.layout import INDENT, aligned
from venv_doctor.render.words import plural
from venv_doctor.targets import all_locations


@click.command("check")
@click.argument("targets", nargs=-1, metavar="[TARGET]...", shell_complete=complete_venv)
@click.option("--deep", is_flag=True, help="Also start each venv's interpreter once (in parallel).")
@click.option(
    "--store",
    "store",
    metavar="NAME",
    shell_complete=complete_store,
    help="Only venvs of this store (e.g. pipx).",
)
@click.option(
    "--prometheus",
    "prometheus",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result as a Prometheus textfile (*.prom) for node_exporter.",
)
@command_options
def check_command(
    targets: tuple[str, ...],
    deep: bool,
    store: str | None,
    prometheus: Path | None,
    as_json: bool,
) -> int:
    """Diagnose venvs: healthy, degraded, broken or unknown, and why.

    TARGET is a venv path or a name; without one, every venv in every store is
    checked. The default check reads files and resolves links only (fast
    enough for a login hook); --deep also runs each interpreter.

    Exit status: 0 when nothing is broken (degraded venvs are warnings), 1 when
    a venv is broken or unknown.
    """
    return report(get_context(), targets, deep, store, prometheus, as_json)


@click.command("list")
@click.option(
    "--store",
    "store",
    metavar="NAME",
    shell_complete=complete_store,
    help="Only venvs of this store.",
)
@command_options
def list_command(store: str | None, as_json: bool) -> None:
    """List every venv found: name, store and path."""
    ctx = get_context()
    locations = all_locations(ctx, store)
    if as_json:
        echo_json(list_json(locations))
    elif not locations:
        if not settings().quiet:
            echo_lines(empty(ctx))
    else:
        out = terminal_out(ctx)
        rows = [[x.name, x.store, out.tilde(x.path)] for x in locations]
        echo_lines(aligned(rows, out))


@click.command("paths")
@command_options
def paths_command(as_json: bool) -> None:
    """Show venv-doctor's directories and every store searched."""
    ctx = get_context()
    dirs = {
        "config": str(ctx.dirs.config_file),
        "state": str(ctx.dirs.state),
        "cache": str(ctx.dirs.cache),
        "log": str(ctx.dirs.log),
        "backups": str(ctx.dirs.backups),
    }
    beside = f"<the venv's directory>/{BACKUP_AREA_BESIDE}"
    known = [(s.name, s.root, s.root.is_dir(), len(store_venvs(s))) for s in ctx.stores()]
    tracked = ctx.tracked()
    if as_json:
        stores = [
            {"store": name, "path": str(root), "exists": exists, "venvs": n}
            for name, root, exists, n in known
        ]
        echo_json(
            envelope(
                directories=dirs, backups_elsewhere=beside, stores=stores, tracked=len(tracked)
            )
        )
        return
    out = terminal_out(ctx)
    lines = aligned([[k + ":", out.tilde(v)] for k, v in dirs.items()], out)
    lines += out.wrap(f"(a venv on another file system is backed up in {beside})")
    rows = [
        [name, plural(n, "venv") if exists else "missing", out.tilde(root)]
        for name, root, exists, n in known
    ]
    rows.append(["tracked", plural(len(tracked), "venv"), out.tilde(ctx.dirs.tracked_file)])
    lines.append("stores:")
    lines.extend(INDENT + line for line in aligned(rows, out))
    echo_lines(lines)


COMMANDS = [check_command, list_command, paths_command]
