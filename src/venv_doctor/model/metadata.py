"""Reading the metadata files of installed distributions, cheaply.

METADATA / PKG-INFO headers up to the first blank line, ``requires.txt``,
``INSTALLER``, and the ``Found`` record every kind of entry (dist-info,
egg-info, egg-link) is read into before ``model.distributions`` settles it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from venv_doctor.fsutil import SMALL_FILE, open_regular, read_bounded

MAX_HEADER_BYTES = 1 << 20
HEADER_CHUNK = 1 << 14

_NAME_RUN = re.compile(r"[-_.]+")
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_HEADER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):\s?(.*)$")


@dataclass
class Found:
    """A distribution as found on disk, before `requested` is settled."""

    name: str
    version: str
    kind: str
    installer: str | None
    marker: bool  # REQUESTED present
    mtime: float
    url: str | None = None
    requires: tuple[str, ...] | None = None  # None: not read yet
    metadata: str | None = None  # METADATA / PKG-INFO, read for Requires-Dist only when needed
    requires_file: str | None = None  # a legacy install's requires.txt
    legacy: bool = False  # egg-info / egg-link: no REQUESTED marker exists
    seeded: bool = False  # marked by virtualenv's seeder (``<name>-<version>.virtualenv``)


def canonical_name(name: str) -> str:
    return _NAME_RUN.sub("-", name).lower()


# The readers take ``str`` paths: thousands of dist-info directories are read on a
# first check, and Path objects were a quarter of that time.


def read_small(path: str, limit: int = 1 << 16, truncate: bool = False) -> bytes:
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


def read_headers(path: str, warnings: list[str]) -> dict[str, list[str]] | None:
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


def header(headers: dict[str, list[str]] | None, key: str) -> str | None:
    values = (headers or {}).get(key)
    return values[0] if values else None


def requirement_names(lines: Iterable[str]) -> tuple[str, ...]:
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


def requires_txt(path: str) -> tuple[str, ...]:
    """Legacy ``requires.txt``: the unnamed section and ``[:marker]`` sections."""
    try:
        text = read_small(path, SMALL_FILE).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    lines, active = [], True
    for line in text.splitlines():
        if line.startswith("["):
            active = line.startswith("[:")
        elif active and line.strip():
            lines.append(line)
    return requirement_names(lines)


def _section_marker(section: str) -> str:
    """``[extra:marker]`` of a requires.txt as a PEP 508 marker ("" for none)."""
    extra, _, marker = section.partition(":")
    parts = [f"({marker})" if extra and marker else marker]
    parts.append(f'extra == "{extra}"' if extra else "")
    return " and ".join(p for p in parts if p)


def requires_txt_lines(path: str, warnings: list[str]) -> tuple[str, ...]:
    """A legacy ``requires.txt`` as PEP 508 requirements: each section's condition (an
    extra, a marker) becomes the requirement's marker, as in Requires-Dist."""
    try:
        text = read_small(path, SMALL_FILE).decode("utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}")
        return ()
    out, marker = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            marker = _section_marker(line[1:-1].strip())
        elif line and not line.startswith("#"):
            space = " " if "@" in line else ""  # a URL requirement ends before the marker
            out.append(f"{line}{space}; {marker}" if marker else line)
    return tuple(out)


def installer(info: str, names: set[str]) -> str | None:
    if "INSTALLER" not in names:
        return None
    try:
        value = read_small(os.path.join(info, "INSTALLER"), 256, True).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None
