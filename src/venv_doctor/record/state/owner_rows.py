"""What a tool venv's owner recorded about it (the ``owner_records`` table): pipx's
``pipx_metadata.json`` and uv's ``uv-receipt.toml`` as they were, and the links to
the venv's apps the owner made outside it. One row per venv, the latest kept: after
the owner's own uninstall they are what recreates its records."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from venv_doctor.fsutil import loads_json
from venv_doctor.record.state.core import Database, now, stored_path, text, ts


@dataclass(frozen=True)
class OwnerRecord:
    venv: Path
    files: dict[str, str]  # a file the owner keeps in the venv (by name) -> its text
    links: tuple[tuple[str, str], ...] = ()  # (link, what it pointed to) outside the venv


def record_owner_records(
    db: Database, records: Iterable[OwnerRecord], at: datetime | None = None
) -> None:
    """Keep the latest records of each venv (replacing what was kept). Links found before
    stay when none are found now and the records did not change: a process that looked
    elsewhere (a daemon not given ``PIPX_BIN_DIR``) saw none; pipx's unexposing its apps
    changes its metadata."""
    when = ts(at or now())
    rows = [
        (str(r.venv), when, json.dumps(r.files, sort_keys=True), json.dumps(r.links))
        for r in records
    ]
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO owner_records (venv_path, taken_at, files, links) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (venv_path) DO UPDATE SET taken_at = excluded.taken_at,"
            " links = CASE WHEN excluded.links = '[]' AND excluded.files = owner_records.files"
            " THEN owner_records.links ELSE excluded.links END, files = excluded.files",
            rows,
        )


def owner_record(db: Database, venv: Path) -> OwnerRecord | None:
    """The records kept for ``venv``; None when none were (or the row is damaged)."""
    rows = db.conn.execute(
        "SELECT venv_path, files, links FROM owner_records WHERE venv_path = ?", (str(venv),)
    )
    found = db.decoded(rows, _owner_record, "owner_records")
    return found[0] if found else None


def _owner_record(row: tuple[Any, ...]) -> OwnerRecord:
    path, files, links = row
    decoded_files = loads_json(text(files))
    decoded_links = loads_json(text(links))
    if not isinstance(decoded_files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in decoded_files.items()
    ):
        raise ValueError("files is not a JSON object of texts")
    if not isinstance(decoded_links, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        for pair in decoded_links
    ):
        raise ValueError("links is not a JSON list of [link, target] pairs")
    pairs = tuple((link, target) for link, target in decoded_links)
    return OwnerRecord(stored_path(path), decoded_files, pairs)
