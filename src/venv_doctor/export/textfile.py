"""Gathering one export from a check (or a daemon batch) and the state DB, and writing it."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.errors import VenvDoctorError
from venv_doctor.export import prometheus
from venv_doctor.fsutil import atomic_write
from venv_doctor.interpreters.inventory import inventory
from venv_doctor.interpreters.usage import reached_by
from venv_doctor.paths import expand_user, home

log = logging.getLogger("venv_doctor.export")
REPAIR_KINDS = frozenset({"repair"})


def _from_state(
    ctx: Context, paths: Sequence[Path]
) -> tuple[dict[tuple[str, str], int], dict[Path, float]]:
    from venv_doctor.record import state

    def read(db: state.Database) -> tuple[dict[tuple[str, str], int], dict[Path, float]]:
        repairs: Counter[tuple[str, str]] = Counter()
        for event in state.events(db):
            data = event.data or {}
            if event.kind in REPAIR_KINDS and "action" in data and "outcome" in data:
                repairs[(str(data["action"]), str(data["outcome"]))] += 1
        now = state.now()
        ages = {}
        for path in paths:
            snapshot = state.latest_snapshot(db, path)
            if snapshot is not None:
                ages[path] = (now - snapshot.taken_at).total_seconds()
        return dict(repairs), ages

    try:
        result, _ = state.using(ctx.dirs, read)
    except VenvDoctorError as exc:
        log.warning("the export leaves out repairs and snapshot ages: %s", exc.message)
        return {}, {}
    return result


def report(
    ctx: Context, diagnoses: Sequence[Diagnosis], started: float, finished: float
) -> prometheus.Report:
    interpreters = inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache)
    counts = prometheus.interpreter_counts(interpreters, (reached_by(d) for d in diagnoses))
    repairs, ages = _from_state(ctx, [d.path for d in diagnoses])
    return prometheus.Report(
        diagnoses=diagnoses,
        scanned_at=finished,
        scan_seconds=max(0.0, finished - started),
        interpreters=counts,
        repairs=repairs,
        snapshot_ages=ages,
    )


def export(ctx: Context, path: Path, diagnoses: Sequence[Diagnosis], started: float) -> None:
    """Write the textfile; raises VenvDoctorError naming the file when it cannot."""
    if not path.parent.is_dir():
        raise VenvDoctorError(
            f"{path}: its directory does not exist",
            hint="point it into node_exporter's --collector.textfile.directory",
        )
    if not path.name.endswith(".prom"):
        raise VenvDoctorError(
            f"{path}: node_exporter's textfile collector reads only *.prom files",
            hint=f"use e.g. {path.with_suffix('.prom')}",
        )
    text = prometheus.render(report(ctx, diagnoses, started, time.time()))
    try:  # to a temp name beside it, then renamed: the collector never reads half a file
        atomic_write(path, text, mode=0o644)  # 0644: the collector may run as another user
    except OSError as exc:
        raise VenvDoctorError(f"{path}: cannot be written: {exc.strerror or exc}") from exc


def configured_path(ctx: Context) -> Path | None:
    value = ctx.config.prometheus_textfile
    return expand_user(value, home(ctx.env)) if value else None
