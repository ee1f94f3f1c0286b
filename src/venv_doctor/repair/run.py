"""Repairing venvs: the one core function the CLI and the daemon both call.

``repair`` takes diagnoses and a policy and returns one typed result per venv.
It plans (the interpreter inventory taken once, what each dangling link leads to
worked out once), asks for a yes where the policy says to, refuses another
user's venv as root, carries out each plan under the venv's lock after planning
it again there, runs relinks side by side, and records what it did: the repair
events and the repaired venv's new status.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.interpreters import inventory as interpreters
from venv_doctor.model.venv import Location, load
from venv_doctor.record import registry, state
from venv_doctor.record.state import Evidence
from venv_doctor.repair import execute
from venv_doctor.repair.plan import GONE, Action, Plan, Reason, plan_for
from venv_doctor.repair.result import Outcome, RepairProgress, RepairResult, result_of

CONFIRM = (Action.REBUILD, Action.RECREATE)  # these (and a change of minor) need a yes
RELINK_WORKERS = max(2, min(8, os.cpu_count() or 2))  # starting interpreters is CPU work
Confirm = Callable[[Sequence[Plan]], bool]
Planner = Callable[[Diagnosis], Plan]


@dataclass(frozen=True)
class Policy:
    """How to repair: what the CLI's options say, or the daemon's ``repair_auto``."""

    strategy: str = "auto"  # auto | relink | rebuild
    python: str | None = None  # the interpreter asked for (version or path)
    yes: bool = False  # rebuilds are agreed to up front
    confirm: Confirm | None = None  # asked about the plans that need a yes; None: no one to ask
    dry_run: bool = False
    wait: bool = True  # for a venv another process is repairing; False: fail at once
    rebuild_fallback: bool = False  # a relink that does not verify becomes a rebuild
    allow_other_owner: bool = False  # as root, repair other users' venvs
    parallel_relinks: bool = True
    from_declared: bool = False  # rebuild from the project's declared dependencies, not the pins
    progress: RepairProgress | None = None
    on_start: Callable[[int], None] | None = None  # told how many venvs will be repaired


def needs_yes(plan: Plan) -> bool:
    """A rebuild, a change of minor, a relink onto another vendor's or an older Python."""
    return plan.action in CONFIRM or plan.changes_minor or plan.confirm is not None


def planner(
    ctx: Context, policy: Policy, inventory: Sequence[interpreters.Interpreter] | None = None
) -> Planner:
    """Plans for one run: the inventory is taken once, and what each dangling link
    leads to is worked out once, however many venvs share it."""
    if inventory is None:
        inventory = interpreters.inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache)
    memo: interpreters.Neighbourhood = {}

    def plan(d: Diagnosis) -> Plan:
        near = interpreters.neighbours(load(d.location), ctx.env, memo) if d.path.exists() else []
        return plan_for(
            d,
            [*near, *inventory],
            registry.has_snapshot(ctx, d.path),
            policy.python,
            policy.strategy,
            # only a venv whose directory (and pyvenv.cfg) is gone needs the registry's word
            recorded_version=None if d.python.version else registry.recorded_version(ctx, d.path),
            allow_vendor_change=ctx.config.allow_vendor_change,
            env=ctx.env,
            owner_command=_owner_command(ctx, d),
        )

    return plan


def _owner_command(ctx: Context, d: Diagnosis) -> str | None:
    """For a vanished pipx app or uv tool whose owner's records were not kept: the
    owner's command that makes it again (it is not recreated without them)."""
    from venv_doctor.discover.owners import reinstall_command
    from venv_doctor.render.sanitize import command

    if not d.codes() & GONE or reinstall_command(d.location) is None:
        return None
    if registry.owner_record(ctx, d.path) is not None:
        return None
    pins = registry.requirements_for(ctx, d.path)
    words = reinstall_command(d.location, pins.held if pins else ())
    return command(*words) if words else None


def repair(ctx: Context, diagnoses: Sequence[Diagnosis], policy: Policy) -> list[RepairResult]:
    """Repair the diagnosed venvs as ``policy`` says; one result each, in order.
    Never raises for a failed repair: that is a result."""
    if policy.dry_run:
        return _repair(ctx, diagnoses, policy)
    with state.kept_open(ctx.dirs):  # one WAL checkpoint for the run, not one per visit
        return _repair(ctx, diagnoses, policy)


def _repair(ctx: Context, diagnoses: Sequence[Diagnosis], policy: Policy) -> list[RepairResult]:
    inventory = interpreters.inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache)
    plan = planner(ctx, policy, inventory)
    plans = [plan(d) for d in diagnoses]
    allowed = _confirmed(plans, policy)
    if policy.on_start is not None:
        policy.on_start(sum(1 for p in plans if p.action is not Action.NONE))
    record = _recorder(ctx, interpreters.fingerprint(inventory))
    return _run_all(
        plans,
        allowed,
        lambda i: _run_one(ctx, plans[i], plan, i in allowed, policy),
        record,
        policy,
    )


