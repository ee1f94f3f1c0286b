"""Carrying the user's own files from an old venv into its rebuilt replacement.

By exclusion, not by inclusion: every file (and link, and empty directory) of
the old venv is carried over unless

- an installed distribution owns it (its RECORD or installed-files.txt lists
  it, or it sits in a distribution's ``.dist-info``/``.egg-info`` directory):
  the reinstall brings the distribution's own copy;
- the new venv already has it byte for byte (the creator made it again);
- it is on the short list of things that must not travel (``EXCLUDED``):
  the interpreter links and ``pyvenv.cfg`` (the new venv's are the truth), uv's
  ``.lock``,
  virtualenv's ``_virtualenv`` glue, ``lib64``, bytecode caches of another
  Python (or of a distribution's module), venv-doctor's own temp files.

What cannot be carried stays in the backup and is named: a file the new venv
also has with other contents (``kept_new``; an activate script only when it
was edited, since templates differ between Python versions), and anything that
is not a regular file, a link or a directory (``uncopyable``).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.fsutil import (
    LARGE_FILE,
    SMALL_FILE,
    atomic_write,
    read_bounded,
    read_text_bounded,
)
from venv_doctor.model.venv import lib_dir_minor

CREATOR_BIN = re.compile(
    r"^(activate(\.\w+)?|Activate\.ps1|activate_this\.py|deactivate(\.\w+)?|pydoc\.bat)$"
)
ACTIVATE_SCRIPTS = ("activate", "activate.csh", "activate.fish", "activate.nu", "Activate.ps1")
_BY_MINOR = ("lib", "include")  # lib/python3.11/... goes to lib/python3.12/...

# The short list of what is never carried, each with its reason.
_INTERPRETER = re.compile(r"^python[\d.]*[a-z]?$|^pythonw$")  # the new venv has its own links
# the creator's, written for the new Python; .lock is uv's lock file for the venv
_TOP_EXCLUDED = frozenset({"pyvenv.cfg", "lib64", ".lock"})
_SITE_EXCLUDED = frozenset({"_virtualenv.py", "_virtualenv.pth"})  # virtualenv's glue
_PYC = re.compile(r"^(?P<stem>[^.]+)\.(?P<tag>[a-z]+-?\d+)(?:\.opt-\d)?\.pyc$")
# atomic_write's ".NAME.XXXXXXXX.tmp" and the relink's ".NAME.venv-doctor-tmp"
_OUR_TEMP = re.compile(
    r"^\..+(?:\.[a-z0-9_]{8}\.tmp|\.venv-doctor-tmp(?:-[\w-]+)?)$|^\.venv-doctor-txn-\d+$"
)


@dataclass(frozen=True)
class CarryPlan:
    copies: tuple[tuple[Path, Path], ...]  # (entry in the old venv, destination in the new one)
    kept_new: tuple[
        str, ...
    ]  # the new venv has its own, different one: the old stays in the backup
    edited_activate: tuple[str, ...]  # activate scripts that differ from the new ones
    uncopyable: tuple[str, ...] = ()  # FIFOs, sockets, devices: left in the backup

    @property
    def left_behind(self) -> tuple[str, ...]:
        """User files the new venv does not have as they were."""
        return (*self.kept_new, *self.edited_activate, *self.uncopyable)


def owned_files(venv: Path) -> set[str]:
    """Real paths of every file an installed distribution lists as its own."""
    owned: set[str] = set()
    for site in venv.glob("lib/python*/site-packages"):
        try:
            entries = list(site.iterdir())
        except OSError:
            continue
        for meta in entries:
            if meta.name.endswith(".dist-info"):
                owned |= _record_paths(site, meta / "RECORD")
            elif meta.name.endswith(".egg-info") and meta.is_dir():
                owned |= _listed_paths(meta, meta / "installed-files.txt")
    return owned


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _record_paths(site: Path, record: Path) -> set[str]:
    if not _is_regular(record):  # a FIFO must not hang us
        return set()
    try:
        text = read_text_bounded(record, LARGE_FILE)
        rows = list(csv.reader(text.splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()
    base = os.fspath(site)  # str joins: a RECORD lists every file, hundreds of rows
    return {os.path.normpath(os.path.join(base, row[0])) for row in rows if row and row[0]}


def _listed_paths(base: Path, listing: Path) -> set[str]:
    if not _is_regular(listing):
        return set()
    try:
        lines = read_text_bounded(listing, LARGE_FILE).splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    where = os.fspath(base)
    return {os.path.normpath(os.path.join(where, line)) for line in lines if line.strip()}


def _is_metadata_dir(path: Path) -> bool:
    """A distribution's own metadata directory (a user's ``x.dist-info`` folder is not)."""
    if not path.name.endswith((".dist-info", ".egg-info")):
        return False
    return any(_is_regular(path / n) for n in ("METADATA", "RECORD", "PKG-INFO"))


def _excluded(rel: Path, pyc_tag: str | None, owned: set[str], old: Path) -> bool:
    """On the short list of things that never travel."""
    parts, name = rel.parts, rel.name
    if _OUR_TEMP.match(name):
        return True
    if len(parts) == 1 and name in _TOP_EXCLUDED:
        return True
    if len(parts) == 2 and parts[0] == "bin" and _INTERPRETER.match(name):
        return True
    if len(parts) == 4 and parts[2] == "site-packages" and name in _SITE_EXCLUDED:
        return True
    pyc = _PYC.match(name)
    if pyc and len(parts) >= 2 and parts[-2] == "__pycache__":
        source = old.joinpath(*parts[:-2], pyc["stem"] + ".py")
        return pyc["tag"] != pyc_tag or os.path.normpath(source) in owned
    return False


def _pyc_tag(new_lib: str | None) -> str | None:
    """``cpython-312`` for ``python3.12``: the bytecode the new venv's Python writes."""
    if new_lib is None:
        return None
    return "cpython-" + new_lib.removeprefix("python").replace(".", "").rstrip("t")


