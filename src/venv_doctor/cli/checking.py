"""What ``check`` does once its command line is parsed, without click.

The click command (``cli.check``) and the front door (``cli.front``) both call
``report``: one body, so both print the same bytes and exit the same way.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from venv_doctor.check import check
from venv_doctor.cli.output import echo_lines, settings, terminal_out, write
from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Diagnosis, Status
from venv_doctor.errors import ExitCode
from venv_doctor.render.check_report import check_lines, empty_lines
from venv_doctor.render.documents import check_json_chunks


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading thousands of venvs makes many small objects and no garbage cycles worth
    collecting; the collector's passes over them cost 10-15% of a check."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def empty(ctx: Context) -> list[str]:
    """What ``check`` and ``list`` say when no store holds a venv."""
    searched = [(s.name, str(s.root), s.root.is_dir()) for s in ctx.stores()]
    return empty_lines(searched, str(ctx.dirs.config_file), terminal_out(ctx))


def _with_declared(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """``-v``: project venvs also say what they hold that their project does not declare."""
    import os

    from venv_doctor.model.venv import load
    from venv_doctor.record.declared import with_declared

    return [with_declared(d, load(d.location)) if os.path.isdir(d.path) else d for d in diagnoses]


def _names(ctx: Context) -> Counter[str]:
    """How many live venvs bear each name (what `repair NAME` chooses among)."""
    from venv_doctor.targets import all_locations

    return Counter(x.name for x in all_locations(ctx))


def report(
    ctx: Context,
    targets: tuple[str, ...],
    deep: bool,
    store: str | None,
    prometheus: Path | None,
    as_json: bool,
) -> int:
    """Check, print and return the exit status (1 when a venv is broken or unknown)."""
    started = time.time()
    with _gc_paused():
        diagnoses = check(ctx, targets, store=store, deep=deep)
    if settings().verbose:
        diagnoses = _with_declared(diagnoses)
    if prometheus is not None:
        from venv_doctor.export import textfile

        textfile.export(ctx, prometheus, diagnoses, started)
    bad = {Status.BROKEN, Status.UNKNOWN}
    code = ExitCode.PROBLEMS if any(d.status in bad for d in diagnoses) else ExitCode.OK
    opts = settings()
    if as_json:
        for piece in check_json_chunks(diagnoses):
            write(piece)
        write("\n")
    elif not diagnoses and not opts.quiet:
        echo_lines(empty(ctx))
    else:
        from venv_doctor.repair.failures import last_failures

        failures = last_failures(ctx, diagnoses)
        # some venvs checked: a name they hold alone may name others too
        known = _names(ctx) if targets or store else None
        every = not targets and store is None  # what `repair --all` would take on
        out = terminal_out(ctx)
        lines = check_lines(diagnoses, out, opts.verbose, opts.quiet, failures, known, every)
        echo_lines(lines)
    return code
