"""Keeping the owning tool's records true after a relink or rebuild.

pipx and uv record the interpreter a tool venv was made with. After venv-doctor
moves the venv onto another interpreter, ``pipx list`` would still say
"installed using Python 3.12.1", ``pipx list --json`` would export a spec
``pipx install-all`` cannot honour, and ``uv tool upgrade`` would ask for a
Python that is gone. Only the python is rewritten; every other field is kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from venv_doctor.discover.owners import PIPX_METADATA, UV_RECEIPT, read_pipx_metadata
from venv_doctor.fsutil import atomic_write

_TOOL_TABLE = re.compile(r"^\[tool\]\s*$")
_TABLE = re.compile(r"^\[")
_PYTHON_KEY = re.compile(r"^python\s*=")


def update(venv: Path, interpreter: Path, version: str) -> tuple[str, ...]:
    """Point the owner's records at ``interpreter`` (Python ``version``); what changed."""
    notes = []
    if (venv / PIPX_METADATA).is_file() and _pipx(venv, interpreter, version):
        notes.append(f"{venv / PIPX_METADATA} now names Python {version} at {interpreter}")
    if (venv / UV_RECEIPT).is_file() and _uv(venv, interpreter):
        notes.append(f"{venv / UV_RECEIPT} now names {interpreter}")
    return tuple(notes)


def _pipx(venv: Path, interpreter: Path, version: str) -> bool:
    data = read_pipx_metadata(venv)
    if data is None:
        return False
    data["python_version"] = f"Python {version}"
    if isinstance(data.get("source_interpreter"), dict) or "source_interpreter" in data:
        data["source_interpreter"] = {"__Path__": str(interpreter), "__type__": "Path"}
    # pipx writes its metadata sorted, indented by four
    atomic_write(venv / PIPX_METADATA, json.dumps(data, indent=4, sort_keys=True))
    return True


def _uv(venv: Path, interpreter: Path) -> bool:
    """Rewrite ``python = ...`` in the receipt's ``[tool]`` table, line by line, so every
    other line (and uv's own formatting) stays; a receipt without one is left alone."""
    path = venv / UV_RECEIPT
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    in_tool = False
    for number, line in enumerate(lines):
        if _TABLE.match(line):
            in_tool = bool(_TOOL_TABLE.match(line))
        elif in_tool and _PYTHON_KEY.match(line):
            lines[number] = f"python = {json.dumps(str(interpreter))}\n"
            atomic_write(path, "".join(lines))
            return True
    return False
