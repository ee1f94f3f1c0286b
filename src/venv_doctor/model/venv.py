"""The venv model: what a venv directory holds, read from disk without running it."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from venv_doctor.fsutil import SMALL_FILE, read_text_bounded, read_upto
from venv_doctor.model import links, pyvenv_cfg, shebangs
from venv_doctor.model.links import LinkChain
from venv_doctor.model.pyvenv_cfg import PyvenvCfg
from venv_doctor.model.shebangs import Shebang

_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?[a-z]?$")
# lib/pythonX.Y (and a free-threaded build's lib/pythonX.Yt): the one pattern
_LIB_DIR = re.compile(r"^python(\d+)\.(\d+)t?$")
_SKIP_SCRIPTS = ("activate", "Activate", "python", "deactivate")
MAX_SCRIPT_SIZE = 1 << 20


@dataclass(frozen=True)
class Location:
    """Where a venv was found: its name, real path and the store that holds it."""

    name: str
    path: Path
    store: str


class BinPython(NamedTuple):
    """A ``bin/python*`` entry. A NamedTuple, immutable as a frozen dataclass but made
    at a third of the cost: a check makes three for every venv."""

    name: str  # e.g. "python3.12"
    chain: LinkChain

    @property
    def is_copy(self) -> bool:
        return not self.chain.is_link


class Venv(NamedTuple):
    """What a venv directory holds. A NamedTuple, immutable as a frozen dataclass but
    made at a third of the cost: a check reads thousands."""

    location: Location
    layout: str  # "venv", "legacy" (virtualenv < 20) or "unreadable"
    cfg: PyvenvCfg | None
    cfg_error: str | None  # why pyvenv.cfg could not be read
    pythons: tuple[BinPython, ...]
    lib_minors: tuple[str, ...]  # X.Y of every lib/pythonX.Y
    site_dirs: tuple[str, ...]  # each lib/pythonX.Y/site-packages directory, as text
    scripts: tuple[Shebang, ...]
    orig_prefix: str | None = None  # legacy virtualenv's lib/pythonX.Y/orig-prefix.txt
    error: str | None = None  # the venv directory itself could not be read
    # what this user may not read (the directory or file that says no): what is
    # behind it is unknown, not missing
    denied: tuple[Path, ...] = ()

    @property
    def path(self) -> Path:
        return self.location.path

    @property
    def site_packages(self) -> tuple[Path, ...]:
        """``site_dirs`` as Paths (a check over thousands of venvs uses the text)."""
        return tuple(map(Path, self.site_dirs))

    @property
    def name(self) -> str:
        return self.location.name

    @property
    def creator(self) -> str:
        if self.layout == "legacy":
            return "virtualenv-legacy"
        return self.cfg.creator if self.cfg else "unknown"

    @property
    def recorded_version(self) -> str | None:
        return self.cfg.version if self.cfg else None

    @property
    def version(self) -> str | None:
        """The Python version the venv was made for: pyvenv.cfg's, else its lib/pythonX.Y."""
        return self.recorded_version or (self.lib_minors[-1] if self.lib_minors else None)

    @property
    def minor(self) -> str | None:
        """The venv's X.Y: the minor version whose interpreter sees its packages.

        The one definition, for diagnosis and repair alike. A single lib/pythonX.Y
        decides, because that is where the packages are; pyvenv.cfg's version only
        breaks a tie (no lib/pythonX.Y, or several), then the last lib/pythonX.Y by
        name. So a venv whose pyvenv.cfg says 3.11 but whose packages are in
        lib/python3.12 (``version-mismatch``) is a 3.12 venv, and a rebuild keeps 3.12.
        """
        if len(self.lib_minors) == 1:
            return self.lib_minors[0]
        cfg_minor = self.cfg.minor if self.cfg else None
        return cfg_minor or (self.lib_minors[-1] if self.lib_minors else None)

    @property
    def main_python(self) -> BinPython | None:
        """``bin/python`` or the best stand-in for it: ``python3``, else the first by name."""
        pythons = self.pythons
        if not pythons:
            return None
        for wanted in ("python", "python3"):
            for py in pythons:
                if py.name == wanted:
                    return py
        return min(pythons, key=_by_name)


