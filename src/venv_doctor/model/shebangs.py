"""Console scripts in ``bin/``: which interpreter each one starts.

Two forms exist: ``#!/abs/venv/bin/python`` and, for long paths (over ~127
bytes) or paths with spaces, pip/distlib's ``#!/bin/sh`` trampoline whose
second line is ``'''exec' "/abs/venv/bin/python" "$0" "$@"``.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from venv_doctor.fsutil import read_bounded

HEAD_BYTES = 8192  # a trampoline line holds a path of up to PATH_MAX (4096) bytes
_TRAMPOLINE = re.compile(rb"""^'''exec'\s+(.+?)\s+"\$0"\s+"\$@"\s*$""", re.MULTILINE)


class Shebang:
    """A console script and the interpreter it starts. The script's path is held as
    text (a check reads thousands of scripts); ``script`` makes the Path when asked."""

    __slots__ = ("form", "interpreter", "path")

    def __init__(self, script: Path | str, interpreter: str, form: str) -> None:
        self.path = os.fspath(script)
        self.interpreter = interpreter
        self.form = form  # "shebang" or "trampoline"

    @property
    def script(self) -> Path:
        return Path(self.path)

    @property
    def name(self) -> str:
        return _name(self.path)

    def _key(self) -> tuple[str, str, str]:
        return self.path, self.interpreter, self.form

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shebang) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Shebang(script={self.script!r}, interpreter={self.interpreter!r}, form={self.form!r})"
        )


_FIRST = re.compile(r"[ \t\r\n]*([^ \t\r\n]*)")
_QUOTING = re.compile(r"['\"\\]")  # what makes shlex do more than split on whitespace


def _first_word(command: str) -> str:
    # shlex is slow; one double-quoted word with no quote or backslash inside (a
    # trampoline's path) is its contents to shlex
    if len(command) >= 2 and command[0] == command[-1] == '"':
        inner = command[1:-1]
        if '"' not in inner and "\\" not in inner:
            return inner
    # without quotes or backslashes it only splits on " \t\r\n"
    if not _QUOTING.search(command):
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


def parse(script: Path | str, head: bytes) -> Shebang | None:
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
