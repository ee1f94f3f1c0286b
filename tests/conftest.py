"""Test isolation: every test runs with HOME, XDG_*, VENV_DOCTOR_* and every store
variable pointed at its tmp dir, and fails loudly if anything reaches the real home."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import dunst_server
from tests.support import REAL_HOME, REAL_PYENV_ROOT, FakeHomebrew, make_wheel, tiny_wheels
from tests.user_manager import ManagerUnavailable, UserManager
from tests.user_manager import require as require_manager
from tests.user_manager import user_manager as real_user_manager

STORE_VARIABLES = (
    "WORKON_HOME",
    "PIPX_HOME",
    "PIPX_BIN_DIR",
    "PIPX_MAN_DIR",
    "PIPX_COMPLETION_DIR",
    "UV_TOOL_BIN_DIR",
    "XDG_BIN_HOME",
    "PYENV_ROOT",
    "POETRY_VIRTUALENVS_PATH",
    "POETRY_CACHE_DIR",
    "HATCH_DATA_DIR",
    "UV_TOOL_DIR",
    "UV_PYTHON_INSTALL_DIR",
    "UV_CACHE_DIR",
    "HOMEBREW_PREFIX",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "NOTIFY_SOCKET",
    "DBUS_SESSION_BUS_ADDRESS",
    "NO_COLOR",
    # piped output wraps at COLUMNS when set; xdist's workers inherit COLUMNS=80
    "COLUMNS",
    "LINES",
)

_violations: list[str] = []
_guard_on = False


_READ_EVENTS = ("open", "os.listdir", "os.scandir")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _outside_allowed(path: object, writes: bool, follows: bool = True) -> str | None:
    """The real path `path` names when it is one a test may not touch (`writes`: to change;
    `follows`: the call acts on what a final symlink points to), else None."""
    try:
        text = os.fsdecode(path)  # type: ignore[arg-type]
    except TypeError:
        return None
    if not text.startswith("/"):
        return None
    if follows:
        real = os.path.realpath(text)
    else:
        head, name = os.path.split(text.rstrip("/") or "/")
        real = os.path.join(os.path.realpath(head), name)
    if real.startswith(str(REAL_PYENV_ROOT) + "/") or real == str(REAL_PYENV_ROOT):
        # the real interpreters are test inputs: read, never written
        return real if writes else None
    home = str(REAL_HOME)
    if real == home or real.startswith(home + "/"):
        return real
    return None


def _writes(event: str, args: tuple[object, ...]) -> bool:
    """Whether an audited call changes the file system (an `open` only when its mode or
    flags write)."""
    if event != "open":
        return event not in _READ_EVENTS
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _guard_on or not args:
        return
    if event in (
        "open",
        "os.listdir",
        "os.scandir",
        "os.mkdir",
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.symlink",
        "shutil.rmtree",
        "os.chmod",
    ):
        writes = _writes(event, args)
        # these act on a final symlink itself, not on what it points to
        follows = event not in ("os.remove", "os.rename", "os.symlink", "os.rmdir", "os.mkdir")
        # a link's target (os.symlink's first argument) is only named, not written
        bad = _outside_allowed(args[0], writes and event != "os.symlink", follows)
        if bad is None and event in ("os.rename", "os.symlink") and len(args) > 1:
            bad = _outside_allowed(args[1], writes, follows=False)
        if bad is not None:
            _violations.append(f"{event} {bad}")
            raise RuntimeError(f"test touched the real home or pyenv root: {event} {bad}")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every variable venv-doctor reads at tmp_path; fail if a path escapes."""
    global _guard_on
    home = tmp_path / "home"
    home.mkdir()
    for name in STORE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", _path_without_real_home())
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var, sub in (("CONFIG", "config"), ("STATE", "state"), ("CACHE", "cache"), ("LOG", "log")):
        monkeypatch.setenv(f"VENV_DOCTOR_{var}_DIR", str(tmp_path / "vd" / sub))
    _assert_all_paths_under(tmp_path)
    _violations.clear()
    _guard_on = True
    try:
        yield home
    finally:
        _guard_on = False
    if _violations:
        pytest.fail("test touched the real home directory:\n" + "\n".join(_violations))