def _map_minor(rel: Path, new_lib: str | None) -> Path:
    parts = list(rel.parts)
    if new_lib and len(parts) >= 2 and parts[0] in _BY_MINOR and lib_dir_minor(parts[1]):
        parts[1] = new_lib
    return Path(*parts)


def new_lib(new: Path) -> str | None:
    """``python3.12``: the new venv's one ``lib/pythonX.Y`` (known once its creator ran)."""
    return _new_lib(new)


def _new_lib(new: Path) -> str | None:
    names = [p.name for p in (new / "lib").glob("python*") if lib_dir_minor(p.name)]
    return names[0] if len(names) == 1 else None


def user_files(old: Path, new_lib: str | None = None) -> list[Path]:
    """Entries of ``old`` that no distribution owns and are not on the excluded list,
    relative to ``old``: files, links, other special files and empty directories."""
    owned = owned_files(old)
    tag = _pyc_tag(new_lib)
    top = os.fspath(old)
    found = []
    # str paths: a venv holds thousands of files, nearly all owned; a Path is made only
    # for what no distribution owns
    for root, dirs, files in os.walk(top):
        empty = root != top and not dirs and not files
        prefix = root + os.sep  # os.walk's roots never end in one
        dirs[:] = [d for d in dirs if not _is_metadata_dir(Path(root, d))]
        linked = [d for d in dirs if os.path.islink(prefix + d)]
        dirs[:] = [d for d in dirs if d not in linked]
        for name in [*files, *linked, *([""] if empty else [])]:
            full = prefix + name if name else root
            if full in owned:
                continue
            rel = Path(full).relative_to(old)
            if not _excluded(rel, tag, owned, old):
                found.append(rel)
    return sorted(found)


def _same(a: Path, b: Path) -> bool:
    """``b`` is ``a`` again: same kind, same link target, same bytes."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            return False
        if stat.S_ISLNK(sa.st_mode):
            return os.readlink(a) == os.readlink(b)
        if stat.S_ISDIR(sa.st_mode):
            return True
        if not stat.S_ISREG(sa.st_mode) or sa.st_size != sb.st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def plan(old: Path, new: Path, found: list[Path] | None = None) -> CarryPlan:
    """``old`` is the kept backup; ``new`` the rebuilt venv at the original path;
    ``found``: ``user_files(old, new_lib(new))`` if already worked out (it reads
    only the backup, so a rebuild lists them while its installer runs)."""
    new_lib = _new_lib(new)
    copies, kept, uncopyable, edited = [], [], [], []
    for rel in user_files(old, new_lib) if found is None else found:
        src, dest = old / rel, new / _map_minor(rel, new_lib)
        kind = os.lstat(src).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISLNK(kind) or stat.S_ISDIR(kind)):
            uncopyable.append(str(rel))
        elif not os.path.lexists(dest):
            copies.append((src, dest))
        elif _same(src, dest):
            continue
        elif len(rel.parts) == 2 and rel.parts[0] == "bin" and CREATOR_BIN.match(rel.name):
            if rel.name in ACTIVATE_SCRIPTS and _edited(src, dest):
                edited.append(str(rel))  # a template that differs by version is no edit
        else:
            kept.append(str(rel))
    return CarryPlan(tuple(copies), tuple(kept), tuple(edited), tuple(uncopyable))


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
    if not (_is_regular(old) and _is_regular(new)):
        return False
    try:
        old_lines = {ln.strip() for ln in read_text_bounded(old, SMALL_FILE).splitlines()}
        new_lines = {ln.strip() for ln in read_text_bounded(new, SMALL_FILE).splitlines()}
    except (OSError, UnicodeDecodeError):
        return False
    return any(_USER_LINE.match(ln) for ln in old_lines - new_lines)


def _make_parents(dest: Path, new: Path, old: Path, new_lib: str | None) -> None:
    """Create ``dest``'s missing parents with the modes their old counterparts had."""
    missing = []
    parent = dest.parent
    while not parent.exists() and parent != new:
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir()
        counterpart = _old_counterpart(directory, new, old, new_lib)
        if counterpart is not None and counterpart.is_dir():
            shutil.copystat(counterpart, directory)


