from __future__ import annotations

import os
from pathlib import Path

from tests.support import (
    FakeHomebrew,
    add_console_script,
    make_venv,
    pip_install,
    real_python,
    run,
    tree_digest,
)
from venv_doctor.diagnose.diagnosis import diagnose
from venv_doctor.diagnose.findings import Status
from venv_doctor.model import pyvenv_cfg
from venv_doctor.model import venv as venv_model
from venv_doctor.model.venv import Location
from venv_doctor.record import state
from venv_doctor.repair.rebuild import recover
from venv_doctor.repair.relink import RelinkTarget, cfg_updates, relink, verify
from venv_doctor.repair.transaction.journal import Journal, JournalAction, JournalStep


def _load(path: Path) -> venv_model.Venv:
    return venv_model.load(Location(path.name, path, "test"))


def test_relink_after_homebrew_patch_upgrade_goes_through_opt(
    homebrew: FakeHomebrew, tmp_path: Path, wheelhouse: Path
) -> None:
    cellar_python = homebrew.install("3.12", "3.12.1")
    venv = make_venv(cellar_python, tmp_path / "store" / "app", prompt="my app")
    pip_install(venv, wheelhouse, "tinytop")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    before = diagnose(_load(venv), env=os.environ)
    assert before.status is Status.BROKEN
    assert "interpreter-dangling" in before.codes()

    result = relink(
        _load(venv), RelinkTarget(homebrew.opt_python("3.12"), "3.12.2"), env=os.environ
    )

    assert result.ok, result.error
    assert os.readlink(venv / "bin" / "python3.12") == str(homebrew.opt_python("3.12"))
    cfg = pyvenv_cfg.read(venv / "pyvenv.cfg")
    assert cfg.home == str(homebrew.opt("3.12") / "bin")
    assert cfg.get("version") == "3.12.2"
    assert cfg.prompt == "my app"  # kept, unlike `python -m venv --upgrade`
    after = diagnose(_load(venv), env=os.environ)
    assert after.status is Status.HEALTHY, after.findings
    assert run([venv / "bin" / "tinytop"]).stdout.strip() == "tinytop"


def test_relink_rewrites_only_base_keys_and_keeps_unknown_ones() -> None:
    cfg = pyvenv_cfg.parse(
        "home = /old/bin\nimplementation = CPython\nuv = 0.4.0\nversion_info = 3.12.1\n"
        "include-system-site-packages = true\nprompt = x y\nrelocatable = false\ncustom-key = kept\n"
    )
    updates = cfg_updates(cfg, RelinkTarget(Path("/new/opt/python@3.12/bin/python3.12"), "3.12.3"))
    text = cfg.with_values(updates)
    assert "home = /new/opt/python@3.12/bin\n" in text
    assert "version_info = 3.12.3\n" in text
    assert "custom-key = kept\n" in text and "prompt = x y\n" in text
    assert "include-system-site-packages = true\n" in text
    assert "version =" not in text  # uv does not write `version`; neither do we


def test_dead_shebang_outside_venv_is_pointed_at_the_venv(tmp_path: Path) -> None:
    py = real_python("3.11")
    venv = make_venv(py, tmp_path / "v")
    script = add_console_script(venv, "tool", interpreter="/gone/venv/bin/python", trampoline=True)
    result = relink(_load(venv), RelinkTarget(py, "3.11.7"), env=os.environ)
    assert result.ok, result.error
    assert result.scripts == ("tool",)
    assert f'"{venv / "bin" / "python"}"' in script.read_text()
    assert run([script]).stdout.strip() == "hello from tool"


