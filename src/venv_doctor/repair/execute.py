"""Carrying out repair plans: the one core function the CLI and the daemon share.

Each venv is repaired under its lock. A relink that does not verify falls back
to a rebuild when allowed. Success means the venv diagnoses healthy afterwards
(pre-commit's rule: unhealthy right after a repair is a failure).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from venv_doctor import fsutil, runner
from venv_doctor.context import Context
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.diagnose.probe import probe
from venv_doctor.errors import VenvDoctorError
from venv_doctor.install import installers
from venv_doctor.model.venv import load
from venv_doctor.record import registry
from venv_doctor.record.requirements import Requirements
from venv_doctor.repair import rebuild, records, verify
from venv_doctor.repair.plan import Action, Plan
from venv_doctor.repair.result import Outcome, RepairProgress, RepairResult, result_of
from venv_doctor.repair.transaction import locks
from venv_doctor.repair.transaction.backups import Backup
from venv_doctor.repair.transaction.journal import Journal, open_journal
from venv_doctor.repair.verify import load_at

log = logging.getLogger(__name__)
RequirementsSource = Callable[[Context, Path], Requirements | None]


def recover(ctx: Context) -> list[str]:
    """Finish interrupted repairs before anything else (every command, the daemon):
    end their processes, roll them back or forward, then remove dead runs' temp dirs."""
    lines = []
    if ctx.dirs.database.exists():
        with open_journal(ctx) as journal:
            finished = rebuild.recover(journal, ctx.dirs.locks)
        lines = [_recovered_line(r) for r in finished]
    fsutil.remove_dead_temp_dirs(ctx.dirs.tmp)
    return lines


def _recovered_line(done: rebuild.Recovered) -> str:
    what = f"{done.entry.action} of {done.entry.venv}"
    if done.outcome is None:
        return f"{what}: left as it is: {done.note}"
    line = f"{what}: {done.outcome.replace('_', ' ')} (interrupted at {done.entry.step})"
    return line + (f"; {done.note}" if done.note else "")


def healthy_after(path: Path, env: Mapping[str, str], deep: bool = True) -> str | None:
    """None when nothing a repair is meant to cure is left at ``path`` (``deep``:
    with the interpreter started once)."""
    venv = load_at(path)
    python = path / "bin" / "python"
    result = probe(python, venv.site_packages, env=env) if deep and venv.pythons else None
    return verify.left_to_cure(venv, result, env)


Replan = Callable[[Diagnosis], Plan]


def _repaired_meanwhile(was: Status, fresh: Plan) -> bool:
    """Read under the lock, the venv is healthy now and was not when planned."""
    return (
        fresh.action is Action.NONE
        and was is not Status.HEALTHY
        and fresh.diagnosis.status is Status.HEALTHY
    )


def fresh_diagnosis(plan: Plan, env: Mapping[str, str]) -> Diagnosis:
    """The venv as it is now, read again under its lock."""
    return diagnose(load(plan.diagnosis.location), env=env)


def execute(
    ctx: Context,
    plan: Plan,
    requirements: RequirementsSource,
    *,
    replan: Replan | None = None,
    dry_run: bool = False,
    wait: bool = True,
    allow_rebuild: bool = True,
    progress: RepairProgress | None = None,
) -> RepairResult:
    """Carry out one plan and say what happened; never raises for a failed repair.

    The venv's lock is taken first and, with ``replan``, the plan is made again
    from a fresh diagnosis: another process may have repaired (or be halfway
    through rebuilding) the venv since the first look.
    """
    if dry_run:
        why = plan.reason + (f" (needs a yes: it {plan.confirm})" if plan.confirm else "")
        return result_of(
            plan, Outcome.PLANNED if plan.action is not Action.NONE else Outcome.SKIPPED, why
        )
    say = progress or (lambda name, step: None)
    path = plan.diagnosis.path
    try:
        with locks.venv_lock(
            ctx.dirs.locks, path, wait=wait, on_wait=lambda m: say(plan.diagnosis.name, m)
        ):
            if replan is not None:
                was = plan.diagnosis.status
                plan = replan(fresh_diagnosis(plan, ctx.env))
                if _repaired_meanwhile(was, plan):
                    message = "already repaired by another process"
                    return result_of(plan, Outcome.ALREADY_REPAIRED, message)
            if plan.action is Action.NONE:
                return result_of(plan, Outcome.SKIPPED, plan.reason)
            done = _execute_locked(ctx, plan, requirements, allow_rebuild, say)
            if done.outcome is Outcome.REPAIRED and plan.target is not None:
                # the owner's records (pipx, uv tool) name the new interpreter
                kept = records.update(done.path, plan.target.path, plan.target.version)
                done = replace(done, notes=(*done.notes, *kept))
            return done
    except VenvDoctorError as exc:
        return result_of(plan, Outcome.FAILED, exc.message + (f" ({exc.hint})" if exc.hint else ""))


