"""Finding the outside tools venv-doctor drives: uv and virtualenv.

uv is looked for on ``PATH`` first, then in venv-doctor's own environment
(the ``venv-doctor[uv]`` extra ships the binary into its ``bin/``, looked at
first; importing the ``uv`` package to ask costs a repair ~5 ms of imports). Whichever is used, it is
always pointed at its target with ``--python``: ``python -m uv`` run from
venv-doctor's own venv would otherwise act on that venv.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path


def find_uv(env: Mapping[str, str]) -> Path | None:
    on_path = shutil.which("uv", path=env.get("PATH", ""))
    if on_path:
        return Path(on_path)
    beside = os.path.join(sys.prefix, "bin", "uv")  # where the extra's wheel put it
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return Path(beside)
    if importlib.util.find_spec("uv") is None:
        return None
    import uv  # the venv-doctor[uv] extra

    try:
        return Path(uv.find_uv_bin())
    except FileNotFoundError:
        return None


def virtualenv_command(env: Mapping[str, str], prefer_path: bool = False) -> list[str] | None:
    """How to run virtualenv: importable beside venv-doctor, else from ``PATH``.

    ``prefer_path`` looks on ``PATH`` first: an older virtualenv installed
    there may support targets (Python 2) that a newer one dropped.
    """
    on_path = shutil.which("virtualenv", path=env.get("PATH", ""))
    if prefer_path and on_path:
        return [on_path]
    if importlib.util.find_spec("virtualenv") is not None:
        return [sys.executable, "-m", "virtualenv"]
    return [on_path] if on_path else None
