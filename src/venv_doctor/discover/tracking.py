"""Single venvs the user registers with ``venv-doctor track`` (project ``.venv``s)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from venv_doctor.errors import ConfigError, TargetNotFoundError, UsageError
from venv_doctor.fsutil import atomic_write, read_json
from venv_doctor.model.venv import Location, is_venv_dir
from venv_doctor.paths import BACKUP_AREA_BESIDE

STORE = "tracked"


def load(file: Path) -> list[Location]:
    try:
        if not os.path.lexists(file):
            return []
        data = read_json(file, follow_symlinks=False)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(
            f"{file}: not a list of tracked venvs ({exc})",
            hint="fix or delete the file, then track the venvs again",
        ) from exc
    try:
        return [_location(e) for e in data["venvs"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{file}: not a list of tracked venvs ({exc})",
            hint="fix or delete the file, then track the venvs again",
        ) from exc


def _location(entry: dict[str, str]) -> Location:
    name, path = entry["name"], entry["path"]
    if not (isinstance(name, str) and isinstance(path, str) and name and path):
        raise TypeError(f"an entry needs a name and a path: {entry!r:.200}")
    if "\0" in path:
        raise ValueError(f"a path holds a NUL character: {path!r:.200}")
    return Location(name, Path(path), STORE)


def _save(file: Path, locations: list[Location]) -> None:
    body = {
        "schema_version": 1,
        "venvs": [{"name": x.name, "path": str(x.path)} for x in locations],
    }
    atomic_write(file, json.dumps(body, indent=2) + "\n", mode=0o600)


def track(file: Path, path: Path, name: str | None, own: Sequence[Path] = ()) -> Location:
    """Add the venv at ``path``; never one inside venv-doctor's ``own`` directories or a
    backup area (``gc`` deletes backups, and a tracked backup would be repaired)."""
    real = Path(os.path.realpath(path))
    if not os.path.exists(path):
        raise TargetNotFoundError(f"{path} does not exist")
    inside = _inside_own(real, own)
    if inside is not None:
        raise UsageError(
            f"{path} is inside venv-doctor's own directory {inside}: it is a backup or "
            "scratch space, not a venv to track",
            hint="`venv-doctor restore` puts a backup back in place",
        )
    if not real.is_dir():
        raise UsageError(f"{path} is not a directory (a venv is one)")
    if not is_venv_dir(real):
        raise UsageError(f"{path} is not a virtual environment (no pyvenv.cfg in it)")
    current = [x for x in load(file) if x.path != real]
    location = Location(name or _default_name(real), real, STORE)
    if any(x.name == location.name for x in current):
        raise UsageError(
            f"the name {location.name!r} is already tracked", hint="choose another with --name"
        )
    _save(file, [*current, location])
    return location


def _inside_own(real: Path, own: Sequence[Path]) -> Path | None:
    for directory in own:
        top = Path(os.path.realpath(directory))
        if real == top or top in real.parents:
            return directory
    for parent in real.parents:
        if parent.name == BACKUP_AREA_BESIDE:
            return parent
    return None


def _default_name(path: Path) -> str:
    # a project's `.venv` is known by its project directory's name
    return path.parent.name if path.name.startswith(".") else path.name


def untrack(file: Path, target: str) -> Location:
    current = load(file)
    real = Path(os.path.realpath(target))
    for location in current:
        if location.name == target or location.path == real:
            _save(file, [x for x in current if x is not location])
            return location
    raise TargetNotFoundError(f"{target} is not tracked", hint="`venv-doctor list` shows what is")
