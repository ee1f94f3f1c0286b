"""Run the CLI on a pseudo-terminal of a given width, as a person at a terminal sees it."""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Mapping

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours, cursor moves, line erases


def run_in_terminal(
    args: list[str],
    env: Mapping[str, str],
    columns: int = 80,
    stdin_tty: bool = False,
    module: str | None = "venv_doctor",
) -> str:
    """Run ``venv-doctor ARGS`` (``python ARGS`` without ``module``) with stdout and stderr on a pty ``columns`` wide
    (set with TIOCSWINSZ, so the CLI asks the terminal, not COLUMNS); returns what it
    printed there, line ends normalised."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    child_env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, *(["-m", module] if module else []), *args],
        stdin=slave if stdin_tty else subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env={"TERM": "xterm-256color", **child_env},
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("the CLI hung on a terminal")
        try:
            data = os.read(master, 65536)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def plain(text: str) -> str:
    return CONTROL.sub("", text)


def cut_at_a_space(lines: list[str], width: int) -> list[str]:
    """Lines the terminal must split inside a word although a space would have let the
    line wrap: past the edge there is another space, or the word at the edge would fit
    on a line of its own. Only a word too long for any line (a long path) may run past."""
    bad = []
    for line in lines:
        if len(line) <= width:
            continue
        start = line.rfind(" ", 0, width) + 1
        word = line[start:].split(" ")[0]
        if " " in line[width:].rstrip() or (start > 0 and len(word) + 4 <= width):
            bad.append(line)
    return bad
