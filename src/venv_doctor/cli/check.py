"""``check``, ``list`` and ``paths``: reporting what is where and how it is."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from venv_doctor.check import check
from venv_doctor.cli.base import (
    command_options,
    echo_json,
    echo_lines,
    get_context,
    settings,
    terminal_out,
)
from venv_doctor.cli.shell.completion import complete_store, complete_venv
from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.discover.stores import store_venvs
from venv_doctor.errors import ExitCode
from venv_doctor.paths import BACKUP_AREA_BESIDE
from venv_doctor.render.check_report import check_lines, empty_lines
from venv_doctor.render.documents import check_json_chunks, envelope, list_json
from venv_doctor.render.layout import INDENT, aligned
from venv_doctor.render.words import plural
from venv_doctor.targets import all_locations


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading thousands of venvs makes many small objects and no garbage cycles worth
    collecting; the collector's passes over them cost 10-15% of a check."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _empty(ctx: Context) -> list[str]:
    searched = [(s.name, str(s.root), s.root.is_dir()) for s in ctx.stores()]
    return empty_lines(searched, str(ctx.dirs.config_file), terminal_out(ctx))


def _with_declared(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """``-v``: project venvs also say what they hold that their project does not declare."""
    import os

    from venv_doctor.model.venv import load
    from venv_doctor.record.declared import with_declared

    return [with_declared(d, load(d.location)) if os.path.isdir(d.path) else d for d in diagnoses]


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
    ctx = get_context()
    started = time.time()
    with _gc_paused():
        diagnoses = check(ctx, targets, store=store, deep=deep)
    if settings().verbose:
        diagnoses = _with_declared(diagnoses)
    if prometheus is not None:
        from venv_doctor.export import textfile

        textfile.export(ctx, prometheus, diagnoses, started)
    bad = {Status.BROKEN, Status.UNKNOWN}
    code = ExitCode.PROBLEMS if any(d.status in bad for d in diagnoses) else ExitCode.OK
    opts = settings()
    if as_json:
        for piece in check_json_chunks(diagnoses):
            click.echo(piece, nl=False)
        click.echo()
    elif not diagnoses and not opts.quiet:
        echo_lines(_empty(ctx))
    else:
        from venv_doctor.repair.failures import last_failures

        failures = last_failures(ctx, diagnoses)
        every = not targets and store is None  # what `repair --all` would take on
        out = terminal_out(ctx)
        echo_lines(check_lines(diagnoses, out, opts.verbose, opts.quiet, failures, every))
    return code


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
            echo_lines(_empty(ctx))
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
