"""Nothing leaked: secrets in PIP_INDEX_URL, pip.conf and direct_url.json, a failing
install run by the CLI and by the daemon, then every output, the state DB, the logs,
the debug log of an internal error and the notification payloads are searched for
them. Real venvs, real uv (its index is a closed local port, so it fails at once)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import make_venv, pip_install, real_python
from tests.test_daemon import DaemonRun, wait_for
from tests.test_repair import fake_pyenv_version
from venv_doctor.cli import run as cli
from venv_doctor.paths import app_dirs

SECRETS = {
    "env_password": "S3cretEnvPassword",
    "env_token": "S3cretEnvToken",
    "conf_password": "S3cretConfPassword",
    "conf_value": "S3cretConfValue",
    "url_password": "S3cretUrlPassword",
    "url_token": "S3cretUrlToken",
    "argv": "S3cretArgvToken",
}
CLOSED = "127.0.0.1:9"  # the discard port: nothing listens, a connection fails at once


def leaks(text: str | bytes) -> list[str]:
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return [name for name, secret in SECRETS.items() if secret.encode() in data]


def venv_doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "venv_doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def secret_environment(tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "pip.conf"
    conf.write_text(
        textwrap.dedent(
            f"""
            [global]
            extra-index-url = https://carol:{SECRETS["conf_password"]}@{CLOSED}/simple
            [install]
            mystery-setting = {SECRETS["conf_value"]}
            """
        )
    )
    config = app_dirs(os.environ).config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[repair]\ninstaller = "uv"\n')
    return {
        **os.environ,
        "PIP_CONFIG_FILE": str(conf),
        "PIP_INDEX_URL": (
            f"https://bob:{SECRETS['env_password']}@{CLOSED}/simple?token={SECRETS['env_token']}"
        ),
        "UV_HTTP_TIMEOUT": "5",
    }


def add_url_install(venv: Path) -> None:
    """A distribution installed from a URL with credentials (PEP 610 direct_url.json)."""
    (site,) = venv.glob("lib/python*/site-packages")
    info = site / "privatepkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: privatepkg\nVersion: 1.0\n\n")
    (info / "RECORD").write_text("privatepkg/__init__.py,,\n")
    (info / "REQUESTED").write_text("")
    url = (
        f"https://alice:{SECRETS['url_password']}@files.example.invalid/privatepkg-1.0.tar.gz"
        f"?private_token={SECRETS['url_token']}"
    )
    (info / "direct_url.json").write_text(json.dumps({"url": url, "archive_info": {}}))


def broken_venv(tmp_path: Path, home: Path, wheelhouse: Path) -> tuple[Path, Path]:
    """A 3.10 venv whose only 3.10 interpreter is about to vanish: only a rebuild helps."""
    fake = tmp_path / "fakepy" / "3.10.13" / "bin"  # no other 3.10 here: no relink
    fake.mkdir(parents=True)
    (fake / "python3.10").symlink_to(real_python("3.10"))
    fake_pyenv_version("3.12", "3.12.1")  # what the rebuild will use
    venv = make_venv(fake / "python3.10", home / ".virtualenvs" / "proj")
    pip_install(venv, wheelhouse, "tinytop")
    add_url_install(venv)
    return venv, tmp_path / "fakepy"


def state_files() -> list[Path]:
    dirs = app_dirs(os.environ)
    return [p for d in (dirs.state, dirs.log, dirs.cache) if d.exists() for p in d.rglob("*")]


def test_no_secret_reaches_any_output_the_db_or_the_logs(
    isolated_home: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    env = secret_environment(tmp_path)
    _, interpreter = broken_venv(tmp_path, isolated_home, wheelhouse)
    outputs: dict[str, str] = {}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = venv_doctor(*args, env=env)
        outputs[" ".join(args)] = done.stdout + done.stderr
        return done

    assert run("check").returncode == 0  # records the snapshot while healthy
    shutil.rmtree(interpreter)
    failed = run("repair", "proj", "--python", "3.12", "--yes", "--json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    (result,) = json.loads(failed.stdout)["results"]
    assert result["outcome"] == "failed"
    assert "could not install" in result["message"]
    assert "****" in result["message"]  # the failed command is shown, credentials removed
    run("repair", "proj", "--python", "3.12", "--yes")
    for args in (
        ("history",),
        ("history", "--json"),
        ("status",),
        ("status", "--json"),
        ("requirements", "proj"),
        ("requirements", "proj", "--json"),
        ("check", "--json"),
    ):
        assert run(*args).returncode != 70
    assert (
        "privatepkg @ https://files.example.invalid/privatepkg-1.0.tar.gz"
        in outputs["requirements proj"]
    )

    for command, text in outputs.items():
        assert leaks(text) == [], (command, text)
    for path in state_files():  # state.db (and its WAL), logs, caches
        if path.is_file():
            assert leaks(path.read_bytes()) == [], path


def test_the_debug_log_of_an_internal_error_holds_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An internal error is a bug, so one is made: the config loader raises with a URL
    (the only fake here; no real input may cause an internal error)."""
    from venv_doctor import config

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"bug near https://u:{SECRETS['env_password']}@h/x?token=t0k")

    monkeypatch.setattr(config, "load", broken)
    code = cli(["check", f"https://u:{SECRETS['argv']}@host/simple"])
    assert code == 70
    out, err = capsys.readouterr()
    log = app_dirs(os.environ).debug_log
    assert "RuntimeError" in log.read_text()
    assert leaks(out + err + log.read_text()) == []


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonRun]]:
    runs: list[DaemonRun] = []

    def make(**kw: Any) -> DaemonRun:
        runs.append(DaemonRun(tmp_path, **kw))
        return runs[-1]

    yield make
    for run in runs:
        if run.proc is not None:
            run.stop()


def test_the_daemon_logs_and_notifies_a_failed_rebuild_without_secrets(
    daemon: Callable[..., DaemonRun], isolated_home: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    env = secret_environment(tmp_path)
    _, interpreter = broken_venv(tmp_path, isolated_home, wheelhouse)
    forwarded = {k: env[k] for k in ("PIP_CONFIG_FILE", "PIP_INDEX_URL", "UV_HTTP_TIMEOUT")}
    run = daemon(auto="rebuild", env=forwarded)
    config = app_dirs(os.environ).config_file  # the daemon's config, plus the uv installer
    config.write_text(config.read_text().replace("[repair]\n", '[repair]\ninstaller = "uv"\n'))
    assert venv_doctor("check", env=env).returncode == 0  # a snapshot to rebuild from
    run.start()
    shutil.rmtree(interpreter)
    try:
        notes = wait_for(
            lambda: [n for n in run.notifications() if n["kind"] == "repair_failed"],
            120,
            "a repair_failed notification",
        )
    finally:
        code, log = run.stop()
        print(log)
    assert code == 0, log
    assert "could not" in json.dumps(notes) or "failed" in json.dumps(notes)
    assert leaks(json.dumps(notes)) == [], notes
    assert leaks(log) == [], log
    for path in state_files():
        if path.is_file():
            assert leaks(path.read_bytes()) == [], path