def test_failed_verification_restores_everything(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.11"), tmp_path / "v")
    cfg_before = (venv / "pyvenv.cfg").read_bytes()
    link_before = os.readlink(venv / "bin" / "python3")
    # a 3.12 interpreter cannot serve a venv whose packages are in lib/python3.11
    result = relink(_load(venv), RelinkTarget(real_python("3.12"), "3.11.9"), env=os.environ)
    assert not result.ok
    assert "3.12" in (result.error or "")
    assert (venv / "pyvenv.cfg").read_bytes() == cfg_before
    assert os.readlink(venv / "bin" / "python3") == link_before


def test_verify_checks_what_the_deep_probe_would(tmp_path: Path) -> None:
    """One start of the interpreter: version, prefix and site-packages (so a relinked
    venv needs no second, deep probe to be called healthy)."""
    venv = make_venv(real_python("3.11"), tmp_path / "v")
    site = _load(venv).site_packages
    assert verify(venv, "3.11", None, site_packages=site, env=os.environ) is None
    assert "3.12" in (verify(venv, "3.12", None, site_packages=site, env=os.environ) or "")
    elsewhere = (tmp_path / "other" / "lib" / "python3.11" / "site-packages",)
    problem = verify(venv, "3.11", None, site_packages=elsewhere, env=os.environ)
    assert problem is not None and "site-packages" in problem


def _journal(tmp_path: Path) -> Journal:
    return Journal(state.open_at(tmp_path / "state.db"))


def test_links_stay_links_through_a_relink_and_a_rolled_back_one(tmp_path: Path) -> None:
    """A pyvenv.cfg or console script that is a link inside the venv keeps being a link:
    its target is changed, and put back byte for byte when the relink does not verify."""
    py = real_python("3.11")
    venv = make_venv(py, tmp_path / "v")
    (venv / "etc").mkdir()
    (venv / "pyvenv.cfg").rename(venv / "etc" / "pyvenv.cfg")
    (venv / "pyvenv.cfg").symlink_to("etc/pyvenv.cfg")
    real_script = add_console_script(venv, "tool", interpreter="/gone/venv/bin/python")
    real_script.rename(venv / "etc" / "tool")
    (venv / "bin" / "tool").symlink_to("../etc/tool")
    before = tree_digest(venv)

    failed = relink(
        _load(venv),
        RelinkTarget(real_python("3.12"), "3.11.9"),
        journal=_journal(tmp_path),
        env=os.environ,
    )
    assert not failed.ok
    assert tree_digest(venv) == before

    done = relink(
        _load(venv), RelinkTarget(py, "3.11.7"), journal=_journal(tmp_path), env=os.environ
    )
    assert done.ok, done.error
    assert os.readlink(venv / "pyvenv.cfg") == "etc/pyvenv.cfg"
    assert "version = 3.11.7" in (venv / "etc" / "pyvenv.cfg").read_text()
    assert os.readlink(venv / "bin" / "tool") == "../etc/tool"
    assert run([venv / "bin" / "tool"]).stdout.strip() == "hello from tool"
    assert not list(venv.rglob("*venv-doctor-tmp*"))
    assert _journal(tmp_path).open_entries() == []


def test_a_pyvenv_cfg_linked_outside_the_venv_is_never_written_through(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.11"), tmp_path / "v")
    shared = tmp_path / "shared.cfg"
    (venv / "pyvenv.cfg").rename(shared)
    (venv / "pyvenv.cfg").symlink_to(shared)
    before, text = tree_digest(venv), shared.read_text()
    result = relink(
        _load(venv),
        RelinkTarget(real_python("3.11"), "3.11.7"),
        journal=_journal(tmp_path),
        env=os.environ,
    )
    assert not result.ok and "outside the venv" in (result.error or "")
    assert tree_digest(venv) == before and shared.read_text() == text


def test_a_relink_killed_between_two_renames_is_undone_by_recovery(tmp_path: Path) -> None:
    from venv_doctor.repair import relink as relink_module

    venv = make_venv(real_python("3.11"), tmp_path / "v")
    add_console_script(venv, "tool", interpreter="/gone/venv/bin/python")
    before = tree_digest(venv)
    loaded, target = _load(venv), RelinkTarget(real_python("3.11"), "3.11.7")
    changes = [
        *relink_module._bin_changes(loaded, target),
        *relink_module._cfg_change(loaded, target)[0],
        *relink_module._script_changes(loaded),
    ]
    assert len(changes) >= 2
    journal = _journal(tmp_path)
    entry_id = journal.begin(venv, venv, JournalAction.RELINK)
    journal.step(entry_id, JournalStep.SWAPPING)
    for change in changes:
        relink_module._prepare(change, entry_id)
    relink_module._swap(changes[0], entry_id)  # ... and here the process was killed

    [done] = recover(_journal(tmp_path))

    assert done.outcome == "rolled_back"
    assert tree_digest(venv) == before
