"""``repair``, ``restore`` and ``gc``: bringing venvs back, and undoing it."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from venv_doctor import render
from venv_doctor.cli.base import echo_json, get_context, json_option
from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.diagnose.scan import diagnose_all, read_venvs
from venv_doctor.errors import ExitCode, UsageError, VenvDoctorError
from venv_doctor.model.venv import load
from venv_doctor.record import registry
from venv_doctor.repair import backups, execute
from venv_doctor.repair.journal import Journal, open_journal
from venv_doctor.repair.plan import Plan
from venv_doctor.repair.result import RepairResult
from venv_doctor.repair.run import Policy, repair
from venv_doctor.targets import Where, all_locations, resolve, resolve_one


def _diagnoses(ctx: Context, targets: Sequence[str], all_: bool) -> list[Diagnosis]:
    if not targets and not all_:
        raise UsageError(
            "name the venvs to repair, or pass --all", hint="`venv-doctor check` lists them"
        )
    if targets and all_:
        raise UsageError("give TARGETs or --all, not both")
    if all_:
        # every venv that is there; a vanished one comes back only when named
        found = diagnose_all(read_venvs(all_locations(ctx)))
        return [d for d in found if d.status is not Status.HEALTHY]
    matches = resolve(ctx, targets, unique=True)
    live = [m.location for m in matches if m.where is Where.LIVE]
    gone = [diagnose(load(m.location)) for m in matches if m.where is not Where.LIVE]
    return diagnose_all(read_venvs(live)) + gone


def _ask(plans: Sequence[Plan]) -> bool:
    """The prompt for the plans that need a yes (rebuilds, a change of minor version)."""
    for p in plans:
        click.echo(
            f"{p.diagnosis.name}: {p.action.value} with Python {p.after} ({p.reason})", err=True
        )
    return click.confirm(
        f"Rebuild {len(plans)} venv(s)? The old ones are kept as backups", err=True
    )


class _Progress:
    """Progress on stderr: a live status line on a terminal, plain lines otherwise.

    Each line names the venv (and its place among the ones being repaired), the
    step (installers report "installing 20 packages with uv"), and the time. The
    live line starts only when the repairs do (after any prompt).
    """

    def __init__(self) -> None:
        self.total = 0
        self.start_time = time.monotonic()
        self.seen: list[str] = []
        self.stack = contextlib.ExitStack()
        self.status: Any = None
        self.console: Any = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def start(self, total: int) -> None:
        self.total = total
        self.start_time = time.monotonic()
        if not render.use_rich(sys.stderr):
            return
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.status = self.stack.enter_context(self.console.status(""))

    def label(self, name: str) -> str:
        if name not in self.seen:
            self.seen.append(name)
        return f"[{self.seen.index(name) + 1}/{self.total}] {name}" if self.total > 1 else name

    def say(self, name: str, step: str) -> None:
        elapsed = time.monotonic() - self.start_time
        if self.status is None:
            click.echo(f"[{elapsed:5.1f}s] {self.label(name)}: {step}", err=True)
            return
        from rich.text import Text

        line = f"{self.label(name)}: {step}  ({elapsed:.1f}s)"
        self.console.print(Text(line, style="dim"))
        self.status.update(Text(line))


@click.command("repair")
@click.argument("targets", nargs=-1, metavar="[TARGET]...")
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Every broken or degraded venv (and vanished ones with a snapshot).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do rebuilds without asking.")
@click.option(
    "--python", metavar="SPEC", help="Interpreter to use: a version (3.13, 3.12.1) or a path."
)
@click.option(
    "--strategy",
    type=click.Choice(["auto", "relink", "rebuild"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Exit 1 instead of waiting when another process repairs the venv.",
)
@click.option(
    "--allow-other-owner", is_flag=True, help="As root, repair venvs owned by other users."
)
@click.option(
    "--from-declared",
    is_flag=True,
    help="Rebuild from the project's declared dependencies (pyproject.toml or "
    "requirements.txt) instead of the recorded pins.",
)
@json_option
def repair_command(
    targets: tuple[str, ...],
    all_: bool,
    dry_run: bool,
    yes: bool,
    python: str | None,
    strategy: str,
    no_wait: bool,
    allow_other_owner: bool,
    from_declared: bool,
    as_json: bool,
) -> int:
    """Repair venvs: relink after a patch upgrade, rebuild after a minor upgrade
    or removal, recreate a vanished venv from its snapshot.

    Relinks run without asking. A rebuild (or a change of minor version) asks
    on a terminal unless --yes; without a terminal it is skipped. The old venv
    is kept as a backup (`venv-doctor restore` puts it back).
    """
    ctx = get_context()
    diagnoses = _diagnoses(ctx, targets, all_)
    with _Progress() as progress:
        policy = Policy(
            strategy=strategy,
            python=python,
            yes=yes,
            confirm=_ask if sys.stdin.isatty() else None,
            dry_run=dry_run,
            wait=not no_wait,
            # a relink that does not verify becomes a rebuild only when rebuilds were agreed to
            rebuild_fallback=yes and strategy != "relink",
            allow_other_owner=allow_other_owner,
            from_declared=from_declared,
            progress=progress.say,
            on_start=progress.start,
        )
        results = repair(ctx, diagnoses, policy)
    _show(results, as_json)
    return ExitCode.PROBLEMS if any(r.problem for r in results) else ExitCode.OK


def _show(results: list[RepairResult], as_json: bool) -> None:
    if as_json:
        echo_json(render.envelope(results=[r.as_dict() for r in results]))
        return
    for r in results:
        arrow = f" ({r.before} -> {r.after})" if r.after and r.before != r.after else ""
        click.echo(f"{r.outcome:<9} {r.action:<8} {r.name}{arrow}: {r.message}")
        if r.backup:
            click.echo(f"          backup: {r.backup}")
        for path in r.carried_over:
            click.echo(f"          carried over: {path}")
        for note in r.notes:
            click.echo(f"          note: {note}")
    if not results:
        click.echo("nothing to repair")


@click.command("restore")
@click.argument("target")
@click.option(
    "--backup",
    "backup_id",
    type=int,
    help="Which backup (see `venv-doctor restore TARGET --list`).",
)
@click.option("--list", "list_", is_flag=True, help="List the kept backups of TARGET.")
def restore_command(target: str, backup_id: int | None, list_: bool) -> None:
    """Put a kept backup of TARGET back in place (the current venv becomes a backup)."""
    ctx = get_context()
    path = resolve_one(ctx, target).path
    with open_journal(ctx) as journal:
        _restore(ctx, journal, path, backup_id, list_)


def _restore(
    ctx: Context, journal: Journal, path: Path, backup_id: int | None, list_: bool
) -> None:
    kept = [b for b in backups.kept(journal) if b.venv == path]
    if list_:
        if not kept:
            click.echo(f"no kept backup of {path}")
        for b in kept:
            click.echo(
                f"{b.id}\t{time.strftime('%Y-%m-%d %H:%M', time.localtime(b.taken_at))}\t{b.path}"
            )
        return
    if not kept:
        raise VenvDoctorError(f"no kept backup of {path}", hint="backups are made by rebuilds")
    chosen = next((b for b in kept if b.id == backup_id), None) if backup_id else kept[-1]
    if chosen is None:
        raise UsageError(f"no backup {backup_id} of {path}", hint="--list shows them")
    aside = execute.restore(ctx, journal, chosen)
    registry.record_event(ctx, path, "restore", f"restored from {chosen.path}")
    click.echo(
        f"restored {path} from {chosen.path}"
        + (f"; the replaced venv is kept at {aside}" if aside else "")
    )


@click.command("gc")
@click.option(
    "--days",
    type=click.FloatRange(min=0),
    help="Remove backups older than this (default: [repair] keep_backups_days).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--force", is_flag=True, help="Remove backups that hold files their venv lacks, too.")
def gc_command(days: float | None, dry_run: bool, force: bool) -> int:
    """Delete kept backups older than the configured number of days.

    A backup holding files its venv lacks (a user file the rebuild could not
    carry over, an edited activate script) is kept and listed unless --force.
    """
    ctx = get_context()
    keep = ctx.config.keep_backups_days if days is None else days
    with open_journal(ctx) as journal:
        done = backups.prune(journal, keep, dry_run=dry_run, force=force)
    verb = "would remove" if dry_run else "removed"
    for b, files in done.holding:
        shown = ", ".join(files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10 else "")
        what = f"{verb} it anyway (--force)" if force else "kept (--force removes it)"
        click.echo(f"{b.path} (backup of {b.venv}) holds files the venv lacks: {shown}; {what}")
    for b in done.removed:
        click.echo(f"{verb} {b.path} (backup of {b.venv})")
    for b, why in done.failed:
        click.echo(f"could not remove {b.path}: {why}", err=True)
    count = len(done.removed)
    click.echo(f"{count} backup{'' if count == 1 else 's'} {verb}")
    return ExitCode.PROBLEMS if done.failed else ExitCode.OK


COMMANDS = [repair_command, restore_command, gc_command]
