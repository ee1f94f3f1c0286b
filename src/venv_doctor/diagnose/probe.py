"""The deep check: start each venv's interpreter once with the probe program
(``interpreters.program.PROGRAM``, Python 2.7 through 3.13).

It tells what only running shows: a missing libpython or stdlib, the real
version, whether the venv's site-packages is visible.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from venv_doctor import runner
from venv_doctor.interpreters import program
from venv_doctor.runner import CommandError

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ProbeResult:
    started: bool
    returncode: int | None = None
    version: str | None = None
    prefix: str | None = None
    site_paths: tuple[str, ...] = ()
    error_line: str = ""
    expected_site: tuple[str, ...] = ()

    @property
    def minor(self) -> str | None:
        return ".".join(self.version.split(".")[:2]) if self.version else None

    @property
    def site_packages_missing(self) -> bool:
        if not self.expected_site:
            return False
        seen = {os.path.realpath(p) for p in self.site_paths}
        return not any(os.path.realpath(p) in seen for p in self.expected_site)

    def describe_exit(self) -> str:
        if self.returncode is None:
            return "no exit code (it could not be started)"
        if self.returncode < 0:
            return f"signal {-self.returncode}"
        return f"code {self.returncode}"


def _error_line(text: str) -> str:
    """The most telling line of a failed start: the loader's or Python's own words."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for key in ("error while loading shared libraries", "Library not loaded", "No module named"):
        for line in lines:
            if key in line:
                return line
    for line in lines:
        if line.startswith(("Could not find platform", "Fatal Python error")):
            return line
    return lines[-1] if lines else "(no output)"


def _why_not(cmd: list[str], exc: CommandError) -> str:
    """The runner's reason (``cannot start: ... not found``, ``timed out ...``) without
    the command, which holds the whole multi-line probe script."""
    shown = f"`{shlex.join(cmd)}` "
    detail = exc.message[len(shown) :] if exc.message.startswith(shown) else exc.message
    detail = detail.removeprefix("cannot start: ")
    return detail.splitlines()[0] if detail.strip() else "(no output)"


def probe(
    python: Path, expected_site: Iterable[Path] = (), timeout: float = DEFAULT_TIMEOUT
) -> ProbeResult:
    site = tuple(str(p) for p in expected_site)
    cmd = program.command(python)
    try:
        done = runner.run(cmd, timeout=timeout)
    except CommandError as exc:
        return ProbeResult(False, None, error_line=_why_not(cmd, exc), expected_site=site)
    report = program.parse(done.stdout) if done.ok else None
    if report is not None:
        paths = tuple(p for p in report.site_paths if p)
        return ProbeResult(True, 0, report.version, report.prefix, paths, expected_site=site)
    return ProbeResult(
        False,
        done.returncode,
        error_line=_error_line(done.stderr + done.stdout),
        expected_site=site,
    )


def probe_many(
    targets: list[tuple[Path, tuple[Path, ...]]],
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> list[ProbeResult]:
    """Probe every (interpreter, site-packages) pair in parallel, results in order."""
    workers = workers or min(32, 4 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda t: probe(t[0], t[1], timeout), targets))
