"""The click command tree: every command, ``--help``, completion and usage errors.

``cli.run`` hands it every command line the front door (``cli.front``) does not
take. ``outcome`` maps whatever a command raised to a documented exit code and
never shows a bare traceback: internal errors go to a debug log.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

import click

from venv_doctor import __version__
from venv_doctor.cli.base import (
    color_option,
    get_context,
    quiet_option,
    settings,
    verbose_option,
)
from venv_doctor.cli.recovery import recover_interrupted
from venv_doctor.errors import ExitCode, VenvDoctorError
from venv_doctor.paths import app_dirs
from venv_doctor.render.sanitize import printable_lines, redact

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """Imports a command's module only when that command is asked for.

    ``venv-doctor check`` runs on login hooks: it imports ``cli/check.py`` alone
    (``COMMAND_MODULES`` says where each command is); any other name, ``--help``
    and completion register every module first.
    """

    registered = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and not self.registered:
            self._load(cmd_name)
            if cmd_name not in self.commands:
                self.register_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.register_all()
        return super().list_commands(ctx)

    def register_all(self) -> None:
        if not self.registered:
            self.registered = True
            for module in dict.fromkeys(COMMAND_MODULES.values()):
                for command in import_module(f"venv_doctor.cli.{module}").COMMANDS:
                    self.add_command(command)

    def _load(self, name: str) -> None:
        module = COMMAND_MODULES.get(name)
        if module is None:
            return
        for command in import_module(f"venv_doctor.cli.{module}").COMMANDS:
            if command.name == name:
                self.add_command(command)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(
    __version__, "-V", "--version", prog_name="venv-doctor", help="Show the version and exit."
)
@quiet_option
@verbose_option
@color_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Find, diagnose, record and repair every Python virtual environment.

    venv-doctor looks in every store (multivenv, virtualenvwrapper, pipx,
    pyenv-virtualenv, poetry, hatch, uv tools, pdm, your extra directories and
    tracked project venvs) and tells which venvs are healthy, degraded or
    broken, and why.

    \b
    Exit codes: 0 ok (degraded venvs are warnings), 1 a venv is broken or
    unknown or a repair failed, 2 usage or configuration error,
    130 interrupted, 70 internal error (see the debug log it names).

    -q and -v work before or after the command's name; every command takes --json.
    """
    if not ctx.resilient_parsing:
        recover_interrupted(get_context)


# Where each command is: one module per command group, each exposing COMMANDS (in
# the order `--help` lists the groups).
COMMAND_MODULES = {
    "check": "check",
    "list": "check",
    "paths": "check",
    "track": "track",
    "untrack": "track",
    "forget": "track",
    "requirements": "requirements",
    "history": "requirements",
    "notify": "background.notify",
    "service": "background.service",
    "interpreters": "interpreters",
    "hooks": "guard",
    "preflight": "preflight",
    "repair": "repair",
    "restore": "backups",
    "gc": "backups",
    "daemon": "background.daemon",
    "status": "background.daemon",
}


def _write_debug_log(exc: BaseException) -> str:
    import traceback
    from datetime import UTC, datetime

    try:
        log_dir = app_dirs(os.environ).log
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "debug.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(
                redact(
                    f"--- {datetime.now(UTC).isoformat()} venv-doctor {__version__} "
                    f"argv={sys.argv!r}\n" + "".join(traceback.format_exception(exc))
                )
            )
        return str(path)
    except OSError:
        return "(the debug log could not be written)"


def _asked_for_json(args: list[str]) -> bool:
    """--json was given: parsed already, or still on a command line that failed to parse."""
    if settings().json:
        return True
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def _fail(message: str, hint: str | None, code: int, as_json: bool = False) -> int:
    """The message on stderr; with --json, also the one document stdout owes a script."""
    message, hint = redact(message), redact(hint) if hint else hint  # a command line's password
    click.echo(printable_lines(f"venv-doctor: error: {message}"), err=True)
    if hint:
        click.echo(printable_lines(f"hint: {hint}"), err=True)
    if as_json:
        from venv_doctor.render.documents import error_json

        click.echo(error_json(message, hint, int(code)))
    return code


def run(argv: list[str]) -> int:
    """Run the command line through click and return its exit code."""
    try:
        result = cli.main(args=argv, prog_name="venv-doctor", standalone_mode=False)
    except (Exception, KeyboardInterrupt) as exc:
        return outcome(exc, argv)
    return int(result or 0)


def outcome(exc: Exception | KeyboardInterrupt, argv: list[str]) -> int:
    """The exit code for what a command raised, after saying so on stderr (and, with
    --json, in the one document stdout owes a script)."""
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.ClickException):
        code = ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code
        exc.show()
        if _asked_for_json(argv):
            from venv_doctor.render.documents import error_json

            click.echo(error_json(exc.format_message(), None, int(code)))
        return code
    if isinstance(exc, (click.Abort, KeyboardInterrupt)):
        click.echo("venv-doctor: interrupted", err=True)
        if _asked_for_json(argv):
            from venv_doctor.render.documents import error_json

            click.echo(error_json("interrupted", None, ExitCode.INTERRUPTED))
        return ExitCode.INTERRUPTED
    if isinstance(exc, VenvDoctorError):
        return _fail(exc.message, exc.hint, exc.exit_code, _asked_for_json(argv))
    log = _write_debug_log(exc)
    return _fail(
        f"internal error: {type(exc).__name__}: {exc}",
        f"details in {log}",
        ExitCode.INTERNAL,
        _asked_for_json(argv),
    )


__all__ = ["COMMAND_MODULES", "cli", "get_context", "outcome", "run"]
