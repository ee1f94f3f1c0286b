"""Runs one rebuild in a child process so a test can SIGKILL it at a journal step."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support import make_venv, pip_install
from venv_doctor.record import state
from venv_doctor.repair.rebuild import Pause, RebuildSteps, rebuild
from venv_doctor.repair.transaction.journal import Journal


def main() -> None:
    venv, backups, db, python, wheelhouse = (Path(a) for a in sys.argv[1:6])
    dest = Path(sys.argv[6]) if len(sys.argv) > 6 else None  # a rebuild under a new name

    def create(venv: Path) -> None:
        make_venv(python, venv)

    steps = RebuildSteps(
        create=create,
        install=lambda p: pip_install(p, wheelhouse, "tinytop==3.0.0"),
        verify=lambda p: None,
        pause=Pause.from_env(os.environ),
    )
    rebuild(venv, backups, Journal(state.open_at(db)), steps, dest=dest)


if __name__ == "__main__":
    main()
