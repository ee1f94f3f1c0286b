"""``daemon`` and ``status``: the background service and what it is doing."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

import click

from venv_doctor import render
from venv_doctor.cli.base import (
    command_options,
    common_options,
    echo_json,
    echo_lines,
    get_context,
    settings,
    terminal_out,
)
from venv_doctor.config import Config
from venv_doctor.context import Context
from venv_doctor.daemon import heartbeat
from venv_doctor.errors import ConfigError
from venv_doctor.paths import app_dirs
from venv_doctor.record import registry


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


@click.command("status")
@command_options
def status_command(as_json: bool) -> None:
    """Is the daemon running, what does it watch, what happened lately.

    Works with a broken config.toml too (with a warning): a running daemon
    keeps its last good config, and this is how to see that it does.
    """
    try:
        ctx = get_context()
    except ConfigError as exc:
        click.echo(
            f"venv-doctor: warning: {exc.message} (showing status with the defaults)", err=True
        )
        ctx = Context(config=Config(), dirs=app_dirs(os.environ), env=os.environ)
    report = status_report(ctx)
    if as_json:
        echo_json(render.envelope(**report))
        return
    echo_lines(_status_lines(report))
    if report.get("own_venv"):
        click.echo(f"warning: {report['own_venv']}", err=True)
    sys.stdout.flush()


def _when(text: str | None, relative: bool) -> str:
    """A stored ISO time as people read it (the text itself if it does not parse)."""
    if not text:
        return "never"
    try:
        return render.human_time(datetime.fromisoformat(text), relative)
    except ValueError:
        return text


def _status_lines(report: dict[str, Any]) -> list[str]:
    out = terminal_out()
    relative = out.width is not None
    daemon = report["daemon"]
    if daemon["running"]:
        state = f"running (pid {daemon['pid']}, since {_when(daemon['since'], relative)})"
    else:
        state = "not running (`venv-doctor service install` starts it at login)"
    summary = report["summary"]
    watched = report["watched"]
    polled = [w for w in watched if w.get("mode") == "polling"]
    watching = render.plural(len(watched), "directory", "directories")
    rows = [
        ["daemon:", state],
        ["last full scan:", _when(report["last_scan"], relative)],
        ["venvs:", ", ".join(f"{n} {s}" for s, n in summary.items())],
        ["watching:", watching + (f" ({len(polled)} polled)" if polled else "")],
    ]
    lines = render.aligned(rows, out)
    events = report["events"][-10:]  # the ten most recent, oldest first
    if events and not settings().quiet:
        lines.append("recent events:")
        cells = [
            [
                _when(e["at"], relative),
                e["kind"],
                " ".join(x for x in (render.tilde(e["venv"] or ""), e["message"]) if x),
            ]
            for e in events
        ]
        inner = render.Out(out.width - len(render.INDENT) if out.width else None, out.color)
        lines += [render.INDENT + line for line in render.aligned(cells, inner)]
    return lines


COMMANDS = [daemon_command, status_command]
