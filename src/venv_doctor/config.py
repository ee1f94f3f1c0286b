"""The user's ``config.toml``: parsed, validated, and turned into a frozen Config.

Every key is checked; a wrong one is reported with the file, the key and what
was expected (exit 2), never silently ignored.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venv_doctor.errors import ConfigError
from venv_doctor.fsutil import SMALL_FILE, read_text_bounded
from venv_doctor.paths import AppDirs, expand_user

AUTO_REPAIR_POLICIES = ("off", "relink", "rebuild")
INSTALLERS = ("auto", "uv", "pip")
NOTIFY_BACKENDS = ("auto", "desktop", "osascript", "notify-send", "command", "log")

KEEP_DEFAULT = "30 days, monthly"
KEEP_MAX_DAYS = 36500
KEEP_MAX_MONTHS = 1200
_KEEP = (
    r"^\s*(?P<days>[0-9]+)\s*(?:d|days?)\s*"
    r"(?:,\s*(?:(?P<monthly>monthly)|(?P<months>[0-9]+)\s*months?)\s*)?$"
)  # compiled when a config states a policy: a check without one does not pay for it
KEEP_EXPECTED = (
    '"all", or "<days> days" optionally followed by ", monthly" (then the newest of each '
    'month) or ", <months> months" (the newest of each of that many months), '
    f'e.g. "30 days, monthly" (up to {KEEP_MAX_DAYS} days and {KEEP_MAX_MONTHS} months)'
)


@dataclass(frozen=True)
class Keep:
    """A ``[snapshot] keep`` policy (``record.retention`` applies it): ``days`` None keeps
    everything, ``months`` None keeps one a month for ever."""

    days: int | None
    months: int | None = 0

    @property
    def prunes(self) -> bool:
        return self.days is not None


def parse_keep(text: str) -> Keep:
    """The policy ``text`` states; ValueError (saying what was expected) otherwise."""
    if text.strip().lower() == "all":
        return Keep(None)
    match = re.match(_KEEP, text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"expected {KEEP_EXPECTED}")
    days = int(match["days"])
    months = None if match["monthly"] else int(match["months"] or 0)
    if days > KEEP_MAX_DAYS or (months or 0) > KEEP_MAX_MONTHS:
        raise ValueError(f"expected {KEEP_EXPECTED}")
    return Keep(days, months)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    extra_stores: tuple[Path, ...] = ()
    extra_interpreters: tuple[Path, ...] = ()
    keep_credentials: bool = False
    snapshot_keep: Keep = Keep(30, None)  # parse_keep(KEEP_DEFAULT), without a regex to compile
    repair_auto: str = "relink"
    installer: str = "auto"
    keep_backups_days: int = 14
    allow_vendor_change: bool = False  # relink onto another vendor's Python without asking
    debounce_seconds: float = 2.0
    max_wait_seconds: float = 30.0
    scan_interval_hours: float = 6.0
    notify_backends: tuple[str, ...] = ("auto",)
    notify_command: tuple[str, ...] = ()
    prometheus_textfile: str | None = None
    guard_block: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


Check = Callable[[Any], bool]


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1e6


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) and x for x in v)


def _one_of(choices: tuple[str, ...]) -> Check:
    return lambda v: v in choices


def _list_of(choices: tuple[str, ...]) -> Check:
    return lambda v: isinstance(v, list) and all(x in choices for x in v)


def _is_keep_policy(v: Any) -> bool:
    try:
        parse_keep(v if isinstance(v, str) else "")
    except ValueError:
        return False
    return True


def _is_prom_path(v: Any) -> bool:
    return isinstance(v, str) and v.endswith(".prom") and "\0" not in v


# section -> key -> (check, what was expected)
SCHEMA: dict[str, dict[str, tuple[Check, str]]] = {
    "stores": {"extra": (_is_str_list, "a list of directory paths")},
    "interpreters": {"extra": (_is_str_list, "a list of interpreter paths")},
    "snapshot": {
        "keep_credentials": (_is_bool, "true or false"),
        "keep": (_is_keep_policy, KEEP_EXPECTED),
    },
    "repair": {
        "auto": (_one_of(AUTO_REPAIR_POLICIES), 'one of "off", "relink", "rebuild"'),
        "installer": (_one_of(INSTALLERS), 'one of "auto", "uv", "pip"'),
        "keep_backups_days": (_is_int, "a whole number of days, 0 or more"),
        "allow_vendor_change": (_is_bool, "true or false"),
    },
    "watch": {
        "debounce_seconds": (_is_number, "a number of seconds from 0 to 1000000"),
        "max_wait_seconds": (_is_number, "a number of seconds from 0 to 1000000"),
    },
    "scan": {
        "interval_hours": (
            lambda v: _is_number(v) and v <= 8760,
            "a number of hours from 0 to 8760 (a year)",
        )
    },
    "guard": {"block": (_is_bool, "true or false")},
    "export": {
        "prometheus_textfile": (
            _is_prom_path,
            'a file path ending in ".prom" in node_exporter\'s textfile directory',
        )
    },
    "notify": {
        "backends": (_list_of(NOTIFY_BACKENDS), "a list of: " + ", ".join(NOTIFY_BACKENDS)),
        "command": (_is_str_list, 'a command as a list of strings, e.g. ["/usr/bin/prog", "arg"]'),
    },
}


def validate(data: Mapping[str, Any], path: Path) -> None:
    for section, body in data.items():
        keys = SCHEMA.get(section)
        if keys is None:
            raise ConfigError(
                f"{path}: unknown section [{section}]",
                hint="known sections: " + ", ".join(f"[{s}]" for s in SCHEMA),
            )
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in body.items():
            if key not in keys:
                raise ConfigError(
                    f"{path}: unknown key {section}.{key}",
                    hint=f"keys of [{section}]: " + ", ".join(keys),
                )
            check, expected = keys[key]
            if _has_nul(value):
                raise ConfigError(f"{path}: {section}.{key} holds a NUL character (\\u0000)")
            if not check(value):
                raise ConfigError(f"{path}: {section}.{key} = {_toml(value)}: expected {expected}")
    _validate_together(data, path)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\0" in value
    return isinstance(value, list) and any(isinstance(v, str) and "\0" in v for v in value)


def _toml(value: Any) -> str:
    """A value as the user wrote it in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _validate_together(data: Mapping[str, Any], path: Path) -> None:
    watch = data.get("watch", {})
    quiet, most = watch.get("debounce_seconds", 2.0), watch.get("max_wait_seconds", 30.0)
    if quiet > most:
        raise ConfigError(
            f"{path}: watch.debounce_seconds = {quiet} is more than watch.max_wait_seconds = {most}",
            hint="the quiet period must fit in the longest wait",
        )
    notify = data.get("notify", {})
    if "command" in notify.get("backends", []) and not notify.get("command"):
        raise ConfigError(
            f'{path}: notify.backends lists "command" but notify.command is missing or empty',
            hint='set e.g. command = ["/usr/local/bin/my-notifier"]',
        )


