"""Reading venvs and diagnosing them, statically or with a probe of each interpreter."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from venv_doctor.diagnose.diagnosis import Memo, diagnose
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.model.links import Walked
from venv_doctor.model.venv import Location, Venv, load


def read_venvs(locations: Sequence[Location]) -> list[Venv]:
    # One thread: the reads hit the page cache and are cheap syscalls, so threads
    # only fight over the GIL (measured: 25% more CPU and slower on 2 cores).
    walked = Walked()  # for this pass only: links may change between checks
    return [load(x, walked) for x in locations]


def _can_start(venv: Venv) -> bool:
    """Worth a probe: a dangling or looping bin/python is already diagnosed statically."""
    main = venv.main_python
    if main is None or not os.path.isdir(venv.path):
        return False
    return not (main.chain.dangling or main.chain.loop)


def diagnose_all(
    venvs: Sequence[Venv], env: Mapping[str, str], deep: bool = False
) -> list[Diagnosis]:
    memo = Memo(env)  # for this pass only
    if not deep:
        return [diagnose(v, env=env, memo=memo) for v in venvs]
    from venv_doctor.diagnose import probe  # starts processes: loaded only for --deep

    runnable = [v for v in venvs if _can_start(v)]
    results = probe.probe_many(
        [(v.path / "bin" / v.main_python.name, v.site_packages) for v in runnable if v.main_python],
        env,
    )
    by_path = {v.path: r for v, r in zip(runnable, results, strict=True)}
    return [diagnose(v, by_path.get(v.path), env=env, memo=memo) for v in venvs]
