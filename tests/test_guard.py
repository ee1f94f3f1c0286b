"""The `pyenv uninstall` guard, driven through the real pyenv, python-build's `uninstall`
and pyenv-virtualenv, in a temporary PYENV_ROOT whose version links to a test interpreter."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import IN_CI, REAL_PYENV_ROOT, make_venv, real_python
from venv_doctor.cli import run

PLUGINS = ("pyenv-virtualenv", "python-build")


def _pyenv() -> Path:
    exe = REAL_PYENV_ROOT / "bin" / "pyenv"
    missing = [p for p in PLUGINS if not (REAL_PYENV_ROOT / "plugins" / p).is_dir()]
    if not exe.exists() or missing:
        message = f"the real pyenv with {', '.join(PLUGINS)} is needed under {REAL_PYENV_ROOT}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return exe


class Pyenv:
    """A PYENV_ROOT of the test's: ``versions/<ver>`` links to a real interpreter."""

    def __init__(self, root: Path, minor: str) -> None:
        self.exe = _pyenv()
        self.root = root
        real = real_python(minor)
        self.version = real.parent.parent.name  # e.g. 3.10.13
        self.prefix = root / "versions" / self.version
        (self.prefix / "bin").mkdir(parents=True)
        for name in (f"python{minor}", "python3", "python"):
            (self.prefix / "bin" / name).symlink_to(real)
        (self.prefix / "lib").symlink_to(real.parent.parent / "lib")
        (root / "plugins").mkdir()
        for plugin in PLUGINS:
            (root / "plugins" / plugin).symlink_to(REAL_PYENV_ROOT / "plugins" / plugin)
        self.env = {
            **os.environ,
            "PYENV_ROOT": str(root),
            "PATH": f"{REAL_PYENV_ROOT / 'bin'}:/usr/bin:/bin",
        }

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.exe), *args],
            env=self.env,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            cwd=self.root,
        )


@pytest.fixture
def pyenv(isolated_home: Path) -> Pyenv:
    root = Path(os.environ["PYENV_ROOT"])  # the autouse fixture's, under tmp_path
    return Pyenv(root, "3.10")


def _config(text: str) -> None:
    config_dir = Path(os.environ["VENV_DOCTOR_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(text)


def test_uninstall_is_blocked_then_warned_and_everything_can_be_brought_back(
    pyenv: Pyenv, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = pyenv("virtualenv", pyenv.version, "pyenvtool")
    assert made.returncode == 0, made.stderr
    outside = make_venv(pyenv.prefix / "bin" / "python3.10", isolated_home / ".virtualenvs" / "api")
    assert run(["hooks", "install", "pyenv"]) == 0
    hook = pyenv.root / "pyenv.d" / "uninstall" / "venv-doctor.bash"
    assert str(hook) in capsys.readouterr().out
    listed = pyenv("hooks", "uninstall").stdout.splitlines()
    assert listed[0] == str(hook)  # before pyenv-virtualenv's, which deletes the envs

    _config("[guard]\nblock = true\n")
    blocked = pyenv("uninstall", "-f", pyenv.version)
    assert blocked.returncode != 0
    assert "will vanish with it: pyenvtool (pyenv-virtualenv)" in blocked.stderr
    assert "will break: api (virtualenvwrapper)" in blocked.stderr
    assert "not uninstalled: [guard] block = true" in blocked.stderr
    assert (pyenv.prefix / "envs" / "pyenvtool" / "pyvenv.cfg").exists()

    _config("")
    done = pyenv("uninstall", "-f", pyenv.version)
    assert done.returncode == 0, done.stderr
    assert "venv-doctor repair pyenvtool api" in done.stderr
    assert not os.path.lexists(pyenv.prefix)
    assert pyenv.version not in pyenv("versions", "--bare").stdout
    assert outside.is_dir()  # broken, not touched
    assert run(["requirements", "pyenvtool", "--json"]) == 0  # recorded before it vanished
    assert json.loads(capsys.readouterr().out)["source"] == "recorded"


def test_on_a_terminal_the_user_decides(pyenv: Pyenv, isolated_home: Path) -> None:
    make_venv(pyenv.prefix / "bin" / "python3.10", isolated_home / ".virtualenvs" / "api")
    assert run(["hooks", "install", "pyenv"]) == 0
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(pyenv.exe), "uninstall", pyenv.version],
        env=pyenv.env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=pyenv.root,
    )
    os.close(slave)
    seen = b""
    answers = {b"(y/N)": b"y\n", b"anyway? [y/N]": b"n\n"}  # pyenv's question, then ours
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
            for question, answer in list(answers.items()):
                if question in seen:
                    os.write(master, answer)
                    del answers[question]
    proc.wait(timeout=30)
    os.close(master)
    text = seen.decode(errors="replace")
    assert not answers, text
    assert proc.returncode != 0, text
    assert "will break: api" in text and "not uninstalled" in text
    assert pyenv.prefix.is_dir()


def test_hooks_uninstall_removes_only_its_own_file(
    pyenv: Pyenv, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = pyenv.root / "pyenv.d" / "uninstall" / "venv-doctor.bash"
    assert run(["hooks", "install", "pyenv"]) == 0
    capsys.readouterr()
    assert run(["hooks", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hooks"][0]["installed"] is True
    assert run(["hooks", "uninstall", "pyenv"]) == 0
    assert not hook.exists() and not (pyenv.root / "pyenv.d").exists()
    hook.parent.mkdir(parents=True)
    hook.write_text("before_uninstall 'echo mine'\n")
    assert run(["hooks", "install", "pyenv"]) == 1
    assert run(["hooks", "uninstall", "pyenv"]) == 1
    assert "was not written by venv-doctor" in capsys.readouterr().err
    assert hook.read_text() == "before_uninstall 'echo mine'\n"
