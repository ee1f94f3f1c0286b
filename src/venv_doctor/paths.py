"""Every default path venv-doctor uses comes from here, and each honours its override.

The daemon may run without the user's XDG variables (systemd/launchd), so the
service passes explicit ``VENV_DOCTOR_*`` directories; the CLI honours the same.
"""

from __future__ import annotations

import os
import pwd
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "venv-doctor"
# A venv on another file system than the state dir is backed up beside itself,
# in this (hidden) directory, so the backup is one rename away.
BACKUP_AREA_BESIDE = ".venv-doctor-backups"


@dataclass(frozen=True)
class AppDirs:
    config: Path
    state: Path
    cache: Path
    log: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def database(self) -> Path:
        return self.state / "state.db"

    @property
    def tracked_file(self) -> Path:
        return self.state / "tracked.json"

    @property
    def interpreters_cache(self) -> Path:
        """What each interpreter binary is (version, implementation), kept so that
        one is started at most once per change of its file."""
        return self.cache / "interpreters.json"

    @property
    def backups(self) -> Path:
        return self.state / "backups"

    @property
    def tmp(self) -> Path:
        """Repairs' temp directories (their children's TMPDIR too): recovery removes
        those of runs that died, so nothing is left in /tmp."""
        return self.cache / "tmp"

    @property
    def locks(self) -> Path:
        return self.state / "locks"

    @property
    def own(self) -> tuple[Path, ...]:
        """Every directory venv-doctor owns (a venv inside one is a backup or scratch)."""
        return (self.config, self.state, self.cache, self.log)

    @property
    def debug_log(self) -> Path:
        return self.log / "debug.log"


def is_macos() -> bool:
    return sys.platform == "darwin"


def home(env: Mapping[str, str]) -> Path:
    """``env``'s HOME, else this user's home in the password database. A relative HOME
    is no home (as platformdirs took it): the state database would move with the cwd."""
    value = env.get("HOME")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def expand_user(value: str, home_dir: Path) -> Path:
    """``~`` and ``~/...`` against ``home_dir`` (``home(env)``, not the process's HOME);
    ``~user/...`` from the password database (RuntimeError for no such user)."""
    if value == "~" or value.startswith("~/"):
        return home_dir / value[2:]
    return Path(value).expanduser() if value.startswith("~") else Path(value)


def _override(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return expand_user(value, home(env)) if value else default


def app_dirs(env: Mapping[str, str]) -> AppDirs:
    """The config, state, cache and log directories, overrides first."""
    usual = platform_dirs(env)
    return AppDirs(
        config=_override(env, "VENV_DOCTOR_CONFIG_DIR", usual.config),
        state=_override(env, "VENV_DOCTOR_STATE_DIR", usual.state),
        cache=_override(env, "VENV_DOCTOR_CACHE_DIR", usual.cache),
        log=_override(env, "VENV_DOCTOR_LOG_DIR", usual.log),
    )


def platform_dirs(env: Mapping[str, str]) -> AppDirs:
    """Where the platform keeps an app's files, from ``env`` (the Context's): XDG base
    directories, else ``~/.config`` and friends, or ``~/Library/...`` on macOS. The
    places platformdirs gives, which reads the process environment instead."""
    if is_macos():
        library = home(env) / "Library"
        support = library / "Application Support"
        return AppDirs(
            config=_xdg(env, "XDG_CONFIG_HOME", support) / APP_NAME,
            state=_xdg(env, "XDG_STATE_HOME", support) / APP_NAME,
            cache=_xdg(env, "XDG_CACHE_HOME", library / "Caches") / APP_NAME,
            log=library / "Logs" / APP_NAME,
        )
    state = xdg_dir(env, "XDG_STATE_HOME", ".local/state") / APP_NAME
    return AppDirs(
        config=xdg_dir(env, "XDG_CONFIG_HOME", ".config") / APP_NAME,
        state=state,
        cache=xdg_dir(env, "XDG_CACHE_HOME", ".cache") / APP_NAME,
        log=state / "log",
    )


def _xdg(env: Mapping[str, str], name: str, default: Path) -> Path:
    value = env.get(name, "")
    return Path(value) if value and Path(value).is_absolute() else default


def xdg_dir(env: Mapping[str, str], name: str, fallback: str) -> Path:
    """An XDG base directory: the variable if set and absolute, else ``~/<fallback>``."""
    return _xdg(env, name, home(env) / fallback)


def mac_app_support(env: Mapping[str, str]) -> Path:
    return home(env) / "Library" / "Application Support"


def pyenv_root(env: Mapping[str, str]) -> Path:
    value = env.get("PYENV_ROOT")
    return expand_user(value, home(env)) if value else home(env) / ".pyenv"


def systemd_user_dir(env: Mapping[str, str]) -> Path:
    return xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "systemd" / "user"


def launch_agents_dir(env: Mapping[str, str]) -> Path:
    return home(env) / "Library" / "LaunchAgents"


def mac_logs_dir(env: Mapping[str, str]) -> Path:
    return home(env) / "Library" / "Logs" / APP_NAME
