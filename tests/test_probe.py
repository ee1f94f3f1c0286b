"""The deep probe: one start of an interpreter, on Python 2.7 through 3.13."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import make_legacy_virtualenv, make_venv, real_python, run
from venv_doctor.diagnose import probe
from venv_doctor.interpreters import program

ENCODINGS_FAILURE = """\
Could not find platform independent libraries <prefix>
Python path configuration:
  PYTHONHOME = (not set)
  program name = '/v/bin/python'
Fatal Python error: init_fs_encoding: failed to get the Python codec of the filesystem encoding
Python runtime state: core initialized
ModuleNotFoundError: No module named 'encodings'

Current thread 0x00007f (most recent call first):
  <no Python frame>
"""


def fake_interpreter(path: Path, stderr: str, code: int) -> Path:
    """A stand-in that fails the way a broken interpreter does (exit code and stderr)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ncat >&2 <<'EOF'\n{stderr}EOF\nexit {code}\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("minor", ["2.7", "3.6", "3.7", "3.8", "3.13"])
def test_probe_runs_on_every_supported_python(minor: str) -> None:
    python = real_python(minor)
    result = probe.probe(python, env=os.environ)
    assert result.started, result.error_line
    assert result.returncode == 0
    assert result.minor == minor
    assert result.version is not None and result.version.count(".") == 2
    assert result.prefix == str(python.resolve().parent.parent)
    assert any(p.endswith("site-packages") for p in result.site_paths)


@pytest.mark.parametrize("minor", ["3.6", "3.12"])
def test_probe_sees_a_venvs_site_packages(tmp_path: Path, minor: str) -> None:
    venv = make_venv(real_python(minor), tmp_path / "v")
    site = venv / "lib" / f"python{minor}" / "site-packages"
    result = probe.probe(venv / "bin" / "python", [site], env=os.environ)
    assert result.started
    assert result.prefix == str(venv)
    assert not result.site_packages_missing


def test_probe_on_a_legacy_python27_virtualenv(tmp_path: Path) -> None:
    venv = make_legacy_virtualenv(real_python("2.7"), tmp_path / "legacy")
    site = venv / "lib" / "python2.7" / "site-packages"
    result = probe.probe(venv / "bin" / "python", [site], env=os.environ)
    assert result.started, result.error_line
    assert result.minor == "2.7"
    assert not result.site_packages_missing


def test_site_packages_missing_when_the_venvs_are_not_on_sys_path(tmp_path: Path) -> None:
    result = probe.probe(
        real_python("3.12"), [tmp_path / "lib" / "python3.12" / "site-packages"], env=os.environ
    )
    assert result.started
    assert result.site_packages_missing


def test_no_expected_site_is_never_missing() -> None:
    assert not probe.probe(real_python("3.12"), env=os.environ).site_packages_missing


def test_missing_interpreter_does_not_start(tmp_path: Path) -> None:
    result = probe.probe(tmp_path / "bin" / "python", env=os.environ)
    assert not result.started
    assert result.returncode is None
    assert result.error_line == f"{tmp_path / 'bin' / 'python'} not found"
    assert result.describe_exit() == "no exit code (it could not be started)"


def test_missing_libpython_is_the_line_reported(tmp_path: Path) -> None:
    python = fake_interpreter(
        tmp_path / "python",
        "/v/bin/python: error while loading shared libraries: libpython3.12.so.1.0: "
        "cannot open shared object file: No such file or directory\n",
        127,
    )
    result = probe.probe(python, env=os.environ)
    assert not result.started
    assert result.returncode == 127
    assert result.describe_exit() == "code 127"
    assert result.error_line.startswith("/v/bin/python: error while loading shared libraries")
    assert "libpython3.12.so.1.0" in result.error_line


def test_missing_stdlib_reports_the_encodings_line(tmp_path: Path) -> None:
    result = probe.probe(
        fake_interpreter(tmp_path / "python", ENCODINGS_FAILURE, 1), env=os.environ
    )
    assert not result.started
    assert result.error_line == "ModuleNotFoundError: No module named 'encodings'"


def test_dyld_failure_line(tmp_path: Path) -> None:
    stderr = (
        "dyld[123]: Library not loaded: /opt/homebrew/opt/python@3.12/Frameworks/"
        "Python.framework/Versions/3.12/Python\n  Referenced from: <x> /v/bin/python3.12\n"
    )
    result = probe.probe(fake_interpreter(tmp_path / "python", stderr, 134), env=os.environ)
    assert result.error_line.startswith("dyld[123]: Library not loaded:")


def test_no_output_at_all(tmp_path: Path) -> None:
    result = probe.probe(fake_interpreter(tmp_path / "python", "", 3), env=os.environ)
    assert not result.started
    assert result.error_line == "(no output)"


def test_exit_zero_without_the_mark_is_not_a_start(tmp_path: Path) -> None:
    result = probe.probe(
        fake_interpreter(tmp_path / "python", "something else\n", 0), env=os.environ
    )
    assert not result.started
    assert result.error_line == "something else"


def test_killed_by_a_signal(tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nkill -SEGV $$\n")
    python.chmod(0o755)
    result = probe.probe(python, env=os.environ)
    assert not result.started
    assert result.describe_exit() == "signal 11"


def test_a_hanging_interpreter_times_out(tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\nexec sleep 30\n")
    python.chmod(0o755)
    result = probe.probe(python, timeout=0.3, env=os.environ)
    assert not result.started
    assert result.error_line == "timed out after 0.3 s"


def test_probe_many_keeps_the_order(tmp_path: Path) -> None:
    broken = fake_interpreter(tmp_path / "broken", "boom\n", 2)
    targets: list[tuple[Path, tuple[Path, ...]]] = [
        (real_python("3.12"), ()),
        (broken, ()),
        (real_python("2.7"), ()),
        (tmp_path / "missing", ()),
    ]
    results = probe.probe_many(targets, os.environ, timeout=30, workers=2)
    assert [r.started for r in results] == [True, False, True, False]
    assert [r.minor for r in results] == ["3.12", None, "2.7", None]
    assert results[1].error_line == "boom"


@pytest.mark.parametrize("minor", ["2.7", "3.6", "3.13"])
def test_the_one_probe_program_reports_and_names_what_cannot_be_imported(
    tmp_path: Path, minor: str
) -> None:
    """The program every interpreter check runs (inventory, --deep, after a relink or a
    rebuild): its report on the oldest and newest interpreters, imports included."""
    make = make_legacy_virtualenv if minor == "2.7" else make_venv
    venv = make(real_python(minor), tmp_path / "v")
    done = run([*program.command(venv / "bin" / "python", "os", "no_such_module")])
    report = program.parse(done.stdout)
    assert report is not None
    assert (report.implementation, report.minor) == ("cpython", minor)
    assert report.real_prefix == os.path.realpath(venv)
    assert any(p.startswith(str(venv)) for p in report.real_site_paths)
    assert len(report.import_failures) == 1
    assert report.import_failures[0].startswith("no_such_module (")


def test_a_report_cut_short_is_none() -> None:
    assert program.parse("") is None
    assert program.parse(f"{program.MARK} implementation cpython\n") is None
