"""Taking requirement snapshots from disk and recording them in the state database.

``record`` is what every ``check`` calls (and the daemon, on a change in a
site-packages directory): it registers the venvs it was given and stores a
snapshot of each readable one whose contents changed. It starts no process,
skips a venv whose site-packages stamp is unchanged (one scandir), lets go of
the snapshots of a changed venv that the retention policy (``[snapshot] keep``,
``retention``) no longer keeps, writes everything in one transaction, and never
raises: a failure becomes a warning.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from venv_doctor.config import Config, Keep
from venv_doctor.diagnose.findings import Diagnosis
from venv_doctor.errors import VenvDoctorError
from venv_doctor.model import distributions
from venv_doctor.model.distributions import Snapshot
from venv_doctor.model.venv import Venv
from venv_doctor.paths import AppDirs
from venv_doctor.record import owner_records, retention, state
from venv_doctor.render.sanitize import printable


@dataclass(frozen=True)
class RecordResult:
    stored: int  # snapshots added (or moved to now)
    warnings: tuple[str, ...] = ()


def snapshot_stamp(venv: Venv, config: Config) -> str | None:
    """The site-packages stamp plus what else changes a snapshot; while it is the one
    stored (the state DB's ``fingerprint`` column), taking a snapshot is skipped."""
    extra = f"{venv.version}|{config.keep_credentials}"
    owned = _record_file_stamp(venv)
    if owned is not None:  # (other venvs keep the stamps they had)
        extra += f"|{owned}"
    return distributions.site_packages_stamp(venv.site_dirs, extra) if venv.site_dirs else None


def _record_file_stamp(venv: Venv) -> str | None:
    """The owner's record file (pipx_metadata.json, uv-receipt.toml) as a stamp: when it
    changes, the records kept of it are taken again. None for a venv without one."""
    path = owner_records.record_file(venv.location)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


def take(
    venv: Venv, verify: bool = True, at: datetime | None = None
) -> tuple[Snapshot, tuple[str, ...]]:
    """Read the venv's distributions from disk (healthy or broken); warnings name files."""
    from venv_doctor.discover.owners import owner_of

    contents = distributions.read(
        venv.site_packages,
        verify=verify,
        bundled=bundled_wheels(venv),
        requested_by_owner=owner_of(venv.location).requested,
    )
    snapshot = Snapshot(venv.path, at or state.now(), venv.version, contents.packages, "disk")
    return snapshot, contents.warnings


def base_interpreter(venv: Venv) -> str | None:
    """The interpreter file the venv runs on, as its link names it (None for a copy:
    then pyvenv.cfg's ``home`` directory stands in)."""
    main = venv.main_python
    if main is not None:
        bin_dir = os.path.join(venv.path, "bin")
        dirname = os.path.dirname
        outside = next((h for h in main.chain.targets if dirname(h) != bin_dir), None)
        if outside is not None:
            return outside
    return venv.cfg.home if venv.cfg is not None and venv.cfg.home else None


def base_prefixes(venv: Venv) -> list[Path]:
    """Where the venv's base installation may be: the real interpreter's prefix,
    virtualenv's ``base-prefix``, the directory above pyvenv.cfg's ``home``."""
    out = []
    main = venv.main_python
    if main is not None and main.chain.resolved is not None:
        out.append(main.chain.resolved.parent.parent)
    if venv.cfg is not None:
        if base := venv.cfg.get("base-prefix"):
            out.append(Path(base))
        if venv.cfg.home:
            out.append(Path(venv.cfg.home).parent)
    return out


def bundled_wheels(venv: Venv) -> dict[str, str]:
    """The seed wheels the venv's base interpreter bundles (what ensurepip put there)."""
    if venv.minor is None:
        return {}
    return distributions.bundled_wheels(base_prefixes(venv), venv.minor)


def stored_form(snapshot: Snapshot, config: Config) -> Snapshot:
    """What goes into the database: URL credentials only with keep_credentials."""
    if config.keep_credentials:
        return snapshot
    return replace(snapshot, packages=tuple(p.redacted() for p in snapshot.packages))


def record(
    dirs: AppDirs,
    config: Config,
    venvs: Sequence[Venv],
    diagnoses: Sequence[Diagnosis] = (),
    evidence: state.Evidence = state.Evidence.STATIC,
    *,
    env: Mapping[str, str],
) -> RecordResult:
    """Register ``venvs`` (with their diagnosed status) and snapshot the changed ones.
    ``evidence``: how the statuses were found (a static check keeps a deep one's worse);
    ``env``: where the owners put their apps' links (``PIPX_BIN_DIR``, HOME)."""
    statuses = {d.path: d.status.value for d in diagnoses}
    recorder = Recorder(dirs, config, evidence, env)
    for venv in venvs:
        recorder.add(venv, statuses.get(venv.path))
    return recorder.finish()


class Recorder:
    """``record`` one venv at a time, so a check need not hold every venv it read: each
    venv leaves a sighting (and a snapshot when its stamp changed), and ``finish``
    writes them all in one transaction. Never raises: a failure becomes a warning."""

    def __init__(
        self, dirs: AppDirs, config: Config, evidence: state.Evidence, env: Mapping[str, str]
    ) -> None:
        self.dirs, self.config, self.evidence, self.env = dirs, config, evidence, env
        self.at = state.now()
        self.sightings: list[state.Sighting] = []
        self.taken: list[Snapshot] = []
        self.owned: list[state.OwnerRecord] = []  # the owners' records of changed venvs
        self.warnings: list[str] = []
        self.failed: str | None = None
        try:
            self.known, warnings = state.using(dirs, state.fingerprints)
        except (VenvDoctorError, sqlite3.Error, OSError) as exc:
            self.known, self.failed = {}, _message(exc)
        else:
            self.warnings += warnings

    def add(self, venv: Venv, status: str | None) -> None:
        path = str(venv.path)
        if not (_utf8(path) and _utf8(venv.name)):
            self.warnings.append(
                f"{printable(path)}: not recorded (its name or path is not UTF-8 text)"
            )
            return
        if self.failed is not None:
            return
        fp = snapshot_stamp(venv, self.config)
        if fp is not None and self.known.get(path) != fp:
            snapshot, _ = take(venv, verify=False, at=self.at)
            self.taken.append(stored_form(snapshot, self.config))
            kept = owner_records.take(venv.location, venv.site_packages, self.env)
            if kept is not None:
                self.owned.append(kept)
        self.sightings.append(
            state.Sighting(
                path=venv.path,
                name=venv.name,
                store=venv.location.store,
                creator=venv.creator,
                python_version=venv.version,
                status=status,
                fingerprint=fp,
                base=base_interpreter(venv),
                evidence=self.evidence,
            )
        )

    def finish(self) -> RecordResult:
        if self.failed is not None:
            return RecordResult(0, (*self.warnings, f"snapshots were not recorded: {self.failed}"))
        try:
            stored, warnings = state.using(self.dirs, self._write)
        except (VenvDoctorError, sqlite3.Error, OSError) as exc:
            return RecordResult(
                0, (*self.warnings, f"snapshots were not recorded: {_message(exc)}")
            )
        return RecordResult(stored, (*self.warnings, *warnings))

    def _write(self, db: state.Database) -> int:
        with db.transaction():
            state.record_venvs(db, self.sightings, self.at)
            stored = [s.venv for s in self.taken if state.record_snapshot(db, s)]
            state.record_owner_records(db, self.owned, self.at)
            prune(db, self.config.snapshot_keep, stored, self.at)
            return len(stored)


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, VenvDoctorError) else str(exc)


def _utf8(text: str) -> bool:
    """A file name os.fsdecode made of bytes that are not UTF-8 holds lone surrogates,
    which SQLite cannot store."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def prune(db: state.Database, keep: Keep, venvs: Sequence[Path], now: datetime) -> int:
    """Delete the snapshots of ``venvs`` that the retention policy lets go; returns how
    many went. Recording calls it for the venvs it stored a snapshot for: a venv only
    gains snapshots when it changes, so that is where there can be any to let go."""
    if not keep.prunes:
        return 0
    doomed: list[int] = []
    for venv in venvs:
        times = state.snapshot_times(db, venv)
        anchors = state.event_times(db, venv, retention.ANCHOR_KINDS)
        kept = retention.kept(times, anchors, now, keep)
        doomed += [id_ for id_, _ in times if id_ not in kept]
    return state.delete_snapshots(db, doomed) if doomed else 0
