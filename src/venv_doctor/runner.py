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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.errors import VenvDoctorError

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
        tail = "\n".join(output.strip().splitlines()[-TAIL_LINES:])
        message = f"`{shlex.join(args)}` {detail}"
        super().__init__(message + (f"\n{tail}" if tail else ""))
        self.args_run = tuple(args)
        self.output = output


Runner = Callable[..., Completed]


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
        proc = subprocess.run(
            args,
            input=stdin,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=child_env(env),
            cwd=cwd,
            check=False,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise CommandError(args, f"cannot start: {exc.filename or args[0]} not found") from exc
    except PermissionError as exc:
        raise CommandError(args, f"cannot start: {exc.strerror}") from exc
    except OSError as exc:
        raise CommandError(args, f"cannot start: {exc.strerror or exc}") from exc
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or "") if isinstance(exc.stdout, str) else ""
        raise CommandError(args, f"timed out after {timeout:g} s", out) from exc
    done = Completed(args, proc.returncode, proc.stdout, proc.stderr)
    if check and not done.ok:
        raise CommandError(
            args, f"failed with exit code {proc.returncode}", proc.stdout + proc.stderr
        )
    return done
