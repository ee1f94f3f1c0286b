"""What a copied interpreter binary needs from elsewhere, read without running it.

A ``--copies`` venv (or a legacy virtualenv) holds a copy of the interpreter
binary. Built with a shared libpython (pyenv, uv's and Homebrew's Pythons, the
python.org framework), the copy finds it through an absolute ``DT_RUNPATH`` /
``DT_RPATH`` (ELF) or an absolute / ``@rpath`` install name (Mach-O). When that
installation is removed the copy exits 127 (``error while loading shared
libraries``, ``dyld: Library not loaded``) even though the venv's ``home`` may
still exist.

Two small readers, of the ELF dynamic section and of the Mach-O load commands,
rather than pyelftools or macholib: only a handful of fixed-layout records are
needed, they run inside the default (fast, no-process) check, and neither
library would save more code than it costs to import.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_HEADER = 1 << 16  # Mach-O load commands live in the first pages of the file
MAX_STRTAB = 1 << 20

# ELF
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29
# Mach-O
MH_MAGIC_64, MH_CIGAM_64, MH_MAGIC, MH_CIGAM = 0xFEEDFACF, 0xCFFAEDFE, 0xFEEDFACE, 0xCEFAEDFE
FAT_MAGIC, FAT_MAGIC_64 = 0xCAFEBABE, 0xCAFEBABF
LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB = 0xC, 0x80000018, 0x8000001F
LC_RPATH = 0x8000001C
DYLIB_COMMANDS = frozenset({LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB})

# where the dynamic loader looks when the binary names no path that has the library
DEFAULT_DIRS = (
    "/lib",
    "/usr/lib",
    "/lib64",
    "/usr/lib64",
    "/usr/local/lib",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
)


@dataclass(frozen=True)
class Needs:
    """The libraries a binary names and where it says to look for them."""

    format: str  # "elf" or "mach-o"
    libraries: tuple[str, ...]  # DT_NEEDED names, or Mach-O install names
    search: tuple[str, ...] = ()  # DT_RUNPATH/DT_RPATH entries, or LC_RPATH paths


class NotABinary(ValueError):
    """Neither ELF nor Mach-O, or too damaged to read."""


def read_needs(path: Path | str) -> Needs:
    """The shared libraries ``path`` needs; raises NotABinary or OSError."""
    with open(path, "rb") as fh:
        head = fh.read(MAX_HEADER)
        if head[:4] == b"\x7fELF":
            return _elf(fh, head)
        if len(head) >= 4 and struct.unpack(">I", head[:4])[0] in (FAT_MAGIC, FAT_MAGIC_64):
            return _fat(fh, head)
        return _macho(head)


# --- ELF --------------------------------------------------------------------------------


def _elf(fh: BinaryIO, head: bytes) -> Needs:
    bits, order = head[4], head[5]
    if bits not in (1, 2) or order not in (1, 2):
        raise NotABinary("not a 32- or 64-bit ELF file of a known byte order")
    end = "<" if order == 1 else ">"
    wide = bits == 2
    if wide:
        phoff, phentsize, phnum = (
            _unpack(end + "Q", head, 0x20)[0],
            *_unpack(end + "HH", head, 0x36),
        )
    else:
        phoff, phentsize, phnum = (
            _unpack(end + "I", head, 0x1C)[0],
            *_unpack(end + "HH", head, 0x2A),
        )
    loads, dynamic = [], None
    for i in range(phnum):
        fh.seek(phoff + i * phentsize)
        raw = fh.read(phentsize)
        if wide:
            kind, _flags, offset, vaddr, _paddr, filesz = _unpack(end + "IIQQQQ", raw, 0)
        else:
            kind, offset, vaddr, _paddr, filesz = _unpack(end + "IIIII", raw, 0)
        if kind == PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:
        return Needs("elf", ())  # statically linked
    fh.seek(dynamic[0])
    entries = _dynamic_entries(fh.read(dynamic[1]), end, wide)
    strtab = next((v for t, v in entries if t == DT_STRTAB), None)
    if strtab is None:
        raise NotABinary("the dynamic section has no string table")
    fh.seek(_file_offset(strtab, loads))
    table = fh.read(MAX_STRTAB)
    needed = tuple(_cstr(table, v) for t, v in entries if t == DT_NEEDED)
    runpath = [_cstr(table, v) for t, v in entries if t == DT_RUNPATH]
    rpath = [] if runpath else [_cstr(table, v) for t, v in entries if t == DT_RPATH]
    search = tuple(p for entry in runpath + rpath for p in entry.split(":") if p)
    return Needs("elf", needed, search)


def _dynamic_entries(data: bytes, end: str, wide: bool) -> list[tuple[int, int]]:
    fmt = end + ("qQ" if wide else "iI")
    size = struct.calcsize(fmt)
    out = []
    for offset in range(0, len(data) - size + 1, size):
        tag, value = struct.unpack_from(fmt, data, offset)
        if tag == DT_NULL:
            break
        out.append((tag, value))
    return out


def _file_offset(vaddr: int, loads: Iterable[tuple[int, int, int]]) -> int:
    for start, offset, size in loads:
        if start <= vaddr < start + size:
            return vaddr - start + offset
    raise NotABinary("the string table lies outside every loaded segment")


def _unpack(fmt: str, data: bytes, offset: int) -> tuple[int, ...]:
    try:
        return struct.unpack_from(fmt, data, offset)
    except struct.error as exc:
        raise NotABinary(f"truncated: {exc}") from exc


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset : end if end >= 0 else len(data)].decode("utf-8", "replace")


# --- Mach-O -----------------------------------------------------------------------------


def _fat(fh: BinaryIO, head: bytes) -> Needs:
    """A universal binary: every slice names the same libraries; read the first."""
    magic, count = _unpack(">II", head, 0)
    if count == 0:
        raise NotABinary("a universal binary with no slices")
    if magic == FAT_MAGIC_64:
        _cpu, _sub, offset = _unpack(">iiQ", head, 8)
    else:
        _cpu, _sub, offset = _unpack(">iiI", head, 8)
    fh.seek(offset)
    return _macho(fh.read(MAX_HEADER))


def _macho(head: bytes) -> Needs:
    if len(head) < 28:
        raise NotABinary("too short for a Mach-O header")
    magic = struct.unpack("<I", head[:4])[0]
    if magic in (MH_MAGIC_64, MH_MAGIC):
        end = "<"
    elif magic in (MH_CIGAM_64, MH_CIGAM):
        end = ">"
        magic = struct.unpack(">I", head[:4])[0]
    else:
        raise NotABinary("neither ELF nor Mach-O")
    ncmds = _unpack(end + "I", head, 16)[0]
    offset = 32 if magic == MH_MAGIC_64 else 28
    libraries: list[str] = []
    rpaths: list[str] = []
    for _ in range(ncmds):
        cmd, size = _unpack(end + "II", head, offset)
        if size < 8:
            raise NotABinary("a load command of impossible size")
        if cmd in DYLIB_COMMANDS or cmd == LC_RPATH:
            text = _cstr(head[: offset + size], offset + _unpack(end + "I", head, offset + 8)[0])
            (rpaths if cmd == LC_RPATH else libraries).append(text)
        offset += size
    return Needs("mach-o", tuple(libraries), tuple(rpaths))


# --- what is missing ---------------------------------------------------------------------


def is_python_library(name: str) -> bool:
    """libpython or the Python framework: what an interpreter binary needs of its base."""
    return "libpython" in name or "Python.framework/" in name or name.endswith("/Python")


def missing_python_libraries(binary: Path, needs: Needs) -> list[str]:
    """The libpython / Python framework entries of ``needs`` that cannot be found."""
    origin = str(binary.parent)
    out = []
    for name in needs.libraries:
        if not is_python_library(name):
            continue
        if needs.format == "elf":
            found = _elf_lookup(name, needs.search, origin)
        else:
            found = _macho_lookup(name, needs.search, origin)
        if not found:
            out.append(name)
    return out


def _elf_lookup(name: str, search: Sequence[str], origin: str) -> bool:
    if "/" in name:
        return os.path.exists(name)
    dirs = [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for d in search]
    return any(os.path.exists(os.path.join(d, name)) for d in (*dirs, *DEFAULT_DIRS))


def _macho_lookup(name: str, rpaths: Sequence[str], origin: str) -> bool:
    def expand(path: str) -> str:
        for token in ("@executable_path", "@loader_path"):
            path = path.replace(token, origin)
        return path

    if name.startswith("@rpath/"):
        rest = name[len("@rpath/") :]
        return any(os.path.exists(os.path.join(expand(r), rest)) for r in rpaths)
    return os.path.exists(expand(name))
