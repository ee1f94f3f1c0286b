"""Fault injection: SIGKILL real repairs at instants spread over the whole run.

For a rebuild with uv, a rebuild with pip and a relink, a few kill instants
are spread evenly from the start of ``venv-doctor repair`` to just past its
end (not only between journal steps: inside ``python -m venv``, ensurepip,
the installer, the verification). After each kill, ``venv-doctor check``
runs, and the venv must be byte-identical to before or rebuilt healthy with
every package and user file; no process of the killed run may be alive and
no temp directory left. ``bench/bench_faults.py`` runs the same loop 100
times per case for the README's figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults import CASES, LOST, Case, instants

KILLS = int(os.environ.get("VENV_DOCTOR_FAULT_KILLS", "10"))  # per case


@pytest.mark.parametrize("kind", CASES)
def test_sigkill_at_any_instant_loses_nothing_and_leaks_nothing(
    kind: str, tmp_path: Path, wheelhouse: Path
) -> None:
    case = Case(tmp_path, kind, wheelhouse)
    duration = case.duration()
    verdicts = [(at, case.trial(at)) for at in instants(duration, KILLS)]
    bad = [
        f"killed at {at:.2f}s of {duration:.2f}s: {v}"
        for at, v in verdicts
        if v.outcome == LOST or v.orphans or v.temp_left
    ]
    assert bad == []
    assert {v.outcome for _, v in verdicts} <= {"rolled back intact", "committed healthy"}
