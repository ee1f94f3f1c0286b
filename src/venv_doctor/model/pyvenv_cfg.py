"""``pyvenv.cfg`` as written by CPython venv (3.8-3.13), virtualenv 20+ and uv.

The parser keeps every line, so a rewrite (relink) changes only the keys it is
asked to and leaves unknown keys, order and formatting alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from venv_doctor.fsutil import SMALL_FILE, read_bounded

_KEY_VALUE = re.compile(r"^\s*([^=\s][^=]*?)\s*=\s*(.*?)\s*$")
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class PyvenvCfg:
    lines: tuple[str, ...]
    values: dict[str, str]
    garbage: tuple[int, ...]  # 1-based numbers of lines that are not ``key = value``
    # the Python version recorded at creation, as ``X.Y`` or ``X.Y.Z``, and its X.Y:
    # read from ``values`` once (diagnosis and recording ask many times per venv)
    version: str | None = field(init=False)
    minor: str | None = field(init=False)

    def __post_init__(self) -> None:
        version = _version_of(self.values)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "minor", minor_of(version))

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    @property
    def home(self) -> str | None:
        return self.values.get("home")

    @property
    def creator(self) -> str:
        if "uv" in self.values:
            return "uv"
        if "virtualenv" in self.values:
            return "virtualenv"
        return "venv"

    @property
    def include_system_site_packages(self) -> bool:
        return self.values.get("include-system-site-packages", "false").lower() == "true"

    @property
    def prompt(self) -> str | None:
        raw = self.values.get("prompt")
        if raw is None:
            return None
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            return raw[1:-1]  # CPython writes a repr; uv writes it bare
        return raw

    def with_values(self, updates: dict[str, str]) -> str:
        """The file's text with ``updates`` applied in place (new keys appended)."""
        pending = dict(updates)
        out = []
        for line in self.lines:
            match = _KEY_VALUE.match(line)
            if match and match.group(1) in pending:
                key = match.group(1)
                out.append(line[: match.start(2)] + pending.pop(key))
            else:
                out.append(line)
        out.extend(f"{key} = {value}" for key, value in pending.items())
        return "\n".join(out) + "\n"


def _version_of(values: dict[str, str]) -> str | None:
    for key in ("version", "version_info"):
        match = _VERSION.match(values.get(key, ""))
        if match:
            return ".".join(g for g in match.groups() if g is not None)
    return None


def minor_of(version: str | None) -> str | None:
    if not version:
        return None
    match = _VERSION.match(version)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def parse(text: str) -> PyvenvCfg:
    lines = tuple(text.splitlines())
    values: dict[str, str] = {}
    garbage = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        # what _KEY_VALUE matches, without a regex per line: a key (no "=", not empty
        # once stripped) up to the first "=", then the stripped value
        key, sep, value = stripped.partition("=")
        key = key.rstrip()
        if sep and key:
            values.setdefault(key.lower(), value.lstrip())
        else:
            garbage.append(number)
    return PyvenvCfg(lines=lines, values=values, garbage=tuple(garbage))


class NotTextError(ValueError):
    """The file holds binary data, not ``key = value`` text."""


def read(path: Path | str) -> PyvenvCfg:
    """Parse the file; raises OSError (also: not a regular file, over 1 MiB) or
    ValueError (not UTF-8, binary) for the caller."""
    data = read_bounded(path, SMALL_FILE)
    if b"\0" in data:
        raise NotTextError(f"{path} holds binary data, not text")
    return parse(data.decode("utf-8"))
