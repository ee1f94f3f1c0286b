"""Small file-system helpers: writing state atomically, reading any file safely."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # tempfile, shutil: for writes; a check only reads

    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if missing; venv-doctor's own directories are private."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


# --- reading files that may be hostile --------------------------------------------------
#
# Every file venv-doctor reads from a venv, a store, the config or the state dir can be
# anything: a FIFO (open blocks, read blocks), /dev/zero (read never ends), a directory,
# a dangling link, a file of gigabytes. Each read goes through ``open_regular``: opened
# with O_NONBLOCK (a FIFO opens at once), checked with fstat to be a regular file, and
# read up to a documented size. What fails is an OSError whose ``strerror`` says why,
# so the caller's "X cannot be read: <strerror>" names the file and the fact.

KiB = 1 << 10
MiB = 1 << 20
SMALL_FILE = 1 * MiB  # pyvenv.cfg, config.toml, direct_url.json, pip.conf, our JSON files
LARGE_FILE = 8 * MiB  # RECORD, METADATA (only its header is read), installed-files.txt

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFileError(OSError):
    """A file venv-doctor will not read: not a regular file, or larger than it reads."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(reason)
        self.strerror = reason
        self.filename = os.fspath(path)

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def kind_of(mode: int) -> str:
    """What a file is, in words, for a message: "a FIFO (named pipe)", "a regular file"."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def open_regular(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> BinaryIO:
    """Open ``path`` for reading without ever blocking; only a regular file is opened.

    ``follow_symlinks=False`` refuses a link (venv-doctor's own state files are never
    links); files in venvs and the config may be links and are followed.
    """
    return os.fdopen(_open_regular_fd(path, follow_symlinks)[0], "rb")


def read_upto(fd: int, size: int, most: int) -> bytes:
    """At most ``most`` bytes of ``fd``, a file ``size`` bytes long when it was opened:
    one read of its size plus one byte (which sees that it grew), not a buffer of
    ``most`` bytes for every small file."""
    first = os.read(fd, min(most, size + 1))
    if len(first) <= size:
        return first  # short of the extra byte: the end of the file
    chunks = [first]
    got = len(first)
    while got < most and (chunk := os.read(fd, min(most - got, 1 << 16))):
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _open_regular_fd(path: str | os.PathLike[str], follow_symlinks: bool) -> tuple[int, int]:
    """``open_regular``'s descriptor, and the file's size."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise UnreadableFileError(
                path, "is a symbolic link; a regular file is expected"
            ) from exc
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFileError(path, f"is {kind_of(st.st_mode)}, not a regular file")
        return fd, st.st_size
    except BaseException:
        os.close(fd)
        raise


def read_bounded(
    path: str | os.PathLike[str],
    limit: int,
    *,
    follow_symlinks: bool = True,
    truncate: bool = False,
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    A larger file raises UnreadableFileError, or with ``truncate`` gives its first
    ``limit`` bytes (for files of which only the head matters). The size is checked
    while reading, not by ``st_size`` alone, so a file that grows cannot run away.
    """
    fd, size = _open_regular_fd(path, follow_symlinks)
    try:
        data = read_upto(fd, size, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        if truncate:
            return data[:limit]
        raise UnreadableFileError(
            path, f"is larger than {_size(limit)}, the most venv-doctor reads"
        )
    return data


def read_text_bounded(
    path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True
) -> str:
    """``read_bounded`` decoded as UTF-8 (raises UnicodeDecodeError, a ValueError)."""
    return read_bounded(path, limit, follow_symlinks=follow_symlinks).decode("utf-8")


def check_regular(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a regular file (links followed), False when nothing is there.

    Anything else (a FIFO, a directory, a dangling link, a device) raises
    UnreadableFileError: for files opened by a library (SQLite) that would block.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise UnreadableFileError(
                path, f"is a link to {target}, which does not exist"
            ) from None
        return False
    if not stat.S_ISREG(mode):
        raise UnreadableFileError(path, f"is {kind_of(mode)}, not a regular file")
    return True


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB else f"{limit // KiB} KiB"


def loads_json(data: str | bytes) -> Any:
    """``json.loads``, with absurd nesting a ValueError like any other bad JSON.

    (The standard parser raises RecursionError on, say, 5,000 nested arrays.)
    """
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def read_json(path: str | os.PathLike[str], limit: int = SMALL_FILE, **kwargs: bool) -> Any:
    """A JSON file read with ``read_bounded``; raises OSError or ValueError."""
    return loads_json(read_bounded(path, limit, **kwargs).decode("utf-8"))


OWNER_LOCK = ".owner.lock"


@contextlib.contextmanager
def run_temp_dir(parent: Path) -> Iterator[Path]:
    """A private temp directory under ``parent`` (venv-doctor's cache, not /tmp),
    removed at the end. It holds a lock while its run lives, so
    ``remove_dead_temp_dirs`` can tell a killed run's leftovers from a live one's."""
    import shutil
    import tempfile

    ensure_private_dir(parent)
    path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=parent))
    fd = os.open(path / OWNER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def remove_dead_temp_dirs(parent: Path) -> list[Path]:
    """Remove the temp directories of runs that died (their lock is free)."""
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith("run-")]
    except OSError:
        return []
    import shutil

    removed = []
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False) and not _in_use(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _in_use(path: Path) -> bool:
    try:
        fd = os.open(path / OWNER_LOCK, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:  # a live run between mkdtemp and taking its lock, or long dead
        with contextlib.suppress(OSError):
            return time.time() - path.stat().st_mtime < 60
        return False
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
