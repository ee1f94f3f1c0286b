"""The one place venv-doctor starts a process.

Every child gets a scrubbed environment (no PYTHONPATH, PYTHONHOME, VIRTUAL_ENV,
__PYVENV_LAUNCHER__ or NOTIFY_SOCKET leaking in), a timeout, and failures come
back as a CommandError that shows the command, exit code and output tail.
Core code takes a ``Runner`` so tests can substitute this seam.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.errors import VenvDoctorError
from venv_doctor.sanitize import redact

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
        message = f"`{redact(shlex.join(args))}` {detail}"
        super().__init__(message + (f"\n{tail}" if tail else ""))
        self.args_run = tuple(args)
        self.output = output


Runner = Callable[..., Completed]

# Set by the daemon on SIGTERM: running children are killed and CommandError is
# raised, so a rebuild in progress rolls back instead of being cut off.
CANCEL = threading.Event()
POLL = 0.25


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(extra or {})
    return env


def run(
    cmd: Sequence[str | Path],
    *,
    timeout: float = 600.0,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    check: bool = False,
) -> Completed:
    """Run ``cmd``; with ``check`` a non-zero exit raises CommandError."""
    args = tuple(str(c) for c in cmd)
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=child_env(env),
            cwd=cwd,
        )
    except FileNotFoundError as exc:
        raise CommandError(args, f"cannot start: {exc.filename or args[0]} not found") from exc
    except OSError as exc:
        raise CommandError(args, f"cannot start: {exc.strerror or exc}") from exc
    stdout, stderr = _wait(proc, args, stdin, timeout)
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
    proc.kill()
    out, err = proc.communicate()
    return out or "", err or ""
