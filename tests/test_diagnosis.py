"""Diagnosis of real venvs made by real interpreters, broken the ways BRIEF.md describes.

Every case asserts the status and the finding codes. The static check runs
under ``no_processes`` (it must spawn nothing); ``--deep`` starts each venv's
interpreter once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import (
    FakeHomebrew,
    FakePyenv,
    add_console_script,
    clone_venv,
    make_legacy_virtualenv,
    make_venv,
    no_processes,
    patchelf,
    pip_install,
    real_python,
    run,
)
from venv_doctor.diagnose.diagnosis import Memo, diagnose
from venv_doctor.diagnose.findings import Diagnosis, Finding, Severity, Status
from venv_doctor.diagnose.interpreter_findings import guess_cause
from venv_doctor.diagnose.scan import diagnose_all
from venv_doctor.model.links import Walked
from venv_doctor.model.venv import Location, load

ALL_MINORS = ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def static(path: Path) -> Diagnosis:
    with no_processes():
        return diagnose(load(Location(path.name, path, "test")), env=os.environ)


def deep(path: Path) -> Diagnosis:
    [result] = diagnose_all([load(Location(path.name, path, "test"))], os.environ, deep=True)
    return result


def finding(d: Diagnosis, code: str) -> Finding:
    [found] = [f for f in d.findings if f.code == code]
    return found


def set_cfg(venv: Path, **values: str) -> None:
    """Set keys of pyvenv.cfg (replacing them where present), keeping the rest."""
    cfg = venv / "pyvenv.cfg"
    lines = [ln for ln in cfg.read_text().splitlines() if ln.split("=")[0].strip() not in values]
    lines += [f"{key} = {value}" for key, value in values.items()]
    cfg.write_text("\n".join(lines) + "\n")


def drop_cfg_key(venv: Path, key: str) -> None:
    cfg = venv / "pyvenv.cfg"
    kept = [ln for ln in cfg.read_text().splitlines() if ln.split("=")[0].strip() != key]
    cfg.write_text("\n".join(kept) + "\n")


def linked_prefix(tmp_path: Path, minor: str, name: str = "prefix") -> Path:
    """A throw-away base interpreter: ``<name>/bin/pythonX.Y`` links to the real one."""
    bin_dir = tmp_path / name / "bin"
    bin_dir.mkdir(parents=True)
    exe = bin_dir / f"python{minor}"
    exe.symlink_to(real_python(minor))
    return exe


# --- healthy venvs ---------------------------------------------------------------------


@pytest.mark.parametrize("minor", ALL_MINORS)
def test_stdlib_venv_is_healthy(tmp_path: Path, minor: str) -> None:
    python = real_python(minor)
    venv = make_venv(python, tmp_path / "v")
    d = static(venv)
    assert d.status is Status.HEALTHY, d.findings
    assert d.findings == ()
    assert d.creator == "venv"
    assert d.python.resolved == python.resolve()
    assert d.python.home == str(python.parent)
    assert d.python.version is not None and d.python.version.startswith(minor + ".")


@pytest.mark.parametrize(
    ("minor", "creator"),
    [("3.7", "virtualenv"), ("3.12", "virtualenv"), ("3.12", "uv"), ("3.13", "uv"), ("3.8", "uv")],
)
def test_virtualenv_and_uv_venvs_are_healthy(tmp_path: Path, minor: str, creator: str) -> None:
    python = real_python(minor)
    venv = make_venv(python, tmp_path / "v", creator=creator)
    d = static(venv)
    assert d.status is Status.HEALTHY, d.findings
    assert d.findings == ()
    assert d.creator == creator
    assert d.python.resolved == python.resolve()


@pytest.mark.parametrize("minor", ["3.6", "3.12"])
def test_deep_check_of_a_healthy_venv(tmp_path: Path, minor: str) -> None:
    d = deep(make_venv(real_python(minor), tmp_path / "v"))
    assert d.status is Status.HEALTHY, d.findings
    assert d.findings == ()


def test_copies_venv_is_healthy(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v", copies=True)
    assert not (venv / "bin" / "python3.12").is_symlink()
    assert static(venv).status is Status.HEALTHY
    assert deep(venv).status is Status.HEALTHY


def test_legacy_python27_virtualenv(tmp_path: Path) -> None:
    venv = make_legacy_virtualenv(real_python("2.7"), tmp_path / "old")
    d = static(venv)
    assert d.status is Status.HEALTHY, d.findings
    assert d.codes() == {"legacy-virtualenv"}
    assert finding(d, "legacy-virtualenv").severity is Severity.INFO
    assert d.creator == "virtualenv-legacy"
    assert d.python.version == "2.7"
    assert d.python.home == str(real_python("2.7").resolve().parent.parent)
    assert deep(venv).status is Status.HEALTHY


def test_legacy_layout_with_a_linked_python_hides_its_packages(tmp_path: Path) -> None:
    """Python 2.7 follows a linked bin/python to the real prefix: only running shows it."""
    venv = make_legacy_virtualenv(real_python("2.7"), tmp_path / "old")
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(real_python("2.7"))
    assert static(venv).status is Status.HEALTHY
    d = deep(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"legacy-virtualenv", "site-packages-invisible"}


def test_stale_executable_key_alone_is_not_a_problem(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    set_cfg(venv, executable="/opt/homebrew/Cellar/python@3.12/3.12.0/bin/python3.12")
    d = static(venv)
    assert d.status is Status.HEALTHY
    assert d.findings == ()


def test_same_minor_patch_change_is_only_information(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    set_cfg(venv, version="3.12.0")
    d = static(venv)
    assert d.status is Status.HEALTHY
    assert d.codes() == {"patch-changed"}
    assert "3.12.0" in finding(d, "patch-changed").message


# --- Homebrew ---------------------------------------------------------------------------


def test_homebrew_venv_made_through_opt_survives_a_patch_upgrade(
    tmp_path: Path, homebrew: FakeHomebrew
) -> None:
    homebrew.install("3.12", "3.12.1")
    venv = make_venv(homebrew.opt_python("3.12"), tmp_path / "v")
    assert static(venv).status is Status.HEALTHY
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    # its `executable =` key now names the deleted keg: not a problem
    set_cfg(venv, executable=str(homebrew.keg("3.12", "3.12.1") / "bin" / "python3.12"))
    d = static(venv)
    assert d.status is Status.HEALTHY, d.findings
    assert d.findings == ()
    assert deep(venv).status is Status.HEALTHY


@pytest.mark.parametrize("creator", ["venv"])
def test_homebrew_venv_pinned_to_a_cellar_keg(
    tmp_path: Path, homebrew: FakeHomebrew, creator: str
) -> None:
    keg_python = homebrew.install("3.12", "3.12.1")
    venv = make_venv(keg_python, tmp_path / "v", creator=creator)
    before = static(venv)
    assert before.status is Status.DEGRADED
    assert before.codes() == {"cellar-pinned"}
    assert "Homebrew keg" in finding(before, "cellar-pinned").message

    homebrew.upgrade("3.12", "3.12.1", "3.12.2")
    after = static(venv)
    assert after.status is Status.BROKEN
    assert after.codes() == {"interpreter-dangling"}
    message = finding(after, "interpreter-dangling").message
    assert str(homebrew.keg("3.12", "3.12.1")) in message
    assert "Homebrew" in message
    assert "python@3.12 3.12.1" in message
    assert after.python.resolved is None
    assert deep(venv).codes() == {"interpreter-dangling"}  # no second finding from the probe


def test_homebrew_formula_uninstalled(tmp_path: Path, homebrew: FakeHomebrew) -> None:
    homebrew.install("3.12", "3.12.1")
    venv = make_venv(homebrew.opt_python("3.12"), tmp_path / "v")
    shutil.rmtree(homebrew.keg("3.12", "3.12.1").parent)  # `brew uninstall python@3.12`
    homebrew.opt("3.12").unlink()
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-dangling"}
    message = finding(d, "interpreter-dangling").message
    assert str(homebrew.opt_python("3.12")) in message
    assert "`brew uninstall python@3.12`" in message


# --- pyenv, system python3 --------------------------------------------------------------


def test_pyenv_version_removed(tmp_path: Path) -> None:
    pyenv = FakePyenv(tmp_path / "pyenv")
    python = pyenv.install("3.11", "3.11.7")
    venv = make_venv(python, tmp_path / "home" / ".virtualenvs" / "proj")
    assert static(venv).status is Status.HEALTHY
    pyenv.uninstall("3.11.7")
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-dangling"}
    message = finding(d, "interpreter-dangling").message
    assert message.startswith("bin/python3.11 points to ")
    assert str(python) in message
    assert "`pyenv uninstall 3.11.7`" in message
    assert finding(d, "interpreter-dangling").hint == f"run `venv-doctor repair {venv}`"


def test_python3_link_retargeted_to_another_minor(tmp_path: Path) -> None:
    usr_bin = tmp_path / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    (usr_bin / "python3.11").symlink_to(real_python("3.11"))
    (usr_bin / "python3.12").symlink_to(real_python("3.12"))
    (usr_bin / "python3").symlink_to("python3.11")
    venv = make_venv(usr_bin / "python3", tmp_path / "v")
    assert static(venv).status is Status.HEALTHY

    (usr_bin / "python3").unlink()
    (usr_bin / "python3").symlink_to("python3.12")  # the "release upgrade"
    d = static(venv)  # no process: the drift is read from the resolved binary's name
    assert d.status is Status.BROKEN
    assert d.codes() == {"minor-mismatch"}
    message = finding(d, "minor-mismatch").message
    assert "Python 3.12" in message
    assert "lib/python3.11" in message
    assert d.python.resolved == real_python("3.12").resolve()
    assert deep(venv).codes() == {"minor-mismatch"}


def test_copied_binary_of_another_minor_is_found_by_the_deep_check(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.11"), tmp_path / "v", copies=True)
    shutil.copy2(real_python("3.12").resolve(), venv / "bin" / "python")
    assert static(venv).status is Status.HEALTHY  # a copy named `python` tells nothing
    d = deep(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"minor-mismatch"}
    assert "runs Python 3.12." in finding(d, "minor-mismatch").message


# --- copies whose base is gone ------------------------------------------------------------


def test_copies_venv_whose_home_vanished(tmp_path: Path) -> None:
    base = linked_prefix(tmp_path, "3.11")
    venv = make_venv(base, tmp_path / "v", copies=True)
    assert static(venv).status is Status.HEALTHY
    shutil.rmtree(tmp_path / "prefix")

    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"home-missing"}
    assert str(base.parent) in finding(d, "home-missing").message

    d = deep(venv)  # the copy still starts through its absolute RUNPATH
    assert d.status is Status.DEGRADED
    assert d.codes() == {"home-missing"}
    assert finding(d, "home-missing").severity is Severity.WARNING
    assert "still starts" in finding(d, "home-missing").message


def test_linked_venv_whose_home_dir_vanished_but_links_resolve(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    set_cfg(venv, home=str(tmp_path / "gone" / "bin"))
    d = static(venv)
    assert d.status is Status.DEGRADED
    assert d.codes() == {"home-missing"}


@pytest.mark.skipif(not os.path.exists("/proc/self/exe"), reason="ELF RUNPATH is Linux only")
def test_copied_binary_whose_libpython_vanished(tmp_path: Path) -> None:
    tool = patchelf()
    python = real_python("3.12")
    venv = make_venv(python, tmp_path / "v", copies=True)
    libdir = tmp_path / "libpython"
    libdir.mkdir()
    shutil.copy2(python.resolve().parent.parent / "lib" / "libpython3.12.so.1.0", libdir)
    for exe in (venv / "bin").glob("python*"):
        run([tool, "--set-rpath", libdir, exe])
    assert deep(venv).status is Status.HEALTHY
    shutil.rmtree(libdir)

    with no_processes():  # the default check reads the binary's RUNPATH: no start needed
        d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-library-missing"}
    message = finding(d, "interpreter-library-missing").message
    assert message.startswith("bin/python") and "libpython3.12.so.1.0" in message
    assert deep(venv).codes() == {"interpreter-library-missing"}  # the probe agrees: not twice


def test_a_copied_binary_whose_libpython_is_there_is_healthy(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.11"), tmp_path / "v", copies=True)
    with no_processes():
        assert static(venv).status is Status.HEALTHY


def test_interpreter_that_is_not_a_program(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v", copies=True)
    for exe in (venv / "bin").glob("python*"):
        exe.write_bytes(b"\x7fELF" + b"\x00" * 64)  # a truncated, corrupt binary
    d = deep(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-fails"}
    message = finding(d, "interpreter-fails").message
    assert message == "bin/python could not be started: Exec format error"


# --- console scripts ----------------------------------------------------------------------


def test_installed_console_script_is_fine(tmp_path: Path, wheelhouse: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    pip_install(venv, wheelhouse, "tinytop")
    d = static(venv)
    assert d.status is Status.HEALTHY, d.findings
    assert d.findings == ()


@pytest.mark.parametrize(
    "where", ["my venvs/café env", "x" * 140 + "/v"], ids=["spaces-non-ascii", "long"]
)
def test_trampoline_scripts_live_and_die_with_the_interpreter(
    tmp_path: Path, wheelhouse: Path, where: str
) -> None:
    base = linked_prefix(tmp_path, "3.12")
    venv = make_venv(base, tmp_path / where)
    pip_install(venv, wheelhouse, "tinytop")
    assert (venv / "bin" / "tinytop").read_text(encoding="utf-8").startswith("#!/bin/sh\n'''exec'")
    assert len(str(venv / "bin" / "python")) > 127 or " " in str(venv)
    assert static(venv).status is Status.HEALTHY

    shutil.rmtree(tmp_path / "prefix")
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-dangling", "dead-shebang"}
    message = finding(d, "dead-shebang").message
    assert "(tinytop)" in message
    assert str(venv / "bin" / "python") in message


def test_script_pointing_to_a_deleted_interpreter(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    gone = str(tmp_path / "old-place" / "bin" / "python")
    add_console_script(venv, "tool-a", interpreter=gone)
    add_console_script(venv, "tool-b", interpreter=gone, trampoline=True)
    add_console_script(venv, "fine")
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"dead-shebang"}
    message = finding(d, "dead-shebang").message
    assert message.startswith("2 console scripts in bin/ (tool-a, tool-b) start ")
    assert gone in message


def test_copied_venv_runs_the_original_venvs_python(tmp_path: Path, wheelhouse: Path) -> None:
    original = make_venv(real_python("3.12"), tmp_path / "original")
    pip_install(original, wheelhouse, "tinytop")
    copy = clone_venv(original, tmp_path / "copy")
    d = static(copy)
    assert d.status is Status.DEGRADED
    assert d.codes() == {"foreign-shebang"}
    assert str(original / "bin" / "python") in finding(d, "foreign-shebang").message

    shutil.rmtree(original)  # the venv was moved, not copied
    d = static(copy)
    assert d.status is Status.BROKEN
    assert d.codes() == {"dead-shebang"}


def test_scripts_that_are_not_python_are_ignored(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    shell = venv / "bin" / "helper"
    shell.write_text('#!/bin/sh\nexec /nonexistent/thing "$@"\n')
    shell.chmod(0o755)
    env_script = venv / "bin" / "envtool"
    env_script.write_text("#!/usr/bin/env python3\n")
    env_script.chmod(0o755)
    not_exec = venv / "bin" / "notes"
    not_exec.write_text("#!/nonexistent/python\n")  # not executable: not a script
    assert static(venv).findings == ()


# --- pyvenv.cfg -----------------------------------------------------------------------------


def test_cfg_with_garbage_lines(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(cfg.read_text() + "<<<<<<< HEAD\nsome junk here\n")
    d = static(venv)
    assert d.status is Status.DEGRADED
    assert d.codes() == {"cfg-garbage"}
    message = finding(d, "cfg-garbage").message
    assert message.startswith(str(cfg))
    assert "line 6, 7" in message


def test_cfg_full_of_garbage(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "pyvenv.cfg").write_text("lorem ipsum\ndolor sit amet\n" * 20)
    d = static(venv)
    assert d.status is Status.DEGRADED
    assert d.codes() == {"cfg-garbage", "cfg-missing-key"}
    assert "line 1, 2, 3, 4, 5" in finding(d, "cfg-garbage").message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"home = /usr/bin\nprompt = caf\xe9\n", "is not UTF-8 text"),
        (bytes(range(1, 256)) * 4, "not UTF-8"),
        (b"\x00\x00\x00\x01home = /usr/bin\n", "binary data"),
    ],
    ids=["latin-1", "random-bytes", "nul-bytes"],
)
def test_cfg_that_is_not_text(tmp_path: Path, content: bytes, words: str) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "pyvenv.cfg").write_bytes(content)
    d = static(venv)
    assert d.status is Status.UNKNOWN
    assert d.codes() == {"cfg-unreadable"}
    message = finding(d, "cfg-unreadable").message
    assert message.startswith(str(venv / "pyvenv.cfg"))
    assert words in message


def test_cfg_replaced_by_a_directory(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "pyvenv.cfg").unlink()
    (venv / "pyvenv.cfg").mkdir()
    d = static(venv)
    assert d.status is Status.UNKNOWN
    assert d.codes() == {"cfg-unreadable"}
    assert (
        finding(d, "cfg-unreadable").message == f"{venv / 'pyvenv.cfg'} is a directory, not a file"
    )


def test_cfg_replaced_by_a_dangling_link(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "pyvenv.cfg").unlink()
    (venv / "pyvenv.cfg").symlink_to(tmp_path / "elsewhere.cfg")
    d = static(venv)
    assert d.status is Status.UNKNOWN
    assert d.codes() == {"cfg-unreadable"}
    message = finding(d, "cfg-unreadable").message
    assert str(tmp_path / "elsewhere.cfg") in message
    assert "does not exist" in message


def test_cfg_missing_its_home_key(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    drop_cfg_key(venv, "home")
    d = static(venv)
    assert d.status is Status.DEGRADED
    assert d.codes() == {"cfg-missing-key"}
    assert "no home key" in finding(d, "cfg-missing-key").message


def test_cfg_missing_its_version_is_only_information(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    drop_cfg_key(venv, "version")
    d = static(venv)
    assert d.status is Status.HEALTHY
    assert d.codes() == {"cfg-missing-key"}
    assert finding(d, "cfg-missing-key").severity is Severity.INFO
    assert d.python.version == "3.12"  # from lib/python3.12


def test_cfg_deleted(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "pyvenv.cfg").unlink()
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"cfg-missing"}


def test_recorded_version_disagrees_with_lib(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    set_cfg(venv, version="3.11.7")
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"version-mismatch"}
    message = finding(d, "version-mismatch").message
    assert "3.11.7" in message and "lib/python3.12" in message


# --- bin/ and lib/ -----------------------------------------------------------------------------


def test_symlink_loop_in_bin(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "bin" / "python3.12").unlink()
    (venv / "bin" / "python3.12").symlink_to("python")  # python -> python3.12 -> python
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-loop"}
    assert "symlink loop" in finding(d, "interpreter-loop").message
    assert d.python.resolved is None
    assert deep(venv).codes() == {"interpreter-loop"}


def test_self_link_in_bin(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    for name in ("python", "python3", "python3.12"):
        (venv / "bin" / name).unlink()
    (venv / "bin" / "python").symlink_to("python")
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-loop"}


def test_internal_link_to_a_deleted_sibling(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "bin" / "python3.12").unlink()
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"interpreter-dangling"}
    assert str(venv / "bin" / "python3.12") in finding(d, "interpreter-dangling").message


def test_no_python_in_bin(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    for exe in (venv / "bin").glob("python*"):
        exe.unlink()
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"no-interpreter"}
    assert deep(venv).codes() == {"no-interpreter"}


def test_site_packages_removed(tmp_path: Path) -> None:
    venv = make_venv(real_python("3.12"), tmp_path / "v")
    (venv / "lib" / "python3.12" / "site-packages").rmdir()
    d = static(venv)
    assert d.status is Status.BROKEN
    assert d.codes() == {"site-packages-missing"}
    assert str(venv / "lib" / "python3.12") in finding(d, "site-packages-missing").message


# --- the venv directory itself ------------------------------------------------------------------


def test_venv_directory_gone(tmp_path: Path) -> None:
    d = static(tmp_path / "vanished")
    assert d.status is Status.BROKEN
    assert d.codes() == {"venv-missing"}


def test_venv_path_that_cannot_be_listed(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    d = static(not_a_dir)
    assert d.status is Status.UNKNOWN
    assert d.codes() == {"venv-unreadable"}
    assert str(not_a_dir) in finding(d, "venv-unreadable").message


# --- what removed it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (
            "/opt/homebrew/Cellar/python@3.12/3.12.1/bin/python3.12",
            "Homebrew removed the python@3.12 3.12.1 keg",
        ),
        (
            "/home/linuxbrew/.linuxbrew/Cellar/python@3.11/3.11.9_1/bin/python3.11",
            "python@3.11 3.11.9_1",
        ),
        ("/home/a/.pyenv/versions/3.10.4/bin/python3.10", "`pyenv uninstall 3.10.4`"),
        ("/usr/local/opt/python@3.10/bin/python3.10", "Homebrew's python@3.10 is gone"),
        (
            "/home/a/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu/bin/python3.12",
            "uv-managed Python cpython-3.12.4",
        ),
        ("/Library/Frameworks/Python.framework/Versions/3.9/bin/python3.9", "python.org"),
        ("/usr/bin/python3.10", "system Python package"),
        ("/srv/tools/python/bin/python3", "moved, upgraded or uninstalled"),
    ],
)
def test_guess_cause(path: str, words: str) -> None:
    assert words in guess_cause(path, os.environ)


def test_guess_cause_knows_a_custom_pyenv_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "opt" / "py"))
    path = tmp_path / "opt" / "py" / "versions" / "3.9.18" / "bin" / "python3.9"
    assert "`pyenv uninstall 3.9.18`" in guess_cause(path, os.environ)
    assert "pyenv" not in guess_cause("/srv/app/versions/2/bin/python3", os.environ)


def test_one_pass_asks_once_per_interpreter_and_says_what_each_venv_alone_says(
    tmp_path: Path, homebrew: FakeHomebrew, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check shares one Memo (and one Walked) over its venvs: a home or an interpreter
    several venvs share is looked at once, and every finding is the one the venv gets
    when diagnosed alone."""
    keg_python = homebrew.install("3.12", "3.12.1")
    opt = make_venv(homebrew.opt_python("3.12"), tmp_path / "opt0")
    keg = make_venv(keg_python, tmp_path / "keg0")
    copies = make_venv(linked_prefix(tmp_path, "3.11"), tmp_path / "copies0", copies=True)
    venvs = []
    for i in range(3):
        venvs += [clone_venv(v, tmp_path / f"{v.name[:-1]}{i + 1}") for v in (opt, keg, copies)]
    set_cfg(venvs[0], home=str(tmp_path / "gone" / "bin"))  # home-missing
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")  # the keg venvs: interpreter-dangling
    shutil.rmtree(tmp_path / "prefix")  # the copies: home-missing
    locations = [Location(v.name, v, "test") for v in venvs]
    with no_processes():
        alone = [diagnose(load(x), env=os.environ) for x in locations]
    asked: list[str] = []
    real_isdir = os.path.isdir

    def counting(path: str) -> bool:
        asked.append(os.fspath(path))
        return real_isdir(path)

    monkeypatch.setattr(os.path, "isdir", counting)
    walked, memo = Walked(), Memo(os.environ)
    with no_processes():
        shared = [diagnose(load(x, walked), env=os.environ, memo=memo) for x in locations]
    assert shared == alone
    assert {d.codes().pop() for d in shared if d.codes()} == {
        "home-missing",
        "interpreter-dangling",
    }
    homes = [p for p in asked if p.endswith("/bin")]
    assert sorted(homes) == sorted(set(homes))  # each home once
    assert len(set(homes)) == 4  # opt/, the keg, the copies' prefix and the one gone
