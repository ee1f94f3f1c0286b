"""The command line: a thin front door onto the core.

``main`` is the console script. ``run`` gives the common ``check`` command lines
to ``cli.front`` (no click to import) and every other one to click (``cli.app``);
either way every outcome maps to a documented exit code.
"""

from __future__ import annotations

import logging
import os
import sys

from venv_doctor.cli import front
from venv_doctor.cli.output import reset_settings
from venv_doctor.render.sanitize import StderrHandler


def run(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (``main`` exits with it)."""
    reset_settings()
    # warnings logged with no handler configured go to logging's last resort: make it
    # escape control characters and redact credentials like every other line we print
    logging.lastResort = StderrHandler(logging.WARNING)
    argv = sys.argv[1:] if args is None else list(args)
    line = front.parse(argv, os.environ)
    if line is None:
        from venv_doctor.cli import app

        return app.run(argv)
    try:
        return front.run(line)
    except (Exception, KeyboardInterrupt) as exc:
        from venv_doctor.cli import app  # what a command raised is said as click's path says it

        return app.outcome(exc, argv)


def main() -> None:
    code = run()
    sys.stdout.flush()
    os._exit(code) if os.environ.get("VENV_DOCTOR_FAST_EXIT") else sys.exit(code)


__all__ = ["main", "run"]
