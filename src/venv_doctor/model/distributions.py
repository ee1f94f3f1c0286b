"""What a venv holds, read from its site-packages without running anything.

Every ``*.dist-info``, legacy ``*.egg-info`` (directory or single file) and
``*.egg-link`` becomes a Package: canonical name, version, installer, whether
the user asked for it, and how it was installed (PEP 610 ``direct_url.json``).
Damaged metadata gives a warning naming the file; the rest is still read.

Name and version come from the ``name-version.dist-info`` directory name when
it is well formed (no file opened); ``verify=True`` also reads METADATA and
RECORD and warns when they are damaged or disagree.

This module settles what was found (one distribution per name, which ones the
user asked for) and holds the values; reading one entry is ``model.dist_info``
(``*.dist-info``, PEP 610) and ``model.egg_info`` (``*.egg-info``, ``*.egg-link``),
over the file readers of ``model.metadata``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.model.dist_info import dist_info
from venv_doctor.model.egg_info import egg_info, egg_link
from venv_doctor.model.metadata import (
    Found,
    canonical_name,
    read_headers,
    requirement_names,
    requires_txt_lines,
)
from venv_doctor.render import sanitize

KINDS = ("index", "editable", "vcs", "archive", "legacy")
# The names a venv creator may put in a new venv itself (ensurepip, virtualenv's seeder).
SEEDS = frozenset({"pip", "setuptools", "wheel"})
# uv writes REQUESTED for every distribution it installs (uv-install-wheel), so
# for uv installs "requested" is "no other installed distribution needs it".
INSTALLERS_MARKING_ALL = frozenset({"uv"})
READER_VERSION = "1"  # part of the stamp: bump when what is read changes


@dataclass(frozen=True)
class Package:
    """One installed distribution, as a snapshot records it."""

    name: str  # canonical (PEP 503)
    version: str
    requested: bool
    kind: str  # one of KINDS
    url: str | None = None  # editable/vcs/archive source; VCS URLs carry the commit
    installer: str | None = None
    # the venv's creator put it there (ensurepip's bundled wheel, virtualenv's seeder),
    # not the user or the owning tool: a rebuild lets the new venv's creator seed it
    seeded: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The public JSON form (the `requirements --json` contract)."""
        return {
            "name": self.name,
            "version": self.version,
            "requested": self.requested,
            "kind": self.kind,
            "url": self.url,
        }

    def to_record(self) -> dict[str, Any]:
        return {**self.as_dict(), "installer": self.installer, "seeded": self.seeded}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Package:
        kind = str(data.get("kind", "index"))
        name = str(data["name"])
        requested = bool(data.get("requested", False))
        # records from before "seeded" was read: an unrequested pip/setuptools/wheel
        # was what those versions left out of a rebuild, and still is
        seeded = data.get("seeded", name in SEEDS and not requested)
        return cls(
            name=name,
            version=str(data.get("version") or ""),
            requested=requested,
            kind=kind if kind in KINDS else "index",
            url=data.get("url") if isinstance(data.get("url"), str) else None,
            installer=data.get("installer") if isinstance(data.get("installer"), str) else None,
            seeded=bool(seeded),
        )

    def redacted(self) -> Package:
        return replace(self, url=redact_url(self.url)) if self.url else self


@dataclass(frozen=True)
class Snapshot:
    """What a venv held at a moment, read from disk or recorded in the state DB."""

    venv: Path
    taken_at: datetime
    python_version: str | None
    packages: tuple[Package, ...]
    source: str  # "disk" or "recorded"

    @property
    def content_hash(self) -> str:
        return content_hash(self.packages, self.python_version)

    def by_name(self) -> dict[str, Package]:
        return {p.name: p for p in self.packages}


@dataclass(frozen=True)
class Contents:
    packages: tuple[Package, ...]
    warnings: tuple[str, ...] = ()


def redact_url(url: str | None) -> str | None:
    """Hide credentials: ``user:secret@`` -> ``user:****@``, ``?token=****``
    (``sanitize.redact_url``). A bare user on an ssh URL (``git+ssh://git@host``) stays."""
    return sanitize.redact_url(url)


def strip_credentials(url: str) -> str:
    """The URL with its secrets removed entirely (pip then asks netrc / keyring)."""
    return sanitize.strip_credentials(url)


