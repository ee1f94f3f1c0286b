"""The one program venv-doctor starts an interpreter with, and the report it prints.

The inventory (``interpreters.probe``), the check after a relink
(``repair.relink.verify``) and the import check after a rebuild
(``repair.execute.verify_rebuilt``) run it. (``check --deep``'s probe,
``diagnose.probe``, still has its own JSON program: folding it in is left to do.) This module only holds the text and reads the
output; it starts nothing, so a static ``check`` may import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
    # a value is one line: a backslash, newline or carriage return in it (a venv's path
    # may hold them) is escaped, and ``parse`` gives it back as it was
    "def one_line(x):\n"
    "    return str(x).replace('\\\\', '\\\\\\\\').replace('\\n', '\\\\n').replace('\\r', '\\\\r')\n"
    f"sys.stdout.write(''.join('{MARK} %s %s\\n' % (k, one_line(x)) for k, x in out))\n"
)
_ESCAPED = re.compile(r"\\([\\nr])")
_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r"}


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
    for line in stdout.split("\n"):  # not splitlines: a value may hold \x1c, \x85, ...
        if line.startswith(MARK + " "):
            key, _, value = line[len(MARK) + 1 :].partition(" ")
            values.setdefault(key, []).append(_ESCAPED.sub(lambda m: _UNESCAPE[m[1]], value))

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
