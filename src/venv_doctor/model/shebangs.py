"""Console scripts in ``bin/``: which interpreter each one starts.

Two forms exist: ``#!/abs/venv/bin/python`` and, for long paths (over ~127
bytes) or paths with spaces, pip/distlib's ``#!/bin/sh`` trampoline whose
second line is ``'''exec' "/abs/venv/bin/python" "$0" "$@"``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.fsutil import read_bounded

HEAD_BYTES = 8192  # a trampoline line holds a path of up to PATH_MAX (4096) bytes
_TRAMPOLINE = re.compile(rb"""^'''exec'\s+(.+?)\s+"\$0"\s+"\$@"\s*$""", re.MULTILINE)


@dataclass(frozen=True)
class Shebang:
    script: Path
    interpreter: str
    form: str  # "shebang" or "trampoline"


_FIRST = re.compile(r"[ \t\r\n]*([^ \t\r\n]*)")


def _first_word(command: str) -> str:
    # shlex is slow; without quotes or backslashes it only splits on " \t\r\n"
    if not any(c in command for c in "'\"\\"):
        match = _FIRST.match(command)
        return match.group(1) if match else ""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return words[0] if words else ""


def _name(path: str) -> str:
    """``Path(path).name`` without making a Path (this runs for every script)."""
    return path.rstrip("/").rpartition("/")[2]


def parse(script: Path, head: bytes) -> Shebang | None:
    """The Python interpreter ``head`` (the first bytes of a script) starts, if any."""
    if not head.startswith(b"#!"):
        return None
    first, _, rest = head.partition(b"\n")
    command = first[2:].strip().decode("utf-8", "surrogateescape")
    if command in ("/bin/sh", "/bin/bash", "/usr/bin/env sh"):
        match = _TRAMPOLINE.search(rest)
        if not match:
            return None
        word = _first_word(match.group(1).decode("utf-8", "surrogateescape"))
        return Shebang(script, word, "trampoline") if "python" in _name(word) else None
    word = _first_word(command)
    if not word.startswith("/") or "python" not in _name(word):
        return None  # `/usr/bin/env python3` and non-Python scripts are not ours to judge
    return Shebang(script, word, "shebang")


def read(script: Path) -> Shebang | None:
    try:
        head = read_bounded(script, HEAD_BYTES, truncate=True)
    except OSError:
        return None
    return parse(script, head)
