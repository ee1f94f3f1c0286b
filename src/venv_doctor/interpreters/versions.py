"""What a path to a Python interpreter tells about its version, without running it.

All that diagnosis needs about interpreters lives here: reading names and
directories, never starting a process, so a static ``check`` stays fast.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.fsutil import SMALL_FILE, read_bounded
from venv_doctor.model.venv import lib_dir_minor

VERSIONED_NAME = re.compile(r"^python(\d+)\.(\d+)[a-z]*$")
PATCH = re.compile(r"(?<![\d.])(\d+)\.(\d+)\.(\d+)(?![\d.]*\d)")
EXACT = re.compile(r"^(\d+)\.(\d+)\.(\d+)")
_PY_VERSION = re.compile(rb'#define\s+PY_VERSION\s+"(\d+\.\d+\.\d+)')


@dataclass(frozen=True)
class PathVersion:
    minor: str | None  # "3.12", from the binary's name or its prefix's lib/pythonX.Y
    full: str | None  # "3.12.1", when a path component names the patch release


def lib_minors(prefix: Path) -> list[str]:
    """Minor versions whose standard library lives under ``prefix/lib``."""
    try:
        names = os.listdir(prefix / "lib")
    except OSError:
        return []
    found = []
    for name in names:
        minor = lib_dir_minor(name)
        if minor and os.path.exists(prefix / "lib" / name / "os.py"):
            found.append(minor)
    return sorted(found)


def version_from_path(real: Path) -> PathVersion:
    """Read the version from a resolved interpreter file's name and location.

    ``python3.12`` names its minor; a bare ``python3`` is placed by the
    standard library beside it (``../lib/python3.12/os.py``). The patch level
    comes from a directory such as ``Cellar/python@3.12/3.12.1`` or
    ``versions/3.12.1`` when one is on the path.
    """
    minor = None
    match = VERSIONED_NAME.match(real.name)
    if match:
        minor = f"{match.group(1)}.{match.group(2)}"
    else:
        minors = lib_minors(real.parent.parent)
        if len(minors) == 1:
            minor = minors[0]
    full = None
    if minor:
        for part in reversed(real.parent.parts):
            for m in PATCH.finditer(part):
                if f"{m.group(1)}.{m.group(2)}" == minor:
                    full = f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
                    break
            if full:
                break
    return PathVersion(minor=minor, full=full)


def patchlevel_version(real: Path, minor: str) -> str | None:
    """PY_VERSION from ``include/pythonX.Y*/patchlevel.h`` beside the stdlib, if both exist."""
    prefix = real.parent.parent
    if minor not in lib_minors(prefix):
        return None
    for name in (f"python{minor}", f"python{minor}m", f"python{minor}d"):
        try:
            head = read_bounded(prefix / "include" / name / "patchlevel.h", SMALL_FILE)
        except OSError:
            continue
        if b"PYPY_VERSION" in head:
            return None
        match = _PY_VERSION.search(head)
        if match and match.group(1).decode().startswith(minor + "."):
            return match.group(1).decode()
    return None
