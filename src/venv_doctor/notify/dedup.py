"""Not telling the user twice: one notification per venv per problem.

A venv stays broken across scans until someone repairs it; the user heard
about it the first time. The Deduper remembers, per venv path, a key
of what was reported (the event kind and its findings' codes and messages) and
lets an event through only when that changed. It is a plain dict of strings so
the daemon can keep it in its state file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from venv_doctor.notify.message import VenvEvent


def problem_key(event: VenvEvent) -> str:
    """What the problem is: the kind plus sorted (code, message) pairs, hashed."""
    parts = sorted(f"{f.code}\0{f.message}" for f in event.findings)
    text = "\n".join([event.kind, *parts])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Deduper:
    def __init__(self, seen: Mapping[str, str] | None = None) -> None:
        self._seen: dict[str, str] = {}
        for path, mark in (seen or {}).items():
            if isinstance(path, str) and isinstance(mark, str):
                self._seen[path] = mark

    def fresh(self, events: Sequence[VenvEvent]) -> list[VenvEvent]:
        """The events the user has not been told about yet; remembers them as told."""
        out = []
        for event in events:
            key, mark = str(event.path), problem_key(event)
            if self._seen.get(key) != mark:
                self._seen[key] = mark
                out.append(event)
        return out

    def forget(self, path: Path | str) -> None:
        """The venv is healthy again: its next breakage is news, even if identical."""
        self._seen.pop(str(path), None)

    def prune(self, known: Iterable[Path | str]) -> None:
        """Drop venvs that are no longer registered anywhere."""
        keep = {str(p) for p in known}
        self._seen = {k: v for k, v in self._seen.items() if k in keep}

    def to_dict(self) -> dict[str, str]:
        return dict(self._seen)
