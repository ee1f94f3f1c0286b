"""Starting an interpreter to check it: the one probe program venv-doctor runs
(what it is, where it runs, what it sees, what it can import), and the cache
that spares running it again to learn an interpreter's version.

Every check that starts an interpreter (the inventory, ``check --deep``, the
check after a relink or a rebuild) runs ``PROGRAM`` and reads its ``Report``.
A static ``check`` never starts it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from venv_doctor import runner
from venv_doctor.fsutil import atomic_write
from venv_doctor.interpreters.versions import EXACT, patchlevel_version, version_from_path
from venv_doctor.runner import CommandError

MARK = "VENV-DOCTOR-PROBE"
# The one program venv-doctor starts an interpreter with (Python 2.7 through 3.13):
# what it is, where it runs, the site-packages it sees and, given module names as
# arguments, which of them cannot be imported. One ``MARK key value`` line each, so
# whatever else the interpreter prints (a sitecustomize, an imported module) is ignored.
PROGRAM = (
    "import os, sys\n"
    "v = sys.version_info\n"
    "n = getattr(getattr(sys, 'implementation', None), 'name', None)\n"
    "if n is None:\n"
    "    import platform\n"
    "    n = platform.python_implementation().lower()\n"
    "sp = [p for p in sys.path if p.endswith('site-packages')]\n"
    "out = [('implementation', n), ('version', '%d.%d.%d' % (v[0], v[1], v[2])),\n"
    "       ('prefix', sys.prefix), ('real-prefix', os.path.realpath(sys.prefix))]\n"
    "out += [('site', p) for p in sp] + [('real-site', os.path.realpath(p)) for p in sp]\n"
    "if len(sys.argv) > 1:\n"
    "    import importlib\n"
    "    for name in sys.argv[1:]:\n"
    "        try:\n"
    "            importlib.import_module(name)\n"
    "        except Exception as exc:\n"
    "            out.append(('cannot-import', '%s (%s: %s)' % (name, type(exc).__name__, exc)))\n"
    f"sys.stdout.write(''.join('{MARK} %s %s\\n' % (k, str(x).replace('\\n', ' ')) for k, x in out))\n"
)
PROBE_TIMEOUT = 15.0
CACHE_NAME = "interpreters.json"


@dataclass(frozen=True)
class Report:
    """What the probe program printed."""

    implementation: str
    version: str  # "3.12.1"
    prefix: str
    real_prefix: str
    site_paths: tuple[str, ...] = ()
    real_site_paths: tuple[str, ...] = ()
    import_failures: tuple[str, ...] = ()  # "name (ImportError: ...)"

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


def command(python: Path | str, *modules: str, isolated: bool = True) -> list[str]:
    """The probe of ``python``; ``isolated`` adds -E -s (no PYTHON* variables, no user site)."""
    return [str(python), *(("-E", "-s") if isolated else ()), "-c", PROGRAM, *modules]


def parse(stdout: str) -> Report | None:
    """The report in ``stdout``, or None when the program did not run to its end."""
    values: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        if line.startswith(MARK + " "):
            key, _, value = line[len(MARK) + 1 :].partition(" ")
            values.setdefault(key, []).append(value)

    def one(key: str) -> str | None:
        found = values.get(key)
        return found[0] if found else None

    implementation, version = one("implementation"), one("version")
    prefix, real_prefix = one("prefix"), one("real-prefix")
    if implementation is None or version is None or prefix is None or real_prefix is None:
        return None
    return Report(
        implementation,
        version,
        prefix,
        real_prefix,
        tuple(values.get("site", ())),
        tuple(values.get("real-site", ())),
        tuple(values.get("cannot-import", ())),
    )


class ProbeCache:
    """Probe results kept in a JSON file, keyed by real path, mtime and size."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.changed = False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
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
        with open(real, "rb") as fh:
            head = fh.read(2)
    except OSError:
        return False
    return head != b"#!" and os.access(real, os.X_OK)


def _probe(path: Path, real: Path, cache: ProbeCache) -> str | None:
    """The CPython version from one run of the interpreter (cached), else None."""
    known = cache.get(real)
    if known is None:
        try:
            done = runner.run(command(path), timeout=PROBE_TIMEOUT)
        except CommandError:
            return None
        report = parse(done.stdout) if done.ok else None
        if report is None or not EXACT.match(report.version):
            return None
        known = (report.implementation, report.version)
        cache.put(real, *known)
    implementation, version = known
    return version if implementation == "cpython" else None


def cpython_version(path: Path, real: Path, cache: ProbeCache) -> str | None:
    """The CPython version at ``path``: from the path or ``patchlevel.h`` when they tell,
    else from one (cached) run of the interpreter; None when it is not a CPython."""
    guess = version_from_path(real)
    if guess.full:
        return guess.full
    if guess.minor:
        found = patchlevel_version(real, guess.minor)
        if found:
            return found
    version = _probe(path, real, cache)
    if version and guess.minor and not version.startswith(guess.minor + "."):
        return None  # the name says another minor than the binary: not to be trusted
    return version