def _path_without_real_home() -> str:
    """PATH minus entries under the real home (e.g. ~/.cargo/bin), keeping the pyenv tree."""
    keep = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        real = os.path.realpath(entry) if entry else ""
        under_home = real == str(REAL_HOME) or real.startswith(str(REAL_HOME) + "/")
        if entry and (not under_home or real.startswith(str(REAL_PYENV_ROOT) + "/")):
            keep.append(entry)
    return os.pathsep.join(keep)


def _assert_all_paths_under(tmp_path: Path) -> None:
    from venv_doctor import config, paths
    from venv_doctor.discover import stores

    dirs = paths.app_dirs(os.environ)
    every = [
        dirs.config,
        dirs.state,
        dirs.cache,
        dirs.log,
        paths.systemd_user_dir(os.environ),
        paths.launch_agents_dir(os.environ),
        paths.pyenv_root(os.environ),
    ]
    every += [s.root for s in stores.known_stores(config.Config(), os.environ)]
    escaped = [p for p in every if not str(p).startswith(str(tmp_path))]
    if escaped:
        pytest.fail(f"paths escape the test's tmp dir: {escaped}")


@pytest.fixture
def homebrew(tmp_path: Path) -> FakeHomebrew:
    return FakeHomebrew(tmp_path / "homebrew")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local wheelhouse of tiny pure-Python wheels (no network ever)."""
    house = tiny_wheels(tmp_path_factory.mktemp("wheelhouse"))
    make_wheel(house, "tinyleaf", "1.1.0")  # a newer leaf, for upgrade cases
    return house


@pytest.fixture(scope="session")
def user_manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserManager]:
    """One real ``systemd --user`` per test worker (see tests/user_manager.py)."""
    base = tmp_path_factory.mktemp("user-manager")
    try:
        with real_user_manager(base / "home", base / "boot.log") as manager:
            yield manager
    except ManagerUnavailable as exc:
        require_manager(exc)


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """One Xvfb per test worker, for dunst."""
    dunst_server.require_programs()
    with dunst_server.xvfb() as display:
        yield display


@pytest.fixture
def dunst(x_display: str, tmp_path: Path) -> Iterator[dunst_server.Dunst]:
    """A real notification server on a private session bus (see tests/dunst_server.py)."""
    with dunst_server.dunst(x_display, tmp_path / "dunst") as server:
        yield server


def _pyenv_root_listing() -> frozenset[str]:
    """The names in the real pyenv root where a stray write would land: its top, `shims`,
    `versions`, each version's top and `bin` (the directories venvs link into)."""
    names: set[str] = set()
    dirs = [REAL_PYENV_ROOT, REAL_PYENV_ROOT / "shims", REAL_PYENV_ROOT / "versions"]
    versions = REAL_PYENV_ROOT / "versions"
    if versions.is_dir():
        for version in versions.iterdir():
            dirs += [version, version / "bin"]
    for d in dirs:
        try:
            names.update(str(d / name) for name in os.listdir(d))
        except OSError:
            continue
    return frozenset(names)


_pyenv_before: frozenset[str] = frozenset()


def pytest_sessionstart(session: pytest.Session) -> None:
    global _pyenv_before
    _pyenv_before = _pyenv_root_listing()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test (or a process it started) added or removed a file in the
    real pyenv root, which tests may only read."""
    if hasattr(session.config, "workerinput"):
        return  # the controller checks once, after every worker
    changed = _pyenv_before.symmetric_difference(_pyenv_root_listing())
    if changed:
        sys.stderr.write(
            "\nthe real pyenv root changed during the tests (tests may only read it):\n"
            + "\n".join(sorted(changed)[:20])
            + "\n"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
