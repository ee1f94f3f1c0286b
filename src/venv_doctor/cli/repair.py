"""``repair``, ``restore`` and ``gc``: bringing venvs back, and undoing it."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from venv_doctor import render
from venv_doctor.cli.base import (
    command_options,
    echo_json,
    echo_lines,
    get_context,
    info,
    settings,
    terminal_out,
)
from venv_doctor.cli.complete import complete_venv
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
        found = diagnose_all(read_venvs(all_locations(ctx)), ctx.env)
        return [d for d in found if d.status is not Status.HEALTHY]
    matches = resolve(ctx, targets, unique=True)
    live = [m.location for m in matches if m.where is Where.LIVE]
    gone = [diagnose(load(m.location), env=ctx.env) for m in matches if m.where is not Where.LIVE]
    return diagnose_all(read_venvs(live), ctx.env) + gone


def _ask(plans: Sequence[Plan]) -> bool:
    """The prompt for the plans that need a yes (rebuilds, a change of minor version)."""
    for p in plans:
        click.echo(
            f"{p.diagnosis.name}: {p.action.value} with Python {p.after} ({p.reason})", err=True
        )
    them = "the old one is" if len(plans) == 1 else "the old ones are"
    return click.confirm(
        f"Rebuild {render.plural(len(plans), 'venv')}? ({them} kept as backups)", err=True
    )


class _Elapsed:
    """The live line's text, rendered anew at every refresh of the spinner, so the
    elapsed time ticks while a step runs (a rebuild's install is one long step)."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.text = ""

    def line(self, now: float | None = None) -> str:
        elapsed = (time.monotonic() if now is None else now) - self.start
        return f"{self.text}  ({elapsed:.0f}s)" if self.text else f"({elapsed:.0f}s)"

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(self.line())


class _Progress:
    """Progress on stderr: a live status line on a terminal, plain lines otherwise.

    Each line names the venv (and its place among the ones being repaired), the
    step (installers report "installing 20 packages with uv"), and the time. The
    live line starts only when the repairs do (after any prompt).
    """

    def __init__(self, live: bool = True) -> None:
        self.live = live  # a dry run takes no time: no spinner
        self.total = 0
        self.start_time = time.monotonic()
        self.seen: list[str] = []
        self.current: str | None = None  # the venv being repaired
        self.stack = contextlib.ExitStack()
        self.elapsed = _Elapsed(self.start_time)
        self.console: Any = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def start(self, total: int) -> None:
        self.total = total
        self.start_time = self.elapsed.start = time.monotonic()
        if not self.live or not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
            return
        from rich.console import Console

        color = settings().color_for(sys.stderr)
        self.console = Console(stderr=True, highlight=False, no_color=not color)
        self.stack.enter_context(self.console.status(self.elapsed))

    def label(self, name: str) -> str:
        if name not in self.seen:
            self.seen.append(name)
        return f"[{self.seen.index(name) + 1}/{self.total}] {name}" if self.total > 1 else name

    def say(self, name: str, step: str) -> None:
        self.current = name
        elapsed = time.monotonic() - self.start_time
        if self.console is None:
            if not settings().quiet:
                click.echo(f"[{elapsed:5.1f}s] {self.label(name)}: {step}", err=True)
            return
        from rich.text import Text

        self.console.print(Text(f"{self.label(name)}: {step}  ({elapsed:.1f}s)", style="dim"))
        self.elapsed.text = f"{self.label(name)}: {step}"


def _interrupted(ctx: Context, diagnoses: Sequence[Diagnosis], name: str | None) -> str:
    """What Ctrl-C left behind: a rebuild rolls itself back before the interrupt goes
    on (the old venv is back); a step still open in the journal is finished or undone
    by the next venv-doctor command."""
    if name is None:
        return "interrupted before any venv was changed"
    paths = {d.path for d in diagnoses if d.name == name}
    with open_journal(ctx) as journal:
        still_open = [e for e in journal.open_entries() if e.venv in paths]
    if still_open:
        return (
            f"interrupted while repairing {name}: the next venv-doctor command finishes or "
            "rolls back its unfinished step"
        )
    return f"interrupted while repairing {name}: rolled back, {name} is as it was before"


@click.command("repair")
@click.argument("targets", nargs=-1, metavar="[TARGET]...", shell_complete=complete_venv)
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
    help="auto: relink when an interpreter of the same minor exists, else rebuild; "
    "relink: only relinks (a venv that needs a rebuild is skipped); rebuild: always rebuild.",
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
@command_options
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
    with _Progress(live=not dry_run) as progress:
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
        try:
            results = repair(ctx, diagnoses, policy)
        except KeyboardInterrupt:
            progress.stack.close()  # the spinner off before the message
            click.echo(f"venv-doctor: {_interrupted(ctx, diagnoses, progress.current)}", err=True)
            raise
    _show(results, as_json)
    return ExitCode.PROBLEMS if any(r.problem for r in results) else ExitCode.OK


def _show(results: list[RepairResult], as_json: bool) -> None:
    """A line per venv (outcome, action, name, Python before -> after), what happened
    wrapped under it; under -q only the problems."""
    if as_json:
        echo_json(render.envelope(results=[r.as_dict() for r in results]))
        return
    shown = [r for r in results if r.problem or not settings().quiet]
    out = terminal_out()
    rows = [[r.outcome.replace("_", " "), r.action.value, r.name + _versions(r)] for r in shown]
    heads = render.aligned_rows(rows, out, [_OUTCOME_STYLE.get(r.outcome) for r in shown])
    lines: list[str] = []
    for r, head in zip(shown, heads, strict=True):
        lines += head
        lines += out.wrap(render.tilde_in(r.message))
        if r.backup:
            lines += out.wrap(f"backup: {render.tilde(r.backup)}")
        if r.carried_over:
            lines += out.wrap("carried over: " + ", ".join(r.carried_over))
        for note in r.notes:
            lines += out.wrap(f"note: {render.tilde_in(note)}")
    if not results:
        lines.append("nothing to repair")
    echo_lines(lines)


_OUTCOME_STYLE = {
    "repaired": "green",
    "already_repaired": "green",
    "failed": "bold red",
    "skipped": "yellow",
}


def _versions(r: RepairResult) -> str:
    return f" ({r.before} -> {r.after})" if r.after and r.before != r.after else ""


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
        _restore(ctx, journal, path, backup_id, list_, as_json)


def _restore(
    ctx: Context,
    journal: Journal,
    path: Path,
    backup_id: int | None,
    list_: bool,
    as_json: bool,
) -> None:
    kept = [b for b in backups.kept(journal) if b.venv == path]
    if list_:
        _list_backups(path, kept, as_json)
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
            render.envelope(
                venv=str(path),
                restored_from=str(chosen.path),
                replaced_kept_at=str(aside) if aside else None,
            )
        )
        return
    info(
        f"restored {render.tilde(path)} from {render.tilde(chosen.path)}"
        + (f"; the replaced venv is kept at {render.tilde(aside)}" if aside else "")
    )


