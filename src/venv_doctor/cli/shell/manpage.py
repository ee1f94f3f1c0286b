"""The manual page, generated from the click commands themselves.

``python -m venv_doctor.cli.shell.manpage > src/venv_doctor/man/venv-doctor.1`` writes it;
tests/test_manpage.py fails when the committed page no longer matches the commands.
The wheel installs it as ``share/man/man1/venv-doctor.1`` (pyproject's shared-data),
where ``man`` finds it for a venv's ``bin`` on PATH and pipx links it into
``~/.local/share/man``.

A small generator rather than click-man: click-man is a setuptools command with
little maintenance, and the page needs sections click does not know (exit status,
environment, files).
"""

from __future__ import annotations

import re

import click

from venv_doctor import __version__

ENVIRONMENT = (
    ("NO_COLOR", "When set to a non-empty value, no colour (no-color.org)."),
    ("FORCE_COLOR", "When set to a non-empty value, colour even into a pipe (force-color.org)."),
    ("VENV_DOCTOR_COLOR", "The default of --color: auto, always or never."),
    (
        "VENV_DOCTOR_CONFIG_DIR, VENV_DOCTOR_STATE_DIR, VENV_DOCTOR_CACHE_DIR",
        "Where config.toml, the state database and the cache live (default: the XDG directories).",
    ),
    (
        "WORKON_HOME, PIPX_HOME, PYENV_ROOT, POETRY_VIRTUALENVS_PATH, HATCH_DATA_DIR, UV_TOOL_DIR",
        "Where the stores of those tools are; see `venv-doctor paths`.",
    ),
)
EXIT_STATUS = (
    ("0", "Success; nothing is broken (degraded venvs are warnings)."),
    ("1", "A venv is broken or unknown, a repair failed, or a TARGET was not found."),
    ("2", "Usage or configuration error."),
    ("70", "Internal error; the message names a debug log."),
    ("130", "Interrupted."),
)


def escape(text: str) -> str:
    """Text safe in roff: backslashes, hyphens (so they copy as ASCII), leading dots."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def _paragraphs(help_text: str) -> list[str]:
    """click's help: paragraphs split at blank lines; ``\\b`` keeps a block's lines."""
    out = []
    for block in re.split(r"\n\s*\n", help_text.strip()):
        lines = [line.strip() for line in block.splitlines()]
        if lines and lines[0] == "\b":
            out.append("\n.br\n".join(escape(line) for line in lines[1:]))
        else:
            out.append(escape(" ".join(lines)))
    return out


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    lines = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue  # arguments are in the usage line and the help text
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        lines += [".TP", f"\\fB{escape(names)}\\fR", escape(help_text)]
    return lines


def _command(name: str, command: click.Command, parent: click.Context) -> list[str]:
    ctx = click.Context(command, info_name=name, parent=parent, **command.context_settings)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [
        ".SS " + escape(f"venv-doctor {name}"),
        f"\\fBvenv\\-doctor {escape(name)}\\fR {escape(usage)}",
        ".PP",
    ]
    for paragraph in _paragraphs(command.help or ""):
        lines += [paragraph, ".PP"]
    return lines + _options(command, ctx)


def _leaves(
    group: click.Group, ctx: click.Context, prefix: str = ""
) -> list[tuple[str, click.Command]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += _leaves(command, ctx, f"{prefix}{name} ")
        elif command is not None:
            found.append((prefix + name, command))
    return found


def render(group: click.Command, date: str = "") -> str:
    if not isinstance(group, click.Group):
        raise TypeError("the manual page is made from the venv-doctor command group")
    ctx = click.Context(group, info_name="venv-doctor", **group.context_settings)
    paragraphs = _paragraphs(group.help or "")
    lines = [
        f'.TH VENV\\-DOCTOR 1 "{date}" "venv\\-doctor {__version__}" "User Commands"',
        ".SH NAME",
        "venv\\-doctor \\- " + paragraphs[0],
        ".SH SYNOPSIS",
        "\\fBvenv\\-doctor\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
    ]
    for paragraph in paragraphs[1:]:
        lines += [paragraph, ".PP"]
    lines += [".SH OPTIONS", *_options(group, ctx), ".SH COMMANDS"]
    for name, command in _leaves(group, ctx):
        lines += _command(name, command, ctx)
    lines.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f"\\fB{code}\\fR", escape(meaning)]
    lines.append(".SH ENVIRONMENT")
    for variable, meaning in ENVIRONMENT:
        lines += [".TP", f"\\fB{escape(variable)}\\fR", escape(meaning)]
    lines += [
        ".SH SEE ALSO",
        "The README (https://pypi.org/project/venv\\-doctor/) documents every finding code, "
        "the JSON output and the service.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from venv_doctor.cli.app import cli

    print(render(cli), end="")  # noqa: T201 - the page goes to stdout


if __name__ == "__main__":
    main()
