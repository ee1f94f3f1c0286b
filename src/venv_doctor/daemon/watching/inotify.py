"""Linux inotify through ctypes: one descriptor for every watch.

Three libc calls (``inotify_init1``, ``inotify_add_watch``, ``inotify_rm_watch``)
and a parser for the events ``read(2)`` returns. No library is needed for that,
and watchdog's inotify layer runs a thread per watched directory (2,000 threads
for 2,000 venvs), which is what the daemon avoids by reading this descriptor
from one thread of its own (``kernel_watcher``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

# <sys/inotify.h>
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# Changes only: never IN_ACCESS, IN_OPEN or IN_CLOSE_NOWRITE, so starting or
# reading a watched interpreter sends nothing. IN_CLOSE_WRITE rather than
# IN_MODIFY: one event per file written, not one per write(2).
CHANGES = (
    IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
)
# The watched directory itself went away (its watch is gone with it).
SELF_GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED

_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len
# Limits: no instance left (fs.inotify.max_user_instances) and no watch left
# (fs.inotify.max_user_watches); both mean "fall back", never "crash".
LIMIT_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOSPC)


@dataclass(frozen=True)
class Event:
    wd: int  # -1 with IN_Q_OVERFLOW: events were lost
    mask: int
    name: bytes  # empty for an event on the watched directory itself

    @property
    def is_dir(self) -> bool:
        return bool(self.mask & IN_ISDIR)

    @property
    def overflow(self) -> bool:
        return bool(self.mask & IN_Q_OVERFLOW)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.inotify_init1.argtypes = [ctypes.c_int]
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    return libc


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


class Inotify:
    """One inotify instance (non-blocking descriptor, closed on exec)."""

    def __init__(self) -> None:
        self._libc = _libc()
        self.fd = _check(self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1")

    def add(self, path: str, mask: int = CHANGES) -> int:
        """The watch descriptor for ``path`` (the same one for the same inode)."""
        return _check(
            self._libc.inotify_add_watch(self.fd, os.fsencode(path), mask), f"watch {path}"
        )

    def remove(self, wd: int) -> None:
        """Stop a watch; one the kernel already dropped (directory deleted) is fine."""
        if self._libc.inotify_rm_watch(self.fd, wd) < 0 and ctypes.get_errno() != errno.EINVAL:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))

    def read(self) -> list[Event]:
        """Every event queued now (an empty list when none)."""
        events: list[Event] = []
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return events
            events.extend(parse(data))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def parse(data: bytes) -> Iterator[Event]:
    offset = 0
    while offset + _HEADER.size <= len(data):
        wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        name = data[start : start + length].rstrip(b"\0")
        offset = start + length
        yield Event(wd, mask, name)