def _taken(b: backups.Backup) -> datetime:
    return datetime.fromtimestamp(b.taken_at, UTC)


def _list_backups(path: Path, kept: list[backups.Backup], as_json: bool) -> None:
    if as_json:
        rows = [
            {"id": b.id, "taken_at": render.iso_utc(_taken(b)), "path": str(b.path)} for b in kept
        ]
        echo_json(render.envelope(venv=str(path), backups=rows))
        return
    if not kept:
        info(f"no kept backup of {render.tilde(path)} (rebuilds keep one)")
        return
    out = terminal_out()
    relative = out.width is not None
    cells = [
        [str(b.id), render.human_time(_taken(b), relative), render.tilde(b.path)] for b in kept
    ]
    echo_lines(render.aligned([["id", "taken", "backup"], *cells], out))


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
            render.envelope(
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
    for b, files in done.holding:
        shown = ", ".join(files[:10]) + (f" and {len(files) - 10} more" if len(files) > 10 else "")
        what = f"{verb} it anyway (--force)" if force else "kept (--force removes it)"
        click.echo(
            f"{render.tilde(b.path)} (backup of {render.tilde(b.venv)}) holds files the venv "
            f"lacks: {shown}; {what}"
        )
    for b in done.removed:
        info(f"{verb} {render.tilde(b.path)} (backup of {render.tilde(b.venv)})")
    for b, why in done.failed:
        click.echo(f"could not remove {b.path}: {why}", err=True)
    info(f"{verb} {render.plural(len(done.removed), 'backup')}")
    return code


COMMANDS = [repair_command, restore_command, gc_command]
