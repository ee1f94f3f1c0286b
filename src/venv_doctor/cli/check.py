"""``check``, ``list`` and ``paths``: reporting what is where and how it is."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from venv_doctor import render
from venv_doctor.check import check
from venv_doctor.cli.base import echo_json, get_context, json_option
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.discover.stores import store_venvs
from venv_doctor.errors import ExitCode
from venv_doctor.paths import BACKUP_AREA_BESIDE
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


def _with_declared(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """``-v``: project venvs also say what they hold that their project does not declare."""
    import os

    from venv_doctor.model.venv import load
    from venv_doctor.record.declared import with_declared

    return [with_declared(d, load(d.location)) if os.path.isdir(d.path) else d for d in diagnoses]


@click.command("check")
@click.argument("targets", nargs=-1, metavar="[TARGET]...")
@click.option("--deep", is_flag=True, help="Also start each venv's interpreter once (in parallel).")
@click.option("--store", "store", metavar="NAME", help="Only venvs of this store (e.g. pipx).")
@click.option("-v", "--verbose", is_flag=True, help="Show informational findings too.")
@click.option(
    "--prometheus",
    "prometheus",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result as a Prometheus textfile (*.prom) for node_exporter.",
)
@json_option
def check_command(
    targets: tuple[str, ...],
    deep: bool,
    store: str | None,
    verbose: bool,
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
    if verbose:
        diagnoses = _with_declared(diagnoses)
    if prometheus is not None:
        from venv_doctor.export import textfile

        textfile.export(ctx, prometheus, diagnoses, started)
    if as_json:
        echo_json(render.check_json(diagnoses))
    elif render.use_rich(sys.stdout, ctx.env):
        render.check_table(diagnoses, verbose=verbose)
    else:
        click.echo(render.check_text(diagnoses, verbose=verbose))
    bad = {Status.BROKEN, Status.UNKNOWN}
    return ExitCode.PROBLEMS if any(d.status in bad for d in diagnoses) else ExitCode.OK


@click.command("list")
@click.option("--store", "store", metavar="NAME", help="Only venvs of this store.")
@json_option
def list_command(store: str | None, as_json: bool) -> None:
    """List every venv found, with its store and path."""
    locations = all_locations(get_context(), store)
    if as_json:
        echo_json(render.list_json(locations))
        return
    for x in locations:
        click.echo(f"{x.name}\t{x.store}\t{x.path}")


@click.command("paths")
@json_option
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
    stores = [
        {
            "store": s.name,
            "path": str(s.root),
            "exists": s.root.is_dir(),
            "venvs": len(store_venvs(s)),
        }
        for s in ctx.stores()
    ]
    tracked = ctx.tracked()
    if as_json:
        echo_json(
            render.envelope(
                directories=dirs, backups_elsewhere=beside, stores=stores, tracked=len(tracked)
            )
        )
        return
    for key, value in dirs.items():
        click.echo(f"{key + ':':<8} {value}")
    click.echo(f"{'':<8} (a venv on another file system is backed up in {beside})")
    click.echo("stores:")
    for s in stores:
        state = f"{s['venvs']} venvs" if s["exists"] else "missing"
        click.echo(f"  {s['store']:<18} {s['path']}  ({state})")
    click.echo(f"  {'tracked':<18} {ctx.dirs.tracked_file}  ({len(tracked)} venvs)")


COMMANDS = [check_command, list_command, paths_command]