def content_hash(packages: Iterable[Package], python_version: str | None) -> str:
    body = json.dumps(
        [python_version, [p.to_record() for p in packages]], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def file_url_path(url: str) -> Path | None:
    """The local path of a ``file://`` URL, else None."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


# --- site-packages stamp ---------------------------------------------------------------


def site_packages_stamp(site_packages: Sequence[str | Path], extra: str = "") -> str | None:
    """A cheap token that changes when a distribution is added, removed or replaced.

    Two stats per site-packages directory, nothing listed: installs, upgrades and
    uninstalls add, remove or rename entries, which updates the directory's mtime
    and ctime (ctime cannot be set back, so copies made with ``cp -p`` still
    count as changes); ``lib/pythonX.Y`` changes when the venv is made anew.
    None when no site-packages directory can be read.
    """
    parts = [READER_VERSION, extra]
    readable = False
    for each in site_packages:
        sp = os.fspath(each)  # text: this runs for every venv of a check
        try:
            here, parent = os.stat(sp), os.stat(sp.rpartition("/")[0] or "/")
        except OSError:
            parts.append(f"{sp}:unreadable")
            continue
        readable = True
        parts.append(
            f"{sp}:{here.st_ino}:{here.st_mtime_ns}:{here.st_ctime_ns}:{parent.st_mtime_ns}"
        )
    if not readable:
        return None
    token = "\0".join(parts).encode("utf-8", "surrogateescape")  # file names need not be UTF-8
    return hashlib.sha1(token, usedforsecurity=False).hexdigest()


# --- a whole venv ------------------------------------------------------------------------


def _scan_dir(sp: Path, verify: bool, warnings: list[str]) -> list[Found]:
    try:
        with os.scandir(sp) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        warnings.append(f"{sp} cannot be read: {exc.strerror or exc}")
        return []
    found: list[Found | None] = []
    for entry in entries:
        if entry.name.endswith(".virtualenv"):
            continue  # virtualenv's seeder marks what it put there: see _seeded
        if entry.name.endswith(".dist-info"):
            found.append(dist_info(entry, verify, warnings))
        elif entry.name.endswith(".egg-info"):
            found.append(egg_info(entry, warnings))
        elif entry.name.endswith(".egg-link"):
            found.append(egg_link(entry, warnings))
    out = [f for f in found if f is not None]
    markers = {e.name for e in entries if e.name.endswith(".virtualenv")}
    for f in out:
        f.seeded = f"{f.name.replace('-', '_')}-{f.version}.virtualenv" in markers
    return out


def _unique(found: list[Found], warnings: list[str]) -> list[Found]:
    """One distribution per name: the most recently installed wins, with a warning."""
    by_name: dict[str, list[Found]] = {}
    for f in found:
        by_name.setdefault(f.name, []).append(f)
    out = []
    for name, group in by_name.items():
        group.sort(key=lambda f: f.mtime)
        if len(group) > 1:
            versions = ", ".join(f.version for f in group)
            warnings.append(
                f"{name} is installed {len(group)} times ({versions}); "
                f"the newest install, {group[-1].version}, is used"
            )
        out.append(group[-1])
    return out


def _needs_graph(f: Found) -> bool:
    return f.legacy or f.installer is None or f.installer in INSTALLERS_MARKING_ALL


def _required_by_others(found: list[Found], warnings: list[str]) -> set[str]:
    needed: set[str] = set()
    for f in found:
        if f.requires is None:
            headers = read_headers(f.metadata, warnings) if f.metadata else None
            f.requires = requirement_names((headers or {}).get("requires-dist", []))
        needed.update(r for r in f.requires if r != f.name)
    return needed


def _seeded(f: Found, bundled: Mapping[str, str]) -> bool:
    """The creator put it there: virtualenv's seeder marked it, or it is exactly the
    wheel the interpreter bundles for ensurepip, installed by pip (as ensurepip does).
    No clock is consulted: ``pipx install wheel`` a minute after the venv was made
    is the user's wheel."""
    if f.seeded:
        return True
    return f.installer == "pip" and f.kind == "index" and bundled.get(f.name) == f.version


def _settle(
    found: list[Found],
    bundled: Mapping[str, str],
    requested_by_owner: Collection[str],
    warnings: list[str],
) -> list[Package]:
    needed = _required_by_others(found, warnings) if any(map(_needs_graph, found)) else set()
    out = []
    for f in found:
        seeded = f.name in SEEDS and _seeded(f, bundled)
        if seeded:
            requested = False  # ensurepip writes REQUESTED for pip: the creator's request
        elif f.name in requested_by_owner or f.kind in ("vcs", "archive", "editable"):
            requested = True  # named by the owner's records, or by a URL (PEP 610)
        else:
            requested = f.name not in needed if _needs_graph(f) else f.marker
        out.append(Package(f.name, f.version, requested, f.kind, f.url, f.installer, seeded))
    return out


def read(
    site_packages: Sequence[Path],
    verify: bool = False,
    bundled: Mapping[str, str] | None = None,
    requested_by_owner: Collection[str] = (),
) -> Contents:
    """Every distribution in ``site_packages``, one per name, sorted by name.

    ``bundled`` names the wheels the venv's interpreter bundles for ensurepip
    (name -> version, see ``bundled_wheels``); ``requested_by_owner`` the
    distributions the owning tool's records say the user asked for.
    """
    warnings: list[str] = []
    found: list[Found] = []
    for sp in site_packages:
        found += _scan_dir(sp, verify, warnings)
    owner = {canonical_name(n) for n in requested_by_owner}
    packages = _settle(_unique(found, warnings), bundled or {}, owner, warnings)
    return Contents(tuple(sorted(packages, key=lambda p: p.name)), tuple(warnings))


@dataclass(frozen=True)
class Dependencies:
    """What each distribution requires, as written (PEP 508: extras and markers kept)."""

    by_name: Mapping[str, tuple[str, ...]]
    warnings: tuple[str, ...] = ()


def _requirement_lines(f: Found, warnings: list[str]) -> tuple[str, ...]:
    """Requires-Dist from METADATA (PKG-INFO), else a legacy install's requires.txt."""
    headers = read_headers(f.metadata, warnings) if f.metadata else None
    lines = tuple((headers or {}).get("requires-dist", ()))
    if not lines and f.requires_file:
        return requires_txt_lines(f.requires_file, warnings)
    return lines


def dependencies(site_packages: Sequence[Path]) -> Dependencies:
    """Every distribution in ``site_packages`` (one per name) with its requirements,
    read through the bounded readers: a METADATA that is a FIFO, a device or huge is a
    warning, never a hang."""
    warnings: list[str] = []
    found: list[Found] = []
    for sp in site_packages:
        found += _scan_dir(sp, False, warnings)
    by_name = {f.name: _requirement_lines(f, warnings) for f in _unique(found, warnings)}
    return Dependencies(by_name, tuple(warnings))


_BUNDLED_WHEEL = re.compile(r"^([A-Za-z0-9_.]+)-([A-Za-z0-9.+!_]+?)-py[0-9.]+-none-any\.whl$")


def bundled_wheels(prefixes: Iterable[Path], minor: str) -> dict[str, str]:
    """The wheels ensurepip installs for Python ``minor`` of an installation at one of
    ``prefixes``: ``lib/pythonX.Y/ensurepip/_bundled``, or Debian's
    ``share/python-wheels`` (its ``WHEEL_PKG_DIR``). Empty when none can be read."""
    return {name: version for name, (version, _) in bundled_wheel_files(prefixes, minor).items()}


def bundled_wheel_files(prefixes: Iterable[Path], minor: str) -> dict[str, tuple[str, Path]]:
    """As ``bundled_wheels``, with each wheel's file: name -> (version, path)."""
    for prefix in prefixes:
        for where in (
            prefix / "lib" / f"python{minor}" / "ensurepip" / "_bundled",
            prefix / "share" / "python-wheels",
        ):
            try:
                names = os.listdir(where)
            except OSError:
                continue
            found = {}
            for name in names:
                match = _BUNDLED_WHEEL.match(name)
                if match and canonical_name(match.group(1)) in SEEDS:
                    found[canonical_name(match.group(1))] = (match.group(2), where / name)
            if found:
                return found
    return {}
