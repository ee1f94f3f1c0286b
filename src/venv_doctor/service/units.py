"""The service files: the packaged templates and how their placeholders are filled.

systemd units are text: each ``@NAME@`` is replaced in one pass by its value,
escaped for where it stands (a word of an Exec line, the inside of a quoted
``Environment=`` string), so a path with a space, ``%`` or ``$`` reaches the
daemon unchanged. The LaunchAgent is parsed and rebuilt with plistlib, so the
result is always a valid property list. A placeholder without a value is a bug
(a template and this module disagree) and raises TemplateError.
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from venv_doctor.errors import VenvDoctorError
from venv_doctor.paths import AppDirs

DAEMON_UNIT = "venv-doctor.service"
SCAN_UNIT = "venv-doctor-scan.service"
SCAN_TIMER = "venv-doctor-scan.timer"
AGENT_LABEL = "io.github.venv-doctor.daemon"
AGENT_PLIST = f"{AGENT_LABEL}.plist"
AGENT_STDOUT = "daemon.out.log"
AGENT_STDERR = "daemon.err.log"
TEMPLATES = (DAEMON_UNIT, SCAN_UNIT, SCAN_TIMER, AGENT_PLIST)

PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
_ENVIRONMENT_LINE = re.compile(r"^@ENVIRONMENT@\n", re.MULTILINE)
_SAFE_WORD = re.compile(r"^[A-Za-z0-9_@+=:,./-]+$")


class TemplateError(RuntimeError):
    """A template names a placeholder venv-doctor has no value for (a bug)."""


@dataclass(frozen=True)
class UnitValues:
    """Everything a template needs; paths are absolute."""

    command: tuple[str, ...]  # starts venv-doctor: (script,) or (python, "-m", "venv_doctor")
    dirs: AppDirs
    path: str  # PATH for the service
    dbus: str  # the session bus address
    agent_log_dir: Path  # macOS: where launchd writes the daemon's output
    repair_args: tuple[str, ...]  # the timer's `repair --all` arguments, from [repair] auto
    environment: tuple[tuple[str, str], ...] = ()  # store locations passed through

    def scalars(self) -> dict[str, str]:
        """The single-string placeholders, unescaped."""
        return {
            "PATH": self.path,
            "DBUS": self.dbus,
            "CONFIG_DIR": str(self.dirs.config),
            "STATE_DIR": str(self.dirs.state),
            "CACHE_DIR": str(self.dirs.cache),
            "LOG_DIR": str(self.dirs.log),
            "AGENT_LOG_DIR": str(self.agent_log_dir),
        }


def template_bytes(name: str) -> bytes:
    """A packaged template (``venv_doctor/service/templates/<name>``)."""
    return resources.files("venv_doctor.service").joinpath("templates", name).read_bytes()


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(name: str, values: UnitValues) -> bytes:
    """The file ``name`` (one of TEMPLATES) filled with ``values``."""
    data = template_bytes(name)
    if name.endswith(".plist"):
        return render_plist(data, values)
    return render_systemd(data.decode("utf-8"), values).encode("utf-8")


# --- systemd -------------------------------------------------------------------------


def _no_line_breaks(value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise VenvDoctorError(
            f"{value!r} contains a line break or NUL; a service file cannot hold it",
            hint="install venv-doctor and its directories at paths without one",
        )
    return value


def systemd_word(value: str, program: bool = False) -> str:
    """One word of an Exec line, specifiers (%) and variables ($) kept literal.

    systemd expands ``$VAR`` in the arguments but not in the program's path.
    """
    text = _no_line_breaks(value).replace("%", "%%")
    if not program:
        text = text.replace("$", "$$")
    if _SAFE_WORD.match(value):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_env_value(value: str) -> str:
    """The inside of ``Environment="NAME=value"``: C escapes and specifiers kept literal."""
    text = _no_line_breaks(value).replace("\\", "\\\\").replace('"', '\\"')
    return text.replace("%", "%%")


def systemd_environment(pairs: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'Environment="{name}={systemd_env_value(value)}"\n' for name, value in pairs)


def _substitute(text: str, fields: Mapping[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fields:
            raise TemplateError(f"the service template has no value for @{name}@")
        return fields[name]

    return PLACEHOLDER.sub(fill, text)  # one pass: values are never scanned again


def render_systemd(text: str, values: UnitValues) -> str:
    fields = {name: systemd_env_value(v) for name, v in values.scalars().items()}
    program, *args = values.command
    fields["VENV_DOCTOR"] = " ".join(
        [systemd_word(program, program=True)] + [systemd_word(a) for a in args]
    )
    fields["REPAIR_ARGS"] = " ".join(systemd_word(w) for w in values.repair_args)
    # The environment block is whole lines, inserted where its own line stands.
    block = systemd_environment(values.environment)
    parts = _ENVIRONMENT_LINE.split(text)
    return block.join(_substitute(part, fields) for part in parts)


# --- launchd -------------------------------------------------------------------------


def render_plist(data: bytes, values: UnitValues) -> bytes:
    """Fill the LaunchAgent template structurally and serialise it with plistlib."""
    scalars = values.scalars()
    tree = plistlib.loads(data)
    filled = _fill(tree, lambda text: _substitute(text, scalars), values)
    return plistlib.dumps(filled, fmt=plistlib.FMT_XML, sort_keys=False)


def _fill(node: Any, text: Callable[[str], str], values: UnitValues) -> Any:
    if isinstance(node, str):
        return text(node)
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            if item == "@VENV_DOCTOR@":
                out.extend(values.command)
            else:
                out.append(_fill(item, text, values))
        return out
    if isinstance(node, dict):
        filled: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@ENVIRONMENT@":
                filled.update(values.environment)
            else:
                filled[text(key)] = _fill(value, text, values)
        return filled
    return node
