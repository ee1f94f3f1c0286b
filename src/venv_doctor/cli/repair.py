"""``repair``, ``restore`` and ``gc``: bringing venvs back, and undoing it."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import click

from venv_doctor import render
from venv_doctor.cli.base import echo_json, get_context, json_option
from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.diagnose.scan import diagnose_all, read_venvs
from venv_doctor.errors import ExitCode, UsageError, VenvDoctorError
from venv_doctor.interpreters import inventory as interpreters
from venv_doctor.model.venv import Location, load
from venv_doctor.record import registry
from venv_doctor.repair import backups
from venv_doctor.repair import execute as repair
from venv_doctor.repair.execute import RepairResult
from venv_doctor.repair.journal import Journal, open_journal
from venv_doctor.repair.plan import Action, Plan, plan_for
from venv_doctor.targets import Where, all_locations, resolve, resolve_one

CONFIRM = (Action.REBUILD, Action.RECREATE)


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


def _planner(ctx: Context, python: str | None, strategy: str) -> Callable[[Diagnosis], Plan]:
    """Plans for this command: the inventory is taken once, and what each dangling
    link leads to is worked out once, however many venvs share it."""
    inventory = interpreters.inventory(ctx.config, ctx.env)
    memo: interpreters.Neighbourhood = {}

    def plan(d: Diagnosis) -> Plan:
        near = interpreters.neighbours(load(d.location), ctx.env, memo) if d.path.exists() else []
        return plan_for(
            d,
            [*near, *inventory],
            registry.has_snapshot(ctx, d.path),
            python,
            strategy,
            # only a venv whose directory (and pyvenv.cfg) is gone needs the registry's word
            recorded_version=None if d.python.version else registry.recorded_version(ctx, d.path),
        )

    return plan


def _confirmed(plans: list[Plan], yes: bool, dry_run: bool) -> set[int]:
    """Indexes of plans that may run: a rebuild or a minor change needs a yes."""
    needs = [i for i, p in enumerate(plans) if p.action in CONFIRM or p.changes_minor]
    if yes or dry_run or not needs:
        return set(range(len(plans)))
    if not sys.stdin.isatty():
        return set(range(len(plans))) - set(needs)
    for i in needs:
        p = plans[i]
        click.echo(
            f"{p.diagnosis.name}: {p.action.value} with Python {p.after} ({p.reason})", err=True
        )
    ok = click.confirm(f"Rebuild {len(needs)} venv(s)? The old ones are kept as backups", err=True)
    return set(range(len(plans))) if ok else set(range(len(plans))) - set(needs)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[repair.Progress]:
    """Progress on stderr: a live status line on a terminal, plain lines otherwise.

    Each line names the venv (and its place among the ones being repaired), the
    step (installers report "installing 20 packages with uv"), and the time.
    """
    start = time.monotonic()
    seen: list[str] = []

    def label(name: str) -> str:
        if name not in seen:
            seen.append(name)
        return f"[{seen.index(name) + 1}/{total}] {name}" if total > 1 else name

    if not render.use_rich(sys.stderr):

        def say(name: str, step: str) -> None:
            click.echo(f"[{time.monotonic() - start:5.1f}s] {label(name)}: {step}", err=True)

        yield say
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False)
    with console.status("") as status:

        def live(name: str, step: str) -> None:
            line = f"{label(name)}: {step}  ({time.monotonic() - start:.1f}s)"
            console.print(Text(line, style="dim"))
            status.update(Text(line))

        yield live


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
    as_json: bool,
) -> int:
    """Repair venvs: relink after a patch upgrade, rebuild after a minor upgrade
    or removal, recreate a vanished venv from its snapshot.

    Relinks run without asking. A rebuild (or a change of minor version) asks
    on a terminal unless --yes; without a terminal it is skipped. The old venv
    is kept as a backup (`venv-doctor restore` puts it back).
    """
    ctx = get_context()
    planner = _planner(ctx, python, strategy)
    plans = [planner(d) for d in _diagnoses(ctx, targets, all_)]
    allowed = _confirmed(plans, yes, dry_run)
    with _progress(sum(1 for p in plans if p.action is not Action.NONE)) as say:

        def run(i: int) -> Ran:
            return _run_one(
                ctx,
                plans[i],
                planner,
                i in allowed,
                dry_run=dry_run,
                wait=not no_wait,
                allow_other_owner=allow_other_owner,
                # a relink that does not verify becomes a rebuild only when rebuilds were agreed to
                allow_rebuild=yes and strategy != "relink",
                say=say,
            )

        results = _run_all(ctx, plans, allowed, run)
    _show(results, as_json)
    failed = [r for r, p in zip(results, plans, strict=True) if _failed(r, p)]
    return ExitCode.PROBLEMS if failed else ExitCode.OK


Ran = tuple[RepairResult, bool]  # the result, and whether a repair was attempted
RELINK_WORKERS = max(2, min(8, os.cpu_count() or 2))  # starting interpreters is CPU work


def _run_all(
    ctx: Context, plans: list[Plan], allowed: set[int], run: Callable[[int], Ran]
) -> list[RepairResult]:
    """Relinks first, side by side: each holds its own venv's lock and mostly waits
    for one start of its interpreter (100 venvs broken by one upgrade is the common
    case). Then rebuilds and the rest one at a time, in order, each recorded as it ends.
    """
    paths = Counter(p.diagnosis.path for p in plans)
    relinks = [
        i
        for i, p in enumerate(plans)
        if p.action is Action.RELINK and i in allowed and paths[p.diagnosis.path] == 1
    ]
    done: dict[int, Ran] = {}
    if relinks:
        with ThreadPoolExecutor(max_workers=RELINK_WORKERS) as pool:
            done = dict(zip(relinks, pool.map(run, relinks), strict=True))
        _record(ctx, plans, done)
    for i in range(len(plans)):
        if i not in done:
            done[i] = run(i)
            _record(ctx, plans, {i: done[i]})
    return [done[i][0] for i in range(len(plans))]


def _record(ctx: Context, plans: list[Plan], done: dict[int, Ran]) -> None:
    """The repairs attempted, in the event log, in one visit to the state DB."""
    registry.record_events(
        ctx,
        [
            (plans[i].diagnosis.path, "repair", f"{result.outcome}: {result.message}")
            for i, (result, attempted) in sorted(done.items())
            if attempted
        ],
    )


def _failed(result: RepairResult, plan: Plan) -> bool:
    """A repair that failed, one that needed a yes, or a broken venv left as it was.
    A degraded venv with nothing to repair, and a dry run's plan, are not failures."""
    if result.outcome == "failed":
        return True
    if result.outcome != "skipped":
        return False
    return "--yes" in result.message or plan.diagnosis.status in (Status.BROKEN, Status.UNKNOWN)


