"""The user's pip settings, read the way pip reads them, and what they mean to uv.

uv ignores pip's configuration, so a rebuild with uv could silently use
another package index than the user's pip does. The settings of ``PIP_*``
variables and pip's configuration files (``[global]``, then ``[install]``)
are translated into uv options here; one uv cannot honour is reported so the
install goes to pip instead.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from venv_doctor.errors import ConfigError
from venv_doctor.fsutil import SMALL_FILE, UnreadableFileError, read_text_bounded
from venv_doctor.paths import home, is_macos, xdg_dir

SECTIONS = ("global", "install")  # later sections win, as in pip

# pip setting -> uv option, once per whitespace-separated value
_REPEATED = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "trusted-host": "--allow-insecure-host",
    "constraint": "--constraints",
}
# comma-separated package lists
_PACKAGE_LISTS = {"only-binary": "--only-binary", "no-binary": "--no-binary"}
_FLAGS = {
    "no-index": ("--no-index",),
    "pre": ("--prerelease", "allow"),
    "require-hashes": ("--require-hashes",),
}
# settings uv takes from its environment instead of its command line
_ENVIRONMENT = {
    "cert": ("SSL_CERT_FILE",),
    "client-cert": ("SSL_CLIENT_CERT",),
    "proxy": ("HTTPS_PROXY", "HTTP_PROXY"),
}
_TIMEOUTS = ("timeout", "default-timeout")
# settings that change neither what is installed nor where it comes from
IGNORED = frozenset(
    {
        "break-system-packages",
        "cache-dir",
        "compile",
        "config-file",
        "disable-pip-version-check",
        "exists-action",
        "force-reinstall",
        "ignore-installed",
        "isolated",
        "local-log",
        "log",
        "log-file",
        "no-cache-dir",
        "no-clean",
        "no-color",
        "no-compile",
        "no-deps",
        "no-input",
        "no-python-version-warning",
        "no-warn-conflicts",
        "no-warn-script-location",
        "prefer-binary",
        "progress-bar",
        "quiet",
        "require-virtualenv",
        "resume-retries",
        "retries",
        "root-user-action",
        "upgrade",
        "upgrade-strategy",
        "use-deprecated",
        "use-feature",
        "verbose",
    }
)
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})


@dataclass(frozen=True)
class Setting:
    value: str
    origin: str  # "PIP_INDEX_URL" or "/etc/pip.conf [install]"


@dataclass(frozen=True)
class UvOptions:
    args: tuple[str, ...] = ()  # for `uv pip install`
    env: tuple[tuple[str, str], ...] = ()  # variables to set for uv
    unsupported: tuple[str, ...] = ()  # settings uv cannot honour, each with where it is set


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").removeprefix("--")


def config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's configuration files in the order pip loads them (later files win)."""
    chosen = env.get("PIP_CONFIG_FILE")
    if chosen == os.devnull:
        return []  # pip's documented way to load no file at all
    if is_macos():
        files = [Path("/Library/Application Support/pip/pip.conf")]
    else:
        dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files = [Path(d) / "pip" / "pip.conf" for d in dirs.split(os.pathsep) if d]
        files.append(Path("/etc/pip.conf"))
    if not (chosen and os.path.exists(chosen)):
        files += _user_files(env)
    if chosen:
        files.append(Path(chosen))
    return files


def _user_files(env: Mapping[str, str]) -> list[Path]:
    legacy = home(env) / ".pip" / "pip.conf"
    mac_dir = home(env) / "Library" / "Application Support" / "pip"
    if is_macos() and mac_dir.is_dir():
        return [legacy, mac_dir / "pip.conf"]
    return [legacy, xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "pip" / "pip.conf"]


def _read_file(path: Path) -> dict[str, Setting]:
    parser = configparser.RawConfigParser()
    try:
        text = read_text_bounded(path, SMALL_FILE)
    except FileNotFoundError:
        return {}
    except UnreadableFileError as exc:  # pip would hang on a FIFO; we say what is wrong
        raise ConfigError(
            f"{path}: cannot be read: {exc.strerror}",
            hint="pip reads this file too; replace it with a regular file or remove it",
        ) from exc
    except OSError:
        return {}  # unreadable: pip skips it too
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a valid pip configuration file: {exc}",
            hint="pip would refuse it too; fix the file or set PIP_CONFIG_FILE",
        ) from exc
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(
            f"{path}: not a valid pip configuration file: {exc}",
            hint="pip would refuse it too; fix the file or set PIP_CONFIG_FILE",
        ) from exc
    found: dict[str, Setting] = {}
    for section in SECTIONS:
        if parser.has_section(section):
            for key, value in parser.items(section):
                found[_normalize(key)] = Setting(value, f"{path} [{section}]")
    return found


def read_settings(
    env: Mapping[str, str], files: Sequence[Path] | None = None
) -> dict[str, Setting]:
    """Every pip setting that applies to ``pip install``: files in order, then ``PIP_*``."""
    settings: dict[str, Setting] = {}
    for path in config_files(env) if files is None else files:
        settings.update(_read_file(path))
    for key, value in sorted(env.items()):
        if key.startswith("PIP_") and key != "PIP_CONFIG_FILE":
            settings[_normalize(key[4:])] = Setting(value, key)
    return settings


def _boolean(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    return False if lowered in _FALSE else None


class _Translation:
    def __init__(self) -> None:
        self.args: list[str] = []
        self.env: dict[str, str] = {}
        self.unsupported: list[str] = []

    def add(self, name: str, setting: Setting) -> None:
        value = setting.value
        if name in _REPEATED:
            for item in value.split():
                self.args += [_REPEATED[name], item]
        elif name in _PACKAGE_LISTS:
            for item in value.replace(",", " ").split():
                self.args += [_PACKAGE_LISTS[name], item]
        elif name in _FLAGS:
            self._flag(name, setting)
        elif name in _ENVIRONMENT:
            self.env.update(dict.fromkeys(_ENVIRONMENT[name], value.strip()))
        elif name in _TIMEOUTS:
            self._timeout(name, setting)
        elif name == "keyring-provider" and value.strip() in ("disabled", "subprocess"):
            self.args += ["--keyring-provider", value.strip()]
        elif name not in IGNORED:
            self.unsupported.append(f"{name} ({setting.origin})")  # values may be secrets

    def _flag(self, name: str, setting: Setting) -> None:
        on = _boolean(setting.value)
        if on is None:
            self.unsupported.append(f"{name} ({setting.origin}): not a boolean")
        elif on:
            self.args += _FLAGS[name]

    def _timeout(self, name: str, setting: Setting) -> None:
        try:
            seconds = float(setting.value)
        except ValueError:
            self.unsupported.append(f"{name} ({setting.origin}): not a number")
            return
        self.env["UV_HTTP_TIMEOUT"] = str(max(1, round(seconds)))


def uv_options(settings: Mapping[str, Setting]) -> UvOptions:
    """The uv equivalent of pip's settings, and the ones that have none."""
    translation = _Translation()
    for name, setting in settings.items():
        translation.add(name, setting)
    args = translation.args
    if "--extra-index-url" in args:
        # pip takes the best version across every index; uv's default stops at the first
        args += ["--index-strategy", "unsafe-best-match"]
    return UvOptions(
        args=tuple(args),
        env=tuple(sorted(translation.env.items())),
        unsupported=tuple(translation.unsupported),
    )