def _execute_locked(
    ctx: Context,
    plan: Plan,
    requirements: RequirementsSource,
    allow_rebuild: bool,
    say: RepairProgress,
) -> RepairResult:
    name = plan.diagnosis.name
    if plan.action is Action.RELINK:
        say(name, f"relinking to {plan.chosen.path}")
        outcome = _relink(ctx, plan)
        if outcome.outcome is Outcome.REPAIRED:
            return outcome
        if not allow_rebuild:
            hint = " (a rebuild may fix it: run again with --yes, or --strategy rebuild)"
            return replace(outcome, message=outcome.message + hint)
        say(name, f"relink did not verify ({outcome.message}); rebuilding")
        plan = replace(plan, action=Action.REBUILD, reason=f"relink failed: {outcome.message}")
    return _rebuild(ctx, plan, requirements, say)


def _relink(ctx: Context, plan: Plan) -> RepairResult:
    from venv_doctor.repair import relink  # a rebuild does without it

    target = plan.chosen
    venv = load_at(plan.diagnosis.path)
    with open_journal(ctx) as journal:
        done = relink.relink(
            venv, relink.RelinkTarget(target.path, target.version), journal=journal, env=ctx.env
        )
    if not done.ok:
        return result_of(plan, Outcome.FAILED, done.error or "relink failed")
    # relink.verify has started the interpreter and checked what a deep probe
    # would (version, prefix, site-packages): the static check completes it
    problem = healthy_after(plan.diagnosis.path, ctx.env, deep=False)
    if problem:
        return result_of(plan, Outcome.FAILED, f"still unhealthy after relinking: {problem}")
    what = ", ".join(f"bin/{n}" for n in done.links) or "pyvenv.cfg"
    return result_of(plan, Outcome.REPAIRED, f"relinked {what} to {target.path}")


DEFAULT_OPTIONS = installers.VenvOptions("venv", False, None, False)


def _options(path: Path) -> installers.VenvOptions:
    """The old venv's creator and options, so the rebuilt one is made the same way."""
    venv = load_at(path)
    if venv.cfg is None:
        return DEFAULT_OPTIONS
    return installers.VenvOptions.from_cfg(venv.cfg, copies=any(p.is_copy for p in venv.pythons))


def _steps(
    plan: Plan,
    reqs: Requirements,
    req_file: Path,
    options: installers.VenvOptions,
    installer: installers.Installer,
    say: RepairProgress,
    env: Mapping[str, str],
    notes: list[str],
) -> rebuild.RebuildSteps:
    """The effects of one rebuild; what verification notes goes into ``notes``."""
    target, name = plan.chosen, plan.diagnosis.name

    def create(path: Path) -> None:
        say(name, f"creating a Python {target.minor} venv")
        # pip installs into a venv without pip from the interpreter's bundled wheel
        bundled = installers.pip_wheel(_prefix(target.path), target.minor)
        with_pip = reqs.had_pip or (installer.name == "pip" and bundled is None)
        installers.create_venv(target, path, options, with_pip=with_pip, env=env)
        _unseed(path, reqs.held, env)

    def install(path: Path) -> None:
        installer.install(path, req_file, on_progress=lambda message: say(name, message))

    def check(path: Path) -> str | None:
        say(name, "verifying")
        done = verify.verify_rebuilt(
            path, reqs.expected, reqs.editable, env, reqs.exact, reqs.requested
        )
        notes.extend(done.notes)
        return done.problem

    pause = rebuild.Pause.from_env(env)
    return rebuild.RebuildSteps(create=create, install=install, verify=check, pause=pause)


