"""The pyenv hook: `pyenv uninstall` asks venv-doctor before it removes a version.

pyenv sources every ``uninstall/*.bash`` script on its hook path
(``PYENV_HOOK_PATH``, which always includes ``$PYENV_ROOT/pyenv.d``) and runs
the commands they register with ``before_uninstall`` just before ``rm -rf``
of the version's prefix, with ``VERSION_NAME``, ``PREFIX`` and ``FORCE`` set.
A hook command that exits ends the uninstall. Ours comes before
pyenv-virtualenv's (plugins' hook directories are searched after
``$PYENV_ROOT/pyenv.d``), so it sees the envs that hook is about to delete.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import atomic_write, read_bounded
from venv_doctor.paths import pyenv_root

MARKER = "# venv-doctor: pyenv uninstall guard"
HOOK_NAME = "venv-doctor.bash"


def hook_file(env: Mapping[str, str]) -> Path:
    return pyenv_root(env) / "pyenv.d" / "uninstall" / HOOK_NAME


def render(command: Sequence[str]) -> str:
    """The hook script; ``command`` starts venv-doctor (its own interpreter, absolutely)."""
    program = shlex.quote(command[0])
    rest = " ".join(shlex.quote(c) for c in command[1:])
    return f"""{MARKER}
# Installed by `venv-doctor hooks install pyenv`; removed by `venv-doctor hooks uninstall pyenv`.
# Before a version is removed: snapshot every venv built on it, say which will break or
# vanish and how to bring them back, and ask on a terminal. If venv-doctor itself is gone,
# this hook does nothing.
venv_doctor_guard() {{
  if [ -x {program} ]; then
    VENV_DOCTOR_PYENV_FORCE="${{FORCE:-}}" {program} {rest} hooks run pyenv-uninstall \\
      "${{VERSION_NAME}}" "${{PREFIX}}" || exit 1
  fi
}}
before_uninstall venv_doctor_guard
"""


def is_ours(path: Path) -> bool:
    try:
        return read_bounded(path, len(MARKER), truncate=True) == MARKER.encode()
    except OSError:
        return False


def install(env: Mapping[str, str], command: Sequence[str]) -> Path:
    path = hook_file(env)
    if path.exists() and not is_ours(path):
        raise VenvDoctorError(f"{path}: exists and was not written by venv-doctor; left as it is")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, render(command), mode=0o644)
    except OSError as exc:
        raise VenvDoctorError(f"{path}: cannot be written: {exc.strerror or exc}") from exc
    return path


def uninstall(env: Mapping[str, str]) -> Path | None:
    """Remove our hook; None when there was none. Empty directories we made go too."""
    path = hook_file(env)
    if not os.path.lexists(path):
        return None
    if not is_ours(path):
        raise VenvDoctorError(f"{path}: was not written by venv-doctor; left as it is")
    path.unlink()
    for directory in (path.parent, path.parent.parent):
        try:
            directory.rmdir()
        except OSError:
            break  # not empty: someone else's hooks live there
    return path
