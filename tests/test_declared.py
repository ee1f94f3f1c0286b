"""Declared versus installed: `requirements --against` and `check -v`'s undeclared-packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import make_venv, make_wheel, pip_install, real_python
from venv_doctor.cli import run
from venv_doctor.record.declared import compare, read_declared


@pytest.fixture
def project_venv(tmp_path: Path, isolated_home: Path) -> tuple[Path, Path]:
    """A virtualenvwrapper venv bound to a project (``.project``) holding real wheels."""
    house = tmp_path / "wheelhouse"
    make_wheel(
        house, "web-app", "1.0", requires=["Requests_Lib>=1", "tomli; python_version < '3.11'"]
    )
    make_wheel(house, "requests-lib", "2.0", requires=["idna-lib"])
    make_wheel(house, "idna-lib", "3.0")
    make_wheel(house, "tomli", "2.0")
    make_wheel(house, "stray", "0.1")  # pip installed by hand, never declared
    make_wheel(house, "socks-extra", "1.0")
    make_wheel(house, "client", "1.0", requires=["socks-extra; extra == 'socks'"])
    venv = make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "web")
    pip_install(venv, house, "web-app==1.0", "stray==0.1", "client[socks]==1.0")
    project = tmp_path / "web-project"
    project.mkdir()
    (venv / ".project").write_text(str(project) + "\n")
    return venv, project


def _pyproject(project: Path, deps: list[str], name: str = "web") -> Path:
    path = project / "pyproject.toml"
    quoted = ", ".join(json.dumps(d) for d in deps)
    path.write_text(
        f'[project]\nname = "{name}"\nversion = "0"\ndependencies = [{quoted}]\n'
        '[project.optional-dependencies]\nnet = ["client[socks]"]\n'
        "[dependency-groups]\ndev = [\"pytest-ish; python_version < '3.0'\"]\n"
    )
    return path


def test_against_pyproject_follows_requires_extras_and_markers(
    project_venv: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    venv, project = project_venv
    path = _pyproject(project, ["Web_App>=1", "httpx-ish"])
    assert run(["requirements", str(venv), "--against", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    # web-app pulls requests-lib and idna-lib; tomli's marker is false on 3.12; client[socks]
    # pulls socks-extra; pytest-ish's marker is false; only `stray` is undeclared
    assert data["undeclared"] == ["stray"]
    assert data["missing"] == ["httpx-ish"]
    assert "tomli" not in data["missing"]


def test_requirements_txt_with_includes_and_editable_egg(
    project_venv: tuple[Path, Path], tmp_path: Path
) -> None:
    venv, project = project_venv
    (project / "base.txt").write_text("web-app==1.0  # the app\nstray\n")
    req = project / "requirements.txt"
    req.write_text(
        "-r base.txt\n--index-url https://example.invalid/simple\n-e ./client#egg=client\n"
    )
    declared = read_declared(req)
    result = compare(declared, [next((venv / "lib").glob("python3.*")) / "site-packages"], "3.12")
    # `-e ...#egg=client` names client without its [socks] extra: socks-extra is undeclared
    assert result.undeclared == ("socks-extra",) and result.missing == ()


def test_check_verbose_shows_undeclared_packages_as_info(
    project_venv: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, project = project_venv
    _pyproject(project, ["web-app"])
    assert run(["check", "-v", "--json"]) == 0  # info only: still healthy
    [entry] = json.loads(capsys.readouterr().out)["venvs"]
    codes = {f["code"]: f for f in entry["findings"]}
    assert "stray" in codes["undeclared-packages"]["message"]
    assert codes["undeclared-packages"]["severity"] == "info"
    assert run(["check", "--json"]) == 0  # without -v the check does not read the project
    [entry] = json.loads(capsys.readouterr().out)["venvs"]
    assert "undeclared-packages" not in {f["code"] for f in entry["findings"]}


def test_bad_declared_files_are_errors_naming_the_file(
    project_venv: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    venv, project = project_venv
    bad = project / "pyproject.toml"
    bad.write_text("[project\n")
    assert run(["requirements", str(venv), "--against", str(bad)]) == 1
    assert f"{bad}: not valid TOML" in capsys.readouterr().err
    assert run(["requirements", str(venv), "--against", str(project / "nope.txt")]) == 1
    assert "nope.txt: no such file" in capsys.readouterr().err


def test_repair_from_declared_rebuilds_what_the_project_declares(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    house = tmp_path / "wheelhouse"
    make_wheel(house, "web-app", "1.0", requires=["requests-lib"])
    make_wheel(house, "requests-lib", "2.0")
    make_wheel(house, "stray", "0.1")
    base = tmp_path / "gone-python" / "bin"  # an installation that will be removed
    base.mkdir(parents=True)
    (base / "python3.12").symlink_to(real_python("3.12"))
    venv = make_venv(base / "python3.12", isolated_home / ".virtualenvs" / "web")
    pip_install(venv, house, "web-app==1.0", "stray==0.1")
    project = tmp_path / "web-project"
    project.mkdir()
    (venv / ".project").write_text(str(project))
    (project / "requirements.txt").write_text("web-app>=1  # the only thing this project uses\n")
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f"[interpreters]\nextra = [{json.dumps(str(real_python('3.13')))}]\n"
    )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    shutil.rmtree(base.parent)  # the Python the venv was built on is gone
    assert run(["repair", "web", "--from-declared", "--python", "3.13", "--yes"]) == 0
    site = next((venv / "lib").glob("python3.13")) / "site-packages"
    names = sorted(p.name.split("-")[0] for p in site.glob("*.dist-info"))
    assert "web_app" in names and "requests_lib" in names
    assert "stray" not in names  # pinned in the snapshot, declared by nothing


def test_a_fifo_as_the_declared_file_is_an_error_not_a_hang(
    project_venv: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    venv, project = project_venv
    fifo = project / "requirements.txt"
    os.mkfifo(fifo)
    assert run(["requirements", str(venv), "--against", str(fifo)]) == 1
    assert "requirements.txt: cannot be read" in capsys.readouterr().err
    assert run(["check", "-v"]) == 0  # the project's FIFO does not hang check -v either


def test_a_fifo_or_huge_metadata_is_a_warning_not_a_hang(
    project_venv: tuple[Path, Path],
) -> None:
    """METADATA is read through the bounded readers (importlib.metadata read it whole,
    and blocked on a FIFO): through the real CLI, with a timeout, so a hang fails."""
    venv, project = project_venv
    site = next((venv / "lib").glob("python3.*")) / "site-packages"
    for name in ("fifo_pkg", "zero_pkg", "huge_pkg"):
        (site / f"{name}-1.0.dist-info").mkdir()
        (site / f"{name}-1.0.dist-info" / "RECORD").write_text("")
    os.mkfifo(site / "fifo_pkg-1.0.dist-info" / "METADATA")
    (site / "zero_pkg-1.0.dist-info" / "METADATA").symlink_to("/dev/zero")
    huge = site / "huge_pkg-1.0.dist-info" / "METADATA"
    huge.write_text("Metadata-Version: 2.1\nName: huge-pkg\nVersion: 1.0\nRequires-Dist: stray\n\n")
    os.truncate(huge, 8 << 30)  # a description of 8 GiB (sparse: no disk is used)
    against = _pyproject(project, ["Web_App>=1", "huge-pkg"])
    args = ["requirements", str(venv), "--against", str(against), "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "venv_doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # undeclared packages, not a crash
    assert "Traceback" not in done.stdout + done.stderr
    data = json.loads(done.stdout)
    # huge-pkg's header was read (it needs stray); the unreadable two count as installed
    assert data["undeclared"] == ["fifo-pkg", "zero-pkg"]
    assert sorted(data["warnings"]) == [
        f"{site / 'fifo_pkg-1.0.dist-info' / 'METADATA'} cannot be read: is a FIFO (named pipe),"
        " not a regular file",
        f"{site / 'zero_pkg-1.0.dist-info' / 'METADATA'} cannot be read: is a character device,"
        " not a regular file",
    ]
    for warning in data["warnings"]:
        assert f"venv-doctor: warning: {warning}" in done.stderr
