"""One ``*.dist-info`` directory: name, version, installer, how it was installed
(PEP 610 ``direct_url.json``) and, when asked to verify, METADATA and RECORD.

Name and version come from the directory name when it is well formed (no file
opened).
"""

from __future__ import annotations

import os
import re
from typing import Any

from venv_doctor.fsutil import LARGE_FILE, SMALL_FILE, loads_json, read_bounded
from venv_doctor.model.metadata import (
    Found,
    canonical_name,
    header,
    installer,
    read_headers,
    read_small,
    requirement_names,
)

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_]*$")


def _split_stem(stem: str) -> tuple[str, str] | None:
    """``name-version`` from a well-formed dist-info directory name."""
    if stem.count("-") != 1:
        return None
    name, version = stem.split("-")
    if not name or not _VERSION.match(version):
        return None
    return canonical_name(name), version


def dist_info(entry: os.DirEntry[str], verify: bool, warnings: list[str]) -> Found | None:
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
        headers = read_headers(metadata, warnings)
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
    return Found(
        name=name_version[0],
        version=name_version[1],
        kind=kind,
        installer=installer(info, names),
        marker="REQUESTED" in names,
        mtime=mtime,
        url=url,
        requires=None if headers is None else requirement_names(headers.get("requires-dist", [])),
        metadata=metadata if "METADATA" in names else None,
    )


def _name_version(
    headers: dict[str, list[str]] | None, parsed: tuple[str, str] | None
) -> tuple[str, str] | None:
    if parsed:
        return parsed
    name, version = header(headers, "name"), header(headers, "version")
    return (canonical_name(name), version) if name and version else None


def _check_metadata(
    path: str,
    headers: dict[str, list[str]] | None,
    parsed: tuple[str, str] | None,
    warnings: list[str],
) -> None:
    if headers is None:
        return  # read_headers said why
    name, version = header(headers, "name"), header(headers, "version")
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


# --- direct_url.json (PEP 610) ----------------------------------------------------------


def _direct_url(path: str, warnings: list[str]) -> tuple[str, str | None]:
    """The install kind and source URL recorded in ``direct_url.json``."""
    try:
        data = loads_json(read_small(path, SMALL_FILE).decode("utf-8"))
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
