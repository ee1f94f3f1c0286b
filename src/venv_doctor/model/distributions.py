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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor import sanitize
from venv_doctor.model.dist_info import dist_info
from venv_doctor.model.egg_info import egg_info, egg_link
from venv_doctor.model.metadata import Found, read_headers, requirement_names

KINDS = ("index", "editable", "vcs", "archive", "legacy")
# Installed with every venv; left out of requirements unless the user asked for them.
SEEDS = frozenset({"pip", "setuptools", "wheel"})
# A seed whose REQUESTED marker was written this soon after the venv was made came
# from ensurepip / the venv seeder, not from the user (ensurepip marks pip requested).
SEED_WINDOW_SECONDS = 600
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
        return {**self.as_dict(), "installer": self.installer}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Package:
        kind = str(data.get("kind", "index"))
        return cls(
            name=str(data["name"]),
            version=str(data.get("version") or ""),
            requested=bool(data.get("requested", False)),
            kind=kind if kind in KINDS else "index",
            url=data.get("url") if isinstance(data.get("url"), str) else None,
            installer=data.get("installer") if isinstance(data.get("installer"), str) else None,
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


def site_packages_stamp(site_packages: Sequence[Path], extra: str = "") -> str | None:
    """A cheap token that changes when a distribution is added, removed or replaced.

    Two stats per site-packages directory, nothing listed: installs, upgrades and
    uninstalls add, remove or rename entries, which updates the directory's mtime
    and ctime (ctime cannot be set back, so copies made with ``cp -p`` still
    count as changes); ``lib/pythonX.Y`` tells when the venv was made (seeds).
    None when no site-packages directory can be read.
    """
    parts = [READER_VERSION, extra]
    readable = False
    for sp in site_packages:
        try:
            here, parent = os.stat(sp), os.stat(sp.parent)
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
        if entry.name.endswith(".dist-info"):
            found.append(dist_info(entry, verify, warnings))
        elif entry.name.endswith(".egg-info"):
            found.append(egg_info(entry, warnings))
        elif entry.name.endswith(".egg-link"):
            found.append(egg_link(entry, warnings))
    return [f for f in found if f is not None]


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


def _settle(found: list[Found], seeded_at: float | None, warnings: list[str]) -> list[Package]:
    needed = _required_by_others(found, warnings) if any(map(_needs_graph, found)) else set()
    out = []
    for f in found:
        requested = f.name not in needed if _needs_graph(f) else f.marker
        if f.name in SEEDS and seeded_at is not None and f.mtime - seeded_at < SEED_WINDOW_SECONDS:
            requested = False
        out.append(Package(f.name, f.version, requested, f.kind, f.url, f.installer))
    return out


def read(site_packages: Sequence[Path], verify: bool = False) -> Contents:
    """Every distribution in ``site_packages``, one per name, sorted by name."""
    warnings: list[str] = []
    found: list[Found] = []
    for sp in site_packages:
        found += _scan_dir(sp, verify, warnings)
    seeded_at = _created_at(site_packages)
    packages = _settle(_unique(found, warnings), seeded_at, warnings)
    return Contents(tuple(sorted(packages, key=lambda p: p.name)), tuple(warnings))


def _created_at(site_packages: Sequence[Path]) -> float | None:
    """When the venv was made: ``lib/pythonX.Y`` gets its last entry (site-packages) then."""
    for sp in site_packages:
        try:
            return os.stat(sp.parent).st_mtime
        except OSError:
            continue
    return None
