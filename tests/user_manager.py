"""A real ``systemd --user`` for the service tests, on a machine not booted with systemd.

systemd refuses to run a user instance unless ``/run/systemd/system`` exists
("the system has not been booted with systemd"). So the manager runs in a
private mount namespace (``unshare --mount --propagation private``) whose
``/run/systemd``, ``/run/user``, ``/run/log`` and ``/var/log/journal`` are
fresh tmpfs mounts: inside it ``/run/systemd/system`` exists, outside nothing
changed. It runs in a cgroup of its own (made by the boot script in every
hierarchy it uses, and refused if that fails: a manager whose cgroup is the
root would take every process of the machine into its ``init.scope``), with
its own ``systemd-journald``. Commands reach it through ``nsenter -t PID -m``
with ``XDG_RUNTIME_DIR=/run/user/0``.

Needs root, util-linux (unshare, nsenter) and systemd; a test that cannot
have the manager fails under CI=true and is skipped elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import IN_CI

SYSTEMD = Path("/lib/systemd/systemd")
JOURNALD = Path("/lib/systemd/systemd-journald")
RUNTIME_DIR = "/run/user/0"
CGROUP_ROOT = Path("/sys/fs/cgroup")
START_TIMEOUT = 30.0

# $1: the cgroup name. Every step is checked: a half-made namespace must not
# start a manager.
BOOT = r"""
set -eu
name="$1"
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/systemd/system
mkdir -p /run/user /run/log /var/log/journal
mount -t tmpfs -o mode=0755 tmpfs /run/user
mkdir -m 0700 /run/user/0
mount -t tmpfs -o mode=0755 tmpfs /run/log
mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
moved=0
for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    if [ -e "$h/cgroup.procs" ] && [ -n "$(stat -f -c %T "$h" | grep -E 'cgroup2?fs|cgroup')" ]; then
        mkdir "$h/$name"
        echo $$ > "$h/$name/cgroup.procs"
        moved=1
    fi
done
if [ "$moved" = 0 ] || grep -qE '^0::/$' /proc/self/cgroup; then
    echo "no cgroup of its own: refusing to start a manager at the root cgroup" >&2
    exit 97
fi
/lib/systemd/systemd-journald &
export XDG_RUNTIME_DIR=/run/user/0
exec /lib/systemd/systemd --user
"""


class ManagerUnavailable(Exception):
    """The user manager cannot run here (and why)."""


def cannot_run_reason() -> str | None:
    if os.geteuid() != 0:
        return "a private mount namespace needs root"
    for tool in ("unshare", "nsenter", "systemctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    for exe in (SYSTEMD, JOURNALD):
        if not os.access(exe, os.X_OK):
            return f"{exe} is not installed (Debian: apt-get install systemd)"
    if (
        not (CGROUP_ROOT / "cgroup.procs").exists()
        and not (CGROUP_ROOT / "unified" / "cgroup.procs").exists()
    ):
        return "no cgroup v2 hierarchy to give the manager a cgroup of its own"
    return None


@dataclass
class UserManager:
    """A running ``systemd --user`` and the way in."""

    pid: int
    cgroup: str
    home: Path  # the manager's HOME: its unit files live in home/.config/systemd/user
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def unit_dir(self) -> Path:
        return self.home / ".config" / "systemd" / "user"

    def command(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
        """``argv`` as run inside the manager's namespace, with ``env`` as its whole environment."""
        full = {**self.env, **(env or {}), "XDG_RUNTIME_DIR": RUNTIME_DIR}
        pairs = [f"{k}={v}" for k, v in sorted(full.items())]
        return ["nsenter", "-t", str(self.pid), "-m", "env", "-i", *pairs, *argv]

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        check: bool = True,
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.command(argv, env),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(["systemctl", "--user", "--no-pager", *args], check=check)

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.systemctl("show", unit, *(f"--property={p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_for(self, unit: str, want: Mapping[str, str], timeout: float = 30.0) -> dict[str, str]:
        """Poll ``systemctl --user show`` until every property in ``want`` has its value."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.show(unit, *want)
            if all(got.get(k) == v for k, v in want.items()):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{unit}: wanted {dict(want)}, got {got}\n{self.journal()}")
            time.sleep(0.2)

    def journal(self, identifier: str | None = None, *args: str) -> str:
        """The log (lines of one SyslogIdentifier, when named). journald keeps root's
        user units in the system journal, and cannot name a unit of a manager outside
        user@.service's cgroup: the identifier is what tells the lines apart."""
        argv = ["journalctl", "--no-pager", "-o", "short-precise", *args]
        argv += ["-t", identifier] if identifier else []
        proc = self.run(argv, check=False)
        return proc.stdout + proc.stderr

    def pids(self, sub: str = "") -> list[int]:
        """Every process in the manager's cgroup tree (or its ``sub`` cgroup)."""
        found: list[int] = []
        for hierarchy in _hierarchies():
            top = hierarchy / self.cgroup / sub
            for procs in top.rglob("cgroup.procs") if top.is_dir() else ():
                with contextlib.suppress(OSError):
                    found += [int(p) for p in procs.read_text().split()]
        return sorted(set(found))

    def stop(self) -> None:
        """Stop journald while the manager can still reap it, SIGTERM the manager (it stops
        its units), then SIGKILL whatever is left, by pid."""
        helpers = [p for p in self.pids("init.scope") if p != self.pid]
        for pid in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        while set(helpers) & set(self.pids("init.scope")) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        if self.popen is not None:  # our child: a zombie until reaped
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(15.0)
        else:
            _wait_gone(self.pid, 15.0)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        _remove_cgroups(self.cgroup)


def _hierarchies() -> list[Path]:
    return [
        h
        for h in (CGROUP_ROOT / "unified", CGROUP_ROOT / "systemd", CGROUP_ROOT)
        if (h / "cgroup.procs").exists()
    ]


def _remove_cgroups(name: str) -> None:
    for hierarchy in _hierarchies():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for sub in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if sub.is_dir():
                with contextlib.suppress(OSError):
                    sub.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def start(home: Path, log: Path) -> UserManager:
    """Boot a user manager whose HOME is ``home``; raise ManagerUnavailable if it cannot."""
    reason = cannot_run_reason()
    if reason:
        raise ManagerUnavailable(reason)
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    name = f"venv-doctor-test-{os.getpid()}-{time.monotonic_ns()}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", BOOT, "boot", name],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "XDG_RUNTIME_DIR": RUNTIME_DIR},
            start_new_session=True,
        )
    manager = UserManager(pid=proc.pid, cgroup=name, home=home, log=log, env=env, popen=proc)
    try:
        _wait_running(manager, proc)
    except BaseException:
        manager.stop()
        raise
    return manager


def _wait_running(manager: UserManager, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    state = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ManagerUnavailable(
                f"systemd --user exited {proc.returncode}: {manager.log.read_text(errors='replace')}"
            )
        state = manager.systemctl("is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(0.2)
    raise ManagerUnavailable(f"systemd --user is {state!r} after {START_TIMEOUT:g} s")


@contextlib.contextmanager
def user_manager(home: Path, log: Path) -> Iterator[UserManager]:
    manager = start(home, log)
    try:
        yield manager
    finally:
        manager.stop()


def require(exc: ManagerUnavailable) -> None:
    """Fail under CI=true, skip elsewhere."""
    message = f"no real systemd user manager: {exc}"
    if IN_CI:
        pytest.fail(message + " (CI=true needs it)")
    pytest.skip(message)
