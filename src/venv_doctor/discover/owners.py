"""Which tool owns a venv, and what that tool records about it.

The store a venv was found in names its owner; the owner's own records say
more: pipx's ``pipx_metadata.json`` (main package, injected packages, pip
arguments, backend, python), uv's ``uv-receipt.toml`` (requirements, python,
entry points), the minor version poetry and pdm put in an env's directory name,
hatch's project/env nesting, pyenv-virtualenv's version. Read from disk only,
never by running the tool. A repair keeps these records true (``records``).
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import SMALL_FILE, read_json, read_text_bounded
from venv_doctor.model.metadata import canonical_name
from venv_doctor.model.venv import Location

PIPX_METADATA = "pipx_metadata.json"
UV_RECEIPT = "uv-receipt.toml"
_POETRY_NAME = re.compile(r"^(?P<project>.+)-(?P<hash>[A-Za-z0-9_-]{8})-py(?P<minor>\d+\.\d+)$")
_PDM_NAME = re.compile(r"^(?P<project>.+)-(?P<hash>[A-Za-z0-9_-]{8})-(?P<name>.+)$")
_MINOR = re.compile(r"^\d+\.\d+$")


class OwnerKind(enum.StrEnum):
    PIPX_APP = "pipx-app"
    PIPX_SHARED = "pipx-shared"
    UV_TOOL = "uv-tool"
    POETRY_ENV = "poetry-env"
    HATCH_ENV = "hatch-env"
    PDM_VENV = "pdm-venv"
    PYENV_VIRTUALENV = "pyenv-virtualenv"
    VIRTUALENVWRAPPER = "virtualenvwrapper"
    MULTIVENV = "multivenv"
    PROJECT = "project"  # a tracked project's .venv
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Owner:
    kind: OwnerKind
    records: dict[str, Any] = field(default_factory=dict)  # what the owner records
    requested: tuple[str, ...] = ()  # distributions the owner's records say were asked for

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, **self.records}


_BY_STORE = {
    "uv-tools": OwnerKind.UV_TOOL,
    "poetry": OwnerKind.POETRY_ENV,
    "hatch": OwnerKind.HATCH_ENV,
    "pdm": OwnerKind.PDM_VENV,
    "pyenv-virtualenv": OwnerKind.PYENV_VIRTUALENV,
    "virtualenvwrapper": OwnerKind.VIRTUALENVWRAPPER,
    "multivenv": OwnerKind.MULTIVENV,
    "tracked": OwnerKind.PROJECT,
}


def owner_of(location: Location) -> Owner:
    """The owner of the venv at ``location`` and what it records (from disk)."""
    path = location.path
    if location.store == "pipx":
        if path.name == "shared" and not (path / PIPX_METADATA).exists():
            return Owner(OwnerKind.PIPX_SHARED)
        return _pipx_app(path)
    kind = _BY_STORE.get(location.store, OwnerKind.UNKNOWN)
    reader = _READERS.get(kind)
    return reader(path) if reader is not None else Owner(kind)


def _named(name: str, pattern: re.Pattern[str], minor_group: str) -> dict[str, Any]:
    """poetry's ``<project>-<hash>-py3.12`` and pdm's ``<project>-<hash>-3.12``."""
    match = pattern.match(name)
    if not match:
        return {}
    minor = match.group(minor_group)
    return {"project": match.group("project"), "minor": minor if _MINOR.match(minor) else None}


def read_pipx_metadata(path: Path) -> dict[str, Any] | None:
    try:
        data = read_json(path / PIPX_METADATA)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _pipx_app(path: Path) -> Owner:
    data = read_pipx_metadata(path)
    if data is None:
        return Owner(OwnerKind.PIPX_APP)
    main = _dict(data.get("main_package"))
    injected = _dict(data.get("injected_packages"))
    records = {
        "package": main.get("package"),
        "version": main.get("package_version"),
        "injected": sorted(injected),
        "pip_args": main.get("pip_args") or [],
        "backend": data.get("backend"),
        "python": _pipx_python(data),
    }
    requested = tuple(n for n in [main.get("package"), *injected] if isinstance(n, str))
    return Owner(OwnerKind.PIPX_APP, records, requested)


def _pipx_python(data: dict[str, Any]) -> str | None:
    source = data.get("source_interpreter")
    if isinstance(source, dict) and isinstance(source.get("__Path__"), str):
        return str(source["__Path__"])
    return None


def read_uv_receipt(path: Path) -> dict[str, Any] | None:
    import tomllib  # only uv's tool venvs have a receipt

    try:
        data = tomllib.loads(read_text_bounded(path / UV_RECEIPT, SMALL_FILE))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    tool = data.get("tool")
    return tool if isinstance(tool, dict) else None


def _uv_tool(path: Path) -> Owner:
    tool = read_uv_receipt(path)
    if tool is None:
        return Owner(OwnerKind.UV_TOOL)
    requirements = _list(tool.get("requirements"))
    names = [
        r["name"] for r in requirements if isinstance(r, dict) and isinstance(r.get("name"), str)
    ]
    entrypoints = _list(tool.get("entrypoints"))
    records = {
        "requirements": names,
        "python": tool.get("python"),
        "entrypoints": [e["name"] for e in entrypoints if isinstance(e, dict) and "name" in e],
    }
    return Owner(OwnerKind.UV_TOOL, records, tuple(names))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


_READERS: dict[OwnerKind, Callable[[Path], Owner]] = {
    OwnerKind.UV_TOOL: _uv_tool,
    OwnerKind.POETRY_ENV: lambda p: Owner(
        OwnerKind.POETRY_ENV, _named(p.name, _POETRY_NAME, "minor")
    ),
    OwnerKind.PDM_VENV: lambda p: Owner(OwnerKind.PDM_VENV, _named(p.name, _PDM_NAME, "name")),
    OwnerKind.HATCH_ENV: lambda p: Owner(
        OwnerKind.HATCH_ENV, {"project": p.parent.parent.name, "env": p.name}
    ),
    OwnerKind.PYENV_VIRTUALENV: lambda p: Owner(
        OwnerKind.PYENV_VIRTUALENV, {"version": p.parent.parent.name, "env": p.name}
    ),
    OwnerKind.PROJECT: lambda p: Owner(OwnerKind.PROJECT, {"project": str(p.parent)}),
}


# --- an uninstall by the owner ---------------------------------------------------------
_EXPOSES_APPS = frozenset({"pipx", "uv-tools"})  # stores whose uninstall removes the app links


def app_bin_dirs(store: str, env: Mapping[str, str]) -> list[Path]:
    """Where pipx and uv put the links to a tool venv's apps (``PIPX_BIN_DIR``;
    ``UV_TOOL_BIN_DIR``, ``XDG_BIN_HOME``; else ``~/.local/bin``)."""
    from venv_doctor.paths import home

    names = {"pipx": ("PIPX_BIN_DIR",), "uv-tools": ("UV_TOOL_BIN_DIR", "XDG_BIN_HOME")}
    dirs = [Path(env[n]) for n in names.get(store, ()) if env.get(n)]
    return [*dirs, home(env) / ".local" / "bin"]


def uninstalled_by_owner(location: Location, env: Mapping[str, str]) -> bool:
    """A vanished pipx or uv tool venv whose apps' links went with it: the owner's own
    uninstall (`pipx uninstall`, `uv tool uninstall`) removed it, which an ``rm -rf``
    (dangling links left behind) or a vanished interpreter does not do."""
    if location.store not in _EXPOSES_APPS or location.path.name == "shared":
        return False
    return next(links_into(location.path, app_bin_dirs(location.store, env)), None) is None


def links_into(venv: Path, dirs: Iterable[Path]) -> Iterator[tuple[str, str]]:
    """(link, target as written) for every link in ``dirs`` that points into ``venv``:
    the apps, man pages and completions an owner exposed from it."""
    inside = str(venv) + os.sep
    for directory in sorted(set(dirs)):
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                target = os.readlink(entry.path) if entry.is_symlink() else None
            except OSError:
                continue
            if target and os.path.normpath(os.path.join(directory, target)).startswith(inside):
                yield entry.path, target


def reinstall_command(location: Location, held: Iterable[str] = ()) -> tuple[str, ...] | None:
    """The owner's command that makes a pipx app or a uv tool again (their venvs need
    the owner's records to be whole), as words to quote; None for other venvs.

    A pipx venv is named after its main package plus any ``--suffix``: the longest of the
    distributions it ``held`` that starts its name is the package, the rest the suffix
    (``pipx install multi@2`` would ask pip for a URL named ``2``)."""
    name = location.path.name
    if location.store == "pipx" and name != "shared":
        package = max(
            (p for p in map(canonical_name, held) if p and name.startswith(p)),
            key=len,
            default=name,
        )
        suffix = name[len(package) :]
        return ("pipx", "install", package, *((f"--suffix={suffix}",) if suffix else ()))
    if location.store == "uv-tools":
        return ("uv", "tool", "install", name)
    return None
