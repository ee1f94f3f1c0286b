"""``daemon`` and ``status``: the background service and what it is doing."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from venv_doctor.cli.base import (
    command_options,
    common_options,
    echo_json,
    echo_lines,
    get_context,
    get_context_or_defaults,
    settings,
    terminal_out,
)
from venv_doctor.context import Context
from venv_doctor.daemon import heartbeat
from venv_doctor.record import registry
from venv_doctor.render.documents import envelope
from venv_doctor.render.layout import INDENT, Out, aligned
from venv_doctor.render.words import human_time, plural


@click.command("daemon")
@click.option(
    "--once",
    is_flag=True,
    help="Check every venv, repair by policy, notify, and exit (what the timer runs).",
)
@common_options
def daemon_command(once: bool) -> int:
    """Run in the foreground: watch interpreters, check, repair by policy, notify.

    Meant to run under systemd or launchd (`venv-doctor service install`).
    SIGTERM/SIGINT stop it (a running rebuild is rolled back), SIGHUP reloads
    the config. Exits 1 if another daemon of this user is running, 2 on a bad
    config. With --once: one full check (exit 1 when a venv is left broken).
    """
    from venv_doctor.daemon.loop import Daemon, configure_logging

    ctx = get_context()
    configure_logging(ctx, settings().verbose > 0)
    daemon = Daemon(ctx)
    return daemon.run_once() if once else daemon.run()


def status_report(ctx: Context) -> dict[str, Any]:
    info = heartbeat.read(ctx.dirs) or {}
    running = heartbeat.daemon_running(ctx.dirs)
    return {
        "daemon": {
            "running": running,
            "pid": info.get("pid") if running else None,
            "since": info.get("since") if running else None,
        },
        "last_scan": info.get("last_scan"),
        "summary": registry.summary(ctx)
        or info.get("summary")
        or dict.fromkeys(("healthy", "degraded", "broken", "unknown"), 0),
        "watched": info.get("watched", []) if running else [],
        "events": registry.recent(ctx, limit=20),
        "pending_repairs": info.get("pending_repairs", []) if running else [],
        "own_venv": info.get("own_venv"),
    }


def service_state(ctx: Context) -> str | None:
    """ "failed", "active", "inactive"... of the installed service's unit; None without one."""
    from venv_doctor.service import manage
    from venv_doctor.service.manifest import read_manifest

    if read_manifest(ctx.dirs) is None:
        return None
    states = [u.active.split()[0] for u in manage.inspect(ctx, lines=0).units if u.active]
    return "failed" if "failed" in states else (states[0] if states else None)


def _daemon_state(daemon: dict[str, Any], config_error: str | None, relative: bool) -> str:
    if daemon["running"]:
        return f"running (pid {daemon['pid']}, since {_when(daemon['since'], relative)})"
    if daemon.get("service") == "failed":
        return "failed: " + (config_error or "see `venv-doctor service status` for its log")
    if daemon.get("service"):
        return "not running (the service is installed: `venv-doctor service status`)"
    return "not running (`venv-doctor service install` starts it at login)"


@click.command("status")
@command_options
def status_command(as_json: bool) -> None:
    """Is the daemon running, what does it watch, what happened lately.

    Works with a broken config.toml too (with a warning): a running daemon
    keeps its last good config, and this is how to see that it does; a service
    that failed on it says so ("daemon: failed: .../config.toml: ...").
    """
    ctx, config_error = get_context_or_defaults()
    if config_error:
        click.echo(
            f"venv-doctor: warning: {config_error} (showing status with the defaults)", err=True
        )
    report = status_report(ctx)
    report["daemon"]["service"] = service_state(ctx)
    report["config_error"] = config_error
    if as_json:
        echo_json(envelope(**report))
        return
    echo_lines(_status_lines(report, terminal_out(ctx)))
    if report.get("own_venv"):
        click.echo(f"warning: {report['own_venv']}", err=True)
    sys.stdout.flush()


def _when(text: str | None, relative: bool) -> str:
    """A stored ISO time as people read it (the text itself if it does not parse)."""
    if not text:
        return "never"
    try:
        return human_time(datetime.fromisoformat(text), relative)
    except ValueError:
        return text


def _status_lines(report: dict[str, Any], out: Out) -> list[str]:
    relative = out.terminal
    state = _daemon_state(report["daemon"], report.get("config_error"), relative)
    summary = report["summary"]
    watched = report["watched"]
    polled = [w for w in watched if w.get("mode") == "polling"]
    watching = plural(len(watched), "directory", "directories")
    rows = [
        ["daemon:", state],
        ["last full scan:", _when(report["last_scan"], relative)],
        ["venvs:", ", ".join(f"{n} {s}" for s, n in summary.items())],
        ["watching:", watching + (f" ({len(polled)} polled)" if polled else "")],
    ]
    lines = aligned(rows, out)
    events = report["events"][-10:]  # the ten most recent, oldest first
    if events and not settings().quiet:
        lines.append("recent events:")
        cells = [
            [
                _when(e["at"], relative),
                e["kind"],
                " ".join(x for x in (out.tilde(e["venv"] or ""), e["message"]) if x),
            ]
            for e in events
        ]
        lines += [INDENT + line for line in aligned(cells, out.inner())]
    return lines


COMMANDS = [daemon_command, status_command]
