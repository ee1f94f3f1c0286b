"""The one place venv-doctor starts a process.

Every child starts from the environment its caller passes (the Context's ``env``:
this module never reads the process environment), scrubbed (no PYTHONPATH,
PYTHONHOME, VIRTUAL_ENV, __PYVENV_LAUNCHER__ or NOTIFY_SOCKET leaking in), with a
timeout, and failures come back as a CommandError that shows the command, exit code
and output tail. Core code takes a ``Runner`` so tests can substitute this seam.

Children die with venv-doctor. Each venv-doctor process has one process group
for its children, led by a watchdog (``/bin/sh`` blocked reading a pipe only
this process holds open): when venv-doctor ends, however it ends, the pipe
closes and the watchdog kills its whole group, grandchildren included (the
pip that ``python -m venv`` starts to seed pip, say). A rebuild's journal
records the group (``group()``) before its first child starts, and recovery
kills whatever of it is left (``end_group``) before it rolls anything back.
This needs no ``preexec_fn`` (unsafe with threads) and no ``prctl``, and works
the same on macOS. A timeout, cancel or interrupt kills the child's whole tree.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from venv_doctor.errors import VenvDoctorError
from venv_doctor.render.sanitize import command, redact

SCRUBBED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONEXECUTABLE",
    "VIRTUAL_ENV",
    "__PYVENV_LAUNCHER__",
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
)
TAIL_LINES = 15
RUN_ENV = "VENV_DOCTOR_RUN"  # every child carries its run's token, so escapees can be found
WATCHDOG_NAME = "venv-doctor-watchdog"
# $0 is WATCHDOG_NAME and $1 the token, so the leader's command line names its run.
_WATCHDOG_SCRIPT = "read _ ; kill -KILL 0"
# For the runner's own helpers (the watchdog, ps): nothing of the user's is needed.
_MINIMAL_ENV = {"PATH": os.defpath}


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class CommandError(VenvDoctorError):
    def __init__(self, args: Sequence[str], detail: str, output: str = "") -> None:
        tail = redact("\n".join(output.strip().splitlines()[-TAIL_LINES:]))
        message = f"`{redact(command(*args))}` {detail}"
        super().__init__(message + (f"\n{tail}" if tail else ""))
        self.args_run = tuple(args)
        self.output = output


class Runner(Protocol):
    """What core code calls to start a process: ``run``, or a test's stand-in."""

    def __call__(
        self,
        cmd: Sequence[str | Path],
        /,
        *,
        env: Mapping[str, str],
        extra: Mapping[str, str] | None = None,
        timeout: float = ...,
        cwd: Path | None = None,
        stdin: str | None = None,
        check: bool = False,
    ) -> Completed: ...


# Set by the daemon on SIGTERM: running children are killed and CommandError is
# raised, so a rebuild in progress rolls back instead of being cut off.
CANCEL = threading.Event()
POLL = 0.25
# A transaction's private temp directory, passed to its children as TMPDIR so
# pip's and uv's scratch files go where recovery can find them.
_TMPDIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar("tmpdir", default=None)


@dataclass(frozen=True)
class Group:
    """The process group of one venv-doctor process's children, as a journal records it."""

    pgid: int
    token: str


class _Watchdog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.owner = 0  # the pid that started it (a forked child needs its own)
        self.token = ""

    def group(self) -> Group:
        with self.lock:
            proc = self.proc
            if proc is None or self.owner != os.getpid() or proc.poll() is not None:
                self.token = f"{os.getpid()}-{os.urandom(6).hex()}"  # what secrets.token_hex does, without importing hashlib
                proc = self.proc = subprocess.Popen(
                    ["/bin/sh", "-c", _WATCHDOG_SCRIPT, WATCHDOG_NAME, self.token],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    process_group=0,
                    env=_MINIMAL_ENV,
                )
                self.owner = os.getpid()
            return Group(proc.pid, self.token)

    def close(self) -> None:
        """At a normal exit: close the pipe, so the watchdog ends its group, and reap it."""
        proc = self.proc
        if proc is None or self.owner != os.getpid():
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


_WATCHDOG = _Watchdog()
atexit.register(_WATCHDOG.close)


def group() -> Group:
    """This process's child group, its watchdog started if need be."""
    return _WATCHDOG.group()


@contextlib.contextmanager
def temp_scope(tmpdir: Path) -> Iterator[None]:
    """Children started in this block get ``TMPDIR=tmpdir``."""
    token = _TMPDIR.set(tmpdir)
    try:
        yield
    finally:
        _TMPDIR.reset(token)


def child_env(
    env: Mapping[str, str], extra: Mapping[str, str] | None = None, run_token: str = ""
) -> dict[str, str]:
    """``env`` scrubbed, the transaction's TMPDIR and the run's token set, then ``extra``
    (variables the caller means the child to have, VIRTUAL_ENV included)."""
    out = {k: v for k, v in env.items() if k not in SCRUBBED and k != RUN_ENV}
    tmpdir = _TMPDIR.get()
    if tmpdir is not None:
        out.update(TMPDIR=str(tmpdir), TEMP=str(tmpdir), TMP=str(tmpdir))
    if run_token:
        out[RUN_ENV] = run_token
    out.update(extra or {})
    return out