def lib_dir_minor(name: str) -> str | None:
    """X.Y of a ``lib/pythonX.Y`` (or ``pythonX.Yt``) directory name, else None."""
    match = _LIB_DIR.match(name)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def is_venv_dir(path: Path | str) -> bool:
    """A directory that is a venv (or was one): pyvenv.cfg, a legacy marker, or activate.

    The one answer to "is this a venv", for finding venvs and for telling a venv's
    interpreter from a base one.
    """
    if os.path.lexists(os.path.join(path, "pyvenv.cfg")):
        return True
    if is_conda_dir(path):
        return False  # conda environments are not venvs
    if os.path.exists(os.path.join(path, "bin", "activate")):
        return True
    return bool(_legacy_marker(path))


def is_conda_dir(path: Path | str) -> bool:
    """A conda installation or environment."""
    return os.path.isdir(os.path.join(path, "conda-meta"))


def venv_of(executable: Path) -> Path | None:
    """The venv whose ``bin/`` holds ``executable``, or None for a base interpreter."""
    prefix = executable.parent.parent
    return prefix if is_venv_dir(prefix) else None


def unlistable_dir(path: Path | str) -> bool:
    """A directory this user may not list: it may well be a venv, and is reported as one
    whose contents are unknown rather than skipped."""
    try:
        os.listdir(path)
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def _legacy_marker(path: Path | str) -> Path | None:
    lib = os.path.join(path, "lib")
    try:
        names = os.listdir(lib)
    except OSError:
        return None
    for name in names:
        marker = os.path.join(lib, name, "orig-prefix.txt")
        if lib_dir_minor(name) and os.path.exists(marker):
            return Path(marker)
    return None


def _read_cfg(path: Path) -> tuple[PyvenvCfg | None, str | None]:
    cfg_path = path / "pyvenv.cfg"
    if not os.path.lexists(cfg_path):
        return None, None
    if os.path.islink(cfg_path) and not os.path.exists(cfg_path):
        return None, f"{cfg_path} is a link to {os.readlink(cfg_path)}, which does not exist"
    if os.path.isdir(cfg_path):
        return None, f"{cfg_path} is a directory, not a file"
    try:
        return pyvenv_cfg.read(cfg_path), None
    except ValueError as exc:  # not UTF-8, or binary data
        what = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "holds binary data"
        return None, f"{cfg_path} {what}, not a list of `key = value` lines"
    except OSError as exc:
        return None, f"{cfg_path} cannot be read: {exc.strerror or exc}"


def blocker(path: Path) -> Path:
    """The directory or file that denies this user access to ``path``: ``path`` itself
    when it can be looked at (but not read), else its nearest ancestor that can (a
    directory that cannot be searched hides what is in it)."""
    current = path
    while True:
        try:
            os.stat(current)
        except PermissionError:
            if current.parent == current:
                return current
            current = current.parent
            continue
        except OSError:
            pass
        return current


def _read_cfg_quickly(path: str, denied: list[Path]) -> tuple[PyvenvCfg | None, str | None]:
    """The common case, a readable cfg, without the three checks ``_read_cfg`` makes first."""
    cfg_path = f"{path}/pyvenv.cfg"
    try:
        return pyvenv_cfg.read(cfg_path), None
    except PermissionError:
        denied.append(blocker(Path(cfg_path)))
        return None, f"{cfg_path} cannot be read: permission denied"
    except (OSError, ValueError):
        return _read_cfg(Path(path))  # which says exactly what is wrong, or that there is no cfg


_by_name = attrgetter("name")


