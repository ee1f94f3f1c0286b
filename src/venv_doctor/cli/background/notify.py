"""``notify``: which notification backends are configured, and ``--test`` to try them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from venv_doctor.cli.base import command_options, echo_json, get_context
from venv_doctor.errors import ExitCode
from venv_doctor.render.documents import envelope

if TYPE_CHECKING:  # the notify package (asyncio, threads) loads only when this command runs
    from venv_doctor.notify import Delivery, Notifier


def _availability(notifiers: list[Notifier]) -> list[dict[str, object]]:
    from venv_doctor.notify.base import unavailable_reason

    rows: list[dict[str, object]] = []
    for n in notifiers:
        reason = unavailable_reason(n.available())
        rows.append({"backend": n.name, "available": reason is None, "reason": reason})
    return rows


def _show_backends(notifiers: list[Notifier], as_json: bool) -> int:
    rows = _availability(notifiers)
    if as_json:
        echo_json(envelope(backends=rows))
        return ExitCode.OK
    for row in rows:
        state = "available" if row["available"] else f"not available: {row['reason']}"
        click.echo(f"{row['backend']:<12} {state}")
    return ExitCode.OK


def _quiet_notify_log() -> None:
    """The command prints each delivery itself; the same facts logged to stderr are noise."""
    logger = logging.getLogger("venv_doctor.notify")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _show_deliveries(deliveries: list[Delivery], as_json: bool) -> None:
    from venv_doctor import notify

    if as_json:
        echo_json(
            envelope(
                delivered=notify.delivered(deliveries),
                deliveries=[d.as_dict() for d in deliveries],
            )
        )
        return
    for d in deliveries:
        done = "logged" if d.backend == "log" else "delivered"
        click.echo(f"{d.backend:<12} {done if d.ok else 'failed: ' + (d.error or '?')}")


@click.command("notify")
@click.option("--test", "send_test", is_flag=True, help="Send a test notification through each.")
@command_options
def notify_command(send_test: bool, as_json: bool) -> int:
    """Show the notification backends the daemon uses, or try them with --test.

    Backends come from `[notify] backends` in config.toml (default "auto": the
    desktop notification of this system, plus `[notify] command` when set);
    every event is also logged.

    Exit status with --test: 0 when at least one backend other than the log
    delivered the notification, 1 otherwise.
    """
    from venv_doctor import notify

    ctx = get_context()
    notifiers = notify.build_notifiers(ctx.config, ctx.env)
    if not send_test:
        return _show_backends(notifiers, as_json)
    _quiet_notify_log()
    try:
        deliveries = notify.dispatch(notify.TEST_NOTIFICATION, notifiers)
    finally:
        notify.close(notifiers)
    _show_deliveries(deliveries, as_json)
    if notify.delivered(deliveries):
        return ExitCode.OK
    click.echo("venv-doctor: no backend delivered the test notification", err=True)
    click.echo(
        'hint: set `[notify] backends` or `[notify] command = ["/path/prog"]` in '
        f"{ctx.dirs.config_file}",
        err=True,
    )
    return ExitCode.PROBLEMS


COMMANDS = [notify_command]
