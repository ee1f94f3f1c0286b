"""The front door for ``check``: its common command lines, parsed without click.

``venv-doctor check`` runs on login hooks and in scripts, where importing click and
building its command tree was a third of the start. ``parse`` takes only the forms
it understands exactly as click does, and gives ``None`` for anything else, which
then goes to click (``cli.app``): ``--help``, completion, ``--prometheus``, ``-vv``,
grouped short options, a misspelt option, every other command. What it takes runs
the same body (``cli.checking.report``) as the click command, with the same
settings, recovery and error handling, so output and exit status are the same to
the byte (``tests/test_cli_front.py`` compares both on every form it takes).

Taken::

    venv-doctor [-q|--quiet] [-v|--verbose] [--color CHOICE|--color=CHOICE]
                check [-q|--quiet] [-v|--verbose] [--json] [--deep]
                      [--store NAME|--store=NAME] [TARGET]... [-- TARGET...]

with at most one ``-v`` in all (``-vv`` also turns on debug logging, in an order
that depends on where each ``-v`` stands), at most one ``--color`` and one
``--store``, a TARGET that does not start with ``-``, ``VENV_DOCTOR_COLOR`` unset or
one of the choices, no shell completion asked for and no stream that click would
re-wrap (``output.misconfigured``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from venv_doctor.cli.output import COLOR_CHOICES, misconfigured, settings

if TYPE_CHECKING:
    from venv_doctor.context import Context

COMPLETE_VARIABLE = "_VENV_DOCTOR_COMPLETE"  # what click's completion looks for
COLOR_VARIABLE = "VENV_DOCTOR_COLOR"
QUIET = ("-q", "--quiet")
VERBOSE = ("-v", "--verbose")


@dataclass(frozen=True)
class CheckLine:
    """A ``check`` command line, as click would have parsed it."""

    quiet: bool = False
    verbose: int = 0
    color: str | None = None
    as_json: bool = False
    deep: bool = False
    store: str | None = None
    targets: tuple[str, ...] = ()


def parse(argv: Sequence[str], env: Mapping[str, str]) -> CheckLine | None:
    """``argv`` as click would parse it, or None when it is not a form taken here."""
    if COMPLETE_VARIABLE in env or misconfigured(sys.stdout) or misconfigured(sys.stderr):
        return None
    color = env.get(COLOR_VARIABLE)
    if color is not None and color not in COLOR_CHOICES:
        return None  # click validates the variable (or ignores it when empty)
    args = list(argv)
    quiet, verbose, colors = False, 0, 0
    while args and args[0] != "check":
        arg = args.pop(0)
        if arg in QUIET:
            quiet = True
        elif arg in VERBOSE:
            verbose += 1
        elif arg == "--color" and args and args[0] in COLOR_CHOICES:
            color, colors = args.pop(0), colors + 1
        elif arg.startswith("--color=") and arg[8:] in COLOR_CHOICES:
            color, colors = arg[8:], colors + 1
        else:
            return None
    if not args or colors > 1:
        return None
    return _check_args(args[1:], CheckLine(quiet, verbose, color))


def _check_args(args: list[str], line: CheckLine) -> CheckLine | None:
    quiet, verbose, as_json, deep = line.quiet, line.verbose, False, False
    stores: list[str] = []
    targets: list[str] = []
    while args:
        arg = args.pop(0)
        if arg == "--":
            targets += args
            break
        if arg in QUIET:
            quiet = True
        elif arg in VERBOSE:
            verbose += 1
        elif arg == "--json":
            as_json = True
        elif arg == "--deep":
            deep = True
        elif arg == "--store" and args and not args[0].startswith("-"):
            stores.append(args.pop(0))
        elif arg.startswith("--store="):
            stores.append(arg[8:])
        elif arg.startswith("-"):
            return None
        else:
            targets.append(arg)
    if verbose > 1 or len(stores) > 1 or any(t.startswith("-") for t in targets):
        return None
    store = stores[0] if stores else None
    return CheckLine(quiet, verbose, line.color, as_json, deep, store, tuple(targets))


def run(line: CheckLine) -> int:
    """What click's group and ``check`` command do for ``line``: settings, recovery of
    interrupted repairs, then the check itself."""
    from venv_doctor.cli.checking import report
    from venv_doctor.cli.output import load_context
    from venv_doctor.cli.recovery import recover_interrupted

    opts = settings()
    opts.quiet, opts.verbose, opts.json = line.quiet, line.verbose, line.as_json
    if line.color is not None:
        opts.color = line.color
    loaded: list[Context] = []

    def context() -> Context:  # loaded once, when first needed (as click's get_context)
        if not loaded:
            loaded.append(load_context(os.environ))
        return loaded[0]

    recover_interrupted(context)
    return report(context(), line.targets, line.deep, line.store, None, line.as_json)