def _run_one(
    ctx: Context,
    plan: Plan,
    planner: Callable[[Diagnosis], Plan],
    allowed: bool,
    *,
    dry_run: bool,
    wait: bool,
    allow_other_owner: bool,
    allow_rebuild: bool,
    say: repair.Progress,
) -> Ran:
    if not allowed:
        return repair.RepairResult(
            plan.diagnosis.name,
            plan.diagnosis.path,
            plan.action.value,
            "skipped",
            "needs confirmation: run again with --yes",
            plan.before,
            plan.after,
        ), False
    refusal = repair.effective_owner_ok(plan.diagnosis.path, allow_other_owner)
    if refusal:
        return repair.RepairResult(
            plan.diagnosis.name,
            plan.diagnosis.path,
            plan.action.value,
            "skipped",
            refusal + " (pass --allow-other-owner)",
            plan.before,
            plan.after,
        ), False
    confirmed = plan.action

    def replan(d: Diagnosis) -> Plan:
        again = planner(d)
        if again.action in CONFIRM and again.action is not confirmed:
            return replace(
                again,
                action=Action.NONE,
                reason=f"changed since planned: now needs {again.action.value}; run again",
            )
        return again

    result = repair.execute(
        ctx,
        plan,
        registry.requirements_for,
        replan=replan,
        dry_run=dry_run,
        wait=wait,
        allow_rebuild=allow_rebuild,
        progress=say,
    )
    if result.outcome == "repaired" and result.path.is_dir():
        venv = load(Location(plan.diagnosis.name, result.path, plan.diagnosis.location.store))
        registry.record_check(ctx, [venv], [diagnose(venv)])  # history and status see it now
    return result, not dry_run and plan.action is not Action.NONE


def _show(results: list[RepairResult], as_json: bool) -> None:
    if as_json:
        echo_json(render.envelope(results=[r.as_dict() for r in results]))
        return
    for r in results:
        arrow = f" ({r.before} -> {r.after})" if r.after and r.before != r.after else ""
        outcome = r.outcome.replace("_", " ")
        click.echo(f"{outcome:<9} {r.action:<8} {r.name}{arrow}: {r.message}")
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
    aside = repair.restore(ctx, journal, chosen)
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