def _old_counterpart(path: Path, new: Path, old: Path, new_lib: str | None) -> Path | None:
    parts = list(path.relative_to(new).parts)
    if new_lib and len(parts) >= 2 and parts[0] in _BY_MINOR and parts[1] == new_lib:
        olds = [p.name for p in (old / parts[0]).glob("python*") if lib_dir_minor(p.name)]
        if len(olds) != 1:
            return None
        parts[1] = olds[0]
    return old.joinpath(*parts)


def apply(carry: CarryPlan, old: Path, new: Path) -> list[str]:
    """Copy every planned entry (links as links, modes and times kept); returns
    the destinations."""
    new_lib = _new_lib(new)
    done = []
    for src, dest in carry.copies:
        _make_parents(dest, new, old, new_lib)
        if src.is_symlink():
            dest.symlink_to(os.readlink(src))
        elif src.is_dir():
            dest.mkdir()
            shutil.copystat(src, dest)
        else:
            shutil.copy2(src, dest)
        done.append(str(dest))
    return done


# A console script's interpreter options (pipx 1.18 adds ` -E` to the scripts of the apps
# it exposes): short flags only, and never past the kernel's shebang limit.
_FLAGS = re.compile(rb"^-[A-Za-z]+(?: -[A-Za-z]+)*$")
_SHEBANG_MAX = 127  # Linux before 5.1 cuts a longer line; pipx and distlib keep to it


def _first_line(path: Path) -> bytes | None:
    if not _is_regular(path):
        return None
    try:
        head = read_bounded(path, 512, follow_symlinks=False, truncate=True)
    except OSError:
        return None
    return head.split(b"\n", 1)[0] if head.startswith(b"#!") else None


def _interpreter_and_flags(line: bytes) -> tuple[bytes, bytes]:
    interpreter, _, flags = line[2:].strip().partition(b" ")
    return interpreter, flags.strip()


def _runs_python(interpreter: bytes, bin_dir: bytes | None = None) -> bool:
    head, _, name = interpreter.rpartition(b"/")
    inside = head == bin_dir if bin_dir is not None else head.endswith(b"/bin")
    return inside and name.startswith(b"python")


def keep_shebang_flags(old: Path, new: Path) -> list[str]:
    """Give each console script of ``new`` the interpreter options its counterpart in
    ``old`` had (the installer writes a bare ``#!.../bin/python``). Returns the scripts
    changed, as paths relative to ``new``."""
    changed = []
    new_bin = os.fsencode(new / "bin")
    for entry in _scripts(new / "bin"):
        line = _first_line(Path(entry.path))
        before = _first_line(old / "bin" / entry.name)
        if line is None or before is None:
            continue
        interpreter, flags = _interpreter_and_flags(line)
        was, old_flags = _interpreter_and_flags(before)
        if flags or not old_flags or not _FLAGS.match(old_flags):
            continue
        if not (_runs_python(interpreter, new_bin) and _runs_python(was)):
            continue
        if len(line) + 1 + len(old_flags) + 1 > _SHEBANG_MAX:
            continue
        _replace_first_line(Path(entry.path), line + b" " + old_flags)
        changed.append(f"bin/{entry.name}")
    return changed


def _scripts(bin_dir: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(bin_dir) as entries:
            return [e for e in entries if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _replace_first_line(path: Path, line: bytes) -> None:
    data = read_bounded(path, LARGE_FILE, follow_symlinks=False)
    rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
    atomic_write(path, line + b"\n" + rest, mode=stat.S_IMODE(os.lstat(path).st_mode))
