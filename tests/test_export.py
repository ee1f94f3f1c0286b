"""The Prometheus textfile: the exposition format, `check --prometheus`, the daemon's
`[export] prometheus_textfile`, and a real node_exporter scraping what was written."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import IN_CI, FakeHomebrew, make_venv, real_python
from venv_doctor.cli import run as cli_run
from venv_doctor.diagnose.findings import Diagnosis, PythonInfo, Status
from venv_doctor.export import prometheus
from venv_doctor.model.venv import Location

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = re.compile(r"^([a-z_]+)(\{.*\})? (\S+)$")


def _tool(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None
    )
    if found is None:
        message = f"{name} is not installed (Debian: see .ci/debian-packages.d/export.txt)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _diagnosis(name: str, store: str, status: Status, version: str = "3.12.1") -> Diagnosis:
    location = Location(name, Path(f"/venvs/{store}/{name}"), store)
    minor = ".".join(version.split(".")[:2])
    return Diagnosis(location, status, "venv", PythonInfo(version, minor, None, None), ())


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            out[(match.group(1) + (match.group(2) or ""))] = float(match.group(3))
    return out


def test_label_values_are_escaped_and_every_family_has_one_help_and_type() -> None:
    hostile = 'we"ird\\name\nnext'
    report = prometheus.Report(
        diagnoses=[
            _diagnosis(hostile, "multivenv", Status.BROKEN),
            _diagnosis("ok", "pipx", Status.HEALTHY, "3.11.7"),
        ],
        scanned_at=1_700_000_000.5,
        scan_seconds=0.25,
        repairs={("relink", "repaired"): 3},
    )
    text = prometheus.render(report)
    assert 'name="we\\"ird\\\\name\\nnext"' in text
    assert "\nnext" not in text.replace("\\nnext", "")  # no raw newline inside a label
    helps = re.findall(r"^# HELP (\S+)", text, re.M)
    types = re.findall(r"^# TYPE (\S+) (gauge|counter)$", text, re.M)
    assert len(helps) == len(set(helps)) == len(types)
    samples = _samples(text)
    assert samples['venv_doctor_venvs{status="broken"}'] == 1
    assert samples['venv_doctor_venvs{status="healthy"}'] == 1
    assert samples['venv_doctor_venvs{status="unknown"}'] == 0
    assert samples['venv_doctor_store_venvs{store="pipx",status="healthy"}'] == 1
    assert samples['venv_doctor_repairs{action="relink",outcome="repaired"}'] == 3
    assert samples["venv_doctor_last_scan_duration_seconds"] == 0.25
    key = 'venv_doctor_venv_status{name="ok",store="pipx",python="3.11",status="healthy"}'
    assert samples[key] == 1


def test_promtool_accepts_the_exposition() -> None:
    promtool = _tool("promtool")
    report = prometheus.Report(
        diagnoses=[_diagnosis("a b", "multivenv", Status.DEGRADED)],
        scanned_at=time.time(),
        scan_seconds=1.5,
    )
    done = subprocess.run(
        [promtool, "check", "metrics"],
        input=prometheus.render(report),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def broken_and_healthy(isolated_home: Path) -> tuple[Path, Path]:
    store = isolated_home / ".virtualenvs"
    good = make_venv(real_python("3.12"), store / "good")
    bad = make_venv(real_python("3.11"), store / "bad")
    for link in (bad / "bin").glob("python*"):
        link.unlink()
        link.symlink_to("/nonexistent/python3.11")
    return good, bad


def test_check_writes_the_textfile_atomically(
    broken_and_healthy: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "textfile"
    out_dir.mkdir()
    _extra_interpreters(real_python("3.12"))
    target = out_dir / "venv_doctor.prom"
    assert cli_run(["check", "--json", "--prometheus", str(target)]) == 1
    capsys.readouterr()
    samples = _samples(target.read_text())
    assert samples['venv_doctor_venvs{status="broken"}'] == 1
    assert samples['venv_doctor_venvs{status="healthy"}'] == 1
    real = str(real_python("3.12"))
    needs = [
        v for k, v in samples.items() if k.startswith("venv_doctor_interpreter_venvs") and real in k
    ]
    assert needs == [1]
    assert [p.name for p in out_dir.iterdir()] == ["venv_doctor.prom"]  # no temp file left
    assert target.stat().st_mode & 0o777 == 0o644


def test_check_prometheus_bad_paths_are_errors_naming_the_file(
    isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_run(["check", "--prometheus", str(tmp_path / "nodir" / "x.prom")]) == 1
    assert "nodir/x.prom: its directory does not exist" in capsys.readouterr().err
    assert cli_run(["check", "--prometheus", str(tmp_path / "x.txt")]) == 1
    assert "only *.prom files" in capsys.readouterr().err


def test_config_rejects_a_textfile_that_is_not_prom(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text('[export]\nprometheus_textfile = "/x/metrics.txt"\n')
    assert cli_run(["check"]) == 2
    assert "export.prometheus_textfile" in capsys.readouterr().err


def _extra_interpreters(*pythons: Path) -> None:
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    extra = ", ".join(json.dumps(str(p)) for p in pythons)
    (config_dir / "config.toml").write_text(f"[interpreters]\nextra = [{extra}]\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real node_exporter on loopback with only the textfile collector."""
    binary = _tool("prometheus-node-exporter")
    directory = tmp_path / "textfile-collector"
    directory.mkdir()
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={directory}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield directory, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return str(response.read().decode())


