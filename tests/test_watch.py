from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import FakeHomebrew, make_venv, real_python
from venv_doctor.daemon.watch import affected, nearest_existing, plan
from venv_doctor.model import venv as venv_model
from venv_doctor.model.venv import Location


def _load(path: Path) -> venv_model.Venv:
    return venv_model.load(Location(path.name, path, "test"))


def test_homebrew_venv_watches_opt_and_the_keg_parent(
    homebrew: FakeHomebrew, tmp_path: Path
) -> None:
    homebrew.install("3.12", "3.12.1")
    venv = make_venv(homebrew.opt_python("3.12"), tmp_path / "store" / "a")
    specs = plan([_load(venv)], [tmp_path / "store"])
    paths = {s.path for s in specs}
    assert homebrew.prefix / "opt" in paths  # `brew upgrade` repoints opt/python@3.12
    assert homebrew.prefix / "Cellar" / "python@3.12" in paths  # ...and swaps kegs here
    assert tmp_path / "store" in paths
    assert all(s.path.is_dir() for s in specs)


def test_watch_set_stays_small_for_100_venvs_over_3_interpreters(tmp_path: Path) -> None:
    venvs = []
    for minor in ("3.11", "3.12", "3.13"):
        template = make_venv(real_python(minor), tmp_path / "templates" / minor)
        for i in range(34 if minor != "3.13" else 32):
            clone = tmp_path / "store" / f"{minor}-{i}"
            shutil.copytree(template, clone, symlinks=True)
            venvs.append(_load(clone))
    assert len(venvs) == 100
    specs = plan(venvs, [tmp_path / "store"])
    interpreter = [s for s in specs if "interpreter" in s.kinds]
    site = [s for s in specs if "site-packages" in s.kinds]
    assert len(site) == 100  # one per venv, for snapshot refresh
    assert len(interpreter) <= 12  # bin dir, home and versions/ per interpreter, deduplicated
    assert len(specs) <= 100 + 12 + 1


def test_missing_store_is_watched_through_its_nearest_ancestor(tmp_path: Path) -> None:
    specs = plan([], [tmp_path / "nope" / "deeper"])
    assert [(s.path, s.pending) for s in specs] == [(tmp_path, True)]
    assert nearest_existing(tmp_path / "nope" / "deeper") == tmp_path


def test_affected_maps_changes_to_venvs_and_asks_for_replan(tmp_path: Path) -> None:
    store = tmp_path / "store"
    venv = make_venv(real_python("3.12"), store / "a")
    specs = plan([_load(venv)], [store])
    bin_dir = real_python("3.12").resolve().parent
    venvs, replan = affected(specs, [bin_dir / "python3.12"])
    assert venvs == {venv} and not replan
    _, replan = affected(specs, [store / "new-venv"])
    assert replan