def _confirmed(plans: list[Plan], policy: Policy) -> set[int]:
    """Indexes of the plans that may run: a rebuild or a minor change needs a yes."""
    everything = set(range(len(plans)))
    needs = [i for i, p in enumerate(plans) if needs_yes(p)]
    if policy.yes or policy.dry_run or not needs:
        return everything
    if policy.confirm is not None and policy.confirm([plans[i] for i in needs]):
        return everything
    return everything - set(needs)


def _run_all(
    plans: list[Plan],
    allowed: set[int],
    run: Callable[[int], RepairResult],
    record: Callable[[list[RepairResult]], None],
    policy: Policy,
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
    done: dict[int, RepairResult] = {}
    if relinks and policy.parallel_relinks:
        with ThreadPoolExecutor(max_workers=RELINK_WORKERS) as pool:
            done = dict(zip(relinks, pool.map(run, relinks), strict=True))
        record([done[i] for i in relinks])
    for i in range(len(plans)):
        if i not in done:
            done[i] = run(i)
            record([done[i]])
    return [done[i] for i in range(len(plans))]


def _recorder(ctx: Context, interpreters_seen: str) -> Callable[[list[RepairResult]], None]:
    """What records repairs attempted in the event log, each visit to the state DB
    for a batch; each with the interpreters there were (``interpreters.fingerprint``),
    so a later check can tell whether a failure may have another outcome now."""

    def record(results: list[RepairResult]) -> None:
        registry.record_events(ctx, [_event(r, interpreters_seen) for r in results if r.attempted])

    return record


def _event(r: RepairResult, interpreters_seen: str) -> registry.EventRow:
    data = {"action": r.action.value, "outcome": r.outcome.value}
    return (
        r.path,
        registry.REPAIR_EVENT,
        f"{r.outcome}: {r.message}",
        {**data, "interpreters": interpreters_seen},
    )


def _run_one(
    ctx: Context, plan: Plan, again: Planner, allowed: bool, policy: Policy
) -> RepairResult:
    if not allowed:
        return result_of(
            plan,
            Outcome.SKIPPED,
            f"needs confirmation{f' (it {plan.confirm})' if plan.confirm else ''}: "
            "run again with --yes",
            reason=Reason.NEEDS_CONFIRMATION,
        )
    refusal = execute.effective_owner_ok(plan.diagnosis.path, policy.allow_other_owner)
    if refusal:
        return result_of(
            plan,
            Outcome.SKIPPED,
            refusal + " (pass --allow-other-owner)",
            reason=Reason.OTHER_OWNER,
        )
    result = execute.execute(
        ctx,
        plan,
        _requirements_source(policy),
        replan=_replan(again, plan.action, policy.yes),
        dry_run=policy.dry_run,
        wait=policy.wait,
        allow_rebuild=policy.rebuild_fallback,
        progress=policy.progress,
    )
    result = replace(result, attempted=not policy.dry_run and plan.action is not Action.NONE)
    if result.outcome is Outcome.REPAIRED and result.path.is_dir():
        return replace(result, now=_record_repaired(ctx, plan, result))
    return result


def _requirements_source(policy: Policy) -> execute.RequirementsSource:
    """The recorded pins, or the project's declared dependencies. Imported only when
    asked for: reading them needs packaging, whose import costs a plain repair ~70 ms
    of CPU."""
    if not policy.from_declared:
        return registry.requirements_for
    from venv_doctor.record import declared

    return declared.requirements_for


def _replan(again: Planner, confirmed: Action, yes: bool) -> Planner:
    """The plan made again under the lock; a repair that needs a yes it was not
    given (the venv changed since it was planned) is not done."""

    def replan(d: Diagnosis) -> Plan:
        plan = again(d)
        if plan.action in CONFIRM and plan.action is not confirmed and not yes:
            return replace(
                plan,
                action=Action.NONE,
                reason=f"changed since planned: now needs {plan.action.value}; run again",
                why=Reason.CHANGED_SINCE_PLANNED,
            )
        return plan

    return replan


def _record_repaired(ctx: Context, plan: Plan, result: RepairResult) -> Diagnosis:
    """History and status see the repaired venv at once."""
    moved = result.path != plan.diagnosis.path  # rebuilt under its owner's new name
    name = result.path.name if moved else plan.diagnosis.name
    venv = load(Location(name, result.path, plan.diagnosis.location.store))
    now = diagnose(venv, env=ctx.env)
    registry.record_check(ctx, [venv], [now], Evidence.REPAIR)  # clears a deep check's verdict
    return now