def _prefix(python: Path) -> Path:
    """The installation prefix of an interpreter: above the real binary's ``bin/``."""
    return Path(os.path.realpath(python)).parent.parent


def _unseed(path: Path, held: frozenset[str], env: Mapping[str, str]) -> None:
    """Remove what the new venv's creator seeded that the old venv did not hold (pipx
    removes ensurepip's setuptools from its shared venv): the contents stay exact."""
    if not held:
        return  # an old record: what it held is not known
    from venv_doctor.model import distributions
    from venv_doctor.record.snapshots import bundled_wheels

    venv = load_at(path)
    seeded = distributions.read(venv.site_packages, bundled=bundled_wheels(venv)).packages
    extra = sorted(p.name for p in seeded if p.seeded and p.name not in held and p.name != "pip")
    if extra:
        python = path / "bin" / "python"
        uninstall: list[str | Path] = [python, "-m", "pip", "uninstall", "-y", "-q", *extra]
        runner.run(uninstall, env=env, timeout=300, check=True)


def _rebuild(
    ctx: Context, plan: Plan, requirements: RequirementsSource, say: RepairProgress
) -> RepairResult:
    target = plan.chosen
    path = plan.diagnosis.path
    reqs = requirements(ctx, path)
    if reqs is None:
        return result_of(
            plan,
            Outcome.FAILED,
            "nothing recorded about what this venv held, and it cannot be read",
        )
    installer = installers.choose_installer(ctx.config, ctx.env)
    recreating = plan.action is Action.RECREATE
    options = DEFAULT_OPTIONS if recreating else _options(path)
    # poetry and pdm name an env for its minor: one rebuilt onto another is made under
    # the name its owner will look for (and the owner pointed at it, at commit)
    dest = records.owner_name(path, plan.diagnosis.location.store, target.minor)
    if dest is not None:
        prompt = _renamed_prompt(options.prompt, plan.diagnosis.python.minor, target.minor)
        options = replace(options, prompt=prompt)
    with fsutil.run_temp_dir(ctx.dirs.tmp) as tmp, runner.temp_scope(tmp):
        req_file = tmp / "requirements.txt"
        req_file.write_text(reqs.text, encoding="utf-8")
        verified: list[str] = []
        steps = _steps(plan, reqs, req_file, options, installer, say, ctx.env, verified)
        try:
            if recreating:
                where = dest or recreate_path(ctx, plan)
                steps = _with_owner_records(ctx, plan, steps, verified)
                with open_journal(ctx) as journal:
                    note = rebuild.recreate(where, journal, steps)
                    note += _link_pyenv_env(ctx, plan.diagnosis.name, where)
                    if where != path:  # the owner's records and the registry follow it
                        note += records.renamed(path, where)
                        journal.moved(path, where, f"recreated as {where} (was {path})")
                message = f"recreated from its snapshot with Python {target.version}"
                if where != path:
                    message += f" at {where}"
                done_result = result_of(plan, Outcome.REPAIRED, message, notes=(*note, *verified))
                return replace(done_result, path=where)
            with open_journal(ctx) as journal:
                done = rebuild.rebuild(path, ctx.dirs.backups, journal, steps, dest=dest)
        except VenvDoctorError as exc:
            return result_of(plan, Outcome.FAILED, exc.message)
    notes = tuple(verified) + done.notes
    notes += tuple(f"kept the new {x}; the old one is in the backup" for x in done.kept_new)
    notes += tuple(f"{x} was edited; your version is in the backup" for x in done.edited_activate)
    notes += tuple(f"{x} is not a file or link; it stays in the backup" for x in done.uncopyable)
    count = len(reqs.expected)
    message = f"rebuilt with Python {target.version} ({count} package{'' if count == 1 else 's'})"
    if dest is not None:
        message += f" as {dest}, the name {plan.diagnosis.location.store} gives it"
    done_result = result_of(
        plan,
        Outcome.REPAIRED,
        message,
        backup=done.backup,
        carried_over=done.carried_over,
        notes=notes,
    )
    return replace(done_result, path=dest) if dest is not None else done_result