def _paths(values: list[str], base: Path, path: Path, key: str) -> tuple[Path, ...]:
    out = []
    for value in values:
        try:
            p = expand_user(value, base)
        except RuntimeError as exc:  # ~user of no such user
            raise ConfigError(f"{path}: {key} = {_toml(value)}: {exc}") from exc
        out.append(p if p.is_absolute() else base / p)
    return tuple(out)


def from_mapping(data: Mapping[str, Any], path: Path, home: Path) -> Config:
    validate(data, path)

    def get(section: str, key: str, default: Any) -> Any:
        return data.get(section, {}).get(key, default)

    return Config(
        path=path,
        extra_stores=_paths(get("stores", "extra", []), home, path, "stores.extra"),
        extra_interpreters=_paths(
            get("interpreters", "extra", []), home, path, "interpreters.extra"
        ),
        keep_credentials=get("snapshot", "keep_credentials", False),
        snapshot_keep=parse_keep(get("snapshot", "keep", KEEP_DEFAULT)),
        repair_auto=get("repair", "auto", "relink"),
        installer=get("repair", "installer", "auto"),
        keep_backups_days=get("repair", "keep_backups_days", 14),
        allow_vendor_change=get("repair", "allow_vendor_change", False),
        debounce_seconds=float(get("watch", "debounce_seconds", 2.0)),
        max_wait_seconds=float(get("watch", "max_wait_seconds", 30.0)),
        scan_interval_hours=float(get("scan", "interval_hours", 6.0)),
        notify_backends=tuple(get("notify", "backends", ["auto"])),
        notify_command=tuple(get("notify", "command", [])),
        prometheus_textfile=get("export", "prometheus_textfile", None),
        guard_block=get("guard", "block", False),
        raw=data,
    )


def load(dirs: AppDirs, env: Mapping[str, str]) -> Config:
    """Read ``config.toml``; a missing file means the defaults (``env`` gives ``~``)."""
    from venv_doctor.paths import home as home_dir

    path = dirs.config_file
    try:
        if not os.path.lexists(path):
            return Config(path=None)
        text = read_text_bounded(path, SMALL_FILE)
    except FileNotFoundError:  # a link to nothing
        raise ConfigError(
            f"{path}: cannot be read: it is a link to {os.readlink(path)}, which does not exist"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot be read: not UTF-8 text ({exc.reason})") from exc
    import tomllib  # only when there is a config file to read

    try:
        data = tomllib.loads(text)
        return from_mapping(data, path, home_dir(env))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from exc
