"""``restore`` and ``gc``: the backups a rebuild keeps, put back or deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from venv_doctor.cli.base import (
    command_options,
    echo_json,
    echo_lines,
    get_context,
    info,
    terminal_out,
)
from venv_doctor.cli.shell.completion import complete_venv
from venv_doctor.context import Context
from venv_doctor.errors import ExitCode, UsageError, VenvDoctorError
from venv_doctor.record import registry
from venv_doctor.render.documents import envelope
from venv_doctor.render.layout import Out, aligned
from venv_doctor.render.words import human_time, iso_utc, listed, plural
from venv_doctor.repair import execute
from venv_doctor.repair.transaction import backups
from venv_doctor.repair.transaction.journal import Journal, open_journal
from venv_doctor.targets import resolve_one


@click.command("restore")
@click.argument("target", shell_complete=complete_venv)
@click.option(
    "--backup",
    "backup_id",
    type=int,
    help="Which backup (see `venv-doctor restore TARGET --list`).",
)
@click.option("--list", "list_", is_flag=True, help="List the kept backups of TARGET.")
@command_options
def restore_command(target: str, backup_id: int | None, list_: bool, as_json: bool) -> None:
    """Put a kept backup of TARGET back in place (the current venv becomes a backup)."""
    ctx = get_context()
    path = resolve_one(ctx, target).path
    with open_journal(ctx) as journal:
        _restore(ctx, journal, path, backup_id, list_, as_json, terminal_out(ctx))


def _restore(
    ctx: Context,
    journal: Journal,
    path: Path,
    backup_id: int | None,
    list_: bool,
    as_json: bool,
    out: Out,
) -> None:
    kept = [b for b in backups.kept(journal) if b.venv == path]
    if list_:
        _list_backups(path, kept, as_json, out)
        return
    if not kept:
        raise VenvDoctorError(f"no kept backup of {path}", hint="backups are made by rebuilds")
    chosen = next((b for b in kept if b.id == backup_id), None) if backup_id else kept[-1]
    if chosen is None:
        raise UsageError(f"no backup {backup_id} of {path}", hint="--list shows them")
    aside = execute.restore(ctx, journal, chosen)
    registry.record_event(ctx, path, "restore", f"restored from {chosen.path}")
    if as_json:
        echo_json(
            envelope(
                venv=str(path),
                restored_from=str(chosen.path),
                replaced_kept_at=str(aside) if aside else None,
            )
        )
        return
    info(
        f"restored {out.tilde(path)} from {out.tilde(chosen.path)}"
        + (f"; the replaced venv is kept at {out.tilde(aside)}" if aside else "")
    )


def _taken(b: backups.Backup) -> datetime:
    return datetime.fromtimestamp(b.taken_at, UTC)


def _list_backups(path: Path, kept: list[backups.Backup], as_json: bool, out: Out) -> None:
    if as_json:
        rows = [{"id": b.id, "taken_at": iso_utc(_taken(b)), "path": str(b.path)} for b in kept]
        echo_json(envelope(venv=str(path), backups=rows))
        return
    if not kept:
        info(f"no kept backup of {out.tilde(path)} (rebuilds keep one)")
        return
    cells = [[str(b.id), human_time(_taken(b), out.terminal), out.tilde(b.path)] for b in kept]
    echo_lines(aligned([["id", "taken", "backup"], *cells], out))


@click.command("gc")
@click.option(
    "--days",
    type=click.FloatRange(min=0),
    help="Remove backups older than this (default: [repair] keep_backups_days).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--force", is_flag=True, help="Remove backups that hold files their venv lacks, too.")
@command_options
def gc_command(days: float | None, dry_run: bool, force: bool, as_json: bool) -> int:
    """Delete kept backups older than the configured number of days.

    A backup holding files its venv lacks (a user file the rebuild could not
    carry over, an edited activate script) is kept and listed unless --force.
    """
    ctx = get_context()
    keep = ctx.config.keep_backups_days if days is None else days
    with open_journal(ctx) as journal:
        done = backups.prune(journal, keep, dry_run=dry_run, force=force)
    code = ExitCode.PROBLEMS if done.failed else ExitCode.OK
    if as_json:
        echo_json(
            envelope(
                dry_run=dry_run,
                keep_days=keep,
                removed=[{"path": str(b.path), "venv": str(b.venv)} for b in done.removed],
                kept_holding_files=[
                    {"path": str(b.path), "venv": str(b.venv), "files": list(files)}
                    for b, files in done.holding
                    if not force
                ],
                failed=[{"path": str(b.path), "error": why} for b, why in done.failed],
            )
        )
        return code
    verb = "would remove" if dry_run else "removed"
    out = terminal_out(ctx)
    for b, files in done.holding:
        what = f"{verb} it anyway (--force)" if force else "kept (--force removes it)"
        click.echo(
            f"{out.tilde(b.path)} (backup of {out.tilde(b.venv)}) holds files the venv "
            f"lacks: {listed(files, 10)}; {what}"
        )
    for b in done.removed:
        info(f"{verb} {out.tilde(b.path)} (backup of {out.tilde(b.venv)})")
    for b, why in done.failed:
        click.echo(f"could not remove {b.path}: {why}", err=True)
    info(f"{verb} {plural(len(done.removed), 'backup')}")
    return code


COMMANDS = [restore_command, gc_command]
