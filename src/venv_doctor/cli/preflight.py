"""``preflight``: what happens to these venvs on another Python, before it is installed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import click

from venv_doctor.cli.base import command_options, echo_json, echo_lines, get_context, terminal_out
from venv_doctor.cli.shell.completion import complete_venv
from venv_doctor.context import Context
from venv_doctor.errors import ExitCode, UsageError, VenvDoctorError
from venv_doctor.guard.preflight import Preflight, Resolver, Verdict, preflight, scratch
from venv_doctor.guard.trial import Trial, TrialSpec, run_trial
from venv_doctor.install.pip_config import read_settings, uv_options
from venv_doctor.install.tools import find_uv
from venv_doctor.model.venv import Location
from venv_doctor.render.documents import envelope
from venv_doctor.render.layout import Out, aligned_rows
from venv_doctor.render.sanitize import printable
from venv_doctor.runner import run
from venv_doctor.targets import all_locations, resolve

_MINOR = re.compile(r"^\d+\.\d+$")
SHOWN = {
    Verdict.READY: "ready",
    Verdict.NEEDS_UPGRADES: "upgrades",
    Verdict.BLOCKED: "blocked",
    Verdict.UNRESOLVED: "unresolved",
}


def _locations(ctx: Context, targets: Sequence[str], all_: bool) -> list[Location]:
    if bool(targets) == all_:
        raise UsageError("name the venvs to preflight, or pass --all (not both)")
    if all_:
        return all_locations(ctx)
    return [m.location for m in resolve(ctx, targets)]


def _lines(ctx: Context, location: Location) -> list[str]:
    from venv_doctor.record import history, requirements

    found = history.snapshot_for(ctx, str(location.path))
    text = requirements.render(found.snapshot, requirements.Mode.EXACT, with_header=False)
    return text.splitlines()


def _one(ctx: Context, resolver: Resolver, location: Location) -> Preflight:
    try:
        lines = _lines(ctx, location)
    except VenvDoctorError as exc:
        return Preflight(Verdict.UNRESOLVED, resolver.python, message=exc.message)
    return preflight(resolver, lines)


def _text(
    results: list[tuple[Location, Preflight]], trials: dict[Path, Trial], out: Out
) -> list[str]:
    """A line per venv (verdict, name, store), what moves and why wrapped under it."""
    rows = [[SHOWN[r.verdict], x.name, x.store] for x, r in results]
    lines: list[str] = []
    for (x, result), head in zip(results, aligned_rows(rows, out), strict=True):
        lines += head
        for c in result.changes:
            lines += out.wrap(f"{c.name} {c.old} -> {c.new or '(no longer needed)'}")
        if result.builds:
            lines += out.wrap("needs a build (sdist only): " + ", ".join(result.builds))
        if result.message:
            lines += out.wrap(out.tilde_in(result.message))
        if x.path in trials:
            lines += _trial_text(trials[x.path])
    return lines


@click.command("preflight")
@click.argument("targets", nargs=-1, metavar="[TARGET]...", shell_complete=complete_venv)
@click.option(
    "--python", "python", required=True, metavar="X.Y", help="The Python to ask about, e.g. 3.13."
)
@click.option("--all", "all_", is_flag=True, help="Every venv found.")
@click.option(
    "--trial",
    is_flag=True,
    help="Also build NAME-trial beside each venv on X.Y, install and verify it, then remove it.",
)
@click.option(
    "--run", "command", metavar="CMD", help="With --trial: run CMD inside the trial venv."
)
@click.option("--keep", is_flag=True, help="With --trial: keep the trial venv.")
@command_options
def preflight_command(
    targets: tuple[str, ...],
    python: str,
    all_: bool,
    trial: bool,
    command: str | None,
    keep: bool,
    as_json: bool,
) -> int:
    """What happens to these venvs on Python X.Y, without touching them.

    Each venv's recorded requirements are resolved for X.Y by uv's resolver,
    with the pip index settings a rebuild uses: ready (the same pins resolve),
    upgrades (which packages must move, from which version to which), blocked
    (no release supports X.Y), and packages that only come as an sdist (a build
    will be needed). --trial goes further: NAME-trial, in the same store, is
    made on X.Y with those pins, verified as a rebuild would be, put to work
    with --run CMD, and removed unless --keep. Exit status: 0 when every venv
    is ready (and every trial passed), 1 otherwise.
    """
    if (command or keep) and not trial:
        raise UsageError("--run and --keep go with --trial")
    if not _MINOR.match(python):
        raise UsageError(f"--python {python}: expected a minor version such as 3.13")
    ctx = get_context()
    uv = find_uv(ctx.env)
    if uv is None:
        raise UsageError(
            "preflight asks uv's resolver, and uv is not installed",
            hint="pip install 'venv-doctor[uv]', or put uv on PATH",
        )
    locations = _locations(ctx, targets, all_)
    options = uv_options(read_settings(ctx.env))
    with scratch(ctx.dirs.cache) as work:
        resolver = Resolver(uv, python, options, run, Path(work), ctx.env)
        results = [(x, _one(ctx, resolver, x)) for x in locations]
        trials = _trials(ctx, python, results, command, keep, Path(work)) if trial else {}
    if as_json:
        echo_json(
            envelope(
                python=python,
                venvs=[
                    {
                        "name": x.name,
                        "store": x.store,
                        "path": str(x.path),
                        **r.as_dict(),
                        **({"trial": trials[x.path].as_dict()} if x.path in trials else {}),
                    }
                    for x, r in results
                ],
            )
        )
    else:
        echo_lines(_text(results, trials, terminal_out(ctx)))
    ready = all(r.verdict is Verdict.READY for _, r in results)
    return ExitCode.OK if ready and all(t.ok for t in trials.values()) else ExitCode.PROBLEMS


def _trials(
    ctx: Context,
    python: str,
    results: list[tuple[Location, Preflight]],
    command: str | None,
    keep: bool,
    work: Path,
) -> dict[Path, Trial]:
    from venv_doctor.install.installers import choose_installer
    from venv_doctor.interpreters.inventory import best_for, inventory

    base = best_for(inventory(ctx.config, ctx.env, ctx.dirs.interpreters_cache), python)
    if base is None:
        raise UsageError(
            f"--trial: no Python {python} is installed to try on",
            hint="venv-doctor interpreters lists those found",
        )
    installer = choose_installer(ctx.config, ctx.env)
    out = {}
    for location, result in results:
        if result.verdict in (Verdict.READY, Verdict.NEEDS_UPGRADES):
            spec = TrialSpec(location, base, result.pins, command, keep)
            out[location.path] = run_trial(spec, installer, work, ctx.env, run)
    return out


def _trial_text(t: Trial) -> list[str]:
    verdict = "passed" if t.ok else f"failed at {t.step}"
    where = f" (kept: {printable(str(t.path))})" if t.kept else ""
    lines = [f"    trial {verdict}: {printable(t.message)}{where}"]
    lines += [f"      {printable(x)}" for x in t.output_tail.splitlines()[-5:]]
    return lines


COMMANDS = [preflight_command]
