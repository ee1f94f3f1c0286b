"""What a venv holds, read from its site-packages without running anything.

Every ``*.dist-info``, legacy ``*.egg-info`` (directory or single file) and
``*.egg-link`` becomes a Package: canonical name, version, installer, whether
the user asked for it, and how it was installed (PEP 610 ``direct_url.json``).
Damaged metadata gives a warning naming the file; the rest is still read.

Name and version come from the ``name-version.dist-info`` directory name when
it is well formed (no file opened); ``verify=True`` also reads METADATA and
RECORD and warns when they are damaged or disagree.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor import sanitize
from venv_doctor.fsutil import LARGE_FILE, SMALL_FILE, loads_json, open_regular, read_bounded

KINDS = ("index", "editable", "vcs", "archive", "legacy")
# Installed with every venv; left out of requirements unless the user asked for them.
SEEDS = frozenset({"pip", "setuptools", "wheel"})
# A seed whose REQUESTED marker was written this soon after the venv was made came
# from ensurepip / the venv seeder, not from the user (ensurepip marks pip requested).
SEED_WINDOW_SECONDS = 600
# uv writes REQUESTED for every distribution it installs (uv-install-wheel), so
# for uv installs "requested" is "no other installed distribution needs it".
INSTALLERS_MARKING_ALL = frozenset({"uv"})
MAX_HEADER_BYTES = 1 << 20
HEADER_CHUNK = 1 << 14
READER_VERSION = "1"  # part of the stamp: bump when what is read changes

_NAME_RUN = re.compile(r"[-_.]+")
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_]*$")
_HEADER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):\s?(.*)$")


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


@dataclass
class _Found:
    """A distribution as found on disk, before `requested` is settled."""

    name: str
    version: str
    kind: str
    installer: str | None
    marker: bool  # REQUESTED present
    mtime: float
    url: str | None = None
    requires: tuple[str, ...] | None = None  # None: not read yet
    metadata: str | None = None  # METADATA, read for Requires-Dist only when needed
    legacy: bool = False  # egg-info / egg-link: no REQUESTED marker exists


def canonical_name(name: str) -> str:
    return _NAME_RUN.sub("-", name).lower()


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


# --- small file readers -----------------------------------------------------------------


# The readers take ``str`` paths: thousands of dist-info directories are read on a
# first check, and Path objects were a quarter of that time.


def _read_small(path: str, limit: int = 1 << 16, truncate: bool = False) -> bytes:
    return read_bounded(path, limit, truncate=truncate)


def _read_until_blank_line(path: str) -> bytes:
    """The header block only: METADATA goes on with the (long) description."""
    chunks: list[bytes] = []
    size = 0
    with open_regular(path) as fh:
        while size < MAX_HEADER_BYTES:
            chunk = fh.read(HEADER_CHUNK)
            chunks.append(chunk)
            size += len(chunk)
            if len(chunk) < HEADER_CHUNK or b"\n\n" in chunk or b"\r\n\r\n" in chunk:
                break
    data = b"".join(chunks)
    end = data.find(b"\n\n")
    return data if end < 0 else data[: end + 1]


def _read_headers(path: str, warnings: list[str]) -> dict[str, list[str]] | None:
    """RFC 822 style headers (METADATA / PKG-INFO) up to the first blank line."""
    try:
        raw = _read_until_blank_line(path)
    except OSError as exc:
        warnings.append(f"{path} cannot be read: {exc.strerror or exc}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"{path} is not UTF-8 text")
        return None
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            break
        if line[0] in " \t" and last:
            headers[last][-1] += "\n" + line.strip()
            continue
        match = _HEADER.match(line)
        if not match:
            warnings.append(f"{path} line {number} is not a 'Key: value' header")
            return None
        last = match.group(1).lower()
        headers.setdefault(last, []).append(match.group(2).strip())
    return headers


def _header(headers: dict[str, list[str]] | None, key: str) -> str | None:
    values = (headers or {}).get(key)
    return values[0] if values else None


def _requirement_names(lines: Iterable[str]) -> tuple[str, ...]:
    """Names a distribution needs unconditionally (extras-only requirements skipped)."""
    out = []
    for line in lines:
        _, _, marker = line.partition(";")
        if "extra" in marker and "==" in marker:
            continue
        match = _REQ_NAME.match(line)
        if match:
            out.append(canonical_name(match.group(1)))
    return tuple(out)


def _requires_txt(path: str) -> tuple[str, ...]:
    """Legacy ``requires.txt``: the unnamed section and ``[:marker]`` sections."""
    try:
        text = _read_small(path, SMALL_FILE).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    lines, active = [], True
    for line in text.splitlines():
        if line.startswith("["):
            active = line.startswith("[:")
        elif active and line.strip():
            lines.append(line)
    return _requirement_names(lines)


def _installer(info: str, names: set[str]) -> str | None:
    if "INSTALLER" not in names:
        return None
    try:
        value = _read_small(os.path.join(info, "INSTALLER"), 256, True).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


# --- direct_url.json (PEP 610) ----------------------------------------------------------


def _direct_url(path: str, warnings: list[str]) -> tuple[str, str | None]:
    """The install kind and source URL recorded in ``direct_url.json``."""
    try:
        data = loads_json(_read_small(path, SMALL_FILE).decode("utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not JSON, nested too deeply
        why = (
            f"cannot be read ({exc.strerror or exc})"
            if isinstance(exc, OSError)
            else f"is not valid JSON ({type(exc).__name__}: {str(exc)[:120]})"
        )
        warnings.append(f"{path} {why}; read as an index install")
        return "index", None
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url:
        warnings.append(f'{path} has no "url"; read as an index install')
        return "index", None
    if isinstance(data.get("vcs_info"), dict):
        return "vcs", _vcs_url(url, data["vcs_info"], data.get("subdirectory"))
    if isinstance(data.get("dir_info"), dict):
        return ("editable" if data["dir_info"].get("editable") else "archive"), url
    if isinstance(data.get("archive_info"), dict):
        return "archive", url
    warnings.append(f"{path} names no dir_info, vcs_info or archive_info; read as an archive")
    return "archive", url


def _vcs_url(url: str, info: dict[str, Any], subdirectory: Any) -> str:
    vcs = info.get("vcs") if isinstance(info.get("vcs"), str) and info["vcs"] else "git"
    base = url if url.startswith(f"{vcs}+") else f"{vcs}+{url}"
    revision = next(
        (
            r
            for r in (info.get("commit_id"), info.get("requested_revision"))
            if isinstance(r, str) and r
        ),
        None,
    )
    out = f"{base}@{revision}" if revision else base
    return out + (f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) else "")


# --- one distribution per entry ---------------------------------------------------------


def _split_stem(stem: str) -> tuple[str, str] | None:
    """``name-version`` from a well-formed dist-info directory name."""
    if stem.count("-") != 1:
        return None
    name, version = stem.split("-")
    if not name or not _VERSION.match(version):
        return None
    return canonical_name(name), version


def _dist_info(entry: os.DirEntry[str], verify: bool, warnings: list[str]) -> _Found | None:
    info = entry.path
    metadata = os.path.join(info, "METADATA")
    try:
        names = set(os.listdir(info))
        mtime = entry.stat().st_mtime
    except OSError as exc:
        warnings.append(f"{info} cannot be read: {exc.strerror or exc}")
        return None
    parsed = _split_stem(entry.name[: -len(".dist-info")])
    headers = None
    if "METADATA" not in names:
        warnings.append(f"{metadata} is missing")
    elif verify or parsed is None:
        headers = _read_headers(metadata, warnings)
        _check_metadata(metadata, headers, parsed, warnings)
    record = os.path.join(info, "RECORD")
    if "RECORD" not in names:
        warnings.append(f"{record} is missing")
    elif verify:
        _check_record(record, warnings)
    name_version = _name_version(headers, parsed)
    if name_version is None:
        warnings.append(f"{info}: no name and version in its directory name or METADATA; skipped")
        return None
    kind, url = "index", None
    if "direct_url.json" in names:
        kind, url = _direct_url(os.path.join(info, "direct_url.json"), warnings)
    return _Found(
        name=name_version[0],
        version=name_version[1],
        kind=kind,
        installer=_installer(info, names),
        marker="REQUESTED" in names,
        mtime=mtime,
        url=url,
        requires=None if headers is None else _requirement_names(headers.get("requires-dist", [])),
        metadata=metadata if "METADATA" in names else None,
    )


def _name_version(
    headers: dict[str, list[str]] | None, parsed: tuple[str, str] | None
) -> tuple[str, str] | None:
    if parsed:
        return parsed
    name, version = _header(headers, "name"), _header(headers, "version")
    return (canonical_name(name), version) if name and version else None


def _check_metadata(
    path: str,
    headers: dict[str, list[str]] | None,
    parsed: tuple[str, str] | None,
    warnings: list[str],
) -> None:
    if headers is None:
        return  # _read_headers said why
    name, version = _header(headers, "name"), _header(headers, "version")
    if not name or not version:
        warnings.append(f"{path} has no Name or no Version header")
    elif parsed and (canonical_name(name), version) != parsed:
        warnings.append(
            f"{path} says {name} {version}, its directory says {parsed[0]} {parsed[1]}; "
            "the directory name is used"
        )


def _check_record(path: str, warnings: list[str]) -> None:
    import csv  # only `requirements --source disk` verifies RECORD

    try:
        text = read_bounded(path, LARGE_FILE).decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"{path} is not UTF-8 text")
        return
    except OSError as exc:
        warnings.append(f"{path} cannot be read: {exc.strerror or exc}")
        return
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        warnings.append(f"{path} is not CSV: {exc}")
        return
    bad = [n for n, row in enumerate(rows, start=1) if row and len(row) != 3]
    if bad or not rows:
        where = f"line {bad[0]} has not 3 fields" if bad else "it is empty"
        warnings.append(f"{path} is malformed: {where}")


def _egg_info(entry: os.DirEntry[str], warnings: list[str]) -> _Found | None:
    path = entry.path
    try:
        is_dir = entry.is_dir()
        mtime = entry.stat().st_mtime
    except OSError as exc:
        warnings.append(f"{path} cannot be read: {exc.strerror or exc}")
        return None
    pkg_info = os.path.join(path, "PKG-INFO") if is_dir else path
    headers = _read_headers(pkg_info, warnings)
    name, version = _header(headers, "name"), _header(headers, "version")
    if not (name and version):
        stem = entry.name[: -len(".egg-info")].split("-")
        name, version = name or stem[0], version or (stem[1] if len(stem) > 1 else None)
        if headers is not None:
            warnings.append(f"{pkg_info} has no Name or no Version header")
    if not version:
        warnings.append(f"{path}: no version in PKG-INFO or its name; skipped")
        return None
    return _Found(
        name=canonical_name(name),
        version=version,
        kind="legacy",
        installer=_installer(path, {"INSTALLER"}) if is_dir else None,
        marker=False,
        mtime=mtime,
        requires=_requires_txt(os.path.join(path, "requires.txt")) if is_dir else (),
        legacy=True,
    )


def _egg_link(entry: os.DirEntry[str], warnings: list[str]) -> _Found | None:
    """A setuptools ``develop`` install: the link names the project directory."""
    path = entry.path
    try:
        lines = _read_small(path, 1 << 16).decode("utf-8").splitlines()
        mtime = entry.stat().st_mtime
    except (OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{path} cannot be read: {exc}")
        return None
    if not lines or not lines[0].strip():
        warnings.append(f"{path} is empty: it names no project directory")
        return None
    base = Path(lines[0].strip())
    project = Path(os.path.normpath(base / lines[1].strip())) if len(lines) > 1 else base
    name = canonical_name(entry.name[: -len(".egg-link")])
    version, requires = _project_egg_info(base, name)
    if not version:
        warnings.append(f"{path}: no {name}.egg-info with a version in {base}; version unknown")
    return _Found(
        name=name,
        version=version or "",
        kind="editable",
        installer=None,
        marker=False,
        mtime=mtime,
        url=project.as_uri(),
        requires=requires,
        legacy=True,
    )


def _project_egg_info(base: Path, name: str) -> tuple[str | None, tuple[str, ...]]:
    try:
        candidates = [n for n in os.listdir(base) if n.endswith(".egg-info")]
    except OSError:
        return None, ()
    for candidate in candidates:
        if canonical_name(candidate[: -len(".egg-info")].split("-")[0]) == name:
            egg = base / candidate
            headers = _read_headers(str(egg / "PKG-INFO"), [])
            return _header(headers, "version"), _requires_txt(str(egg / "requires.txt"))
    return None, ()


# --- a whole venv ------------------------------------------------------------------------


def _scan_dir(sp: Path, verify: bool, warnings: list[str]) -> list[_Found]:
    try:
        with os.scandir(sp) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        warnings.append(f"{sp} cannot be read: {exc.strerror or exc}")
        return []
    found: list[_Found | None] = []
    for entry in entries:
        if entry.name.endswith(".dist-info"):
            found.append(_dist_info(entry, verify, warnings))
        elif entry.name.endswith(".egg-info"):
            found.append(_egg_info(entry, warnings))
        elif entry.name.endswith(".egg-link"):
            found.append(_egg_link(entry, warnings))
    return [f for f in found if f is not None]


def _unique(found: list[_Found], warnings: list[str]) -> list[_Found]:
    """One distribution per name: the most recently installed wins, with a warning."""
    by_name: dict[str, list[_Found]] = {}
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


def _needs_graph(f: _Found) -> bool:
    return f.legacy or f.installer is None or f.installer in INSTALLERS_MARKING_ALL


def _required_by_others(found: list[_Found], warnings: list[str]) -> set[str]:
    needed: set[str] = set()
    for f in found:
        if f.requires is None:
            headers = _read_headers(f.metadata, warnings) if f.metadata else None
            f.requires = _requirement_names((headers or {}).get("requires-dist", []))
        needed.update(r for r in f.requires if r != f.name)
    return needed


def _settle(found: list[_Found], seeded_at: float | None, warnings: list[str]) -> list[Package]:
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
    found: list[_Found] = []
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
