"""Keeping a copy of what pipx and uv record about a tool venv, while it is there.

``pipx uninstall X`` and ``uv tool uninstall X`` delete the venv together with the
owner's records in it (``pipx_metadata.json``; ``uv-receipt.toml``) and the links to
its apps the owner made outside it (pipx: in ``PIPX_BIN_DIR``, its man and
completion directories; uv: where the receipt's entry points say). A venv recreated
from its snapshot alone is one the owner calls corrupt ("missing internal pipx
metadata", "malformed tool"). So every check that takes a snapshot of such a venv
also keeps its owner's records, and the links found pointing into it, in the state
DB; ``repair.records.restore_files`` and ``restore_links`` put them back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from venv_doctor.discover.owners import PIPX_METADATA, UV_RECEIPT, links_into, read_uv_receipt
from venv_doctor.fsutil import SMALL_FILE, loads_json, read_text_bounded
from venv_doctor.model.venv import Location
from venv_doctor.paths import expand_user, home
from venv_doctor.record.state import OwnerRecord

PIPX_SHARED_PTH = "pipx_shared.pth"  # pipx's pip backend: where the app's pip comes from
_FILES = {"pipx": (PIPX_METADATA,), "uv-tools": (UV_RECEIPT,)}


def record_file(location: Location) -> Path | None:
    """The file whose change means the owner's records changed (the snapshot stamp
    includes it); None for a venv whose owner keeps none."""
    names = _FILES.get(location.store)
    if not names or (location.store == "pipx" and location.path.name == "shared"):
        return None
    return location.path / names[0]


def take(
    location: Location, site_packages: Sequence[Path], env: Mapping[str, str]
) -> OwnerRecord | None:
    """The owner's records of the venv at ``location`` and its links; None when it keeps
    none, or they cannot be read (what was kept before stays)."""
    main = record_file(location)
    if main is None:
        return None
    try:
        files = {main.name: read_text_bounded(main, SMALL_FILE)}
    except (OSError, UnicodeDecodeError):
        return None
    for sp in site_packages:
        shared = sp / PIPX_SHARED_PTH
        if location.store == "pipx" and shared.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                files[PIPX_SHARED_PTH] = read_text_bounded(shared, SMALL_FILE)
    dirs = _pipx_dirs(files[main.name], env) if location.store == "pipx" else _uv_dirs(location)
    return OwnerRecord(location.path, files, tuple(links_into(location.path, dirs)))


def _uv_dirs(location: Location) -> set[Path]:
    """The directories of the receipt's entry points (uv writes where it put each)."""
    tool = read_uv_receipt(location.path) or {}
    entrypoints = tool.get("entrypoints")
    paths = (
        [e.get("install-path") for e in entrypoints or () if isinstance(e, dict)]
        if isinstance(entrypoints, list)
        else []
    )
    return {Path(os.path.normpath(p)).parent for p in paths if isinstance(p, str) and p}


def _pipx_dirs(metadata: str, env: Mapping[str, str]) -> set[Path]:
    """Where pipx exposes the resources its metadata lists: apps in ``PIPX_BIN_DIR``
    (``~/.local/bin``), manual pages in ``PIPX_MAN_DIR``/``manN`` (``~/.local/share/man``),
    shell completions two levels under ``PIPX_COMPLETION_DIR`` (``~/.local/share``)."""
    try:
        data = loads_json(metadata)
    except ValueError:
        return set()
    user = home(env)

    def place(name: str, default: str) -> Path:
        value = env.get(name)
        return expand_user(value, user) if value else user / default

    bins = place("PIPX_BIN_DIR", ".local/bin")
    dirs = {bins}
    for kind, path in _resource_paths(data):
        if kind == "man":
            dirs.add(place("PIPX_MAN_DIR", ".local/share/man") / path.parent.name)
        elif kind == "completion":
            base = place("PIPX_COMPLETION_DIR", ".local/share")
            dirs.add(base / path.parent.parent.name / path.parent.name)
    return dirs


def _resource_paths(data: Any) -> Iterator[tuple[str, Path]]:
    """("app" | "man" | "completion", path in the venv) for each resource the metadata
    lists, for the main package, its injected ones and their dependencies."""
    if not isinstance(data, dict):
        return
    injected = data.get("injected_packages")
    packages = [
        data.get("main_package"),
        *(injected.values() if isinstance(injected, dict) else ()),
    ]
    for package in packages:
        if not isinstance(package, dict):
            continue
        for key, value in package.items():
            kind = next(
                (k for k in ("app", "man", "completion") if key.startswith(f"{k}_paths")), None
            )
            if kind is None:
                continue
            lists = value.values() if isinstance(value, dict) else [value]
            for listed in lists:
                for item in listed if isinstance(listed, list) else ():
                    if isinstance(item, dict) and isinstance(item.get("__Path__"), str):
                        yield kind, Path(item["__Path__"])
