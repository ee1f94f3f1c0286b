"""SIGKILL a real repair at a chosen instant, run any command, and judge what is left.

Shared by ``tests/test_faults.py`` (a few instants per case, in CI) and
``bench/bench_faults.py`` (the long loop whose figures the README quotes).

A case is a venv in a throwaway home and the command that repairs it:
"rebuild-uv" and "rebuild-pip" rebuild a Python 3.11 venv with 3 packages and
user files into 3.12 with that installer; "relink" relinks a venv whose
Homebrew-style keg was upgraded. A trial restores the broken venv from a
template (``cp -a``, so byte for byte), starts the repair, sends SIGKILL to
venv-doctor alone (its children must end on their own) after ``at`` seconds,
runs ``venv-doctor check``, and then judges:

- the venv: byte-identical to before (paths, modes, contents, link targets),
  or the new one healthy with every package and every user file; else lost;
- orphans: processes still alive that carry the killed run's token;
- temp dirs: anything left in venv-doctor's cache ``tmp/`` or in the TMPDIR
  venv-doctor was given.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import FakeHomebrew, make_venv, pip_install, real_python, tree_digest

CASES = ("rebuild-uv", "rebuild-pip", "relink")
ROLLED_BACK, COMMITTED, LOST = "rolled back intact", "committed healthy", "lost"
USER_FILES = {
    "bin/postactivate": "export PROJ=1\n",
    ".project": "/home/me/src/proj\n",
    "etc/app.ini": "[app]\nx = 1\n",
}


@dataclass(frozen=True)
class Verdict:
    outcome: str  # ROLLED_BACK, COMMITTED or LOST
    orphans: int  # processes of the killed run still alive
    temp_left: int  # entries left in venv-doctor's temp dirs
    detail: str = ""


def _orphans(pid: int) -> int:
    """Live processes whose environment carries the token of the run ``pid`` started."""
    marker = f"VENV_DOCTOR_RUN={pid}-".encode()
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if stat[0] in ("Z", "X"):
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            watchdog = b"venv-doctor-watchdog" in cmdline and any(
                a.startswith(f"{pid}-".encode()) for a in cmdline
            )
            if watchdog or any(e.startswith(marker) for e in environ):
                count += 1
    return count


class Case:
    """One repair scenario in its own throwaway home under ``root``."""

    def __init__(self, root: Path, kind: str, wheelhouse: Path) -> None:
        self.root, self.kind, self.wheelhouse = root, kind, wheelhouse
        self.work = root / "work"
        self.template = root / "template"
        self.venv = self.work / "home" / ".virtualenvs" / "proj"
        self.homebrew = FakeHomebrew(root / "homebrew")
        self._setup()
        self.before = tree_digest(self.template / self.venv.relative_to(self.work))

    # --- the scenario ---------------------------------------------------------------------

    def _setup(self) -> None:
        if self.kind == "relink":
            python = self.homebrew.install("3.12", "3.12.1")
        else:
            python = real_python("3.11")
        make_venv(python, self.venv)
        pip_install(self.venv, self.wheelhouse, "tinytop==3.0.0")
        for rel, text in USER_FILES.items():
            (self.venv / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.venv / rel).write_text(text)
        (self.venv / "bin" / "mylink").symlink_to("postactivate")
        if self.kind == "relink":
            self.homebrew.upgrade("3.12", "3.12.1", "3.12.2")
        installer = "pip" if self.kind == "rebuild-pip" else "uv"
        config = self.work / "vd" / "config" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'[repair]\ninstaller = "{installer}"\n')
        shutil.copytree(self.work, self.template, symlinks=True)

    def env(self) -> dict[str, str]:
        home = self.work / "home"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("VENV_DOCTOR_", "PIP_", "UV_", "XDG_", "VIRTUAL_ENV"))
        }
        env.update(
            HOME=str(home),
            PATH=os.pathsep.join([str(Path(sys.executable).parent), os.defpath]),
            PYENV_ROOT=str(self.root / "pyenv"),
            HOMEBREW_PREFIX=str(self.homebrew.prefix),
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS=str(self.wheelhouse),
            PIP_CONFIG_FILE=os.devnull,
            UV_PYTHON_DOWNLOADS="never",
            UV_NO_CACHE="1",
            TMPDIR=str(self.work / "tmp"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
        )
        for name in ("CONFIG", "STATE", "CACHE", "LOG"):
            env[f"VENV_DOCTOR_{name}_DIR"] = str(self.work / "vd" / name.lower())
        return env

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "venv_doctor", "repair", "proj", "--yes"]
        if self.kind != "relink":
            args += ["--python", str(real_python("3.12")), "--strategy", "rebuild"]
        return args

    # --- trials -----------------------------------------------------------------------------

    def reset(self) -> None:
        if self.work.exists():
            subprocess.run(["rm", "-rf", str(self.work)], check=True)
        shutil.copytree(self.template, self.work, symlinks=True)
        (self.work / "tmp").mkdir()

    def duration(self) -> float:
        """How long an uninterrupted repair takes (and that it works at all)."""
        self.reset()
        start = time.monotonic()
        done = subprocess.run(
            self.command(), env=self.env(), capture_output=True, text=True, check=False
        )
        took = time.monotonic() - start
        verdict = self.judge(0)
        if done.returncode != 0 or verdict.outcome != COMMITTED:
            raise AssertionError(
                f"{self.kind}: the uninterrupted repair did not work ({verdict.detail}):\n"
                + done.stdout
                + done.stderr
            )
        return took

    def trial(self, at: float) -> Verdict:
        """Start the repair, SIGKILL venv-doctor after ``at`` seconds, run a command, judge."""
        self.reset()
        proc = subprocess.Popen(
            self.command(),
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=at)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        return self.judge(proc.pid)

    def judge(self, pid: int) -> Verdict:
        after = subprocess.run(
            [sys.executable, "-m", "venv_doctor", "check", "proj", "--json"],
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        orphans = _orphans(pid) if pid else 0
        temp_left = len(list((self.work / "tmp").iterdir()))
        cache_tmp = self.work / "vd" / "cache" / "tmp"
        if cache_tmp.is_dir():
            temp_left += len(list(cache_tmp.iterdir()))
        if self.venv.is_dir() and tree_digest(self.venv) == self.before:
            return Verdict(ROLLED_BACK, orphans, temp_left)
        problem = self._unhealthy(after)
        if problem is None:
            return Verdict(COMMITTED, orphans, temp_left)
        return Verdict(LOST, orphans, temp_left, problem)

    def _unhealthy(self, after: subprocess.CompletedProcess[str]) -> str | None:
        """None when the repaired venv is healthy with every package and user file."""
        try:
            venvs = json.loads(after.stdout)["venvs"]
        except (ValueError, KeyError):
            return f"check failed ({after.returncode}): {after.stderr.strip()[-500:]}"
        status = [v["status"] for v in venvs if v["name"] == "proj"]
        tinytop = subprocess.run(
            [str(self.venv / "bin" / "tinytop")], capture_output=True, text=True, check=False
        )
        problems = [
            f"check says {status}" if status != ["healthy"] else "",
            "bin/tinytop does not run" if tinytop.stdout.strip() != "tinytop" else "",
            "no lib/python3.12" if not (self.venv / "lib" / "python3.12").is_dir() else "",
            *(f"{rel} is missing or changed" for rel in self._changed_user_files()),
        ]
        return "; ".join(p for p in problems if p) or None

    def _changed_user_files(self) -> list[str]:
        changed = [
            rel
            for rel, text in USER_FILES.items()
            if not (self.venv / rel).is_file() or (self.venv / rel).read_text() != text
        ]
        link = self.venv / "bin" / "mylink"
        if not link.is_symlink() or os.readlink(link) != "postactivate":
            changed.append("bin/mylink")
        return changed


def instants(duration: float, count: int) -> list[float]:
    """``count`` kill instants spread evenly over the whole run (and a little past it)."""
    return [duration * (i + 0.5) / count * 1.05 for i in range(count)]
