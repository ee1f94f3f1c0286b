"""``service install|uninstall|status``: run venv-doctor in the background."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from venv_doctor.cli.base import (
    command_options,
    echo_json,
    get_context,
    get_context_or_defaults,
    info,
    settings,
)
from venv_doctor.diagnose.findings import Finding
from venv_doctor.render.documents import envelope
from venv_doctor.service import manage as service
from venv_doctor.service.base import (
    InstallAction,
    InstallPlan,
    InstallStep,
    ServiceStatus,
    UnitState,
)
from venv_doctor.service.manifest import manifest_path


def _warn(findings: tuple[Finding, ...]) -> None:
    for f in findings:
        click.echo(f"warning: {f.message}", err=True)
        if f.hint:
            click.echo(f"hint: {f.hint}", err=True)


def _announce(step: InstallStep) -> None:
    if settings().json:
        return  # the JSON document lists the steps
    if step.action is InstallAction.RUN:
        click.echo(f"$ {step.target}")
    elif step.action is InstallAction.IGNORED:
        click.echo(f"  (failed, ignored: {step.detail or 'no output'})")
    else:
        click.echo(f"{step.action.value} {step.target}")


def _print_plan(plan: InstallPlan) -> None:
    """File contents on stdout (so `--print > file` is the unit), the rest on stderr.

    Two units (a timer and its service) are separated by a blank line and a
    ``# ---- PATH`` comment line each, which systemd ignores.
    """
    for path in plan.conflicts:
        click.echo(f"warning: {path} exists and was not written by venv-doctor", err=True)
    for path in plan.remove:
        click.echo(f"would remove {path}", err=True)
    several = len(plan.files) > 1
    for i, f in enumerate(plan.files):
        click.echo(f"would write {f.path}:", err=True)
        sys.stdout.flush()
        if several:
            click.echo(("\n" if i else "") + f"# ---- {f.path}")
        click.echo(f.content.decode("utf-8"), nl=False)
        sys.stdout.flush()
    click.echo("would run:", err=True)
    for command in plan.commands:
        click.echo(f"  {command}", err=True)


@click.group("service")
def service_group() -> None:
    """Run venv-doctor in the background (systemd user service or macOS LaunchAgent)."""


def _plan_json(plan: InstallPlan, steps: tuple[InstallStep, ...] | None) -> str:
    return envelope(
        manager=plan.manager.value,
        mode=plan.mode.value,
        unit=plan.unit,
        installed=steps is not None,
        files=[
            {"path": str(f.path), "content": f.content.decode("utf-8", "replace")}
            for f in plan.files
        ],
        remove=[str(p) for p in plan.remove],
        commands=[str(c) for c in plan.commands],
        conflicts=[str(p) for p in plan.conflicts],
        warnings=[f.as_dict() for f in plan.warnings],
        steps=[_step_dict(s) for s in steps or ()],
    )


def _step_dict(step: InstallStep) -> dict[str, str]:
    return {"action": step.action.value, "target": step.target, "detail": step.detail}


@service_group.command("install")
@click.option(
    "--print", "print_only", is_flag=True, help="Show the files and commands; change nothing."
)
@click.option(
    "--timer",
    is_flag=True,
    help="No resident daemon: check and repair every 6 hours (a systemd timer).",
)
@click.option(
    "--python",
    "python",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Run the service as `PATH -m venv_doctor` (venv-doctor must be installed there).",
)
@command_options
def install_command(print_only: bool, timer: bool, python: Path | None, as_json: bool) -> None:
    """Install and start the service for the current user.

    Writes the unit (~/.config/systemd/user/) or LaunchAgent (~/Library/LaunchAgents/)
    with the absolute path of this venv-doctor and its directories, then runs
    `systemctl --user daemon-reload` and `enable --now` (or `launchctl bootstrap`),
    printing each command. `service uninstall` removes exactly what this wrote.
    """
    ctx = get_context()
    plan = service.plan_install(ctx, timer=timer, python=python)
    _warn(plan.warnings)
    if print_only:
        echo_json(_plan_json(plan, None)) if as_json else _print_plan(plan)
        return
    done = service.install(plan, ctx.dirs, ctx.env, announce=_announce)
    if as_json:
        echo_json(_plan_json(plan, done.steps))
        return
    logs = service.backend(plan.manager).log_hint(plan.mode, ctx.env)
    info(f"installed {plan.unit} ({plan.manager.value}); logs: {logs}")


@service_group.command("uninstall")
@command_options
def uninstall_command(as_json: bool) -> None:
    """Stop the service and remove every file `service install` wrote.

    Works with a broken config.toml (it reads nothing from it), and clears the unit's
    failed state (`systemctl --user reset-failed`) so nothing is left listed.
    """
    ctx, config_error = get_context_or_defaults()
    if config_error:
        click.echo(f"note: {config_error} (not needed to uninstall)", err=True)
    result = service.uninstall(ctx.dirs, ctx.env, announce=_announce)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        echo_json(
            envelope(
                uninstalled=result.recorded,
                steps=[_step_dict(s) for s in result.steps],
                notes=list(result.notes),
            )
        )
    elif not result.recorded:
        info(f"nothing to uninstall: no record in {manifest_path(ctx.dirs)}")
    else:
        info("uninstalled the venv-doctor service")


def _unit_dict(u: UnitState) -> dict[str, Any]:
    return {
        "name": u.name,
        "path": str(u.path),
        "installed": u.installed,
        "enabled": u.enabled,
        "active": u.active,
        "pid": u.pid,
    }


def status_json(st: ServiceStatus, config_error: str | None = None) -> str:
    return envelope(
        config_error=config_error,
        manager=st.availability.manager.value,
        available=st.availability.available,
        reason=st.availability.reason,
        installed=st.installed,
        recorded=st.recorded,
        mode=st.mode.value if st.mode else None,
        units=[_unit_dict(u) for u in st.units],
        modified=[str(p) for p in st.modified],
        command=list(st.command),
        command_missing=st.command_missing,
        log={"source": st.log_source, "lines": list(st.log)},
    )


def _unit_line(u: UnitState) -> str:
    if not u.installed:
        return f"{u.name}: not installed ({u.path})"
    parts = [u.enabled or "?", u.active or "?"] + ([f"pid {u.pid}"] if u.pid else [])
    return f"{u.name}: " + ", ".join(parts) + f"  ({u.path})"


def _print_status(st: ServiceStatus, config_error: str | None) -> None:
    a = st.availability
    click.echo(f"manager:   {a.manager.value} ({a.reason})")
    if config_error:
        click.echo(f"config:    {config_error}")
    how = f" ({st.mode.value})" if st.mode else ""
    by = "" if st.recorded or not st.installed else ", not by `venv-doctor service install`"
    click.echo(f"installed: {'yes' if st.installed else 'no'}{how}{by}")
    for u in st.units:
        click.echo(f"  {_unit_line(u)}")
    if st.command:
        missing = (
            "  (missing! run `venv-doctor service install` again)" if st.command_missing else ""
        )
        click.echo(f"command:   {' '.join(st.command)}{missing}")
    for path in st.modified:
        click.echo(f"modified:  {path} was edited since install")
    if st.log_source:
        click.echo(f"log ({st.log_source}):")
        for line in st.log or ("(empty)",):
            click.echo(f"  {line}")


@service_group.command("status")
@command_options
def status_command(as_json: bool) -> None:
    """Show whether the service is installed, enabled and running, and its log.

    Works with a broken config.toml: the error is one more line of the report.
    """
    ctx, config_error = get_context_or_defaults()
    st = service.inspect(ctx)
    if as_json:
        echo_json(status_json(st, config_error))
    else:
        _print_status(st, config_error)


COMMANDS = [service_group]
