"""Legacy setuptools installs: ``*.egg-info`` (a directory or a single file) and
``*.egg-link`` (a ``develop`` install naming its project directory)."""

from __future__ import annotations

import os
from pathlib import Path

from venv_doctor.model.metadata import (
    Found,
    canonical_name,
    header,
    installer,
    read_headers,
    read_small,
    requires_txt,
)


def egg_info(entry: os.DirEntry[str], warnings: list[str]) -> Found | None:
    path = entry.path
    try:
        is_dir = entry.is_dir()
        mtime = entry.stat().st_mtime
    except OSError as exc:
        warnings.append(f"{path} cannot be read: {exc.strerror or exc}")
        return None
    pkg_info = os.path.join(path, "PKG-INFO") if is_dir else path
    headers = read_headers(pkg_info, warnings)
    name, version = header(headers, "name"), header(headers, "version")
    if not (name and version):
        stem = entry.name[: -len(".egg-info")].split("-")
        name, version = name or stem[0], version or (stem[1] if len(stem) > 1 else None)
        if headers is not None:
            warnings.append(f"{pkg_info} has no Name or no Version header")
    if not version:
        warnings.append(f"{path}: no version in PKG-INFO or its name; skipped")
        return None
    return Found(
        name=canonical_name(name),
        version=version,
        kind="legacy",
        installer=installer(path, {"INSTALLER"}) if is_dir else None,
        marker=False,
        mtime=mtime,
        requires=requires_txt(os.path.join(path, "requires.txt")) if is_dir else (),
        metadata=pkg_info,
        requires_file=os.path.join(path, "requires.txt") if is_dir else None,
        legacy=True,
    )


def egg_link(entry: os.DirEntry[str], warnings: list[str]) -> Found | None:
    """A setuptools ``develop`` install: the link names the project directory."""
    path = entry.path
    try:
        lines = read_small(path, 1 << 16).decode("utf-8").splitlines()
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
    egg = _project_egg_info(base, name)
    headers = read_headers(str(egg / "PKG-INFO"), []) if egg else None
    version = header(headers, "version")
    requires = requires_txt(str(egg / "requires.txt")) if egg else ()
    if not version:
        warnings.append(f"{path}: no {name}.egg-info with a version in {base}; version unknown")
    return Found(
        name=name,
        version=version or "",
        kind="editable",
        installer=None,
        marker=False,
        mtime=mtime,
        url=project.as_uri(),
        requires=requires,
        metadata=str(egg / "PKG-INFO") if egg else None,
        requires_file=str(egg / "requires.txt") if egg else None,
        legacy=True,
    )


def _project_egg_info(base: Path, name: str) -> Path | None:
    """The ``NAME.egg-info`` directory of a ``develop`` install's project."""
    try:
        candidates = [n for n in os.listdir(base) if n.endswith(".egg-info")]
    except OSError:
        return None
    for candidate in candidates:
        if canonical_name(candidate[: -len(".egg-info")].split("-")[0]) == name:
            return base / candidate
    return None
