"""``requirements`` and ``history``: what a venv holds, and held, even once it is gone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

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
from venv_doctor.errors import ExitCode, UsageError, VenvDoctorError
from venv_doctor.model.distributions import Package
from venv_doctor.record.history import Change, Revision, Source, VenvHistory, history, snapshot_for
from venv_doctor.record.requirements import Mode, selected
from venv_doctor.record.requirements import render as render_requirements
from venv_doctor.record.state import Event
from venv_doctor.render.documents import envelope
from venv_doctor.render.layout import INDENT, Out, aligned
from venv_doctor.render.sanitize import printable
from venv_doctor.render.words import human_time, iso_utc, plural


def parse_at(value: str | None) -> datetime | None:
    """ISO 8601 date or time; without a zone it is local time."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(
            f"--at {value}: not an ISO 8601 date or time",
            hint="e.g. 2024-05-01 or 2024-05-01T13:00",
        ) from exc
    return when.astimezone() if when.tzinfo is None else when


def warn(messages: tuple[str, ...] | list[str]) -> None:
    for message in messages:
        click.echo(f"venv-doctor: warning: {message}", err=True)


@click.command("requirements")
@click.argument("target", metavar="TARGET", shell_complete=complete_venv)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    default=Mode.EXACT.value,
    show_default=True,
    help="exact: every distribution pinned (for rebuilds); top-level: only what was requested.",
)
@click.option(
    "--source",
    type=click.Choice([s.value for s in Source]),
    default=Source.AUTO.value,
    show_default=True,
    help="auto: read the venv from disk, or its newest recorded snapshot once it is gone.",
)
@click.option(
    "--at",
    "at",
    metavar="TIMESTAMP",
    help="The recorded snapshot in effect then (ISO 8601; without a zone, local time).",
)
@click.option(
    "--against",
    "against",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Compare with a requirements.txt or pyproject.toml: what is installed but not "
    "declared, and declared but not installed (exit 1 when they differ).",
)
@command_options
def requirements_command(
    target: str, mode: str, source: str, at: str | None, against: Path | None, as_json: bool
) -> int:
    """Print TARGET's requirements as a file `pip install -r` accepts.

    TARGET is a venv path or name. It is read from disk without running its
    interpreter, so a broken venv works; a venv deleted with its interpreter
    is answered from the snapshot recorded by an earlier `check`.
    """
    if against is not None:
        return _against(target, against, as_json)
    found = snapshot_for(get_context(), target, Source(source), parse_at(at))
    warn(found.warnings)
    snapshot = found.snapshot
    if as_json:
        packages = [p.redacted().as_dict() for p in selected(snapshot, Mode(mode))]
        echo_json(
            envelope(
                venv=str(snapshot.venv),
                source=snapshot.source,
                taken_at=iso_utc(snapshot.taken_at),
                python_version=snapshot.python_version,
                packages=packages,
                warnings=list(found.warnings),
            )
        )
        return ExitCode.OK
    click.echo(render_requirements(snapshot, Mode(mode)), nl=False)
    return ExitCode.OK


def _against(target: str, against: Path, as_json: bool) -> int:
    from venv_doctor.record.declared import compare, read_declared
    from venv_doctor.record.history import locate

    where = locate(get_context(), target, None)
    if where.venv is None or not where.venv.site_packages:
        raise VenvDoctorError(
            f"{where.path}: not on disk (or no site-packages); --against reads the venv itself"
        )
    result = compare(read_declared(against), where.venv.site_packages, where.venv.minor)
    warn(result.warnings)
    if as_json:
        echo_json(envelope(venv=str(where.path), against=str(against), **result.as_dict()))
    else:
        click.echo(f"{printable(str(where.path))} against {printable(str(against))}:")
        click.echo("  installed, not declared: " + (", ".join(result.undeclared) or "none"))
        click.echo("  declared, not installed: " + (", ".join(result.missing) or "none"))
    return ExitCode.PROBLEMS if result.undeclared or result.missing else ExitCode.OK


# --- history -------------------------------------------------------------------------------


