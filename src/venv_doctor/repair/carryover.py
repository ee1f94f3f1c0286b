"""Carrying the user's own files from an old venv into its rebuilt replacement.

A file is the user's when no installed distribution owns it (per RECORD or
installed-files.txt) and the venv creator did not make it: virtualenvwrapper
hooks (``bin/postactivate``...), ``.project``, scripts, ``etc/``, ``share/``,
modules dropped into site-packages. A file the new venv already has is never
overwritten; an edited ``activate`` script is reported instead.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.fsutil import LARGE_FILE, SMALL_FILE, read_text_bounded

CREATOR_TOP = frozenset(
    {"pyvenv.cfg", ".gitignore", "CACHEDIR.TAG", "lib64", "include", ".lock"}
)  # .lock: uv's
CREATOR_BIN = re.compile(
    r"^(python[\d.]*[a-z]?|pythonw|activate(\.\w+)?|Activate\.ps1|activate_this\.py|deactivate(\.\w+)?|pydoc\.bat)$"
)
CREATOR_SITE = frozenset({"_virtualenv.py", "_virtualenv.pth", "__pycache__"})
ACTIVATE_SCRIPTS = ("activate", "activate.csh", "activate.fish", "activate.nu", "Activate.ps1")
_LIB = re.compile(r"^python\d+\.\d+t?$")


@dataclass(frozen=True)
class CarryPlan:
    copies: tuple[tuple[Path, Path], ...]  # (file in the old venv, destination in the new one)
    kept_new: tuple[str, ...]  # user files the new venv already has: not overwritten
    edited_activate: tuple[str, ...]  # activate scripts that differ from the new ones


def owned_files(venv: Path) -> set[str]:
    """Real paths of every file an installed distribution lists as its own."""
    owned: set[str] = set()
    for site in venv.glob("lib/python*/site-packages"):
        for meta in site.iterdir():
            if meta.name.endswith(".dist-info"):
                owned |= _record_paths(site, meta / "RECORD")
            elif meta.name.endswith(".egg-info") and meta.is_dir():
                owned |= _listed_paths(meta, meta / "installed-files.txt")
    return owned


def _record_paths(site: Path, record: Path) -> set[str]:
    try:
        text = read_text_bounded(record, LARGE_FILE)
        rows = list(csv.reader(text.splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()
    return {os.path.normpath(site / row[0]) for row in rows if row and row[0]}


def _listed_paths(base: Path, listing: Path) -> set[str]:
    try:
        lines = read_text_bounded(listing, LARGE_FILE).splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    return {os.path.normpath(base / line) for line in lines if line.strip()}


def _creator_made(rel: Path) -> bool:
    parts = rel.parts
    if len(parts) == 1:
        return parts[0] in CREATOR_TOP
    if parts[0] == "bin" and len(parts) == 2:
        return bool(CREATOR_BIN.match(parts[1]))
    if parts[0] == "include":
        return True
    if parts[0] in ("lib", "lib64") and len(parts) >= 4 and parts[2] == "site-packages":
        return parts[3] in CREATOR_SITE or parts[3].endswith((".dist-info", ".egg-info"))
    return "__pycache__" in parts


def _map_minor(rel: Path, new_lib: str | None) -> Path:
    parts = list(rel.parts)
    if new_lib and len(parts) >= 2 and parts[0] == "lib" and _LIB.match(parts[1]):
        parts[1] = new_lib
    return Path(*parts)


def _new_lib(new: Path) -> str | None:
    names = [p.name for p in (new / "lib").glob("python*") if _LIB.match(p.name)]
    return names[0] if len(names) == 1 else None


def user_files(old: Path) -> list[Path]:
    """Files (and links) in ``old`` that are the user's, relative to ``old``."""
    owned = owned_files(old)
    found = []
    for root, dirs, files in os.walk(old):
        if Path(root) == old:
            dirs[:] = [d for d in dirs if d != "lib64"]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            full = Path(root) / name
            rel = full.relative_to(old)
            if str(full) not in owned and not _creator_made(rel):
                found.append(rel)
    return sorted(found)


def plan(old: Path, new: Path, backup_of: Path | None = None) -> CarryPlan:
    """``old`` is the kept backup; ``new`` the rebuilt venv at the original path."""
    new_lib = _new_lib(new)
    copies, kept = [], []
    for rel in user_files(old):
        dest = new / _map_minor(rel, new_lib)
        if os.path.lexists(dest):
            kept.append(str(rel))
        else:
            copies.append((old / rel, dest))
    edited = [
        f"bin/{name}"
        for name in ACTIVATE_SCRIPTS
        if (old / "bin" / name).is_file()
        and (new / "bin" / name).is_file()
        and _edited(old / "bin" / name, new / "bin" / name)
    ]
    return CarryPlan(tuple(copies), tuple(kept), tuple(edited))


# What a user adds to an activate script; the template's own variables and aliases
# (spelled differently by each Python version) are not edits.
_USER_LINE = re.compile(
    r"^(?:(?:export|set -gx|setenv)\s+(?!(?:VIRTUAL_ENV\w*|PATH|PS1|PYTHONHOME|_OLD_\w+)\b)"
    r"|alias\s+(?!(?:deactivate|pydoc)\b)|source\s|\.\s)"
)


def _edited(old: Path, new: Path) -> bool:
    """The old script has lines a user adds (an ``export``, ``alias`` or ``source``)
    that the new one lacks. Template differences between Python versions (the
    cygwin block of 3.12, say) are not edits."""
    try:
        old_lines = {ln.strip() for ln in read_text_bounded(old, SMALL_FILE).splitlines()}
        new_lines = {ln.strip() for ln in read_text_bounded(new, SMALL_FILE).splitlines()}
    except (OSError, UnicodeDecodeError):
        return False
    return any(_USER_LINE.match(ln) for ln in old_lines - new_lines)


def apply(carry: CarryPlan) -> list[str]:
    """Copy every planned file (links as links, modes kept); returns destinations."""
    done = []
    for src, dest in carry.copies:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dest.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dest)
        done.append(str(dest))
    return done