def _scan_bin(
    bin_dir: str, denied: list[Path], walked: links.Walked | None
) -> tuple[tuple[BinPython, ...], tuple[Shebang, ...]]:
    pythons: list[BinPython] = []
    scripts: list[Shebang] = []
    try:
        with os.scandir(bin_dir) as it:
            entries = sorted(it, key=_by_name)
    except PermissionError:
        denied.append(blocker(Path(bin_dir)))
        return (), ()
    except OSError:
        return (), ()
    for entry in entries:
        name = entry.name
        if name.startswith("python") and _PYTHON_NAME.match(name):
            pythons.append(BinPython(name, links.follow(entry.path, walked)))
        elif not name.startswith(_SKIP_SCRIPTS):
            script = _read_script(entry)
            if script:
                scripts.append(script)
    return tuple(pythons), tuple(scripts)


def _read_script(entry: os.DirEntry[str]) -> Shebang | None:
    try:
        # the listing says what an entry is; only a link costs a stat. Nothing but a
        # regular file is opened (opening a device can do things)
        if not (entry.is_file() if entry.is_symlink() else entry.is_file(follow_symlinks=False)):
            return None
        head = _read_head(entry.path, shebangs.HEAD_BYTES)
    except OSError:
        return None
    return shebangs.parse(entry.path, head) if head is not None else None


def _read_head(path: str, size: int) -> bytes | None:
    """The first ``size`` bytes of an executable regular file of at most MAX_SCRIPT_SIZE
    bytes, else None; as ``shebangs.read`` reads them but with a third of the system
    calls of a stat and a buffered file object (this runs for every script)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never blocks on a FIFO swapped in
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if not stat.S_ISREG(mode) or st.st_size > MAX_SCRIPT_SIZE or not mode & 0o111:
            return None
        head = os.read(fd, min(size, st.st_size + 1))  # sized to the file, not 8 KiB a script
        if len(head) <= st.st_size:
            return head  # short of the extra byte: the whole file
        return head + read_upto(fd, 0, size - len(head))  # it grew since fstat
    finally:
        os.close(fd)


def _scan_lib(path: str, denied: list[Path]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    minors, site = [], []
    lib = f"{path}/lib"  # a venv's path is normal: no trailing slash to mind
    try:
        names = sorted(os.listdir(lib))
    except PermissionError:
        denied.append(blocker(Path(lib)))
        return (), ()
    except OSError:
        return (), ()
    for name in names:
        minor = lib_dir_minor(name)
        if minor:
            minors.append(minor)
            site_packages = f"{lib}/{name}/site-packages"
            try:
                is_dir = stat.S_ISDIR(os.stat(site_packages).st_mode)
            except PermissionError:
                denied.append(blocker(Path(site_packages)))
                continue
            except OSError:
                continue
            if is_dir:
                site.append(site_packages)
    return tuple(minors), tuple(site)


def load(location: Location, walked: links.Walked | None = None) -> Venv:
    """Read everything the diagnosis needs; never raises for a damaged venv.

    ``walked``: the links followed so far, shared by the venvs of one pass."""
    path = location.path
    text = os.fspath(path)
    try:  # opening says whether it can be listed (as scandir would); no listing needed
        os.close(os.open(text, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    except OSError as exc:
        reason = f"{path} cannot be read: {exc.strerror or exc}"
        denied = (blocker(path),) if isinstance(exc, PermissionError) else ()
        return Venv(location, "unreadable", None, None, (), (), (), (), error=reason, denied=denied)
    refused: list[Path] = []
    cfg, cfg_error = _read_cfg_quickly(text, refused)
    marker = None if cfg or cfg_error else _legacy_marker(path)
    pythons, scripts = _scan_bin(f"{text}/bin", refused, walked)
    minors, site = _scan_lib(text, refused)
    orig_prefix = None
    if marker:
        try:
            orig_prefix = read_text_bounded(marker, SMALL_FILE).strip()
        except (OSError, UnicodeDecodeError):
            orig_prefix = None
    layout = "legacy" if marker else "venv"
    return Venv(
        location,
        layout,
        cfg,
        cfg_error,
        pythons,
        minors,
        site,
        scripts,
        orig_prefix,
        denied=tuple(dict.fromkeys(refused)),
    )