def test_node_exporter_serves_the_daemon_export(
    homebrew: FakeHomebrew, isolated_home: Path, node_exporter: tuple[Path, str]
) -> None:
    directory, url = node_exporter
    make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "cellar")
    make_venv(real_python("3.11"), isolated_home / ".virtualenvs" / "steady")
    target = directory / "venv_doctor.prom"
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        textwrap.dedent(
            f"""
            [repair]
            auto = "off"
            [notify]
            backends = ["log"]
            [export]
            prometheus_textfile = {json.dumps(str(target))}
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "venv_doctor", "daemon"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not target.exists():
            assert time.monotonic() < deadline, "the daemon wrote no textfile"
            assert daemon.poll() is None, "the daemon exited"
            time.sleep(0.1)
        assert 'venv_doctor_venvs{status="broken"} 0' in _scrape(url)
        homebrew.upgrade("3.12", "3.12.1", "3.12.2")  # the keg the venv points into is gone
        deadline = time.monotonic() + 30
        while 'venv_doctor_venvs{status="broken"} 1' not in _scrape(url):
            assert time.monotonic() < deadline, _scrape(url)
            time.sleep(0.2)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    text = _scrape(url)
    samples = _samples(
        "\n".join(
            x for x in text.splitlines() if x.startswith(("#", "venv_doctor", "node_textfile"))
        )
    )
    assert samples["node_textfile_scrape_error"] == 0
    assert samples['venv_doctor_venvs{status="healthy"}'] == 1
    assert samples["venv_doctor_last_scan_timestamp_seconds"] > time.time() - 120


def test_repairs_are_counted_by_action_and_outcome(
    homebrew: FakeHomebrew,
    isolated_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMEBREW_PREFIX", str(homebrew.prefix))
    make_venv(homebrew.install("3.12", "3.12.1"), isolated_home / ".virtualenvs" / "cellar")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")  # a relink onto opt/ repairs it
    assert cli_run(["repair", "--all", "--json"]) == 0
    target = tmp_path / "venv_doctor.prom"
    assert cli_run(["check", "--json", "--prometheus", str(target)]) == 0
    capsys.readouterr()
    samples = _samples(target.read_text())
    assert samples['venv_doctor_repairs{action="relink",outcome="repaired"}'] == 1
    assert samples['venv_doctor_venvs{status="healthy"}'] == 1
