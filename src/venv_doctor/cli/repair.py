"""``repair``: bringing venvs back (``restore`` and ``gc``, the backups it keeps, are
``cli.backups``)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import click

from venv_doctor.check import diagnose_missing
from venv_doctor.cli.base import (
    command_options,
    echo_json,
    echo_lines,
    get_context,
    settings,
    terminal_out,
)
from venv_doctor.cli.shell.completion import complete_venv
from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.diagnose.scan import diagnose_all, read_venvs
from venv_doctor.errors import ExitCode, UsageError
from venv_doctor.render.documents import envelope
from venv_doctor.render.layout import Out, aligned_rows
from venv_doctor.render.sanitize import printable
from venv_doctor.render.words import plural
from venv_doctor.repair.plan import Plan
from venv_doctor.repair.result import RepairResult
from venv_doctor.repair.run import Policy, repair
from venv_doctor.repair.transaction.journal import open_journal
from venv_doctor.targets import Where, all_locations, resolve


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
    gone = diagnose_missing(ctx, [m for m in matches if m.where is not Where.LIVE])
    return diagnose_all(read_venvs(live), ctx.env) + gone


def _ask(plans: Sequence[Plan]) -> bool:
    """The prompt for the plans that need a yes (rebuilds, a change of minor version,
    a relink onto another vendor's or an older Python)."""
    for p in plans:
        why = p.confirm or p.reason
        click.echo(
            printable(f"{p.diagnosis.name}: {p.action.value} with Python {p.after} ({why})"),
            err=True,
        )
    them = "the old one is" if len(plans) == 1 else "the old ones are"
    return click.confirm(
        f"Rebuild {plural(len(plans), 'venv')}? ({them} kept as backups)", err=True
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
        shown = printable(name)  # escaped, not stripped: two names never look the same
        return f"[{self.seen.index(name) + 1}/{self.total}] {shown}" if self.total > 1 else shown

    def say(self, name: str, step: str) -> None:
        self.current = name
        step = printable(step)
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
    help="Every broken or degraded venv that is there (a vanished one only when named).",
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

    Relinks onto the same kind of installation run without asking. A rebuild, a
    change of minor version, or a relink onto another vendor's Python or an older
    patch asks on a terminal unless --yes; without a terminal it is skipped. The
    old venv is kept as a backup (`venv-doctor restore` puts it back).
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
            said = _interrupted(ctx, diagnoses, progress.current)
            click.echo(printable(f"venv-doctor: {said}"), err=True)
            raise
    _show(results, as_json, terminal_out(ctx))
    return ExitCode.PROBLEMS if any(r.problem for r in results) else ExitCode.OK


def _show(results: list[RepairResult], as_json: bool, out: Out) -> None:
    """A line per venv (outcome, action, name, Python before -> after), what happened
    wrapped under it; under -q only the problems."""
    if as_json:
        echo_json(envelope(results=[r.as_dict() for r in results]))
        return
    shown = [r for r in results if r.problem or not settings().quiet]
    rows = [[r.outcome.replace("_", " "), r.action.value, r.name + _versions(r)] for r in shown]
    heads = aligned_rows(rows, out, [_OUTCOME_STYLE.get(r.outcome) for r in shown])
    lines: list[str] = []
    for r, head in zip(shown, heads, strict=True):
        lines += head
        lines += out.wrap(out.tilde_in(r.message))
        if r.backup:
            lines += out.wrap(f"backup: {out.tilde(r.backup)}")
        if r.carried_over:
            lines += out.wrap("carried over: " + ", ".join(r.carried_over))
        for note in r.notes:
            lines += out.wrap(f"note: {out.tilde_in(note)}")
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
    return f" ({r.before or 'unknown'} -> {r.after})" if r.after and r.before != r.after else ""


COMMANDS = [repair_command]