def _short(p: Package | None) -> str:
    if p is None:
        return "-"
    return p.version + ("" if p.kind == "index" else f" ({p.kind})")


def _change_text(step: Revision) -> str:
    if step.first:
        return f"first snapshot: {plural(len(step.snapshot.packages), 'package')}"
    parts = [f"+{c.name} {_short(c.after)}" for c in step.added]
    parts += [f"-{c.name} {_short(c.before)}" for c in step.removed]
    parts += [f"~{c.name} {_short(c.before)} -> {_short(c.after)}" for c in step.changed]
    return ", ".join(parts) or "same packages (Python version changed)"


def _lines(h: VenvHistory, out: Out, relative: bool) -> list[str]:
    """The venv's line, when it was last seen, then its snapshots and events aligned."""
    r = h.record
    head = [r.name, r.store, out.tilde(r.path)]
    seen = human_time(r.last_seen, relative)
    status = r.last_status or "status unknown"
    lines = aligned([head], out)
    lines += out.wrap(f"last seen {seen}, {status}, Python {r.python_version or '?'}")
    rows = [(s.snapshot.taken_at, "snapshot", _change_text(s)) for s in h.steps]
    rows += [(e.at, e.kind, out.tilde_in(e.message)) for e in h.events]
    rows.sort(key=lambda row: row[0])
    cells = [[human_time(when, relative), kind, text] for when, kind, text in rows]
    lines += [INDENT + line for line in aligned(cells, out.inner())]
    return lines


def _package_json(p: Package | None) -> dict[str, Any] | None:
    return None if p is None else {"version": p.version, "kind": p.kind}


def _change_json(c: Change) -> dict[str, Any]:
    return {"name": c.name, "before": _package_json(c.before), "after": _package_json(c.after)}


def _event_json(e: Event) -> dict[str, Any]:
    return {
        "at": iso_utc(e.at),
        "venv": str(e.venv_path) if e.venv_path else None,
        "kind": e.kind,
        "message": e.message,
        "data": e.data,
    }


def _history_json(h: VenvHistory) -> dict[str, Any]:
    r = h.record
    return {
        "venv": str(r.path),
        "name": r.name,
        "store": r.store,
        "creator": r.creator,
        "python_version": r.python_version,
        "first_seen": iso_utc(r.first_seen),
        "last_seen": iso_utc(r.last_seen),
        "last_status": r.last_status,
        "snapshots": [
            {
                "taken_at": iso_utc(s.snapshot.taken_at),
                "python_version": s.snapshot.python_version,
                "packages": len(s.snapshot.packages),
                "added": [_change_json(c) for c in s.added],
                "removed": [_change_json(c) for c in s.removed],
                "changed": [_change_json(c) for c in s.changed],
            }
            for s in h.steps
        ],
        "events": [_event_json(e) for e in h.events],
    }


@click.command("history")
@click.argument("target", metavar="[TARGET]", required=False, shell_complete=complete_venv)
@command_options
def history_command(target: str | None, as_json: bool) -> None:
    """List recorded snapshots (what changed between them) and events.

    Without TARGET, every venv venv-doctor has seen, including deleted ones.
    """
    ctx = get_context()
    venvs, loose, warnings = history(ctx, target)
    warn(warnings)
    if as_json:
        echo_json(
            envelope(
                venvs=[_history_json(h) for h in venvs],
                events=[_event_json(e) for e in loose],
                warnings=list(warnings),
            )
        )
        return
    if not venvs and not loose:
        info(
            f"no history recorded for {target} yet"
            if target
            else "no venvs recorded yet: `venv-doctor check` records every venv it finds"
        )
        return
    out = terminal_out(ctx)
    relative = out.terminal  # a terminal: "3 hours ago"; a pipe: local time
    lines: list[str] = []
    for h in venvs:
        lines += ([""] if lines else []) + _lines(h, out, relative)
    if loose:
        cells = [[human_time(e.at, relative), e.kind, e.message] for e in loose]
        lines += ([""] if lines else []) + aligned(cells, out)
    echo_lines(lines)


COMMANDS = [requirements_command, history_command]
