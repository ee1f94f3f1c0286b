"""From a snapshot to a requirements file ``pip install -r`` accepts.

Rules, per distribution:
- index install: ``name==version``
- editable install: ``-e <project path>``
- VCS install: ``name @ git+URL@commit``
- local archive (or directory): ``name @ file:///...`` while the file exists,
  else ``name==version`` with a comment saying why
- remote archive: ``name @ URL``
- legacy (egg-info): ``name==version``
What the venv's creator seeded (ensurepip's pip, virtualenv's seeds) is left out:
the new venv's creator seeds its own.
``exact`` pins every distribution; ``top-level`` only the requested ones.
Lines are sorted by name so snapshots diff cleanly.
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass

from venv_doctor.model.distributions import (
    Package,
    Snapshot,
    file_url_path,
    strip_credentials,
)
from venv_doctor.render.sanitize import printable


@dataclass(frozen=True)
class Requirements:
    """What a rebuild installs: pinned requirements and the (name, version) set to expect."""

    text: str
    expected: frozenset[tuple[str, str]]
    had_pip: bool = False
    editable: frozenset[str] = frozenset()  # names installed editable (no version to expect)
    held: frozenset[str] = frozenset()  # every name the old venv held, seeded ones too
    exact: bool = True  # the installed set must be ``expected``, nothing more (not so when
    # the rebuild resolves afresh, e.g. from the project's declared dependencies)
    requested: frozenset[str] = frozenset()  # what the user asked for: verification imports
    # these distributions' modules (empty: every distribution's)


class Mode(enum.StrEnum):
    EXACT = "exact"
    TOP_LEVEL = "top-level"


def selected(snapshot: Snapshot, mode: Mode) -> tuple[Package, ...]:
    """The packages ``mode`` keeps (seeded ones included; ``render`` drops them)."""
    if mode is Mode.TOP_LEVEL:
        return tuple(p for p in snapshot.packages if p.requested)
    return snapshot.packages


# What a requirements file can carry without a name, version or URL becoming another line
# or another option: PEP 508 names, versions of version characters, URLs without spaces.
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9.+!_-]+$")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\x80-\x9f\u2028\u2029]")


def line(package: Package) -> str:
    """One requirement line; credentials in URLs are stripped (pip asks netrc/keyring).

    A name, version or source that could break out of its line (a line break in a
    path, a space and an option after a version) is written as a comment instead: a
    snapshot of a hostile venv must not put a requirement of its choosing in a rebuild.
    """
    text = _line(package)
    url_ok = not package.url or not _UNSAFE.search(package.url)
    version_ok = not package.version or _VERSION.match(package.version)
    if _NAME.match(package.name) and version_ok and url_ok:
        return text
    return (
        f"# {printable(package.name)} {printable(package.version)}: left out, its name, "
        "version or source holds characters a requirements file cannot carry"
    )


def _line(package: Package) -> str:
    pin = (
        f"{package.name}=={package.version}"
        if package.version
        else f"# {package.name}: version unknown"
    )
    url = package.url
    if package.kind in ("index", "legacy") or not url:
        return pin
    note = "  # credentials removed from the URL" if strip_credentials(url) != url else ""
    url = strip_credentials(url)
    local = file_url_path(url)
    if package.kind == "editable":
        if local is None:
            return f"-e {url}{note}"
        if not os.path.isdir(local):
            return f"{pin}  # was editable from {printable(str(local))}, which no longer exists"
        return f"-e {local}"
    if local is not None and not os.path.exists(local):
        return f"{pin}  # was installed from {printable(url)}, which no longer exists"
    return f"{package.name} @ {_with_host(url)}{note}"


def _with_host(url: str) -> str:
    """``git+file:///repo`` as ``git+file://localhost/repo``: pip (packaging < 22)
    rejects a ``name @ vcs+file`` URL without a host; git and uv accept both."""
    scheme, sep, rest = url.partition(":///")
    if sep and scheme.endswith("+file"):
        return f"{scheme}://localhost/{rest}"
    return url


def header(snapshot: Snapshot, mode: Mode) -> list[str]:
    python = snapshot.python_version or "unknown"
    return [
        f"# requirements of {printable(str(snapshot.venv))}",  # a path is data, not lines
        f"# {snapshot.source} snapshot taken at {snapshot.taken_at.isoformat(timespec='seconds')}"
        f", Python {python}, mode {mode.value}",
    ]


def render(snapshot: Snapshot, mode: Mode = Mode.EXACT, with_header: bool = True) -> str:
    packages = [p for p in selected(snapshot, mode) if not p.seeded]
    lines = header(snapshot, mode) if with_header else []
    lines += [line(p) for p in sorted(packages, key=lambda p: p.name)]
    return "\n".join(lines) + "\n"