def run(
    cmd: Sequence[str | Path],
    /,
    *,
    env: Mapping[str, str],
    extra: Mapping[str, str] | None = None,
    timeout: float = 600.0,
    cwd: Path | None = None,
    stdin: str | None = None,
    check: bool = False,
) -> Completed:
    """Run ``cmd`` in ``env`` (the caller's environment, scrubbed) plus ``extra``;
    with ``check`` a non-zero exit raises CommandError."""
    args = tuple(str(c) for c in cmd)
    try:
        leader = group()
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=child_env(env, extra, leader.token),
            cwd=cwd,
            process_group=leader.pgid,
        )
    except FileNotFoundError as exc:
        raise CommandError(args, f"cannot start: {exc.filename or args[0]} not found") from exc
    except OSError as exc:
        raise CommandError(args, f"cannot start: {exc.strerror or exc}") from exc
    try:
        stdout, stderr = _wait(proc, args, stdin, timeout)
    except BaseException:  # KeyboardInterrupt, SystemExit: the child must not outlive us
        _kill(proc)
        raise
    done = Completed(args, proc.returncode, stdout, stderr)
    if check and not done.ok:
        raise CommandError(args, f"failed with exit code {proc.returncode}", stdout + stderr)
    return done


def _wait(
    proc: subprocess.Popen[str], args: tuple[str, ...], stdin: str | None, timeout: float
) -> tuple[str, str]:
    """Wait for ``proc`` in short slices so a timeout or CANCEL can end it."""
    deadline = time.monotonic() + timeout
    pending_input = stdin
    while True:
        try:
            out, err = proc.communicate(pending_input, timeout=POLL)
            return out or "", err or ""
        except subprocess.TimeoutExpired:
            pending_input = None  # communicate() already sent it
            if CANCEL.is_set():
                _kill(proc)
                raise CommandError(args, "was cancelled (venv-doctor is stopping)") from None
            if time.monotonic() >= deadline:
                out, err = _kill(proc)
                raise CommandError(args, f"timed out after {timeout:g} s", out + err) from None


def _kill(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Kill ``proc`` and every process it started, then collect what it wrote."""
    for pid in [*descendants(proc.pid), proc.pid]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # a process that left the tree holds the pipes
        proc.wait()
        return "", ""
    return out or "", err or ""


# --- processes on Linux, read from /proc ----------------------------------------------------

_PROC = Path("/proc")


@dataclass(frozen=True)
class _Stat:
    pid: int
    state: str
    ppid: int
    pgid: int


def _stat(pid: int) -> _Stat | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the command name may hold spaces
    try:
        return _Stat(pid, fields[0], int(fields[1]), int(fields[2]))
    except (IndexError, ValueError):
        return None


def _processes() -> list[_Stat]:
    """Every live (not zombie) process, when /proc says; empty elsewhere."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(_PROC):
            if entry.name.isdigit():
                st = _stat(int(entry.name))
                if st is not None and st.state not in ("Z", "X"):
                    found.append(st)
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux; elsewhere none are known)."""
    children: dict[int, list[int]] = {}
    for st in _processes():
        children.setdefault(st.ppid, []).append(st.pid)
    found, todo = [], list(children.get(pid, ()))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, ()))
    return found


def _environ_has(pid: int, marker: bytes) -> bool:
    try:
        return marker in (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _cmdline(pid: int) -> list[str] | None:
    if _PROC.is_dir():
        try:
            raw = (_PROC / str(pid) / "cmdline").read_bytes()
        except OSError:
            return None
        return [os.fsdecode(a) for a in raw.split(b"\0") if a]
    try:
        done = run(["ps", "-o", "command=", "-p", str(pid)], env=_MINIMAL_ENV, timeout=30)
    except CommandError:
        return None
    return done.stdout.split() if done.ok else None


def _is_ours(leader: Group) -> bool:
    """The group is still the dead run's: its leader is gone (a group id is not
    reused while members live) or is that run's watchdog."""
    args = _cmdline(leader.pgid)
    return args is None or not args or (WATCHDOG_NAME in args and leader.token in args)


def live_members(leader: Group) -> list[int]:
    """Processes of a run's group still alive, and (Linux) any that left it."""
    if _PROC.is_dir():
        marker = f"{RUN_ENV}={leader.token}".encode()
        ours = _is_ours(leader)
        return [
            st.pid
            for st in _processes()
            if (ours and st.pgid == leader.pgid) or _environ_has(st.pid, marker)
        ]
    try:
        os.killpg(leader.pgid, 0)
    except ProcessLookupError:
        return []
    except PermissionError:
        return []  # another user's group: not ours
    return [leader.pgid] if _is_ours(leader) else []


def end_group(leader: Group, timeout: float = 10.0) -> list[int]:
    """Make sure no process of a dead run is alive: kill, then wait. Returns the pids
    that were still alive; raises VenvDoctorError if some cannot be ended."""
    if leader.token.startswith(f"{os.getpid()}-"):
        return []  # this process's own group: its run is alive (it is us)
    found = live_members(leader)
    deadline = time.monotonic() + timeout
    alive = found
    while alive:
        for pid in alive:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() >= deadline:
            raise VenvDoctorError(
                f"processes of an interrupted repair are still running: {alive}",
                hint=f"end them (kill -9 {' '.join(map(str, alive))}) and run again",
            )
        time.sleep(0.05)
        alive = live_members(leader)
    return found
