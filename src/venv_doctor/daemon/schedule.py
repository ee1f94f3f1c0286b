"""The daemon's calendar: a full scan every few hours, backups pruned daily.

APScheduler's single-threaded scheduler only asks the worker for scans (the
worker does them) and prunes backups itself. ``misfire_grace_time=None``: the
default of 1 s silently skips a job after a laptop sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

from venv_doctor.context import Context

log = logging.getLogger("venv_doctor.daemon")


def start(ctx: Context, request_scan: Callable[[], None], prune: Callable[[], None]) -> Any:
    """A started BackgroundScheduler (APScheduler 3 ships no type information).
    ``prune`` is the daemon's, so a reloaded config's ``keep_backups_days`` counts."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    hours = ctx.config.scan_interval_hours
    if hours > 0:
        jitter = int(min(900, hours * 3600 / 20))
        scheduler.add_job(request_scan, "interval", hours=hours, jitter=jitter, id="scan")
    scheduler.add_job(prune, "interval", days=1, id="prune")
    scheduler.start()
    return scheduler


def prune_backups(ctx: Context) -> None:
    """Remove backups older than ``[repair] keep_backups_days`` (not those holding files
    the venv lacks), and log what was done."""
    from venv_doctor.repair.transaction import backups
    from venv_doctor.repair.transaction.journal import open_journal

    with open_journal(ctx) as journal:
        done = backups.prune(journal, ctx.config.keep_backups_days)
    for b in done.removed:
        log.info("pruned the backup of %s from %s", b.venv, b.path)
    for b, files in done.holding:
        log.warning(
            "kept the backup of %s at %s: it holds %d file(s) the venv lacks (%s)",
            *(b.venv, b.path, len(files), ", ".join(files[:5])),
        )
    for b, why in done.failed:
        log.warning("could not prune the backup of %s at %s: %s", b.venv, b.path, why)
