"""The deep check: start each venv's interpreter once with a tiny probe.

The probe runs on Python 2.7 through 3.13, prints one line, and tells what only
running shows: a missing libpython or stdlib, the real version, whether the
venv's site-packages is visible.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from venv_doctor import runner
from venv_doctor.diagnose.probe_result import ProbeResult
from venv_doctor.render.sanitize import command
from venv_doctor.runner import CommandError

MARK = "VENV-DOCTOR-PROBE"
# One line of JSON after the mark: a prefix or site-packages path holding "|" or a
# line break stays data (json escapes it). Runs on 2.7 and 3.6+ (``u''``, bytes paths).
PROBE = (
    "import sys, json\n"
    "def t(s):\n"
    "    return s if isinstance(s, type(u'')) else s.decode('utf-8', 'replace')\n"
    "v = sys.version_info\n"
    "sp = [t(p) for p in sys.path if p.endswith('site-packages')]\n"
    "out = {'version': '%d.%d.%d' % (v[0], v[1], v[2]), 'prefix': t(sys.prefix), 'site': sp}\n"
    f"sys.stdout.write('{MARK}' + json.dumps(out) + '\\n')\n"
)
DEFAULT_TIMEOUT = 10.0


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
    shown = f"`{command(*cmd)}` "
    detail = exc.message[len(shown) :] if exc.message.startswith(shown) else exc.message
    detail = detail.removeprefix("cannot start: ")
    return detail.splitlines()[0] if detail.strip() else "(no output)"


def _parse(line: str) -> tuple[str, str, tuple[str, ...]] | None:
    """The probe's JSON line as (version, prefix, site-packages paths); None if damaged."""
    try:
        data = json.loads(line[len(MARK) :])
        version, prefix, site = data["version"], data["prefix"], data["site"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(version, str) and isinstance(prefix, str) and isinstance(site, list)):
        return None
    return version, prefix, tuple(p for p in site if isinstance(p, str) and p)


def probe(
    python: Path,
    expected_site: Iterable[Path] = (),
    timeout: float = DEFAULT_TIMEOUT,
    then: str = "",
    args: Iterable[str] = (),
    *,
    env: Mapping[str, str],
) -> ProbeResult:
    """Start ``python`` once; ``then`` is more code to run in the same start (with
    ``args`` as ``sys.argv[1:]``), its output lines returned as ``more``."""
    site = tuple(str(p) for p in expected_site)
    cmd = [str(python), "-E", "-s", "-c", PROBE + then, *args]
    try:
        done = runner.run(cmd, env=env, timeout=timeout)
    except CommandError as exc:
        return ProbeResult(False, None, error_line=_why_not(cmd, exc), expected_site=site)
    lines = done.stdout.splitlines()
    for number, line in enumerate(lines):
        found = _parse(line) if line.startswith(MARK) and done.ok else None
        if found is not None:
            version, prefix, paths = found
            more = tuple(lines[number + 1 :])
            return ProbeResult(True, 0, version, prefix, paths, expected_site=site, more=more)
    return ProbeResult(
        False,
        done.returncode,
        error_line=_error_line(done.stderr + done.stdout),
        expected_site=site,
    )


def probe_many(
    targets: list[tuple[Path, tuple[Path, ...]]],
    env: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> list[ProbeResult]:
    """Probe every (interpreter, site-packages) pair in parallel, results in order."""
    workers = workers or min(32, 4 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda t: probe(t[0], t[1], timeout, env=env), targets))
