"""Running an interpreter once to learn its implementation and version (with the
one probe program, ``interpreters.program``), and the cache that spares running
it again.

A static ``check`` never imports this module.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from venv_doctor import runner
from venv_doctor.fsutil import atomic_write, read_bounded, read_json
from venv_doctor.interpreters.program import command, parse
from venv_doctor.interpreters.versions import EXACT, patchlevel_version, version_from_path
from venv_doctor.runner import CommandError

PROBE_TIMEOUT = 15.0


class ProbeCache:
    """Probe results kept in a JSON file, keyed by real path, mtime and size."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.changed = False
        try:
            data = read_json(path, follow_symlinks=False)
            entries = data["entries"] if isinstance(data, dict) else {}
        except (OSError, ValueError, KeyError):
            entries = {}
        self.entries: dict[str, Any] = entries if isinstance(entries, dict) else {}

    @staticmethod
    def _stamp(real: Path) -> list[int] | None:
        try:
            st = os.stat(real)
        except OSError:
            return None
        return [st.st_mtime_ns, st.st_size]

    def get(self, real: Path) -> tuple[str, str] | None:
        entry = self.entries.get(str(real))
        if isinstance(entry, dict) and entry.get("stamp") == self._stamp(real):
            return str(entry.get("implementation")), str(entry.get("version"))
        return None

    def put(self, real: Path, implementation: str, version: str) -> None:
        self.entries[str(real)] = {
            "stamp": self._stamp(real),
            "implementation": implementation,
            "version": version,
        }
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        kept = {k: v for k, v in self.entries.items() if os.path.exists(k)}
        # a cache that cannot be written costs one probe next time
        with contextlib.suppress(OSError):
            atomic_write(self.path, json.dumps({"schema_version": 1, "entries": kept}, indent=1))


def looks_like_binary(real: Path) -> bool:
    """A real interpreter is an executable binary; pyenv shims and wrappers are scripts."""
    try:
        head = read_bounded(real, 2, truncate=True)
    except OSError:
        return False
    return head != b"#!" and os.access(real, os.X_OK)


def _probe(path: Path, real: Path, cache: ProbeCache, env: Mapping[str, str]) -> str | None:
    """The CPython version from one run of the interpreter (cached), else None."""
    known = cache.get(real)
    if known is None:
        try:
            done = runner.run(command(path), env=env, timeout=PROBE_TIMEOUT)
        except CommandError:
            return None
        report = parse(done.stdout) if done.ok else None
        if report is None or not EXACT.match(report.version):
            return None
        known = (report.implementation, report.version)
        cache.put(real, *known)
    implementation, version = known
    return version if implementation == "cpython" else None


def cpython_version(
    path: Path, real: Path, cache: ProbeCache, env: Mapping[str, str]
) -> str | None:
    """The CPython version at ``path``: from the path or ``patchlevel.h`` when they tell,
    else from one (cached) run of the interpreter; None when it is not a CPython."""
    guess = version_from_path(real)
    if guess.full:
        return guess.full
    if guess.minor:
        found = patchlevel_version(real, guess.minor)
        if found:
            return found
    version = _probe(path, real, cache, env)
    if version and guess.minor and not version.startswith(guess.minor + "."):
        return None  # the name says another minor than the binary: not to be trusted
    return version