def _with_owner_records(
    ctx: Context, plan: Plan, steps: rebuild.RebuildSteps, notes: list[str]
) -> rebuild.RebuildSteps:
    """A pipx app's or uv tool's owner's records, kept while it was there, put back into
    the recreated venv once its packages are in (before it is verified: a rollback
    takes them with it); its links are made at the commit."""
    kept = registry.owner_record(ctx, plan.diagnosis.path)
    if kept is None:
        return steps
    target = plan.chosen

    def install(path: Path) -> None:
        steps.install(path)
        notes.extend(records.restore_files(path, kept, target.path, target.version))

    return replace(steps, install=install)


def _renamed_prompt(prompt: str | None, old: str | None, new: str) -> str | None:
    """poetry's and pdm's default prompts (``proj-py3.12``, ``proj-3.12``) end in the
    minor, as their env names do."""
    if prompt and old and prompt.endswith(old) and prompt[: -len(old)].endswith(("-", "-py")):
        return prompt[: -len(old)] + new
    return prompt


def recreate_path(ctx: Context, plan: Plan) -> Path:
    """Where a vanished venv is made again: its old path, except for pyenv-virtualenv.

    pyenv-virtualenv keeps an env under the version it runs on
    (``versions/3.11.7/envs/tool``); recreating it there would bring back a
    ``versions/3.11.7`` husk that pyenv lists as installed. With a pyenv Python
    chosen, the env goes under that version instead.
    """
    from venv_doctor.paths import pyenv_root

    path = plan.diagnosis.path
    if plan.diagnosis.location.store != "pyenv-virtualenv":
        return path
    versions = pyenv_root(ctx.env) / "versions"
    try:
        version = plan.chosen.path.relative_to(versions).parts[0]
    except ValueError:
        return path  # not a pyenv Python: keep the old place
    return versions / version / "envs" / path.name


def _link_pyenv_env(ctx: Context, name: str, where: Path) -> tuple[str, ...]:
    """Point pyenv-virtualenv's ``versions/<env>`` link at the recreated env."""
    from venv_doctor.paths import pyenv_root

    versions = pyenv_root(ctx.env) / "versions"
    if where.parent.name != "envs" or where.parent.parent.parent != versions:
        return ()
    link = versions / where.name
    if link.is_symlink() and not link.exists():
        link.unlink()  # dangling since `pyenv uninstall`
    if os.path.lexists(link):
        return ()
    link.symlink_to(where)
    return (f"{link} now points to {where}",)


def restore(ctx: Context, journal: Journal, backup: Backup) -> Path | None:
    """Put a kept backup back in place, under the venv's lock."""
    with locks.venv_lock(ctx.dirs.locks, backup.venv):
        pause = rebuild.Pause.from_env(ctx.env)
        return rebuild.restore(backup.venv, backup.path, ctx.dirs.backups, journal, pause)


def effective_owner_ok(path: Path, allow_other_owner: bool) -> str | None:
    """Root must not repair another user's venv unless told to."""
    if os.geteuid() != 0 or allow_other_owner:
        return None
    try:
        owner = path.stat().st_uid if path.exists() else 0
    except OSError:
        return None
    if owner != 0:
        return f"{path} belongs to uid {owner}; running as root would leave root-owned files in it"
    return None
