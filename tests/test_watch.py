from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import FakeHomebrew, make_venv, real_python
from venv_doctor.daemon.watching.watch import (
    WatchSpec,
    affected,
    covered,
    forbidden,
    nearest_existing,
    plan,
    relevant,
)
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


def test_the_watch_set_never_holds_home_root_children_or_its_own_dirs(
    isolated_home: Path, tmp_path: Path
) -> None:
    """An interpreter in ~/.local/bin once put $HOME itself in the watch set."""
    local_bin = isolated_home / ".local" / "bin"
    local_bin.mkdir(parents=True)
    (local_bin / "python3.12").symlink_to(real_python("3.12"))
    venv = make_venv(local_bin / "python3.12", isolated_home / ".virtualenvs" / "a")
    own = [isolated_home / ".local" / "state" / "venv-doctor", tmp_path / "vd" / "log"]
    never = forbidden(isolated_home, own)
    paths = {s.path for s in plan([_load(venv)], [isolated_home / ".virtualenvs"], never)}
    assert local_bin in paths
    assert isolated_home not in paths
    assert isolated_home / ".local" not in paths  # it holds venv-doctor's state directory
    assert not any(len(p.parts) <= 2 for p in paths)
    assert all(never(p) for p in (Path("/"), Path("/home"), Path("/opt"), tmp_path / "vd"))
    assert not never(Path("/usr/bin"))


def test_only_entries_that_can_matter_count(tmp_path: Path) -> None:
    bin_dir, store, site = tmp_path / "bin", tmp_path / "store", tmp_path / "site"
    for d in (bin_dir, store, site):
        d.mkdir()
    specs = [
        WatchSpec(bin_dir, frozenset({"interpreter"}), frozenset()),
        WatchSpec(store, frozenset({"store"}), frozenset()),
        WatchSpec(site, frozenset({"site-packages"}), frozenset()),
    ]
    by_path = {s.path: s for s in specs}
    (bin_dir / "daemon.log").write_text("x")
    assert not relevant(by_path, bin_dir / "daemon.log", is_dir=False)
    assert not relevant(by_path, store / "postactivate", is_dir=False)
    assert relevant(by_path, bin_dir / "python3.13", is_dir=False)
    assert relevant(by_path, bin_dir / "libpython3.12.so.1.0", is_dir=False)
    assert relevant(by_path, store / "new-venv", is_dir=True)
    assert relevant(by_path, site / "requests-2.32.0.dist-info", is_dir=False)
    assert relevant(by_path, bin_dir, is_dir=True)  # the watched directory itself


def test_a_venv_planned_while_being_made_is_not_covered_once_made(tmp_path: Path) -> None:
    """A store event can come while ``python -m venv`` is still writing: the plan made
    then has no interpreter directories for it, and ``covered`` says so once it is made."""
    store = tmp_path / "store"
    partial = store / "a"
    (partial / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    early = {s.path: s for s in plan([_load(partial)], [store])}
    shutil.rmtree(partial)
    venv = make_venv(real_python("3.12"), partial)
    assert not covered(early, _load(venv), lambda _: False)
    later = {s.path: s for s in plan([_load(venv)], [store])}
    assert covered(later, _load(venv), lambda _: False)
