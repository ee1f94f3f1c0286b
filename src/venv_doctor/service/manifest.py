"""The record of what ``service install`` wrote and created (``service.json`` in the state
directory), so ``uninstall`` removes exactly that and ``status`` sees what was edited."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from venv_doctor.errors import VenvDoctorError
from venv_doctor.fsutil import SMALL_FILE, atomic_write, read_bounded, read_json
from venv_doctor.paths import AppDirs
from venv_doctor.service.base import Manager, Manifest, ServiceMode

MANIFEST_NAME = "service.json"
MANIFEST_VERSION = 1


def manifest_path(dirs: AppDirs) -> Path:
    return dirs.state / MANIFEST_NAME


def read_manifest(dirs: AppDirs) -> Manifest | None:
    path = manifest_path(dirs)
    try:
        data = read_json(path, follow_symlinks=False)
        return Manifest(
            manager=Manager(data["manager"]),
            mode=ServiceMode(data["mode"]),
            unit=data["unit"],
            files=tuple((Path(f["path"]), f["sha256"]) for f in data["files"]),
            created_dirs=tuple(Path(d) for d in data["created_dirs"]),
            command=tuple(data["command"]),
            installed_at=data["installed_at"],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VenvDoctorError(
            f"{path}: the record of the installed service cannot be read ({exc})",
            hint="remove the unit files by hand (see `venv-doctor service status`), then that file",
        ) from exc


def write_manifest(dirs: AppDirs, manifest: Manifest) -> Path:
    body = {
        "schema_version": MANIFEST_VERSION,
        "manager": manifest.manager.value,
        "mode": manifest.mode.value,
        "unit": manifest.unit,
        "files": [{"path": str(p), "sha256": h} for p, h in manifest.files],
        "created_dirs": [str(d) for d in manifest.created_dirs],
        "command": list(manifest.command),
        "installed_at": manifest.installed_at,
    }
    path = manifest_path(dirs)
    atomic_write(path, json.dumps(body, indent=2) + "\n", mode=0o600)
    return path


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_bounded(path, SMALL_FILE)).hexdigest()
    except OSError:
        return None


def modified_files(manifest: Manifest | None) -> tuple[Path, ...]:
    """The files install wrote that were changed since (a removed file is not changed)."""
    recorded = manifest.files if manifest else ()
    return tuple(p for p, sha in recorded if file_sha256(p) not in (sha, None))
