"""`venv-doctor preflight --python X.Y`: uv's real resolver over a local wheelhouse, with the
index settings a rebuild uses (here PIP_NO_INDEX and PIP_FIND_LINKS)."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.support import make_venv, make_wheel, pip_install, real_python
from venv_doctor.cli import run

CP311 = "cp311-cp311-manylinux_2_17_x86_64"


def _sdist(wheelhouse: Path, name: str, version: str) -> None:
    """An sdist whose PKG-INFO is static (metadata 2.2): uv reads it without building."""
    base = f"{name}-{version}"
    pkg_info = f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n".encode()
    pyproject = f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, data in ((f"{base}/PKG-INFO", pkg_info), (f"{base}/pyproject.toml", pyproject)):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (wheelhouse / f"{base}.tar.gz").write_bytes(buf.getvalue())


@pytest.fixture
def world(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    house = tmp_path / "wheelhouse"
    make_wheel(house, "fastlib", "1.0", tag=CP311)  # binary for 3.11 only
    make_wheel(house, "fastlib", "1.1", tag=CP311)
    make_wheel(house, "fastlib", "1.1", tag="cp312-abi3-manylinux_2_17_x86_64")  # 3.12 and up
    make_wheel(house, "pure", "1.0")
    make_wheel(house, "oldonly", "1.0", tag=CP311)  # no release for anything newer
    make_wheel(house, "buildme", "1.0", tag=CP311)
    _sdist(house, "buildme", "1.0")  # elsewhere only the sdist
    store = isolated_home / ".virtualenvs"
    ready = make_venv(real_python("3.11"), store / "ready")
    pip_install(ready, house, "pure==1.0")
    moving = make_venv(real_python("3.11"), store / "moving")
    pip_install(moving, house, "fastlib==1.0", "pure==1.0", "buildme==1.0")
    stuck = make_venv(real_python("3.11"), store / "stuck")
    pip_install(stuck, house, "oldonly==1.0")
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])  # the Python a trial uses
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f"[interpreters]\nextra = [{json.dumps(str(real_python('3.12')))}]\n"
    )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    return house


def test_each_verdict_with_upgrades_and_builds(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["check"]) == 0  # records the snapshots
    capsys.readouterr()
    assert run(["preflight", "--python", "3.13", "--all", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    by_name = {v["name"]: v for v in data["venvs"]}
    assert by_name["ready"]["verdict"] == "ready"
    moving = by_name["moving"]
    assert moving["verdict"] == "needs-upgrades", moving
    assert moving["changes"] == [{"name": "fastlib", "from": "1.0", "to": "1.1"}]
    assert moving["builds"] == ["buildme"]
    stuck = by_name["stuck"]
    assert stuck["verdict"] == "blocked"
    assert "oldonly" in stuck["message"]

    assert run(["preflight", "--python", "3.11", "moving"]) == 0  # its own Python: ready
    assert run(["preflight", "--python", "3.13", "moving"]) == 1
    out = capsys.readouterr().out
    assert "fastlib 1.0 -> 1.1" in out and "needs a build (sdist only): buildme" in out


def test_a_vanished_venv_is_preflighted_from_its_snapshot(
    world: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["check"]) == 0
    shutil.rmtree(isolated_home / ".virtualenvs" / "ready")
    capsys.readouterr()
    assert run(["preflight", "--python", "3.12", "ready", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["venvs"][0]["verdict"] == "ready"


def test_offline_the_reason_is_uv_s_own_and_usage_errors_are_clear(
    world: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["check"]) == 0
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.delenv("PIP_FIND_LINKS")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens there
    capsys.readouterr()
    assert run(["preflight", "--python", "3.13", "ready", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)["venvs"][0]
    assert result["verdict"] == "unresolved", result
    assert result["message"]
    assert run(["preflight", "--python", "three", "ready"]) == 2
    assert run(["preflight", "--python", "3.13"]) == 2
    assert "or pass --all" in capsys.readouterr().err
    cache = Path(os.environ["VENV_DOCTOR_CACHE_DIR"])
    assert not [p for p in cache.iterdir() if p.name.startswith("preflight-")]  # scratch gone


def test_trial_builds_beside_verifies_runs_and_removes(
    world: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["check"]) == 0
    capsys.readouterr()
    store = isolated_home / ".virtualenvs"
    probe = "python -c 'import pure, sys; print(pure.__version__, sys.version_info[:2])'"
    code = run(["preflight", "--python", "3.12", "ready", "--trial", "--json", "--run", probe])
    captured = capsys.readouterr()
    assert captured.out, captured.err
    result = json.loads(captured.out)["venvs"][0]
    assert code == 0
    assert result["trial"]["ok"] is True, result["trial"]
    assert "1.0 (3, 12)" in result["trial"]["output"]
    assert not (store / "ready-trial").exists()
    assert (store / "ready" / "pyvenv.cfg").exists()

    # buildme is only an sdist for 3.12, and offline there is no setuptools to build it
    assert run(["preflight", "--python", "3.12", "moving", "--trial", "--json"]) == 1
    failed = json.loads(capsys.readouterr().out)["venvs"][0]["trial"]
    assert failed["ok"] is False and failed["step"] == "install", failed
    assert not (store / "moving-trial").exists()

    assert (
        run(["preflight", "--python", "3.12", "ready", "--trial", "--keep", "--run", "exit 3"]) == 1
    )
    assert "trial failed at run: the command exited with 3" in capsys.readouterr().out
    assert (store / "ready-trial" / "pyvenv.cfg").exists()  # kept
    assert run(["preflight", "--python", "3.12", "ready", "--trial"]) == 1
    assert "ready-trial already exists" in capsys.readouterr().out
    assert run(["preflight", "--python", "3.12", "ready", "--keep"]) == 2
    assert "go with --trial" in capsys.readouterr().err
